//! `quan model backtest` on a small dataset in the Complete Journey layout, written here: the
//! AUC line and the scores file, and the same scores when the test campaign's redemptions are
//! not in the files (then it says there is no ground truth).

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use arrow_array::TimestampNanosecondArray;
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;

fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn ints(v: Vec<i64>) -> ArrayRef {
    Arc::new(Int64Array::from(v))
}

fn strings(v: Vec<String>) -> ArrayRef {
    Arc::new(StringArray::from(v))
}

fn times(v: Vec<i64>) -> ArrayRef {
    Arc::new(TimestampNanosecondArray::from(v))
}

const DAY: i64 = 86_400_000_000_000;
/// 2017-01-01T00:00:00Z in nanoseconds.
const T0: i64 = 1_483_228_800_000_000_000;

/// 90 households, weekly baskets for 30 weeks. A third are "fans" of products 1..=10 (the
/// coupons' products); they redeem most campaigns, the others rarely. Campaigns 1 and 2 train
/// (they end before 2017-05-15), campaign 3 (2017-06-01 .. 2017-07-01) is the test.
/// `test_redemptions`: whether campaign 3's redemptions are in the file.
fn dataset(dir: &Path, test_redemptions: bool) {
    let households: Vec<i64> = (1..=90).collect();
    let fan = |h: i64| h % 3 == 0;
    let (mut hh, mut basket, mut product, mut qty, mut sales, mut coupon, mut at) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    for &h in &households {
        for w in 0..30 {
            let id = h * 1_000 + w;
            for k in 0..3 {
                let p = if fan(h) && k < 2 {
                    1 + (h + w + k) % 10
                } else {
                    11 + (h * 7 + w * 3 + k) % 30
                };
                hh.push(h);
                basket.push(id);
                product.push(p);
                qty.push(1);
                sales.push(1.0 + ((h + k) % 5) as f64);
                coupon.push(if fan(h) && w % 5 == 0 && k == 0 {
                    -0.5
                } else {
                    0.0
                });
                at.push(T0 + w * 7 * DAY + (h % 24) * 3_600_000_000_000);
            }
        }
    }
    let n = hh.len();
    write_parquet(
        &dir.join("transactions.parquet"),
        vec![
            ("household_id", ints(hh)),
            ("store_id", ints(vec![1; n])),
            ("basket_id", ints(basket)),
            ("product_id", ints(product)),
            ("quantity", ints(qty)),
            ("sales_value", Arc::new(Float64Array::from(sales))),
            ("retail_disc", Arc::new(Float64Array::from(vec![0.0; n]))),
            ("coupon_disc", Arc::new(Float64Array::from(coupon))),
            (
                "coupon_match_disc",
                Arc::new(Float64Array::from(vec![0.0; n])),
            ),
            ("week", ints(vec![1; n])),
            ("transaction_timestamp", times(at)),
        ],
    );
    let products: Vec<i64> = (1..=40).collect();
    let dept = |p: i64| if p <= 10 { "GROCERY" } else { "PRODUCE" }.to_string();
    write_parquet(
        &dir.join("products.parquet"),
        vec![
            ("product_id", ints(products.clone())),
            ("manufacturer_id", ints(vec![1; 40])),
            (
                "department",
                strings(products.iter().map(|&p| dept(p)).collect()),
            ),
            ("brand", strings(vec!["National".into(); 40])),
            (
                "product_category",
                strings(products.iter().map(|p| format!("CAT{}", p % 4)).collect()),
            ),
            ("product_type", strings(vec!["X".into(); 40])),
            ("package_size", strings(vec!["1".into(); 40])),
        ],
    );
    let day = |m: i64, d: i64| {
        jiff::civil::date(2017, m as i8, d as i8)
            .to_zoned(jiff::tz::TimeZone::UTC)
            .unwrap()
            .timestamp()
            .as_nanosecond() as i64
    };
    write_parquet(
        &dir.join("campaign_descriptions.parquet"),
        vec![
            ("campaign_id", ints(vec![1, 2, 3])),
            (
                "campaign_type",
                strings(vec!["Type B".into(), "Type A".into(), "Type A".into()]),
            ),
            ("start_date", times(vec![day(2, 1), day(4, 1), day(6, 1)])),
            ("end_date", times(vec![day(3, 1), day(5, 1), day(7, 1)])),
        ],
    );
    let (mut c, mut h) = (vec![], vec![]);
    for campaign in 1..=3 {
        for &x in &households {
            c.push(campaign);
            h.push(x);
        }
    }
    write_parquet(
        &dir.join("campaigns.parquet"),
        vec![("campaign_id", ints(c)), ("household_id", ints(h))],
    );
    let (mut upc, mut p, mut c) = (vec![], vec![], vec![]);
    for campaign in 1..=3 {
        for x in 1..=10 {
            upc.push(campaign * 100 + x);
            p.push(x);
            c.push(campaign);
        }
    }
    write_parquet(
        &dir.join("coupons.parquet"),
        vec![
            ("coupon_upc", ints(upc)),
            ("product_id", ints(p)),
            ("campaign_id", ints(c)),
        ],
    );
    let (mut rh, mut ru, mut rc, mut rd) = (vec![], vec![], vec![], vec![]);
    let starts = [day(2, 1), day(4, 1), day(6, 1)];
    for campaign in 1..=3i64 {
        if campaign == 3 && !test_redemptions {
            continue;
        }
        for &x in &households {
            let redeems = if fan(x) {
                x % 7 != campaign
            } else {
                x % 11 == campaign
            };
            if redeems {
                rh.push(x);
                ru.push(campaign * 100 + 1 + x % 10);
                rc.push(campaign);
                rd.push(starts[campaign as usize - 1] + (3 + x % 20) * DAY);
            }
        }
    }
    write_parquet(
        &dir.join("coupon_redemptions.parquet"),
        vec![
            ("household_id", ints(rh)),
            ("coupon_upc", ints(ru)),
            ("campaign_id", ints(rc)),
            ("redemption_date", times(rd)),
        ],
    );
    let s = |v: &str| strings(vec![v.to_string()]);
    write_parquet(
        &dir.join("demographics.parquet"),
        vec![
            ("household_id", ints(vec![3])),
            ("age", s("45-54")),
            ("income", s("Under 15K")),
            ("home_ownership", s("Renter")),
            ("marital_status", s("Married")),
            ("household_size", s("5+")),
            ("household_comp", s("2 Adults Kids")),
            ("kids_count", s("3+")),
        ],
    );
}

fn backtest(dir: &Path, scores: &Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_quan"))
        .args(["model", "backtest", "--data"])
        .arg(dir)
        .args([
            "--train-until",
            "2017-05-15",
            "--test-campaign",
            "3",
            "--scores",
        ])
        .arg(scores)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run quan");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

fn read_scores(path: &Path) -> Vec<(i64, f64)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("household_id,score"));
    lines
        .map(|l| {
            let (h, s) = l.split_once(',').unwrap();
            (h.parse().unwrap(), s.parse().unwrap())
        })
        .collect()
}

#[test]
fn backtest_prints_the_auc_and_writes_every_targeted_household() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), true);
    let path = dir.path().join("scores.csv");
    let text = backtest(dir.path(), &path);
    assert!(text.contains("train: campaigns 1, 2 "), "{text}");
    let auc: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("AUC "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no AUC line: {text}"))
        .parse()
        .unwrap();
    assert!(auc > 0.8, "the fans redeem: AUC {auc}\n{text}");
    assert!(text.contains("calibration: Brier"), "{text}");
    let scores = read_scores(&path);
    assert_eq!(
        scores.iter().map(|s| s.0).collect::<Vec<_>>(),
        (1..=90).collect::<Vec<_>>()
    );
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(&s.1)));

    // Without campaign 3's redemptions: the same scores, and no AUC claimed.
    let blind = tempfile::tempdir().unwrap();
    dataset(blind.path(), false);
    let blind_path = blind.path().join("scores.csv");
    let text = backtest(blind.path(), &blind_path);
    assert!(text.contains("no ground truth"), "{text}");
    assert!(!text.lines().any(|l| l.starts_with("AUC 0")), "{text}");
    assert_eq!(
        read_scores(&blind_path),
        scores,
        "the test campaign's outcomes reached a score"
    );
}
