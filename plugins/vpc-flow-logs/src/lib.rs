//! VPC flow logs (ec2 DescribeFlowLogs), one item per flow log: what it watches (a VPC,
//! subnet or interface), the traffic it records and where it delivers.

use mrhost_plugin_sdk::prelude::*;

struct VpcFlowLogs;

impl Plugin for VpcFlowLogs {
    fn manifest() -> PluginManifest {
        manifest("vpc-flow-logs", "ec2:flow-log")
            .describe("VPC flow logs (ec2 DescribeFlowLogs), one item per flow log")
            .operation("ec2:DescribeFlowLogs")
            .model_shape("ec2:FlowLog")
            .id_field("FlowLogId")
            .columns(&[
                "FlowLogId",
                "ResourceId",
                "TrafficType",
                "LogDestinationType",
                "FlowLogStatus",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("ec2", "DescribeFlowLogs", json!({}), "FlowLogs")?;
        Ok(())
    }
}

export_plugin!(VpcFlowLogs);
