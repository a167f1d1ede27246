//! The programme as a whole (docs/DOMAIN.md section 9): the global holdout, a stable hashed
//! share of all members that no campaign enters, and what every campaign together added,
//! measured against it over a window: conversion and revenue per member with their 95%
//! intervals, CUPED-adjusted, and the incremental ROI of everything coupons gave.

use std::collections::HashMap;

use jiff::{SignedDuration, Timestamp};
use quan_core::access::Principal;
use quan_core::campaign::holdout::in_global_holdout;
use quan_core::review::uplift::incrementality;
use quan_core::review::{Arm, Incrementality, Outcome};
use quan_core::ErrorCode;
use quan_store::CountsOf;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::keys::Capability;
use crate::{require, App, Error, Result};

const SETTING: &str = "programme";
/// The largest global holdout: half the members.
const MAX_GLOBAL_HOLDOUT_BP: u32 = 5_000;

/// The programme's settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeSettings {
    /// The share of all members kept out of every campaign (0..=5000 bp, default 0), by a
    /// stable hash of the member: the same members while it is unchanged.
    pub global_holdout_bp: u32,
}

/// `?days=&as_of=` of the programme's review.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ProgrammeQuery {
    /// The window's length, ending at `as_of` (1..=365, default 30).
    #[param(minimum = 1, maximum = 365)]
    pub days: Option<u32>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
}

/// `GET /v1/programme/review`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgrammeReview {
    #[schema(value_type = String, format = DateTime)]
    pub as_of: Timestamp,
    pub days: u32,
    pub global_holdout_bp: u32,
    /// What every coupon gave in the window, net of refunds.
    pub discount_given: i64,
    /// Members reached by the programme (treated) against the global holdout (control): the
    /// members who joined before the window, their counted orders in it, their revenue in the
    /// same length before it (CUPED).
    pub incrementality: Incrementality,
}

impl App {
    pub async fn programme(&self, principal: &Principal) -> Result<ProgrammeSettings> {
        require(principal, Capability::Campaigns.roles())?;
        self.programme_settings().await
    }

    /// Replaces the programme's settings; campaigns enter by the new global holdout from
    /// their next run (within a second in every process).
    pub async fn put_programme(
        &self,
        principal: &Principal,
        body: ProgrammeSettings,
    ) -> Result<ProgrammeSettings> {
        require(principal, Capability::Campaigns.roles())?;
        if body.global_holdout_bp > MAX_GLOBAL_HOLDOUT_BP {
            return Err(Error::field(
                ErrorCode::TooLarge,
                "global_holdout_bp",
                "at most 5000 basis points (half the members)",
            ));
        }
        let json = serde_json::to_string(&body).expect("settings serialize");
        self.store.put_setting(SETTING, json).await?;
        Ok(body)
    }

    pub(crate) async fn programme_settings(&self) -> Result<ProgrammeSettings> {
        match self.store.setting(SETTING).await? {
            None => Ok(ProgrammeSettings::default()),
            Some(raw) => serde_json::from_str(&raw)
                .map_err(|e| Error::failure(format!("programme settings: {e}"))),
        }
    }

    /// What the programme added over the `days` before `as_of`.
    pub async fn programme_review(
        &self,
        principal: &Principal,
        q: ProgrammeQuery,
    ) -> Result<ProgrammeReview> {
        require(principal, Capability::Campaigns.roles())?;
        let days = q.days.unwrap_or(30);
        if !(1..=365).contains(&days) {
            return Err(Error::field(
                ErrorCode::InvalidValue,
                "days",
                "from 1 to 365 days",
            ));
        }
        let as_of = self.as_of(q.as_of)?;
        let _report = self
            .reports
            .acquire()
            .await
            .map_err(|_| Error::internal())?;
        let bp = self.programme_settings().await?.global_holdout_bp;
        let window = SignedDuration::from_hours(24 * i64::from(days));
        let start = as_of - window;
        let mut outcomes: HashMap<String, Outcome> = self
            .store
            .all_members()
            .await?
            .into_iter()
            .filter(|m| m.profile.joined_at.is_some_and(|j| j < start))
            .map(|m| {
                let nothing = Outcome {
                    converted: false,
                    revenue: 0,
                    pre_revenue: 0,
                };
                (m.profile.id, nothing)
            })
            .collect();
        for o in self.store.paid_orders(start - window, as_of).await? {
            if let Some(m) = outcomes.get_mut(&o.user_id) {
                if o.paid_at >= start {
                    m.converted = true;
                    m.revenue += o.amount;
                } else {
                    m.pre_revenue += o.amount;
                }
            }
        }
        let (mut treated, mut control) = (Arm::default(), Arm::default());
        for (user, outcome) in &outcomes {
            if in_global_holdout(user, bp) {
                &mut control
            } else {
                &mut treated
            }
            .add(outcome);
        }
        let (first, last) = (self.zone.day_number(start), self.zone.day_number(as_of));
        let discount_given = self
            .store
            .coupon_counts(CountsOf::Everything)
            .await?
            .iter()
            .filter(|c| c.day >= first && c.day < last)
            .map(|c| c.given)
            .sum();
        Ok(ProgrammeReview {
            as_of,
            days,
            global_holdout_bp: bp,
            discount_given,
            incrementality: incrementality(&treated, &control, bp, discount_given),
        })
    }
}

/// Whether the programme keeps `user` out of every campaign.
pub(crate) fn kept_out(settings: ProgrammeSettings, user: &str) -> bool {
    in_global_holdout(user, settings.global_holdout_bp)
}
