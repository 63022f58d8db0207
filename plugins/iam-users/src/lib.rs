//! IAM users (iam ListUsers), one item per user; once per account.

use mrhost_plugin_sdk::prelude::*;

struct IamUsers;

impl Plugin for IamUsers {
    fn manifest() -> PluginManifest {
        manifest("iam-users", "iam:user")
            .describe("IAM users (iam ListUsers), one item per user; once per account")
            .operation("iam:ListUsers")
            .global()
            .id_field("Arn")
            .columns(&["UserName", "UserId", "Path", "CreateDate"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("iam", "ListUsers", json!({}), "Users")?;
        Ok(())
    }
}

export_plugin!(IamUsers);
