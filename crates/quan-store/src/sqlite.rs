//! The SQLite backend: one writer thread with group commit, and a few reader connections.
//!
//! SQLite allows one writer at a time. Rather than let many connections fight over the lock
//! ("database is locked"), one thread owns the write connection. Write jobs queue on a channel;
//! the writer takes every job waiting into one `BEGIN IMMEDIATE` transaction and commits once.
//! Claims of one template are decided and written as one batch; any other job runs in its own
//! savepoint, so a failing job rolls back alone. Reads go to separate WAL reader connections.
//!
//! Durability is pipelined: the writer commits with `synchronous=NORMAL` (the commit reaches the
//! WAL file but is not yet fsynced) and hands the group's answers to a syncer thread, which
//! fsyncs the WAL and only then answers. So a 201 still means the claim is on disk, as with
//! `synchronous=FULL`, without the writer waiting on the disk. The disk paces the commits:
//! while an fsync runs, the writer keeps its transaction open and goes on adding the work that
//! arrives, and commits when the syncer reports the disk free. A commit rewrites the last page
//! of every table and index it touched, so fewer, larger commits write fewer pages per claim,
//! and the claims they hold would have waited for that fsync anyway.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::access::Role;
use quan_core::checkout::refund::{RefundAsk, RefundPlan};
use quan_core::claim::MemberFacts;
use quan_core::coupon::{CouponStatus, LedgerEvent};
use quan_core::template::{StatusAction, TemplateStatus};
use quan_core::zone::TenantZone;
use quan_core::{ErrorCode, FieldError};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use tokio::sync::{mpsc, oneshot};

mod scrm;

use crate::claiming::{self, TemplateCache};
use crate::model::*;
use crate::{Result, Store, StoreError};

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_foundation.sql")),
    (2, include_str!("../migrations/sqlite/0002_orders.sql")),
    (3, include_str!("../migrations/sqlite/0003_jobs.sql")),
    (4, include_str!("../migrations/sqlite/0004_scrm.sql")),
    (
        5,
        include_str!("../migrations/sqlite/0005_ledger_rowid.sql"),
    ),
];
const READERS: usize = 4;
// Every `LIMIT` binds its parameter as `0 + ?N`: SQLite (3.4x) reads a bare `LIMIT ?N` while
// planning, which marks the statement to be prepared again whenever that parameter is bound,
// that is on every execution of a cached statement.
const MAX_GROUP: usize = 1024;
/// While one commit is being fsynced, a group of this many claims commits at once, so the next
/// fsync finds it waiting instead of waiting for its commit (BENCHMARKS.md).
const EARLY_COMMIT: usize = 32;

type Reply = Box<dyn FnOnce(Result<(), Arc<StoreError>>) + Send>;
type Job = Box<dyn FnOnce(&Transaction, &WriterCtx) -> (bool, Reply) + Send>;
type ClaimReply = oneshot::Sender<Result<ClaimOutcome>>;

/// What the writer thread takes: claims, which it decides per template in batches, any other
/// write as a closure, and the syncer's word that the disk is free for the next commit.
enum Work {
    Claim(Box<ClaimCommand>, ClaimReply),
    Job(Job),
    /// The syncer made this many commits durable and answered them.
    Synced(usize),
}

/// What write jobs share besides the connection.
pub(crate) struct WriterCtx {
    zone: TenantZone,
    cache: Arc<TemplateCache>,
}

pub struct SqliteStore {
    /// Dropped with the store; the checkpointer stops when it is gone.
    _alive: Arc<()>,
    jobs: mpsc::UnboundedSender<Work>,
    readers: Arc<Vec<Mutex<Connection>>>,
    next_reader: AtomicUsize,
}

fn connect(path: &str) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Savepoints journal to a temporary file unless temp storage is in memory; each claim of
    // a group commit runs in one, so keep them off the disk.
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // 64 MiB of page cache and memory-mapped reads keep hot index pages out of read(2).
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "mmap_size", 268_435_456)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)")?;
    for (version, sql) in MIGRATIONS {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let done: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ?1)",
            [version],
            |r| r.get(0),
        )?;
        if !done {
            tx.execute_batch(sql)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
                params![version, Timestamp::now().as_microsecond()],
            )?;
        }
        tx.commit()?;
    }
    Ok(())
}

impl SqliteStore {
    pub async fn open(path: &str, zone: TenantZone) -> Result<Self> {
        if let Some(dir) = Path::new(path)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Corrupt(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let path = path.to_string();
        let (mut writer, readers, checkpointer, wal) =
            tokio::task::spawn_blocking(move || -> Result<_> {
                let mut writer = connect(&path)?;
                migrate(&mut writer)?;
                // Commits reach the WAL; the syncer thread makes them durable before answering.
                writer.pragma_update(None, "synchronous", "NORMAL")?;
                // The checkpointer thread copies the WAL back into the database; the writer only
                // does so itself as a backstop, when the WAL has grown large.
                writer.pragma_update(None, "wal_autocheckpoint", 20_000)?;
                // A small page cache for the writer: at every commit SQLite scans its whole
                // cache hash for pages past the file's end, so 64 MiB cost the writer more than
                // it saved (BENCHMARKS.md: 13,500 → 15,500 claims/s with 8 MiB).
                writer.pragma_update(None, "cache_size", -8_192)?;
                let readers = (0..READERS)
                    .map(|_| connect(&path).map(Mutex::new))
                    .collect::<Result<Vec<_>>>()?;
                Ok((writer, readers, connect(&path)?, format!("{path}-wal")))
            })
            .await
            .expect("open task")?;
        let cache = Arc::new(TemplateCache::default());
        let (tx, rx) = mpsc::unbounded_channel::<Work>();
        let ctx = WriterCtx { zone, cache };
        let (synced, to_sync) = std::sync::mpsc::channel();
        let free = tx.downgrade();
        std::thread::Builder::new()
            .name("quan-sqlite-sync".into())
            .spawn(move || sync_loop(wal, to_sync, free))
            .expect("spawn syncer");
        std::thread::Builder::new()
            .name("quan-sqlite-writer".into())
            .spawn(move || writer_loop(&mut writer, rx, ctx, synced))
            .expect("spawn writer");
        let alive = Arc::new(());
        let token = Arc::downgrade(&alive);
        std::thread::Builder::new()
            .name("quan-sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, token))
            .expect("spawn checkpointer");
        Ok(Self {
            _alive: alive,
            jobs: tx,
            readers: Arc::new(readers),
            next_reader: AtomicUsize::new(0),
        })
    }

    /// Runs `f` in the writer's next group transaction; answers after the commit.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction, &WriterCtx) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |conn, ctx| {
            let outcome = f(conn, ctx);
            let ok = outcome.is_ok();
            let reply: Reply = Box::new(move |commit| {
                let result = match (outcome, commit) {
                    (Ok(v), Ok(())) => Ok(v),
                    (Err(e), _) => Err(e),
                    (Ok(_), Err(e)) => Err(StoreError::Corrupt(format!("commit failed: {e}"))),
                };
                let _ = tx.send(result);
            });
            (ok, reply)
        });
        self.jobs
            .send(Work::Job(job))
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    /// Runs `f` on a reader connection.
    /// A point read (a key, a row by id, one member's usable coupons: an index lookup of a few
    /// rows): run here on the first idle reader, sparing the hand-off to a blocking thread, or
    /// like any read when every reader is busy.
    async fn read_point<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for k in 0..self.readers.len() {
            if let Ok(conn) = self.readers[(start + k) % self.readers.len()].try_lock() {
                return f(&conn);
            }
        }
        self.read(f).await
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % readers.len();
        tokio::task::spawn_blocking(move || {
            let conn = readers[i].lock().expect("reader lock");
            f(&conn)
        })
        .await
        .expect("read task")
    }
}

/// Runs passive checkpoints beside the writer, so commits do not pay for them.
fn checkpoint_loop(conn: Connection, alive: std::sync::Weak<()>) {
    while alive.strong_count() > 0 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "sqlite checkpoint failed");
        }
    }
}

/// A committed group's answers and the commit's outcome, on their way to the syncer.
type Committed = (Vec<Reply>, Result<(), Arc<StoreError>>);

/// Fsyncs the WAL for every committed group that waits, then answers them all, then tells the
/// writer the disk is free (a weak sender: the store's own sender alone keeps the writer alive).
fn sync_loop(
    wal_path: String,
    groups: std::sync::mpsc::Receiver<Committed>,
    writer: mpsc::WeakUnboundedSender<Work>,
) {
    let mut wal: Option<std::fs::File> = None;
    while let Ok(first) = groups.recv() {
        let mut batch = vec![first];
        batch.extend(groups.try_iter());
        let groups = batch.len();
        let synced = if batch.iter().any(|(_, commit)| commit.is_ok()) {
            let file = match wal.take() {
                Some(f) => Ok(f),
                None => std::fs::OpenOptions::new().read(true).open(&wal_path),
            };
            let started = std::time::Instant::now();
            let synced = file.and_then(|f| f.sync_data().map(|()| f));
            tracing::debug!(groups, fsync = ?started.elapsed(), "sqlite wal fsync");
            match synced {
                Ok(f) => {
                    wal = Some(f);
                    Ok(())
                }
                Err(e) => {
                    tracing::error!(error = %e, "fsync of the SQLite WAL failed");
                    Err(Arc::new(StoreError::Corrupt(format!(
                        "fsync of the WAL failed: {e}"
                    ))))
                }
            }
        } else {
            Ok(())
        };
        for (replies, commit) in batch {
            let outcome = commit.and(synced.clone());
            for reply in replies {
                reply(outcome.clone());
            }
        }
        if let Some(writer) = writer.upgrade() {
            let _ = writer.send(Work::Synced(groups));
        }
    }
}

/// The writer's open transaction: what it holds so far, and whether a claim batch failed while
/// writing (then the whole transaction rolls back and every answer in it is that failure).
struct Group {
    replies: Vec<Reply>,
    claims: usize,
    poisoned: Option<Arc<StoreError>>,
}

fn writer_loop(
    conn: &mut Connection,
    mut rx: mpsc::UnboundedReceiver<Work>,
    ctx: WriterCtx,
    synced: std::sync::mpsc::Sender<Committed>,
) {
    let mut in_flight = 0usize;
    let mut waiting: Vec<Work> = Vec::with_capacity(MAX_GROUP);
    let mut closing = false;
    while !closing {
        let Some(first) = rx.blocking_recv() else {
            return;
        };
        if let Work::Synced(n) = first {
            in_flight -= n;
            continue;
        }
        waiting.push(first);
        let started = std::time::Instant::now();
        let tx = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => {
                tracing::error!(error = %e, "sqlite writer cannot begin a transaction");
                let e = Arc::new(StoreError::from(e));
                let replies = waiting.drain(..).map(|w| refuse(w, &e)).collect();
                if synced.send((replies, Err(e))).is_err() {
                    return;
                }
                in_flight += 1;
                continue;
            }
        };
        let mut group = Group {
            replies: Vec::new(),
            claims: 0,
            poisoned: None,
        };
        loop {
            while waiting.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(Work::Synced(n)) => in_flight -= n,
                    Ok(work) => waiting.push(work),
                    Err(_) => break,
                }
            }
            run_group(&tx, &ctx, &mut waiting, &mut group);
            if in_flight == 0
                || (in_flight == 1 && group.claims >= EARLY_COMMIT)
                || group.poisoned.is_some()
                || group.claims >= MAX_GROUP
            {
                break;
            }
            // The disk is busy with the last commit: add what arrives meanwhile, until the
            // syncer reports it free (or the group is big enough to wait ready behind it).
            match rx.blocking_recv() {
                Some(Work::Synced(n)) => in_flight -= n,
                Some(work) => waiting.push(work),
                None => {
                    closing = true;
                    break;
                }
            }
        }
        let decided = started.elapsed();
        let commit = match group.poisoned {
            Some(e) => {
                drop(tx);
                Err(e)
            }
            None => tx.commit().map_err(|e| Arc::new(StoreError::from(e))),
        };
        in_flight += 1;
        let size = group.replies.len();
        tracing::debug!(size, claims = group.claims, ?decided, total = ?started.elapsed(), "sqlite group commit");
        if let Err(e) = &commit {
            tracing::error!(error = %e, "sqlite group commit failed");
        }
        if synced.send((group.replies, commit)).is_err() {
            tracing::error!("the SQLite syncer has stopped");
            return;
        }
    }
}

/// Runs the waiting work in the open transaction: claims grouped by template, each group one
/// batch without a savepoint (a batch reads and decides before it writes, and a failure while
/// writing poisons the whole transaction), then every other job in its own savepoint.
fn run_group(tx: &Transaction, ctx: &WriterCtx, waiting: &mut Vec<Work>, group: &mut Group) {
    let mut claims: Vec<(String, Vec<ClaimCommand>, Vec<ClaimReply>)> = Vec::new();
    let mut jobs = Vec::new();
    for work in waiting.drain(..) {
        match work {
            Work::Claim(cmd, reply) => {
                match claims.iter_mut().find(|(t, _, _)| *t == cmd.template_id) {
                    Some((_, cmds, replies)) => {
                        cmds.push(*cmd);
                        replies.push(reply);
                    }
                    None => claims.push((cmd.template_id.clone(), vec![*cmd], vec![reply])),
                }
            }
            Work::Job(job) => jobs.push(job),
            Work::Synced(_) => {}
        }
    }
    for (_, cmds, senders) in claims {
        group.claims += cmds.len();
        if let Some(e) = &group.poisoned {
            let e = e.clone();
            group.replies.push(Box::new(move |_| {
                answer_claims(senders, Ok(Vec::new()), Err(e))
            }));
            continue;
        }
        let outcome = match claim_batch(tx, ctx, &cmds) {
            Ok(decided) => decided,
            Err(e) => {
                tracing::error!(error = %e, "writing a claim batch failed; the group rolls back");
                group.poisoned = Some(Arc::new(e));
                Ok(Vec::new())
            }
        };
        group.replies.push(Box::new(move |commit| {
            answer_claims(senders, outcome, commit)
        }));
    }
    for job in jobs {
        if let Err(e) = run_statement(tx, "SAVEPOINT job") {
            group.poisoned.get_or_insert_with(|| Arc::new(e));
        }
        if group.poisoned.is_some() {
            group.replies.push(Box::new(move |_| drop(job)));
            continue;
        }
        let (ok, reply) = job(tx, ctx);
        let undone = if ok {
            Ok(())
        } else {
            run_statement(tx, "ROLLBACK TO job")
        };
        if let Err(e) = undone.and_then(|()| run_statement(tx, "RELEASE job")) {
            group.poisoned.get_or_insert_with(|| Arc::new(e));
        }
        group.replies.push(reply);
    }
}

/// Runs one cached statement without parameters (savepoint control).
fn run_statement(tx: &Transaction, sql: &str) -> Result<()> {
    tx.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// The answer to a piece of work the writer could not start. A job's answer travels inside
/// it: dropped unrun, its caller hears that the writer could not take it.
fn refuse(work: Work, e: &Arc<StoreError>) -> Reply {
    match work {
        Work::Claim(_, sender) => {
            let e = e.clone();
            Box::new(move |_| {
                let _ = sender.send(Err(StoreError::Corrupt(format!("write failed: {e}"))));
            })
        }
        Work::Job(job) => Box::new(move |_| drop(job)),
        Work::Synced(_) => Box::new(|_| {}),
    }
}

fn answer_claims(
    senders: Vec<ClaimReply>,
    outcome: Result<Vec<ClaimOutcome>>,
    commit: Result<(), Arc<StoreError>>,
) {
    match (outcome, commit) {
        (Ok(outcomes), Ok(())) => {
            for (sender, outcome) in senders.into_iter().zip(outcomes) {
                let _ = sender.send(Ok(outcome));
            }
        }
        (Err(e), _) => {
            let message = e.to_string();
            for sender in senders {
                let _ = sender.send(Err(StoreError::Corrupt(format!(
                    "claim batch failed: {message}"
                ))));
            }
        }
        (Ok(_), Err(e)) => {
            for sender in senders {
                let _ = sender.send(Err(StoreError::Corrupt(format!("commit failed: {e}"))));
            }
        }
    }
}

fn ts(us: i64) -> Timestamp {
    from_micros(us)
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).expect("strings serialize")
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

const TEMPLATE_COLS: &str =
    "id, store_id, status, spec, remaining, issued, claimed, used, created_at, updated_at";

fn template_row(r: &Row) -> rusqlite::Result<TemplateRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

type TemplateRow = (
    String,
    Option<String>,
    String,
    String,
    Option<i64>,
    i64,
    i64,
    i64,
    i64,
    i64,
);

fn template_record(row: TemplateRow) -> Result<TemplateRecord> {
    let (id, store_id, status, spec, remaining, issued, claimed, used, created_at, updated_at) =
        row;
    Ok(TemplateRecord {
        spec: serde_json::from_str(&spec)
            .map_err(|e| StoreError::Corrupt(format!("template {id}: {e}")))?,
        status: TemplateStatus::parse(&status).ok_or_else(|| corrupt("template status"))?,
        id,
        store_id,
        remaining,
        issued,
        claimed,
        used,
        created_at: ts(created_at),
        updated_at: ts(updated_at),
    })
}

fn get_template(conn: &Connection, id: &str) -> Result<Option<TemplateRecord>> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {TEMPLATE_COLS} FROM templates WHERE id = ?1"
        ))?
        .query_row([id], template_row)
        .optional()?;
    row.map(template_record).transpose()
}

const COUPON_COLS: &str = "id, template_id, store_id, user_id, code, status, route, claimed_at, valid_from, valid_until, order_id, updated_at";

fn coupon_row(r: &Row) -> rusqlite::Result<Result<CouponRecord>> {
    let status: String = r.get(5)?;
    let Some(status) = CouponStatus::parse(&status) else {
        return Ok(Err(corrupt("coupon status")));
    };
    Ok(Ok(CouponRecord {
        id: r.get(0)?,
        template_id: r.get(1)?,
        store_id: r.get(2)?,
        user_id: r.get(3)?,
        code: r.get(4)?,
        status,
        route: r.get(6)?,
        claimed_at: ts(r.get(7)?),
        valid_from: ts(r.get(8)?),
        valid_until: ts(r.get(9)?),
        order_id: r.get(10)?,
        updated_at: ts(r.get(11)?),
    }))
}

fn get_coupon(conn: &Connection, id: &str) -> Result<Option<CouponRecord>> {
    conn.prepare_cached(&format!("SELECT {COUPON_COLS} FROM coupons WHERE id = ?1"))?
        .query_row([id], coupon_row)
        .optional()?
        .transpose()
}

fn append_ledger(conn: &Connection, e: &LedgerWrite) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        e.coupon_id,
        e.template_id,
        e.user_id,
        e.event.as_str(),
        e.from.map(CouponStatus::as_str),
        e.to.as_str(),
        micros(e.at),
        e.actor,
        e.reason,
        e.order_id
    ])?;
    Ok(())
}

fn member_facts(
    conn: &Connection,
    user_id: &str,
    segment: Option<&str>,
    now: Timestamp,
) -> Result<MemberFacts> {
    let row = conn
        .prepare_cached("SELECT joined_at, tier, paid_orders FROM members WHERE id = ?1")?
        .query_row([user_id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .optional()?;
    let in_segment = match segment {
        Some(s) => scrm::in_segment(conn, s, user_id, now)?,
        None => false,
    };
    Ok(match row {
        Some((joined, tier, paid)) => MemberFacts {
            is_member: true,
            joined_at: Some(ts(joined)),
            tier,
            paid_orders: paid,
            in_segment,
        },
        None => MemberFacts {
            in_segment,
            ..MemberFacts::default()
        },
    })
}

/// Decides and writes a batch of claims of one template inside the writer's transaction.
/// The single writer makes these reads and writes race-free; [`claiming::plan_batch`] decides.
/// The inner result is the decision (an error there has written nothing); the outer error is a
/// failure while writing, after which the transaction must be rolled back.
fn claim_batch(
    conn: &Connection,
    ctx: &WriterCtx,
    cmds: &[ClaimCommand],
) -> Result<Result<Vec<ClaimOutcome>>> {
    let (store_id, plan) = match decide_batch(conn, ctx, cmds) {
        Ok(Some(decided)) => decided,
        Ok(None) => return Ok(Ok(cmds.iter().map(|_| ClaimOutcome::NotFound).collect())),
        Err(e) => return Ok(Err(e)),
    };
    write_batch(conn, &cmds[0].template_id, store_id.as_deref(), &plan)?;
    Ok(Ok(plan.outcomes))
}

/// Reads what a batch needs and decides it: the template's store and the plan, or `None`
/// when the template does not exist.
fn decide_batch(
    conn: &Connection,
    ctx: &WriterCtx,
    cmds: &[ClaimCommand],
) -> Result<Option<(Option<String>, claiming::BatchPlan)>> {
    let template_id = &cmds[0].template_id;
    let row = conn
        .prepare_cached(
            "SELECT store_id, status, spec, version, remaining FROM templates WHERE id = ?1",
        )?
        .query_row([template_id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
            ))
        })
        .optional()?;
    let Some((store_id, status, spec, version, remaining)) = row else {
        return Ok(None);
    };
    let template = ctx.cache.get(template_id, version, &spec)?;
    let mut facts = claiming::BatchFacts {
        store_id,
        status: TemplateStatus::parse(&status).ok_or_else(|| corrupt("template status"))?,
        remaining,
        prior: HashMap::new(),
        usable_codes: HashSet::new(),
        members: HashMap::new(),
        counts: HashMap::new(),
    };
    let mut seen = HashSet::new();
    let needs_member = claiming::needs_member(&template);
    for cmd in cmds {
        if let Some(key) = &cmd.idempotency {
            let prior: Option<(String, Option<String>)> = conn
                .prepare_cached("SELECT request_hash, response FROM idempotency WHERE key_id = ?1 AND idem_key = ?2")?
                .query_row([&key.key_id, &key.key], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            if let Some(p) = prior {
                facts.prior.insert((key.key_id.clone(), key.key.clone()), p);
            }
        }
        if let ClaimRoute::Code(code) = &cmd.route {
            let usable: bool = conn
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM claim_codes WHERE code = ?1 AND template_id = ?2 AND used_by IS NULL)")?
                .query_row([code, template_id], |r| r.get(0))?;
            if usable {
                facts.usable_codes.insert(code.clone());
            }
        }
        if !seen.insert(cmd.user_id.as_str()) {
            continue;
        }
        if needs_member {
            let facts_of = member_facts(
                conn,
                &cmd.user_id,
                claiming::audience_segment(&template),
                cmd.now,
            )?;
            facts.members.insert(cmd.user_id.clone(), facts_of);
        }
        let mut stmt = conn.prepare_cached("SELECT claim_day, COUNT(*) FROM coupons WHERE user_id = ?1 AND template_id = ?2 GROUP BY claim_day")?;
        let rows = stmt.query_map([&cmd.user_id, template_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (day, n) = row?;
            facts.counts.insert((cmd.user_id.clone(), day), n);
        }
    }
    let store_id = facts.store_id.clone();
    let plan = claiming::plan_batch(&template, facts, cmds, &ctx.zone)?;
    Ok(Some((store_id, plan)))
}

/// Writes a decided batch: its coupons with their ledger entries, the template's counters, the
/// claim codes it used and its idempotency records.
fn write_batch(
    conn: &Connection,
    template_id: &str,
    store_id: Option<&str>,
    plan: &claiming::BatchPlan,
) -> Result<()> {
    let c = &plan.coupons;
    let mut insert = conn.prepare_cached(
        "INSERT INTO coupons (id, template_id, store_id, user_id, code, status, route, claimed_at, claim_day, valid_from, valid_until, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, 'claimed', ?6, ?7, ?8, ?9, ?10, ?7)",
    )?;
    let mut ledger = conn.prepare_cached(
        "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason) \
         VALUES (?1, ?2, ?3, ?4, NULL, 'claimed', ?5, ?6, ?7)",
    )?;
    for i in 0..c.id.len() {
        insert.execute(params![
            c.id[i],
            template_id,
            store_id,
            c.user[i],
            c.code[i],
            c.route[i],
            c.claimed_at[i],
            c.day[i],
            c.from[i],
            c.until[i]
        ])?;
        ledger.execute(params![
            c.id[i],
            template_id,
            c.user[i],
            c.event[i],
            c.claimed_at[i],
            c.actor[i],
            c.route[i]
        ])?;
    }
    if plan.claimed > 0 {
        conn.prepare_cached("UPDATE templates SET remaining = ?2, issued = issued + ?3, claimed = claimed + ?4 WHERE id = ?1")?
            .execute(params![template_id, plan.remaining, plan.issued, plan.claimed])?;
    }
    let u = &plan.codes;
    for i in 0..u.code.len() {
        conn.prepare_cached(
            "UPDATE claim_codes SET used_by = ?2, coupon_id = ?3, used_at = ?4 WHERE code = ?1",
        )?
        .execute(params![u.code[i], u.user[i], u.coupon[i], u.at[i]])?;
    }
    let k = &plan.idem;
    for i in 0..k.key.len() {
        conn.prepare_cached("INSERT INTO idempotency (key_id, idem_key, request_hash, response, created_at) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![k.key_id[i], k.key[i], k.hash[i], k.response[i], k.at[i]])?;
    }
    Ok(())
}

fn page_of<T>(
    mut items: Vec<T>,
    limit: u32,
    total: i64,
    cursor_of: impl Fn(&T) -> String,
) -> Page<T> {
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(&cursor_of)
    } else {
        None
    };
    Page { items, total, next }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn setting_or_init(&self, name: &str, init: String) -> Result<String> {
        let name = name.to_string();
        self.write(move |tx, _| {
            tx.execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
                [&name, &init],
            )?;
            Ok(
                tx.query_row("SELECT value FROM settings WHERE name = ?1", [&name], |r| {
                    r.get(0)
                })?,
            )
        })
        .await
    }

    async fn insert_key(&self, key: NewKey) -> Result<KeyRecord> {
        self.write(move |tx, _| {
            tx.execute(
                "INSERT INTO api_keys (id, key_hash, role, store_ids, user_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![key.id, key.key_hash, key.role.as_str(), json_list(&key.store_ids), key.user_id, micros(key.created_at)],
            )?;
            Ok(KeyRecord { id: key.id, role: key.role, store_ids: key.store_ids, user_id: key.user_id, created_at: key.created_at })
        })
        .await
    }

    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRecord>> {
        let key_hash = key_hash.to_string();
        self.read_point(move |conn| {
            let row = conn
                .prepare_cached("SELECT id, role, store_ids, user_id, created_at FROM api_keys WHERE key_hash = ?1")?
                .query_row([&key_hash], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?, r.get::<_, i64>(4)?))
                })
                .optional()?;
            row.map(|(id, role, stores, user_id, created)| {
                Ok(KeyRecord {
                    id,
                    role: Role::parse(&role).ok_or_else(|| corrupt("key role"))?,
                    store_ids: serde_json::from_str(&stores).map_err(|_| corrupt("key stores"))?,
                    user_id,
                    created_at: ts(created),
                })
            })
            .transpose()
        })
        .await
    }

    async fn insert_template(&self, new: NewTemplate) -> Result<TemplateRecord> {
        self.write(move |tx, _| {
            let spec = new.template.spec();
            let now = micros(new.now);
            tx.execute(
                "INSERT INTO templates (id, store_id, status, spec, stock, remaining, created_by, created_at, updated_at) \
                 VALUES (?1, ?2, 'draft', ?3, ?4, ?4, ?5, ?6, ?6)",
                params![new.id, spec.scope.store_id(), serde_json::to_string(spec).expect("spec serializes"), spec.stock, new.created_by, now],
            )?;
            get_template(tx, &new.id)?.ok_or_else(|| corrupt("template vanished"))
        })
        .await
    }

    async fn template(&self, id: &str) -> Result<Option<TemplateRecord>> {
        let id = id.to_string();
        self.read_point(move |conn| get_template(conn, &id)).await
    }

    async fn list_templates(&self, f: TemplateFilter) -> Result<Page<TemplateRecord>> {
        self.read(move |conn| {
            let stores = f.stores.as_ref().map(|s| json_list(s));
            let status = f.status.map(|s| s.as_str());
            let filter = "(?1 IS NULL OR store_id IN (SELECT value FROM json_each(?1))) AND (?2 IS NULL OR status = ?2) \
                          AND (?3 IS NULL OR json_extract(spec, '$.scope.kind') = ?3)";
            let total: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM templates WHERE {filter}"), params![stores, status, f.scope_kind], |r| r.get(0))?;
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {TEMPLATE_COLS} FROM templates WHERE {filter} AND (?4 IS NULL OR id > ?4) ORDER BY id LIMIT 0 + ?5"
            ))?;
            let rows = stmt
                .query_map(params![stores, status, f.scope_kind, f.cursor, i64::from(f.limit) + 1], template_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let items = rows.into_iter().map(template_record).collect::<Result<Vec<_>>>()?;
            Ok(page_of(items, f.limit, total, |t| t.id.clone()))
        })
        .await
    }

    async fn update_template(
        &self,
        u: TemplateUpdate,
    ) -> Result<Result<TemplateRecord, ErrorCode>> {
        self.write(move |tx, _| {
            let Some(current) = get_template(tx, &u.id)? else { return Ok(Err(ErrorCode::NotFound)) };
            if current.status != TemplateStatus::Draft {
                return Ok(Err(ErrorCode::InvalidState));
            }
            let spec = u.template.spec();
            tx.execute(
                "UPDATE templates SET spec = ?2, store_id = ?3, stock = ?4, remaining = ?4, version = version + 1, updated_at = ?5 WHERE id = ?1",
                params![u.id, serde_json::to_string(spec).expect("spec serializes"), spec.scope.store_id(), spec.stock, micros(u.now)],
            )?;
            Ok(Ok(get_template(tx, &u.id)?.ok_or_else(|| corrupt("template vanished"))?))
        })
        .await
    }

    async fn set_template_status(
        &self,
        id: &str,
        action: StatusAction,
        now: Timestamp,
    ) -> Result<Result<TemplateRecord, ErrorCode>> {
        let id = id.to_string();
        self.write(move |tx, _| {
            let Some(current) = get_template(tx, &id)? else {
                return Ok(Err(ErrorCode::NotFound));
            };
            let Some(next) = current.status.apply(action) else {
                return Ok(Err(ErrorCode::InvalidState));
            };
            tx.execute(
                "UPDATE templates SET status = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, next.as_str(), micros(now)],
            )?;
            Ok(Ok(
                get_template(tx, &id)?.ok_or_else(|| corrupt("template vanished"))?
            ))
        })
        .await
    }

    async fn claim(&self, cmd: ClaimCommand) -> Result<ClaimOutcome> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Work::Claim(Box::new(cmd), tx))
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    async fn make_claim_codes(
        &self,
        template_id: &str,
        count: u32,
        now: Timestamp,
    ) -> Result<Result<Vec<String>, ErrorCode>> {
        let template_id = template_id.to_string();
        self.write(move |tx, _| {
            let n = i64::from(count);
            let updated = tx.execute(
                "UPDATE templates SET remaining = remaining - ?2, issued = issued + ?2 WHERE id = ?1 AND (remaining IS NULL OR remaining >= ?2)",
                params![template_id, n],
            )?;
            if updated == 0 {
                return Ok(Err(ErrorCode::OutOfStock));
            }
            let mut insert = tx.prepare_cached("INSERT INTO claim_codes (code, template_id, created_at) VALUES (?1, ?2, ?3)")?;
            let codes: Vec<String> = (0..count).map(|_| crate::ids::new_code()).collect();
            for code in &codes {
                insert.execute(params![code, template_id, micros(now)])?;
            }
            Ok(Ok(codes))
        })
        .await
    }

    async fn insert_job(&self, job: NewJob) -> Result<Option<JobRecord>> {
        self.insert_job_impl(job).await
    }

    async fn job(&self, id: &str) -> Result<Option<JobRecord>> {
        let id = id.to_string();
        self.read(move |conn| get_job(conn, &id)).await
    }

    async fn job_codes(
        &self,
        id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<String>> {
        self.job_codes_impl(id, limit, cursor).await
    }

    async fn run_job_batch(&self, batch: JobBatch) -> Result<Option<JobRecord>> {
        self.run_job_batch_impl(batch).await
    }

    async fn take_lapsed_job(&self, now: Timestamp, lease: Lease) -> Result<Option<JobRecord>> {
        self.take_lapsed_job_impl(now, lease).await
    }

    async fn fail_job(
        &self,
        id: &str,
        owner: &str,
        error: JobError,
        now: Timestamp,
    ) -> Result<bool> {
        self.fail_job_impl(id, owner, error, now).await
    }

    async fn coupon(&self, id: &str) -> Result<Option<CouponRecord>> {
        let id = id.to_string();
        self.read_point(move |conn| get_coupon(conn, &id)).await
    }

    async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRecord>> {
        let code = code.to_string();
        self.read_point(move |conn| {
            conn.prepare_cached(&format!(
                "SELECT {COUPON_COLS} FROM coupons WHERE code = ?1"
            ))?
            .query_row([&code], coupon_row)
            .optional()?
            .transpose()
        })
        .await
    }

    async fn redeem_coupon(
        &self,
        id: &str,
        order_id: Option<&str>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<CouponRecord, ErrorCode>> {
        let (id, order_id, actor) = (
            id.to_string(),
            order_id.map(str::to_string),
            actor.to_string(),
        );
        self.write(move |tx, _| {
            let Some(c) = get_coupon(tx, &id)? else { return Ok(Err(ErrorCode::NotFound)) };
            if c.status != CouponStatus::Claimed || c.valid_from > now || c.valid_until <= now {
                return Ok(Err(ErrorCode::InvalidState));
            }
            tx.prepare_cached("UPDATE coupons SET status = 'redeemed', order_id = ?2, updated_at = ?3 WHERE id = ?1")?
                .execute(params![id, order_id, micros(now)])?;
            tx.prepare_cached("UPDATE templates SET used = used + 1 WHERE id = ?1")?.execute([&c.template_id])?;
            append_ledger(
                tx,
                &LedgerWrite {
                    coupon_id: &id,
                    template_id: &c.template_id,
                    user_id: &c.user_id,
                    event: LedgerEvent::Redeemed,
                    from: Some(CouponStatus::Claimed),
                    to: CouponStatus::Redeemed,
                    at: now,
                    actor: &actor,
                    reason: Some("redeemed by code"),
                    order_id: order_id.as_deref(),
                },
            )?;
            Ok(Ok(get_coupon(tx, &id)?.ok_or_else(|| corrupt("coupon vanished"))?))
        })
        .await
    }

    async fn usable_coupons(
        &self,
        user_id: &str,
        now: Timestamp,
        with_locked: bool,
        limit: u32,
    ) -> Result<Vec<CouponRecord>> {
        let user_id = user_id.to_string();
        self.read_point(move |conn| {
            // Named, because without statistics the planner would walk every claimed coupon by
            // expiry (`coupons_expiry`) instead of this member's coupons. (A dedicated index
            // would cost every claim one more insert at a random page.)
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {COUPON_COLS} FROM coupons INDEXED BY coupons_user WHERE user_id = ?1 \
                 AND status IN ('claimed', ?3) AND valid_until > ?2 ORDER BY valid_until, id LIMIT 0 + ?4"
            ))?;
            let also = if with_locked { "locked" } else { "claimed" };
            let rows = stmt.query_map(params![user_id, micros(now), also, limit], coupon_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().collect()
        })
        .await
    }

    async fn wallet(&self, q: WalletQuery) -> Result<Page<CouponRecord>> {
        self.read(move |conn| {
            let stores = q.stores.as_ref().map(|s| json_list(s));
            let now = micros(q.now);
            // ?4 is the status asked for; a claimed coupon past its end (?3) reads as expired.
            let filter = "user_id = ?1 AND (?2 IS NULL OR store_id IN (SELECT value FROM json_each(?2))) AND (?4 = '' \
                 OR (?4 = 'claimed' AND status = 'claimed' AND valid_until > ?3) \
                 OR (?4 = 'expired' AND (status = 'expired' OR (status = 'claimed' AND valid_until <= ?3))) \
                 OR (?4 NOT IN ('claimed', 'expired') AND status = ?4))";
            let status = q.status.map(CouponStatus::as_str).unwrap_or("");
            let total: i64 = conn.query_row(&format!("SELECT COUNT(*) FROM coupons WHERE {filter}"), params![q.user_id, stores, now, status], |r| r.get(0))?;
            let mut stmt = conn.prepare_cached(&format!("SELECT {COUPON_COLS} FROM coupons WHERE {filter} AND (?5 IS NULL OR id > ?5) ORDER BY id LIMIT 0 + ?6"))?;
            let items = stmt
                .query_map(params![q.user_id, stores, now, status, q.cursor, i64::from(q.limit) + 1], coupon_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
            Ok(page_of(items, q.limit, total, |c| c.id.clone()))
        })
        .await
    }

    async fn revoke_coupon(
        &self,
        id: &str,
        actor: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Result<CouponRecord, ErrorCode>> {
        let (id, actor, reason) = (id.to_string(), actor.to_string(), reason.to_string());
        self.write(move |tx, _| {
            let Some(c) = get_coupon(tx, &id)? else {
                return Ok(Err(ErrorCode::NotFound));
            };
            if c.status != CouponStatus::Claimed {
                return Ok(Err(ErrorCode::InvalidState));
            }
            tx.execute(
                "UPDATE coupons SET status = 'revoked', updated_at = ?2 WHERE id = ?1",
                params![id, micros(now)],
            )?;
            append_ledger(
                tx,
                &LedgerWrite {
                    coupon_id: &id,
                    template_id: &c.template_id,
                    user_id: &c.user_id,
                    event: LedgerEvent::Revoked,
                    from: Some(CouponStatus::Claimed),
                    to: CouponStatus::Revoked,
                    at: now,
                    actor: &actor,
                    reason: Some(&reason),
                    order_id: None,
                },
            )?;
            Ok(Ok(
                get_coupon(tx, &id)?.ok_or_else(|| corrupt("coupon vanished"))?
            ))
        })
        .await
    }

    async fn expire_due(&self, now: Timestamp, limit: u32) -> Result<u64> {
        self.write(move |tx, _| {
            let due: Vec<(String, String, String)> = tx
                .prepare_cached("SELECT id, template_id, user_id FROM coupons WHERE status = 'claimed' AND valid_until <= ?1 LIMIT 0 + ?2")?
                .query_map(params![micros(now), limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, template_id, user_id) in &due {
                tx.prepare_cached("UPDATE coupons SET status = 'expired', updated_at = ?2 WHERE id = ?1")?.execute(params![id, micros(now)])?;
                append_ledger(
                    tx,
                    &LedgerWrite {
                        coupon_id: id,
                        template_id,
                        user_id,
                        event: LedgerEvent::Expired,
                        from: Some(CouponStatus::Claimed),
                        to: CouponStatus::Expired,
                        at: now,
                        actor: "system",
                        reason: Some("validity ended"),
                        order_id: None,
                    },
                )?;
            }
            Ok(due.len() as u64)
        })
        .await
    }

    async fn ledger(&self, coupon_id: &str) -> Result<Vec<LedgerEntry>> {
        let coupon_id = coupon_id.to_string();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id \
                 FROM coupon_ledger WHERE coupon_id = ?1 ORDER BY seq",
            )?;
            let rows = stmt.query_map([&coupon_id], |r| {
                Ok(LedgerEntry {
                    seq: r.get(0)?,
                    coupon_id: r.get(1)?,
                    template_id: r.get(2)?,
                    user_id: r.get(3)?,
                    event: r.get(4)?,
                    from_status: r.get(5)?,
                    to_status: r.get(6)?,
                    at: ts(r.get(7)?),
                    actor: r.get(8)?,
                    reason: r.get(9)?,
                    order_id: r.get(10)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn ledger_count(&self) -> Result<i64> {
        self.read(
            |conn| Ok(conn.query_row("SELECT COUNT(*) FROM coupon_ledger", [], |r| r.get(0))?),
        )
        .await
    }

    async fn coupon_count(&self, template_id: &str) -> Result<i64> {
        let template_id = template_id.to_string();
        self.read(move |conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*) FROM coupons WHERE template_id = ?1",
                [&template_id],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn lock_order(&self, order: NewOrder) -> Result<Result<OrderRecord, LockRefusal>> {
        self.lock_order_impl(order).await
    }

    async fn order(&self, id: &str) -> Result<Option<OrderRecord>> {
        self.order_impl(id).await
    }

    async fn pay_order(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        self.pay_order_impl(id, now, actor).await
    }

    async fn cancel_order(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        self.cancel_order_impl(id, now, actor).await
    }

    async fn refund_order(
        &self,
        id: &str,
        ask: Vec<RefundAsk>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<(OrderRecord, RefundPlan), FieldError>> {
        self.refund_order_impl(id, ask, now, actor).await
    }

    async fn release_lapsed_locks(&self, now: Timestamp) -> Result<u64> {
        self.release_lapsed_locks_impl(now).await
    }

    async fn begin_idempotent(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<IdempotencyStart> {
        let key = key.clone();
        self.write(move |tx, _| {
            let prior: Option<(String, Option<String>)> = tx
                .query_row("SELECT request_hash, response FROM idempotency WHERE key_id = ?1 AND idem_key = ?2", [&key.key_id, &key.key], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            Ok(match prior {
                Some((hash, _)) if hash != key.request_hash => IdempotencyStart::Mismatch,
                Some((_, Some(response))) => IdempotencyStart::Replay(response),
                Some((_, None)) => IdempotencyStart::InFlight,
                None => {
                    tx.execute(
                        "INSERT INTO idempotency (key_id, idem_key, request_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
                        params![key.key_id, key.key, key.request_hash, micros(now)],
                    )?;
                    IdempotencyStart::Started
                }
            })
        })
        .await
    }

    async fn finish_idempotent(&self, key: &IdempotencyKey, response: &str) -> Result<()> {
        let (key, response) = (key.clone(), response.to_string());
        self.write(move |tx, _| {
            tx.execute(
                "UPDATE idempotency SET response = ?3 WHERE key_id = ?1 AND idem_key = ?2",
                params![key.key_id, key.key, response],
            )?;
            Ok(())
        })
        .await
    }

    async fn sweep_idempotency(&self, before: Timestamp) -> Result<u64> {
        self.write(move |tx, _| {
            Ok(tx.execute(
                "DELETE FROM idempotency WHERE created_at < ?1",
                [micros(before)],
            )? as u64)
        })
        .await
    }
}

const ORDER_COLS: &str = "id, user_id, status, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at, request_hash";

fn get_order(conn: &Connection, id: &str) -> Result<Option<(OrderRecord, String)>> {
    let row = conn
        .prepare_cached(&format!("SELECT {ORDER_COLS} FROM orders WHERE id = ?1"))?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, i64>(8)?,
                r.get::<_, i64>(9)?,
                r.get::<_, String>(10)?,
            ))
        })
        .optional()?;
    row.map(
        |(
            id,
            user_id,
            status,
            quote,
            lines,
            coupons,
            payable,
            lock_until,
            created,
            updated,
            hash,
        )| {
            Ok((
                OrderRecord {
                    id,
                    user_id,
                    status,
                    quote,
                    lines: serde_json::from_str(&lines).map_err(|_| corrupt("order lines"))?,
                    coupon_ids: serde_json::from_str(&coupons)
                        .map_err(|_| corrupt("order coupons"))?,
                    payable,
                    lock_until: ts(lock_until),
                    created_at: ts(created),
                    updated_at: ts(updated),
                },
                hash,
            ))
        },
    )
    .transpose()
}

fn order_of(conn: &Connection, id: &str) -> Result<OrderRecord> {
    get_order(conn, id)?
        .map(|(o, _)| o)
        .ok_or_else(|| corrupt("order vanished"))
}

/// Moves the coupons an order still holds back to the wallet, with a ledger entry each.
fn release_coupons(
    conn: &Connection,
    order: &OrderRecord,
    now: Timestamp,
    actor: &str,
    reason: &str,
) -> Result<()> {
    for id in &order.coupon_ids {
        let Some(c) = get_coupon(conn, id)? else {
            continue;
        };
        if c.status != CouponStatus::Locked || c.order_id.as_deref() != Some(order.id.as_str()) {
            continue;
        }
        conn.prepare_cached("UPDATE coupons SET status = 'claimed', order_id = NULL, locked_until = NULL, updated_at = ?2 WHERE id = ?1")?
            .execute(params![id, micros(now)])?;
        append_ledger(
            conn,
            &LedgerWrite {
                coupon_id: id,
                template_id: &c.template_id,
                user_id: &c.user_id,
                event: LedgerEvent::Released,
                from: Some(CouponStatus::Locked),
                to: CouponStatus::Claimed,
                at: now,
                actor,
                reason: Some(reason),
                order_id: Some(&order.id),
            },
        )?;
    }
    Ok(())
}

fn set_order_status(conn: &Connection, id: &str, status: &str, now: Timestamp) -> Result<()> {
    conn.prepare_cached("UPDATE orders SET status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, status, micros(now)])?;
    Ok(())
}

impl SqliteStore {
    pub(crate) async fn lock_order_impl(
        &self,
        o: NewOrder,
    ) -> Result<Result<OrderRecord, LockRefusal>> {
        self.write(move |tx, _| {
            if let Some((existing, hash)) = get_order(tx, &o.id)? {
                return Ok(if hash == o.request_hash { Ok(existing) } else { Err(LockRefusal::Conflict) });
            }
            // Check every coupon before changing any: the lock is all or nothing.
            let mut held = Vec::with_capacity(o.coupon_ids.len());
            for id in &o.coupon_ids {
                let lapsed = |until: Option<i64>| until.is_some_and(|l| l <= micros(o.now));
                let locked_until: Option<i64> = tx
                    .prepare_cached("SELECT locked_until FROM coupons WHERE id = ?1")?
                    .query_row([id], |r| r.get(0))
                    .optional()?
                    .flatten();
                let usable = get_coupon(tx, id)?.filter(|c| {
                    c.user_id == o.user_id
                        && c.valid_until > o.now
                        && (c.status == CouponStatus::Claimed || (c.status == CouponStatus::Locked && lapsed(locked_until)))
                });
                match usable {
                    Some(c) => held.push(c),
                    None => return Ok(Err(LockRefusal::CouponNotUsable(id.clone()))),
                }
            }
            for c in &held {
                tx.prepare_cached("UPDATE coupons SET status = 'locked', order_id = ?2, locked_until = ?3, updated_at = ?4 WHERE id = ?1")?
                    .execute(params![c.id, o.id, micros(o.lock_until), micros(o.now)])?;
                append_ledger(
                    tx,
                    &LedgerWrite {
                        coupon_id: &c.id,
                        template_id: &c.template_id,
                        user_id: &c.user_id,
                        event: LedgerEvent::Locked,
                        from: Some(c.status),
                        to: CouponStatus::Locked,
                        at: o.now,
                        actor: &o.actor,
                        reason: None,
                        order_id: Some(&o.id),
                    },
                )?;
            }
            tx.execute(
                "INSERT INTO orders (id, user_id, status, request_hash, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at) \
                 VALUES (?1, ?2, 'locked', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
                params![
                    o.id,
                    o.user_id,
                    o.request_hash,
                    o.quote,
                    serde_json::to_string(&o.lines).expect("lines serialize"),
                    json_list(&o.coupon_ids),
                    o.payable,
                    micros(o.lock_until),
                    micros(o.now)
                ],
            )?;
            Ok(Ok(order_of(tx, &o.id)?))
        })
        .await
    }

    pub(crate) async fn order_impl(&self, id: &str) -> Result<Option<OrderRecord>> {
        let id = id.to_string();
        self.read_point(move |conn| Ok(get_order(conn, &id)?.map(|(o, _)| o)))
            .await
    }

    pub(crate) async fn pay_order_impl(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        let (id, actor) = (id.to_string(), actor.to_string());
        self.write(move |tx, _| {
            let Some((order, _)) = get_order(tx, &id)? else { return Ok(Err(ErrorCode::NotFound)) };
            match order.status.as_str() {
                "paid" => return Ok(Ok(order)),
                "locked" if order.lock_until > now => {}
                "locked" => {
                    release_coupons(tx, &order, now, "system", "lock lapsed")?;
                    set_order_status(tx, &id, "expired", now)?;
                    return Ok(Err(ErrorCode::InvalidState));
                }
                _ => return Ok(Err(ErrorCode::InvalidState)),
            }
            let mut coupons = Vec::new();
            for cid in &order.coupon_ids {
                match get_coupon(tx, cid)? {
                    Some(c) if c.status == CouponStatus::Locked && c.order_id.as_deref() == Some(id.as_str()) => coupons.push(c),
                    _ => return Ok(Err(ErrorCode::InvalidState)),
                }
            }
            for c in &coupons {
                tx.prepare_cached("UPDATE coupons SET status = 'redeemed', locked_until = NULL, updated_at = ?2 WHERE id = ?1")?
                    .execute(params![c.id, micros(now)])?;
                tx.prepare_cached("UPDATE templates SET used = used + 1 WHERE id = ?1")?.execute([&c.template_id])?;
                append_ledger(
                    tx,
                    &LedgerWrite {
                        coupon_id: &c.id,
                        template_id: &c.template_id,
                        user_id: &c.user_id,
                        event: LedgerEvent::Redeemed,
                        from: Some(CouponStatus::Locked),
                        to: CouponStatus::Redeemed,
                        at: now,
                        actor: &actor,
                        reason: None,
                        order_id: Some(&id),
                    },
                )?;
            }
            set_order_status(tx, &id, "paid", now)?;
            // A paid checkout order is an order of the member's history.
            let mut touched = std::collections::BTreeSet::new();
            scrm::write_order(tx, crate::scrm::checkout_history(&order, now), now, &mut touched)?;
            scrm::refresh(tx, &touched, now)?;
            Ok(Ok(order_of(tx, &id)?))
        })
        .await
    }

    pub(crate) async fn cancel_order_impl(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        let (id, actor) = (id.to_string(), actor.to_string());
        self.write(move |tx, _| {
            let Some((order, _)) = get_order(tx, &id)? else {
                return Ok(Err(ErrorCode::NotFound));
            };
            match order.status.as_str() {
                "paid" => Ok(Err(ErrorCode::InvalidState)),
                "cancelled" | "expired" => Ok(Ok(order)),
                _ => {
                    release_coupons(tx, &order, now, &actor, "order cancelled")?;
                    set_order_status(tx, &id, "cancelled", now)?;
                    Ok(Ok(order_of(tx, &id)?))
                }
            }
        })
        .await
    }

    pub(crate) async fn refund_order_impl(
        &self,
        id: &str,
        ask: Vec<RefundAsk>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<(OrderRecord, RefundPlan), FieldError>> {
        let (id, actor) = (id.to_string(), actor.to_string());
        self.write(move |tx, _| {
            let Some((order, _)) = get_order(tx, &id)? else {
                return Ok(Err(FieldError::new(ErrorCode::NotFound, "order_id", "no such order")));
            };
            if order.status != "paid" {
                return Ok(Err(FieldError::new(ErrorCode::InvalidState, "status", "only a paid order is refunded")));
            }
            let quote: quan_core::checkout::Quote = serde_json::from_str(&order.quote).map_err(|_| corrupt("order quote"))?;
            let plan = match quan_core::checkout::refund::plan(&order.lines, &quote, &ask) {
                Ok(p) => p,
                Err(e) => return Ok(Err(e)),
            };
            for cid in &plan.coupons_back {
                let Some(c) = get_coupon(tx, cid)? else { continue };
                if c.status != CouponStatus::Redeemed {
                    continue;
                }
                let to = if c.valid_until > now { CouponStatus::Claimed } else { CouponStatus::Expired };
                tx.prepare_cached("UPDATE coupons SET status = ?2, order_id = NULL, updated_at = ?3 WHERE id = ?1")?
                    .execute(params![cid, to.as_str(), micros(now)])?;
                tx.prepare_cached("UPDATE templates SET used = used - 1 WHERE id = ?1")?.execute([&c.template_id])?;
                append_ledger(
                    tx,
                    &LedgerWrite {
                        coupon_id: cid,
                        template_id: &c.template_id,
                        user_id: &c.user_id,
                        event: if to == CouponStatus::Claimed { LedgerEvent::Restored } else { LedgerEvent::Expired },
                        from: Some(CouponStatus::Redeemed),
                        to,
                        at: now,
                        actor: &actor,
                        reason: Some("order refunded"),
                        order_id: Some(&id),
                    },
                )?;
            }
            tx.prepare_cached("UPDATE orders SET lines = ?2, updated_at = ?3 WHERE id = ?1")?
                .execute(params![id, serde_json::to_string(&plan.after).expect("lines serialize"), micros(now)])?;
            let after = order_of(tx, &id)?;
            // The member's history follows: what the lines paid less what was refunded.
            let paid_at: Option<i64> = tx
                .prepare_cached("SELECT paid_at FROM member_orders WHERE id = ?1")?
                .query_row([&id], |r| r.get(0))
                .optional()?;
            if let Some(at) = paid_at {
                let mut touched = std::collections::BTreeSet::new();
                scrm::write_order(tx, crate::scrm::checkout_history(&after, ts(at)), now, &mut touched)?;
                scrm::refresh(tx, &touched, now)?;
            }
            Ok(Ok((after, plan)))
        })
        .await
    }

    pub(crate) async fn release_lapsed_locks_impl(&self, now: Timestamp) -> Result<u64> {
        self.write(move |tx, _| {
            let ids: Vec<String> = tx
                .prepare_cached(
                    "SELECT id FROM orders WHERE status = 'locked' AND lock_until <= ?1 LIMIT 1000",
                )?
                .query_map([micros(now)], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for id in &ids {
                let order = order_of(tx, id)?;
                release_coupons(tx, &order, now, "system", "lock lapsed")?;
                set_order_status(tx, id, "expired", now)?;
            }
            Ok(ids.len() as u64)
        })
        .await
    }
}

const JOB_COLS: &str =
    "id, kind, template_id, store_id, status, total, done, error_code, error_message, \
     lease_owner, created_by, created_at, updated_at, finished_at";

fn job_row(r: &Row) -> rusqlite::Result<Result<JobRecord>> {
    let (kind, status): (String, String) = (r.get(1)?, r.get(4)?);
    let (Some(kind), Some(status)) = (JobKind::parse(&kind), JobStatus::parse(&status)) else {
        return Ok(Err(corrupt("job kind or status")));
    };
    let error = match r.get::<_, Option<String>>(7)? {
        None => None,
        Some(c) => match error_code(&c) {
            Some(code) => Some(JobError {
                code,
                message: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
            }),
            None => return Ok(Err(corrupt("job error code"))),
        },
    };
    Ok(Ok(JobRecord {
        id: r.get(0)?,
        kind,
        template_id: r.get(2)?,
        store_id: r.get(3)?,
        status,
        total: r.get(5)?,
        done: r.get(6)?,
        error,
        lease_owner: r.get(9)?,
        created_by: r.get(10)?,
        created_at: ts(r.get(11)?),
        updated_at: ts(r.get(12)?),
        finished_at: r.get::<_, Option<i64>>(13)?.map(ts),
    }))
}

fn get_job(conn: &Connection, id: &str) -> Result<Option<JobRecord>> {
    conn.prepare_cached(&format!("SELECT {JOB_COLS} FROM jobs WHERE id = ?1"))?
        .query_row([id], job_row)
        .optional()?
        .transpose()
}

fn job_of(conn: &Connection, id: &str) -> Result<JobRecord> {
    get_job(conn, id)?.ok_or_else(|| corrupt("job vanished"))
}

/// Background jobs. The single writer makes each batch's checks and writes one atomic step;
/// the lease and `done` checks matter here only when a runner outlived its lease.
impl SqliteStore {
    pub(crate) async fn insert_job_impl(&self, job: NewJob) -> Result<Option<JobRecord>> {
        self.write(move |tx, _| {
            let now = micros(job.now);
            let inserted = tx.execute(
                "INSERT INTO jobs (id, kind, template_id, store_id, status, total, done, lease_owner, lease_until, created_by, created_at, updated_at) \
                 SELECT ?1, ?2, id, store_id, 'running', ?3, 0, ?4, ?5, ?6, ?7, ?7 FROM templates WHERE id = ?8",
                params![job.id, job.kind.as_str(), job.total, job.lease.owner, micros(job.lease.until), job.created_by, now, job.template_id],
            )?;
            if inserted == 0 {
                return Ok(None);
            }
            Ok(Some(job_of(tx, &job.id)?))
        })
        .await
    }

    pub(crate) async fn job_codes_impl(
        &self,
        id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<String>> {
        let id = id.to_string();
        self.read(move |conn| {
            // One read transaction: the page and its total come from one snapshot.
            let tx = conn.unchecked_transaction()?;
            let done: Option<i64> = tx
                .prepare_cached("SELECT done FROM jobs WHERE id = ?1")?
                .query_row([&id], |r| r.get(0))
                .optional()?;
            let Some(total) = done else {
                return Ok(Page { items: vec![], total: 0, next: None });
            };
            // Every code sorts after "", so the first page needs no other statement.
            let items = tx
                .prepare_cached("SELECT code FROM claim_codes WHERE job_id = ?1 AND code > ?2 ORDER BY code LIMIT 0 + ?3")?
                .query_map(params![id, cursor.unwrap_or_default(), i64::from(limit) + 1], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<String>>>()?;
            Ok(page_of(items, limit, total, Clone::clone))
        })
        .await
    }

    pub(crate) async fn run_job_batch_impl(&self, b: JobBatch) -> Result<Option<JobRecord>> {
        self.write(move |tx, _| {
            let held: Option<(String, i64)> = tx
                .prepare_cached("SELECT template_id, total FROM jobs WHERE id = ?1 AND status = 'running' AND lease_owner = ?2 AND done = ?3")?
                .query_row(params![b.job_id, b.lease.owner, b.done], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            let Some((template_id, total)) = held else {
                return Ok(None);
            };
            let n = b.size.min(total - b.done);
            let now = micros(b.now);
            let taken = tx
                .prepare_cached("UPDATE templates SET remaining = remaining - ?2, issued = issued + ?2 WHERE id = ?1 AND (remaining IS NULL OR remaining >= ?2)")?
                .execute(params![template_id, n])?;
            if taken == 0 {
                let remaining: Option<i64> = tx.query_row("SELECT remaining FROM templates WHERE id = ?1", [&template_id], |r| r.get(0))?;
                let error = out_of_stock(n, remaining, b.done);
                tx.execute(
                    "UPDATE jobs SET status = 'failed', error_code = ?2, error_message = ?3, lease_owner = NULL, lease_until = NULL, updated_at = ?4, finished_at = ?4 WHERE id = ?1",
                    params![b.job_id, error.code.as_str(), error.message, now],
                )?;
                return Ok(Some(job_of(tx, &b.job_id)?));
            }
            let mut insert = tx.prepare_cached("INSERT INTO claim_codes (code, template_id, created_at, job_id) VALUES (?1, ?2, ?3, ?4)")?;
            for _ in 0..n {
                insert.execute(params![crate::ids::new_code(), template_id, now, b.job_id])?;
            }
            // SET expressions read the row as it was, so `done + ?2` is the new count throughout.
            tx.prepare_cached(
                "UPDATE jobs SET done = done + ?2, updated_at = ?3, \
                 status = CASE WHEN done + ?2 = total THEN 'succeeded' ELSE status END, \
                 finished_at = CASE WHEN done + ?2 = total THEN ?3 END, \
                 lease_owner = CASE WHEN done + ?2 = total THEN NULL ELSE lease_owner END, \
                 lease_until = CASE WHEN done + ?2 = total THEN NULL ELSE ?4 END WHERE id = ?1",
            )?
            .execute(params![b.job_id, n, now, micros(b.lease.until)])?;
            Ok(Some(job_of(tx, &b.job_id)?))
        })
        .await
    }

    pub(crate) async fn take_lapsed_job_impl(
        &self,
        now: Timestamp,
        lease: Lease,
    ) -> Result<Option<JobRecord>> {
        self.write(move |tx, _| {
            let id: Option<String> = tx
                .prepare_cached("SELECT id FROM jobs WHERE status = 'running' AND lease_until < ?1 ORDER BY id LIMIT 1")?
                .query_row([micros(now)], |r| r.get(0))
                .optional()?;
            let Some(id) = id else { return Ok(None) };
            tx.prepare_cached("UPDATE jobs SET lease_owner = ?2, lease_until = ?3 WHERE id = ?1")?
                .execute(params![id, lease.owner, micros(lease.until)])?;
            Ok(Some(job_of(tx, &id)?))
        })
        .await
    }

    pub(crate) async fn fail_job_impl(
        &self,
        id: &str,
        owner: &str,
        error: JobError,
        now: Timestamp,
    ) -> Result<bool> {
        let (id, owner) = (id.to_string(), owner.to_string());
        self.write(move |tx, _| {
            let failed = tx.execute(
                "UPDATE jobs SET status = 'failed', error_code = ?3, error_message = ?4, lease_owner = NULL, lease_until = NULL, updated_at = ?5, finished_at = ?5 \
                 WHERE id = ?1 AND lease_owner = ?2 AND status = 'running'",
                params![id, owner, error.code.as_str(), error.message, micros(now)],
            )?;
            Ok(failed == 1)
        })
        .await
    }
}
