//! The Complete Journey dataset (84.51° / dunnhumby) into quan: households as members, baskets
//! as orders, products with department and category, stores, and its campaigns
//! (`cj_campaigns`). Money arrives as dollars in
//! floating point; each line is rounded to whole cents first (the dataset's README gives the
//! exact total: 459,603,958 cents).

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use arrow_array::{Array, ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, TimeUnit};
use jiff::Timestamp;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use quan_app::App;
use quan_store::scrm::{
    Aggregates, HistoryLine, HistoryOrder, MemberProfile, ProductRecord, StoreRecord,
};

use super::{progress, Report};

/// Every record batch of a Parquet file.
pub(crate) fn batches(path: &Path) -> anyhow::Result<Vec<RecordBatch>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)?
        .with_batch_size(65_536)
        .build()?;
    Ok(reader.collect::<Result<Vec<_>, _>>()?)
}

fn column(batch: &RecordBatch, name: &str, to: &DataType) -> anyhow::Result<ArrayRef> {
    let col = batch
        .column_by_name(name)
        .with_context(|| format!("no column {name}"))?;
    Ok(arrow_cast::cast(col, to)?)
}

pub(crate) fn ints(batch: &RecordBatch, name: &str) -> anyhow::Result<Int64Array> {
    let col = column(batch, name, &DataType::Int64)?;
    Ok(col
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("cast to Int64")
        .clone())
}

pub(crate) fn floats(batch: &RecordBatch, name: &str) -> anyhow::Result<Float64Array> {
    let col = column(batch, name, &DataType::Float64)?;
    Ok(col
        .as_any()
        .downcast_ref::<Float64Array>()
        .expect("cast to Float64")
        .clone())
}

pub(crate) fn strings(batch: &RecordBatch, name: &str) -> anyhow::Result<StringArray> {
    let col = column(batch, name, &DataType::Utf8)?;
    Ok(col
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8")
        .clone())
}

/// Microseconds since the epoch; the dataset's times carry no zone and are taken as UTC.
pub(crate) fn micros(batch: &RecordBatch, name: &str) -> anyhow::Result<Int64Array> {
    let col = column(
        batch,
        name,
        &DataType::Timestamp(TimeUnit::Microsecond, None),
    )?;
    let col = arrow_cast::cast(&col, &DataType::Int64)?;
    Ok(col
        .as_any()
        .downcast_ref::<Int64Array>()
        .expect("cast to Int64")
        .clone())
}

pub(crate) fn text(a: &StringArray, i: usize) -> Option<String> {
    (!a.is_null(i)).then(|| a.value(i).to_string())
}

fn timestamp(us: i64) -> Timestamp {
    Timestamp::from_microsecond(us).unwrap_or(Timestamp::MAX)
}

/// Dollars to cents, rounding each value to the nearest cent.
pub fn cents(dollars: f64) -> i64 {
    (dollars * 100.0).round() as i64
}

struct Line {
    household: i64,
    store: i64,
    basket: i64,
    product: i64,
    qty: i64,
    cents: i64,
    /// The manufacturer's coupon discount, cents (positive whatever the sign the file uses).
    coupon: i64,
    at: i64,
}

pub async fn run(
    app: &App,
    dir: &Path,
    batch: usize,
    sample: Option<usize>,
    hold_back: Option<i64>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let now = Timestamp::now();

    // Products: id → category, kept for the lines.
    let mut products = Vec::new();
    let mut category: HashMap<i64, Option<String>> = HashMap::new();
    for b in batches(&dir.join("products.parquet"))? {
        let (id, dept, cat, brand, kind, manufacturer, size) = (
            ints(&b, "product_id")?,
            strings(&b, "department")?,
            strings(&b, "product_category")?,
            strings(&b, "brand")?,
            strings(&b, "product_type")?,
            ints(&b, "manufacturer_id")?,
            strings(&b, "package_size")?,
        );
        for i in 0..b.num_rows() {
            category.insert(id.value(i), text(&cat, i));
            products.push(ProductRecord {
                id: id.value(i).to_string(),
                name: text(&kind, i),
                store_id: None,
                department: text(&dept, i),
                category: text(&cat, i),
                brand: text(&brand, i),
                attributes: serde_json::json!({
                    "manufacturer_id": (!manufacturer.is_null(i)).then(|| manufacturer.value(i)),
                    "package_size": text(&size, i),
                }),
                updated_at: now,
            });
        }
    }
    let mut report = Report {
        read: products.len(),
        ..Report::default()
    };
    let bar = progress(Some(products.len() as u64), "products");
    for chunk in products.chunks(5_000) {
        report.count(
            &app.import_products(&crate::operator(), chunk.to_vec())
                .await?,
        );
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    report.print("products", started);

    // Transaction lines, in file order (a basket's lines are next to each other).
    let mut lines = Vec::new();
    for b in batches(&dir.join("transactions.parquet"))? {
        let (household, shop, basket, product, qty, sales, at) = (
            ints(&b, "household_id")?,
            ints(&b, "store_id")?,
            ints(&b, "basket_id")?,
            ints(&b, "product_id")?,
            ints(&b, "quantity")?,
            floats(&b, "sales_value")?,
            micros(&b, "transaction_timestamp")?,
        );
        // A directory without it (a layout of transactions only) has no coupon discounts.
        let coupon = match b.column_by_name("coupon_disc") {
            Some(_) => Some(floats(&b, "coupon_disc")?),
            None => None,
        };
        for i in 0..b.num_rows() {
            lines.push(Line {
                household: household.value(i),
                store: shop.value(i),
                basket: basket.value(i),
                product: product.value(i),
                qty: qty.value(i),
                cents: cents(sales.value(i)),
                coupon: coupon.as_ref().map_or(0, |c| cents(c.value(i)).abs()),
                at: at.value(i),
            });
        }
    }
    // A sample keeps the households of smallest id, and their lines.
    let kept: Option<std::collections::BTreeSet<i64>> = sample.map(|n| {
        let all: std::collections::BTreeSet<i64> = lines.iter().map(|l| l.household).collect();
        all.into_iter().take(n).collect()
    });
    if let Some(kept) = &kept {
        lines.retain(|l| kept.contains(&l.household));
    }
    let expected_cents: i64 = lines.iter().map(|l| l.cents).sum();

    // Stores and members: every store and household that appears; a member joins at its first basket.
    let stores: std::collections::BTreeSet<i64> = lines.iter().map(|l| l.store).collect();
    let stores: Vec<StoreRecord> = stores
        .into_iter()
        .map(|s| StoreRecord {
            id: s.to_string(),
            name: None,
            region: None,
            attributes: serde_json::json!({}),
            updated_at: now,
        })
        .collect();
    let mut report = Report {
        read: stores.len(),
        ..Report::default()
    };
    report.count(&app.import_stores(&crate::operator(), stores).await?);
    report.print("stores", started);

    let mut joined: BTreeMap<i64, i64> = BTreeMap::new();
    for l in &lines {
        joined
            .entry(l.household)
            .and_modify(|t| *t = (*t).min(l.at))
            .or_insert(l.at);
    }
    let demographics = demographics(&dir.join("demographics.parquet"))?;
    let members: Vec<MemberProfile> = joined
        .iter()
        .map(|(&h, &first)| {
            let demo = demographics.get(&h);
            MemberProfile {
                id: h.to_string(),
                joined_at: Some(timestamp(first)),
                tier: None,
                region: None,
                channel: None,
                guide_id: None,
                points: 0,
                tags: demo.map(|d| d.tags()).unwrap_or_default(),
                attributes: demo.map_or_else(|| serde_json::json!({}), |d| d.attributes()),
            }
        })
        .collect();
    let mut report = Report {
        read: members.len(),
        ..Report::default()
    };
    for chunk in members.chunks(5_000) {
        report.count(
            &app.import_members(&crate::operator(), chunk.to_vec())
                .await?,
        );
    }
    report.print("members", started);

    // Baskets as orders.
    let bar = progress(Some(lines.len() as u64), "orders");
    let mut report = Report::default();
    let mut pending: Vec<HistoryOrder> = Vec::with_capacity(batch);
    let mut start = 0;
    while start < lines.len() {
        let basket = lines[start].basket;
        let end = start
            + lines[start..]
                .iter()
                .take_while(|l| l.basket == basket)
                .count();
        pending.push(order(&lines[start..end], &category));
        report.read += 1;
        bar.inc((end - start) as u64);
        start = end;
        if pending.len() >= batch {
            report.count(
                &app.import_orders(
                    &crate::operator(),
                    std::mem::take(&mut pending),
                    Aggregates::Deferred,
                )
                .await?,
            );
        }
    }
    report.count(
        &app.import_orders(&crate::operator(), pending, Aggregates::Deferred)
            .await?,
    );
    bar.finish_and_clear();
    report.print("orders (baskets)", started);
    app.refresh_imported(&crate::operator(), None).await?;
    // RFM as of the data's last basket: scored as of now, a year-long history would read as
    // nobody's (the window would hold no order).
    if let Some(last) = lines.iter().map(|l| l.at).max() {
        let run = app
            .recompute_rfm(
                &crate::operator(),
                quan_app::rfm::RecomputeBody {
                    as_of: Some(timestamp(last)),
                },
            )
            .await?;
        println!(
            "rfm: {} members scored as of {} (the last basket)",
            run.scored, run.as_of
        );
    }

    let coupon_lines: Vec<super::cj_campaigns::CouponLine> = lines
        .iter()
        .map(|l| super::cj_campaigns::CouponLine {
            product: l.product,
            at: l.at,
            coupon: l.coupon,
        })
        .collect();
    super::cj_campaigns::run(app, dir, &coupon_lines, kept.as_ref(), hold_back).await?;

    let (orders, total, members) = app.import_totals(&crate::operator()).await?;
    println!(
        "completejourney: {members} members, {orders} orders, {total} cents of sales in the store (file: {expected_cents}); {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if total != expected_cents {
        bail!("the stored sales ({total}) differ from the file's ({expected_cents})");
    }
    Ok(())
}

/// One basket's lines as an order; line ids are the line's place in the basket.
fn order(lines: &[Line], category: &HashMap<i64, Option<String>>) -> HistoryOrder {
    let first = &lines[0];
    HistoryOrder {
        id: first.basket.to_string(),
        user_id: first.household.to_string(),
        status: quan_core::scrm::history::HistoryStatus::Paid,
        channel: None,
        paid_at: timestamp(lines.iter().map(|l| l.at).max().unwrap_or(first.at)),
        lines: lines
            .iter()
            .enumerate()
            .map(|(i, l)| HistoryLine {
                line_id: (i + 1).to_string(),
                sku: l.product.to_string(),
                store_id: Some(l.store.to_string()),
                category: category.get(&l.product).cloned().flatten(),
                qty: l.qty,
                amount: l.cents,
            })
            .collect(),
        source: quan_core::scrm::history::OrderSource::Ingest,
    }
}

/// A household's demographics (801 of the 2,469 have them).
struct Demographics(Vec<(&'static str, Option<String>)>);

impl Demographics {
    fn tags(&self) -> Vec<String> {
        let mut tags: Vec<String> = self
            .0
            .iter()
            .filter(|(k, _)| matches!(*k, "age" | "income" | "home_ownership" | "household_comp"))
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}:{v}")))
            .collect();
        tags.sort();
        tags
    }

    fn attributes(&self) -> serde_json::Value {
        serde_json::Value::Object(
            self.0
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        v.clone()
                            .map_or(serde_json::Value::Null, serde_json::Value::String),
                    )
                })
                .collect(),
        )
    }
}

const DEMOGRAPHIC_COLUMNS: [&str; 7] = [
    "age",
    "income",
    "home_ownership",
    "marital_status",
    "household_size",
    "household_comp",
    "kids_count",
];

fn demographics(path: &Path) -> anyhow::Result<HashMap<i64, Demographics>> {
    let mut out = HashMap::new();
    for b in batches(path)? {
        let id = ints(&b, "household_id")?;
        let cols = DEMOGRAPHIC_COLUMNS
            .iter()
            .map(|c| strings(&b, c).map(|a| (*c, Arc::new(a))))
            .collect::<anyhow::Result<Vec<_>>>()?;
        for i in 0..b.num_rows() {
            let values = cols.iter().map(|(c, a)| (*c, text(a, i))).collect();
            out.insert(id.value(i), Demographics(values));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::cents;

    #[test]
    fn dollars_round_to_the_nearest_cent() {
        assert_eq!(cents(2.49), 249);
        assert_eq!(cents(0.29), 29);
        assert_eq!(cents(1.005), 100, "binary 1.005 is just below it");
        assert_eq!(cents(0.0), 0);
        assert_eq!(cents(123_456.78), 12_345_678);
    }
}
