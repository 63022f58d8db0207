//! One unit's resources between the fetch and the commit: in memory up to a limit, then
//! in an unlinked temporary file, so memory stays bounded however large a unit is and a
//! killed process leaves nothing behind.

use std::borrow::Cow;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Cursor, Seek, Write};

use super::schema::{Prepared, Reference};

/// Bytes a unit keeps in memory before it spills to a file; a unit this large is rare.
/// Finished units wait for the writer (a channel and a batch of 64 each): at the former
/// 1 MiB apiece those could hold 128 MiB, half the 256 MiB the 1,000-account sync is
/// allowed; at 256 KiB, 32 MiB.
pub const MEMORY_LIMIT: usize = 256 << 10;

/// Prepared resources as JSON lines.
pub struct UnitBuffer {
    mem: Vec<u8>,
    file: Option<BufWriter<File>>,
    limit: usize,
    pub count: u64,
}

/// A temporary file nobody else can open: created, then unlinked at once.
fn anonymous_file() -> io::Result<File> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::var_os("MRHOST_SPILL_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let path = dir.join(format!(
        "mrhost-unit-{}-{}.ndjson",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(f)
}

impl Default for UnitBuffer {
    fn default() -> Self {
        UnitBuffer::new(MEMORY_LIMIT)
    }
}

impl UnitBuffer {
    pub fn new(limit: usize) -> Self {
        UnitBuffer {
            mem: Vec::new(),
            file: None,
            limit,
            count: 0,
        }
    }

    /// One line: the id as a JSON string, the hash, the tags as compact JSON (or nothing),
    /// the references as `[[field, type, id], …]` (or nothing) and the item's compact JSON,
    /// tab-separated (compact JSON holds no raw tab or newline).
    fn encode(out: &mut Vec<u8>, p: &Prepared) -> io::Result<()> {
        serde_json::to_writer(&mut *out, &p.id)?;
        out.push(b'\t');
        out.extend_from_slice(p.hash.as_bytes());
        out.push(b'\t');
        if let Some(t) = &p.tags {
            serde_json::to_writer(&mut *out, t)?;
        }
        out.push(b'\t');
        if !p.refs.is_empty() {
            let refs: Vec<[&str; 3]> = p
                .refs
                .iter()
                .map(|r| [r.field.as_str(), r.to_type.as_str(), r.to_id.as_str()])
                .collect();
            serde_json::to_writer(&mut *out, &refs)?;
        }
        out.push(b'\t');
        out.extend_from_slice(p.json.as_bytes());
        out.push(b'\n');
        Ok(())
    }

    pub fn push(&mut self, p: &Prepared) -> io::Result<()> {
        self.count += 1;
        if let Some(f) = &mut self.file {
            let mut line = Vec::with_capacity(p.json.len() + 128);
            Self::encode(&mut line, p)?;
            return f.write_all(&line);
        }
        Self::encode(&mut self.mem, p)?;
        if self.mem.len() > self.limit {
            let mut f = BufWriter::with_capacity(64 << 10, anonymous_file()?);
            f.write_all(&self.mem)?;
            self.mem = Vec::new();
            self.file = Some(f);
        }
        Ok(())
    }

    /// The rows, ready to be read back (from the start).
    pub fn finish(self) -> io::Result<UnitRows> {
        let reader: Box<dyn BufRead + Send> = match self.file {
            Some(f) => {
                let mut f = f.into_inner().map_err(|e| e.into_error())?;
                f.rewind()?;
                Box::new(BufReader::with_capacity(64 << 10, f))
            }
            None => Box::new(Cursor::new(self.mem)),
        };
        Ok(UnitRows {
            reader,
            line: String::new(),
            count: self.count,
        })
    }
}

/// A finished unit's rows, read once in order.
pub struct UnitRows {
    reader: Box<dyn BufRead + Send>,
    /// The line [`UnitRows::next_raw`] lends from, reused row after row.
    line: String,
    pub count: u64,
}

/// One buffered row borrowed from its line: what a writer binds as it stands, with
/// nothing parsed that it does not need (the single SQLite writer is the sync's
/// bottleneck, so every allocation saved there is wall time).
pub struct RawRow<'a> {
    pub id: Cow<'a, str>,
    pub hash: &'a str,
    /// The tags' compact JSON, as [`Prepared::tags`] serializes.
    pub tags: Option<&'a str>,
    pub refs: Vec<Reference>,
    /// The item's compact JSON.
    pub json: &'a str,
}

impl UnitRows {
    /// The next row; `None` at the end.
    pub fn next_row(&mut self) -> Option<io::Result<Prepared>> {
        Some(self.next_raw()?.and_then(|r| {
            let tags = match r.tags {
                None => None,
                Some(t) => Some(serde_json::from_str(t).map_err(invalid)?),
            };
            Ok(Prepared {
                id: r.id.into_owned(),
                hash: r.hash.to_string(),
                tags,
                json: r.json.to_string(),
                refs: r.refs,
            })
        }))
    }

    /// The next row, borrowed until the next call; `None` at the end.
    pub fn next_raw(&mut self) -> Option<io::Result<RawRow<'_>>> {
        self.line.clear();
        match self.reader.read_line(&mut self.line) {
            Ok(0) => None,
            Ok(_) => Some(decode(self.line.trim_end_matches('\n'))),
            Err(e) => Some(Err(e)),
        }
    }
}

fn invalid(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// A JSON string, borrowed from its text when it has no escapes.
pub struct JsonStr<'a>(pub Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for JsonStr<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = JsonStr<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Owned(v.to_string())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(JsonStr(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

fn decode(line: &str) -> io::Result<RawRow<'_>> {
    let mut parts = line.splitn(5, '\t');
    let (Some(id), Some(hash), Some(tags), Some(refs), Some(json)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(invalid("a buffered row lost its fields"));
    };
    let JsonStr(id) = serde_json::from_str(id).map_err(invalid)?;
    let refs = if refs.is_empty() {
        Vec::new()
    } else {
        serde_json::from_str::<Vec<[String; 3]>>(refs)
            .map_err(invalid)?
            .into_iter()
            .map(|[field, to_type, to_id]| Reference {
                field,
                to_type,
                to_id,
            })
            .collect()
    };
    Ok(RawRow {
        id,
        hash,
        tags: (!tags.is_empty()).then_some(tags),
        refs,
        json,
    })
}

impl Iterator for UnitRows {
    type Item = io::Result<Prepared>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_row()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spills_past_the_limit_and_reads_back_in_order() {
        for limit in [1 << 20, 100] {
            let mut b = UnitBuffer::new(limit);
            for i in 0..50 {
                let (mut p, _item) = super::super::schema::prepare(
                    json!({"Id": format!("r{i}"), "N": i, "T": "a\tb\nc", "Tags": [{"Key": "k", "Value": "v"}]}),
                    Some("Id"),
                )
                .unwrap();
                if i % 2 == 1 {
                    p.refs = vec![Reference {
                        field: "A.B\t".into(),
                        to_type: "vpcs".into(),
                        to_id: format!("vpc-{i}"),
                    }];
                }
                b.push(&p).unwrap();
            }
            assert_eq!(b.file.is_some(), limit == 100);
            let rows = b.finish().unwrap();
            assert_eq!(rows.count, 50);
            let back: Vec<Prepared> = rows.map(|r| r.unwrap()).collect();
            assert_eq!(back[7].item().unwrap()["T"], json!("a\tb\nc"));
            assert_eq!(back[7].tags.as_ref().unwrap()["k"], json!("v"));
            assert_eq!(back[7].refs[0].to_id, "vpc-7");
            assert_eq!(back[7].refs[0].field, "A.B\t");
            assert!(back[8].refs.is_empty());
            let ids: Vec<String> = back.into_iter().map(|p| p.id).collect();
            assert_eq!(ids.len(), 50);
            assert_eq!(ids[0], "r0");
            assert_eq!(ids[49], "r49");
        }
    }

    #[test]
    fn a_raw_row_is_the_row_as_written() {
        // The SQLite writer binds the raw row's text: it must be what the parsed row
        // serializes to.
        let (mut p, _item) = super::super::schema::prepare(
            json!({"Id": "i\"d\t1", "X": 1,
                   "Tags": [{"Key": "k\"", "Value": "v\u{e9}"}, {"Key": "n", "Value": 1.5}]}),
            Some("Id"),
        )
        .unwrap();
        p.refs = vec![Reference {
            field: "VpcId".into(),
            to_type: "vpcs".into(),
            to_id: "vpc-1".into(),
        }];
        let mut b = UnitBuffer::default();
        b.push(&p).unwrap();
        b.push(&p).unwrap();
        let mut rows = b.finish().unwrap();
        for _ in 0..2 {
            let r = rows.next_raw().unwrap().unwrap();
            assert_eq!(r.id, p.id);
            assert_eq!(r.hash, p.hash);
            assert_eq!(r.json, p.json);
            let tags = serde_json::Value::Object(p.tags.clone().unwrap()).to_string();
            assert_eq!(r.tags, Some(tags.as_str()));
            assert_eq!(r.refs.len(), 1);
            assert_eq!(r.refs[0].to_id, "vpc-1");
        }
        assert!(rows.next_raw().is_none());
    }
}
