//! Who a set of credentials is: the account and principal ARN behind an access key.
//!
//! An access key id belongs to one principal forever, so the mapping is kept on disk (in
//! mrhost's state directory, keyed by the sha256 of the key id — never the key id itself,
//! never a secret) and later runs learn the account without an STS round trip. Separately,
//! and only in memory, the store remembers which keys this process has *verified* (a
//! successful GetCallerIdentity, AssumeRole, or any successful call with them): the
//! response cache serves nothing for a key that is not verified.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The account and principal a set of credentials acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The 12-digit account id.
    pub account: String,
    /// The principal ARN GetCallerIdentity reports
    /// (`arn:aws:sts::111122223333:assumed-role/Auditor/mrhost`, `arn:aws:iam::...:user/x`).
    pub arn: String,
}

impl Identity {
    /// From an ARN that names its account (`arn:PARTITION:SERVICE::ACCOUNT:...`).
    pub fn from_arn(arn: &str) -> Option<Identity> {
        let account = account_of_arn(arn)?;
        Some(Identity {
            account: account.to_string(),
            arn: arn.to_string(),
        })
    }

    /// The principal for the cache key and for telling identities apart: an assumed-role
    /// session is its role (`arn:aws:sts::A:assumed-role/R/session` →
    /// `arn:aws:iam::A:role/R`), so the session name does not split the cache and two
    /// profiles assuming one role are one identity.
    pub fn principal(&self) -> String {
        principal_of(&self.arn)
    }
}

/// The account field of an ARN, when it is a 12-digit account id.
pub fn account_of_arn(arn: &str) -> Option<&str> {
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(_partition), Some(_service), Some(_region), Some(account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

/// See [`Identity::principal`]; any other ARN is itself. A role ARN with a path
/// (`role/team/R`) is reduced to its name, as an assumed-role ARN carries no path.
pub fn principal_of(arn: &str) -> String {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if let [_, partition, service, _, account, resource] = parts.as_slice() {
        if *service == "sts" {
            if let Some(rest) = resource.strip_prefix("assumed-role/") {
                let role = rest.split('/').next().unwrap_or(rest);
                return format!("arn:{partition}:iam::{account}:role/{role}");
            }
        }
        if *service == "iam" {
            if let Some(rest) = resource.strip_prefix("role/") {
                let role = rest.rsplit('/').next().unwrap_or(rest);
                return format!("arn:{partition}:iam::{account}:role/{role}");
            }
        }
    }
    arn.to_string()
}

/// The store's key for an access key id: its sha256, hex.
pub fn key_hash(access_key_id: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"mrhost identity v1\n");
    h.update(access_key_id.as_bytes());
    hex::encode(h.finalize())
}

/// Entries kept on disk; the least recently seen go first.
const MAX_ENTRIES: usize = 2000;
const FILE_NAME: &str = "identities.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    account: String,
    arn: String,
    seen: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct FileFormat {
    version: u32,
    identities: HashMap<String, Entry>,
}

/// Access key (hashed) → identity, persistent; and which keys this process verified.
#[derive(Default)]
pub struct IdentityStore {
    /// `identities.json` in the state directory; `None`: memory only.
    path: Option<PathBuf>,
    known: Mutex<HashMap<String, Identity>>,
    verified: Mutex<HashSet<String>>,
    /// One verification (GetCallerIdentity) at a time per key.
    inflight: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<Identity>>>>,
    write: Mutex<()>,
}

impl std::fmt::Debug for IdentityStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityStore")
            .field("path", &self.path)
            .finish()
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl IdentityStore {
    /// A store that forgets everything when the process ends.
    pub fn in_memory() -> Self {
        IdentityStore::default()
    }

    /// The store in `dir` (created 0700; a directory that is group/world-writable or
    /// owned by someone else is refused with a warning and the store is memory only).
    pub fn open(dir: &Path) -> Self {
        if let Err(e) = crate::cache::ensure_private_dir(dir) {
            tracing::warn!("identity store not used: {e}");
            return Self::in_memory();
        }
        let path = dir.join(FILE_NAME);
        let known = read_file(&path)
            .identities
            .into_iter()
            .map(|(k, e)| {
                (
                    k,
                    Identity {
                        account: e.account,
                        arn: e.arn,
                    },
                )
            })
            .collect();
        IdentityStore {
            path: Some(path),
            known: Mutex::new(known),
            ..Default::default()
        }
    }

    /// What the key (by [`key_hash`]) is known to be, verified or not.
    pub fn lookup(&self, hash: &str) -> Option<Identity> {
        self.known.lock().ok()?.get(hash).cloned()
    }

    /// Whether this process has seen these credentials work.
    pub fn is_verified(&self, hash: &str) -> bool {
        self.verified.lock().is_ok_and(|v| v.contains(hash))
    }

    /// A call with these credentials succeeded.
    pub fn mark_verified(&self, hash: &str) {
        if let Ok(mut v) = self.verified.lock() {
            if !v.contains(hash) {
                v.insert(hash.to_string());
            }
        }
    }

    /// STS told us who the key is (GetCallerIdentity, AssumeRole): remember it as verified,
    /// and on disk when `persist` (long-lived keys; fresh role sessions need no entry).
    pub fn remember(&self, hash: &str, identity: &Identity, persist: bool) {
        let changed = match self.known.lock() {
            Ok(mut k) => k.insert(hash.to_string(), identity.clone()).as_ref() != Some(identity),
            Err(_) => false,
        };
        self.mark_verified(hash);
        if persist && changed {
            if let Err(e) = self.persist(hash, identity) {
                tracing::debug!("identity store not written: {e}");
            }
        }
    }

    /// The verification cell of a key: callers share one GetCallerIdentity.
    pub fn verification(&self, hash: &str) -> Arc<tokio::sync::OnceCell<Identity>> {
        let mut m = match self.inflight.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        m.entry(hash.to_string()).or_default().clone()
    }

    /// Merge one entry into the file (re-read first: other processes write it too) and
    /// replace it atomically, 0600.
    fn persist(&self, hash: &str, identity: &Identity) -> std::io::Result<()> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let _guard = self.write.lock();
        let mut file = read_file(path);
        file.version = 1;
        file.identities.insert(
            hash.to_string(),
            Entry {
                account: identity.account.clone(),
                arn: identity.arn.clone(),
                seen: now(),
            },
        );
        if file.identities.len() > MAX_ENTRIES {
            let mut by_age: Vec<(String, u64)> = file
                .identities
                .iter()
                .map(|(k, e)| (k.clone(), e.seen))
                .collect();
            by_age.sort_by_key(|(_, seen)| *seen);
            for (k, _) in by_age.iter().take(file.identities.len() - MAX_ENTRIES) {
                file.identities.remove(k);
            }
        }
        let text = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        crate::cache::write_private_file(path, &text)
    }
}

/// The file's content, or empty when it is missing, unreadable, not ours, or not JSON.
fn read_file(path: &Path) -> FileFormat {
    if let Err(e) = crate::cache::check_private_file(path) {
        if path.exists() {
            tracing::warn!("identity store {} ignored: {e}", path.display());
        }
        return FileFormat::default();
    }
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_and_accounts_from_arns() {
        assert_eq!(
            principal_of("arn:aws:sts::111122223333:assumed-role/Auditor/mrhost"),
            "arn:aws:iam::111122223333:role/Auditor"
        );
        assert_eq!(
            principal_of("arn:aws:iam::111122223333:role/team/Auditor"),
            "arn:aws:iam::111122223333:role/Auditor"
        );
        assert_eq!(
            principal_of("arn:aws:iam::111122223333:user/alice"),
            "arn:aws:iam::111122223333:user/alice"
        );
        assert_eq!(
            account_of_arn("arn:aws-cn:iam::111122223333:role/x"),
            Some("111122223333")
        );
        assert_eq!(account_of_arn("arn:aws:s3:::bucket"), None);
        assert_eq!(account_of_arn("not an arn"), None);
        assert_ne!(key_hash("AKIAEXAMPLE"), key_hash("AKIAEXAMPLF"));
        assert!(!key_hash("AKIAEXAMPLE").contains("AKIA"));
    }

    #[test]
    fn the_mapping_survives_the_process_in_a_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("mrhost-identity-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let id = Identity::from_arn("arn:aws:iam::111122223333:user/alice").unwrap();
        let h = key_hash("AKIAEXAMPLE");
        {
            let s = IdentityStore::open(&dir);
            assert_eq!(s.lookup(&h), None);
            s.remember(&h, &id, true);
            assert!(s.is_verified(&h));
        }
        let again = IdentityStore::open(&dir);
        assert_eq!(again.lookup(&h), Some(id));
        assert!(!again.is_verified(&h), "verification is per process");
        let file = dir.join(FILE_NAME);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("AKIAEXAMPLE"), "{text}");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(&dir), 0o700);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
