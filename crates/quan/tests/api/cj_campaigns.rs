//! The Complete Journey's campaigns imported (a sample of its households, on both backends):
//! each campaign's review (members reached, coupons granted, coupons used) equals a count made
//! here from the Parquet files with this test's own reading of them.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use arrow_array::{Array, Int64Array, RecordBatch};
use common::{fresh_database, process_on, Backend};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use quan_app::{ManualClock, Role};
use quan_core::access::Principal;

/// The households of the sample.
const SAMPLE: usize = 60;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/completejourney")
}

/// Every row of `columns` (integers) of a Parquet file.
fn rows(file: &str, columns: &[&str]) -> Vec<Vec<i64>> {
    let f = std::fs::File::open(data().join(file)).expect("the Complete Journey data");
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    let mut out = Vec::new();
    for batch in reader {
        let batch: RecordBatch = batch.unwrap();
        let cols: Vec<Int64Array> = columns
            .iter()
            .map(|c| {
                let col = batch.column_by_name(c).expect("a column");
                arrow_cast::cast(col, &arrow_schema::DataType::Int64)
                    .unwrap()
                    .as_any()
                    .downcast_ref::<Int64Array>()
                    .unwrap()
                    .clone()
            })
            .collect();
        for i in 0..batch.num_rows() {
            out.push(cols.iter().map(|c| c.value(i)).collect());
        }
    }
    out
}

/// Per campaign: the sample's households reached, coupons (one per household and UPC of the
/// campaign) and distinct (household, UPC) pairs redeemed.
fn expected() -> BTreeMap<i64, (i64, i64, i64)> {
    let households: BTreeSet<i64> = rows("transactions.parquet", &["household_id"])
        .into_iter()
        .map(|r| r[0])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(SAMPLE)
        .collect();
    let mut reached: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for r in rows("campaigns.parquet", &["campaign_id", "household_id"]) {
        let e = reached.entry(r[0]).or_default();
        if households.contains(&r[1]) {
            e.insert(r[1]);
        }
    }
    let mut upcs: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
    for r in rows("coupons.parquet", &["campaign_id", "coupon_upc"]) {
        upcs.entry(r[0]).or_default().insert(r[1]);
    }
    let mut redeemed: BTreeMap<i64, BTreeSet<(i64, i64)>> = BTreeMap::new();
    for r in rows(
        "coupon_redemptions.parquet",
        &["campaign_id", "household_id", "coupon_upc"],
    ) {
        if households.contains(&r[1]) {
            redeemed.entry(r[0]).or_default().insert((r[1], r[2]));
        }
    }
    reached
        .iter()
        .map(|(c, hh)| {
            let n = hh.len() as i64;
            let used = redeemed.get(c).map_or(0, |p| p.len() as i64);
            (*c, (n, n * upcs[c].len() as i64, used))
        })
        .collect()
}

/// `quan import completejourney --households SAMPLE` into `url`: what it printed.
fn import_sample(url: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_quan"))
        .args(["import", "completejourney", data().to_str().unwrap()])
        .args(["--households", &SAMPLE.to_string()])
        .env("QUAN_DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run quan");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    text
}

async fn campaigns_review_as_the_files_count(backend: Backend) {
    let (url, _db) = fresh_database(backend).await;
    let text = import_sample(&url);
    assert!(text.contains("campaigns: 27 of 27 written"), "{text}");

    let app = process_on(
        &url,
        std::sync::Arc::new(ManualClock::new(common::start_time())),
        quan_app::delivery::DeliveryConfig::default(),
    )
    .await;
    let operator = Principal {
        key_id: "test".into(),
        role: Role::Platform,
        store_ids: vec![],
        user_id: None,
    };
    let expected = expected();
    assert_eq!(expected.len(), 27);
    let mut redeemed = 0;
    for (campaign, (members, coupons, used)) in &expected {
        let id = quan_app::Id::parse(format!("cj-{campaign}")).unwrap();
        let r = app.campaign_review(&operator, &id).await.unwrap();
        let f = &r.funnel;
        assert_eq!(
            (f.entered, f.treated, f.granted, f.used),
            (*members, *members, *coupons, *used),
            "campaign {campaign}"
        );
        // Each redemption gave the campaign's face value; nothing was held out.
        assert_eq!(
            r.cost.discount_given, r.cost.face_value_used,
            "campaign {campaign}"
        );
        assert!(r.holdout.is_none());
        redeemed += used;
    }
    assert!(redeemed > 10, "the sample holds redemptions: {redeemed}");

    // Again: nothing new.
    let text = import_sample(&url);
    assert!(text.contains("campaigns: 0 of 27 written"), "{text}");
}
both!(campaigns_review_as_the_files_count);
