//! The compiled-artifact cache: a component is compiled once and the native code kept on
//! disk, keyed by the wasm's sha256 and the engine's compatibility hash, so a changed file or
//! a different wasmtime/config never gets stale code.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A stable hex digest of the engine's compatibility hash.
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

pub fn artifact_path(dir: &Path, wasm_sha256: &str, engine_key: &str) -> PathBuf {
    dir.join("compiled")
        .join(format!("{wasm_sha256}-{engine_key}.cwasm"))
}

/// Write atomically (temp file + rename) so concurrent runs never see half a file.
pub fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
