//! RDS DB instances (rds DescribeDBInstances), one item per instance.

use mrhost_plugin_sdk::prelude::*;

struct RdsDbInstances;

impl Plugin for RdsDbInstances {
    fn manifest() -> PluginManifest {
        manifest("rds-db-instances", "rds:db")
            .describe("RDS DB instances (rds DescribeDBInstances), one item per instance, with whether its storage is encrypted (StorageEncrypted, KmsKeyId) and whether it is publicly accessible (PubliclyAccessible)")
            .operation("rds:DescribeDBInstances")
            .version("0.2.0")
            .model_shape("rds:DBInstance")
            .id_field("DBInstanceArn")
            .columns(&[
                "DBInstanceIdentifier",
                "Engine",
                "DBInstanceClass",
                "DBInstanceStatus",
                "StorageEncrypted",
                "PubliclyAccessible",
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
