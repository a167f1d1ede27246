//! Upkeep that time makes due: coupons past their validity expire, orders whose lock lapsed
//! release their coupons, and idempotency keys older than a day are forgotten.

use jiff::SignedDuration;

use crate::{App, Result};

/// How long an idempotency key is kept.
pub const IDEMPOTENCY_KEPT: SignedDuration = SignedDuration::from_hours(24);
/// Coupons expired per store call.
const EXPIRE_BATCH: u32 = 1000;

/// What one round of upkeep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Upkept {
    pub coupons_expired: u64,
    pub orders_released: u64,
    pub keys_forgotten: u64,
}

impl App {
    /// One round of upkeep as of now; `quan serve` runs it every 30 seconds.
    pub async fn upkeep(&self) -> Result<Upkept> {
        let now = self.now();
        let mut done = Upkept::default();
        loop {
            let n = self.store.expire_due(now, EXPIRE_BATCH).await?;
            done.coupons_expired += n;
            if n < u64::from(EXPIRE_BATCH) {
                break;
            }
        }
        done.orders_released = self.store.release_lapsed_locks(now).await?;
        done.keys_forgotten = self.store.sweep_idempotency(now - IDEMPOTENCY_KEPT).await?;
        Ok(done)
    }
}
