//! ECR repositories (ecr DescribeRepositories), one item per repository, with flattened
//! security columns (`ScanOnPush`, `TagImmutable`, `EncryptionType`) and its repository
//! policy from GetRepositoryPolicy (one per repository, all at once): `RepositoryPolicy`
//! (the policy document, null when the repository has none) and `PolicyPublic` (a statement
//! allows the `*` principal).

use mrhost_plugin_sdk::prelude::*;

struct EcrRepositories;

impl Plugin for EcrRepositories {
    fn manifest() -> PluginManifest {
        manifest("ecr-repositories", "ecr:repository")
            .describe("ECR repositories (ecr DescribeRepositories, then GetRepositoryPolicy each): scan on push, immutability, encryption, policy")
            .operation("ecr:DescribeRepositories")
            .operation("ecr:GetRepositoryPolicy")
            .model_shape("ecr:Repository")
            .id_field("repositoryArn")
            .column("ScanOnPush", ValueKind::Bool, "Whether images are scanned when pushed")
            .column("TagImmutable", ValueKind::Bool, "Whether image tags are immutable (IMMUTABLE or IMMUTABLE_WITH_EXCLUSION)")
            .column("EncryptionType", ValueKind::String, "AES256, KMS or KMS_DSSE")
            .column("RepositoryPolicy", ValueKind::Json, "The repository policy document; null when there is none")
            .column("PolicyPublic", ValueKind::Bool, "Whether an Allow statement of the policy names the '*' principal")
            .columns(&[
                "repositoryName",
                "ScanOnPush",
                "TagImmutable",
                "EncryptionType",
                "PolicyPublic",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let repositories = items("ecr", "DescribeRepositories", json!({}), "repositories")
            .collect::<Result<Vec<_>, _>>()?;
        for (mut repo, policy) in enrich(repositories, |r| {
            request(
                "ecr",
                "GetRepositoryPolicy",
                json!({"repositoryName": r["repositoryName"], "registryId": r["registryId"]}),
            )
        }) {
            let policy = match policy {
                Ok(p) => p["policyText"]
                    .as_str()
                    .and_then(|t| serde_json::from_str::<Value>(t).ok())
                    .unwrap_or(Value::Null),
                // RepositoryPolicyNotFoundException: no policy.
                Err(e) if e.code() == Some("RepositoryPolicyNotFoundException") => Value::Null,
                // RepositoryNotFoundException: deleted since it was listed.
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            let scan = repo["imageScanningConfiguration"]["scanOnPush"].as_bool() == Some(true);
            let immutable = repo["imageTagMutability"]
                .as_str()
                .is_some_and(|m| m.starts_with("IMMUTABLE"));
            let encryption = repo["encryptionConfiguration"]["encryptionType"].clone();
            let public = allows_everyone(&policy);
            if let Some(o) = repo.as_object_mut() {
                o.insert("ScanOnPush".into(), json!(scan));
                o.insert("TagImmutable".into(), json!(immutable));
                o.insert("EncryptionType".into(), encryption);
                o.insert("RepositoryPolicy".into(), policy);
                o.insert("PolicyPublic".into(), json!(public));
            }
            emit(&repo);
        }
        Ok(())
    }
}

/// Whether a policy document has an Allow statement for the `*` principal (`"*"` or
/// `{"AWS": "*"}`, alone or in a list).
fn allows_everyone(policy: &Value) -> bool {
    let star = |p: &Value| match p {
        Value::String(s) => s == "*",
        Value::Array(a) => a.iter().any(|x| x == "*"),
        _ => false,
    };
    select(policy.clone(), "Statement").iter().any(|s| {
        s["Effect"] == "Allow"
            && match &s["Principal"] {
                Value::Object(o) => o.get("AWS").is_some_and(star),
                p => star(p),
            }
    })
}

export_plugin!(EcrRepositories);
