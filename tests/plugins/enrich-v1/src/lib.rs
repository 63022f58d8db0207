//! Benchmark plugin built for contract 0.1.0: KMS keys, ListKeys then DescribeKey for each
//! key, one call after the other (all 0.1 allows).

wit_bindgen::generate!({ path: "../../../wit/v0.1", world: "plugin" });

use exports::mrhost::plugin::collector::Guest;
use mrhost::plugin::types::{CallError, PluginManifest, Scope, ScopeKind};
use mrhost::plugin::{aws, sink};

struct EnrichV1;

fn describe(e: CallError) -> String {
    match e {
        CallError::Api(e) => format!("{}: {}", e.code, e.message),
        other => format!("{other:?}"),
    }
}

impl Guest for EnrichV1 {
    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "enrich-v1".into(),
            version: "0.1.0".into(),
            resource_type: "kms:key".into(),
            description: "KMS keys, described one at a time (contract 0.1)".into(),
            operations: vec!["kms:ListKeys".into(), "kms:DescribeKey".into()],
            scope_kind: ScopeKind::Regional,
            id_field: Some("KeyId".into()),
            columns: vec![],
        }
    }

    fn collect(_scope: Scope) -> Result<(), String> {
        let pages = aws::paginate("kms", "ListKeys", "{}");
        while let Some(page) = pages.next().map_err(describe)? {
            let page: serde_json::Value = serde_json::from_str(&page).map_err(|e| e.to_string())?;
            for key in page["Keys"].as_array().into_iter().flatten() {
                let params = serde_json::json!({"KeyId": key["KeyId"]}).to_string();
                let out = aws::call("kms", "DescribeKey", &params).map_err(describe)?;
                let out: serde_json::Value =
                    serde_json::from_str(&out).map_err(|e| e.to_string())?;
                sink::emit(&out["KeyMetadata"].to_string());
            }
        }
        Ok(())
    }
}

export!(EnrichV1);
