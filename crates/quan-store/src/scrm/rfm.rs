//! The full RFM recompute over the store's primitives, and scoring one member between runs.

use std::collections::HashMap;

use jiff::Timestamp;
use quan_core::scrm::rfm::{self, Cuts, RfmInput};
use quan_core::scrm::{RfmConfig, RfmScore};
use serde::{Deserialize, Serialize};

use super::rfm_config;
use crate::traits::{Rfm, Settings};
use crate::Result;

/// The outcome of a full RFM recompute.
#[derive(Debug, Clone, Serialize)]
pub struct RfmRun {
    pub as_of: Timestamp,
    pub window_days: u32,
    /// Members with at least one counted order in the window.
    pub scored: usize,
    /// Members scored 0 (no order in the window), tier C.
    pub unscored: u64,
    pub tiers: HashMap<String, usize>,
}

/// Recomputes every member's RFM scores as of `as_of` and keeps the cuts for incremental
/// scoring until the next full recompute.
pub async fn recompute_rfm(
    store: &(impl Settings + Rfm + ?Sized),
    as_of: Timestamp,
) -> Result<RfmRun> {
    let config = rfm_config(store).await?;
    let inputs = store.rfm_inputs(config.window_start(as_of), as_of).await?;
    let (scores, cuts) = rfm::score_all(&inputs, &config);
    let mut tiers = HashMap::new();
    for s in &scores {
        *tiers.entry(s.tier.as_str().to_string()).or_insert(0) += 1;
    }
    let scored = inputs.len();
    let rows = inputs
        .into_iter()
        .map(|i| i.member_id)
        .zip(scores)
        .collect();
    let unscored = store
        .write_rfm(
            rows,
            RfmCuts {
                as_of,
                config,
                cuts,
            },
        )
        .await?;
    Ok(RfmRun {
        as_of,
        window_days: config.window_days,
        scored,
        unscored,
        tiers,
    })
}

/// What a full recompute leaves for incremental scoring.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RfmCuts {
    pub as_of: Timestamp,
    pub config: RfmConfig,
    pub cuts: Cuts,
}

impl RfmCuts {
    /// A member's scores from its counted orders `(paid_at µs, amount)`, as of `now`.
    pub fn rescore(&self, member_id: &str, orders: &[(i64, i64)], now: Timestamp) -> RfmScore {
        let since = self.config.window_start(now).as_microsecond();
        let now = now.as_microsecond();
        let window = orders.iter().filter(|(at, _)| *at > since && *at <= now);
        let (mut last, mut frequency, mut monetary) = (i64::MIN, 0, 0);
        for (at, amount) in window {
            last = last.max(*at);
            frequency += 1;
            monetary += amount;
        }
        if frequency == 0 {
            return RfmScore::NONE;
        }
        let input = RfmInput {
            member_id: member_id.to_string(),
            last,
            frequency,
            monetary,
        };
        self.cuts.score(&input, &self.config)
    }
}
