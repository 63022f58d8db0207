//! Service control policies of the AWS Organization (organizations ListPolicies with the
//! SERVICE_CONTROL_POLICY filter), one item per policy, once per account, with its document
//! (DescribePolicy) and what it is attached to (ListTargetsForPolicy), both for every policy
//! at once. An account that is not in an organization emits nothing.

use mrhost_plugin_sdk::prelude::*;

struct OrganizationsPolicies;

impl Plugin for OrganizationsPolicies {
    fn manifest() -> PluginManifest {
        manifest("organizations-policies", "organizations:policy")
            .describe("Service control policies (organizations ListPolicies, then DescribePolicy and ListTargetsForPolicy each) with document and targets; once per account")
            .operation("organizations:ListPolicies")
            .operation("organizations:DescribePolicy")
            .operation("organizations:ListTargetsForPolicy")
            .global()
            .model_shape("organizations:PolicySummary")
            .id_field("Id")
            .column("Content", ValueKind::Json, "The policy document")
            .column("Targets", ValueKind::Json, "Roots, OUs and accounts the policy is attached to ({TargetId, Arn, Name, Type})")
            .column("TargetCount", ValueKind::Int, "How many targets the policy is attached to")
            .columns(&["Id", "Name", "AwsManaged", "TargetCount", "Targets"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let mut policies = Vec::new();
        let filter = json!({"Filter": "SERVICE_CONTROL_POLICY"});
        for p in items("organizations", "ListPolicies", filter, "Policies") {
            match p {
                Ok(p) => policies.push(p),
                Err(e) if e.code() == Some("AWSOrganizationsNotInUseException") => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        let id = |p: &Value| json!({"PolicyId": p["Id"]});
        let requests = policies.iter().flat_map(|p| {
            [
                request("organizations", "DescribePolicy", id(p)),
                request("organizations", "ListTargetsForPolicy", id(p)),
            ]
        });
        let mut results = call_all(requests.collect::<Vec<_>>()).into_iter();
        for mut policy in policies {
            let (Some(described), Some(targets)) = (results.next(), results.next()) else {
                return Err("two results per policy".into());
            };
            let (described, mut targets) = match (described, targets) {
                (Ok(d), Ok(t)) => (d, t),
                (Err(e), _) | (_, Err(e)) if e.is_not_found() => continue,
                (Err(e), _) | (_, Err(e)) => return Err(e.into()),
            };
            let content = described["Policy"]["Content"]
                .as_str()
                .and_then(|t| serde_json::from_str::<Value>(t).ok())
                .unwrap_or(Value::Null);
            let next = targets["NextToken"].take();
            let mut list = select(targets, "Targets");
            if next.is_string() {
                let params = json!({"PolicyId": policy["Id"], "NextToken": next});
                for t in items("organizations", "ListTargetsForPolicy", params, "Targets") {
                    list.push(t?);
                }
            }
            let count = list.len();
            if let Some(o) = policy.as_object_mut() {
                o.insert("Content".into(), content);
                o.insert("Targets".into(), Value::Array(list));
                o.insert("TargetCount".into(), json!(count));
            }
            emit(&policy);
        }
        Ok(())
    }
}

export_plugin!(OrganizationsPolicies);
