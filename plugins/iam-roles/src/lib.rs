//! IAM roles (iam ListRoles), one item per role; once per account.

use mrhost_plugin_sdk::prelude::*;

struct IamRoles;

impl Plugin for IamRoles {
    fn manifest() -> PluginManifest {
        manifest("iam-roles", "iam:role")
            .describe("IAM roles (iam ListRoles), one item per role; once per account")
            .operation("iam:ListRoles")
            .global()
            .id_field("Arn")
            .columns(&["RoleName", "RoleId", "Path", "CreateDate"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        // The host decodes AssumeRolePolicyDocument as boto3 does.
        emit_items("iam", "ListRoles", json!({}), "Roles")?;
        Ok(())
    }
}

export_plugin!(IamRoles);
