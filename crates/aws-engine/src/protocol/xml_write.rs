//! The XML writer: boto3-style params → an XML body, as botocore's `RestXMLSerializer`
//! writes it (element names from `locationName`, `xmlNamespace` on the element whose shape
//! or reference carries it, `xmlAttribute` members as attributes, flattened lists and maps).

use serde_json::Value;

use super::shape::{scalar_text, too_deep, Resolved, MAX_DEPTH};
use crate::model::{ServiceModel, ShapeRef, ShapeType, XmlNamespace};

/// boto3-style params → XML text.
pub(crate) struct XmlWriter<'m> {
    pub(crate) model: &'m ServiceModel,
}

pub(crate) fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn escape_attr(s: &str) -> String {
    escape_text(s)
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        .replace('\t', "&#09;")
}

/// The `xmlns` attribute botocore's `_add_xml_namespace` writes.
fn ns_attr(ns: Option<&XmlNamespace>) -> String {
    match ns {
        None => String::new(),
        Some(XmlNamespace::Uri(u)) => format!(" xmlns=\"{}\"", escape_attr(u)),
        Some(XmlNamespace::Full {
            prefix: Some(p),
            uri,
        }) if !p.is_empty() => {
            format!(" xmlns:{p}=\"{}\"", escape_attr(uri))
        }
        Some(XmlNamespace::Full { uri, .. }) => format!(" xmlns=\"{}\"", escape_attr(uri)),
    }
}

impl XmlWriter<'_> {
    /// `v` as the element `name` (botocore's root: the reference's `locationName`).
    pub(crate) fn write(
        &self,
        r: &ShapeRef,
        v: &Value,
        name: &str,
        out: &mut String,
    ) -> Result<(), String> {
        self.write_at(r, v, name, out, 0)
    }

    fn write_at(
        &self,
        r: &ShapeRef,
        v: &Value,
        name: &str,
        out: &mut String,
        depth: usize,
    ) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(too_deep("the parameters", MAX_DEPTH).to_string());
        }
        let res = Resolved::new(self.model, r)?;
        let shape = res.shape;
        let ns = ns_attr(res.xml_namespace());
        match shape.kind {
            ShapeType::Structure => {
                let obj = v.as_object().ok_or("expected an object")?;
                let mut attrs = String::new();
                let mut inner = String::new();
                for (k, val) in obj {
                    if val.is_null() {
                        continue;
                    }
                    let member = shape
                        .members
                        .get(k)
                        .ok_or_else(|| format!("unknown member {k}"))?;
                    let mres = Resolved::new(self.model, member)?;
                    let mname = mres.location_name().unwrap_or(k);
                    if mres.xml_attribute() {
                        let kind = self
                            .model
                            .shape(&member.shape)
                            .map_err(|e| e.to_string())?
                            .kind;
                        let text = scalar_text(kind, None, val, "iso8601")?;
                        attrs.push_str(&format!(" {mname}=\"{}\"", escape_attr(&text)));
                        continue;
                    }
                    self.write_at(member, val, mname, &mut inner, depth + 1)?;
                }
                out.push_str(&format!("<{name}{ns}{attrs}>{inner}</{name}>"));
            }
            ShapeType::List => {
                let member = shape.member.as_ref().ok_or("list without member")?;
                let items = v.as_array().ok_or("expected a list")?;
                if res.flattened() {
                    for item in items {
                        self.write_at(member, item, name, out, depth + 1)?;
                    }
                } else {
                    let element = Resolved::new(self.model, member)?
                        .location_name()
                        .unwrap_or("member");
                    out.push_str(&format!("<{name}{ns}>"));
                    for item in items {
                        self.write_at(member, item, element, out, depth + 1)?;
                    }
                    out.push_str(&format!("</{name}>"));
                }
            }
            ShapeType::Map => {
                let key = shape.key.as_ref().ok_or("map without key")?;
                let value = shape.value.as_ref().ok_or("map without value")?;
                let kname = Resolved::new(self.model, key)?
                    .location_name()
                    .unwrap_or("key");
                let vname = Resolved::new(self.model, value)?
                    .location_name()
                    .unwrap_or("value");
                let obj = v.as_object().ok_or("expected an object")?;
                let flat = res.flattened();
                if !flat {
                    out.push_str(&format!("<{name}{ns}>"));
                }
                for (k, x) in obj {
                    let entry = if flat { name } else { "entry" };
                    out.push_str(&format!("<{entry}>"));
                    self.write_at(key, &Value::String(k.clone()), kname, out, depth + 1)?;
                    self.write_at(value, x, vname, out, depth + 1)?;
                    out.push_str(&format!("</{entry}>"));
                }
                if !flat {
                    out.push_str(&format!("</{name}>"));
                }
            }
            kind => {
                let text = scalar_text(kind, res.timestamp_format(), v, "iso8601")?;
                out.push_str(&format!("<{name}{ns}>{}</{name}>", escape_text(&text)));
            }
        }
        Ok(())
    }
}
