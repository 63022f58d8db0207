//! The account password policy (iam GetAccountPasswordPolicy): one item per account, the
//! policy's settings and `PasswordPolicyPresent`. An account without a policy (the service
//! answers `NoSuchEntity`) gives one item saying so, `{"PasswordPolicyPresent": false}`:
//! for a review, "no policy" is a finding, not a failure.

use mrhost_plugin_sdk::prelude::*;

struct IamPasswordPolicy;

impl Plugin for IamPasswordPolicy {
    fn manifest() -> PluginManifest {
        manifest("iam-password-policy", "iam:password-policy")
            .describe("The account password policy (iam GetAccountPasswordPolicy), one item per account; PasswordPolicyPresent false when there is none")
            .operation("iam:GetAccountPasswordPolicy")
            .global()
            .model_shape("iam:PasswordPolicy")
            .column(
                "PasswordPolicyPresent",
                ValueKind::Bool,
                "Whether the account has a password policy (false: AWS defaults apply)",
            )
            .columns(&[
                "PasswordPolicyPresent",
                "MinimumPasswordLength",
                "RequireSymbols",
                "RequireNumbers",
                "MaxPasswordAge",
                "PasswordReusePrevention",
            ])
            .build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let item = match call("iam", "GetAccountPasswordPolicy", json!({})) {
            Ok(mut r) => {
                let mut policy = r["PasswordPolicy"].take();
                match policy.as_object_mut() {
                    Some(o) => {
                        o.insert("PasswordPolicyPresent".into(), json!(true));
                    }
                    None => {
                        return Err("GetAccountPasswordPolicy returned no PasswordPolicy".into())
                    }
                }
                policy
            }
            Err(e) if e.code() == Some("NoSuchEntity") => json!({"PasswordPolicyPresent": false}),
            Err(e) => return Err(e.into()),
        };
        emit(&item);
        Ok(())
    }
}

export_plugin!(IamPasswordPolicy);
