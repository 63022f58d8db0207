//! IAM groups (iam ListGroups), one item per group with its members and policies: GetGroup,
//! ListAttachedGroupPolicies and ListGroupPolicies for every group, all running at once.
//! A group deleted between the listing and its details is left out.

use mrhost_plugin_sdk::prelude::*;

struct IamGroups;

/// The detail calls made for each group, and where their items are.
const DETAILS: [(&str, &str); 3] = [
    ("GetGroup", "Users"),
    ("ListAttachedGroupPolicies", "AttachedPolicies"),
    ("ListGroupPolicies", "PolicyNames"),
];

impl Plugin for IamGroups {
    fn manifest() -> PluginManifest {
        manifest("iam-groups", "iam:group")
            .describe("IAM groups (iam ListGroups) with members, attached and inline policies; once per account")
            .operation("iam:ListGroups")
            .operation("iam:GetGroup")
            .operation("iam:ListAttachedGroupPolicies")
            .operation("iam:ListGroupPolicies")
            .global()
            .model_shape("iam:Group")
            .id_field("Arn")
            .column("Users", ValueKind::Json, "The user names of the group's members")
            .column("UserCount", ValueKind::Int, "How many users are members")
            .column(
                "AttachedPolicyArns",
                ValueKind::Json,
                "ARNs of the managed policies attached to the group",
            )
            .column(
                "InlinePolicyNames",
                ValueKind::Json,
                "Names of the group's inline policies",
            )
            .reference("AttachedPolicyArns", "iam:policy", ReferenceBy::Arn)
            .columns(&[
                "GroupName",
                "UserCount",
                "AttachedPolicyArns",
                "InlinePolicyNames",
                "CreateDate",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let groups =
            items("iam", "ListGroups", json!({}), "Groups").collect::<Result<Vec<_>, _>>()?;
        let params = |g: &Value| json!({"GroupName": g["GroupName"]});
        let requests = groups.iter().flat_map(|g| {
            DETAILS
                .iter()
                .map(move |(op, _)| request("iam", op, params(g)))
        });
        let mut results = call_all(requests.collect::<Vec<_>>()).into_iter();
        'groups: for mut group in groups {
            let mut found: Vec<Vec<Value>> = Vec::new();
            for (op, path) in DETAILS {
                match results.next() {
                    Some(Ok(first)) => found.push(rest_of(first, op, params(&group), path)?),
                    // Deleted since it was listed.
                    Some(Err(e)) if e.is_not_found() => continue 'groups,
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(format!("no result for {op}").into()),
                }
            }
            let [users, attached, inline] = <[Vec<Value>; 3]>::try_from(found)
                .map_err(|_| Error::from("three detail results per group"))?;
            let names: Vec<Value> = users.iter().map(|u| u["UserName"].clone()).collect();
            let arns: Vec<Value> = attached.iter().map(|p| p["PolicyArn"].clone()).collect();
            let count = names.len();
            if let Some(o) = group.as_object_mut() {
                o.insert("Users".into(), Value::Array(names));
                o.insert("UserCount".into(), json!(count));
                o.insert("AttachedPolicyArns".into(), Value::Array(arns));
                o.insert("InlinePolicyNames".into(), Value::Array(inline));
            }
            emit(&group);
        }
        Ok(())
    }
}

/// The items at `path` of a first page, and of the pages after it when it is truncated.
fn rest_of(mut first: Value, op: &str, mut params: Value, path: &str) -> Result<Vec<Value>, Error> {
    let truncated = first["IsTruncated"].as_bool() == Some(true);
    let marker = first["Marker"].take();
    let mut out = select(first, path);
    if truncated && marker.is_string() {
        params["Marker"] = marker;
        for item in items("iam", op, params, path) {
            out.push(item?);
        }
    }
    Ok(out)
}

export_plugin!(IamGroups);
