//! RDS DB snapshots (rds DescribeDBSnapshots), one item per snapshot, with who may restore it
//! from DescribeDBSnapshotAttributes (one per snapshot, all at once): `Public` (the `restore`
//! attribute includes `all`) and `SharedWithAccounts` (the other account ids in it). The
//! snapshot itself says whether it is `Encrypted`, and with which key. A snapshot deleted
//! since it was listed is left out.

use mrhost_plugin_sdk::prelude::*;

struct RdsDbSnapshots;

impl Plugin for RdsDbSnapshots {
    fn manifest() -> PluginManifest {
        manifest("rds-db-snapshots", "rds:db-snapshot")
            .describe("RDS DB snapshots (rds DescribeDBSnapshots, then DescribeDBSnapshotAttributes each): encrypted, public, shared")
            .operation("rds:DescribeDBSnapshots")
            .operation("rds:DescribeDBSnapshotAttributes")
            .model_shape("rds:DBSnapshot")
            .id_field("DBSnapshotArn")
            .column("Public", ValueKind::Bool, "Whether any AWS account may restore the snapshot (restore attribute 'all')")
            .column("SharedWithAccounts", ValueKind::Json, "Account ids the snapshot is shared with")
            .columns(&[
                "DBSnapshotIdentifier",
                "DBInstanceIdentifier",
                "SnapshotType",
                "Encrypted",
                "Public",
                "SharedWithAccounts",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let snapshots = items("rds", "DescribeDBSnapshots", json!({}), "DBSnapshots")
            .collect::<Result<Vec<_>, _>>()?;
        for (mut snapshot, attributes) in enrich(snapshots, |s| {
            request(
                "rds",
                "DescribeDBSnapshotAttributes",
                json!({"DBSnapshotIdentifier": s["DBSnapshotIdentifier"]}),
            )
        }) {
            let attributes = match attributes {
                Ok(a) => a,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            let restore: Vec<Value> = select(
                attributes,
                "DBSnapshotAttributesResult.DBSnapshotAttributes",
            )
            .into_iter()
            .filter(|a| a["AttributeName"] == "restore")
            .flat_map(|a| select(a, "AttributeValues"))
            .collect();
            let public = restore.iter().any(|v| v == "all");
            let shared: Vec<Value> = restore.into_iter().filter(|v| v != "all").collect();
            if let Some(o) = snapshot.as_object_mut() {
                o.insert("Public".into(), json!(public));
                o.insert("SharedWithAccounts".into(), Value::Array(shared));
            }
            emit(&snapshot);
        }
        Ok(())
    }
}

export_plugin!(RdsDbSnapshots);
