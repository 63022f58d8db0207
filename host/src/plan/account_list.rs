//! `--accounts @FILE`: account ids read from a file (or `@-`, standard input), so that a
//! list made once — `aws organizations list-accounts`, `mrhost list`, a spreadsheet's
//! column — is handed to every shard instead of each shard listing the Organization.
//!
//! Accepted, found by the text's shape:
//! - JSON: the `ListAccounts` / `ListAccountsForParent` response (`{"Accounts": [...]}`),
//!   an array of account objects or of id strings, or one account object;
//! - JSON lines: one account object (or id string) a line, as `mrhost … -o ndjson` writes;
//! - text: ids separated by white space or commas, `#` to the end of a line a comment.
//!
//! An account object is one with an `Id` (or `AccountId`); one whose `State` (or `Status`)
//! is present and not `ACTIVE` is left out and reported, as `--org-role` does with
//! SUSPENDED members. Every id must be 12 digits.

use serde_json::Value;

/// Why an account list cannot be used; every message names the file (`label`).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountListError {
    #[error("{label}: no account ids in it")]
    Empty { label: String },
    #[error("{label}: no ACTIVE account in it ({inactive} not ACTIVE)")]
    NoneActive { label: String, inactive: usize },
    #[error("{label}: '{id}' is not a 12-digit account id")]
    BadId { label: String, id: String },
    #[error("{label}: line {line}: not JSON ({message})")]
    BadJsonLine {
        label: String,
        line: usize,
        message: String,
    },
    #[error("{label}: not JSON ({message})")]
    BadJson { label: String, message: String },
    #[error("{label}: {what} is not an account (an id string, or an object with an Id)")]
    NotAnAccount { label: String, what: String },
}

/// The accounts a list names, in its order, and those it names but which are not ACTIVE.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AccountList {
    pub ids: Vec<String>,
    /// (id, status) of each account left out for its status.
    pub inactive: Vec<(String, String)>,
}

/// Parse an account list; `label` names its source in errors (the file's path, or
/// "standard input").
pub fn parse(label: &str, text: &str) -> Result<AccountList, AccountListError> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let mut list = AccountList::default();
    if trimmed.starts_with(['{', '[', '"']) {
        match serde_json::from_str::<Value>(trimmed) {
            Ok(v) => take(label, &v, &mut list)?,
            // Several JSON values, one a line: JSON lines.
            Err(_) if !trimmed.starts_with('[') && trimmed.lines().count() > 1 => {
                for (i, line) in trimmed.lines().enumerate() {
                    let line = line.trim();
                    if line.is_empty() {
                        continue;
                    }
                    let v: Value =
                        serde_json::from_str(line).map_err(|e| AccountListError::BadJsonLine {
                            label: label.into(),
                            line: i + 1,
                            message: e.to_string(),
                        })?;
                    take(label, &v, &mut list)?;
                }
            }
            Err(e) => {
                return Err(AccountListError::BadJson {
                    label: label.into(),
                    message: e.to_string(),
                })
            }
        }
    } else {
        for line in trimmed.lines() {
            let line = line.split('#').next().unwrap_or_default();
            for id in line
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
            {
                list.ids.push(checked(label, id)?);
            }
        }
    }
    if list.ids.is_empty() && list.inactive.is_empty() {
        return Err(AccountListError::Empty {
            label: label.into(),
        });
    }
    if list.ids.is_empty() {
        return Err(AccountListError::NoneActive {
            label: label.into(),
            inactive: list.inactive.len(),
        });
    }
    Ok(list)
}

fn checked(label: &str, id: &str) -> Result<String, AccountListError> {
    if super::accounts::is_account_id(id) {
        Ok(id.to_string())
    } else {
        Err(AccountListError::BadId {
            label: label.into(),
            id: id.chars().take(40).collect(),
        })
    }
}

fn take(label: &str, v: &Value, list: &mut AccountList) -> Result<(), AccountListError> {
    let not_account = |what: &str| AccountListError::NotAnAccount {
        label: label.into(),
        what: what.into(),
    };
    match v {
        Value::String(id) => list.ids.push(checked(label, id)?),
        Value::Array(items) => {
            for item in items {
                take(label, item, list)?;
            }
        }
        Value::Object(o) => {
            if let Some(accounts) = o.get("Accounts") {
                return take(label, accounts, list);
            }
            let Some(id) = o
                .get("Id")
                .or_else(|| o.get("AccountId"))
                .and_then(Value::as_str)
            else {
                let keys: Vec<&str> = o.keys().map(String::as_str).take(5).collect();
                return Err(not_account(&format!("an object with keys {keys:?}")));
            };
            let id = checked(label, id)?;
            let status = o
                .get("State")
                .or_else(|| o.get("Status"))
                .and_then(Value::as_str);
            match status {
                Some(s) if s != "ACTIVE" => list.inactive.push((id, s.to_string())),
                _ => list.ids.push(id),
            }
        }
        Value::Number(n) => {
            return Err(not_account(&format!(
                "the number {n} (write ids as strings: a number loses leading zeros)"
            )))
        }
        Value::Null | Value::Bool(_) => return Err(not_account(&v.to_string())),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "111111111111";
    const B: &str = "022222222222";

    #[test]
    fn text_with_commas_spaces_and_comments() {
        let l = parse("f", &format!("# members\n{A}, {B}\n\n{A} # again\n")).unwrap();
        assert_eq!(l.ids, vec![A, B, A]);
        assert!(l.inactive.is_empty());
    }

    #[test]
    fn list_accounts_response_leaves_out_what_is_not_active() {
        let text = format!(
            r#"{{"Accounts": [{{"Id": "{A}", "Status": "ACTIVE", "Name": "a"}},
               {{"Id": "{B}", "Status": "SUSPENDED"}},
               {{"Id": "333333333333", "State": "PENDING_CLOSURE"}}]}}"#
        );
        let l = parse("f", &text).unwrap();
        assert_eq!(l.ids, vec![A]);
        assert_eq!(
            l.inactive,
            vec![
                (B.to_string(), "SUSPENDED".to_string()),
                ("333333333333".to_string(), "PENDING_CLOSURE".to_string())
            ]
        );
    }

    #[test]
    fn arrays_and_json_lines() {
        let l = parse("f", &format!(r#"["{A}", {{"AccountId": "{B}"}}]"#)).unwrap();
        assert_eq!(l.ids, vec![A, B]);
        let l = parse(
            "f",
            &format!("{{\"Id\": \"{A}\", \"Status\": \"ACTIVE\"}}\n\n{{\"Id\": \"{B}\"}}\n"),
        )
        .unwrap();
        assert_eq!(l.ids, vec![A, B]);
        let l = parse("f", &format!("\"{A}\"\n\"{B}\"\n")).unwrap();
        assert_eq!(l.ids, vec![A, B]);
        let l = parse("f", &format!("\u{feff}{{\"Id\": \"{A}\"}}")).unwrap();
        assert_eq!(l.ids, vec![A]);
    }

    #[test]
    fn every_bad_list_is_one_error_naming_the_file() {
        let cases = [
            ("", "accts.txt: no account ids in it"),
            ("# nothing\n", "accts.txt: no account ids in it"),
            ("[]", "accts.txt: no account ids in it"),
            (
                r#"{"Accounts": [{"Id": "111111111111", "Status": "SUSPENDED"}]}"#,
                "accts.txt: no ACTIVE account in it (1 not ACTIVE)",
            ),
            ("12345", "accts.txt: '12345' is not a 12-digit account id"),
            ("[111111111111]", "accts.txt: the number 111111111111"),
            ("[null]", "accts.txt: null is not an account"),
            (
                r#"[{"Name": "x"}]"#,
                "accts.txt: an object with keys [\"Name\"]",
            ),
            (r#"{"Id": "#, "accts.txt: not JSON"),
            (
                "{\"Id\": \"111111111111\"}\n{oops",
                "accts.txt: line 2: not JSON",
            ),
            (
                r#"{"Id": "abc"}"#,
                "accts.txt: 'abc' is not a 12-digit account id",
            ),
        ];
        for (text, want) in cases {
            let e = parse("accts.txt", text).unwrap_err().to_string();
            assert!(e.starts_with(want), "{text:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
