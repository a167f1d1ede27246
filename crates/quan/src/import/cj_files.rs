//! The Complete Journey's campaign files as plain facts, read once for the import and for the
//! backtest: each campaign's type and dates, the households it reached, its coupons (UPCs) and
//! the products they cover, and the redemptions.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::Context;

use super::completejourney::{batches, ints, micros, strings, text};

/// A campaign as the files describe it; times in microseconds (UTC).
pub struct CampaignFiles {
    pub kind: String,
    pub start: i64,
    pub end: i64,
    pub households: BTreeSet<i64>,
    pub upcs: BTreeSet<i64>,
    pub products: BTreeSet<i64>,
}

/// A line of `coupon_redemptions.parquet`.
pub struct RedemptionRow {
    pub campaign: i64,
    pub household: i64,
    pub upc: i64,
    pub at: i64,
}

/// Every described campaign with its households and coupons. A household of an undescribed
/// campaign is an error; coupons of one are left out.
pub fn campaigns(dir: &Path) -> anyhow::Result<BTreeMap<i64, CampaignFiles>> {
    let mut out = BTreeMap::new();
    for b in batches(&dir.join("campaign_descriptions.parquet"))? {
        let (id, kind, start, end) = (
            ints(&b, "campaign_id")?,
            strings(&b, "campaign_type")?,
            micros(&b, "start_date")?,
            micros(&b, "end_date")?,
        );
        for i in 0..b.num_rows() {
            out.insert(
                id.value(i),
                CampaignFiles {
                    kind: text(&kind, i).unwrap_or_default(),
                    start: start.value(i),
                    end: end.value(i),
                    households: BTreeSet::new(),
                    upcs: BTreeSet::new(),
                    products: BTreeSet::new(),
                },
            );
        }
    }
    for b in batches(&dir.join("campaigns.parquet"))? {
        let (id, household) = (ints(&b, "campaign_id")?, ints(&b, "household_id")?);
        for i in 0..b.num_rows() {
            out.get_mut(&id.value(i))
                .with_context(|| {
                    format!(
                        "campaigns.parquet names campaign {}, which campaign_descriptions.parquet has not",
                        id.value(i)
                    )
                })?
                .households
                .insert(household.value(i));
        }
    }
    for b in batches(&dir.join("coupons.parquet"))? {
        let (id, upc, product) = (
            ints(&b, "campaign_id")?,
            ints(&b, "coupon_upc")?,
            ints(&b, "product_id")?,
        );
        for i in 0..b.num_rows() {
            if let Some(c) = out.get_mut(&id.value(i)) {
                c.upcs.insert(upc.value(i));
                c.products.insert(product.value(i));
            }
        }
    }
    Ok(out)
}

/// Every redemption, or none when the directory has no redemptions file.
pub fn redemptions(dir: &Path) -> anyhow::Result<Vec<RedemptionRow>> {
    let path = dir.join("coupon_redemptions.parquet");
    let mut out = Vec::new();
    if !path.exists() {
        return Ok(out);
    }
    for b in batches(&path)? {
        let (campaign, household, upc, at) = (
            ints(&b, "campaign_id")?,
            ints(&b, "household_id")?,
            ints(&b, "coupon_upc")?,
            micros(&b, "redemption_date")?,
        );
        for i in 0..b.num_rows() {
            out.push(RedemptionRow {
                campaign: campaign.value(i),
                household: household.value(i),
                upc: upc.value(i),
                at: at.value(i),
            });
        }
    }
    Ok(out)
}
