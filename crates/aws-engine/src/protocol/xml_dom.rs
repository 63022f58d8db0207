//! Test-only: a small XML DOM and a walk over it driven by the output shape — the oracle
//! the streaming reader ([`super::xml`]) is compared against. Not part of the engine.

use quick_xml::events::Event;
use serde_json::{Map, Value};

use super::shape::{is_bound_in_response, scalar, Resolved};
use crate::model::{ServiceModel, Shape, ShapeRef, ShapeType};

/// One element: its local name (namespace prefix dropped, as botocore does), attributes by
/// their qualified name, child elements and its own text.
#[derive(Debug, Default, Clone)]
pub(crate) struct XmlNode {
    pub(crate) name: String,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<XmlNode>,
    pub(crate) text: String,
}

impl XmlNode {
    pub(crate) fn child(&self, name: &str) -> Option<&XmlNode> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn local(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    match s.rfind(':') {
        Some(p) => s[p + 1..].to_string(),
        None => s.into_owned(),
    }
}

/// Parse a whole document into its root element.
pub(crate) fn parse_document(bytes: &[u8]) -> Result<XmlNode, String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    let mut stack: Vec<XmlNode> = Vec::new();
    let mut root: Option<XmlNode> = None;
    let mut buf = Vec::new();
    let open = |e: &quick_xml::events::BytesStart<'_>| -> Result<XmlNode, String> {
        let mut node = XmlNode {
            name: local(e.name().as_ref()),
            ..Default::default()
        };
        for a in e.attributes() {
            let a = a.map_err(|e| e.to_string())?;
            let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
            let value = a.unescape_value().map_err(|e| e.to_string())?.into_owned();
            node.attrs.push((key, value));
        }
        Ok(node)
    };
    loop {
        let ev = reader
            .read_event_into(&mut buf)
            .map_err(|e| format!("malformed XML at byte {}: {e}", reader.error_position()))?;
        match ev {
            Event::Start(e) => stack.push(open(&e)?),
            Event::Empty(e) => {
                let node = open(&e)?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::End(_) => {
                let node = stack.pop().ok_or("unbalanced XML")?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text
                        .push_str(&t.xml_content().map_err(|e| e.to_string())?);
                }
            }
            Event::CData(t) => {
                if let Some(cur) = stack.last_mut() {
                    cur.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Event::GeneralRef(r) => {
                if let Some(cur) = stack.last_mut() {
                    if let Some(c) = r.resolve_char_ref().map_err(|e| e.to_string())? {
                        cur.text.push(c);
                    } else {
                        let name = r.decode().map_err(|e| e.to_string())?;
                        match quick_xml::escape::resolve_predefined_entity(&name) {
                            Some(v) => cur.text.push_str(v),
                            None => return Err(format!("unknown XML entity &{name};")),
                        }
                    }
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    if !stack.is_empty() {
        return Err("truncated XML document".into());
    }
    root.ok_or_else(|| "empty XML document".into())
}

pub(crate) struct XmlParser<'m> {
    pub(crate) model: &'m ServiceModel,
}

impl<'m> XmlParser<'m> {
    /// Parse `nodes` (one element, or the repeated siblings that share a tag) as `r`.
    pub(crate) fn parse(&self, r: &ShapeRef, nodes: &[&XmlNode]) -> Result<Value, String> {
        let res = Resolved::new(self.model, r)?;
        self.parse_resolved(&res, nodes)
    }

    fn parse_resolved(&self, res: &Resolved<'_>, nodes: &[&XmlNode]) -> Result<Value, String> {
        let shape = res.shape;
        let first = nodes.first().ok_or("no XML node to parse")?;
        match shape.kind {
            ShapeType::Structure => self.structure(shape, first),
            ShapeType::List => {
                let member = shape.member.as_ref().ok_or("list shape without member")?;
                let items: Vec<&XmlNode> = if res.flattened() {
                    nodes.to_vec()
                } else {
                    first.children.iter().collect()
                };
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    out.push(self.parse(member, &[item])?);
                }
                Ok(Value::Array(out))
            }
            ShapeType::Map => {
                let key = shape.key.as_ref().ok_or("map shape without key")?;
                let value = shape.value.as_ref().ok_or("map shape without value")?;
                let key_name = Resolved::new(self.model, key)?
                    .location_name()
                    .unwrap_or("key");
                let value_name = Resolved::new(self.model, value)?
                    .location_name()
                    .unwrap_or("value");
                let entries: Vec<&XmlNode> = if res.flattened() {
                    nodes.to_vec()
                } else {
                    first.children.iter().collect()
                };
                let mut out = Map::new();
                for entry in entries {
                    let mut k = None;
                    let mut v = Value::Null;
                    for part in &entry.children {
                        if part.name == key_name {
                            k = Some(self.parse(key, &[part])?);
                        } else if part.name == value_name {
                            v = self.parse(value, &[part])?;
                        }
                    }
                    if let Some(Value::String(k)) = k {
                        out.insert(k, v);
                    }
                }
                Ok(Value::Object(out))
            }
            _ => scalar(shape, res.timestamp_format(), &first.text),
        }
    }

    pub(crate) fn structure(&self, shape: &Shape, node: &XmlNode) -> Result<Value, String> {
        let mut out = Map::new();
        for (name, member) in &shape.members {
            if is_bound_in_response(self.model, member) {
                continue; // headers and status code are read by the REST layer
            }
            let res = Resolved::new(self.model, member)?;
            let xml_name = self.member_xml_name(name, &res);
            let matching: Vec<&XmlNode> = node
                .children
                .iter()
                .filter(|c| c.name == xml_name)
                .collect();
            if !matching.is_empty() {
                out.insert(name.clone(), self.parse_resolved(&res, &matching)?);
            } else if res.xml_attribute() {
                let loc = res.location_name().unwrap_or(name);
                if let Some((_, v)) = node
                    .attrs
                    .iter()
                    .find(|(k, _)| k == loc || (!loc.contains(':') && local(k.as_bytes()) == loc))
                {
                    out.insert(name.clone(), Value::String(v.clone()));
                }
            }
        }
        Ok(Value::Object(out))
    }

    /// botocore's `_member_key_name`: a flattened list is found under its member's name.
    fn member_xml_name<'a>(&self, name: &'a str, res: &Resolved<'a>) -> &'a str
    where
        'm: 'a,
    {
        if res.shape.kind == ShapeType::List && res.flattened() {
            if let Some(member) = &res.shape.member {
                if let Ok(m) = Resolved::new(self.model, member) {
                    if let Some(n) = m.location_name() {
                        return n;
                    }
                }
            }
        }
        res.location_name().unwrap_or(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dom_keeps_text_entities_and_local_names() {
        let doc = br#"<?xml version="1.0"?><a:Root xmlns:a="urn:x" id="7"><B>x &amp; y &#65;</B><C/><B><![CDATA[<z>]]></B></a:Root>"#;
        let root = parse_document(doc).unwrap();
        assert_eq!(root.name, "Root");
        assert_eq!(root.attrs[1], ("id".to_string(), "7".to_string()));
        assert_eq!(root.children[0].text, "x & y A");
        assert_eq!(root.children[2].text, "<z>");
        assert!(parse_document(b"<a><b></a>").is_err());
        assert!(parse_document(b"<a><b>").is_err());
    }
}
