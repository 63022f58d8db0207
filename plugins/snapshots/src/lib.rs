//! EBS snapshots the account owns (ec2 DescribeSnapshots, OwnerIds self), one item per
//! snapshot, with whether it is encrypted (in the item) and whether it is public or shared
//! with other accounts (DescribeSnapshotAttribute createVolumePermission, for every snapshot
//! at once).

use mrhost_plugin_sdk::optional;
use mrhost_plugin_sdk::prelude::*;

struct Snapshots;

impl Plugin for Snapshots {
    fn manifest() -> PluginManifest {
        manifest("snapshots", "ec2:snapshot")
            .version("0.2.0")
            .describe("EBS snapshots the account owns (ec2 DescribeSnapshots, OwnerIds self, then DescribeSnapshotAttribute createVolumePermission each), one item per snapshot with whether it is encrypted, public, or shared with other accounts")
            .operation("ec2:DescribeSnapshots")
            .operation("ec2:DescribeSnapshotAttribute")
            .model_shape("ec2:Snapshot")
            .id_field("SnapshotId")
            .columns(&["SnapshotId", "VolumeId", "Encrypted", "Public", "SharedWithAccounts", "StartTime"])
            .column("Public", ValueKind::Bool, "whether anyone may create a volume from the snapshot (createVolumePermission group all); null when not read (not the account's own, or access denied)")
            .column("SharedWithAccounts", ValueKind::Json, "the account ids the snapshot is shared with (createVolumePermission); null when not read")
            .build()
    }

    fn collect(scope: Scope) -> Result<(), Error> {
        let snapshots = items(
            "ec2",
            "DescribeSnapshots",
            json!({"OwnerIds": ["self"]}),
            "Snapshots",
        )
        .collect::<Result<Vec<_>, _>>()?;
        // Only the account's own snapshots have permissions it may read (a server that
        // ignores OwnerIds lists others' too).
        let account = if snapshots.is_empty() {
            String::new()
        } else {
            scope.account()?
        };
        let own: Vec<usize> = snapshots
            .iter()
            .enumerate()
            .filter(|(_, s)| s["OwnerId"] == account.as_str())
            .map(|(i, _)| i)
            .collect();
        let answers = call_all(own.iter().filter_map(|i| snapshots.get(*i)).map(|s| {
            request(
                "ec2",
                "DescribeSnapshotAttribute",
                json!({"SnapshotId": s["SnapshotId"], "Attribute": "createVolumePermission"}),
            )
        }));
        let mut permissions: Vec<Option<Value>> = vec![None; snapshots.len()];
        for (i, answer) in own.into_iter().zip(answers) {
            if let (Some(slot), Some(mut a)) = (permissions.get_mut(i), optional(answer)?) {
                *slot = Some(a["CreateVolumePermissions"].take());
            }
        }
        for (mut s, perms) in snapshots.into_iter().zip(permissions) {
            let (public, shared) = match perms {
                None => (Value::Null, Value::Null),
                Some(p) => {
                    let list = p.as_array().cloned().unwrap_or_default();
                    let public = list.iter().any(|p| p["Group"] == "all");
                    let shared: Vec<Value> = list
                        .iter()
                        .filter_map(|p| p.get("UserId").cloned())
                        .collect();
                    (json!(public), Value::Array(shared))
                }
            };
            if let Some(o) = s.as_object_mut() {
                o.insert("Public".into(), public);
                o.insert("SharedWithAccounts".into(), shared);
            }
            emit(&s);
        }
        Ok(())
    }
}

export_plugin!(Snapshots);
