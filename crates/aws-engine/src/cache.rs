//! The response cache: read responses kept in SQLite for a while, shared by every mrhost
//! process of the user.
//!
//! - The key is (endpoint, account id, principal — who GetCallerIdentity says the
//!   credentials are, never the access key or a profile name —, region, service, operation,
//!   canonical params, model version): rotating temporary credentials do not miss, another
//!   identity never hits. The engine serves a hit only for credentials this process has
//!   verified (see `identity`).
//! - Only `read` and `billed` responses are stored: never `data`, `secret` or redacted ones.
//! - The file is 0600 in a 0700 directory; a directory that is group/world-writable or
//!   owned by someone else is refused.
//! - The TTL counts from insertion, so an entry read all day still expires.
//! - WAL and a busy timeout let several processes share the file; a corrupt file is moved
//!   aside with a warning and rebuilt; a size bound evicts the oldest entries.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Why the response cache cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// Its directory or file is not private to this user (or cannot be made so).
    #[error("{0}")]
    NotPrivate(String),
    /// SQLite could not open or change it.
    #[error("response cache {path}: {message}")]
    Database {
        /// The cache file.
        path: String,
        /// SQLite's reason.
        message: String,
    },
}

/// Whether cached answers are served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheMode {
    /// Serve hits, store misses.
    Normal,
    /// Never serve, but store fresh responses (`--refresh`).
    Refresh,
}

/// The cache: one SQLite file (see the [module documentation](self)).
pub struct ResponseCache {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// How long an entry is served, from when it was stored.
    pub ttl: Duration,
    /// Serve hits, or only store (`--refresh`).
    pub mode: CacheMode,
    /// The size bound; past it the oldest entries go.
    pub max_bytes: u64,
    /// Hits served by this process.
    pub hits: AtomicU64,
    /// Bytes stored, as last counted plus what this process added since.
    approx_bytes: AtomicU64,
}

impl std::fmt::Debug for ResponseCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCache")
            .field("path", &self.path)
            .finish()
    }
}

/// What identifies one cached response.
pub struct CacheKey<'a> {
    /// The endpoint URL the request went to.
    pub endpoint: &'a str,
    /// The account the credentials belong to.
    pub account: &'a str,
    /// The principal ARN (an assumed-role session as its role): `Identity::principal`.
    pub principal: &'a str,
    /// The region of the call.
    pub region: &'a str,
    /// The service (botocore name).
    pub service: &'a str,
    /// The operation name.
    pub operation: &'a str,
    /// The parameters, compared as canonical JSON.
    pub params: &'a Value,
    /// The service model's version: a new model never serves an old answer.
    pub model_version: &'a str,
}

/// JSON with object keys sorted at every level: equal params, equal text.
pub fn canonical_json(v: &Value) -> String {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = serde_json::Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    sort(v).to_string()
}

impl CacheKey<'_> {
    fn digest(&self) -> String {
        let text = format!(
            "v2\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.endpoint,
            self.account,
            self.principal,
            self.region,
            self.service,
            self.operation,
            self.model_version,
            canonical_json(self.params)
        );
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

const SCHEMA: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS responses (
        key       TEXT PRIMARY KEY,
        service   TEXT NOT NULL,
        operation TEXT NOT NULL,
        region    TEXT NOT NULL,
        account   TEXT NOT NULL,
        created   INTEGER NOT NULL,
        bytes     INTEGER NOT NULL,
        body      TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS responses_created ON responses(created);
";

fn open_checked(path: &Path) -> rusqlite::Result<Connection> {
    // Create the file 0600 before SQLite does (its WAL and shared-memory files copy the
    // database file's mode); an existing file of ours is tightened to 0600.
    if let Err(e) = create_private_file(path) {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(e),
        ));
    }
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check != "ok" {
        return Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
            Some(check),
        ));
    }
    conn.execute_batch(SCHEMA)?;
    Ok(conn)
}

impl ResponseCache {
    /// Open (or create) the cache at `path`; a corrupt file is moved aside and replaced.
    pub fn open(
        path: &Path,
        ttl: Duration,
        mode: CacheMode,
        max_bytes: u64,
    ) -> Result<Self, CacheError> {
        if let Some(dir) = path.parent() {
            ensure_private_dir(dir).map_err(CacheError::NotPrivate)?;
        }
        let conn = match open_checked(path) {
            Ok(c) => c,
            Err(e) => {
                let aside = path.with_extension(format!("corrupt-{}", now()));
                tracing::warn!(
                    "response cache {} is unusable ({e}); moved it to {} and starting a new one",
                    path.display(),
                    aside.display()
                );
                let _ = std::fs::rename(path, &aside);
                for ext in ["sqlite-wal", "sqlite-shm"] {
                    let _ = std::fs::remove_file(path.with_extension(ext));
                }
                open_checked(path).map_err(|e| CacheError::Database {
                    path: path.display().to_string(),
                    message: e.to_string(),
                })?
            }
        };
        let stored: i64 = conn
            .query_row("SELECT COALESCE(SUM(bytes), 0) FROM responses", [], |r| {
                r.get(0)
            })
            .unwrap_or(0);
        Ok(ResponseCache {
            approx_bytes: AtomicU64::new(stored as u64),
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
            ttl,
            mode,
            max_bytes,
            hits: AtomicU64::new(0),
        })
    }

    /// A fresh response for `key`, if there is one and the mode serves hits.
    pub fn get(&self, key: &CacheKey<'_>) -> Option<Value> {
        if self.mode == CacheMode::Refresh {
            return None;
        }
        let oldest = now() - self.ttl.as_secs() as i64;
        let conn = self.conn.lock().unwrap();
        let body: Option<String> = conn
            .query_row(
                "SELECT body FROM responses WHERE key = ?1 AND created > ?2",
                params![key.digest(), oldest],
                |r| r.get(0),
            )
            .optional()
            .unwrap_or_else(|e| {
                tracing::debug!("response cache read failed: {e}");
                None
            });
        let v = serde_json::from_str(&body?).ok()?;
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(v)
    }

    /// Store `value` under `key` (mode `Refresh` included); over the size bound the
    /// oldest entries go. A write that fails is logged and otherwise ignored.
    pub fn put(&self, key: &CacheKey<'_>, value: &Value) {
        let body = value.to_string();
        let conn = self.conn.lock().unwrap();
        let r = conn.execute(
            "INSERT OR REPLACE INTO responses (key, service, operation, region, account, created, bytes, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![key.digest(), key.service, key.operation, key.region, key.account, now(), body.len() as i64, body],
        );
        if let Err(e) = r {
            tracing::debug!("response cache write failed: {e}");
            return;
        }
        let approx = self
            .approx_bytes
            .fetch_add(body.len() as u64, Ordering::Relaxed)
            + body.len() as u64;
        if approx > self.max_bytes {
            let left = Self::trim(&conn, self.max_bytes, self.ttl);
            self.approx_bytes.store(left, Ordering::Relaxed);
        }
    }

    /// Drop expired entries, then the oldest until the cache fits in `max_bytes`; returns
    /// the bytes left.
    fn trim(conn: &Connection, max_bytes: u64, ttl: Duration) -> u64 {
        let _ = conn.execute(
            "DELETE FROM responses WHERE created <= ?1",
            params![now() - ttl.as_secs() as i64],
        );
        let total: i64 = conn
            .query_row("SELECT COALESCE(SUM(bytes), 0) FROM responses", [], |r| {
                r.get(0)
            })
            .unwrap_or(0);
        if total as u64 > max_bytes {
            let mut excess = total - (max_bytes as i64 * 9 / 10);
            let mut stmt =
                match conn.prepare("SELECT key, bytes FROM responses ORDER BY created, rowid") {
                    Ok(s) => s,
                    Err(_) => return total as u64,
                };
            let victims: Vec<(String, i64)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map(|rows| rows.flatten().collect())
                .unwrap_or_default();
            for (k, b) in victims {
                if excess <= 0 {
                    break;
                }
                let _ = conn.execute("DELETE FROM responses WHERE key = ?1", params![k]);
                excess -= b;
            }
        }
        conn.query_row("SELECT COALESCE(SUM(bytes), 0) FROM responses", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap_or(0) as u64
    }

    /// Entries, bytes, fresh entries, and per-service counts.
    pub fn stats(&self) -> Value {
        let conn = self.conn.lock().unwrap();
        let oldest = now() - self.ttl.as_secs() as i64;
        let (entries, bytes, fresh): (i64, i64, i64) = conn
            .query_row(
                "SELECT COUNT(*), COALESCE(SUM(bytes), 0), COALESCE(SUM(created > ?1), 0) FROM responses",
                params![oldest],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap_or((0, 0, 0));
        let mut per_service = serde_json::Map::new();
        if let Ok(mut stmt) = conn
            .prepare("SELECT service, COUNT(*) FROM responses GROUP BY service ORDER BY service")
        {
            if let Ok(rows) =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            {
                for (s, n) in rows.flatten() {
                    per_service.insert(s, Value::from(n));
                }
            }
        }
        serde_json::json!({
            "path": self.path.display().to_string(),
            "entries": entries,
            "fresh_entries": fresh,
            "bytes": bytes,
            "ttl_seconds": self.ttl.as_secs(),
            "max_bytes": self.max_bytes,
            "max_mib": self.max_bytes >> 20,
            "services": per_service,
        })
    }

    /// Remove every entry; returns how many there were.
    pub fn clear(&self) -> Result<u64, CacheError> {
        let conn = self.conn.lock().unwrap();
        let n = conn
            .execute("DELETE FROM responses", [])
            .map_err(|e| CacheError::Database {
                path: self.path.display().to_string(),
                message: e.to_string(),
            })?;
        let _ = conn.execute_batch("VACUUM");
        Ok(n as u64)
    }
}

/// Make `dir` a private directory: created 0700 (with its missing parents), or, when it
/// exists, owned by this user and not writable by group or others (then tightened to 0700).
/// Anything else is refused: another local user could plant or read what goes in it.
pub fn ensure_private_dir(dir: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(|e| format!("directory {}: {e}", dir.display()))?;
        }
        let meta =
            std::fs::metadata(dir).map_err(|e| format!("directory {}: {e}", dir.display()))?;
        if !meta.is_dir() {
            return Err(format!("{} is not a directory", dir.display()));
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(format!(
                "directory {} is owned by uid {}, not by this user (uid {me}); refusing to use it",
                dir.display(),
                meta.uid()
            ));
        }
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(format!(
                "directory {} is writable by group or others (mode {mode:o}); refusing to use it",
                dir.display()
            ));
        }
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| format!("directory {}: {e}", dir.display()))?;
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir).map_err(|e| format!("directory {}: {e}", dir.display()))
    }
}

/// A file this user may trust: owned by this user, not writable by group or others.
pub fn check_private_file(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        // SAFETY: geteuid has no preconditions and cannot fail.
        if meta.uid() != unsafe { libc::geteuid() } {
            return Err(format!("owned by uid {}, not by this user", meta.uid()));
        }
        if meta.permissions().mode() & 0o022 != 0 {
            return Err("writable by group or others".into());
        }
    }
    Ok(())
}

/// Create `path` 0600 if it is missing; an existing file must be ours, and is made 0600.
fn create_private_file(path: &Path) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
        check_private_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Replace `path` atomically with `bytes`, mode 0600.
pub fn write_private_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key<'a>(params: &'a Value, principal: &'a str) -> CacheKey<'a> {
        CacheKey {
            endpoint: "https://ec2.eu-west-1.amazonaws.com",
            account: "123456789012",
            principal,
            region: "eu-west-1",
            service: "ec2",
            operation: "DescribeVpcs",
            params,
            model_version: "1",
        }
    }

    fn temp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("mrhost-cache-unit-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d.join("responses.sqlite")
    }

    #[test]
    fn hits_need_the_same_identity_and_canonical_params() {
        let path = temp("hits");
        let c = ResponseCache::open(&path, Duration::from_secs(60), CacheMode::Normal, 1 << 20)
            .unwrap();
        let a = json!({"Filters": [{"Name": "x", "Values": ["1"]}], "MaxResults": 5});
        let b = json!({"MaxResults": 5, "Filters": [{"Values": ["1"], "Name": "x"}]});
        c.put(&key(&a, "profile-a"), &json!({"Vpcs": []}));
        assert_eq!(c.get(&key(&b, "profile-a")), Some(json!({"Vpcs": []})));
        assert_eq!(c.get(&key(&b, "role-b")), None);
        let r = ResponseCache::open(&path, Duration::from_secs(60), CacheMode::Refresh, 1 << 20)
            .unwrap();
        assert_eq!(r.get(&key(&a, "profile-a")), None);
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn the_file_is_private_and_a_shared_directory_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let path = temp("private");
        let c = ResponseCache::open(&path, Duration::from_secs(60), CacheMode::Normal, 1 << 20)
            .unwrap();
        c.put(&key(&json!({}), "p"), &json!({"ok": true}));
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(&path), 0o600);
        drop(c);
        // An existing file of ours is tightened; a directory others may write to is refused.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        ResponseCache::open(&path, Duration::from_secs(60), CacheMode::Normal, 1 << 20).unwrap();
        assert_eq!(mode(&path), 0o600);
        let dir = path.parent().unwrap();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = ResponseCache::open(&path, Duration::from_secs(60), CacheMode::Normal, 1 << 20)
            .unwrap_err();
        assert!(
            matches!(&e, CacheError::NotPrivate(m) if m.contains("writable by group or others")),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn a_corrupt_file_is_moved_aside_and_rebuilt() {
        let path = temp("corrupt");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"SQLite format 3\0 this is not a database at all").unwrap();
        let c = ResponseCache::open(&path, Duration::from_secs(60), CacheMode::Normal, 1 << 20)
            .unwrap();
        c.put(&key(&json!({}), "p"), &json!({"ok": true}));
        assert_eq!(c.get(&key(&json!({}), "p")), Some(json!({"ok": true})));
        let aside = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().contains("corrupt-"));
        assert!(aside, "the corrupt file was kept aside");
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }

    #[test]
    fn the_size_bound_evicts_the_oldest() {
        let path = temp("evict");
        let c = ResponseCache::open(&path, Duration::from_secs(600), CacheMode::Normal, 10_000)
            .unwrap();
        let big = json!({"pad": "x".repeat(1000)});
        for i in 0..200 {
            c.put(&key(&json!({"i": i}), "p"), &big);
        }
        let bytes = c.stats()["bytes"].as_i64().unwrap();
        assert!(bytes <= 12_000, "bounded: {bytes}");
        assert!(c.get(&key(&json!({"i": 199}), "p")).is_some());
        let _ = std::fs::remove_dir_all(path.parent().unwrap());
    }
}
