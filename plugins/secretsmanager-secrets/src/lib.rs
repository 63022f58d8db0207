//! Secrets Manager secrets (secretsmanager ListSecrets), one item per secret; the secret values are never read.

use mrhost_plugin_sdk::prelude::*;

struct SecretsmanagerSecrets;

impl Plugin for SecretsmanagerSecrets {
    fn manifest() -> PluginManifest {
        manifest("secretsmanager-secrets", "secretsmanager:secret")
            .describe("Secrets Manager secrets (secretsmanager ListSecrets), one item per secret; the secret values are never read")
            .operation("secretsmanager:ListSecrets")
            .id_field("ARN")
            .columns(&["Name", "Description", "RotationEnabled", "LastChangedDate", "CreatedDate"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        emit_items("secretsmanager", "ListSecrets", json!({}), "SecretList")?;
        Ok(())
    }
}

export_plugin!(SecretsmanagerSecrets);
