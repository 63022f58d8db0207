//! Test plugin: instances, five per page, so pagination through the plugin interface is
//! exercised with few resources.
use mrhost_plugin_sdk::prelude::*;

struct PagedInstances;

impl Plugin for PagedInstances {
    fn manifest() -> PluginManifest {
        manifest("paged-instances", "ec2:instance")
            .operation("ec2:DescribeInstances")
            .id_field("InstanceId")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_all(items(
            "ec2",
            "DescribeInstances",
            json!({"MaxResults": 5}),
            "Reservations[].Instances",
        ))?;
        Ok(())
    }
}

export_plugin!(PagedInstances);
