//! `quan model backtest`: train the propensity model on past campaigns of a dataset in the
//! Complete Journey layout and score a later campaign's audience from its history alone.
//!
//! Every feature of a (household, campaign) pair is computed as of the campaign's start
//! (`quan_model::AsOf`): transactions, redemptions and campaigns dated at or after it are not
//! seen. Training uses the campaigns that ended before `--train-until`, each labelled by
//! whether the household redeemed at least one of its coupons; a campaign without a single
//! redemption in the file is left out (the file cannot tell "none redeemed" from "not
//! recorded"). The test campaign is scored without its redemptions; when the file has them,
//! the AUC and the calibration are printed.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use jiff::civil::Date;
use jiff::{tz::TimeZone, Timestamp};
use quan_model::metrics::{auc, Calibration};
use quan_model::{
    features, Attributes, Basket, CampaignKind, Dataset, Exposure, Line, MemberHistory, Offer,
    PropensityModel, Redemption, TrainConfig,
};

use crate::import::cj_files;
use crate::import::completejourney::{batches, cents, floats, ints, micros, strings, text};

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Train on the campaigns that ended before a date and score a later campaign's audience.
    Backtest(BacktestArgs),
}

#[derive(Args)]
pub struct BacktestArgs {
    /// A directory in the layout of the Complete Journey Parquet files.
    #[arg(long)]
    data: PathBuf,
    /// Train on the campaigns that ended before this date (YYYY-MM-DD).
    #[arg(long)]
    train_until: Date,
    /// The campaign whose audience is scored.
    #[arg(long)]
    test_campaign: i64,
    /// Where `household_id,score` goes.
    #[arg(long, default_value = "scores.csv")]
    scores: PathBuf,
    /// Also save the trained model (versioned JSON) here.
    #[arg(long)]
    save_model: Option<PathBuf>,
    /// The trees' budget (perpetual's one knob).
    #[arg(long, default_value_t = TrainConfig::default().budget)]
    budget: f32,
}

pub fn run(command: ModelCommand) -> anyhow::Result<()> {
    match command {
        ModelCommand::Backtest(args) => backtest(&args),
    }
}

struct Campaign {
    kind_label: String,
    kind: CampaignKind,
    start: Timestamp,
    end: Timestamp,
    households: Vec<i64>,
}

/// The dataset as the model reads it.
struct Data {
    members: HashMap<i64, MemberHistory>,
    campaigns: BTreeMap<i64, Campaign>,
    offers: HashMap<i64, Offer>,
    /// Per campaign, the households that redeemed at least one of its coupons.
    redeemers: HashMap<i64, HashSet<i64>>,
    baskets: usize,
}

fn day_start(d: Date) -> anyhow::Result<Timestamp> {
    Ok(d.to_zoned(TimeZone::UTC)?.timestamp())
}

fn timestamp(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::MAX)
}

/// The first number in a band such as "35-44", "15-24K", "5+", "Under 15K" (0), as an ordinal.
fn band(raw: Option<String>) -> Option<f64> {
    let raw = raw?;
    if raw.trim_start().starts_with("Under") {
        return Some(0.0);
    }
    let digits: String = raw
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().ok()
}

fn load(dir: &Path) -> anyhow::Result<Data> {
    // Products: department and category, interned; and how many products each category has.
    let mut names: HashMap<String, u32> = HashMap::new();
    let mut intern = |s: Option<String>| {
        s.map(|s| {
            let n = names.len() as u32;
            *names.entry(s).or_insert(n)
        })
    };
    let mut product: HashMap<i64, (Option<u32>, Option<u32>)> = HashMap::new();
    let mut category_size: HashMap<u32, usize> = HashMap::new();
    for b in batches(&dir.join("products.parquet"))? {
        let (id, dept, cat) = (
            ints(&b, "product_id")?,
            strings(&b, "department")?,
            strings(&b, "product_category")?,
        );
        for i in 0..b.num_rows() {
            let (d, c) = (intern(text(&dept, i)), intern(text(&cat, i)));
            if let Some(c) = c {
                *category_size.entry(c).or_default() += 1;
            }
            product.insert(id.value(i), (d, c));
        }
    }

    // Baskets per household.
    let mut open: HashMap<i64, (i64, Basket)> = HashMap::new();
    for b in batches(&dir.join("transactions.parquet"))? {
        let (household, basket, prod, sales, coupon, at) = (
            ints(&b, "household_id")?,
            ints(&b, "basket_id")?,
            ints(&b, "product_id")?,
            floats(&b, "sales_value")?,
            floats(&b, "coupon_disc")?,
            micros(&b, "transaction_timestamp")?,
        );
        for i in 0..b.num_rows() {
            let at = timestamp(at.value(i));
            let (department, category) = product.get(&prod.value(i)).copied().unwrap_or_default();
            let entry = open.entry(basket.value(i)).or_insert_with(|| {
                (
                    household.value(i),
                    Basket {
                        at,
                        lines: Vec::new(),
                    },
                )
            });
            entry.1.at = entry.1.at.max(at);
            entry.1.lines.push(Line {
                product: prod.value(i),
                category,
                department,
                amount: cents(sales.value(i)),
                coupon_discount: cents(coupon.value(i)).abs(),
            });
        }
    }
    let baskets = open.len();
    let mut members: HashMap<i64, MemberHistory> = HashMap::new();
    for (_, (h, basket)) in open {
        members.entry(h).or_default().baskets.push(basket);
    }

    // Campaigns, who received them, and their coupons' products.
    let files = cj_files::campaigns(dir)?;
    let mut campaigns = BTreeMap::new();
    let mut coupons: HashMap<i64, (HashSet<i64>, HashSet<i64>)> = HashMap::new();
    for (&id, f) in &files {
        let kind = CampaignKind::parse(&f.kind);
        let start = timestamp(f.start);
        for &h in &f.households {
            members.entry(h).or_default().exposures.push(Exposure {
                campaign: id,
                kind,
                start,
            });
        }
        coupons.insert(
            id,
            (
                f.upcs.iter().copied().collect(),
                f.products.iter().copied().collect(),
            ),
        );
        campaigns.insert(
            id,
            Campaign {
                kind,
                kind_label: f.kind.clone(),
                start,
                end: timestamp(f.end),
                households: f.households.iter().copied().collect(),
            },
        );
    }
    let mut offers = HashMap::new();
    for (&id, c) in &campaigns {
        let (upcs, products) = coupons.remove(&id).unwrap_or_default();
        let mut covered: HashMap<u32, usize> = HashMap::new();
        let mut departments = HashSet::new();
        for p in &products {
            let (d, cat) = product.get(p).copied().unwrap_or_default();
            departments.extend(d);
            if let Some(cat) = cat {
                *covered.entry(cat).or_default() += 1;
            }
        }
        let category_coverage = covered
            .into_iter()
            .map(|(cat, n)| (cat, n as f64 / category_size[&cat].max(1) as f64))
            .collect();
        offers.insert(
            id,
            Offer {
                kind: c.kind,
                coupons: upcs.len(),
                duration_days: c.end.duration_since(c.start).as_secs_f64() / 86_400.0,
                products,
                category_coverage,
                departments,
                benefit: None,
                depth: None,
                threshold: None,
            },
        );
    }

    // Redemptions: optional, and possibly without some campaigns.
    let mut redeemers: HashMap<i64, HashSet<i64>> = HashMap::new();
    for r in cj_files::redemptions(dir)? {
        redeemers.entry(r.campaign).or_default().insert(r.household);
        members
            .entry(r.household)
            .or_default()
            .redemptions
            .push(Redemption {
                campaign: r.campaign,
                at: timestamp(r.at),
            });
    }

    // Demographics, where known.
    let path = dir.join("demographics.parquet");
    if path.exists() {
        for b in batches(&path)? {
            let id = ints(&b, "household_id")?;
            let col = |name: &str| strings(&b, name);
            let (age, income, home, marital, size, kids) = (
                col("age")?,
                col("income")?,
                col("home_ownership")?,
                col("marital_status")?,
                col("household_size")?,
                col("kids_count")?,
            );
            for i in 0..b.num_rows() {
                members.entry(id.value(i)).or_default().attributes = Attributes {
                    tier: None,
                    age: band(text(&age, i)),
                    income: band(text(&income, i)),
                    homeowner: text(&home, i).map(|h| h.contains("Homeowner")),
                    married: text(&marital, i).map(|m| m == "Married"),
                    household_size: band(text(&size, i)),
                    kids: band(text(&kids, i)),
                };
            }
        }
    }
    for m in members.values_mut() {
        m.sort();
    }
    Ok(Data {
        members,
        campaigns,
        offers,
        redeemers,
        baskets,
    })
}

/// The features of every household a campaign reached, as of its start.
fn rows(data: &Data, id: i64) -> (Vec<i64>, Vec<Vec<f64>>) {
    let c = &data.campaigns[&id];
    let offer = &data.offers[&id];
    let empty = MemberHistory::default();
    let households: Vec<i64> = c
        .households
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows = households
        .iter()
        .map(|h| {
            let m = data.members.get(h).unwrap_or(&empty);
            features(&m.as_of(c.start), offer)
        })
        .collect();
    (households, rows)
}

fn backtest(args: &BacktestArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let data = load(&args.data).with_context(|| format!("reading {}", args.data.display()))?;
    let until = day_start(args.train_until)?;
    let Some(test) = data.campaigns.get(&args.test_campaign) else {
        bail!(
            "campaign {} is not in campaign_descriptions.parquet",
            args.test_campaign
        );
    };
    println!(
        "data: {} households, {} baskets, {} campaigns ({} with redemptions in the file); {:.1} s",
        data.members.len(),
        data.baskets,
        data.campaigns.len(),
        data.redeemers.len(),
        started.elapsed().as_secs_f64()
    );

    let mut train = Dataset::default();
    let (mut used, mut skipped) = (Vec::new(), Vec::new());
    for (&id, c) in &data.campaigns {
        if id == args.test_campaign || c.end >= until {
            continue;
        }
        let Some(redeemed) = data.redeemers.get(&id) else {
            skipped.push(id);
            continue;
        };
        used.push(id);
        let (households, rows) = rows(&data, id);
        for (h, row) in households.into_iter().zip(rows) {
            train.push(row, redeemed.contains(&h), h as u64);
        }
    }
    let positives = train.labels.iter().filter(|&&l| l).count();
    println!(
        "train: campaigns {} (ended before {}): {} sends, {} redeemed ({:.1}%){}",
        list(&used),
        args.train_until,
        train.len(),
        positives,
        100.0 * positives as f64 / train.len().max(1) as f64,
        if skipped.is_empty() {
            String::new()
        } else {
            format!(
                "; left out, no redemption of theirs in the file: {}",
                list(&skipped)
            )
        }
    );
    let config = TrainConfig {
        budget: args.budget,
        ..TrainConfig::default()
    };
    let model = PropensityModel::train(&train, config).context("training")?;
    let r = model.report();
    println!(
        "model: {} trees on {} sends, calibrated (isotonic) on {} held-out sends{}",
        r.trees,
        r.fit_rows,
        r.calibration_rows,
        r.calibration_auc
            .map_or(String::new(), |a| format!(" (their AUC {a:.4})"))
    );
    if let Some(path) = &args.save_model {
        model.save(path)?;
        println!("model saved to {}", path.display());
    }

    let (households, rows) = rows(&data, args.test_campaign);
    let scores = model.predict(&rows)?;
    println!(
        "test: campaign {} ({}, {} .. {}): {} households scored from their history before {}",
        args.test_campaign,
        test.kind_label,
        test.start.strftime("%Y-%m-%d"),
        test.end.strftime("%Y-%m-%d"),
        households.len(),
        test.start.strftime("%Y-%m-%d"),
    );
    match data.redeemers.get(&args.test_campaign) {
        Some(redeemed) => {
            let labels: Vec<bool> = households.iter().map(|h| redeemed.contains(h)).collect();
            let pos = labels.iter().filter(|&&l| l).count();
            match auc(&scores, &labels) {
                Some(a) => println!(
                    "AUC {a:.4} (redeemed at least one coupon: {pos} of {} households)",
                    labels.len()
                ),
                None => println!("AUC undefined: every household had the same outcome"),
            }
            let cal = Calibration::measure(&scores, &labels);
            println!(
                "calibration: Brier {:.4} (base rate alone {:.4}), ECE {:.4}",
                cal.brier, cal.brier_base_rate, cal.ece
            );
            println!("  bin          n  predicted  observed");
            for b in &cal.bins {
                println!(
                    "  {:.1}-{:.1} {:>6}     {:.3}     {:.3}",
                    b.lo, b.hi, b.count, b.predicted, b.observed
                );
            }
        }
        None => println!(
            "AUC: no ground truth (the file has no redemption of campaign {}); scores written all the same",
            args.test_campaign
        ),
    }
    write_scores(&args.scores, &households, &scores)?;
    println!(
        "wrote {} scores to {}; {:.1} s",
        scores.len(),
        args.scores.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    ids.iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_scores(path: &Path, households: &[i64], scores: &[f64]) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
    );
    writeln!(out, "household_id,score")?;
    for (h, s) in households.iter().zip(scores) {
        writeln!(out, "{h},{s:.6}")?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::band;

    #[test]
    fn bands_become_ordinals() {
        assert_eq!(band(Some("35-44".into())), Some(35.0));
        assert_eq!(band(Some("Under 15K".into())), Some(0.0));
        assert_eq!(band(Some("250K+".into())), Some(250.0));
        assert_eq!(band(Some("3+".into())), Some(3.0));
        assert_eq!(band(None), None);
        assert_eq!(band(Some("unknown".into())), None);
    }
}
