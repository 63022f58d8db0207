//! Tagging an emitted resource without parsing it into a `Value`.
//!
//! `emit` must add `RequestRegion` and `RequestAccount` to the object a plugin sends (and
//! `TagsMap`/`Name` when it has an AWS tag list) and pass on what `serde_json` would write
//! for the tagged `Value`. When the text already is exactly what `serde_json::to_string`
//! writes for its own parse — compact, no duplicate keys, `serde_json`'s escapes and number
//! forms, which is what a plugin that serializes a `Value` sends — the keys can be spliced
//! in before the closing brace. A single scan checks that (linear in the text: duplicate
//! keys of a large object are found through a hash set); only the tag list itself, when
//! there is one, is parsed. Anything the scan is not sure about is left to the
//! parse-and-rewrite path, so the output never differs.

use std::collections::HashSet;

use aws_engine::schema::{NAME, TAGS_MAP, TAG_LISTS};
use serde_json::Value;

/// The deepest nesting accepted here; `serde_json` stops at 128 (the slow path reports it).
const MAX_DEPTH: usize = 100;

/// Above this many keys, an object's duplicates are looked for in a hash set.
const LINEAR_KEYS: usize = 16;

/// The host's two tags, as spliced: `"RequestRegion":"…","RequestAccount":"…"`.
pub fn tags_json(region: &str, account: &str) -> String {
    format!(
        "\"RequestRegion\":{},\"RequestAccount\":{}",
        serde_json::Value::from(region),
        serde_json::Value::from(account)
    )
}

/// `text` with `tags` (from [`tags_json`]) added as its last keys — after `TagsMap` and
/// `Name` when `enrich` and it has a tag list — when `text` is a JSON object in
/// `serde_json`'s canonical compact form that carries neither tag; otherwise `text` back
/// unchanged.
pub fn splice_tags(mut text: String, tags: &str, enrich: bool) -> Result<String, String> {
    let Some(top) = scan(text.as_bytes()) else {
        return Err(text);
    };
    if top.request_tag {
        return Err(text);
    }
    let mut extra = String::new();
    if enrich {
        if let Some((start, end)) = top.tag_list() {
            // A plugin's own TagsMap is replaced: the slow path does that.
            if top.tags_map {
                return Err(text);
            }
            let Ok(list) = serde_json::from_str::<Value>(&text[start..end]) else {
                return Err(text);
            };
            if let Some(map) = super::tags::tags_map(&list) {
                let name = (!top.name)
                    .then(|| map.get(NAME).filter(|v| v.is_string()).cloned())
                    .flatten();
                extra.push('"');
                extra.push_str(TAGS_MAP);
                extra.push_str("\":");
                extra.push_str(&Value::Object(map).to_string());
                if let Some(name) = name {
                    extra.push_str(",\"");
                    extra.push_str(NAME);
                    extra.push_str("\":");
                    extra.push_str(&name.to_string());
                }
                extra.push(',');
            }
        }
    }
    text.pop(); // the closing brace
    text.reserve(extra.len() + tags.len() + 2);
    if text.len() > 1 {
        text.push(',');
    }
    text.push_str(&extra);
    text.push_str(tags);
    text.push('}');
    Ok(text)
}

/// Whether `b` is one JSON object that `serde_json` would parse and write back byte for
/// byte, with no top-level `RequestRegion` or `RequestAccount` key.
pub fn is_canonical_object(b: &[u8]) -> bool {
    scan(b).is_some_and(|t| !t.request_tag)
}

/// What the scan saw at the top level.
#[derive(Default)]
struct TopLevel {
    /// `RequestRegion` or `RequestAccount`.
    request_tag: bool,
    name: bool,
    tags_map: bool,
    /// The value of each tag-list key present, by its place in [`TAG_LISTS`].
    tag_lists: [Option<(usize, usize)>; 3],
}

impl TopLevel {
    /// The tag list the slow path uses: the first of [`TAG_LISTS`] present.
    fn tag_list(&self) -> Option<(usize, usize)> {
        self.tag_lists.iter().flatten().next().copied()
    }
}

/// Scan `b` as one canonical JSON object; what its top level holds.
fn scan(b: &[u8]) -> Option<TopLevel> {
    if b.first() != Some(&b'{') {
        return None;
    }
    let mut s = Scan {
        b,
        i: 0,
        keys: Vec::new(),
        top: TopLevel::default(),
    };
    s.value(0)?;
    (s.i == b.len()).then_some(s.top)
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    /// Keys of the small objects being scanned (innermost last), to find duplicates.
    keys: Vec<&'a [u8]>,
    top: TopLevel,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => self.object(depth),
            b'[' => self.array(depth),
            b'"' => self.string().map(|_| ()),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.b
            .get(self.i..)?
            .starts_with(word)
            .then(|| self.i += word.len())
    }

    /// Note a top-level key.
    fn top_key(&mut self, key: &[u8]) {
        match key {
            b"RequestRegion" | b"RequestAccount" => self.top.request_tag = true,
            k if k == NAME.as_bytes() => self.top.name = true,
            k if k == TAGS_MAP.as_bytes() => self.top.tags_map = true,
            _ => {}
        }
    }

    fn object(&mut self, depth: usize) -> Option<()> {
        self.i += 1;
        let first_key = self.keys.len();
        // Past LINEAR_KEYS keys, this object's keys move to a set.
        let mut set: Option<HashSet<&'a [u8]>> = None;
        if self.eat(b'}').is_none() {
            loop {
                let key = self.string()?;
                match &mut set {
                    Some(set) => {
                        if !set.insert(key) {
                            return None; // a duplicate: serde_json would keep one
                        }
                    }
                    None => {
                        if self.keys.get(first_key..)?.contains(&key) {
                            return None;
                        }
                        self.keys.push(key);
                        if self.keys.len() - first_key > LINEAR_KEYS {
                            set = Some(self.keys.drain(first_key..).collect());
                        }
                    }
                }
                if depth == 0 {
                    self.top_key(key);
                }
                self.eat(b':')?;
                let start = self.i;
                self.value(depth + 1)?;
                if depth == 0 {
                    if let Some(n) = TAG_LISTS.iter().position(|t| t.as_bytes() == key) {
                        if let Some(slot) = self.top.tag_lists.get_mut(n) {
                            *slot = Some((start, self.i));
                        }
                    }
                }
                if self.eat(b',').is_none() {
                    self.eat(b'}')?;
                    break;
                }
            }
        }
        self.keys.truncate(first_key);
        Some(())
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        self.i += 1;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.value(depth + 1)?;
            if self.eat(b',').is_none() {
                return self.eat(b']');
            }
        }
    }

    /// A string with only the escapes serde_json writes; its raw bytes between the quotes.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            // Bytes other than '"', '\\' and controls stand for themselves (the input is a
            // &str, so multi-byte sequences are valid UTF-8).
            let rest = self.b.get(self.i..)?;
            let n = rest
                .iter()
                .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
            self.i += n;
            match *self.b.get(self.i)? {
                b'"' => {
                    let s = self.b.get(start..self.i)?;
                    self.i += 1;
                    return Some(s);
                }
                b'\\' => {
                    let esc = *self.b.get(self.i + 1)?;
                    match esc {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                        b'u' => {
                            // serde_json writes \u00XX (lower-case hex) for the controls
                            // that have no short form, and nothing else.
                            let hex = self.b.get(self.i + 2..self.i + 6)?;
                            let lower = |c: u8| c.is_ascii_digit() || (b'a'..=b'f').contains(&c);
                            if hex.first() != Some(&b'0')
                                || hex.get(1) != Some(&b'0')
                                || !hex.get(2..)?.iter().all(|&c| lower(c))
                            {
                                return None;
                            }
                            let v =
                                u8::from_str_radix(std::str::from_utf8(hex.get(2..)?).ok()?, 16)
                                    .ok()?;
                            if v >= 0x20 || matches!(v, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            self.i += 6;
                        }
                        _ => return None,
                    }
                }
                _ => return None, // a raw control character: invalid JSON
            }
        }
    }

    /// An integer serde_json keeps as an integer and writes back the same; any other
    /// number is accepted only if serde_json writes it back unchanged.
    fn number(&mut self) -> Option<()> {
        let start = self.i;
        let neg = self.eat(b'-').is_some();
        let digits_start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = self.b.get(digits_start..self.i)?;
        let is_int = !matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        if is_int {
            if digits.is_empty() || (digits[0] == b'0' && digits.len() > 1) {
                return None;
            }
            let n: u64 = std::str::from_utf8(digits).ok()?.parse().ok()?;
            // `-0` becomes a float (-0.0), and below i64::MIN too.
            return (!neg || (1..=1u64 << 63).contains(&n)).then_some(());
        }
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            self.i += 1;
        }
        let token = std::str::from_utf8(self.b.get(start..self.i)?).ok()?;
        let v: serde_json::Value = serde_json::from_str(token).ok()?;
        // The text must be the number exactly as serde_json writes it (comparing the Values
        // would accept `1.0` for `1.00`).
        #[allow(clippy::cmp_owned)]
        let canonical = v.is_number() && v.to_string() == token;
        canonical.then_some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// What emit's parse-and-rewrite path writes.
    fn slow(text: &str, region: &str, account: &str, enrich: bool) -> Option<String> {
        let mut v: Value = serde_json::from_str(text).ok()?;
        let o = v.as_object_mut()?;
        o.shift_remove("RequestRegion");
        o.shift_remove("RequestAccount");
        if enrich {
            crate::pipeline::tags::enrich(o);
        }
        o.insert("RequestRegion".into(), region.into());
        o.insert("RequestAccount".into(), account.into());
        Some(v.to_string())
    }

    /// Spliced (both with and without the tags map) exactly as the slow path writes it.
    fn check(text: &str) -> bool {
        let (region, account) = ("eu-west-1", "1234\"5");
        let tags = tags_json(region, account);
        let mut spliced = None;
        for enrich in [false, true] {
            let r = match splice_tags(text.to_string(), &tags, enrich) {
                Ok(fast) => {
                    assert_eq!(Some(fast), slow(text, region, account, enrich), "{text}");
                    true
                }
                Err(back) => {
                    assert_eq!(back, text);
                    false
                }
            };
            assert!(spliced.is_none_or(|s| s == r), "{text}");
            spliced = Some(r);
        }
        spliced == Some(true)
    }

    #[test]
    fn tag_lists_become_a_map_and_a_name() {
        let tags = tags_json("r", "a");
        let out = |t: &str, enrich: bool| splice_tags(t.to_string(), &tags, enrich).unwrap();
        let vpc =
            r#"{"VpcId":"v","Tags":[{"Key":"Name","Value":"web"},{"Key":"env","Value":"prod"}]}"#;
        assert_eq!(
            out(vpc, true),
            r#"{"VpcId":"v","Tags":[{"Key":"Name","Value":"web"},{"Key":"env","Value":"prod"}],"TagsMap":{"Name":"web","env":"prod"},"Name":"web","RequestRegion":"r","RequestAccount":"a"}"#
        );
        // --raw: as AWS returned it, scope tags aside.
        assert_eq!(
            out(vpc, false),
            r#"{"VpcId":"v","Tags":[{"Key":"Name","Value":"web"},{"Key":"env","Value":"prod"}],"RequestRegion":"r","RequestAccount":"a"}"#
        );
        // An item's own Name is never replaced; no Name tag, no Name.
        assert_eq!(
            out(
                r#"{"Name":"bucket","TagSet":[{"Key":"Name","Value":"x"}]}"#,
                true
            ),
            r#"{"Name":"bucket","TagSet":[{"Key":"Name","Value":"x"}],"TagsMap":{"Name":"x"},"RequestRegion":"r","RequestAccount":"a"}"#
        );
        assert_eq!(
            out(r#"{"TagList":[]}"#, true),
            r#"{"TagList":[],"TagsMap":{},"RequestRegion":"r","RequestAccount":"a"}"#
        );
        // Not a tag list: left alone.
        assert_eq!(
            out(r#"{"Tags":["a","b"]}"#, true),
            r#"{"Tags":["a","b"],"RequestRegion":"r","RequestAccount":"a"}"#
        );
        for t in [
            vpc,
            r#"{"Tags":[{"Key":"a","Value":"1"}],"TagList":[{"Key":"b","Value":"2"}]}"#,
            r#"{"TagSet":[{"Key":"a","Value":"1"}],"Tags":[{"Key":"b","Value":"2"}]}"#,
            r#"{"Tags":[{"Key":"Name","Value":null}]}"#,
            r#"{"Tags":[{"Key":"a","Value":"1"},{"Key":"a","Value":"2"}]}"#,
            r#"{"x":{"Tags":[{"Key":"a","Value":"1"}]}}"#,
        ] {
            assert!(check(t), "should splice: {t}");
        }
        // A plugin's own TagsMap next to a tag list: rewritten by the slow path.
        let own = r#"{"Tags":[{"Key":"a","Value":"1"}],"TagsMap":{"stale":true}}"#;
        assert!(splice_tags(own.to_string(), &tags, true).is_err());
        assert_eq!(
            splice_tags(own.to_string(), &tags, false).ok(),
            slow(own, "r", "a", false)
        );
    }

    #[test]
    fn a_huge_object_is_scanned_in_linear_time() {
        let n = 200_000;
        let mut text = String::from("{");
        for i in 0..n {
            if i > 0 {
                text.push(',');
            }
            text.push_str(&format!("\"k{i}\":{i}"));
        }
        text.push('}');
        let started = std::time::Instant::now();
        assert!(is_canonical_object(text.as_bytes()));
        let dup = format!("{},\"k7\":1}}", &text[..text.len() - 1]);
        assert!(!is_canonical_object(dup.as_bytes()));
        // Quadratic would be ~2e10 comparisons: minutes. Linear is milliseconds.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn canonical_objects_are_spliced_exactly_as_rewritten() {
        for t in [
            r#"{}"#,
            r#"{"a":1}"#,
            r#"{"VpcId":"vpc-1","IsDefault":false,"Tags":[{"Key":"a","Value":"x & y"}],"N":null,"T":true}"#,
            r#"{"a":-9223372036854775808,"b":18446744073709551615,"c":0,"d":-1}"#,
            r#"{"a":1.5,"b":-0.25,"c":1e+16,"d":1.0}"#,
            r#"{"s":"quote\" slash\\ nl\n tab\t ctl\u0001 \u001f é 💥 /"}"#,
            r#"{"a":{"a":{"a":[]}},"b":[{"a":1},{"a":2}]}"#,
            r#"{"x":{"RequestRegion":"nested is fine"}}"#,
        ] {
            assert!(check(t), "should splice: {t}");
        }
    }

    #[test]
    fn anything_else_is_left_to_the_slow_path() {
        for t in [
            r#" {"a":1}"#,
            r#"{"a":1} "#,
            r#"{"a": 1}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"x":{"b":1,"b":2}}"#,
            r#"{"RequestRegion":"mine"}"#,
            r#"{"a":1,"RequestAccount":"mine"}"#,
            r#"{"Request\u0052egion":"x"}"#,
            r#"{"a":"\/"}"#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":"\u000A"}"#,
            r#"{"a":"\u001F"}"#,
            r#"{"a":-0}"#,
            r#"{"a":01}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":-9223372036854775809}"#,
            r#"{"a":1.50}"#,
            r#"{"a":1E5}"#,
            r#"{"a":1e5}"#,
            r#"{"a":tru}"#,
            r#"{"a":1,}"#,
            r#"{"a":[1,]}"#,
            "{\"a\":\"raw\ttab\"}",
            r#"[1]"#,
            r#""s""#,
            r#"{"a":1"#,
            r#"{"a""#,
            "",
        ] {
            assert!(!check(t), "should not splice: {t}");
        }
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(150), "]".repeat(150));
        assert!(!check(&deep));
    }

    #[test]
    fn whatever_serde_json_writes_is_canonical() {
        let v = serde_json::json!({
            "Name": "a\u{7f}b\u{0}c\u{8}\u{c}\"\\/",
            "Big": u64::MAX, "Small": i64::MIN, "F": 0.1, "G": 1e300, "H": -2.5e-7,
            "List": [1, "two", {"three": [3.0]}, null, false],
            "Empty": {}, "E2": [],
        });
        assert!(check(&v.to_string()));
    }
}
