//! Secrets Manager secrets (secretsmanager ListSecrets), one item per secret with whether it
//! rotates and how often; the secret values are never read (the plugin may not call
//! GetSecretValue: it is not declared).

use mrhost_plugin_sdk::prelude::*;

struct SecretsmanagerSecrets;

impl Plugin for SecretsmanagerSecrets {
    fn manifest() -> PluginManifest {
        manifest("secretsmanager-secrets", "secretsmanager:secret")
            .version("0.2.0")
            .describe("Secrets Manager secrets (secretsmanager ListSecrets), one item per secret with whether it rotates and how often; the secret values are never read")
            .operation("secretsmanager:ListSecrets")
            .model_shape("secretsmanager:SecretListEntry")
            .id_field("ARN")
            .columns(&["Name", "RotationActive", "RotationDays", "LastRotatedDate", "LastChangedDate", "KmsKeyId"])
            .column("RotationActive", ValueKind::Bool, "whether automatic rotation is on (RotationEnabled; false when AWS leaves it out)")
            .column("RotationDays", ValueKind::Int, "the rotation interval in days (RotationRules.AutomaticallyAfterDays), null without rotation rules")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        for secret in items("secretsmanager", "ListSecrets", json!({}), "SecretList") {
            let mut s = secret?;
            let active = s["RotationEnabled"] == true;
            let days = s["RotationRules"]["AutomaticallyAfterDays"].clone();
            if let Some(o) = s.as_object_mut() {
                o.insert("RotationActive".into(), json!(active));
                o.insert("RotationDays".into(), days);
            }
            emit(&s);
        }
        Ok(())
    }
}

export_plugin!(SecretsmanagerSecrets);
