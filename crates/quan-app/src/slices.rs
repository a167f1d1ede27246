//! A campaign's review in slices (docs/DOMAIN.md section 9): by store, claim route and template
//! from the daily counters, and by the members' RFM tier or a segment from the campaign's
//! coupons, each with the coupons granted and used and the money they gave.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use quan_core::access::Principal;
use quan_core::text::Id;
use quan_core::ErrorCode;
use quan_store::CountsOf;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::keys::Capability;
use crate::{require, App, Error, Result};

/// What a campaign is sliced by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SliceBy {
    /// The template's store (`""`: platform-wide).
    Store,
    /// The claim route (`campaign`, or `service` for a guide task's grant).
    Route,
    Template,
    /// The members' RFM tier as last scored (`unranked` when never).
    RfmTier,
    /// In a segment (`in`) or not (`out`), as of now; needs `segment_id`.
    Segment,
}

/// `?by=&segment_id=` of a campaign's slices.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SlicesQuery {
    pub by: SliceBy,
    pub segment_id: Option<Id>,
}

/// `GET /v1/campaigns/{id}/slices`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignSlices {
    pub campaign_id: String,
    pub by: SliceBy,
    pub slices: Vec<CampaignSlice>,
}

/// A part of a campaign's coupons.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignSlice {
    pub key: String,
    /// Members granted a coupon (slices by member only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<i64>,
    pub granted: i64,
    /// Redeemed now.
    pub used: i64,
    /// What they took off, net of refunds.
    pub discount_given: i64,
}

#[derive(Default)]
struct Part {
    members: BTreeSet<String>,
    granted: i64,
    used: i64,
    given: i64,
}

impl App {
    /// A campaign's coupons sliced `by` a store, route, template, RFM tier or segment.
    pub async fn campaign_slices(
        &self,
        principal: &Principal,
        id: &Id,
        q: SlicesQuery,
    ) -> Result<CampaignSlices> {
        require(principal, Capability::Campaigns.roles())?;
        let campaign = self.campaign_record(id).await?;
        let mut parts: BTreeMap<String, Part> = BTreeMap::new();
        let by_member = matches!(q.by, SliceBy::RfmTier | SliceBy::Segment);
        match q.by {
            SliceBy::Store | SliceBy::Route | SliceBy::Template => {
                for c in self
                    .store
                    .coupon_counts(CountsOf::Campaign(campaign.id.clone()))
                    .await?
                {
                    let key = match q.by {
                        SliceBy::Store => c.store_id,
                        SliceBy::Route => c.route,
                        _ => c.template_id,
                    };
                    let p = parts.entry(key).or_default();
                    p.granted += c.claimed;
                    p.used += c.used - c.returned;
                    p.given += c.given;
                }
            }
            SliceBy::RfmTier | SliceBy::Segment => {
                let key_of: HashMap<String, String> = match q.by {
                    SliceBy::RfmTier => self
                        .store
                        .all_members()
                        .await?
                        .into_iter()
                        .map(|m| {
                            let tier = match m.rfm_at {
                                Some(_) => m.rfm.tier.as_str().to_string(),
                                None => "unranked".to_string(),
                            };
                            (m.profile.id, tier)
                        })
                        .collect(),
                    _ => {
                        let Some(segment_id) = &q.segment_id else {
                            return Err(Error::field(
                                ErrorCode::InvalidValue,
                                "segment_id",
                                "slicing by segment names one",
                            ));
                        };
                        let Some(s) = self.store.segment(segment_id).await? else {
                            return Err(Error::field(
                                ErrorCode::InvalidValue,
                                "segment_id",
                                format!("no segment {segment_id}"),
                            ));
                        };
                        quan_store::scrm::segment_members(self.store.as_ref(), &s, self.now())
                            .await?
                            .into_iter()
                            .map(|m| (m, "in".to_string()))
                            .collect()
                    }
                };
                let outside = match q.by {
                    SliceBy::RfmTier => "unranked",
                    _ => "out",
                };
                for c in self.store.campaign_member_coupons(&campaign.id).await? {
                    let key = key_of
                        .get(&c.user_id)
                        .cloned()
                        .unwrap_or_else(|| outside.to_string());
                    let p = parts.entry(key).or_default();
                    p.members.insert(c.user_id);
                    p.granted += 1;
                    p.used += i64::from(c.redeemed);
                    p.given += c.given;
                }
            }
        }
        Ok(CampaignSlices {
            campaign_id: campaign.id,
            by: q.by,
            slices: parts
                .into_iter()
                .map(|(key, p)| CampaignSlice {
                    key,
                    members: by_member.then_some(p.members.len() as i64),
                    granted: p.granted,
                    used: p.used,
                    discount_given: p.given,
                })
                .collect(),
        })
    }
}
