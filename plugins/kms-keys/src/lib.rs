//! KMS keys (kms ListKeys, then DescribeKey, GetKeyRotationStatus and GetKeyPolicy each, all
//! at once), one item per key: its metadata, whether automatic rotation is on and its key
//! policy as JSON. A rotation status or policy that may not be read (or does not apply to
//! the key) is null.

use mrhost_plugin_sdk::optional;
use mrhost_plugin_sdk::prelude::*;

struct KmsKeys;

impl Plugin for KmsKeys {
    fn manifest() -> PluginManifest {
        manifest("kms-keys", "kms:key")
            .version("0.2.0")
            .describe("KMS keys (kms ListKeys, then DescribeKey, GetKeyRotationStatus and GetKeyPolicy each), one item per key with its rotation status and key policy")
            .operation("kms:ListKeys")
            .operation("kms:DescribeKey")
            .operation("kms:GetKeyRotationStatus")
            .operation("kms:GetKeyPolicy")
            .model_shape("kms:KeyMetadata")
            .id_field("KeyId")
            .columns(&["KeyId", "KeyState", "KeyManager", "KeySpec", "KeyRotationEnabled", "Description"])
            .column("KeyRotationEnabled", ValueKind::Bool, "whether automatic yearly rotation is on (GetKeyRotationStatus); null when it may not be read or does not apply")
            .column("KeyPolicy", ValueKind::Json, "the key's default key policy, parsed (GetKeyPolicy); null when it may not be read")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let keys = items("kms", "ListKeys", json!({"Limit": 1000}), "Keys")
            .collect::<Result<Vec<_>, _>>()?;
        let requests: Vec<Request> = keys
            .iter()
            .flat_map(|k| {
                let id = &k["KeyId"];
                [
                    request("kms", "DescribeKey", json!({"KeyId": id})),
                    request("kms", "GetKeyRotationStatus", json!({"KeyId": id})),
                    request(
                        "kms",
                        "GetKeyPolicy",
                        json!({"KeyId": id, "PolicyName": "default"}),
                    ),
                ]
            })
            .collect();
        let mut results = call_all(requests).into_iter();
        let mut next = || {
            results
                .next()
                .unwrap_or_else(|| Err(CallError::Failed("a call had no result".into())))
        };
        for _ in &keys {
            let (described, rotation, policy) = (next(), next(), next());
            let mut key = match described {
                Ok(mut d) => d["KeyMetadata"].take(),
                // Deleted since it was listed.
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            let rotation = optional(rotation)?
                .map(|mut r| r["KeyRotationEnabled"].take())
                .unwrap_or(Value::Null);
            let policy = match optional(policy)? {
                Some(p) => match p["Policy"].as_str() {
                    Some(text) => serde_json::from_str(text).map_err(|e| {
                        format!("the key policy of {} is not JSON: {e}", key["KeyId"])
                    })?,
                    None => Value::Null,
                },
                None => Value::Null,
            };
            if let Some(o) = key.as_object_mut() {
                o.insert("KeyRotationEnabled".into(), rotation);
                o.insert("KeyPolicy".into(), policy);
            }
            emit(&key);
        }
        Ok(())
    }
}

export_plugin!(KmsKeys);
