//! Loading a plugin, before anything of it runs: read the file (a regular file under a size
//! cap), verify it (a component, not a core module; its sha256 against `--plugin-sha256`,
//! always computed from the `.wasm` bytes), and check its imports and exports from the
//! component's type — which contract version it exports, and that it imports nothing the
//! sandbox does not provide.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::types::ComponentItem;
use wasmtime::component::Component;
use wasmtime::Engine;

use crate::bindings::{v0_1, v0_2};
use crate::host::StoreState;
use crate::manifest::{Contract, Manifest};
use crate::params::{GivenParam, ParamError, ParamValue};
use crate::policy::Policy;

/// The largest plugin file read (Python and JavaScript components are 10–20 MB).
pub const MAX_PLUGIN_BYTES: u64 = 512 << 20;

/// The interface a plugin exports, without its version.
pub(crate) const COLLECTOR: &str = "mrhost:plugin/collector";

/// The WASI packages the host links (with nothing behind them: no env, files, network).
const WASI_PACKAGES: &[&str] = &["cli", "clocks", "filesystem", "io", "random", "sockets"];

/// The contract interfaces a plugin may import.
const CONTRACT_IMPORTS: &[&str] = &["types", "aws", "sink", "log"];

/// Why a plugin could not be loaded. Each renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    /// No such file.
    #[error("{path}: file not found")]
    NotFound {
        /// The path given.
        path: String,
    },
    /// It could not be read.
    #[error("{path}: {message}")]
    Read {
        /// The path given.
        path: String,
        /// Why.
        message: String,
    },
    /// A directory, a device, a pipe...
    #[error("{path}: not a regular file")]
    NotAFile {
        /// The path given.
        path: String,
    },
    /// Larger than [`MAX_PLUGIN_BYTES`].
    #[error("{path}: {size} bytes; a plugin may be at most {max} bytes")]
    TooLarge {
        /// The path given.
        path: String,
        /// Its size.
        size: u64,
        /// The cap.
        max: u64,
    },
    /// Not WebAssembly at all.
    #[error("{path}: not a WebAssembly file")]
    NotWasm {
        /// The path given.
        path: String,
    },
    /// A core module.
    #[error("{path}: a core WebAssembly module, not a component; build plugins with `cargo build --target wasm32-wasip2` (or componentize-py / componentize-js)")]
    CoreModule {
        /// The path given.
        path: String,
    },
    /// `--plugin-sha256` does not match the file.
    #[error("{path}: sha256 is {actual}, but --plugin-sha256 expects {expected}")]
    Sha256Mismatch {
        /// The path given.
        path: String,
        /// The pin.
        expected: String,
        /// The file's hash.
        actual: String,
    },
    /// Built for a contract version this host does not serve.
    #[error("{path}: built for {found}; this host serves {served}")]
    IncompatibleVersion {
        /// The path given.
        path: String,
        /// What it exports.
        found: String,
        /// What the host serves.
        served: String,
    },
    /// No collector interface at all.
    #[error("{path}: not an mrhost plugin: it exports no {COLLECTOR} interface{detail}")]
    NotAPlugin {
        /// The path given.
        path: String,
        /// What is missing, if it exports one without its functions.
        detail: String,
    },
    /// An import the sandbox does not provide.
    #[error("{path}: imports {import}, which the mrhost sandbox does not provide")]
    UnsupportedImport {
        /// The path given.
        path: String,
        /// The import's name.
        import: String,
    },
    /// Compilation failed, or the imports do not type-check against the host's.
    #[error("{path}: {message}")]
    Compile {
        /// The path given.
        path: String,
        /// The compiler's or linker's message.
        message: String,
    },
    /// `manifest()` failed, or returned something unusable.
    #[error("{path}: invalid manifest: {message}")]
    Manifest {
        /// The path given.
        path: String,
        /// What was wrong.
        message: String,
    },
    /// The runtime itself could not start.
    #[error("plugin runtime: {0}")]
    Runtime(String),
}

/// The contract versions this host serves, as `mrhost:plugin@0.1.0, mrhost:plugin@0.2.0`.
pub fn served() -> String {
    Contract::SERVED
        .iter()
        .map(Contract::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A component ready to instantiate, for its contract version.
pub(crate) enum Pre {
    V0_1(v0_1::PluginPre<StoreState>),
    V0_2(v0_2::PluginPre<StoreState>),
}

/// A loaded plugin: its component (compiled or from the cache), checked and
/// pre-instantiated, its manifest, and the parameters of this run.
pub struct Plugin {
    /// The file it was loaded from.
    pub path: PathBuf,
    /// The hex sha256 of the file.
    pub sha256: String,
    /// Its manifest, checked.
    pub manifest: Manifest,
    /// What it may call in this run.
    pub policy: Policy,
    pub(crate) pre: Arc<Pre>,
    /// Whether the compiled artifact came from the cache.
    pub from_cache: bool,
    /// How long loading took.
    pub load_time: Duration,
    /// What the component says produced it (`language`, `processed-by`), if anything.
    pub producers: Vec<(String, String)>,
    /// The parameters of this run, checked and typed (see [`Plugin::configure`]).
    pub params: Arc<Vec<(String, ParamValue)>>,
}

impl Plugin {
    /// The contract version the plugin was built for.
    pub fn contract(&self) -> Contract {
        self.manifest.contract
    }

    /// This plugin with `given` parameters (later ones win), checked against its
    /// manifest: an unknown name, a value of the wrong type or a missing required
    /// parameter is an error before any call.
    pub fn configure(&self, given: &[GivenParam]) -> Result<Arc<Plugin>, ParamError> {
        let params = crate::params::resolve(&self.manifest.name, &self.manifest.params, given)?;
        Ok(Arc::new(Plugin {
            path: self.path.clone(),
            sha256: self.sha256.clone(),
            manifest: self.manifest.clone(),
            policy: self.policy.clone(),
            pre: self.pre.clone(),
            from_cache: self.from_cache,
            load_time: self.load_time,
            producers: self.producers.clone(),
            params: Arc::new(params),
        }))
    }
}

/// Read a plugin file: a regular file no larger than [`MAX_PLUGIN_BYTES`], WebAssembly,
/// a component; its sha256 matching `expected_sha256` when given.
pub(crate) fn read(
    path: &Path,
    expected_sha256: Option<&str>,
) -> Result<(Vec<u8>, String), PluginError> {
    let p = path.display().to_string();
    let read_err = |e: std::io::Error, p: String| {
        if e.kind() == std::io::ErrorKind::NotFound {
            PluginError::NotFound { path: p }
        } else {
            PluginError::Read {
                path: p,
                message: e.to_string(),
            }
        }
    };
    let file = std::fs::File::open(path).map_err(|e| read_err(e, p.clone()))?;
    let meta = file.metadata().map_err(|e| read_err(e, p.clone()))?;
    if !meta.is_file() {
        return Err(PluginError::NotAFile { path: p });
    }
    if meta.len() > MAX_PLUGIN_BYTES {
        return Err(PluginError::TooLarge {
            path: p,
            size: meta.len(),
            max: MAX_PLUGIN_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    std::io::Read::read_to_end(
        &mut std::io::Read::take(file, MAX_PLUGIN_BYTES + 1),
        &mut bytes,
    )
    .map_err(|e| read_err(e, p.clone()))?;
    match bytes.get(0..8) {
        Some(head) if head.starts_with(b"\0asm") => {
            if head[4..8] == [1, 0, 0, 0] {
                return Err(PluginError::CoreModule { path: p });
            }
        }
        _ => return Err(PluginError::NotWasm { path: p }),
    }
    let sha256 = crate::cache::sha256_hex(&bytes);
    check_sha256(path, expected_sha256, &sha256)?;
    Ok((bytes, sha256))
}

/// A plugin's sha256 against the one it was expected to have (`--plugin-sha256`).
pub(crate) fn check_sha256(
    path: &Path,
    expected_sha256: Option<&str>,
    sha256: &str,
) -> Result<(), PluginError> {
    match expected_sha256 {
        Some(want) if !want.eq_ignore_ascii_case(sha256) => Err(PluginError::Sha256Mismatch {
            path: path.display().to_string(),
            expected: want.to_string(),
            actual: sha256.to_string(),
        }),
        _ => Ok(()),
    }
}

/// `wasi:io/streams@0.2.3` → (`wasi`, `io`, `streams`, `0.2.3`).
fn split_name(name: &str) -> Option<(&str, &str, &str, &str)> {
    let (ns, rest) = name.split_once(':')?;
    let (pkg, rest) = rest.split_once('/')?;
    let (iface, version) = rest.split_once('@').unwrap_or((rest, ""));
    Some((ns, pkg, iface, version))
}

/// The contract version a component exports, and that its imports are all ones the host
/// provides — read from the component's type, before anything is linked.
pub(crate) fn check_types(
    engine: &Engine,
    component: &Component,
    p: &str,
) -> Result<Contract, PluginError> {
    let ty = component.component_type();
    let mut found: Option<(String, ComponentItem)> = None;
    for (name, ext) in ty.exports(engine) {
        if name.starts_with(COLLECTOR) {
            found = Some((name.to_string(), ext.ty));
            break;
        }
    }
    let Some((name, item)) = found else {
        return Err(PluginError::NotAPlugin {
            path: p.to_string(),
            detail: String::new(),
        });
    };
    let version = name.split_once('@').map(|(_, v)| v).unwrap_or("");
    let Some(contract) = Contract::from_version(version) else {
        return Err(PluginError::IncompatibleVersion {
            path: p.to_string(),
            found: name.replace("/collector", ""),
            served: served(),
        });
    };
    let ComponentItem::ComponentInstance(instance) = item else {
        return Err(PluginError::NotAPlugin {
            path: p.to_string(),
            detail: format!(" ({name} is not an interface)"),
        });
    };
    for func in ["manifest", "collect"] {
        if !matches!(
            instance.get_export(engine, func).map(|e| e.ty),
            Some(ComponentItem::ComponentFunc(_))
        ) {
            return Err(PluginError::NotAPlugin {
                path: p.to_string(),
                detail: format!(" ({name} has no function {func})"),
            });
        }
    }
    for (import, _) in ty.imports(engine) {
        let ok = match split_name(import) {
            Some(("wasi", pkg, _, _)) => WASI_PACKAGES.contains(&pkg),
            Some(("mrhost", "plugin", iface, v)) => {
                CONTRACT_IMPORTS.contains(&iface) && v == contract.version()
            }
            _ => false,
        };
        if !ok {
            return Err(PluginError::UnsupportedImport {
                path: p.to_string(),
                import: import.to_string(),
            });
        }
    }
    Ok(contract)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_split() {
        assert_eq!(
            split_name("wasi:io/streams@0.2.3"),
            Some(("wasi", "io", "streams", "0.2.3"))
        );
        assert_eq!(
            split_name("mrhost:plugin/aws@0.2.0"),
            Some(("mrhost", "plugin", "aws", "0.2.0"))
        );
        assert_eq!(split_name("env"), None);
    }

    #[test]
    fn files_that_are_not_plugins_are_refused_before_reading_much() {
        let dir = std::env::temp_dir().join(format!("mrhost-loader-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert!(matches!(
            read(&dir, None),
            Err(PluginError::NotAFile { .. })
        ));
        assert!(matches!(
            read(Path::new("/dev/zero"), None),
            Err(PluginError::NotAFile { .. })
        ));
        let core = dir.join("core.wasm");
        std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
        assert!(matches!(
            read(&core, None),
            Err(PluginError::CoreModule { .. })
        ));
        let text = dir.join("text.wasm");
        std::fs::write(&text, b"hello").unwrap();
        assert!(matches!(
            read(&text, None),
            Err(PluginError::NotWasm { .. })
        ));
        assert!(matches!(
            read(&dir.join("missing.wasm"), None),
            Err(PluginError::NotFound { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
