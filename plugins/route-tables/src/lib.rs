//! Route tables (ec2 DescribeRouteTables), one item per route table.

use mrhost_plugin_sdk::prelude::*;

struct RouteTables;

impl Plugin for RouteTables {
    fn manifest() -> PluginManifest {
        manifest("route-tables", "ec2:route-table")
            .describe("Route tables (ec2 DescribeRouteTables), one item per route table")
            .operation("ec2:DescribeRouteTables")
            .id_field("RouteTableId")
            .columns(&["RouteTableId", "VpcId", "OwnerId"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("ec2", "DescribeRouteTables", json!({}), "RouteTables")?;
        Ok(())
    }
}

export_plugin!(RouteTables);
