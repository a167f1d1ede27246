//! Identifiers, codes and secrets: time-ordered ids, unguessable codes, hashed API keys.

use std::sync::Mutex;

use rand::Rng;
use sha2::{Digest, Sha256};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn base32(mut value: u128, len: usize, out: &mut String) {
    let mut buf = vec![0u8; len];
    for slot in buf.iter_mut().rev() {
        *slot = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    out.push_str(std::str::from_utf8(&buf).expect("ascii"));
}

/// A new id: `prefix_` + 10 characters of milliseconds + 12 characters that start random and
/// count up within a millisecond (as ULIDs do). Ids of one process sort by creation, so
/// `ORDER BY id` pages in creation order.
pub fn new_id(prefix: &str, now_ms: i64) -> String {
    static LAST: Mutex<(i64, u64)> = Mutex::new((0, 0));
    let (ms, tail) = {
        let mut last = LAST.lock().expect("id lock");
        if now_ms <= last.0 {
            last.1 = (last.1 + 1) & ((1 << 60) - 1);
        } else {
            *last = (now_ms, rand::rng().random::<u64>() >> 5);
        }
        *last
    };
    let mut s = String::with_capacity(prefix.len() + 23);
    s.push_str(prefix);
    s.push('_');
    base32(ms.max(0) as u128, 10, &mut s);
    base32(tail as u128, 12, &mut s);
    s
}

/// A coupon or claim code: 18 Crockford base32 characters, easy to read aloud. The first 8 are
/// the milliseconds since 2020 (so the unique index takes new codes near its end instead of on
/// a random page per code: group commits write fewer pages), the last 10 are 50 random bits,
/// which make a code unguessable even knowing when it was made.
pub fn new_code() -> String {
    const EPOCH_2020_MS: i64 = 1_577_836_800_000;
    let ms = (jiff::Timestamp::now().as_millisecond() - EPOCH_2020_MS).max(0) as u128;
    let mut s = String::with_capacity(18);
    base32(ms & ((1 << 40) - 1), 8, &mut s);
    base32(
        rand::rng().random::<u64>() as u128 & ((1 << 50) - 1),
        10,
        &mut s,
    );
    s
}

/// A new API key secret (`qk_` + 43 url-safe characters, 256 bits).
pub fn new_secret() -> String {
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    let bytes: [u8; 32] = rand::rng().random();
    format!("qk_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// The stored form of a secret: its SHA-256 in hex. Keys are never stored in the clear.
pub fn hash_secret(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_codes_differ() {
        let a = new_id("tpl", 1_000);
        let b = new_id("tpl", 1_001);
        assert!(a < b, "{a} {b}");
        assert_eq!(a.len(), 4 + 22);
        let codes: std::collections::HashSet<_> = (0..1000).map(|_| new_code()).collect();
        assert_eq!(codes.len(), 1000);
        assert!(codes.iter().all(|c| c.len() == 18));
    }
}
