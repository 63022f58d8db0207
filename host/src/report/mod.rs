//! `mrhost report`: a stored inventory as one self-contained HTML page.
//!
//! - [`data`]: the data document the page renders (`host/assets/report/README.md` is its
//!   contract), read from any destination through [`Store`](crate::inventory::store::Store)'s read API.
//! - [`checks`]: the findings, SQL checks shipped as data (`host/assets/checks/*.sql`) or
//!   given with `--checks DIR`.
//! - [`page`]: the template with the data, its own script and style and the vendored
//!   libraries inlined.

pub mod checks;
pub mod data;
pub mod page;

use crate::inventory::InventoryError;

/// What can go wrong making a report.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Inventory(#[from] InventoryError),
    /// A check file that cannot be used (unreadable, bad header, duplicate id).
    #[error("check {file}: {message}")]
    CheckFile { file: String, message: String },
    /// A check whose SQL failed on the inventory.
    #[error("check {id} ({file}) failed: {message}")]
    CheckFailed {
        id: String,
        file: String,
        message: String,
    },
    /// A request that does not fit the inventory (`--since` not before `--at`).
    #[error("{0}")]
    Invalid(String),
    /// The scratch database checks run in (PostgreSQL and Parquet inventories).
    #[error("{what}: {source}")]
    Sqlite {
        what: String,
        #[source]
        source: rusqlite::Error,
    },
    /// The embedded page assets do not fit together (a build defect, caught by the tests).
    #[error("the report template: {0}")]
    Template(String),
}

/// A JSON value as a page cell: strings and nested values longer than
/// [`MAX_CELL_CHARS`] characters are cut there (the whole value stays in the inventory), so
/// one huge field cannot blow up the page.
pub const MAX_CELL_CHARS: usize = 2000;

pub fn clip(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    fn cut(s: &str) -> Option<usize> {
        s.char_indices().nth(MAX_CELL_CHARS).map(|(i, _)| i)
    }
    match v {
        Value::String(s) => match cut(&s) {
            Some(i) => Value::String(format!(
                "{}… ({} characters in all)",
                &s[..i],
                s.chars().count()
            )),
            None => Value::String(s),
        },
        Value::Array(_) | Value::Object(_) => {
            let text = v.to_string();
            match cut(&text) {
                Some(i) => Value::String(format!(
                    "{}… ({} characters in all)",
                    &text[..i],
                    text.chars().count()
                )),
                None => v,
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_cells_are_cut_at_a_char_boundary() {
        assert_eq!(clip(json!("short")), json!("short"));
        assert_eq!(clip(json!([1, 2])), json!([1, 2]));
        let long = "é".repeat(MAX_CELL_CHARS + 5);
        let Value::String(s) = clip(json!(long)) else {
            panic!("a string")
        };
        assert!(s.starts_with(&"é".repeat(MAX_CELL_CHARS)));
        assert!(s.ends_with(&format!("… ({} characters in all)", MAX_CELL_CHARS + 5)));
        let nested = json!({"k": "x".repeat(MAX_CELL_CHARS)});
        let Value::String(s) = clip(nested) else {
            panic!("nested values that are too long become text")
        };
        assert!(s.starts_with("{\"k\":\"xxx"), "{s}");
    }
    use serde_json::Value;
}
