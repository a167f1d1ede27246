//! Helpers the store's test files share.

use jiff::Timestamp;
use quan_store::{ClaimCommand, ClaimRoute};

/// 2026-03-01 00:00 UTC: "now" throughout.
pub fn t0() -> Timestamp {
    "2026-03-01T00:00:00Z".parse().unwrap()
}

/// A public claim of `template` by `user` at [`t0`].
pub fn claim(template: &str, user: &str) -> ClaimCommand {
    ClaimCommand {
        template_id: template.into(),
        user_id: user.into(),
        channel: None,
        region: None,
        route: ClaimRoute::Public,
        idempotency: None,
        actor: "test".into(),
        stores: None,
        now: t0(),
    }
}
