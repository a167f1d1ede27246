//! Idempotency keys: one mechanism that runs any mutating call at most once per key and
//! replays its first answer.
//!
//! A key is scoped to the API key that sent it and tied to the request: its method and path
//! and its body *as parsed*, so the same JSON with its keys in another order or other spacing
//! is the same request, and another body under the same key is refused
//! (`idempotency_mismatch`) without running anything. Claims carry their key into the claim's
//! own transaction instead (the record and the coupon commit together); every other call
//! records its answer right after it ran, and a retry while it runs answers `in_flight`.

use std::future::Future;

use quan_core::ErrorCode;
use quan_store::{IdempotencyKey, IdempotencyStart};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{App, Error, Result};

/// An answer as a client saw it: the status, the JSON body and the `Location`, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    pub body: serde_json::Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

/// The key of a request: `header` (the client's key, 1..255 visible characters) scoped to the
/// API key `key_id`, and the fingerprint of `what` (method and path) with the parsed `body`.
pub fn key(key_id: &str, header: &[u8], what: &str, body: &[u8]) -> Result<IdempotencyKey> {
    let key = std::str::from_utf8(header)
        .ok()
        .filter(|k| !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| (0x20..0x7f).contains(&b)))
        .ok_or_else(|| {
            Error::field(
                ErrorCode::BadRequest,
                "Idempotency-Key",
                "must be 1..255 visible characters",
            )
        })?;
    Ok(IdempotencyKey {
        key_id: key_id.to_string(),
        key: key.to_string(),
        request_hash: fingerprint(what, body),
    })
}

/// A digest of the request: `what`, then the body as canonical JSON (object keys sorted, no
/// spaces), or its bytes when it is not JSON.
pub fn fingerprint(what: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(what.as_bytes());
    hash.update([0]);
    // An empty body reads as `{}` (as the body parser reads it), so it is the same request.
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => {
            let mut out = String::with_capacity(body.len());
            canonical(&v, &mut out);
            hash.update(b"j");
            hash.update(out.as_bytes());
        }
        Err(_) => {
            hash.update(b"r");
            hash.update(body);
        }
    }
    quan_store::hex(&hash.finalize())
}

fn canonical(v: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match v {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).expect("a string serializes"));
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

impl App {
    /// Runs `run` at most once per key and answers its first answer (replayed for a retry).
    /// Without a key it just runs.
    pub async fn idempotent<F, Fut>(&self, key: Option<IdempotencyKey>, run: F) -> Result<Answer>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Answer>,
    {
        let Some(key) = key else {
            return Ok(run().await);
        };
        match self.store.begin_idempotent(&key, self.now()).await? {
            IdempotencyStart::Mismatch => Err(Error::field(
                ErrorCode::IdempotencyMismatch,
                "Idempotency-Key",
                "this key was used with another request",
            )),
            IdempotencyStart::InFlight => Err(Error::code(ErrorCode::InFlight)),
            IdempotencyStart::Replay(stored) => {
                serde_json::from_str::<Answer>(&stored).map_err(|_| Error::internal())
            }
            IdempotencyStart::Started => {
                let answer = run().await;
                let stored = serde_json::to_string(&answer).expect("an answer serializes");
                self.store.finish_idempotent(&key, &stored).await?;
                Ok(answer)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parsed_body_is_the_request() {
        let a = fingerprint(
            "POST /v1/orders",
            br#"{"a": 1, "b": {"y": [1, 2], "x": null}}"#,
        );
        let b = fingerprint("POST /v1/orders", br#"{"b":{"x":null,"y":[1,2]},"a":1}"#);
        assert_eq!(a, b);
        assert_ne!(a, fingerprint("POST /v1/orders", br#"{"a": 2, "b": {}}"#));
        assert_ne!(
            a,
            fingerprint(
                "POST /v1/other",
                br#"{"a": 1, "b": {"y": [1, 2], "x": null}}"#
            )
        );
        assert_eq!(fingerprint("x", b""), fingerprint("x", b"  \n"));
        assert_eq!(fingerprint("x", b""), fingerprint("x", b"{ }"));
        assert_ne!(fingerprint("x", b"{nope"), fingerprint("x", b"{nope "));
    }

    #[test]
    fn keys_are_visible_and_bounded() {
        assert!(key("k", b"order-42", "x", b"{}").is_ok());
        assert!(key("k", b"", "x", b"{}").is_err());
        assert!(key("k", &[b'a'; 256], "x", b"{}").is_err());
        assert!(key("k", b"tab\there", "x", b"{}").is_err());
    }
}
