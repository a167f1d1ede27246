//! `quan import` on both backends: flat and JSON-lines files with broken rows (reported by row
//! number, the rest imported, or nothing with `--atomic`), re-imports that change nothing, and
//! a small dataset in the Complete Journey layout with the real data's quirks.

use crate::common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use arrow_array::{
    ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use common::{fresh_database, Backend};
use parquet::arrow::ArrowWriter;
use quan_core::zone::TenantZone;

fn quan(args: &[&str], database_url: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_quan"))
        .args(args)
        .env("QUAN_DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run quan");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

async fn store(url: &str) -> Arc<dyn quan_store::Store> {
    quan_store::open(url, TenantZone::parse(common::ZONE).unwrap())
        .await
        .unwrap()
}

const ORDERS_CSV: &str = "\
order_id,user_id,paid_at,status,channel,line_id,sku,store_id,category,qty,amount
o1,u1,2026-01-01T10:00:00Z,paid,pos,1,milk,s1,dairy,2,500
o1,u1,2026-01-01T10:00:00Z,paid,pos,2,bread,s1,bakery,1,300
o2,u2,2026-01-02T10:00:00Z,paid,,1,milk,s1,dairy,-1,500
o3,u2,not-a-time,paid,,1,milk,s1,dairy,1,500
o4,u3,2026-01-03T10:00:00Z,completed,,1,fuel,s2,,0,0
o1,u1,2026-01-01T10:00:00Z,paid,pos,3,eggs,s1,dairy,1,200
o5,u3,2026-01-04T10:00:00Z,shipped,app,1,tea,s2,drinks,1,1234
";

async fn flat_files_report_broken_rows(backend: Backend) {
    let (url, _dir) = fresh_database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orders.csv");
    std::fs::write(&file, ORDERS_CSV).unwrap();
    let file = file.to_str().unwrap();

    // --atomic: the broken rows are reported and nothing is written.
    let (ok, out) = quan(&["import", "orders", "--atomic", file], &url);
    assert!(!ok, "{out}");
    assert!(
        out.contains("row 3: lines[0].qty: must not be negative"),
        "{out}"
    );
    assert!(out.contains("row 4: unreadable"), "{out}");
    assert!(
        out.contains("row 6: order_id: the lines of order o1 are not next to each other"),
        "{out}"
    );
    let s = store(&url).await;
    assert_eq!(s.order_totals().await.unwrap(), (0, 0));

    // Without: the good orders go in, each broken row is reported.
    let (ok, out) = quan(&["import", "orders", file], &url);
    assert!(ok, "{out}");
    assert!(
        out.contains("3 inserted") && out.contains("3 rejected"),
        "{out}"
    );
    assert_eq!(s.order_totals().await.unwrap(), (3, 500 + 300 + 1234));
    let u3 = s.member("u3").await.unwrap().unwrap();
    assert_eq!((u3.history.orders, u3.history.spent), (2, 1234));
    assert!(!u3.is_member(), "an imported order makes no member");
    // Again: nothing changes.
    let (ok, out) = quan(&["import", "orders", file], &url);
    assert!(
        ok && out.contains("0 inserted, 0 updated, 3 unchanged"),
        "{out}"
    );

    // Members as JSON lines: a bad row by number, the rest in.
    let members = dir.path().join("members.jsonl");
    std::fs::write(
        &members,
        "{\"id\": \"u1\", \"tier\": \"gold\", \"tags\": [\"vip\"]}\n{\"id\": \"u7\", \"points\": -5}\n\n{\"id\": \"u8\", \"region\": \"sh\"}\n{\"id\": \n",
    )
    .unwrap();
    let (ok, out) = quan(&["import", "members", members.to_str().unwrap()], &url);
    assert!(ok, "{out}");
    assert!(out.contains("row 2: points: must not be negative"), "{out}");
    assert!(out.contains("row 5: unreadable"), "{out}");
    assert!(
        out.contains("2 inserted, 0 updated"),
        "u1, a buyer so far, joins: a new member; {out}"
    );
    let u1 = s.member("u1").await.unwrap().unwrap();
    assert_eq!(
        (
            u1.is_member(),
            u1.profile.tier.as_deref(),
            u1.history.orders
        ),
        (true, Some("gold"), 1)
    );
}
both!(flat_files_report_broken_rows);

/// A CSV whose first row is data, not its header, is refused whole, naming the header.
async fn a_csv_without_its_header_is_refused(backend: Backend) {
    let (url, _dir) = fresh_database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("orders.csv");
    let headerless: String = ORDERS_CSV
        .lines()
        .skip(1)
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&file, headerless).unwrap();
    let (ok, out) = quan(&["import", "orders", file.to_str().unwrap()], &url);
    assert!(!ok, "{out}");
    assert!(
        out.contains("the first row must be the header")
            && out.contains("order_id, user_id, paid_at, status, line_id, sku, qty, amount"),
        "{out}"
    );
    assert_eq!(store(&url).await.order_totals().await.unwrap(), (0, 0));
}
both!(a_csv_without_its_header_is_refused);

/// Imported times follow the API's range (1970 to before 2100): each row outside is refused
/// with its field, the others go in.
async fn imported_times_outside_the_accepted_years_are_refused(backend: Backend) {
    let (url, _dir) = fresh_database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let orders = dir.path().join("orders.csv");
    std::fs::write(
        &orders,
        "order_id,user_id,paid_at,status,line_id,sku,qty,amount\n\
         o1,u1,2100-01-01T00:00:00Z,paid,1,milk,1,500\n\
         o2,u1,2099-12-31T23:59:59Z,paid,1,milk,1,700\n",
    )
    .unwrap();
    let (ok, out) = quan(&["import", "orders", orders.to_str().unwrap()], &url);
    assert!(ok, "{out}");
    assert!(
        out.contains("row 1: paid_at: times are accepted from 1970 to before 2100"),
        "{out}"
    );
    assert_eq!(store(&url).await.order_totals().await.unwrap(), (1, 700));
    let members = dir.path().join("members.jsonl");
    std::fs::write(
        &members,
        "{\"id\": \"u1\", \"joined_at\": \"0001-01-01T00:00:00Z\"}\n",
    )
    .unwrap();
    let (_, out) = quan(&["import", "members", members.to_str().unwrap()], &url);
    assert!(
        out.contains("row 1: joined_at: times are accepted"),
        "{out}"
    );
    let events = dir.path().join("events.csv");
    std::fs::write(
        &events,
        "event_id,user_id,kind,at\ne1,u1,signup,1969-12-31T23:59:59Z\n",
    )
    .unwrap();
    let (_, out) = quan(&["import", "events", events.to_str().unwrap()], &url);
    assert!(out.contains("row 1: at: times are accepted"), "{out}");
    let u1 = store(&url).await.member("u1").await.unwrap().unwrap();
    assert!(
        !u1.is_member(),
        "neither the member row nor the signup went in"
    );
    let (ok, out) = quan(
        &["rfm", "recompute", "--as-of", "9999-01-01T00:00:00Z"],
        &url,
    );
    assert!(!ok && out.contains("as_of"), "{out}");
}
both!(imported_times_outside_the_accepted_years_are_refused);

fn write_parquet(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// A few baskets in the dataset's layout, with its quirks: quantity 0 with a price, sales 0,
/// a product missing from products.parquet, dollar amounts that are not exact in binary.
fn complete_journey(dir: &Path) -> i64 {
    let h = |v: Vec<i64>| Arc::new(Int64Array::from(v)) as ArrayRef;
    let at = |v: Vec<i64>| Arc::new(TimestampMicrosecondArray::from(v)) as ArrayRef;
    let t0 = 1_483_272_000_000_000; // 2017-01-01T12:00:00Z
    let day = 86_400_000_000;
    let sales = vec![2.49, 0.29, 1.1, 0.0, 3.33, 10.07, 0.6];
    let cents = [249, 29, 110, 0, 333, 1007, 60];
    write_parquet(
        &dir.join("transactions.parquet"),
        vec![
            ("household_id", h(vec![1, 1, 1, 2, 2, 3, 3])),
            ("store_id", h(vec![10, 10, 10, 20, 20, 10, 10])),
            ("basket_id", h(vec![100, 100, 100, 200, 200, 300, 301])),
            ("product_id", h(vec![5, 6, 9999, 5, 6, 5, 6])),
            ("quantity", h(vec![1, 0, 1, 1, 3, 2, 1])),
            (
                "sales_value",
                Arc::new(Float64Array::from(sales.clone())) as ArrayRef,
            ),
            (
                "transaction_timestamp",
                at(vec![
                    t0,
                    t0,
                    t0,
                    t0 + day,
                    t0 + day,
                    t0 + 2 * day,
                    t0 + 3 * day,
                ]),
            ),
        ],
    );
    let s = |v: Vec<Option<&str>>| Arc::new(StringArray::from(v)) as ArrayRef;
    write_parquet(
        &dir.join("products.parquet"),
        vec![
            ("product_id", h(vec![5, 6])),
            ("manufacturer_id", h(vec![1, 2])),
            ("department", s(vec![Some("GROCERY"), Some("PRODUCE")])),
            ("brand", s(vec![Some("National"), None])),
            (
                "product_category",
                s(vec![Some("FLUID MILK PRODUCTS"), Some("TROPICAL FRUIT")]),
            ),
            ("product_type", s(vec![Some("MILK"), Some("BANANAS")])),
            ("package_size", s(vec![Some("1 GA"), None])),
        ],
    );
    let one = |v: &str| s(vec![Some(v)]);
    write_parquet(
        &dir.join("demographics.parquet"),
        vec![
            ("household_id", h(vec![1])),
            ("age", one("65+")),
            ("income", one("35-49K")),
            ("home_ownership", one("Homeowner")),
            ("marital_status", one("Married")),
            ("household_size", one("2")),
            ("household_comp", one("2 Adults No Kids")),
            ("kids_count", one("0")),
        ],
    );
    cents.iter().sum()
}

async fn complete_journey_layout_imports_exactly_once(backend: Backend) {
    let (url, _db) = fresh_database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let cents = complete_journey(dir.path());
    let d = dir.path().to_str().unwrap();
    let (ok, out) = quan(&["import", "completejourney", d], &url);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("3 members, 4 orders, {cents} cents")),
        "{out}"
    );
    // RFM is scored as of the last basket (day 3 at noon), not as of today.
    assert!(
        out.contains("rfm: 3 members scored as of 2017-01-04T12:00:00Z (the last basket)"),
        "{out}"
    );
    let scored = store(&url).await.member("3").await.unwrap().unwrap();
    assert_eq!(
        scored.rfm_at.map(|t| t.to_string()).as_deref(),
        Some("2017-01-04T12:00:00Z")
    );
    let (ok, out) = quan(&["import", "completejourney", d], &url);
    assert!(ok, "{out}");
    assert!(
        out.contains("4 rows read, 0 inserted, 0 updated, 4 unchanged"),
        "{out}"
    );
    let s = store(&url).await;
    let m1 = s.member("1").await.unwrap().unwrap();
    assert!(
        m1.is_member(),
        "the households are a loyalty panel: members"
    );
    assert_eq!(
        m1.profile.joined_at.map(|t| t.to_string()).as_deref(),
        Some("2017-01-01T12:00:00Z")
    );
    assert!(
        m1.profile.tags.contains(&"age:65+".to_string()),
        "{:?}",
        m1.profile.tags
    );
    assert_eq!((m1.history.orders, m1.history.spent), (1, 249 + 29 + 110));
    let (order, lines) = s.history_order("100").await.unwrap().unwrap();
    assert_eq!((order.store_id.as_deref(), lines.len()), (Some("10"), 3));
    assert_eq!(lines[0].category.as_deref(), Some("FLUID MILK PRODUCTS"));
    assert_eq!(
        (lines[2].sku.as_str(), lines[2].category.as_deref()),
        ("9999", None),
        "unknown products are kept"
    );
    assert_eq!(
        (lines[1].qty, lines[1].amount),
        (0, 29),
        "quantity 0 with a price is kept"
    );
    let (ok, out) = quan(
        &["rfm", "recompute", "--as-of", "2017-12-31T00:00:00Z"],
        &url,
    );
    assert!(ok && out.contains("3 members scored"), "{out}");
}
both!(complete_journey_layout_imports_exactly_once);

/// Products, stores and events from CSV, and orders from a flat Parquet file.
async fn every_kind_and_format(backend: Backend) {
    let (url, _db) = fresh_database(backend).await;
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    std::fs::write(path("products.csv"), "sku,name,store_id,department,category,brand\nmilk,Milk,,GROCERY,dairy,\nbread,,,,bakery,Acme\n,nameless,,,,\n").unwrap();
    std::fs::write(
        path("stores.csv"),
        "id,name,region\ns1,Flagship,sh\ns2,,bj\n",
    )
    .unwrap();
    std::fs::write(
        path("events.csv"),
        "event_id,user_id,kind,at,store_id,order_id,tier\ne1,u1,signup,2026-01-01T00:00:00Z,,,\ne2,u1,tier_changed,2026-01-02T00:00:00Z,,,gold\ne3,u1,fly,,,,\n",
    )
    .unwrap();
    let s = |v: Vec<&str>| Arc::new(StringArray::from(v)) as ArrayRef;
    let n = |v: Vec<i64>| Arc::new(Int64Array::from(v)) as ArrayRef;
    write_parquet(
        Path::new(&path("orders.parquet")),
        vec![
            ("order_id", s(vec!["p1", "p1", "p2"])),
            ("user_id", s(vec!["u1", "u1", "u2"])),
            (
                "paid_at",
                s(vec![
                    "2026-01-05T00:00:00Z",
                    "2026-01-05T00:00:00Z",
                    "2026-01-06T00:00:00Z",
                ]),
            ),
            ("status", s(vec!["paid", "paid", "paid"])),
            ("line_id", s(vec!["1", "2", "1"])),
            ("sku", s(vec!["milk", "bread", "milk"])),
            ("store_id", s(vec!["s1", "s1", "s2"])),
            ("qty", n(vec![1, 2, 1])),
            ("amount", n(vec![250, 400, 250])),
        ],
    );
    let (ok, out) = quan(&["import", "products", &path("products.csv")], &url);
    assert!(
        ok && out.contains("2 inserted")
            && out.contains("row 3: sku: must not be empty (invalid_value)"),
        "{out}"
    );
    let (ok, out) = quan(&["import", "stores", &path("stores.csv")], &url);
    assert!(ok && out.contains("2 inserted"), "{out}");
    let (ok, out) = quan(&["import", "events", &path("events.csv")], &url);
    assert!(
        ok && out.contains("2 inserted") && out.contains("row 3: kind:"),
        "{out}"
    );
    let (ok, out) = quan(&["import", "orders", &path("orders.parquet")], &url);
    assert!(ok && out.contains("3 rows read, 2 inserted"), "{out}");
    let st = store(&url).await;
    let u1 = st.member("u1").await.unwrap().unwrap();
    assert_eq!(
        (
            u1.profile.tier.as_deref(),
            u1.history.orders,
            u1.history.spent
        ),
        (Some("gold"), 1, 650)
    );
    assert_eq!(
        u1.profile.joined_at.map(|t| t.to_string()).as_deref(),
        Some("2026-01-01T00:00:00Z"),
        "joined at signup"
    );
    let u2 = st.member("u2").await.unwrap().unwrap();
    assert_eq!(
        (u2.is_member(), u2.history.orders),
        (false, 1),
        "a buyer who never signed up"
    );
    let (_, lines) = st.history_order("p1").await.unwrap().unwrap();
    assert_eq!(
        lines[1].category.as_deref(),
        Some("bakery"),
        "the category comes from the product"
    );
    assert_eq!(
        st.store_record("s1")
            .await
            .unwrap()
            .unwrap()
            .region
            .as_deref(),
        Some("sh")
    );
}
both!(every_kind_and_format);
