//! Hostile test plugin: logs without end, through the log interface and stderr, in
//! eu-west-2 (elsewhere it lists VPCs).
use mrhost_plugin_sdk::prelude::*;
use mrhost_plugin_sdk::Level;

struct HostileLog;

impl Plugin for HostileLog {
    fn manifest() -> PluginManifest {
        manifest("hostile-log", "ec2:vpc")
            .operation("ec2:DescribeVpcs")
            .build()
    }

    fn collect(scope: Scope) -> Result<(), Error> {
        if scope.region == "eu-west-2" {
            let line = "spam ".repeat(200);
            loop {
                log(Level::Warn, &line);
                eprintln!("{line}");
            }
        }
        emit_all(items("ec2", "DescribeVpcs", json!({}), "Vpcs"))?;
        Ok(())
    }
}

export_plugin!(HostileLog);
