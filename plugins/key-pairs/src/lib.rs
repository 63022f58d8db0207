//! EC2 key pairs (ec2 DescribeKeyPairs, not paginated), one item per key pair.

use mrhost_plugin_sdk::prelude::*;

struct KeyPairs;

impl Plugin for KeyPairs {
    fn manifest() -> PluginManifest {
        manifest("key-pairs", "ec2:key-pair")
            .describe("EC2 key pairs (ec2 DescribeKeyPairs, not paginated), one item per key pair")
            .operation("ec2:DescribeKeyPairs")
            .id_field("KeyPairId")
            .columns(&["KeyName", "KeyPairId", "KeyType", "KeyFingerprint"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        // DescribeKeyPairs has no paginator: one call returns every item.
        let response = call("ec2", "DescribeKeyPairs", json!({}))?;
        for item in response["KeyPairs"].as_array().into_iter().flatten() {
            emit(item);
        }
        Ok(())
    }
}

export_plugin!(KeyPairs);
