//! `quan import`: members, orders, products, stores and events from CSV, JSON lines or Parquet,
//! and the Complete Journey dataset. Streaming, with a progress bar and a final report.
//!
//! Every row is checked as the API checks it (the same parsers); a malformed row is reported
//! with its row number and reason and the rest are imported, or, with `--atomic`, nothing is.
//! Writes are idempotent by id, so importing the same file again changes nothing.

mod cj_campaigns;
pub(crate) mod cj_files;
pub(crate) mod completejourney;
mod rows;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;
use indicatif::ProgressBar;
use jiff::Timestamp;
use quan_app::App;
use quan_app::{catalog, events, history, members, Error as ApiError, Id};
use quan_core::text::Label;
use quan_store::scrm::{Aggregates, MemberProfile, ProductRecord, StoreRecord, Written};
use serde::Deserialize;

use crate::TenantArgs;
use rows::{split_list, Either};

#[derive(clap::Subcommand)]
pub enum ImportCommand {
    /// Members: JSON lines of `PUT /v1/members` bodies with `id`, or flat rows
    /// (id, joined_at, tier, region, channel, guide_id, points, tags separated by `;`).
    Members(FileArgs),
    /// Orders: JSON lines of `PUT /v1/orders/{id}` bodies with `order_id`, or flat rows, one per
    /// line (order_id, user_id, paid_at, status, channel, line_id, sku, store_id, category, qty,
    /// amount), the lines of one order next to each other.
    Orders(FileArgs),
    /// Products: JSON lines of `PUT /v1/products/{sku}` bodies with `sku`, or flat rows
    /// (sku, name, store_id, department, category, brand).
    Products(FileArgs),
    /// Stores: JSON lines or flat rows of (id, name, region).
    Stores(FileArgs),
    /// Events: JSON lines of `POST /v1/events` bodies, or flat rows (event_id, user_id, kind,
    /// at, store_id, order_id, tier).
    Events(FileArgs),
    /// The Complete Journey dataset (a directory of its Parquet files): households as members,
    /// baskets as orders, products with department and category, stores, and its 27 campaigns
    /// with their coupons and redemptions.
    Completejourney {
        #[command(flatten)]
        db: TenantArgs,
        /// The directory holding transactions.parquet, products.parquet, demographics.parquet.
        dir: PathBuf,
        /// Orders per write transaction.
        #[arg(long, default_value_t = 2000)]
        batch: usize,
        /// A sample: only the N households of smallest id, with their baskets and their part
        /// of every campaign.
        #[arg(long)]
        households: Option<usize>,
        /// Leave this campaign out (to forecast it from the history before it).
        #[arg(long)]
        hold_back: Option<i64>,
    },
}

#[derive(clap::Args)]
pub struct FileArgs {
    #[command(flatten)]
    db: TenantArgs,
    /// A .csv, .jsonl (.ndjson) or .parquet file.
    file: PathBuf,
    /// Import nothing if any row is malformed.
    #[arg(long)]
    atomic: bool,
    /// Records per write transaction.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    pub read: usize,
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub conflicts: usize,
    pub rejected: Vec<(usize, String)>,
}

impl Report {
    fn count(&mut self, written: &[Written]) {
        for w in written {
            match w {
                Written::Inserted => self.inserted += 1,
                Written::Updated => self.updated += 1,
                Written::Unchanged => self.unchanged += 1,
                Written::Conflict => self.conflicts += 1,
            }
        }
    }

    fn print(&mut self, what: &str, started: Instant) {
        self.rejected.sort();
        println!(
            "{what}: {} rows read, {} inserted, {} updated, {} unchanged, {} conflicts, {} rejected ({:.1} s)",
            self.read,
            self.inserted,
            self.updated,
            self.unchanged,
            self.conflicts,
            self.rejected.len(),
            started.elapsed().as_secs_f64()
        );
        for (row, reason) in self.rejected.iter().take(100) {
            println!("  row {row}: {reason}");
        }
        if self.rejected.len() > 100 {
            println!("  ... and {} more", self.rejected.len() - 100);
        }
    }
}

/// A flat row's id, by the one id rule, naming its column.
fn id(field: &str, v: String) -> Result<Id, ApiError> {
    quan_app::error::id(field, v)
}

/// A flat row's optional id.
fn opt_id(field: &str, v: Option<String>) -> Result<Option<Id>, ApiError> {
    v.map(|v| id(field, v)).transpose()
}

/// A flat row's optional text of at most `MAX` bytes, naming its column.
fn text<const MAX: usize>(
    field: &str,
    v: Option<String>,
) -> Result<Option<quan_core::text::Text<MAX>>, ApiError> {
    v.map(|v| {
        quan_core::text::Text::parse(&v)
            .map_err(|(code, message)| ApiError::field(code, field, message))
    })
    .transpose()
}

fn reason(e: ApiError) -> String {
    match e.field {
        Some(f) => format!("{f}: {} ({})", e.message, e.code.as_str()),
        None => format!("{} ({})", e.message, e.code.as_str()),
    }
}

pub fn progress(len: Option<u64>, what: &str) -> ProgressBar {
    let bar = match len {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::new_spinner(),
    };
    let template = if len.is_some() {
        "{msg} [{bar:40}] {pos}/{len} ({rate}, {eta})"
    } else {
        "{msg} {spinner} {pos} rows ({rate})"
    };
    bar.set_style(crate::progress::style(template));
    bar.set_message(what.to_string());
    bar
}

pub async fn run(command: ImportCommand) -> anyhow::Result<()> {
    match command {
        ImportCommand::Completejourney {
            db,
            dir,
            batch,
            households,
            hold_back,
        } => {
            let app = db.app().await?;
            completejourney::run(&app, &dir, batch, households, hold_back).await
        }
        ImportCommand::Members(args) => import(args, "members", member_record, write_members).await,
        ImportCommand::Orders(args) => import_orders(args).await,
        ImportCommand::Products(args) => {
            import(args, "products", product_record, write_products).await
        }
        ImportCommand::Stores(args) => import(args, "stores", store_record, write_stores).await,
        ImportCommand::Events(args) => import(args, "events", event_record, write_events).await,
    }
}

type Parse<F, C, R> = fn(Either<F, C>, Timestamp) -> Result<R, ApiError>;

/// Reads, checks and writes the records of one file; batches of `args.batch` records.
async fn import<F: serde::de::DeserializeOwned + 'static, C: rows::Flat, R: Send + 'static>(
    args: FileArgs,
    what: &str,
    parse: Parse<F, C, R>,
    write: for<'a> fn(&'a App, Vec<R>) -> futures_write::Write<'a>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let app = args.db.app().await?;
    let now = Timestamp::now();
    let mut report = Report::default();
    let bar = progress(None, what);
    let mut valid = Vec::new();
    for (row, record) in rows::read::<F, C>(&args.file)? {
        report.read += 1;
        bar.inc(1);
        match record
            .map_err(|e| format!("unreadable: {e}"))
            .and_then(|r| parse(r, now).map_err(reason))
        {
            Ok(r) => valid.push(r),
            Err(e) => report.rejected.push((row, e)),
        }
        if !args.atomic && valid.len() >= args.batch {
            report.count(&write(&app, std::mem::take(&mut valid)).await?);
        }
    }
    if args.atomic && !report.rejected.is_empty() {
        bar.finish_and_clear();
        report.print(what, started);
        bail!(
            "--atomic: {} malformed rows, nothing imported",
            report.rejected.len()
        );
    }
    for chunk in chunks(valid, args.batch) {
        report.count(&write(&app, chunk).await?);
    }
    bar.finish_and_clear();
    report.print(what, started);
    Ok(())
}

fn chunks<R>(mut all: Vec<R>, size: usize) -> Vec<Vec<R>> {
    let mut out = Vec::new();
    while !all.is_empty() {
        let rest = all.split_off(all.len().min(size.max(1)));
        out.push(std::mem::replace(&mut all, rest));
    }
    out
}

/// The boxed futures the writers return.
mod futures_write {
    pub type Write<'a> = std::pin::Pin<
        Box<
            dyn std::future::Future<Output = quan_app::Result<Vec<quan_store::scrm::Written>>>
                + Send
                + 'a,
        >,
    >;
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlatMember {
    id: String,
    joined_at: Option<Timestamp>,
    tier: Option<String>,
    region: Option<String>,
    channel: Option<String>,
    guide_id: Option<String>,
    points: Option<i64>,
    tags: Option<String>,
}

impl rows::Flat for FlatMember {
    const REQUIRED: &'static [&'static str] = &["id"];
}

fn member_record(
    row: Either<members::MemberBody, FlatMember>,
    now: Timestamp,
) -> Result<MemberProfile, ApiError> {
    let body = match row {
        Either::Full(b) => b,
        Either::Flat(f) => members::MemberBody {
            id: Some(id("id", f.id)?),
            joined_at: f.joined_at,
            tier: text("tier", f.tier)?,
            region: text("region", f.region)?,
            channel: text("channel", f.channel)?,
            guide_id: opt_id("guide_id", f.guide_id)?,
            points: f.points.unwrap_or(0),
            tags: split_list(f.tags)
                .iter()
                .map(|t| Label::parse(t))
                .collect::<Result<_, _>>()
                .map_err(|(code, message)| ApiError::field(code, "tags", message))?,
            attributes: None,
        },
    };
    let id = body.id.clone().ok_or_else(|| {
        ApiError::field(
            quan_core::ErrorCode::MissingField,
            "id",
            "a member needs an id",
        )
    })?;
    members::profile(id, body, now)
}

fn write_members(app: &App, v: Vec<MemberProfile>) -> futures_write::Write<'_> {
    Box::pin(async move { app.import_members(&crate::operator(), v).await })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlatProduct {
    sku: String,
    name: Option<String>,
    store_id: Option<String>,
    department: Option<String>,
    category: Option<String>,
    brand: Option<String>,
}

impl rows::Flat for FlatProduct {
    const REQUIRED: &'static [&'static str] = &["sku"];
}

#[derive(Deserialize)]
struct FullProduct {
    sku: String,
    #[serde(flatten)]
    body: serde_json::Map<String, serde_json::Value>,
}

fn product_record(
    row: Either<FullProduct, FlatProduct>,
    now: Timestamp,
) -> Result<ProductRecord, ApiError> {
    let (sku, body) = match row {
        Either::Full(f) => (
            id("sku", f.sku)?,
            quan_app::input::parse::<catalog::ProductBody>(
                &serde_json::to_vec(&f.body).expect("json"),
            )?,
        ),
        Either::Flat(f) => (
            id("sku", f.sku)?,
            catalog::ProductBody {
                name: text("name", f.name)?,
                store_id: opt_id("store_id", f.store_id)?,
                department: text("department", f.department)?,
                category: text("category", f.category)?,
                brand: text("brand", f.brand)?,
                attributes: None,
            },
        ),
    };
    catalog::product(sku, body, now)
}

fn write_products(app: &App, v: Vec<ProductRecord>) -> futures_write::Write<'_> {
    Box::pin(async move { app.import_products(&crate::operator(), v).await })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlatStore {
    id: String,
    name: Option<String>,
    region: Option<String>,
}

impl rows::Flat for FlatStore {
    const REQUIRED: &'static [&'static str] = &["id"];
}

fn store_record(
    row: Either<FlatStore, FlatStore>,
    now: Timestamp,
) -> Result<StoreRecord, ApiError> {
    let (Either::Full(s) | Either::Flat(s)) = row;
    catalog::store(
        id("id", s.id)?,
        catalog::StoreBody {
            name: text("name", s.name)?,
            region: text("region", s.region)?,
            attributes: None,
        },
        now,
    )
}

fn write_stores(app: &App, v: Vec<StoreRecord>) -> futures_write::Write<'_> {
    Box::pin(async move { app.import_stores(&crate::operator(), v).await })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlatEvent {
    event_id: String,
    user_id: String,
    kind: String,
    at: Option<Timestamp>,
    store_id: Option<String>,
    order_id: Option<String>,
    /// The new tier of a `tier_changed` event.
    tier: Option<String>,
}

impl rows::Flat for FlatEvent {
    const REQUIRED: &'static [&'static str] = &["event_id", "user_id", "kind"];
}

fn event_record(
    row: Either<events::EventBody, FlatEvent>,
    now: Timestamp,
) -> Result<quan_store::scrm::EventRecord, ApiError> {
    let body = match row {
        Either::Full(b) => b,
        Either::Flat(f) => events::EventBody {
            event_id: id("event_id", f.event_id)?,
            user_id: id("user_id", f.user_id)?,
            kind: f.kind,
            at: f.at,
            store_id: opt_id("store_id", f.store_id)?,
            order_id: opt_id("order_id", f.order_id)?,
            data: f.tier.map(|t| serde_json::json!({ "tier": t })),
        },
    };
    events::parse_event(body, now)
}

fn write_events(app: &App, v: Vec<quan_store::scrm::EventRecord>) -> futures_write::Write<'_> {
    Box::pin(async move { app.import_events(&crate::operator(), v).await })
}

#[derive(Deserialize)]
struct FullOrder {
    order_id: String,
    #[serde(flatten)]
    body: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlatLine {
    order_id: String,
    user_id: String,
    paid_at: Timestamp,
    status: quan_core::scrm::history::HistoryStatus,
    channel: Option<String>,
    line_id: String,
    sku: String,
    store_id: Option<String>,
    category: Option<String>,
    qty: i64,
    amount: i64,
}

impl rows::Flat for FlatLine {
    const REQUIRED: &'static [&'static str] = &[
        "order_id", "user_id", "paid_at", "status", "line_id", "sku", "qty", "amount",
    ];
}

/// An order assembled from flat rows: its first row, id, body, and why it failed if a row did.
type OpenOrder = (usize, String, history::IngestBody, Option<String>);

fn finish(
    open: Option<OpenOrder>,
    valid: &mut Vec<quan_store::scrm::HistoryOrder>,
    report: &mut Report,
) {
    if let Some((row, id, body, failed)) = open {
        let order = match failed {
            Some(e) => Err(e),
            None => quan_app::error::id("order_id", id)
                .and_then(|id| history::parse_order(id, body))
                .map_err(reason),
        };
        match order {
            Ok(o) => valid.push(o),
            Err(e) => report.rejected.push((row, e)),
        }
    }
}

/// The line of a flat order row, its columns checked by the API's rules.
fn flat_line(l: &FlatLine) -> Result<history::IngestLine, ApiError> {
    Ok(history::IngestLine {
        line_id: id("line_id", l.line_id.clone())?,
        sku: id("sku", l.sku.clone())?,
        store_id: opt_id("store_id", l.store_id.clone())?,
        category: text("category", l.category.clone())?,
        qty: l.qty,
        amount: l.amount,
    })
}

/// Orders: flat rows are grouped into orders by consecutive `order_id`.
async fn import_orders(args: FileArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let app = args.db.app().await?;
    let mut report = Report::default();
    let bar = progress(None, "orders");
    let mut valid = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut open: Option<OpenOrder> = None;
    let mut touched = std::collections::BTreeSet::new();
    let rows: rows::Rows<FullOrder, FlatLine> = rows::read(&args.file)?;
    for (row, record) in rows {
        report.read += 1;
        bar.inc(1);
        match record {
            Err(e) => report.rejected.push((row, format!("unreadable: {e}"))),
            Ok(Either::Full(f)) => {
                let order = quan_app::input::parse::<history::IngestBody>(
                    &serde_json::to_vec(&f.body).expect("json"),
                )
                .and_then(|b| history::parse_order(id("order_id", f.order_id)?, b))
                .map_err(reason);
                match order {
                    Ok(o) => valid.push(o),
                    Err(e) => report.rejected.push((row, e)),
                }
            }
            Ok(Either::Flat(l)) => {
                let line = flat_line(&l);
                match open.as_mut() {
                    Some(o) if o.1 == l.order_id => match line {
                        Ok(line) => o.2.lines.push(line),
                        Err(e) => {
                            o.3.get_or_insert_with(|| reason(e));
                        }
                    },
                    _ => {
                        finish(open.take(), &mut valid, &mut report);
                        let mut failed = (!seen.insert(l.order_id.clone())).then(|| {
                            format!(
                                "order_id: the lines of order {} are not next to each other",
                                l.order_id
                            )
                        });
                        let head = id("user_id", l.user_id.clone())
                            .and_then(|user_id| Ok((user_id, text("channel", l.channel.clone())?)));
                        let (user_id, channel) = head.unwrap_or_else(|e| {
                            failed.get_or_insert_with(|| reason(e));
                            (Id::default(), None)
                        });
                        let mut lines = Vec::new();
                        match line {
                            Ok(line) => lines.push(line),
                            Err(e) => {
                                failed.get_or_insert_with(|| reason(e));
                            }
                        }
                        let body = history::IngestBody {
                            user_id,
                            paid_at: l.paid_at,
                            status: l.status,
                            channel,
                            lines,
                        };
                        open = Some((row, l.order_id, body, failed));
                    }
                }
            }
        }
        if !args.atomic && valid.len() >= args.batch {
            touched.extend(valid.iter().map(|o| o.user_id.clone()));
            report.count(
                &app.import_orders(
                    &crate::operator(),
                    std::mem::take(&mut valid),
                    Aggregates::Deferred,
                )
                .await?,
            );
        }
    }
    finish(open.take(), &mut valid, &mut report);
    if args.atomic && !report.rejected.is_empty() {
        bar.finish_and_clear();
        report.print("orders", started);
        bail!(
            "--atomic: {} malformed rows, nothing imported",
            report.rejected.len()
        );
    }
    touched.extend(valid.iter().map(|o| o.user_id.clone()));
    for chunk in chunks(valid, args.batch) {
        report.count(
            &app.import_orders(&crate::operator(), chunk, Aggregates::Deferred)
                .await?,
        );
    }
    app.refresh_imported(&crate::operator(), Some(touched.into_iter().collect()))
        .await?;
    bar.finish_and_clear();
    report.print("orders", started);
    Ok(())
}
