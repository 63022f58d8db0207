//! RDS DB instances (rds DescribeDBInstances), one item per instance.

use mrhost_plugin_sdk::prelude::*;

struct RdsDbInstances;

impl Plugin for RdsDbInstances {
    fn manifest() -> PluginManifest {
        manifest("rds-db-instances", "rds:db")
            .describe("RDS DB instances (rds DescribeDBInstances), one item per instance")
            .operation("rds:DescribeDBInstances")
            .id_field("DBInstanceArn")
            .columns(&[
                "DBInstanceIdentifier",
                "Engine",
                "DBInstanceClass",
                "DBInstanceStatus",
                "MultiAZ",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("rds", "DescribeDBInstances", json!({}), "DBInstances")?;
        Ok(())
    }
}

export_plugin!(RdsDbInstances);
