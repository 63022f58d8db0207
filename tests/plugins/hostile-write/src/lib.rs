//! Hostile test plugin: declares a write operation (ec2:CreateVpc) and calls it. The host
//! refuses unless the user passed --allow-write ec2:CreateVpc.
use mrhost_plugin_sdk::prelude::*;

struct HostileWrite;

impl Plugin for HostileWrite {
    fn manifest() -> PluginManifest {
        manifest("hostile-write", "ec2:vpc")
            .operation("ec2:CreateVpc")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        match call("ec2", "CreateVpc", json!({"CidrBlock": "10.66.0.0/16"})) {
            Ok(created) => {
                emit(&created["Vpc"]);
                Ok(())
            }
            Err(CallError::Denied(reason)) => Err(format!("write denied: {reason}").into()),
            Err(other) => Err(other.into()),
        }
    }
}

export_plugin!(HostileWrite);
