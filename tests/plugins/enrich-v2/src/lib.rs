//! Benchmark plugin built for contract 0.2.0 with the SDK: KMS keys, ListKeys then one
//! DescribeKey per key, the describes running at once (`enrich`).

use mrhost_plugin_sdk::prelude::*;

struct EnrichV2;

impl Plugin for EnrichV2 {
    fn manifest() -> PluginManifest {
        manifest("enrich-v2", "kms:key")
            .describe("KMS keys, described concurrently (contract 0.2)")
            .operation("kms:ListKeys")
            .operation("kms:DescribeKey")
            .model_shape("kms:KeyMetadata")
            .id_field("KeyId")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let keys = items("kms", "ListKeys", json!({}), "Keys").collect::<Result<Vec<_>, _>>()?;
        for (_key, described) in enrich(keys, |k| {
            request("kms", "DescribeKey", json!({"KeyId": k["KeyId"]}))
        }) {
            match described {
                Ok(mut d) => emit(&d["KeyMetadata"].take()),
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

export_plugin!(EnrichV2);
