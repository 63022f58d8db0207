//! The XML reader: response bodies and error bodies (ec2, query, rest-xml) read in one
//! pass, driven by the shape — quick-xml events go straight into `serde_json::Value`s,
//! with no DOM in between — producing what botocore's XML parsers produce.
//!
//! It reads as building a DOM and walking it would (the tests keep such a DOM as the
//! oracle): the same values, and for a bad body the same error — a malformed document is
//! reported as such (whatever the shape walk would have said), and of several problems
//! with the values, the one a walk in model order meets first.
//!
//! Per element the work is: the local name matched as bytes against the member names of
//! the enclosing structure (worked out once per shape and kept in the shape, see
//! [`XmlTable`]), the value built, and nothing else kept. Text between elements is checked
//! (it could be malformed) but never copied. Elements nested deeper than
//! [`MAX_XML_DEPTH`] end the read with an error instead of growing the stack.

use std::borrow::Cow;

use quick_xml::events::{BytesRef, BytesStart, BytesText, Event};
use quick_xml::Reader;
use serde_json::{Map, Value};

use super::shape::{is_bound_in_response, scalar, too_deep, ReadError, Resolved, MAX_XML_DEPTH};
use crate::model::{ServiceModel, Shape, ShapeRef, ShapeType};

/// A reference to a shape as the XML reader needs it: the target (by index into the
/// model) and the traits botocore merges from the reference over the shape.
#[derive(Debug, Clone)]
pub(crate) struct XmlRef {
    target: usize,
    flattened: bool,
    timestamp_format: Option<String>,
}

impl XmlRef {
    fn new(model: &ServiceModel, r: &ShapeRef) -> Result<XmlRef, String> {
        let res = Resolved::new(model, r)?;
        Ok(XmlRef {
            target: model
                .shape_index(&r.shape)
                .ok_or("shape resolved but has no index")?,
            flattened: res.flattened(),
            timestamp_format: res.timestamp_format().map(str::to_string),
        })
    }
}

#[derive(Debug)]
struct XmlMember {
    /// The output key (the model's member name).
    key: String,
    /// The element name it is read from (botocore's `_member_key_name`).
    xml_name: String,
    /// The target, or the error the DOM walk raises on reaching this member.
    target: Result<XmlRef, String>,
    /// How repeated sibling elements of this name are read.
    how: MemberKind,
    /// For an `xmlAttribute` member: the attribute name.
    attr: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MemberKind {
    /// The first element of the name is the value; later ones are ignored.
    First,
    /// A flattened list: every element of the name is an item.
    FlatList,
    /// A flattened map: every element of the name is an entry.
    FlatMap,
}

#[derive(Debug)]
struct MapInfo {
    key: XmlRef,
    value: XmlRef,
    key_name: String,
    value_name: String,
}

/// How XML is read into one shape, worked out on first use and kept in the shape.
#[derive(Debug)]
pub(crate) struct XmlTable {
    /// Structure members in model order (members bound to headers or the status left out).
    members: Vec<XmlMember>,
    /// For each member, the index of the next member that reads the same element name
    /// (rare: it makes the reader go over that element once per member).
    same_name_next: Vec<Option<usize>>,
    /// A list's member: `None` when the shape has none, `Some(Err)` when it does not resolve.
    list_member: Option<Result<XmlRef, String>>,
    /// A map's key and value, or the error the DOM walk raises on a map.
    map: Result<MapInfo, String>,
}

impl XmlTable {
    fn build(model: &ServiceModel, shape: &Shape) -> XmlTable {
        let mut members = Vec::new();
        if shape.kind == ShapeType::Structure {
            for (name, member) in &shape.members {
                if is_bound_in_response(model, member) {
                    continue;
                }
                let (target, xml_name, how, attr) = match Resolved::new(model, member) {
                    Err(e) => (Err(e), String::new(), MemberKind::First, None),
                    Ok(res) => {
                        let xml_name = member_xml_name(model, name, &res).to_string();
                        let how = match res.shape.kind {
                            ShapeType::List if res.flattened() => MemberKind::FlatList,
                            ShapeType::Map if res.flattened() => MemberKind::FlatMap,
                            _ => MemberKind::First,
                        };
                        let attr = res
                            .xml_attribute()
                            .then(|| res.location_name().unwrap_or(name).to_string());
                        (XmlRef::new(model, member), xml_name, how, attr)
                    }
                };
                members.push(XmlMember {
                    key: name.clone(),
                    xml_name,
                    target,
                    how,
                    attr,
                });
            }
        }
        let same_name_next = members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                m.target.as_ref().ok()?;
                members
                    .iter()
                    .enumerate()
                    .skip(i + 1)
                    .find(|(_, n)| n.target.is_ok() && n.xml_name == m.xml_name)
                    .map(|(j, _)| j)
            })
            .collect();
        let list_member = shape.member.as_ref().map(|m| XmlRef::new(model, m));
        let map = (|| {
            let key = shape.key.as_ref().ok_or("map shape without key")?;
            let value = shape.value.as_ref().ok_or("map shape without value")?;
            let key_name = Resolved::new(model, key)?
                .location_name()
                .unwrap_or("key")
                .to_string();
            let value_name = Resolved::new(model, value)?
                .location_name()
                .unwrap_or("value")
                .to_string();
            Ok(MapInfo {
                key: XmlRef::new(model, key)?,
                value: XmlRef::new(model, value)?,
                key_name,
                value_name,
            })
        })();
        XmlTable {
            members,
            same_name_next,
            list_member,
            map,
        }
    }

    /// The first member read from elements named `name`.
    fn find(&self, name: &[u8]) -> Option<usize> {
        self.members
            .iter()
            .position(|m| m.target.is_ok() && m.xml_name.as_bytes() == name)
    }
}

/// botocore's `_member_key_name`: a flattened list is found under its member's name.
fn member_xml_name<'a>(model: &'a ServiceModel, name: &'a str, res: &Resolved<'a>) -> &'a str {
    if res.shape.kind == ShapeType::List && res.flattened() {
        if let Some(member) = &res.shape.member {
            if let Ok(m) = Resolved::new(model, member) {
                if let Some(n) = m.location_name() {
                    return n;
                }
            }
        }
    }
    res.location_name().unwrap_or(name)
}

/// What a body is read as.
pub(crate) enum Root<'m, 'w> {
    /// The root element is this structure; with `wrapper`, a child of the root of that name
    /// (query's `<OperationResult>`) is read instead when there is one.
    Structure {
        shape: &'m Shape,
        wrapper: Option<&'w str>,
    },
    /// The root element is a value of this reference (a rest-xml payload member).
    Ref(&'w ShapeRef),
    /// A modeled error: the structure is read from the error element botocore's
    /// `_get_error_root` picks — `<Response><Errors><Error>` (ec2), `<ErrorResponse><Error>`
    /// (query, rest-xml), else the root itself.
    Error { shape: &'m Shape, ec2: bool },
}

/// A malformed document: reported as is, whatever else is wrong.
struct Malformed(ReadError);

type Read<T> = Result<T, Malformed>;
/// A value, or why the shape walk rejects it (the element was consumed either way).
type Walked<T> = Result<T, String>;

/// Read a whole body as `root`. A malformed document is reported as such; otherwise the
/// first problem a walk in model order meets.
pub(crate) fn parse_body<'m>(
    model: &'m ServiceModel,
    root: Root<'m, '_>,
    bytes: &[u8],
) -> Result<Value, ReadError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    let mut s = Stream {
        reader,
        model: Some(model),
        depth: 0,
    };
    let root_ref = match &root {
        Root::Ref(r) => Some(XmlRef::new(model, r)),
        Root::Structure { .. } | Root::Error { .. } => None,
    };
    // As the DOM keeps the last top-level element as the root, the last one read wins.
    let mut result: Option<Walked<Value>> = None;
    let run = (|| -> Read<()> {
        loop {
            match s.next()? {
                Event::Start(e) => {
                    check_attrs(&e)?;
                    result = Some(s.root(&root, root_ref.as_ref(), &e, false)?);
                }
                Event::Empty(e) => {
                    check_attrs(&e)?;
                    result = Some(s.root(&root, root_ref.as_ref(), &e, true)?);
                }
                Event::End(_) => return Err(Malformed("unbalanced XML".into())),
                Event::Eof => return Ok(()),
                _ => {}
            }
        }
    })();
    run.map_err(|Malformed(m)| m)?;
    Ok(result.ok_or_else(|| "empty XML document".to_string())??)
}

struct Stream<'a, 'm> {
    reader: Reader<&'a [u8]>,
    /// The model shape-driven reads follow (none for [`read_tree`]).
    model: Option<&'m ServiceModel>,
    /// Elements open at the reader's position.
    depth: usize,
}

fn local(name: &[u8]) -> &[u8] {
    match name.iter().rposition(|b| *b == b':') {
        Some(p) => name.get(p + 1..).unwrap_or_default(),
        None => name,
    }
}

/// The checks the DOM builder makes on every element's attributes.
fn check_attrs(e: &BytesStart<'_>) -> Read<()> {
    if e.attributes_raw().iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    for a in e.attributes() {
        let a = a.map_err(|e| Malformed(e.to_string().into()))?;
        a.unescape_value()
            .map_err(|e| Malformed(e.to_string().into()))?;
    }
    Ok(())
}

fn text_piece<'a>(t: &BytesText<'a>) -> Read<Cow<'a, str>> {
    t.xml_content().map_err(|e| Malformed(e.to_string().into()))
}

enum RefPiece {
    Char(char),
    Entity(&'static str),
}

fn ref_piece(r: &BytesRef<'_>) -> Read<RefPiece> {
    if let Some(c) = r
        .resolve_char_ref()
        .map_err(|e| Malformed(e.to_string().into()))?
    {
        return Ok(RefPiece::Char(c));
    }
    let name = r.decode().map_err(|e| Malformed(e.to_string().into()))?;
    match quick_xml::escape::resolve_predefined_entity(&name) {
        Some(v) => Ok(RefPiece::Entity(v)),
        None => Err(Malformed(format!("unknown XML entity &{name};").into())),
    }
}

/// A child element of the one being read, or the end of it.
enum Child<'a> {
    Element(BytesStart<'a>, bool),
    End,
}

impl<'a, 'm> Stream<'a, 'm> {
    fn next(&mut self) -> Read<Event<'a>> {
        let ev = self.reader.read_event().map_err(|e| {
            Malformed(
                format!(
                    "malformed XML at byte {}: {e}",
                    self.reader.error_position()
                )
                .into(),
            )
        })?;
        match &ev {
            Event::Start(_) => {
                self.depth += 1;
                if self.depth > MAX_XML_DEPTH {
                    return Err(Malformed(too_deep("the XML body", MAX_XML_DEPTH)));
                }
            }
            Event::End(_) => self.depth = self.depth.saturating_sub(1),
            _ => {}
        }
        Ok(ev)
    }

    /// The next child element (its attributes checked) or the end of the current element;
    /// text in between is checked and dropped.
    fn child(&mut self) -> Read<Child<'a>> {
        loop {
            match self.next()? {
                Event::Start(e) => {
                    check_attrs(&e)?;
                    return Ok(Child::Element(e, false));
                }
                Event::Empty(e) => {
                    check_attrs(&e)?;
                    return Ok(Child::Element(e, true));
                }
                Event::End(_) => return Ok(Child::End),
                // Only decoding can fail, and ASCII always decodes (indentation is ASCII).
                Event::Text(t) if !t.is_ascii() => {
                    text_piece(&t)?;
                }
                Event::GeneralRef(r) => {
                    ref_piece(&r)?;
                }
                Event::Eof => return Err(Malformed("truncated XML document".into())),
                _ => {}
            }
        }
    }

    /// Consume the rest of the current element (checking it as the DOM builder would).
    fn skip_rest(&mut self) -> Read<()> {
        while let Child::Element(_, empty) = self.child()? {
            if !empty {
                self.skip_rest()?;
            }
        }
        Ok(())
    }

    fn skip(&mut self, empty: bool) -> Read<()> {
        if empty {
            Ok(())
        } else {
            self.skip_rest()
        }
    }

    /// The shape an [`XmlRef`] targets (resolved when the ref was made, so this only fails
    /// on a model that changed underneath).
    fn shape(&self, i: usize) -> Read<&'m Shape> {
        self.model()?
            .shape_at(i)
            .map_err(|e| Malformed(e.to_string().into()))
    }

    fn model(&self) -> Read<&'m ServiceModel> {
        self.model
            .ok_or_else(|| Malformed("no model to read the XML with".into()))
    }

    fn table(&self, shape: &'m Shape) -> Read<&'m XmlTable> {
        let model = self.model()?;
        shape
            .codec_cache
            .get_or_init(|| XmlTable::build(model, shape))
            .ok_or_else(|| Malformed("a shape's codec cache holds another codec's data".into()))
    }

    /// The rest of an element as botocore's `_build_name_to_xml_node` + `_replace_nodes`
    /// see it: its own text, and its child elements by local name (an element with
    /// children as an object, one without as its text; of repeated names the first).
    fn tree(&mut self, empty: bool) -> Read<(String, Map<String, Value>, bool)> {
        let mut text = String::new();
        let mut children = Map::new();
        let mut any = false;
        if empty {
            return Ok((text, children, any));
        }
        loop {
            match self.next()? {
                Event::Text(t) => text.push_str(&text_piece(&t)?),
                Event::CData(t) => text.push_str(&String::from_utf8_lossy(&t)),
                Event::GeneralRef(r) => match ref_piece(&r)? {
                    RefPiece::Char(c) => text.push(c),
                    RefPiece::Entity(v) => text.push_str(v),
                },
                Event::Start(c) => {
                    check_attrs(&c)?;
                    any = true;
                    let name = String::from_utf8_lossy(local(c.name().into_inner())).into_owned();
                    let (t, kids, has_kids) = self.tree(false)?;
                    let v = if has_kids {
                        Value::Object(kids)
                    } else {
                        Value::String(t)
                    };
                    children.entry(name).or_insert(v);
                }
                Event::Empty(c) => {
                    check_attrs(&c)?;
                    any = true;
                    let name = String::from_utf8_lossy(local(c.name().into_inner())).into_owned();
                    children.entry(name).or_insert(Value::String(String::new()));
                }
                Event::End(_) => return Ok((text, children, any)),
                Event::Eof => return Err(Malformed("truncated XML document".into())),
                _ => {}
            }
        }
    }

    fn root(
        &mut self,
        root: &Root<'m, '_>,
        root_ref: Option<&Result<XmlRef, String>>,
        e: &BytesStart<'a>,
        empty: bool,
    ) -> Read<Walked<Value>> {
        match (root, root_ref) {
            (Root::Structure { shape, wrapper }, _) => self.structure(shape, e, empty, *wrapper),
            (Root::Error { shape, ec2 }, _) => {
                let path: &[&[u8]] = if *ec2 {
                    &[b"Errors", b"Error"]
                } else if local(e.name().into_inner()) == b"ErrorResponse" {
                    &[b"Error"]
                } else {
                    &[]
                };
                if path.is_empty() || empty {
                    return self.structure(shape, e, empty, None);
                }
                let saved = (self.reader.clone(), self.depth);
                if let Some(v) = self.within(path, shape)? {
                    return Ok(v);
                }
                (self.reader, self.depth) = saved;
                self.structure(shape, e, empty, None)
            }
            (Root::Ref(_), Some(Ok(r))) => self.element(r, e, empty),
            (Root::Ref(_), Some(Err(m))) => {
                self.skip(empty)?;
                Ok(Err(m.clone()))
            }
            (Root::Ref(_), None) => {
                self.skip(empty)?;
                Ok(Err("a payload root without its reference".into()))
            }
        }
    }

    /// Inside an element: the first descendant along `path` (element names, the first
    /// match at each level) read as the structure `shape`, the rest of the element consumed.
    /// `None` (the element consumed) when there is no such descendant.
    fn within(&mut self, path: &[&[u8]], shape: &'m Shape) -> Read<Option<Walked<Value>>> {
        let Some((first, rest)) = path.split_first() else {
            return Ok(None);
        };
        while let Child::Element(c, c_empty) = self.child()? {
            if local(c.name().into_inner()) != *first {
                self.skip(c_empty)?;
                continue;
            }
            let found = if rest.is_empty() {
                Some(self.structure(shape, &c, c_empty, None)?)
            } else if c_empty {
                None
            } else {
                self.within(rest, shape)?
            };
            if found.is_some() {
                self.skip_rest()?;
                return Ok(found);
            }
        }
        Ok(None)
    }

    /// One element (start tag read) as a value of `r`, consumed through its end tag.
    fn element(&mut self, r: &XmlRef, e: &BytesStart<'a>, empty: bool) -> Read<Walked<Value>> {
        let shape = self.shape(r.target)?;
        match shape.kind {
            ShapeType::Structure => self.structure(shape, e, empty, None),
            // One element of a flattened list or map is one item or entry.
            ShapeType::List if r.flattened => match &self.table(shape)?.list_member {
                None => {
                    self.skip(empty)?;
                    Ok(Err("list shape without member".into()))
                }
                Some(Err(m)) => {
                    self.skip(empty)?;
                    Ok(Err(m.clone()))
                }
                Some(Ok(m)) => Ok(self.element(m, e, empty)?.map(|v| Value::Array(vec![v]))),
            },
            ShapeType::List => self.list(shape, empty),
            ShapeType::Map => {
                let info = match &self.table(shape)?.map {
                    Ok(info) => info,
                    Err(m) => {
                        self.skip(empty)?;
                        return Ok(Err(m.clone()));
                    }
                };
                let mut out = Map::new();
                let done = if r.flattened {
                    self.map_entry(info, empty, &mut out)?
                } else {
                    self.map_entries(info, empty, &mut out)?
                };
                Ok(done.map(|()| Value::Object(out)))
            }
            _ => {
                let text = self.text(empty)?;
                Ok(scalar(shape, r.timestamp_format.as_deref(), &text))
            }
        }
    }

    /// The element's own text (child elements skipped), as the DOM keeps it.
    fn text(&mut self, empty: bool) -> Read<Cow<'a, str>> {
        let mut text: Cow<'a, str> = Cow::Borrowed("");
        if empty {
            return Ok(text);
        }
        let push = |text: &mut Cow<'a, str>, piece: Cow<'a, str>| {
            if text.is_empty() {
                *text = piece;
            } else {
                text.to_mut().push_str(&piece);
            }
        };
        loop {
            match self.next()? {
                Event::Text(t) => push(&mut text, text_piece(&t)?),
                Event::CData(t) => push(
                    &mut text,
                    Cow::Owned(String::from_utf8_lossy(&t).into_owned()),
                ),
                Event::GeneralRef(r) => match ref_piece(&r)? {
                    RefPiece::Char(c) => text.to_mut().push(c),
                    RefPiece::Entity(v) => text.to_mut().push_str(v),
                },
                Event::Start(c) => {
                    check_attrs(&c)?;
                    self.skip_rest()?;
                }
                Event::Empty(c) => check_attrs(&c)?,
                Event::End(_) => return Ok(text),
                Event::Eof => return Err(Malformed("truncated XML document".into())),
                _ => {}
            }
        }
    }

    /// A non-flattened list: every child element is an item, whatever its name.
    fn list(&mut self, shape: &'m Shape, empty: bool) -> Read<Walked<Value>> {
        let member = match &self.table(shape)?.list_member {
            None => {
                self.skip(empty)?;
                return Ok(Err("list shape without member".into()));
            }
            Some(m) => m,
        };
        let mut out = Vec::new();
        if empty {
            return Ok(Ok(Value::Array(out)));
        }
        while let Child::Element(c, c_empty) = self.child()? {
            let item = match member {
                Ok(m) => self.element(m, &c, c_empty)?,
                Err(m) => {
                    self.skip(c_empty)?;
                    Err(m.clone())
                }
            };
            match item {
                Ok(v) => out.push(v),
                Err(m) => {
                    self.skip_rest()?;
                    return Ok(Err(m));
                }
            }
        }
        Ok(Ok(Value::Array(out)))
    }

    /// A non-flattened map: every child element is an entry.
    fn map_entries(
        &mut self,
        info: &'m MapInfo,
        empty: bool,
        out: &mut Map<String, Value>,
    ) -> Read<Walked<()>> {
        if empty {
            return Ok(Ok(()));
        }
        while let Child::Element(_, c_empty) = self.child()? {
            if let Err(m) = self.map_entry(info, c_empty, out)? {
                self.skip_rest()?;
                return Ok(Err(m));
            }
        }
        Ok(Ok(()))
    }

    /// One map entry: its key and value children (the last of each counts).
    fn map_entry(
        &mut self,
        info: &'m MapInfo,
        empty: bool,
        out: &mut Map<String, Value>,
    ) -> Read<Walked<()>> {
        let mut k = None;
        let mut v = Value::Null;
        if !empty {
            while let Child::Element(c, c_empty) = self.child()? {
                let name = local(c.name().into_inner());
                let part = if name == info.key_name.as_bytes() {
                    self.element(&info.key, &c, c_empty)?.map(|x| k = Some(x))
                } else if name == info.value_name.as_bytes() {
                    self.element(&info.value, &c, c_empty)?.map(|x| v = x)
                } else {
                    self.skip(c_empty)?;
                    Ok(())
                };
                if let Err(m) = part {
                    self.skip_rest()?;
                    return Ok(Err(m));
                }
            }
        }
        if let Some(Value::String(k)) = k {
            out.insert(k, v);
        }
        Ok(Ok(()))
    }

    /// A structure: members in model order, each from the child elements of its name.
    fn structure(
        &mut self,
        shape: &'m Shape,
        e: &BytesStart<'a>,
        empty: bool,
        wrapper: Option<&str>,
    ) -> Read<Walked<Value>> {
        let table = self.table(shape)?;
        let mut slots: Vec<Slot> = Vec::new();
        slots.resize_with(table.members.len(), || Slot::Absent);
        let mut wrapped: Option<Walked<Value>> = None;
        // A union's child element names (botocore checks exactly one is set).
        let mut union_tags: Vec<String> = Vec::new();
        if !empty {
            while let Child::Element(c, c_empty) = self.child()? {
                let name = local(c.name().into_inner());
                if shape.union && union_tags.len() < 2 {
                    let tag = String::from_utf8_lossy(name).into_owned();
                    if tag != "__type" && !union_tags.contains(&tag) {
                        union_tags.push(tag);
                    }
                }
                if let Some(w) = wrapper {
                    if wrapped.is_none() && name == w.as_bytes() {
                        wrapped = Some(self.structure(shape, &c, c_empty, None)?);
                        continue;
                    }
                }
                let Some(mut i) = table.find(name) else {
                    self.skip(c_empty)?;
                    continue;
                };
                // Members sharing an element name each read it: all but the last from a
                // copy of the reader.
                // (`i` and `j` index `members`, which `slots` has one entry per.)
                while let Some(j) = table.same_name_next.get(i).copied().flatten() {
                    let saved = (self.reader.clone(), self.depth);
                    if let (Some(m), Some(slot)) = (table.members.get(i), slots.get_mut(i)) {
                        self.member(m, slot, &c, c_empty)?;
                    }
                    (self.reader, self.depth) = saved;
                    i = j;
                }
                match (table.members.get(i), slots.get_mut(i)) {
                    (Some(m), Some(slot)) => self.member(m, slot, &c, c_empty)?,
                    _ => self.skip(c_empty)?,
                }
            }
        }
        if let Some(w) = wrapped {
            return Ok(w);
        }
        if shape.union {
            let [tag] = union_tags.as_slice() else {
                return Ok(Err(
                    "Invalid service response: a union must have one and only one member set."
                        .into(),
                ));
            };
            let model = self.model()?;
            let known = shape
                .members
                .iter()
                .any(|(name, m)| super::shape::wire_name(model, name, m) == tag);
            if !known {
                return Ok(Ok(super::shape::sdk_unknown_member(tag)));
            }
        }
        // Room for the members present, not every member the model has: an EC2 item
        // carries a few of its shape's dozens, and a page holds a thousand items.
        let present = slots.iter().filter(|s| !matches!(s, Slot::Absent)).count();
        let mut out = Map::with_capacity(present);
        for (m, slot) in table.members.iter().zip(slots) {
            if let Err(msg) = &m.target {
                return Ok(Err(msg.clone()));
            }
            match slot {
                Slot::Absent => {
                    if let Some(loc) = &m.attr {
                        if let Some(v) = attribute(e, loc) {
                            out.insert(m.key.clone(), Value::String(v));
                        }
                    }
                }
                Slot::Value(v) => {
                    out.insert(m.key.clone(), v);
                }
                Slot::Items(items) => {
                    out.insert(m.key.clone(), Value::Array(items));
                }
                Slot::Entries(entries) => {
                    out.insert(m.key.clone(), Value::Object(entries));
                }
                Slot::Failed(msg) => return Ok(Err(msg)),
            }
        }
        Ok(Ok(Value::Object(out)))
    }

    /// One child element for one member.
    fn member(
        &mut self,
        m: &'m XmlMember,
        slot: &mut Slot,
        c: &BytesStart<'a>,
        empty: bool,
    ) -> Read<()> {
        let Ok(r) = &m.target else {
            return self.skip(empty);
        };
        let got: Walked<()> = match m.how {
            _ if matches!(slot, Slot::Failed(_)) => return self.skip(empty),
            MemberKind::First => {
                if !matches!(slot, Slot::Absent) {
                    return self.skip(empty);
                }
                self.element(r, c, empty)?.map(|v| *slot = Slot::Value(v))
            }
            MemberKind::FlatList => match &self.table(self.shape(r.target)?)?.list_member {
                None => {
                    self.skip(empty)?;
                    Err("list shape without member".to_string())
                }
                Some(Err(msg)) => {
                    self.skip(empty)?;
                    Err(msg.clone())
                }
                Some(Ok(item)) => self.element(item, c, empty)?.map(|v| {
                    if !matches!(slot, Slot::Items(_)) {
                        *slot = Slot::Items(Vec::new());
                    }
                    if let Slot::Items(items) = slot {
                        items.push(v);
                    }
                }),
            },
            MemberKind::FlatMap => match &self.table(self.shape(r.target)?)?.map {
                Err(msg) => {
                    self.skip(empty)?;
                    Err(msg.clone())
                }
                Ok(info) => {
                    if !matches!(slot, Slot::Entries(_)) {
                        *slot = Slot::Entries(Map::new());
                    }
                    match slot {
                        Slot::Entries(entries) => self.map_entry(info, empty, entries)?,
                        _ => Ok(()),
                    }
                }
            },
        };
        if let Err(msg) = got {
            *slot = Slot::Failed(msg);
        }
        Ok(())
    }
}

/// What a structure has read for one member so far.
enum Slot {
    Absent,
    Value(Value),
    Items(Vec<Value>),
    Entries(Map<String, Value>),
    Failed(String),
}

/// A whole document as botocore's error parsers see it (see [`read_tree`]).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct XmlTree {
    /// The root element's local name.
    pub(crate) root: String,
    /// The root element's own text.
    pub(crate) text: String,
    /// The root's child elements by local name: objects for elements with children,
    /// text for the others.
    pub(crate) children: Map<String, Value>,
}

/// A document read without a shape, for error bodies: the root's name, text and children
/// (see [`XmlTree`]). Malformed or too deeply nested documents are errors.
pub(crate) fn read_tree(bytes: &[u8]) -> Result<XmlTree, ReadError> {
    let mut reader = Reader::from_reader(bytes);
    reader.config_mut().trim_text(false);
    let mut s = Stream {
        reader,
        model: None,
        depth: 0,
    };
    let mut result = None;
    let run = (|| -> Read<()> {
        loop {
            match s.next()? {
                Event::Start(e) => {
                    check_attrs(&e)?;
                    let root = String::from_utf8_lossy(local(e.name().into_inner())).into_owned();
                    let (text, children, _) = s.tree(false)?;
                    result = Some(XmlTree {
                        root,
                        text,
                        children,
                    });
                }
                Event::Empty(e) => {
                    check_attrs(&e)?;
                    let root = String::from_utf8_lossy(local(e.name().into_inner())).into_owned();
                    result = Some(XmlTree {
                        root,
                        text: String::new(),
                        children: Map::new(),
                    });
                }
                Event::End(_) => return Err(Malformed("unbalanced XML".into())),
                Event::Eof => return Ok(()),
                _ => {}
            }
        }
    })();
    run.map_err(|Malformed(m)| m)?;
    result.ok_or_else(|| "empty XML document".into())
}

/// The local name of a document's first element, read no further (`None` when the
/// document has no element before something malformed).
pub(crate) fn root_name(bytes: &[u8]) -> Option<String> {
    let mut reader = Reader::from_reader(bytes);
    loop {
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) => {
                return Some(String::from_utf8_lossy(local(e.name().into_inner())).into_owned())
            }
            Event::Eof | Event::End(_) => return None,
            _ => {}
        }
    }
}

/// An `xmlAttribute` member's value, matched as the DOM walk matches it.
fn attribute(e: &BytesStart<'_>, loc: &str) -> Option<String> {
    for a in e.attributes().flatten() {
        let key = String::from_utf8_lossy(a.key.as_ref());
        let local_key = match key.rfind(':') {
            Some(p) => &key[p + 1..],
            None => &key,
        };
        if key == loc || (!loc.contains(':') && local_key == loc) {
            return a.unescape_value().ok().map(Cow::into_owned);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::xml_dom::{parse_document, XmlParser};
    use serde_json::json;

    /// What the DOM path (`parse_document`, then the `XmlParser` walk) makes of a body.
    fn dom(model: &ServiceModel, root: &Root<'_, '_>, bytes: &[u8]) -> Result<Value, String> {
        let doc = parse_document(bytes)?;
        let parser = XmlParser { model };
        match root {
            Root::Structure { shape, wrapper } => {
                let start = wrapper.and_then(|w| doc.child(w)).unwrap_or(&doc);
                parser.structure(shape, start)
            }
            Root::Ref(r) => parser.parse(r, &[&doc]),
            Root::Error { shape, ec2 } => {
                let start = if *ec2 {
                    doc.child("Errors").and_then(|e| e.child("Error"))
                } else if doc.name == "ErrorResponse" {
                    doc.child("Error")
                } else {
                    None
                };
                parser.structure(shape, start.unwrap_or(&doc))
            }
        }
    }

    fn same(model: &ServiceModel, root: Root<'_, '_>, bytes: &[u8]) {
        let want = dom(model, &root, bytes);
        let got = parse_body(model, root, bytes).map_err(|e| e.to_string());
        assert_eq!(got, want, "body: {}", String::from_utf8_lossy(bytes));
    }

    fn test_model() -> ServiceModel {
        let service = json!({
            "metadata": {"apiVersion": "2020-01-01", "protocol": "query"},
            "operations": {},
            "shapes": {
                "Out": {"type": "structure", "members": {
                    "Name": {"shape": "Str"},
                    "Count": {"shape": "Int"},
                    "Ratio": {"shape": "Dbl"},
                    "On": {"shape": "Bool"},
                    "When": {"shape": "Time"},
                    "Data": {"shape": "Blob"},
                    "Items": {"shape": "StrList"},
                    "Renamed": {"shape": "StrList", "locationName": "renamedSet"},
                    "Flat": {"shape": "FlatList"},
                    "FlatNamed": {"shape": "NamedFlatList", "flattened": true},
                    "Inner": {"shape": "Out"},
                    "Kids": {"shape": "OutList"},
                    "Tags": {"shape": "TagMap"},
                    "FlatTags": {"shape": "NamedMap", "flattened": true},
                    "Id": {"shape": "Str", "xmlAttribute": true, "locationName": "id"},
                    "Ns": {"shape": "Str", "xmlAttribute": true, "locationName": "xsi:type"},
                    "Again": {"shape": "Str", "locationName": "Name"},
                    "Header": {"shape": "Str", "location": "header", "locationName": "x-h"}
                }},
                "Broken": {"type": "structure", "members": {
                    "Name": {"shape": "Str"},
                    "Gone": {"shape": "Missing"},
                    "Count": {"shape": "Int"}
                }},
                "Str": {"type": "string"},
                "Int": {"type": "integer"},
                "Dbl": {"type": "double"},
                "Bool": {"type": "boolean"},
                "Time": {"type": "timestamp"},
                "Blob": {"type": "blob"},
                "StrList": {"type": "list", "member": {"shape": "Str"}},
                "FlatList": {"type": "list", "member": {"shape": "Int"}, "flattened": true},
                "NamedFlatList": {"type": "list", "member": {"shape": "Str", "locationName": "Named"}},
                "OutList": {"type": "list", "member": {"shape": "Out", "locationName": "item"}},
                "TagMap": {"type": "map", "key": {"shape": "Str"}, "value": {"shape": "Int"}},
                "NamedMap": {"type": "map", "key": {"shape": "Str", "locationName": "K"},
                             "value": {"shape": "Str", "locationName": "V"}},
                "NoMember": {"type": "list"},
                "Holder": {"type": "structure", "members": {"L": {"shape": "NoMember"}}}
            }
        });
        ServiceModel::from_json("t", service, json!({}), "test".into()).unwrap()
    }

    const DOCS: &[&str] = &[
        "<Out><Name>a &amp; b &#65;<![CDATA[<c>]]></Name><Count> 7 </Count></Out>",
        "<?xml version=\"1.0\"?>\n<x:Out xmlns:x=\"urn:x\" id=\"i&lt;1\" xsi:type=\"T\">\n  <x:Name>n</x:Name>\n</x:Out>",
        "<Out><Name>first</Name><Name>second</Name><Count>1</Count><Count>bad</Count></Out>",
        "<Out><Count>bad</Count><Ratio>nope</Ratio></Out>",
        "<Out><Ratio>nope</Ratio><Count>bad</Count></Out>",
        "<Out><Ratio>1.5</Ratio><On>true</On><When>2024-05-01T10:00:00Z</When><Data>aGk=</Data></Out>",
        "<Out><Data>!!</Data></Out>",
        "<Out><Items><member>a</member><other>b</other><member/></Items><renamedSet><i>x</i></renamedSet></Out>",
        "<Out><Flat>1</Flat><Name>n</Name><Flat>2</Flat><Flat>x</Flat><Flat>4</Flat></Out>",
        "<Out><Named>a</Named><FlatNamed>not me</FlatNamed><Named>b</Named></Out>",
        "<Out><Inner><Name>in</Name><Inner><Count>3</Count></Inner></Inner><Kids><item><Name>k1</Name></item><item><Count>z</Count></item></Kids></Out>",
        "<Out><Tags><entry><key>a</key><value>1</value></entry><entry><value>2</value></entry><entry><key>a</key><value>3</value><key>b</key></entry></Tags></Out>",
        "<Out><Tags><entry><key>a</key><value>x</value></entry></Tags></Out>",
        "<Out><FlatTags><K>a</K><V>1</V></FlatTags><Name>n</Name><FlatTags><K>b</K></FlatTags><FlatTags><V>no key</V></FlatTags></Out>",
        "<Out><Name>text<b>skipped</b> more</Name><Count/><Items/><Inner/><Tags/></Out>",
        "<Out/>",
        "<Out><Name/></Out>",
        "<Out><Name>a</Name></Out><Out><Name>second root</Name></Out>",
        "<Out><Name>a</Name>",
        "<Out><Name>a</Out>",
        "</Out>",
        "",
        "   ",
        "<!-- only a comment -->",
        "<Out><Name>&bogus;</Name></Out>",
        "<Out><Unknown>&bogus;</Unknown></Out>",
        "<Out><Unknown a=\"&bogus;\"/></Out>",
        "<Out a=\"1\" a=\"2\"><Name>x</Name></Out>",
        "<Out><Count>bad</Count><Unknown>&bogus;</Unknown></Out>",
        "<Out><Count>bad</Count><Name>unterminated",
        "<Out><OutResult><Name>wrapped</Name></OutResult><Name>root</Name></Out>",
        "<Out><Name>root</Name><Count>bad</Count><OutResult><Name>wrapped</Name></OutResult><OutResult><Name>2nd</Name></OutResult></Out>",
        "<Out><OutResult id=\"w\"><Count>bad</Count></OutResult></Out>",
        "<Out>\r\n<Name>cr\r\nlf\rx</Name>\n</Out>",
        "<Out><Name>caf\u{e9} \u{2028}</Name></Out>",
    ];

    #[test]
    fn same_as_the_dom_walk() {
        let m = test_model();
        let out = m.shape("Out").unwrap();
        let broken = m.shape("Broken").unwrap();
        let holder = m.shape("Holder").unwrap();
        let refs: Vec<ShapeRef> = ["Out", "StrList", "FlatList", "TagMap", "Int", "Missing"]
            .iter()
            .map(|s| ShapeRef {
                shape: s.to_string(),
                ..Default::default()
            })
            .chain([ShapeRef {
                shape: "NamedFlatList".into(),
                flattened: true,
                ..Default::default()
            }])
            .collect();
        for doc in DOCS {
            let b = doc.as_bytes();
            for wrapper in [None, Some("OutResult")] {
                same(
                    &m,
                    Root::Structure {
                        shape: out,
                        wrapper,
                    },
                    b,
                );
            }
            same(
                &m,
                Root::Structure {
                    shape: broken,
                    wrapper: None,
                },
                b,
            );
            same(
                &m,
                Root::Structure {
                    shape: holder,
                    wrapper: None,
                },
                b,
            );
            for r in &refs {
                same(&m, Root::Ref(r), b);
            }
        }
    }

    #[test]
    fn same_as_the_dom_walk_on_mangled_documents() {
        use rand::{Rng, SeedableRng};
        let m = test_model();
        let out = m.shape("Out").unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..3000 {
            let mut doc: Vec<u8> = DOCS[rng.random_range(0..DOCS.len())].as_bytes().to_vec();
            for _ in 0..rng.random_range(1..4) {
                if doc.is_empty() {
                    break;
                }
                let i = rng.random_range(0..doc.len());
                match rng.random_range(0..4) {
                    0 => {
                        doc.remove(i);
                    }
                    1 => doc.truncate(i),
                    2 => {
                        let j = rng.random_range(i..doc.len());
                        let piece = doc[i..=j].to_vec();
                        doc.splice(j + 1..j + 1, piece);
                    }
                    _ => doc[i] = b"<>/&;ab1 x"[rng.random_range(0..10)],
                }
            }
            same(
                &m,
                Root::Structure {
                    shape: out,
                    wrapper: Some("OutResult"),
                },
                &doc,
            );
        }
    }

    /// Every XML response of the protocol vectors (when present beside the repo), as they
    /// are and mangled, reads the same as through the DOM.
    #[test]
    fn same_as_the_dom_walk_on_the_protocol_vectors() {
        use rand::{Rng, SeedableRng};
        let dir = std::env::var_os("MRHOST_PROTOCOL_TESTS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/protocol-tests")
            });
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut bodies = 0;
        for proto in ["ec2", "query", "rest-xml"] {
            let Ok(text) = std::fs::read_to_string(dir.join(format!("output/{proto}.json"))) else {
                eprintln!("SKIPPED: no {proto} vectors in {}", dir.display());
                continue;
            };
            let suites: Vec<Value> = serde_json::from_str(&text).unwrap();
            for suite in &suites {
                for case in suite["cases"].as_array().into_iter().flatten() {
                    let given = &case["given"];
                    let mut metadata = suite["metadata"].clone();
                    metadata["apiVersion"] = json!("2020-01-01");
                    let name = given["name"].as_str().unwrap_or("Op");
                    let service = json!({"metadata": metadata, "operations": {name: given},
                                         "shapes": suite["shapes"]});
                    let Ok(model) = ServiceModel::from_json("v", service, json!({}), "v".into())
                    else {
                        continue;
                    };
                    let op = model.operations.values().next().unwrap();
                    let body = case["response"]["body"].as_str().unwrap_or_default();
                    let Some(output) = &op.output else { continue };
                    if body.trim().is_empty() {
                        continue;
                    }
                    let shape = model.shape(&output.shape).unwrap();
                    let wrapper = output
                        .result_wrapper
                        .clone()
                        .unwrap_or_else(|| format!("{}Result", op.name));
                    let payload = shape.payload.as_ref().and_then(|p| shape.members.get(p));
                    let check = |bytes: &[u8]| match (proto, payload) {
                        ("rest-xml", Some(member)) => same(&model, Root::Ref(member), bytes),
                        ("query", _) => same(
                            &model,
                            Root::Structure {
                                shape,
                                wrapper: Some(&wrapper),
                            },
                            bytes,
                        ),
                        _ => same(
                            &model,
                            Root::Structure {
                                shape,
                                wrapper: None,
                            },
                            bytes,
                        ),
                    };
                    check(body.as_bytes());
                    bodies += 1;
                    for _ in 0..20 {
                        let mut doc = body.as_bytes().to_vec();
                        let i = rng.random_range(0..doc.len());
                        match rng.random_range(0..3) {
                            0 => {
                                doc.remove(i);
                            }
                            1 => {
                                let j = rng.random_range(i..doc.len());
                                let piece = doc[i..=j].to_vec();
                                doc.splice(j + 1..j + 1, piece);
                            }
                            _ => doc[i] = b"<>/&;ab1 x"[rng.random_range(0..10)],
                        }
                        check(&doc);
                    }
                }
            }
        }
        eprintln!("{bodies} vector bodies compared");
    }
}
