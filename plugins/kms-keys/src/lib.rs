//! KMS keys (kms ListKeys, then DescribeKey for each), one item per key: the `KeyMetadata`
//! DescribeKey returns. AWS-managed keys (aws/ebs, ...) are listed too, as ListKeys lists them.

use mrhost_plugin_sdk::prelude::*;

struct KmsKeys;

impl Plugin for KmsKeys {
    fn manifest() -> PluginManifest {
        manifest("kms-keys", "kms:key")
            .describe("KMS keys (kms ListKeys, then DescribeKey each), one item per key")
            .operation("kms:ListKeys")
            .operation("kms:DescribeKey")
            .id_field("KeyId")
            .columns(&["KeyId", "KeyState", "KeyManager", "KeySpec", "Description"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        // The largest page ListKeys allows.
        for key in items("kms", "ListKeys", json!({"Limit": 1000}), "Keys") {
            let params = json!({"KeyId": key?["KeyId"]});
            // None: the key is gone (deleted since it was listed).
            if let Some(mut key) = call_if_exists("kms", "DescribeKey", params)? {
                emit(&key["KeyMetadata"].take());
            }
        }
        Ok(())
    }
}

export_plugin!(KmsKeys);
