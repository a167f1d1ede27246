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

use super::completejourney::{batches, ints, micros, strings};

/// A line's product, time and coupon discount in cents (positive), as the campaigns read them.
pub struct CouponLine {
    pub product: i64,
    pub at: i64,
    pub coupon: i64,
}

/// A campaign as the files describe it.
struct Described {
    kind: String,
    start: i64,
    end: i64,
    households: BTreeSet<i64>,
    upcs: BTreeSet<i64>,
    products: BTreeSet<i64>,
    /// The first redemption of each (household, UPC).
    redeemed: BTreeMap<(i64, i64), i64>,
}

const DAY: i64 = 86_400_000_000;

fn at(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::MAX)
}

/// The campaign `id` of `out`.
fn get(out: &mut BTreeMap<i64, Described>, id: i64) -> anyhow::Result<&mut Described> {
    out.get_mut(&id)
        .ok_or_else(|| anyhow::anyhow!("campaign {id} has no description"))
}

fn read(dir: &Path) -> anyhow::Result<BTreeMap<i64, Described>> {
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
                Described {
                    kind: kind.value(i).to_string(),
                    start: start.value(i),
                    end: end.value(i),
                    households: BTreeSet::new(),
                    upcs: BTreeSet::new(),
                    products: BTreeSet::new(),
                    redeemed: BTreeMap::new(),
                },
            );
        }
    }
    for b in batches(&dir.join("campaigns.parquet"))? {
        let (id, household) = (ints(&b, "campaign_id")?, ints(&b, "household_id")?);
        for i in 0..b.num_rows() {
            get(&mut out, id.value(i))?
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
            let c = get(&mut out, id.value(i))?;
            c.upcs.insert(upc.value(i));
            c.products.insert(product.value(i));
        }
    }
    for b in batches(&dir.join("coupon_redemptions.parquet"))? {
        let (id, household, upc, date) = (
            ints(&b, "campaign_id")?,
            ints(&b, "household_id")?,
            ints(&b, "coupon_upc")?,
            micros(&b, "redemption_date")?,
        );
        for i in 0..b.num_rows() {
            let first = get(&mut out, id.value(i))?
                .redeemed
                .entry((household.value(i), upc.value(i)))
                .or_insert(date.value(i));
            *first = (*first).min(date.value(i));
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
            c.households.retain(|h| kept.contains(h));
            c.redeemed.retain(|(h, _), _| kept.contains(h));
        }
    }
    let (mut written, mut coupons, mut used) = (0, 0usize, 0usize);
    for (n, c) in &campaigns {
        if Some(*n) == hold_back {
            continue;
        }
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
                        redeemed: c.redeemed.get(&(*h, *u)).map(|d| (at(*d), face)),
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
            used += c.redeemed.len();
        }
    }
    println!(
        "campaigns: {written} of {} written ({coupons} coupons, {used} redeemed); {:.1} s",
        campaigns.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
