//! The IAM credential report (iam GetCredentialReport), parsed: one item per row of the CSV,
//! i.e. per user (and `<root_account>`), with typed values. `true`/`false` in the `*_active`,
//! `password_enabled` and `mfa_active` columns become booleans; `N/A`, `not_supported`,
//! `no_information` and empty cells become null; the rest stay text (timestamps in ISO 8601).
//! Each row also carries `GeneratedTime`, when AWS produced the report.
//!
//! When no current report exists (`ReportNotPresent`, `ReportExpired`), the plugin asks for
//! one (GenerateCredentialReport, a `write`-class operation) and waits for it: run with
//! `--allow iam:GenerateCredentialReport --allow iam:GetCredentialReport` (the report is
//! `secret`-class). With a report less than four hours old only the second is needed.

use mrhost_plugin_sdk::prelude::*;

struct IamCredentialReport;

/// The report's columns as AWS documents them, with their types.
const COLUMNS: &[(&str, ValueKind, &str)] = &[
    (
        "user",
        ValueKind::String,
        "User name (<root_account> for the root user)",
    ),
    ("arn", ValueKind::String, "The user's ARN"),
    (
        "user_creation_time",
        ValueKind::Timestamp,
        "When the user was created",
    ),
    (
        "password_enabled",
        ValueKind::Bool,
        "Whether the user has a console password (null for root)",
    ),
    (
        "password_last_used",
        ValueKind::Timestamp,
        "Last console sign-in; null when never or unknown",
    ),
    (
        "password_last_changed",
        ValueKind::Timestamp,
        "When the password was last set",
    ),
    (
        "password_next_rotation",
        ValueKind::Timestamp,
        "When the password policy requires a new one",
    ),
    (
        "mfa_active",
        ValueKind::Bool,
        "Whether an MFA device is enabled",
    ),
    (
        "access_key_1_active",
        ValueKind::Bool,
        "Whether access key 1 is active",
    ),
    (
        "access_key_1_last_rotated",
        ValueKind::Timestamp,
        "When access key 1 was created or rotated",
    ),
    (
        "access_key_1_last_used_date",
        ValueKind::Timestamp,
        "When access key 1 was last used",
    ),
    (
        "access_key_1_last_used_region",
        ValueKind::String,
        "Where access key 1 was last used",
    ),
    (
        "access_key_1_last_used_service",
        ValueKind::String,
        "The service access key 1 last called",
    ),
    (
        "access_key_2_active",
        ValueKind::Bool,
        "Whether access key 2 is active",
    ),
    (
        "access_key_2_last_rotated",
        ValueKind::Timestamp,
        "When access key 2 was created or rotated",
    ),
    (
        "access_key_2_last_used_date",
        ValueKind::Timestamp,
        "When access key 2 was last used",
    ),
    (
        "access_key_2_last_used_region",
        ValueKind::String,
        "Where access key 2 was last used",
    ),
    (
        "access_key_2_last_used_service",
        ValueKind::String,
        "The service access key 2 last called",
    ),
    (
        "cert_1_active",
        ValueKind::Bool,
        "Whether signing certificate 1 is active",
    ),
    (
        "cert_1_last_rotated",
        ValueKind::Timestamp,
        "When signing certificate 1 was created or rotated",
    ),
    (
        "cert_2_active",
        ValueKind::Bool,
        "Whether signing certificate 2 is active",
    ),
    (
        "cert_2_last_rotated",
        ValueKind::Timestamp,
        "When signing certificate 2 was created or rotated",
    ),
    (
        "GeneratedTime",
        ValueKind::Timestamp,
        "When AWS generated the report",
    ),
];

/// How many times to ask whether the report is ready, and the pause between asks.
const ATTEMPTS: u32 = 60;
const PAUSE: std::time::Duration = std::time::Duration::from_secs(2);

impl Plugin for IamCredentialReport {
    fn manifest() -> PluginManifest {
        let mut m = manifest("iam-credential-report", "iam:credential-report")
            .describe("The IAM credential report (iam GetCredentialReport), one typed item per user; generated when absent; once per account")
            .operation("iam:GetCredentialReport")
            .operation("iam:GenerateCredentialReport")
            .global()
            .id_field("arn")
            .reference("arn", "iam:user", ReferenceBy::Arn)
            .columns(&[
                "user",
                "password_enabled",
                "password_last_used",
                "mfa_active",
                "access_key_1_active",
                "access_key_1_last_used_date",
                "access_key_2_active",
            ]);
        for (name, kind, description) in COLUMNS {
            m = m.column(name, *kind, description);
        }
        m.build()
    }

    fn collect(_scope: Scope) -> Result<(), Error> {
        let report = report()?;
        let content = report["Content"]
            .as_str()
            .ok_or("GetCredentialReport returned no Content")?;
        let bytes = base64_decode(content).ok_or("the report's Content is not base64")?;
        let text = String::from_utf8(bytes).map_err(|_| "the report is not UTF-8")?;
        let mut rows = parse_csv(&text).into_iter();
        let Some(header) = rows.next() else {
            return Ok(());
        };
        for row in rows {
            if row.len() == 1 && row[0].is_empty() {
                continue;
            }
            let mut item = serde_json::Map::new();
            for (name, cell) in header.iter().zip(row) {
                item.insert(name.clone(), typed(name, cell));
            }
            item.insert("GeneratedTime".into(), report["GeneratedTime"].clone());
            emit(&Value::Object(item));
        }
        Ok(())
    }
}

/// The current report, generating one first when there is none.
fn report() -> Result<Value, Error> {
    match call("iam", "GetCredentialReport", json!({})) {
        Ok(r) => return Ok(r),
        Err(e) if matches!(e.code(), Some("ReportNotPresent" | "ReportExpired")) => {}
        Err(e) => return Err(e.into()),
    }
    for _ in 0..ATTEMPTS {
        let state = call("iam", "GenerateCredentialReport", json!({}))?;
        if state["State"] == "COMPLETE" {
            match call("iam", "GetCredentialReport", json!({})) {
                Ok(r) => return Ok(r),
                Err(e) if e.code() == Some("ReportInProgress") => {}
                Err(e) => return Err(e.into()),
            }
        }
        std::thread::sleep(PAUSE);
    }
    Err(format!(
        "the credential report was not ready after {ATTEMPTS} checks {} s apart",
        PAUSE.as_secs()
    )
    .into())
}

/// One cell, typed by its column.
fn typed(column: &str, cell: String) -> Value {
    if matches!(
        cell.as_str(),
        "" | "N/A" | "not_supported" | "no_information"
    ) {
        return Value::Null;
    }
    let boolean = column.ends_with("_active") || column == "password_enabled";
    match (boolean, cell.as_str()) {
        (true, "true") => Value::Bool(true),
        (true, "false") => Value::Bool(false),
        (true, _) => Value::Null,
        (false, _) => Value::String(cell),
    }
}

/// RFC 4180 CSV: rows of cells; quoted cells may hold commas, quotes ("") and line breaks.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    if !cell.is_empty() || !row.is_empty() {
        row.push(cell);
        rows.push(row);
    }
    rows
}

/// Standard base64 (with or without padding); None on any other character.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

export_plugin!(IamCredentialReport);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_base64() {
        assert_eq!(
            base64_decode("aGVsbG8sIndvcmxkIgo=").unwrap(),
            b"hello,\"world\"\n"
        );
        let rows = parse_csv("a,b\n\"x,1\",\"say \"\"hi\"\"\"\nlast,\n");
        assert_eq!(
            rows,
            vec![vec!["a", "b"], vec!["x,1", "say \"hi\""], vec!["last", ""]]
        );
        assert_eq!(typed("mfa_active", "true".into()), json!(true));
        assert_eq!(
            typed("password_enabled", "not_supported".into()),
            Value::Null
        );
        assert_eq!(typed("user", "alice".into()), json!("alice"));
    }
}
