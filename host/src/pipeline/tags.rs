//! AWS tags as a map: an item with a tag list (`Tags`, `TagList` or `TagSet`: a list of
//! `{Key, Value}`) gets `TagsMap` (`{"Name": "web", "env": "prod"}`) beside it, and `Name`
//! from the `Name` tag unless it has a `Name` already. The AWS list stays as it was; with
//! `--raw` nothing is added.

use aws_engine::schema::{NAME, TAGS_MAP, TAG_LISTS};
use serde_json::{Map, Value};

/// `[{"Key": k, "Value": v}, ...]` as `{k: v, ...}` (the last value of a repeated key
/// wins, as a parse of the map would keep it); `None` if it is not such a list.
pub fn tags_map(list: &Value) -> Option<Map<String, Value>> {
    let Value::Array(items) = list else {
        return None;
    };
    let mut map = Map::new();
    for item in items {
        let obj = item.as_object()?;
        let key = obj.get("Key")?.as_str()?;
        let value = obj.get("Value").cloned().unwrap_or(Value::Null);
        map.insert(key.to_string(), value);
    }
    Some(map)
}

/// Add `TagsMap` and `Name` to an item with a tag list (replacing a `TagsMap` it carried;
/// an existing `Name` is kept). The first of `Tags`, `TagList`, `TagSet` present counts.
pub fn enrich(obj: &mut Map<String, Value>) {
    let Some(map) = TAG_LISTS
        .iter()
        .find_map(|k| obj.get(*k))
        .and_then(tags_map)
    else {
        return;
    };
    let name = map.get(NAME).filter(|v| v.is_string()).cloned();
    obj.shift_remove(TAGS_MAP);
    obj.insert(TAGS_MAP.to_string(), Value::Object(map));
    if let Some(name) = name {
        if !obj.contains_key(NAME) {
            obj.insert(NAME.to_string(), name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tag_lists_and_only_tag_lists_become_maps() {
        let mut o = json!({"A": 1, "TagList": [{"Key": "Name", "Value": "db"}, {"Key": "k"}]});
        enrich(o.as_object_mut().unwrap());
        assert_eq!(
            o,
            json!({"A": 1, "TagList": [{"Key": "Name", "Value": "db"}, {"Key": "k"}],
                   "TagsMap": {"Name": "db", "k": null}, "Name": "db"})
        );
        let mut o = json!({"Tags": [{"Value": "no key"}]});
        enrich(o.as_object_mut().unwrap());
        assert_eq!(o, json!({"Tags": [{"Value": "no key"}]}));
        let mut o = json!({"Tags": {"a": "b"}});
        enrich(o.as_object_mut().unwrap());
        assert_eq!(o, json!({"Tags": {"a": "b"}}));
    }
}
