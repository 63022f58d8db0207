//! Sinks: where resources go once a plugin emits them.

use std::collections::HashMap;
use std::io::Write;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::plugin::Emitted;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON document (a list, or an object with --group-by-region), like the AWS CLI.
    Json,
    /// One JSON object per line, written as resources arrive.
    Ndjson,
}

/// Pretty JSON as the AWS CLI prints it (4-space indent, UTF-8 kept).
pub fn write_pretty<W: Write, T: Serialize + ?Sized>(w: &mut W, v: &T) -> std::io::Result<()> {
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut *w, fmt);
    v.serialize(&mut ser).map_err(std::io::Error::from)?;
    w.write_all(b"\n")
}

pub struct ResourceSink<W: Write> {
    out: W,
    format: Format,
    group_by_region: bool,
    /// (account, region) in the order the user asked for: JSON output follows it.
    order: Vec<(String, String)>,
    buffered: HashMap<(String, String), Vec<Value>>,
    pub count: u64,
}

impl<W: Write> ResourceSink<W> {
    pub fn new(
        out: W,
        format: Format,
        group_by_region: bool,
        order: Vec<(String, String)>,
    ) -> Self {
        ResourceSink {
            out,
            format,
            group_by_region,
            order,
            buffered: HashMap::new(),
            count: 0,
        }
    }

    pub fn push(&mut self, e: Emitted) -> std::io::Result<()> {
        self.count += 1;
        match self.format {
            Format::Ndjson if !self.group_by_region => {
                serde_json::to_writer(&mut self.out, &e.value).map_err(std::io::Error::from)?;
                self.out.write_all(b"\n")
            }
            _ => {
                self.buffered
                    .entry((e.account, e.region))
                    .or_default()
                    .push(e.value);
                Ok(())
            }
        }
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }

    /// Write whatever was held back (JSON documents need everything) and flush.
    pub fn finish(mut self) -> std::io::Result<W> {
        let mut ordered: Vec<((String, String), Vec<Value>)> = Vec::new();
        for key in &self.order {
            if let Some(v) = self.buffered.remove(key) {
                ordered.push((key.clone(), v));
            }
        }
        let mut rest: Vec<_> = self.buffered.drain().collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        ordered.extend(rest);
        if self.group_by_region {
            let mut by_region: IndexMap<String, Vec<Value>> = IndexMap::new();
            for (_, region) in &self.order {
                by_region.entry(region.clone()).or_default();
            }
            for ((_, region), items) in ordered {
                by_region.entry(region).or_default().extend(items);
            }
            match self.format {
                Format::Ndjson => {
                    serde_json::to_writer(&mut self.out, &by_region)
                        .map_err(std::io::Error::other)?;
                    self.out.write_all(b"\n")?;
                }
                Format::Json => write_pretty(&mut self.out, &by_region)?,
            }
        } else if self.format == Format::Json {
            let all: Vec<Value> = ordered.into_iter().flat_map(|(_, v)| v).collect();
            write_pretty(&mut self.out, &all)?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Drain the channel into the sink; ndjson lines are flushed whenever the channel is
/// momentarily empty, so output streams.
pub async fn drain<W: Write>(
    mut rx: tokio::sync::mpsc::Receiver<Emitted>,
    mut sink: ResourceSink<W>,
) -> std::io::Result<ResourceSink<W>> {
    while let Some(e) = rx.recv().await {
        sink.push(e)?;
        while let Ok(e) = rx.try_recv() {
            sink.push(e)?;
        }
        sink.flush()?;
    }
    Ok(sink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn em(region: &str, id: &str) -> Emitted {
        Emitted {
            account: "1".into(),
            region: region.into(),
            value: json!({"VpcId": id, "RequestRegion": region}),
        }
    }

    fn order() -> Vec<(String, String)> {
        vec![("1".into(), "b".into()), ("1".into(), "a".into())]
    }

    #[test]
    fn json_follows_the_requested_region_order() {
        let mut s = ResourceSink::new(Vec::new(), Format::Json, false, order());
        s.push(em("a", "v1")).unwrap();
        s.push(em("b", "v2")).unwrap();
        let out: Value = serde_json::from_slice(&s.finish().unwrap()).unwrap();
        assert_eq!(out[0]["VpcId"], "v2");
        assert_eq!(out[1]["VpcId"], "v1");
    }

    #[test]
    fn grouped_by_region_lists_every_region() {
        let mut s = ResourceSink::new(Vec::new(), Format::Json, true, order());
        s.push(em("a", "v1")).unwrap();
        let out: Value = serde_json::from_slice(&s.finish().unwrap()).unwrap();
        assert_eq!(
            out,
            json!({"b": [], "a": [{"VpcId": "v1", "RequestRegion": "a"}]})
        );
    }

    #[test]
    fn ndjson_streams_one_object_per_line() {
        let mut s = ResourceSink::new(Vec::new(), Format::Ndjson, false, order());
        s.push(em("a", "v1")).unwrap();
        s.push(em("b", "v2")).unwrap();
        let text = String::from_utf8(s.finish().unwrap()).unwrap();
        assert_eq!(text.lines().count(), 2);
    }
}
