//! The one place that decides whether a plugin may make an AWS call: the operation must be
//! declared in its manifest, and its class (`aws_engine::classify`) must be `read`, or
//! allowed by the user (`--allow CLASS`, `--allow service:Operation`, `--allow-write`).
//! `call` and `list` go through the same [`Grants::decide`]. Also here: the IAM actions a
//! plugin needs, as a policy to attach (`mrhost policy`) and as the STS session policy
//! mrhost passes when it assumes a role for a run.

use std::collections::{BTreeMap, BTreeSet};

pub use aws_engine::classify::{classify, Access, Classification, Grants, OpClass};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// Refused, with the reason shown to the plugin and in the log.
    Deny(String),
}

/// What a plugin may call in this run.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// `service:Operation` from the manifest (canonical model names).
    declared: BTreeSet<String>,
    /// What the user allowed beyond `read`.
    grants: Grants,
}

impl Policy {
    /// `grants`: `--allow` values (class names or `service:Operation`), already checked.
    pub fn new(
        declared: impl IntoIterator<Item = String>,
        grants: impl IntoIterator<Item = String>,
    ) -> Self {
        Policy {
            declared: declared.into_iter().collect(),
            grants: Grants::from_items(grants),
        }
    }

    pub fn declared(&self) -> impl Iterator<Item = &String> {
        self.declared.iter()
    }

    /// The single permission check, run on every host call before anything else. A
    /// redactable `secret` read is allowed: the engine redacts its response.
    pub fn check(&self, service: &str, operation: &str) -> Decision {
        let full = format!("{service}:{operation}");
        if !self.declared.contains(&full) {
            return Decision::Deny(format!(
                "{full} is not declared in the plugin manifest (declared: {})",
                self.declared.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        match self.grants.decide(service, operation) {
            Access::Allow(_) | Access::Redact => Decision::Allow,
            Access::Deny(reason) => Decision::Deny(reason),
        }
    }
}

/// How `plugins inspect` and `policy` show an operation's class: `read`, `write`, ... or
/// `secret (redacted unless --allow secret)`.
pub fn class_label(operation: &str) -> String {
    let (service, op) = operation.split_once(':').unwrap_or((operation, ""));
    classify(service, op).label()
}

/// The IAM action for a model operation: the service's signing name (its IAM prefix, with
/// the few known exceptions) and the operation name.
pub fn iam_action(model: &aws_engine::ServiceModel, operation: &str) -> String {
    let prefix = match model.signing_name() {
        "monitoring" => "cloudwatch",
        other => other,
    };
    let control = model.name == "s3control";
    // Operations whose IAM action has another name.
    let action = match (prefix, operation) {
        ("s3", "ListBuckets") => "ListAllMyBuckets",
        ("s3", "ListObjects" | "ListObjectsV2" | "HeadBucket") => "ListBucket",
        ("s3", "ListObjectVersions") => "ListBucketVersions",
        ("s3", "HeadObject") => "GetObject",
        ("s3", "ListMultipartUploads") => "ListBucketMultipartUploads",
        // S3 Control's account-level block (signed as s3 too).
        ("s3", "GetPublicAccessBlock") if control => "GetAccountPublicAccessBlock",
        ("s3", "PutPublicAccessBlock" | "DeletePublicAccessBlock") if control => {
            "PutAccountPublicAccessBlock"
        }
        // S3's bucket configuration reads and writes are authorised under older names.
        ("s3", "GetBucketEncryption") => "GetEncryptionConfiguration",
        ("s3", "PutBucketEncryption" | "DeleteBucketEncryption") => "PutEncryptionConfiguration",
        ("s3", "GetPublicAccessBlock") => "GetBucketPublicAccessBlock",
        ("s3", "PutPublicAccessBlock" | "DeletePublicAccessBlock") => "PutBucketPublicAccessBlock",
        ("s3", "GetBucketLifecycle" | "GetBucketLifecycleConfiguration") => {
            "GetLifecycleConfiguration"
        }
        (
            "s3",
            "PutBucketLifecycle" | "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle",
        ) => "PutLifecycleConfiguration",
        ("s3", "GetBucketReplication") => "GetReplicationConfiguration",
        ("s3", "PutBucketReplication" | "DeleteBucketReplication") => "PutReplicationConfiguration",
        ("s3", "GetBucketCors") => "GetBucketCORS",
        ("s3", "PutBucketCors" | "DeleteBucketCors") => "PutBucketCORS",
        ("s3", "GetBucketNotification" | "GetBucketNotificationConfiguration") => {
            "GetBucketNotification"
        }
        ("s3", "PutBucketNotification" | "PutBucketNotificationConfiguration") => {
            "PutBucketNotification"
        }
        ("s3", "GetBucketAccelerateConfiguration") => "GetAccelerateConfiguration",
        ("s3", "PutBucketAccelerateConfiguration") => "PutAccelerateConfiguration",
        ("s3", "GetObjectLockConfiguration") => "GetBucketObjectLockConfiguration",
        ("s3", "PutObjectLockConfiguration") => "PutBucketObjectLockConfiguration",
        ("s3", "GetBucketAnalyticsConfiguration" | "ListBucketAnalyticsConfigurations") => {
            "GetAnalyticsConfiguration"
        }
        ("s3", "GetBucketInventoryConfiguration" | "ListBucketInventoryConfigurations") => {
            "GetInventoryConfiguration"
        }
        ("s3", "GetBucketMetricsConfiguration" | "ListBucketMetricsConfigurations") => {
            "GetMetricsConfiguration"
        }
        (
            "s3",
            "GetBucketIntelligentTieringConfiguration"
            | "ListBucketIntelligentTieringConfigurations",
        ) => "GetIntelligentTieringConfiguration",
        _ => operation,
    };
    format!("{prefix}:{action}")
}

/// What the run options add to a plugin's needs.
#[derive(Debug, Clone, Default)]
pub struct RunNeeds {
    /// Roles assumed in other accounts (`--org-role`, `--role`).
    pub assume_roles: Vec<String>,
    /// Listing the Organization's accounts (`--org-role`).
    pub list_organization: bool,
    /// `--regions enabled` asks each account which regions it can use.
    pub describe_regions: bool,
}

/// A least-privilege IAM policy document: the union of the actions, then what the run
/// options need. `sts:GetCallerIdentity` needs no permission.
pub fn iam_policy(
    actions: impl IntoIterator<Item = String>,
    needs: &RunNeeds,
) -> serde_json::Value {
    use serde_json::json;
    let mut plugin_actions: BTreeSet<String> = actions.into_iter().collect();
    if needs.describe_regions {
        plugin_actions.insert("ec2:DescribeRegions".into());
    }
    let mut statements = vec![json!({
        "Sid": "MrhostResourceReads",
        "Effect": "Allow",
        "Action": plugin_actions.into_iter().collect::<Vec<_>>(),
        "Resource": "*",
    })];
    if needs.list_organization {
        statements.push(json!({
            "Sid": "MrhostListOrganizationAccounts",
            "Effect": "Allow",
            "Action": [
                "organizations:DescribeOrganization",
                "organizations:ListAccounts",
                "organizations:ListAccountsForParent",
                "organizations:ListOrganizationalUnitsForParent",
                "organizations:ListRoots",
            ],
            "Resource": "*",
        }));
    }
    if !needs.assume_roles.is_empty() {
        let roles: BTreeSet<String> = needs
            .assume_roles
            .iter()
            .map(|r| {
                if r.starts_with("arn:") {
                    r.clone()
                } else {
                    format!("arn:aws:iam::*:role/{}", r.trim_start_matches('/'))
                }
            })
            .collect();
        statements.push(json!({
            "Sid": "MrhostAssumeMemberRoles",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": roles.into_iter().collect::<Vec<_>>(),
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// STS's limit on the plain text of a session policy (`Policy` of AssumeRole).
pub const SESSION_POLICY_MAX_CHARS: usize = 2048;

/// Why no session policy could be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionPolicyError {
    #[error("the session policy for {actions} actions needs {chars} characters even grouped; STS takes {SESSION_POLICY_MAX_CHARS}")]
    TooLarge { actions: usize, chars: usize },
    #[error("{0}")]
    Model(String),
}

fn session_document(actions: &[String]) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
    })
    .to_string()
}

/// The STS session policy for a run: exactly the IAM actions of `operations`
/// (`service:Operation`, what `mrhost policy` prints) and `extra` actions mrhost needs with
/// the role's credentials (`ec2:DescribeRegions` for `--regions enabled`). When the list is
/// longer than STS takes, the actions of a service are grouped under a wildcard, but only
/// where every operation of the models the wildcard matches is one the plugin declared.
pub fn session_policy(
    models: &aws_engine::Models,
    operations: &[String],
    extra: &[String],
) -> Result<String, SessionPolicyError> {
    let mut actions: BTreeSet<String> = extra.iter().cloned().collect();
    for op in operations {
        let (service, name) = op.split_once(':').unwrap_or((op, ""));
        let model = models
            .service(service)
            .map_err(|e| SessionPolicyError::Model(e.to_string()))?;
        actions.insert(iam_action(&model, name));
    }
    let exact: Vec<String> = actions.iter().cloned().collect();
    let doc = session_document(&exact);
    if doc.len() <= SESSION_POLICY_MAX_CHARS {
        return Ok(doc);
    }
    // Every IAM action the models know, by prefix (lower case: IAM matches case-insensitively).
    let mut universe: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for service in models.service_names() {
        let Ok(model) = models.service(&service) else {
            continue;
        };
        for op in model.operations.keys() {
            let action = iam_action(&model, op);
            if let Some((prefix, name)) = action.split_once(':') {
                universe
                    .entry(prefix.to_ascii_lowercase())
                    .or_default()
                    .insert(name.to_ascii_lowercase());
            }
        }
    }
    let grouped = group_actions(&exact, &universe);
    let doc = session_document(&grouped);
    if doc.len() <= SESSION_POLICY_MAX_CHARS {
        return Ok(doc);
    }
    Err(SessionPolicyError::TooLarge {
        actions: exact.len(),
        chars: doc.len(),
    })
}

/// Replace each action by the shortest `prefix:Name*` that matches no model action outside
/// `actions`; actions a wildcard already covers drop out.
fn group_actions(actions: &[String], universe: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut by_prefix: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in actions {
        if let Some((p, n)) = a.split_once(':') {
            by_prefix
                .entry(p.to_string())
                .or_default()
                .insert(n.to_string());
        }
    }
    let mut out = Vec::new();
    for (prefix, names) in by_prefix {
        let declared: BTreeSet<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        let empty = BTreeSet::new();
        let known = universe.get(&prefix.to_ascii_lowercase()).unwrap_or(&empty);
        // Only what the plugin declared may start with the pattern.
        let pure = |pat: &str| {
            known
                .iter()
                .filter(|k| k.starts_with(pat))
                .all(|k| declared.contains(k))
        };
        let mut patterns: Vec<String> = Vec::new();
        for name in &names {
            let lower = name.to_ascii_lowercase();
            // An action the models do not know (an IAM-only name) stays exact.
            let shortest = (0..lower.len())
                .filter(|i| lower.is_char_boundary(*i))
                .find(|i| known.contains(&lower) && pure(&lower[..*i]));
            let pattern = match shortest {
                Some(i) => format!("{}*", &name[..i]),
                None => name.clone(),
            };
            if !patterns.contains(&pattern) {
                patterns.push(pattern);
            }
        }
        // Drop patterns a shorter wildcard covers.
        let wild: Vec<String> = patterns
            .iter()
            .filter_map(|p| p.strip_suffix('*').map(str::to_ascii_lowercase))
            .collect();
        for p in &patterns {
            let lower = p.trim_end_matches('*').to_ascii_lowercase();
            let covered = wild.iter().any(|w| {
                lower.starts_with(w.as_str()) && (lower.len() > w.len() || !p.ends_with('*'))
            });
            if !covered {
                out.push(format!("{prefix}:{p}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_is_the_union_plus_run_needs() {
        let doc = iam_policy(
            [
                "ec2:DescribeVpcs".to_string(),
                "iam:ListUsers".to_string(),
                "ec2:DescribeVpcs".to_string(),
            ],
            &RunNeeds::default(),
        );
        assert_eq!(doc["Statement"].as_array().unwrap().len(), 1);
        assert_eq!(
            doc["Statement"][0]["Action"],
            serde_json::json!(["ec2:DescribeVpcs", "iam:ListUsers"])
        );
        let doc = iam_policy(
            ["ec2:DescribeVpcs".to_string()],
            &RunNeeds {
                assume_roles: vec!["Auditor".into()],
                list_organization: true,
                describe_regions: true,
            },
        );
        let text = doc.to_string();
        assert!(
            text.contains("arn:aws:iam::*:role/Auditor")
                && text.contains("organizations:ListAccounts")
        );
        assert!(text.contains("ec2:DescribeRegions"));
    }

    #[test]
    fn declared_and_allowed_by_class_or_name() {
        let p = Policy::new(
            [
                "ec2:DescribeVpcs".to_string(),
                "ec2:CreateTags".to_string(),
                "s3:GetObject".to_string(),
                "lambda:ListFunctions".to_string(),
            ],
            Vec::<String>::new(),
        );
        assert_eq!(p.check("ec2", "DescribeVpcs"), Decision::Allow);
        assert!(
            matches!(p.check("ec2", "DescribeSubnets"), Decision::Deny(m) if m.contains("not declared"))
        );
        assert!(
            matches!(p.check("ec2", "CreateTags"), Decision::Deny(m) if m.contains("--allow write (or --allow-write)"))
        );
        assert!(
            matches!(p.check("s3", "GetObject"), Decision::Deny(m) if m.contains("--allow data"))
        );
        // Redacted by the engine, so allowed.
        assert_eq!(p.check("lambda", "ListFunctions"), Decision::Allow);
        let p = Policy::new(
            ["ec2:CreateTags".to_string(), "s3:GetObject".to_string()],
            ["ec2:CreateTags".to_string(), "data".to_string()],
        );
        assert_eq!(p.check("ec2", "CreateTags"), Decision::Allow);
        assert_eq!(p.check("s3", "GetObject"), Decision::Allow);
        assert_eq!(
            class_label("lambda:ListFunctions"),
            "secret (redacted unless --allow secret)"
        );
        assert_eq!(class_label("secretsmanager:GetSecretValue"), "secret");
        assert_eq!(class_label("ec2:DescribeVpcs"), "read");
    }

    #[test]
    fn s3_configuration_operations_map_to_their_iam_actions() {
        let models = aws_engine::Models::new(vec![]).unwrap();
        let s3 = models.service("s3").unwrap();
        let control = models.service("s3control").unwrap();
        for (op, action) in [
            ("GetBucketEncryption", "s3:GetEncryptionConfiguration"),
            ("GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock"),
            ("GetBucketPolicyStatus", "s3:GetBucketPolicyStatus"),
            (
                "GetBucketLifecycleConfiguration",
                "s3:GetLifecycleConfiguration",
            ),
            ("ListBuckets", "s3:ListAllMyBuckets"),
        ] {
            assert_eq!(iam_action(&s3, op), action, "{op}");
        }
        assert_eq!(
            iam_action(&control, "GetPublicAccessBlock"),
            "s3:GetAccountPublicAccessBlock"
        );
    }

    #[test]
    fn session_policies_are_exact_and_grouped_only_where_nothing_is_added() {
        let models = aws_engine::Models::new(vec![]).unwrap();
        let doc = session_policy(&models, &["ec2:DescribeVpcs".to_string()], &[]).unwrap();
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(
            v["Statement"][0]["Action"],
            serde_json::json!(["ec2:DescribeVpcs"])
        );
        assert_eq!(v["Statement"][0]["Resource"], "*");

        // Every ec2 Describe* operation: too long exact, one wildcard grouped.
        let ec2 = models.service("ec2").unwrap();
        let describes: Vec<String> = ec2
            .operations
            .keys()
            .filter(|o| o.starts_with("Describe"))
            .map(|o| format!("ec2:{o}"))
            .collect();
        assert!(describes.len() > 100);
        let doc = session_policy(&models, &describes, &[]).unwrap();
        assert!(doc.len() <= SESSION_POLICY_MAX_CHARS, "{}", doc.len());
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        let actions: Vec<&str> = v["Statement"][0]["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        // Whatever the grouping, no ec2 action outside the Describe* set matches.
        for op in ec2.operations.keys() {
            let action = format!("ec2:{op}").to_ascii_lowercase();
            let matched = actions.iter().any(|p| {
                let p = p.to_ascii_lowercase();
                match p.strip_suffix('*') {
                    Some(w) => action.starts_with(w),
                    None => action == p,
                }
            });
            assert_eq!(matched, op.starts_with("Describe"), "{op} vs {actions:?}");
        }

        // Half of every service's operations cannot be grouped without adding others.
        let mut many = Vec::new();
        for s in [
            "ec2",
            "iam",
            "s3",
            "rds",
            "lambda",
            "ecs",
            "sagemaker",
            "glue",
        ] {
            let m = models.service(s).unwrap();
            many.extend(m.operations.keys().step_by(2).map(|o| format!("{s}:{o}")));
        }
        assert!(matches!(
            session_policy(&models, &many, &[]),
            Err(SessionPolicyError::TooLarge { .. })
        ));
    }
}
