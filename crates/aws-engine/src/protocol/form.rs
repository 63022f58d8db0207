//! The form codec: boto3-style params → the flat `Name.1.Sub=value` pairs of the query and
//! ec2 protocols (botocore's `QuerySerializer` and `EC2Serializer`), and their
//! `application/x-www-form-urlencoded` text.

use serde_json::Value;

use super::shape::{scalar_text, too_deep, Resolved, MAX_DEPTH};
use crate::model::{ServiceModel, ShapeRef, ShapeType};

/// Flattens params into form pairs.
pub(crate) struct FormWriter<'m> {
    pub(crate) model: &'m ServiceModel,
    /// ec2's rules: `queryName` first, capitalized `locationName`, lists never wrapped.
    pub(crate) ec2: bool,
    pub(crate) out: Vec<(String, String)>,
}

impl FormWriter<'_> {
    /// botocore's `_get_serialized_name`; ec2 prefers `queryName`, else capitalizes
    /// `locationName`.
    fn serialized_name(&self, res: &Resolved<'_>, default: &str) -> String {
        if self.ec2 {
            if let Some(q) = &res.r.query_name {
                return q.clone();
            }
            if let Some(n) = res.location_name() {
                let mut c = n.chars();
                return match c.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                    None => String::new(),
                };
            }
            default.to_string()
        } else {
            res.location_name().unwrap_or(default).to_string()
        }
    }

    /// Add `v`, a value of `r`, under `prefix`.
    pub(crate) fn write(&mut self, r: &ShapeRef, v: &Value, prefix: &str) -> Result<(), String> {
        self.write_at(r, v, prefix, 0)
    }

    fn write_at(
        &mut self,
        r: &ShapeRef,
        v: &Value,
        prefix: &str,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(too_deep("the parameters", MAX_DEPTH).to_string());
        }
        let res = Resolved::new(self.model, r)?;
        let shape = res.shape;
        match shape.kind {
            ShapeType::Structure => {
                let obj = v.as_object().ok_or("expected an object")?;
                for (k, val) in obj {
                    if val.is_null() {
                        continue;
                    }
                    let member = shape
                        .members
                        .get(k)
                        .ok_or_else(|| format!("unknown member {k}"))?;
                    let mres = Resolved::new(self.model, member)?;
                    let name = self.serialized_name(&mres, k);
                    let p = if prefix.is_empty() {
                        name
                    } else {
                        format!("{prefix}.{name}")
                    };
                    self.write_at(member, val, &p, depth + 1)?;
                }
            }
            ShapeType::List => {
                let arr = v.as_array().ok_or("expected a list")?;
                let member = shape.member.as_ref().ok_or("list without member")?;
                if self.ec2 {
                    for (i, item) in arr.iter().enumerate() {
                        self.write_at(member, item, &format!("{prefix}.{}", i + 1), depth + 1)?;
                    }
                    return Ok(());
                }
                if arr.is_empty() {
                    // The query protocol sends an empty list as an empty value.
                    self.out.push((prefix.to_string(), String::new()));
                    return Ok(());
                }
                let mres = Resolved::new(self.model, member)?;
                let list_prefix = if res.flattened() {
                    match mres.location_name() {
                        Some(_) => {
                            // Replace the last part of the prefix with the member's name.
                            let name = self.serialized_name(&mres, "");
                            match prefix.rsplit_once('.') {
                                Some((head, _)) => format!("{head}.{name}"),
                                None => name,
                            }
                        }
                        None => prefix.to_string(),
                    }
                } else {
                    format!("{prefix}.{}", mres.location_name().unwrap_or("member"))
                };
                for (i, item) in arr.iter().enumerate() {
                    self.write_at(member, item, &format!("{list_prefix}.{}", i + 1), depth + 1)?;
                }
            }
            ShapeType::Map => {
                let obj = v.as_object().ok_or("expected an object")?;
                let key = shape.key.as_ref().ok_or("map without key")?;
                let value = shape.value.as_ref().ok_or("map without value")?;
                let full = if res.flattened() {
                    prefix.to_string()
                } else {
                    format!("{prefix}.entry")
                };
                let ksuf = self.serialized_name(&Resolved::new(self.model, key)?, "key");
                let vsuf = self.serialized_name(&Resolved::new(self.model, value)?, "value");
                for (i, (k, val)) in obj.iter().enumerate() {
                    self.write_at(
                        key,
                        &Value::String(k.clone()),
                        &format!("{full}.{}.{ksuf}", i + 1),
                        depth + 1,
                    )?;
                    self.write_at(value, val, &format!("{full}.{}.{vsuf}", i + 1), depth + 1)?;
                }
            }
            _ => {
                let text = scalar_text(shape.kind, res.timestamp_format(), v, "iso8601")?;
                self.out.push((prefix.to_string(), text));
            }
        }
        Ok(())
    }
}

/// `application/x-www-form-urlencoded` as botocore sends it (Python's `urlencode`:
/// `quote_plus`, so a space is `+`).
pub(crate) fn form_encode(pairs: &[(String, String)]) -> String {
    let mut s = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            s.push('&');
        }
        s.push_str(&quote_plus(k));
        s.push('=');
        s.push_str(&quote_plus(v));
    }
    s
}

fn quote_plus(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(char::from(b))
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_matches_python_urlencode() {
        let pairs = vec![
            ("Action".to_string(), "DescribeVpcs".to_string()),
            ("Filter.1.Name".to_string(), "tag:Name".to_string()),
            ("Filter.1.Value.1".to_string(), "a b/c*".to_string()),
        ];
        assert_eq!(
            form_encode(&pairs),
            "Action=DescribeVpcs&Filter.1.Name=tag%3AName&Filter.1.Value.1=a+b%2Fc%2A"
        );
    }
}
