//! Local key pairs: what clients of `mrhost serve` sign with instead of real credentials.
//! One per key name, bound to the profile or role it stands for; kept in
//! `keys.json` (0600) in mrhost's state directory (`serve/`, 0700) so clients keep working
//! across restarts; made anew by `--rotate-keys`, or when a name is bound to another target
//! (a client holding the old key must not silently reach another identity).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::Rng;
use serde::{Deserialize, Serialize};

/// One local key pair and what it stands for.
#[derive(Clone, PartialEq, Eq)]
pub struct LocalKey {
    pub name: String,
    pub access_key_id: String,
    pub secret: String,
    /// The profile name or role ARN the key acts as.
    pub target: String,
}

impl std::fmt::Debug for LocalKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalKey")
            .field("name", &self.name)
            .field("target", &self.target)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("serve keys {}: {msg}", path.display())]
    File { path: PathBuf, msg: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    access_key_id: String,
    secret_access_key: String,
    target: String,
    created: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FileFormat {
    version: u32,
    keys: BTreeMap<String, Entry>,
}

/// What [`ensure`] did to each key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Reused,
    Created,
    Rotated,
    /// Not kept anywhere (no state directory): valid for this run only.
    Ephemeral,
}

const FILE_NAME: &str = "keys.json";
const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random(alphabet: &[u8], n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A new pair: an access key id shaped like AWS's (20 characters; `MRHL` says whose), a
/// 40-character secret (238 bits).
fn generate(name: &str, target: &str) -> LocalKey {
    LocalKey {
        name: name.to_string(),
        access_key_id: format!("MRHL{}", random(BASE32, 16)),
        secret: random(ALNUM, 40),
        target: target.to_string(),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The key pairs for `wanted` (name, target), from the file in `dir` where they are there
/// for the same target, else new ones (all new with `rotate`), written back. Without a
/// directory the keys live for this run only.
pub fn ensure(
    dir: Option<&Path>,
    wanted: &[(String, String)],
    rotate: bool,
) -> Result<Vec<(LocalKey, Origin)>, KeyError> {
    let Some(dir) = dir else {
        return Ok(wanted
            .iter()
            .map(|(n, t)| (generate(n, t), Origin::Ephemeral))
            .collect());
    };
    let path = dir.join(FILE_NAME);
    let err = |msg: String| KeyError::File {
        path: path.clone(),
        msg,
    };
    aws_engine::cache::ensure_private_dir(dir).map_err(&err)?;
    let mut file = if path.exists() {
        aws_engine::cache::check_private_file(&path).map_err(&err)?;
        let bytes = std::fs::read(&path).map_err(|e| err(e.to_string()))?;
        serde_json::from_slice::<FileFormat>(&bytes).map_err(|e| {
            err(format!(
                "not a keys file ({e}); move it aside to start afresh"
            ))
        })?
    } else {
        FileFormat::default()
    };
    let mut out = Vec::new();
    let mut changed = false;
    for (name, target) in wanted {
        let existing = file.keys.get(name).filter(|e| &e.target == target);
        let (key, origin) = match existing {
            Some(e) if !rotate => (
                LocalKey {
                    name: name.clone(),
                    access_key_id: e.access_key_id.clone(),
                    secret: e.secret_access_key.clone(),
                    target: target.clone(),
                },
                Origin::Reused,
            ),
            Some(_) => (generate(name, target), Origin::Rotated),
            None => (generate(name, target), Origin::Created),
        };
        if origin != Origin::Reused {
            file.keys.insert(
                name.clone(),
                Entry {
                    access_key_id: key.access_key_id.clone(),
                    secret_access_key: key.secret.clone(),
                    target: target.clone(),
                    created: now(),
                },
            );
            changed = true;
        }
        out.push((key, origin));
    }
    if changed {
        file.version = 1;
        let text = serde_json::to_vec_pretty(&file).map_err(|e| err(e.to_string()))?;
        aws_engine::cache::write_private_file(&path, &text).map_err(|e| err(e.to_string()))?;
    }
    Ok(out)
}

/// A key name: letters, digits, `-`, `_`, `.`; 1 to 64 characters.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("mrhost-serve-keys-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d.join("serve")
    }

    #[test]
    fn keys_are_kept_private_reused_rebound_and_rotated() {
        let d = dir("cycle");
        let want = vec![
            ("default".to_string(), "default".to_string()),
            ("ci".to_string(), "prod".to_string()),
        ];
        let first = ensure(Some(&d), &want, false).unwrap();
        assert!(first.iter().all(|(_, o)| *o == Origin::Created));
        let (k, _) = &first[0];
        assert_eq!(k.access_key_id.len(), 20);
        assert!(k.access_key_id.starts_with("MRHL"));
        assert_eq!(k.secret.len(), 40);
        assert_ne!(first[0].0.secret, first[1].0.secret);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&d), 0o700);
        assert_eq!(mode(&d.join(FILE_NAME)), 0o600);

        let again = ensure(Some(&d), &want, false).unwrap();
        assert_eq!(again[0].0, first[0].0);
        assert_eq!(again[0].1, Origin::Reused);

        // The same name bound to another profile: a new key.
        let rebound = ensure(Some(&d), &[("ci".to_string(), "dev".to_string())], false).unwrap();
        assert_eq!(rebound[0].1, Origin::Created);
        assert_ne!(rebound[0].0.access_key_id, first[1].0.access_key_id);

        let rotated = ensure(Some(&d), &want[..1], true).unwrap();
        assert_eq!(rotated[0].1, Origin::Rotated);
        assert_ne!(rotated[0].0.secret, first[0].0.secret);

        // A keys file others may write to is refused.
        std::fs::set_permissions(d.join(FILE_NAME), std::fs::Permissions::from_mode(0o666))
            .unwrap();
        let e = ensure(Some(&d), &want, false).unwrap_err().to_string();
        assert!(e.contains("writable by group or others"), "{e}");
        let _ = std::fs::remove_dir_all(d.parent().unwrap());
    }

    #[test]
    fn names() {
        assert!(valid_name("ci-prod_1.a"));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name(&"x".repeat(65)));
        let e = ensure(None, &[("a".into(), "p".into())], false).unwrap();
        assert_eq!(e[0].1, Origin::Ephemeral);
    }
}
