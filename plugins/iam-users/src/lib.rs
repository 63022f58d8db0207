//! IAM users (iam ListUsers), one item per user with what a security review asks of each:
//! MFA devices, access keys with when each was last used, console access, attached and
//! inline policy names and groups. The per-user calls run at once; once per account.

use mrhost_plugin_sdk::optional;
use mrhost_plugin_sdk::prelude::*;

struct IamUsers;

/// The per-user lists: operation, and where its items are.
const LISTS: [(&str, &str); 5] = [
    ("ListMFADevices", "MFADevices"),
    ("ListAccessKeys", "AccessKeyMetadata"),
    ("ListAttachedUserPolicies", "AttachedPolicies"),
    ("ListUserPolicies", "PolicyNames"),
    ("ListGroupsForUser", "Groups"),
];

impl Plugin for IamUsers {
    fn manifest() -> PluginManifest {
        manifest("iam-users", "iam:user")
            .version("0.2.0")
            .describe("IAM users (iam ListUsers), one item per user with MFA devices, access keys (and their last use), console access, attached and inline policy names and groups; once per account")
            .operation("iam:ListUsers")
            .operation("iam:ListMFADevices")
            .operation("iam:ListAccessKeys")
            .operation("iam:GetAccessKeyLastUsed")
            .operation("iam:GetLoginProfile")
            .operation("iam:ListAttachedUserPolicies")
            .operation("iam:ListUserPolicies")
            .operation("iam:ListGroupsForUser")
            .global()
            .model_shape("iam:User")
            .id_field("Arn")
            .columns(&["UserName", "MfaEnabled", "ConsoleAccess", "ActiveAccessKeys", "GroupNames", "CreateDate"])
            .column("MfaDevices", ValueKind::Json, "the user's MFA devices (ListMFADevices), null when they could not be read")
            .column("MfaEnabled", ValueKind::Bool, "whether the user has an MFA device")
            .column("AccessKeys", ValueKind::Json, "the user's access keys: AccessKeyId, Status, CreateDate and LastUsedDate, LastUsedService, LastUsedRegion (GetAccessKeyLastUsed)")
            .column("ActiveAccessKeys", ValueKind::Int, "how many of the user's access keys are Active")
            .column("ConsoleAccess", ValueKind::Bool, "whether the user has a console password (a login profile)")
            .column("AttachedPolicyNames", ValueKind::Json, "names of the managed policies attached to the user")
            .column("InlinePolicyNames", ValueKind::Json, "names of the user's inline policies")
            .column("GroupNames", ValueKind::Json, "names of the groups the user is in")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let users = items("iam", "ListUsers", json!({}), "Users").collect::<Result<Vec<_>, _>>()?;
        let list_params = |user: &Value| json!({"UserName": user["UserName"], "MaxItems": 1000});
        let mut requests = Vec::new();
        for u in &users {
            for (op, _) in LISTS {
                requests.push(request("iam", op, list_params(u)));
            }
            requests.push(request(
                "iam",
                "GetLoginProfile",
                json!({"UserName": u["UserName"]}),
            ));
        }
        let mut results = call_all(requests).into_iter();
        let mut next = || {
            results
                .next()
                .unwrap_or_else(|| Err(CallError::Failed("a call had no result".into())))
        };

        let mut enriched = Vec::new();
        for u in users {
            let mut lists = Vec::new();
            for (op, path) in LISTS {
                let list = match optional(next())? {
                    None => None,
                    Some(first) => Some(rest_of(first, op, list_params(&u), path)?),
                };
                lists.push(list);
            }
            let console = match next() {
                Ok(_) => Value::Bool(true),
                Err(e) if e.is_not_found() => Value::Bool(false),
                Err(e) if e.is_unavailable() => Value::Null,
                Err(e) => return Err(e.into()),
            };
            enriched.push((u, lists, console));
        }

        // When each key was last used: one more round, for every key at once.
        let keys: Vec<Value> = enriched
            .iter()
            .filter_map(|(_, lists, _)| lists.get(1).cloned().flatten())
            .flatten()
            .collect();
        let last_used = call_all(keys.iter().map(|k| {
            request(
                "iam",
                "GetAccessKeyLastUsed",
                json!({"AccessKeyId": k["AccessKeyId"]}),
            )
        }));
        let mut last_used = last_used.into_iter();

        for (mut user, lists, console) in enriched {
            let mut lists = lists.into_iter();
            let mut take = || lists.next().flatten();
            let mfa = take();
            let access_keys = match take() {
                None => Value::Null,
                Some(keys) => {
                    let mut out = Vec::new();
                    for k in keys {
                        let used = optional(last_used.next().unwrap_or_else(|| {
                            Err(CallError::Failed("a call had no result".into()))
                        }))?;
                        let used = used
                            .map(|mut u| u["AccessKeyLastUsed"].take())
                            .unwrap_or(Value::Null);
                        out.push(json!({
                            "AccessKeyId": k["AccessKeyId"],
                            "Status": k["Status"],
                            "CreateDate": k["CreateDate"],
                            "LastUsedDate": used["LastUsedDate"],
                            "LastUsedService": used["ServiceName"],
                            "LastUsedRegion": used["Region"],
                        }));
                    }
                    Value::Array(out)
                }
            };
            let attached = take().map(|l| names(l, "PolicyName"));
            let inline = take();
            let groups = take().map(|l| names(l, "GroupName"));
            let active = access_keys
                .as_array()
                .map(|ks| json!(ks.iter().filter(|k| k["Status"] == "Active").count()))
                .unwrap_or(Value::Null);
            if let Some(o) = user.as_object_mut() {
                let enabled = mfa.as_ref().map(|d| json!(!d.is_empty()));
                o.insert(
                    "MfaDevices".into(),
                    mfa.map(Value::Array).unwrap_or(Value::Null),
                );
                o.insert("MfaEnabled".into(), enabled.unwrap_or(Value::Null));
                o.insert("AccessKeys".into(), access_keys);
                o.insert("ActiveAccessKeys".into(), active);
                o.insert("ConsoleAccess".into(), console);
                o.insert(
                    "AttachedPolicyNames".into(),
                    attached.unwrap_or(Value::Null),
                );
                o.insert(
                    "InlinePolicyNames".into(),
                    inline.map(Value::Array).unwrap_or(Value::Null),
                );
                o.insert("GroupNames".into(), groups.unwrap_or(Value::Null));
            }
            emit(&user);
        }
        Ok(())
    }
}

/// A list's items: the first page's, or every page's when there are more (read one page at
/// a time; IAM lists of one user rarely pass 1000).
fn rest_of(first: Value, op: &str, params: Value, path: &str) -> Result<Vec<Value>, CallError> {
    if first["IsTruncated"] == true {
        items("iam", op, params, path).collect()
    } else {
        Ok(select(first, path))
    }
}

/// The `field` of each item.
fn names(list: Vec<Value>, field: &str) -> Value {
    Value::Array(list.into_iter().map(|mut i| i[field].take()).collect())
}

export_plugin!(IamUsers);
