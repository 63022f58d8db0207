//! Where plugins are found: the search path, and a plugin named on the command line
//! (a file, or a name on the path). The one place that knows, so `run`, `list`, `query`
//! and `plugins` answer the same whatever the working directory.
//!
//! The search path, first match wins (as `PATH`):
//! 1. `MRHOST_PLUGIN_PATH` (directories separated by `:`),
//! 2. `plugin_path = DIR:DIR` in the config file,
//! 3. `$XDG_DATA_HOME/mrhost/plugins`, else `~/.local/share/mrhost/plugins` (where
//!    `mrhost plugins install` puts them),
//! 4. the bundled set installed beside the binary: `plugins/` next to it, then
//!    `../share/mrhost/plugins` from it (the release tarball's layout), then the source
//!    tree's `plugins/` (a binary built from a checkout).
//!
//! The working directory is not on it: `./plugins` is found only when named.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::{setup, usage};

/// Where `plugins install` puts plugins: `$XDG_DATA_HOME/mrhost/plugins`, else
/// `~/.local/share/mrhost/plugins`.
pub fn user_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("mrhost").join("plugins"));
    }
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".local/share/mrhost/plugins"))
}

/// The bundled set: beside the binary, the tarball's `share/`, the source tree's.
pub fn bundled_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir.join("plugins"));
        dirs.push(exe_dir.join("../share/mrhost/plugins"));
    }
    dirs.push(PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../plugins"
    )));
    dirs
}

fn split_path(s: &str) -> impl Iterator<Item = PathBuf> + '_ {
    s.split(':')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
}

/// The search path, in order (directories that do not exist included: see [`existing`]).
pub fn search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Ok(v) = std::env::var("MRHOST_PLUGIN_PATH") {
        dirs.extend(split_path(&v));
    }
    if let Some(v) = setup::config_value("plugin_path") {
        dirs.extend(split_path(&v));
    }
    dirs.extend(user_dir());
    dirs.extend(bundled_dirs());
    let mut seen = Vec::new();
    dirs.retain(|d| {
        let key = d.canonicalize().unwrap_or_else(|_| d.clone());
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
    dirs
}

/// Only the directories that exist.
pub fn existing(dirs: Vec<PathBuf>) -> Vec<PathBuf> {
    dirs.into_iter().filter(|d| d.is_dir()).collect()
}

/// The `.wasm` files of `dirs` as (table name, path), the first directory winning for a
/// name given twice. Directories named on the command line (`given`) must exist; without
/// them, the search path is used.
pub fn plugin_files(given: &[PathBuf]) -> Result<Vec<(String, PathBuf)>> {
    let dirs = if given.is_empty() {
        existing(search_path())
    } else {
        for d in given {
            if !d.is_dir() {
                return usage(format!("{}: not a directory of plugins", d.display()));
            }
        }
        given.to_vec()
    };
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for dir in &dirs {
        let mut here: Vec<(String, PathBuf)> = Vec::new();
        for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "wasm") && p.is_file() {
                if let Some(stem) = p.file_stem().and_then(|s| s.to_str()) {
                    here.push((crate::sql::table_name(stem), p.clone()));
                }
            }
        }
        here.sort();
        for (name, p) in here {
            if !out.iter().any(|(n, _)| *n == name) {
                out.push((name, p));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// A plugin named on the command line: a path that exists, else (a bare name such as
/// `vpcs` or `vpcs.wasm`) the first match on the search path. An unknown name is an
/// error naming where it was looked for.
pub fn resolve(arg: &Path) -> Result<PathBuf> {
    if arg.exists() {
        return Ok(arg.to_path_buf());
    }
    let s = arg.to_string_lossy();
    if s.contains('/') || s.contains(std::path::MAIN_SEPARATOR) {
        // A path: the loader's own "not found" says which.
        return Ok(arg.to_path_buf());
    }
    let table = crate::sql::table_name(s.strip_suffix(".wasm").unwrap_or(&s));
    if let Some((_, p)) = plugin_files(&[])?.into_iter().find(|(n, _)| *n == table) {
        return Ok(p);
    }
    let dirs: Vec<String> = search_path()
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    usage(format!(
        "plugin {s}: no such file, and no {table} plugin on the search path ({})",
        dirs.join(":")
    ))
}
