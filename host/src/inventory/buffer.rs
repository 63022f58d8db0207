//! One unit's resources between the fetch and the commit: in memory up to a limit, then
//! in an unlinked temporary file, so memory stays bounded however large a unit is and a
//! killed process leaves nothing behind.

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Cursor, Seek, Write};

use super::schema::Prepared;

/// Bytes a unit keeps in memory before it spills to a file.
pub const MEMORY_LIMIT: usize = 1 << 20;

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

    pub fn push(&mut self, p: &Prepared) -> io::Result<()> {
        self.count += 1;
        if let Some(f) = &mut self.file {
            serde_json::to_writer(&mut *f, p)?;
            f.write_all(b"\n")?;
            return Ok(());
        }
        serde_json::to_writer(&mut self.mem, p)?;
        self.mem.push(b'\n');
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
            count: self.count,
        })
    }
}

/// A finished unit's rows, read once in order.
pub struct UnitRows {
    reader: Box<dyn BufRead + Send>,
    pub count: u64,
}

impl UnitRows {
    /// The next row; `None` at the end.
    pub fn next_row(&mut self) -> Option<io::Result<Prepared>> {
        let mut line = String::new();
        match self.reader.read_line(&mut line) {
            Ok(0) => None,
            Ok(_) => Some(
                serde_json::from_str(&line)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
            ),
            Err(e) => Some(Err(e)),
        }
    }
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
                let p = super::super::schema::prepare(
                    json!({"Id": format!("r{i}"), "N": i}),
                    Some("Id"),
                )
                .unwrap();
                b.push(&p).unwrap();
            }
            assert_eq!(b.file.is_some(), limit == 100);
            let rows = b.finish().unwrap();
            assert_eq!(rows.count, 50);
            let ids: Vec<String> = rows.map(|r| r.unwrap().id).collect();
            assert_eq!(ids.len(), 50);
            assert_eq!(ids[0], "r0");
            assert_eq!(ids[49], "r49");
        }
    }
}
