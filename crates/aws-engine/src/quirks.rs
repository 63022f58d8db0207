//! boto3's customizations that change what a caller sends or gets back, beyond the model
//! (botocore's `handlers.py`): without them "the same JSON as boto3" would not hold.

use serde_json::Value;

use super::model::{Operation, ServiceModel, ShapeRef, ShapeType};

/// What `before_call` changed, for `after_call` to undo in the response.
#[derive(Debug, Default, Clone, Copy)]
pub struct CallContext {
    /// S3 list operations: `EncodingType=url` was added by us, so keys come back encoded.
    pub s3_encoding_auto_set: bool,
}

/// Adjust params before serialization.
pub fn before_call(
    model: &ServiceModel,
    op: &Operation,
    params: &mut std::borrow::Cow<'_, Value>,
) -> CallContext {
    let mut ctx = CallContext::default();
    if model.name == "s3"
        && matches!(
            op.name.as_str(),
            "ListObjects" | "ListObjectsV2" | "ListObjectVersions"
        )
        && params.get("EncodingType").is_none()
    {
        if let Value::Object(p) = params.to_mut() {
            {
                p.insert("EncodingType".into(), Value::String("url".into()));
                ctx.s3_encoding_auto_set = true;
            }
        }
    }
    ctx
}

/// Adjust a parsed response as boto3 does.
pub fn after_call(model: &ServiceModel, op: &Operation, out: &mut Value, ctx: CallContext) {
    match (model.name.as_str(), op.name.as_str()) {
        ("iam", _) => {
            if let Some(r) = &op.output {
                decode_policies(model, r, out);
            }
        }
        ("ec2", "GetConsoleOutput") => {
            if let Some(Value::String(s)) = out.get("Output") {
                use base64::Engine as _;
                if let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(s.trim()) {
                    out["Output"] = Value::String(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
        }
        ("cloudformation", "GetTemplate") => {
            if let Some(Value::String(s)) = out.get("TemplateBody") {
                if let Ok(v) = serde_json::from_str::<Value>(s) {
                    out["TemplateBody"] = v;
                }
            }
        }
        ("s3", name)
            if ctx.s3_encoding_auto_set
                && out.get("EncodingType").and_then(Value::as_str) == Some("url") =>
        {
            let (top, nested): (&[&str], &[(&str, &str)]) = match name {
                "ListObjects" => (
                    &["Delimiter", "Marker", "NextMarker"],
                    &[("Contents", "Key"), ("CommonPrefixes", "Prefix")],
                ),
                "ListObjectsV2" => (
                    &["Delimiter", "Prefix", "StartAfter"],
                    &[("Contents", "Key"), ("CommonPrefixes", "Prefix")],
                ),
                "ListObjectVersions" => (
                    &["KeyMarker", "NextKeyMarker", "Prefix", "Delimiter"],
                    &[
                        ("Versions", "Key"),
                        ("DeleteMarkers", "Key"),
                        ("CommonPrefixes", "Prefix"),
                    ],
                ),
                _ => return,
            };
            for k in top {
                if let Some(Value::String(s)) = out.get_mut(*k) {
                    *s = url_unquote(s);
                }
            }
            for (list, key) in nested {
                for item in out
                    .get_mut(*list)
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                {
                    if let Some(Value::String(s)) = item.get_mut(*key) {
                        *s = url_unquote(s);
                    }
                }
            }
        }
        _ => {}
    }
}

/// S3 addresses DNS-compatible buckets as `bucket.s3.region.amazonaws.com/key`
/// (virtual-hosted style), as boto3 does against AWS; other names, and custom endpoints,
/// stay path-style.
pub fn s3_virtual_host(wire: &mut super::protocol::WireRequest, params: &Value) {
    let Some(bucket) = params.get("Bucket").and_then(Value::as_str) else {
        return;
    };
    let dns_ok = (3..=63).contains(&bucket.len())
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !bucket.starts_with('-')
        && !bucket.ends_with('-');
    let prefix = format!("/{bucket}");
    if !dns_ok || !wire.path.starts_with(&prefix) {
        return;
    }
    let rest = &wire.path[prefix.len()..];
    if !(rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')) {
        return;
    }
    wire.path = if rest.starts_with('/') {
        rest.to_string()
    } else {
        format!("/{rest}")
    };
    wire.host_prefix = Some(format!(
        "{bucket}.{}",
        wire.host_prefix.take().unwrap_or_default()
    ));
}

/// IAM returns policy documents URL-encoded; boto3 hands them out as parsed JSON. The
/// model marks them with the `policyDocumentType` shape.
fn decode_policies(model: &ServiceModel, r: &ShapeRef, v: &mut Value) {
    let Ok(shape) = model.shape(&r.shape) else {
        return;
    };
    match (shape.kind, v) {
        (ShapeType::Structure, Value::Object(obj)) => {
            for (name, member) in &shape.members {
                let Some(x) = obj.get_mut(name) else { continue };
                if member.shape == "policyDocumentType" {
                    if let Value::String(s) = x {
                        if let Ok(parsed) = serde_json::from_str::<Value>(&url_unquote(s)) {
                            *x = parsed;
                        }
                    }
                } else {
                    decode_policies(model, member, x);
                }
            }
        }
        (ShapeType::List, Value::Array(items)) => {
            if let Some(m) = &shape.member {
                for item in items {
                    decode_policies(model, m, item);
                }
            }
        }
        _ => {}
    }
}

/// Python's `urllib.parse.unquote`: `%XX` sequences decoded as UTF-8, `+` kept.
pub fn url_unquote(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_buckets_move_into_the_host_when_dns_compatible() {
        use crate::protocol::WireRequest;
        let mut w = WireRequest::new("GET", "/my-bucket/a/b.txt");
        s3_virtual_host(&mut w, &serde_json::json!({"Bucket": "my-bucket"}));
        assert_eq!(
            (w.path.as_str(), w.host_prefix.as_deref()),
            ("/a/b.txt", Some("my-bucket."))
        );
        let mut w = WireRequest::new("GET", "/my-bucket?list-type=2");
        s3_virtual_host(&mut w, &serde_json::json!({"Bucket": "my-bucket"}));
        assert_eq!(
            (w.path.as_str(), w.host_prefix.as_deref()),
            ("/?list-type=2", Some("my-bucket."))
        );
        let mut w = WireRequest::new("GET", "/My.Bucket/k");
        s3_virtual_host(&mut w, &serde_json::json!({"Bucket": "My.Bucket"}));
        assert_eq!((w.path.as_str(), w.host_prefix), ("/My.Bucket/k", None));
    }

    #[test]
    fn unquotes_like_python() {
        assert_eq!(url_unquote("a%20b%2Fc+d"), "a b/c+d");
        assert_eq!(url_unquote("%7B%22a%22%3A1%7D"), "{\"a\":1}");
    }
}
