//! IAM roles (iam ListRoles, then GetRole each for when it was last used), one item per
//! role; the trust policy comes decoded to JSON (the host decodes IAM's URL-encoded policy
//! documents), with the principals it trusts. Once per account.

use mrhost_plugin_sdk::optional;
use mrhost_plugin_sdk::prelude::*;

struct IamRoles;

impl Plugin for IamRoles {
    fn manifest() -> PluginManifest {
        manifest("iam-roles", "iam:role")
            .version("0.2.0")
            .describe("IAM roles (iam ListRoles, then GetRole each), one item per role with its trust policy as JSON, the principals it trusts and when it was last used; once per account")
            .operation("iam:ListRoles")
            .operation("iam:GetRole")
            .global()
            .model_shape("iam:Role")
            .id_field("Arn")
            .columns(&["RoleName", "TrustedPrincipals", "LastUsedDate", "CreateDate"])
            .column("TrustedPrincipals", ValueKind::Json, "every principal the trust policy's Allow statements name (AWS, Service, Federated; \"*\" as is)")
            .column("RoleLastUsed", ValueKind::Json, "GetRole's RoleLastUsed (LastUsedDate, Region), null when it could not be read")
            .column("LastUsedDate", ValueKind::Timestamp, "when the role was last assumed, null if never (or unknown)")
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let roles = items("iam", "ListRoles", json!({}), "Roles").collect::<Result<Vec<_>, _>>()?;
        let details = call_all(
            roles
                .iter()
                .map(|r| request("iam", "GetRole", json!({"RoleName": r["RoleName"]}))),
        );
        for (mut role, detail) in roles.into_iter().zip(details) {
            let last_used = optional(detail)?
                .map(|mut d| d["Role"]["RoleLastUsed"].take())
                .unwrap_or(Value::Null);
            let trusted = principals(&role["AssumeRolePolicyDocument"]);
            if let Some(o) = role.as_object_mut() {
                o.insert("TrustedPrincipals".into(), trusted);
                let date = last_used["LastUsedDate"].clone();
                o.insert("RoleLastUsed".into(), last_used);
                o.insert("LastUsedDate".into(), date);
            }
            emit(&role);
        }
        Ok(())
    }
}

/// The principals of a policy's Allow statements, in order, each once: a string or a list
/// under each of `AWS`, `Service`, `Federated`, `CanonicalUser`, or `"*"` itself.
fn principals(policy: &Value) -> Value {
    let mut out: Vec<Value> = Vec::new();
    let mut add = |v: &Value| {
        if v.is_string() && !out.contains(v) {
            out.push(v.clone());
        }
    };
    let statements = match &policy["Statement"] {
        Value::Array(a) => a.iter().collect::<Vec<_>>(),
        s @ Value::Object(_) => vec![s],
        _ => vec![],
    };
    for s in statements.into_iter().filter(|s| s["Effect"] == "Allow") {
        match &s["Principal"] {
            p @ Value::String(_) => add(p),
            Value::Object(kinds) => {
                for v in kinds.values() {
                    match v {
                        Value::Array(list) => list.iter().for_each(&mut add),
                        other => add(other),
                    }
                }
            }
            _ => {}
        }
    }
    Value::Array(out)
}

export_plugin!(IamRoles);
