//! quan's web front end, embedded: the operator console (`console.html` and its assets) and
//! the member pages (`claim.html`, `center.html`), each asset also gzipped.
//!
//! The files come from `web/dist`, built by this crate's build script. Release builds carry
//! them inside the binary; debug builds read them from `web/dist` at run time, so a rebuilt
//! front end shows on reload.

use std::borrow::Cow;

#[derive(rust_embed::Embed)]
#[folder = "../../web/dist"]
struct Dist;

/// One file of the front end, as it should be sent.
pub struct Asset {
    pub body: Cow<'static, [u8]>,
    /// Its media type (`text/html`, `application/javascript`, ...).
    pub mime: String,
    /// The body is gzip-compressed (send `Content-Encoding: gzip`).
    pub gzipped: bool,
}

/// The file at `path` (relative to the build's root, e.g. `assets/console-3f2a.js`), gzipped
/// when the client takes gzip and a compressed copy exists.
pub fn asset(path: &str, accepts_gzip: bool) -> Option<Asset> {
    let plain = Dist::get(path)?;
    let mime = plain.metadata.mimetype().to_string();
    if accepts_gzip {
        if let Some(gz) = Dist::get(&format!("{path}.gz")) {
            return Some(Asset {
                body: gz.data,
                mime,
                gzipped: true,
            });
        }
    }
    Some(Asset {
        body: plain.data,
        mime,
        gzipped: false,
    })
}
