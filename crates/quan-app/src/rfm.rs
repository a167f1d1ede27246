//! The SCRM's settings (lifecycle gaps, RFM window and tiers) and full RFM recomputes.

use jiff::Timestamp;
use quan_core::access::{Principal, Role};
use quan_core::scrm::{LifecycleConfig, RfmConfig};
use quan_store::scrm::{self, LIFECYCLE_SETTING, RFM_SETTING};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{require, App, Error, Result};

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScrmConfig {
    pub lifecycle: LifecycleConfig,
    pub rfm: RfmConfig,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecomputeBody {
    /// The end of the window (default now).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecomputeView {
    #[schema(value_type = String, format = DateTime)]
    pub as_of: Timestamp,
    pub window_days: u32,
    /// Members with an order in the window.
    pub scored: usize,
    /// Members without: scores 0, tier C.
    pub unscored: u64,
    /// Scored members per tier.
    #[schema(value_type = Object)]
    pub tiers: std::collections::HashMap<String, usize>,
}

fn prefixed(mut e: quan_core::FieldError, at: &str) -> Error {
    e.field = format!("{at}.{}", e.field);
    e.into()
}

impl App {
    /// The lifecycle gaps and the RFM window and tier mapping in force.
    pub async fn scrm_config(&self, principal: &Principal) -> Result<ScrmConfig> {
        require(principal, &[Role::Platform])?;
        Ok(ScrmConfig {
            lifecycle: scrm::lifecycle_config(self.store.as_ref()).await?,
            rfm: scrm::rfm_config(self.store.as_ref()).await?,
        })
    }

    /// Replaces the lifecycle gaps and the RFM configuration (scores change at the next
    /// recompute).
    pub async fn put_scrm_config(
        &self,
        principal: &Principal,
        body: ScrmConfig,
    ) -> Result<ScrmConfig> {
        require(principal, &[Role::Platform])?;
        body.lifecycle
            .validate()
            .map_err(|e| prefixed(e, "lifecycle"))?;
        body.rfm.validate().map_err(|e| prefixed(e, "rfm"))?;
        let lifecycle = serde_json::to_string(&body.lifecycle).expect("a configuration serializes");
        let rfm = serde_json::to_string(&body.rfm).expect("a configuration serializes");
        self.store.put_setting(LIFECYCLE_SETTING, lifecycle).await?;
        self.store.put_setting(RFM_SETTING, rfm).await?;
        Ok(body)
    }

    /// Recomputes every member's RFM scores and tier as of `as_of` (default now); until the
    /// next recompute, members whose orders change are scored against this run's cuts.
    pub async fn recompute_rfm(
        &self,
        principal: &Principal,
        body: RecomputeBody,
    ) -> Result<RecomputeView> {
        require(principal, &[Role::Platform])?;
        let run = scrm::recompute_rfm(self.store.as_ref(), self.as_of(body.as_of)?).await?;
        Ok(RecomputeView {
            as_of: run.as_of,
            window_days: run.window_days,
            scored: run.scored,
            unscored: run.unscored,
            tiers: run.tiers,
        })
    }
}
