//! Prefixed ids (`usr_01k…`, lowercase ULIDs), secret tokens, their hashes, and slugs.

use rand::Rng;
use sha2::{Digest, Sha256};
use std::sync::Mutex;

static GENERATOR: Mutex<Option<ulid::Generator>> = Mutex::new(None);

/// A new monotonic id such as `msg_01kr3x…` (26 lowercase Crockford base32 characters).
pub fn new_id(prefix: &str) -> String {
    let mut guard = GENERATOR.lock().unwrap_or_else(|p| p.into_inner());
    let generator = guard.get_or_insert_with(ulid::Generator::new);
    let ulid = generator.generate().unwrap_or_else(|_| ulid::Ulid::new());
    format!("{prefix}_{}", ulid.to_string().to_ascii_lowercase())
}

const CROCKFORD: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Random lowercase Crockford base32 characters (5 bits each, from the OS RNG).
pub fn random_base32(len: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| CROCKFORD[rng.gen_range(0..32)] as char)
        .collect()
}

/// A secret token shaped like an id (`sst_…`, `mgt_…`): 26 random characters, 130 bits.
pub fn new_secret(prefix: &str) -> String {
    format!("{prefix}_{}", random_base32(26))
}

/// SHA-256 hex of a secret; only hashes are stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Lowercase, runs of anything outside `[a-z0-9]` become `-`, trimmed of `-`.
pub fn slug(value: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in value.trim().to_lowercase().chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    out
}

/// True when `id` has the given prefix and a 26-character lowercase ULID body.
pub fn has_prefix(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|body| body.len() == 26)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_lowercase_and_increasing() {
        let a = new_id("msg");
        let b = new_id("msg");
        assert!(has_prefix(&a, "msg"));
        assert_eq!(a, a.to_ascii_lowercase());
        assert!(b > a);
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Side Dock"), "side-dock");
        assert_eq!(slug("  Store  Room!! "), "store-room");
        assert_eq!(slug("héllo wörld"), "h-llo-w-rld");
        assert_eq!(slug("!!!"), "");
    }

    #[test]
    fn secrets_hash_stably() {
        let s = new_secret("sst");
        assert_eq!(s.len(), 30);
        assert_eq!(hash_secret(&s), hash_secret(&s));
        assert_ne!(hash_secret(&s), hash_secret(&new_secret("sst")));
    }
}
