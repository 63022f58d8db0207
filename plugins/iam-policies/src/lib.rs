//! Customer-managed IAM policies (iam ListPolicies, Scope Local), one item per policy; once per account.

use mrhost_plugin_sdk::prelude::*;

struct IamPolicies;

impl Plugin for IamPolicies {
    fn manifest() -> PluginManifest {
        manifest("iam-policies", "iam:policy")
            .describe("Customer-managed IAM policies (iam ListPolicies, Scope Local), one item per policy; once per account")
            .operation("iam:ListPolicies")
            .global()
            .id_field("Arn")
            .columns(&["PolicyName", "PolicyId", "AttachmentCount", "DefaultVersionId", "UpdateDate"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("iam", "ListPolicies", json!({"Scope": "Local"}), "Policies")?;
        Ok(())
    }
}

export_plugin!(IamPolicies);
