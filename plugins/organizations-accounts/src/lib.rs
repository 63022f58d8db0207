//! The accounts of the AWS Organization (organizations ListAccounts), one item per account,
//! once per (management or delegated administrator) account, with `ParentId`, the root or OU
//! it sits in (ListParents for each account, all at once). Status, how and when it joined are
//! in the listing. An account that is not in an organization
//! (`AWSOrganizationsNotInUseException`) emits nothing.

use mrhost_plugin_sdk::prelude::*;

struct OrganizationsAccounts;

impl Plugin for OrganizationsAccounts {
    fn manifest() -> PluginManifest {
        manifest("organizations-accounts", "organizations:account")
            .describe("Organization member accounts (organizations ListAccounts, then ListParents each): status, joined, parent; once per account")
            .operation("organizations:ListAccounts")
            .operation("organizations:ListParents")
            .global()
            .model_shape("organizations:Account")
            .id_field("Id")
            .column("ParentId", ValueKind::String, "The root or organizational unit the account is in")
            .columns(&["Id", "Name", "Email", "Status", "JoinedMethod", "JoinedTimestamp", "ParentId"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let mut accounts = Vec::new();
        for a in items("organizations", "ListAccounts", json!({}), "Accounts") {
            match a {
                Ok(a) => accounts.push(a),
                Err(e) if e.code() == Some("AWSOrganizationsNotInUseException") => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
        for (mut account, parents) in enrich(accounts, |a| {
            request("organizations", "ListParents", json!({"ChildId": a["Id"]}))
        }) {
            let parent = match parents {
                Ok(p) => select(p, "Parents")
                    .into_iter()
                    .next()
                    .map(|mut p| p["Id"].take()),
                Err(e) if e.is_not_found() => None,
                Err(e) => return Err(e.into()),
            };
            if let Some(o) = account.as_object_mut() {
                o.insert("ParentId".into(), parent.unwrap_or(Value::Null));
            }
            emit(&account);
        }
        Ok(())
    }
}

export_plugin!(OrganizationsAccounts);
