//! The one place that decides whether a plugin may make an AWS call: the operation must be
//! declared in its manifest, and must be a read operation unless the user allowed it by name.

use std::collections::BTreeSet;

pub use aws_engine::readonly::{is_read, is_read_op, NOT_READS, READ_VERBS};

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
    /// Non-read operations the user allowed with `--allow-write`.
    allowed_writes: BTreeSet<String>,
}

impl Policy {
    pub fn new(
        declared: impl IntoIterator<Item = String>,
        allowed_writes: impl IntoIterator<Item = String>,
    ) -> Self {
        Policy {
            declared: declared.into_iter().collect(),
            allowed_writes: allowed_writes.into_iter().collect(),
        }
    }

    pub fn declared(&self) -> impl Iterator<Item = &String> {
        self.declared.iter()
    }

    /// The single permission check, run on every host call before anything else.
    /// `read` is what [`is_read_op`] says of the operation.
    pub fn check(&self, service: &str, operation: &str, read: bool) -> Decision {
        let full = format!("{service}:{operation}");
        if !self.declared.contains(&full) {
            return Decision::Deny(format!(
                "{full} is not declared in the plugin manifest (declared: {})",
                self.declared.iter().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if !read && !self.allowed_writes.contains(&full) {
            return Decision::Deny(format!(
                "{full} is not a read operation; run with --allow-write {full} to permit it"
            ));
        }
        Decision::Allow
    }
}

/// The IAM action for a model operation: the service's signing name (its IAM prefix, with
/// the few known exceptions) and the operation name.
pub fn iam_action(model: &aws_engine::ServiceModel, operation: &str) -> String {
    let prefix = match model.signing_name() {
        "monitoring" => "cloudwatch",
        other => other,
    };
    // Operations whose IAM action has another name.
    let action = match (prefix, operation) {
        ("s3", "ListBuckets") => "ListAllMyBuckets",
        ("s3", "ListObjects" | "ListObjectsV2" | "HeadBucket") => "ListBucket",
        ("s3", "ListObjectVersions") => "ListBucketVersions",
        ("s3", "HeadObject") => "GetObject",
        ("s3", "ListMultipartUploads") => "ListBucketMultipartUploads",
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
    fn read_verbs_are_whole_words() {
        assert!(is_read("ec2", "DescribeVpcs"));
        assert!(is_read("s3", "ListBuckets"));
        assert!(is_read("dynamodb", "Query"));
        assert!(!is_read("ec2", "CreateVpc"));
        assert!(!is_read("ec2", "Getaway")); // not "Get" + word
        assert!(!is_read("sts", "GetSessionToken"));
        assert!(!is_read("ec2", "RunInstances"));
    }

    #[test]
    fn obeyed_and_violated() {
        let p = Policy::new(
            ["ec2:DescribeVpcs".to_string(), "ec2:CreateTags".to_string()],
            Vec::<String>::new(),
        );
        assert_eq!(p.check("ec2", "DescribeVpcs", true), Decision::Allow);
        assert!(
            matches!(p.check("ec2", "DescribeSubnets", true), Decision::Deny(m) if m.contains("not declared"))
        );
        assert!(
            matches!(p.check("ec2", "CreateTags", false), Decision::Deny(m) if m.contains("--allow-write"))
        );
        let p = Policy::new(
            ["ec2:CreateTags".to_string()],
            ["ec2:CreateTags".to_string()],
        );
        assert_eq!(p.check("ec2", "CreateTags", false), Decision::Allow);
    }

    #[test]
    fn the_model_refines_the_verb_rule() {
        let models = aws_engine::Models::new(vec![]).unwrap();
        let read = |svc: &str, op: &str| {
            let m = models.service(svc).unwrap();
            is_read_op(&m, m.operation(op).unwrap())
        };
        assert!(read("ec2", "DescribeVpcs"));
        assert!(!read("ec2", "TerminateInstances"));
        assert!(read("s3", "GetObject")); // GET
        assert!(!read("s3", "PutObject")); // PUT
        assert!(!read("s3", "DeleteBucket")); // DELETE
        assert!(!read("sts", "GetSessionToken")); // hands out credentials
        assert!(!read("secretsmanager", "GetSecretValue")); // hands out secrets
    }
}
