//! Whether new EBS volumes are encrypted by default (ec2 GetEbsEncryptionByDefault): one item
//! per account and region, the account setting as the region answers it.

use mrhost_plugin_sdk::prelude::*;

struct EbsDefaultEncryption;

impl Plugin for EbsDefaultEncryption {
    fn manifest() -> PluginManifest {
        manifest("ebs-default-encryption", "ec2:ebs-default-encryption")
            .describe("EBS encryption by default (ec2 GetEbsEncryptionByDefault), one item per account and region")
            .operation("ec2:GetEbsEncryptionByDefault")
            .model_shape("ec2:GetEbsEncryptionByDefaultResult")
            .columns(&["EbsEncryptionByDefault", "SseType"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let setting = call("ec2", "GetEbsEncryptionByDefault", json!({}))?;
        emit(&setting);
        Ok(())
    }
}

export_plugin!(EbsDefaultEncryption);
