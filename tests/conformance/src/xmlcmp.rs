//! XML bodies compared as botocore's runner compares them (`ET.canonicalize(xml,
//! strip_text=True)`): element names as written, attributes (namespace declarations
//! included) in sorted order, every text node trimmed, empty text dropped.

use quick_xml::events::Event;
use quick_xml::Reader;

/// The canonical text of a document, or why it is not XML.
pub(crate) fn canonical(doc: &str) -> Result<String, String> {
    let mut reader = Reader::from_str(doc);
    let mut out = String::new();
    let mut open = 0usize;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) => {
                open += 1;
                out.push_str(&start(&e)?);
            }
            Event::Empty(e) => {
                out.push_str(&start(&e)?);
                out.push_str(&format!(
                    "</{}>",
                    String::from_utf8_lossy(e.name().as_ref())
                ));
            }
            Event::End(e) => {
                open = open.checked_sub(1).ok_or("unbalanced XML")?;
                out.push_str(&format!(
                    "</{}>",
                    String::from_utf8_lossy(e.name().as_ref())
                ));
            }
            Event::Text(t) => {
                let text = t.xml_content().map_err(|e| e.to_string())?;
                out.push_str(&escape(text.trim()));
            }
            Event::CData(t) => out.push_str(&escape(String::from_utf8_lossy(&t).trim())),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| e.to_string())? {
                    Some(c) => c.to_string(),
                    None => {
                        let name = r.decode().map_err(|e| e.to_string())?;
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .ok_or_else(|| format!("unknown entity {name}"))?
                            .to_string()
                    }
                };
                out.push_str(&escape(&c));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if open != 0 {
        return Err("truncated XML".into());
    }
    Ok(out)
}

fn start(e: &quick_xml::events::BytesStart<'_>) -> Result<String, String> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| e.to_string())?;
        let v = a.unescape_value().map_err(|e| e.to_string())?;
        attrs.push((
            String::from_utf8_lossy(a.key.as_ref()).into_owned(),
            v.into_owned(),
        ));
    }
    attrs.sort();
    let mut s = format!("<{}", String::from_utf8_lossy(e.name().as_ref()));
    for (k, v) in attrs {
        s.push_str(&format!(" {k}=\"{}\"", escape(&v)));
    }
    s.push('>');
    Ok(s)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
