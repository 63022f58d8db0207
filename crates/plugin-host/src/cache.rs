//! The compiled-artifact cache: a component is compiled once and its native code kept on
//! disk. Native code from disk runs unchecked once deserialized (wasmtime's own docs call
//! deserializing an untrusted artifact unsafe), so the cache trusts nothing it did not
//! write itself:
//!
//! - **A private directory.** `<root>/compiled` (and `<root>`) are created 0700; one that
//!   exists already is used only if it belongs to the current user and no group or other
//!   user can write to it. Otherwise the cache is refused (the caller compiles without it,
//!   with a warning) — the `$TMPDIR/mrhost-cache` fallback included, where another local
//!   user could have made the directory first.
//! - **Authenticated artifacts.** Each file carries an HMAC-SHA256 over the wasm's sha256,
//!   the engine's compatibility hash and the native code, keyed by a per-user secret kept
//!   0600 beside the artifacts. A file whose tag does not verify — another plugin's
//!   artifact copied over this one, flipped bytes, a file from another key — is never
//!   deserialized: it is deleted and the component compiled afresh.
//! - The bytes verified are the bytes deserialized (read once into memory, never mapped
//!   from a file that could change in between).

use std::fs::{self, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use hmac::{KeyInit, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

type HmacSha256 = hmac::Hmac<Sha256>;

/// The first bytes of every artifact file, before the tag.
const MAGIC: &[u8] = b"mrhost-cwasm-1\n";
const TAG_LEN: usize = 32;
const KEY_LEN: usize = 32;

/// The hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A stable hex digest of the engine's compatibility hash: artifacts of another wasmtime
/// or another configuration never match.
pub fn engine_key(engine: &wasmtime::Engine) -> String {
    struct Sha(Sha256);
    impl Hasher for Sha {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
    }
    let mut h = Sha(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    hex::encode(&h.0.finalize()[..12])
}

/// Why the cache directory is not used.
#[derive(Debug, thiserror::Error)]
pub enum CacheRefused {
    /// Owned by another user: they could plant native code.
    #[error("{path} belongs to another user (uid {owner})")]
    Owner {
        /// The directory or file.
        path: PathBuf,
        /// Its owner.
        owner: u32,
    },
    /// Group- or world-writable: others could plant native code.
    #[error("{path} is writable by other users (mode {mode:o})")]
    Writable {
        /// The directory or file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// Not a directory (or the key not a regular file of the right size).
    #[error("{path} is not {what}")]
    Kind {
        /// The path.
        path: PathBuf,
        /// What it should have been.
        what: &'static str,
    },
    /// It could not be created or read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What a lookup found.
#[derive(Debug)]
pub enum Lookup {
    /// Authenticated native code for this wasm and engine.
    Hit(Vec<u8>),
    /// Nothing cached.
    Miss,
    /// A file was there but failed authentication (deleted); the reason.
    Rejected(String),
}

/// The compile cache of one engine: a private directory and its key.
pub struct CompileCache {
    dir: PathBuf,
    key: [u8; KEY_LEN],
    engine_key: String,
}

impl std::fmt::Debug for CompileCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompileCache")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CacheRefused + '_ {
    move |source| CacheRefused::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Check (creating it 0700 if absent) that `path` is a directory only the current user
/// can write to.
fn private_dir(path: &Path) -> Result<(), CacheRefused> {
    match fs::symlink_metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(io(parent))?;
            }
            match fs::DirBuilder::new().mode(0o700).create(path) {
                Ok(()) => {}
                // Made by someone else in between: checked below like any other.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io(path)(e)),
            }
        }
        Err(e) => return Err(io(path)(e)),
    }
    let me = euid();
    // A symlink must be ours too (its target is checked next).
    let link = fs::symlink_metadata(path).map_err(io(path))?;
    if link.uid() != me {
        return Err(CacheRefused::Owner {
            path: path.to_path_buf(),
            owner: link.uid(),
        });
    }
    let meta = fs::metadata(path).map_err(io(path))?;
    if !meta.is_dir() {
        return Err(CacheRefused::Kind {
            path: path.to_path_buf(),
            what: "a directory",
        });
    }
    if meta.uid() != me {
        return Err(CacheRefused::Owner {
            path: path.to_path_buf(),
            owner: meta.uid(),
        });
    }
    if meta.mode() & 0o022 != 0 {
        return Err(CacheRefused::Writable {
            path: path.to_path_buf(),
            mode: meta.mode() & 0o7777,
        });
    }
    Ok(())
}

/// The per-user key, made on first use (0600, never overwritten).
fn key(dir: &Path) -> Result<[u8; KEY_LEN], CacheRefused> {
    let path = dir.join("key");
    loop {
        match fs::File::open(&path) {
            Ok(mut f) => {
                let meta = f.metadata().map_err(io(&path))?;
                if !meta.is_file() || meta.len() != KEY_LEN as u64 {
                    return Err(CacheRefused::Kind {
                        path,
                        what: "a 32-byte key file",
                    });
                }
                if meta.uid() != euid() {
                    return Err(CacheRefused::Owner {
                        path,
                        owner: meta.uid(),
                    });
                }
                if meta.mode() & 0o077 != 0 {
                    return Err(CacheRefused::Writable {
                        path,
                        mode: meta.mode() & 0o7777,
                    });
                }
                let mut key = [0u8; KEY_LEN];
                f.read_exact(&mut key).map_err(io(&path))?;
                return Ok(key);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; KEY_LEN];
                rand::rng().fill_bytes(&mut key);
                match OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&path)
                {
                    Ok(mut f) => {
                        f.write_all(&key).map_err(io(&path))?;
                        return Ok(key);
                    }
                    // Another process made it first: read theirs.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(io(&path)(e)),
                }
            }
            Err(e) => return Err(io(&path)(e)),
        }
    }
}

impl CompileCache {
    /// The cache under `root` (`<root>/compiled`) for `engine`, or why it must not be used.
    pub fn open(root: &Path, engine: &wasmtime::Engine) -> Result<CompileCache, CacheRefused> {
        private_dir(root)?;
        let dir = root.join("compiled");
        private_dir(&dir)?;
        let key = key(&dir)?;
        Ok(CompileCache {
            dir,
            key,
            engine_key: engine_key(engine),
        })
    }

    /// Where the artifact of a wasm (by its sha256) lives.
    pub fn artifact_path(&self, wasm_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{wasm_sha256}-{}.cwasm", self.engine_key))
    }

    fn mac(&self, wasm_sha256: &str, code: &[u8]) -> HmacSha256 {
        // A 32-byte key is always a valid HMAC key.
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(MAGIC);
        mac.update(wasm_sha256.as_bytes());
        mac.update(b"\0");
        mac.update(self.engine_key.as_bytes());
        mac.update(b"\0");
        mac.update(code);
        mac
    }

    /// The authenticated native code of a wasm, if cached.
    pub fn load(&self, wasm_sha256: &str) -> Lookup {
        let path = self.artifact_path(wasm_sha256);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Miss,
            Err(e) => return Lookup::Rejected(format!("{}: {e}", path.display())),
        };
        let verdict = match bytes.strip_prefix(MAGIC) {
            Some(rest) if rest.len() > TAG_LEN => {
                let (tag, code) = rest.split_at(TAG_LEN);
                match self.mac(wasm_sha256, code).verify_slice(tag) {
                    Ok(()) => Ok(code.len()),
                    Err(_) => Err("failed authentication"),
                }
            }
            _ => Err("not an mrhost artifact"),
        };
        match verdict {
            Ok(len) => {
                let mut bytes = bytes;
                bytes.drain(..bytes.len() - len);
                Lookup::Hit(bytes)
            }
            Err(why) => {
                let _ = fs::remove_file(&path);
                Lookup::Rejected(format!("{}: {why}", path.display()))
            }
        }
    }

    /// Where a wasm's services hint lives (see [`CompileCache::services_hint`]).
    fn services_path(&self, wasm_sha256: &str) -> PathBuf {
        self.dir.join(format!("{wasm_sha256}.services"))
    }

    /// The AWS services this wasm's manifest named when it was last loaded: a hint, so
    /// their models can be decoded while the plugin is instantiated and asked for its
    /// manifest (the manifest itself is still what is checked and enforced). Names that
    /// are not plain service names are dropped; a missing or unreadable file is no hint.
    pub fn services_hint(&self, wasm_sha256: &str) -> Vec<String> {
        let Ok(text) = fs::read_to_string(self.services_path(wasm_sha256)) else {
            return Vec::new();
        };
        text.lines()
            .filter(|s| {
                !s.is_empty()
                    && s.len() <= 64
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
            .take(16)
            .map(str::to_string)
            .collect()
    }

    /// Remember a wasm's services for [`CompileCache::services_hint`]: 0600, written to a
    /// temporary file and renamed into place.
    pub fn remember_services(&self, wasm_sha256: &str, services: &[String]) -> std::io::Result<()> {
        let text: String = services.iter().map(|s| format!("{s}\n")).collect();
        write_private(&self.services_path(wasm_sha256), &[text.as_bytes()])
    }

    /// Keep the native code of a wasm: written 0600 to a temporary file, then renamed
    /// into place, so concurrent runs never see half a file.
    pub fn store(&self, wasm_sha256: &str, code: &[u8]) -> std::io::Result<()> {
        let tag = self.mac(wasm_sha256, code).finalize().into_bytes();
        write_private(&self.artifact_path(wasm_sha256), &[MAGIC, &tag, code])
    }
}

/// Write `parts` to `path` 0600: into a temporary file, then renamed into place, so
/// concurrent runs never see half a file.
fn write_private(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    for part in parts {
        f.write_all(part)?;
    }
    drop(f);
    fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("mrhost-cache-unit-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn artifacts_round_trip_and_tampering_is_rejected() {
        let engine = wasmtime::Engine::default();
        let root = scratch("roundtrip");
        let cache = CompileCache::open(&root, &engine).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&root.join("compiled")), 0o700);
        assert_eq!(mode(&root.join("compiled/key")), 0o600);
        let (a, b) = ("a".repeat(64), "b".repeat(64));
        assert!(matches!(cache.load(&a), Lookup::Miss));
        cache.store(&a, b"native code of a").unwrap();
        cache.store(&b, b"native code of b").unwrap();
        assert_eq!(mode(&cache.artifact_path(&a)), 0o600);
        match cache.load(&a) {
            Lookup::Hit(code) => assert_eq!(code, b"native code of a"),
            other => panic!("{other:?}"),
        }
        // Another wasm's artifact copied over this one: bound to its own hash.
        fs::copy(cache.artifact_path(&b), cache.artifact_path(&a)).unwrap();
        assert!(
            matches!(cache.load(&a), Lookup::Rejected(m) if m.contains("failed authentication"))
        );
        assert!(
            !cache.artifact_path(&a).exists(),
            "a rejected file is deleted"
        );
        // A flipped byte in the code.
        let p = cache.artifact_path(&b);
        let mut bytes = fs::read(&p).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xCC;
        fs::write(&p, &bytes).unwrap();
        assert!(matches!(cache.load(&b), Lookup::Rejected(_)));
        // The same key is read back by the next process; another key rejects.
        cache.store(&a, b"native code of a").unwrap();
        let again = CompileCache::open(&root, &engine).unwrap();
        assert!(matches!(again.load(&a), Lookup::Hit(_)));
        fs::remove_file(root.join("compiled/key")).unwrap();
        let rekeyed = CompileCache::open(&root, &engine).unwrap();
        assert!(matches!(rekeyed.load(&a), Lookup::Rejected(_)));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_directory_others_can_write_is_refused() {
        let engine = wasmtime::Engine::default();
        let root = scratch("writable");
        fs::create_dir_all(&root).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).unwrap();
        let err = CompileCache::open(&root, &engine).unwrap_err();
        assert!(matches!(err, CacheRefused::Writable { .. }), "{err}");
        assert!(!root.join("compiled").exists(), "nothing written there");
        fs::set_permissions(&root, fs::Permissions::from_mode(0o770)).unwrap();
        assert!(CompileCache::open(&root, &engine).is_err());
        fs::set_permissions(&root, fs::Permissions::from_mode(0o755)).unwrap();
        assert!(CompileCache::open(&root, &engine).is_ok());
        // A key others can read is refused too.
        let key = root.join("compiled/key");
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            CompileCache::open(&root, &engine),
            Err(CacheRefused::Writable { .. })
        ));
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_services_hint_round_trips_and_drops_what_is_not_a_service_name() {
        let engine = wasmtime::Engine::default();
        let root = scratch("hint");
        let cache = CompileCache::open(&root, &engine).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert!(cache.services_hint("ab").is_empty(), "no hint yet");
        cache
            .remember_services("ab", &["ec2".into(), "resource-groups".into()])
            .unwrap();
        assert_eq!(cache.services_hint("ab"), ["ec2", "resource-groups"]);
        assert_eq!(mode(&root.join("compiled/ab.services")), 0o600);
        fs::write(root.join("compiled/ab.services"), "ec2\n../x\nS3\n\nsts\n").unwrap();
        assert_eq!(cache.services_hint("ab"), ["ec2", "sts"]);
        let _ = fs::remove_dir_all(&root);
    }
}
