//! EC2 instances (ec2 DescribeInstances), one item per instance (not per reservation), with
//! the columns a security review reads at a glance: state, whether IMDSv2 is required,
//! public IP and instance profile. The host adds `Name` from the Name tag.

use mrhost_plugin_sdk::prelude::*;

struct Instances;

impl Plugin for Instances {
    fn manifest() -> PluginManifest {
        manifest("instances", "ec2:instance")
            .version("0.2.0")
            .describe("EC2 instances (ec2 DescribeInstances), one item per instance with its state, whether IMDSv2 is required, public IP and instance profile")
            .operation("ec2:DescribeInstances")
            .model_shape("ec2:Instance")
            .id_field("InstanceId")
            .columns(&[
                "InstanceId",
                "Name",
                "StateName",
                "InstanceType",
                "PublicIpAddress",
                "Imdsv2Required",
                "InstanceProfileArn",
            ])
            .column("StateName", ValueKind::String, "pending, running, stopping, stopped, shutting-down or terminated")
            .column("Imdsv2Required", ValueKind::Bool, "whether the instance metadata service requires session tokens (IMDSv2: HttpTokens required); null when not reported")
            .column("InstanceProfileArn", ValueKind::String, "the ARN of the instance profile attached, null when none")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let params = json!({"MaxResults": 1000});
        for instance in items(
            "ec2",
            "DescribeInstances",
            params,
            "Reservations[].Instances",
        ) {
            let mut i = instance?;
            let state = i["State"]["Name"].clone();
            let imdsv2 = match i["MetadataOptions"]["HttpTokens"].as_str() {
                Some(tokens) => json!(tokens == "required"),
                None => Value::Null,
            };
            let profile = i["IamInstanceProfile"]["Arn"].clone();
            if let Some(o) = i.as_object_mut() {
                o.insert("StateName".into(), state);
                o.insert("Imdsv2Required".into(), imdsv2);
                o.insert("InstanceProfileArn".into(), profile);
            }
            emit(&i);
        }
        Ok(())
    }
}

export_plugin!(Instances);
