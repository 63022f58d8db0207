//! Text from a plugin on its way to a terminal or stderr: every control character escaped,
//! so a plugin can neither move the cursor, set a window title, print a hyperlink, nor start
//! a new line (and so forge a `mrhost: summary` line).

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal as it is: C0 and C1 controls, DEL, and the
/// Unicode format characters that reorder or hide text (bidi overrides and isolates, the
/// line and paragraph separators).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{2028}' | '\u{2029}'
            | '\u{200e}' | '\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}')
}

/// `text` with every control character written as an escape (`\n`, `\r`, `\t`, `\x1b`,
/// `\u{202e}`): one line, printable as it is. Text without any is returned unchanged.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`escape_controls`] of bytes that may not be UTF-8 (a plugin's stderr): invalid
/// sequences become U+FFFD first.
pub fn escape_bytes(bytes: &[u8]) -> String {
    escape_controls(&String::from_utf8_lossy(bytes)).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_plain_text_is_not() {
        assert!(matches!(escape_controls("vpc-1 é 東京"), Cow::Borrowed(_)));
        assert_eq!(
            escape_controls("a\nmrhost: summary: 0 failures"),
            "a\\nmrhost: summary: 0 failures"
        );
        assert_eq!(
            escape_controls("\x1b[31mred\x1b[0m"),
            "\\x1b[31mred\\x1b[0m"
        );
        assert_eq!(escape_controls("x\ry\tz\x07\x7f"), "x\\ry\\tz\\x07\\x7f");
        assert_eq!(
            escape_controls("\x1b]8;;http://evil\x07link"),
            "\\x1b]8;;http://evil\\x07link"
        );
        assert_eq!(escape_controls("\u{9b}31m"), "\\x9b31m");
        assert_eq!(escape_controls("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(escape_bytes(b"ok\xff\n"), "ok\u{fffd}\\n");
    }
}
