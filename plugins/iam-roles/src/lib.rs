//! IAM roles (iam ListRoles), one item per role; once per account.

use mrhost_plugin_sdk::prelude::*;

struct IamRoles;

impl Plugin for IamRoles {
    fn manifest() -> PluginManifest {
        manifest("iam-roles", "iam:role")
            .describe("IAM roles (iam ListRoles), one item per role; once per account")
            .operation("iam:ListRoles")
            .global()
            .id_field("Arn")
            .columns(&["RoleName", "RoleId", "Path", "CreateDate"])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), String> {
        for role in items("iam", "ListRoles", json!({}), "Roles") {
            let mut role = role?;
            // IAM sends policy documents as URL-encoded JSON text; boto3 hands them out
            // decoded (botocore's json_decode_policies). The host does not do it (yet), so
            // do it here, and only to a string, so a decoding host changes nothing.
            if let Some(Value::String(doc)) = role.get("AssumeRolePolicyDocument") {
                if let Ok(parsed) = serde_json::from_str::<Value>(&unquote(doc)) {
                    role["AssumeRolePolicyDocument"] = parsed;
                }
            }
            emit(&role);
        }
        Ok(())
    }
}

/// Percent-decoding as Python's `urllib.parse.unquote` does it (`+` stays `+`).
fn unquote(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1..i + 3)) {
            (b'%', Some(&[h, l])) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => {
                out.push(hex(h) << 4 | hex(l));
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(c: u8) -> u8 {
    (c as char).to_digit(16).unwrap_or(0) as u8
}

export_plugin!(IamRoles);
