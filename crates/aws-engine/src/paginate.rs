//! Pagination from paginators-1.json, as botocore's PageIterator does it: input/output
//! tokens, `more_results`, repeated-token detection, and `build_full_result` merging.

use serde_json::{Map, Value};

use super::model::Paginator;

/// Evaluate the small expression language the paginator models use: dotted paths,
/// `[-1]`/`[n]` indexes, and `a || b`.
pub fn search<'a>(expr: &str, v: &'a Value) -> Option<&'a Value> {
    for alt in expr.split("||") {
        if let Some(found) = search_path(alt.trim(), v) {
            if !is_falsy(found) {
                return Some(found);
            }
        }
    }
    None
}

fn is_falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(_) => false,
    }
}

fn search_path<'a>(path: &str, mut v: &'a Value) -> Option<&'a Value> {
    for seg in path.split('.') {
        let (name, idx) = match seg.find('[') {
            Some(p) => (&seg[..p], Some(seg[p + 1..].trim_end_matches(']'))),
            None => (seg, None),
        };
        if !name.is_empty() {
            v = v.get(name)?;
        }
        if let Some(i) = idx {
            let arr = v.as_array()?;
            let i: i64 = i.parse().ok()?;
            let i = if i < 0 { arr.len() as i64 + i } else { i };
            v = arr.get(usize::try_from(i).ok()?)?;
        }
    }
    Some(v)
}

fn set_path(target: &mut Map<String, Value>, path: &str, value: Value) {
    let mut segs = path.split('.').peekable();
    let mut cur = target;
    while let Some(seg) = segs.next() {
        if segs.peek().is_none() {
            cur.insert(seg.to_string(), value);
            return;
        }
        let entry = cur
            .entry(seg.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        let Value::Object(next) = entry else {
            return; // made an object just above
        };
        cur = next;
    }
}

/// The next request's token values, or `None` when the last page has been seen.
pub fn next_tokens(p: &Paginator, page: &Value) -> Option<Vec<(String, Option<Value>)>> {
    if let Some(more) = &p.more_results {
        if search(more, page).is_none_or(is_falsy) {
            return None;
        }
    }
    let tokens: Vec<(String, Option<Value>)> = p
        .output_token
        .iter()
        .zip(&p.input_token)
        .map(|(out, input)| {
            (
                input.clone(),
                search(out, page).filter(|v| !is_falsy(v)).cloned(),
            )
        })
        .collect();
    if tokens.iter().all(|(_, v)| v.is_none()) {
        None
    } else {
        Some(tokens)
    }
}

/// Merges pages as botocore's `build_full_result` does: result keys concatenated (numbers
/// summed, strings joined), non-aggregate keys from the first page.
#[derive(Debug)]
pub struct FullResult {
    result: Value,
    first: bool,
    non_aggregate: Map<String, Value>,
}

impl Default for FullResult {
    fn default() -> Self {
        Self::new()
    }
}

impl FullResult {
    /// An empty result.
    pub fn new() -> Self {
        FullResult {
            result: Value::Object(Map::new()),
            first: true,
            non_aggregate: Map::new(),
        }
    }

    /// Merge one page: result keys appended, the rest kept from the first page.
    pub fn add_page(&mut self, p: &Paginator, page: &Value) {
        if self.first {
            self.first = false;
            // botocore records every non-aggregate key, as null when the page lacks it.
            for key in &p.non_aggregate_keys {
                let v = search_path(key, page).cloned().unwrap_or(Value::Null);
                set_path(&mut self.non_aggregate, key, v);
            }
        }
        for key in &p.result_key {
            let Some(new) = search_path(key, page) else {
                continue;
            };
            if new.is_null() {
                continue;
            }
            let pointer = format!("/{}", key.replace('.', "/"));
            match (self.result.pointer_mut(&pointer), new) {
                (Some(Value::Array(a)), Value::Array(b)) => a.extend(b.iter().cloned()),
                (Some(Value::Number(a)), Value::Number(b)) => {
                    *a = match (a.as_i64(), b.as_i64()) {
                        (Some(x), Some(y)) => (x + y).into(),
                        _ => serde_json::Number::from_f64(
                            a.as_f64().unwrap_or(0.0) + b.as_f64().unwrap_or(0.0),
                        )
                        .unwrap_or_else(|| a.clone()),
                    }
                }
                (Some(Value::String(a)), Value::String(b)) => a.push_str(b),
                (Some(old), v) if old.is_null() => *old = v.clone(),
                (Some(_), _) => {}
                (None, v) => {
                    if let Value::Object(m) = &mut self.result {
                        set_path(m, key, v.clone());
                    }
                }
            }
        }
    }

    /// The merged result, as `build_full_result()` returns it.
    pub fn finish(mut self) -> Value {
        if let Value::Object(m) = &mut self.result {
            for (k, v) in self.non_aggregate {
                m.insert(k, v);
            }
        }
        self.result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pag(v: Value) -> Paginator {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn token_expressions() {
        let page =
            json!({"NextMarker": "", "Contents": [{"Key": "a"}, {"Key": "b"}], "D": {"N": "x"}});
        assert_eq!(
            search("NextMarker || Contents[-1].Key", &page),
            Some(&json!("b"))
        );
        assert_eq!(search("D.N", &page), Some(&json!("x")));
        assert_eq!(search("Missing", &page), None);
    }

    #[test]
    fn stops_when_tokens_are_empty_or_more_results_false() {
        let p = pag(
            json!({"input_token": "NextToken", "output_token": "NextToken", "result_key": "Vpcs"}),
        );
        assert!(next_tokens(&p, &json!({"Vpcs": []})).is_none());
        assert!(next_tokens(&p, &json!({"NextToken": ""})).is_none());
        assert_eq!(
            next_tokens(&p, &json!({"NextToken": "t"})).unwrap(),
            vec![("NextToken".to_string(), Some(json!("t")))]
        );
        let p = pag(
            json!({"input_token": "Marker", "output_token": "NextMarker", "more_results": "IsTruncated", "result_key": "Items"}),
        );
        assert!(next_tokens(&p, &json!({"IsTruncated": false, "NextMarker": "m"})).is_none());
    }

    #[test]
    fn full_result_concatenates_result_keys() {
        let p = pag(
            json!({"input_token": "NextToken", "output_token": "NextToken",
            "result_key": ["A.Items", "Count"], "non_aggregate_keys": ["Owner"]}),
        );
        let mut f = FullResult::new();
        f.add_page(
            &p,
            &json!({"A": {"Items": [1, 2]}, "Count": 2, "Owner": "me", "NextToken": "x"}),
        );
        f.add_page(
            &p,
            &json!({"A": {"Items": [3]}, "Count": 1, "Owner": "other"}),
        );
        assert_eq!(
            f.finish(),
            json!({"A": {"Items": [1, 2, 3]}, "Count": 3, "Owner": "me"})
        );
    }
}
