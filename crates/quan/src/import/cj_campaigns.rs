//! The Complete Journey's 27 campaigns as quan campaigns of the past: each campaign's
//! households are its treated members, granted one coupon per coupon UPC of the campaign at its
//! start; a coupon is redeemed on its first redemption date (the data repeats 18 pairs of a
//! household and a UPC), the others expire at the campaign's end. A campaign's coupons share
//! one template, `cj-tpl-<n>`, funded by the manufacturer (the data's `coupon_disc`), whose face
//! value is the mean coupon discount on the campaign's products inside its window (the data
//! gives no face values; 1.00 where it shows none).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Instant;

use jiff::Timestamp;
use quan_app::App;
use quan_core::campaign::CampaignSpec;
use quan_core::template::TemplateSpec;
use quan_store::{PastCampaign, PastCoupon};

use super::cj_files::{self, CampaignFiles};

/// A line's product, time and coupon discount in cents (positive), as the campaigns read them.
pub struct CouponLine {
    pub product: i64,
    pub at: i64,
    pub coupon: i64,
}

/// A campaign as the files describe it, with the first redemption of each (household, UPC).
struct Described {
    files: CampaignFiles,
    redeemed: BTreeMap<(i64, i64), i64>,
}

const DAY: i64 = 86_400_000_000;

fn at(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::MAX)
}

fn read(dir: &Path) -> anyhow::Result<BTreeMap<i64, Described>> {
    let mut out: BTreeMap<i64, Described> = cj_files::campaigns(dir)?
        .into_iter()
        .map(|(id, files)| {
            let redeemed = BTreeMap::new();
            (id, Described { files, redeemed })
        })
        .collect();
    for r in cj_files::redemptions(dir)? {
        if let Some(c) = out.get_mut(&r.campaign) {
            let first = c.redeemed.entry((r.household, r.upc)).or_insert(r.at);
            *first = (*first).min(r.at);
        }
    }
    Ok(out)
}

/// The mean coupon discount (cents, half up) of lines on `products` in `[start, end)`.
fn face_value(lines: &[CouponLine], products: &BTreeSet<i64>, start: i64, end: i64) -> Option<i64> {
    let (sum, n) = lines
        .iter()
        .filter(|l| l.coupon > 0 && l.at >= start && l.at < end && products.contains(&l.product))
        .fold((0i64, 0i64), |(s, n), l| (s + l.coupon, n + 1));
    (n > 0).then(|| (2 * sum + n) / (2 * n))
}

/// Imports every campaign but `hold_back` (one already there is left as it is), reaching only
/// the households `kept` when given (a sample).
pub async fn run(
    app: &App,
    dir: &Path,
    lines: &[CouponLine],
    kept: Option<&BTreeSet<i64>>,
    hold_back: Option<i64>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    if !dir.join("campaign_descriptions.parquet").exists() {
        println!("campaigns: none in this directory");
        return Ok(());
    }
    let mut campaigns = read(dir)?;
    if let Some(kept) = kept {
        for c in campaigns.values_mut() {
            c.files.households.retain(|h| kept.contains(h));
            c.redeemed.retain(|(h, _), _| kept.contains(h));
        }
    }
    let (mut written, mut coupons, mut used) = (0, 0usize, 0usize);
    for (n, d) in &campaigns {
        if Some(*n) == hold_back {
            continue;
        }
        let c = &d.files;
        let end = c.end + DAY; // the end date's whole day
        let face = face_value(lines, &c.products, c.start, end).unwrap_or(100);
        let template_id = format!("cj-tpl-{n}");
        let template: TemplateSpec = serde_json::from_value(serde_json::json!({
            "name": format!("Complete Journey campaign {n} coupons"),
            "scope": {"kind": "platform"},
            "benefit": {"kind": "reduction", "threshold": 0, "off": face},
            "validity": {"kind": "fixed", "valid_from": at(c.start), "valid_until": at(end)},
            "distribution": ["campaign_only"],
            "funding": {"platform_bp": 0, "merchant_bp": 0, "supplier_bp": 10000},
        }))?;
        let spec: CampaignSpec = serde_json::from_value(serde_json::json!({
            "name": format!("Complete Journey campaign {n} ({})", c.kind),
            "trigger": {"kind": "once"},
            "actions": [{"kind": "grant", "template_id": template_id}],
            "starts_at": at(c.start),
            "ends_at": at(end),
        }))?;
        let members: Vec<(String, Vec<PastCoupon>)> = c
            .households
            .iter()
            .map(|h| {
                let granted = c
                    .upcs
                    .iter()
                    .map(|u| PastCoupon {
                        id: format!("cj{n}-{h}-{u}"),
                        template_id: template_id.clone(),
                        valid_until: at(end),
                        redeemed: d.redeemed.get(&(*h, *u)).map(|r| (at(*r), face)),
                    })
                    .collect();
                (h.to_string(), granted)
            })
            .collect();
        let granted: usize = members.iter().map(|(_, g)| g.len()).sum();
        let past = PastCampaign {
            id: format!("cj-{n}"),
            spec,
            started_at: at(c.start),
            ended_at: at(end),
            spent: granted as i64 * face,
            members,
        };
        if app
            .import_past_campaign(&crate::operator(), &template_id, template, past)
            .await?
        {
            written += 1;
            coupons += granted;
            used += d.redeemed.len();
        }
    }
    println!(
        "campaigns: {written} of {} written ({coupons} coupons, {used} redeemed); {:.1} s",
        campaigns.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
