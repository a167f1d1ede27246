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

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use quan_core::zone::TenantZone;
use rusqlite::{params, Connection};
use tokio::sync::{mpsc, oneshot};

mod writer;

use crate::sql::{run_here, Ctx, Db, Engine, Work as DbWork};
use crate::{Result, Store, StoreError};
use writer::{Job, Reply, Work};

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../migrations/sqlite/0001_foundation.sql"),
    ),
    (2, include_str!("../../migrations/sqlite/0002_orders.sql")),
    (3, include_str!("../../migrations/sqlite/0003_jobs.sql")),
    (4, include_str!("../../migrations/sqlite/0004_scrm.sql")),
    (
        5,
        include_str!("../../migrations/sqlite/0005_ledger_rowid.sql"),
    ),
    (
        6,
        include_str!("../../migrations/sqlite/0006_buying_is_not_joining.sql"),
    ),
    (
        7,
        include_str!("../../migrations/sqlite/0007_campaigns.sql"),
    ),
    (
        8,
        include_str!("../../migrations/sqlite/0008_task_grants.sql"),
    ),
    (
        9,
        include_str!("../../migrations/sqlite/0009_allocations.sql"),
    ),
    (10, include_str!("../../migrations/sqlite/0010_console.sql")),
    (11, include_str!("../../migrations/sqlite/0011_keys.sql")),
    (
        12,
        include_str!("../../migrations/sqlite/0012_report_indexes.sql"),
    ),
    (13, include_str!("../../migrations/sqlite/0013_reviews.sql")),
    (
        14,
        include_str!("../../migrations/sqlite/0014_counters.sql"),
    ),
];
const READERS: usize = 4;

pub struct SqliteStore {
    /// Dropped with the store; the checkpointer stops when it is gone.
    _alive: Arc<()>,
    jobs: mpsc::UnboundedSender<Work>,
    ctx: Arc<Ctx>,
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
        let (tx, rx) = mpsc::unbounded_channel::<Work>();
        let ctx = Arc::new(Ctx {
            zone,
            templates: Default::default(),
            campaigns: Default::default(),
        });
        let writer_ctx = ctx.clone();
        let (synced, to_sync) = std::sync::mpsc::channel();
        let free = tx.downgrade();
        std::thread::Builder::new()
            .name("quan-sqlite-sync".into())
            .spawn(move || writer::sync_loop(wal, to_sync, free))
            .expect("spawn syncer");
        std::thread::Builder::new()
            .name("quan-sqlite-writer".into())
            .spawn(move || writer::writer_loop(&mut writer, rx, writer_ctx, synced))
            .expect("spawn writer");
        let alive = Arc::new(());
        let token = Arc::downgrade(&alive);
        std::thread::Builder::new()
            .name("quan-sqlite-checkpoint".into())
            .spawn(move || writer::checkpoint_loop(checkpointer, token))
            .expect("spawn checkpointer");
        Ok(Self {
            _alive: alive,
            jobs: tx,
            ctx,
            readers: Arc::new(readers),
            next_reader: AtomicUsize::new(0),
        })
    }

    /// Runs `f` on the writer's connection in its next group transaction (in a savepoint of
    /// its own); answers after the commit.
    async fn write_job<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Ctx) -> Result<T> + Send + 'static,
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
}

impl Engine for SqliteStore {
    fn ctx(&self) -> &Arc<Ctx> {
        &self.ctx
    }

    async fn claim_batched(
        &self,
        cmd: crate::records::ClaimCommand,
    ) -> Result<crate::records::ClaimOutcome> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Work::Claim(Box::new(cmd), tx))
            .map_err(|_| StoreError::WriterGone)?;
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c, 'd> FnOnce(&'c mut Db<'d>) -> DbWork<'c, T> + Send + 'static,
    {
        let readers = self.readers.clone();
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % readers.len();
        tokio::task::spawn_blocking(move || {
            let mut conn = readers[i].lock().expect("reader lock");
            run_here(f(&mut Db::Sqlite(&mut conn)))
        })
        .await
        .expect("read task")
    }

    async fn read_point<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c, 'd> FnOnce(&'c mut Db<'d>) -> DbWork<'c, T> + Send + 'static,
    {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for k in 0..self.readers.len() {
            if let Ok(mut conn) = self.readers[(start + k) % self.readers.len()].try_lock() {
                return run_here(f(&mut Db::Sqlite(&mut conn)));
            }
        }
        Engine::read(self, f).await
    }

    async fn write<A, T, F>(&self, args: A, f: F) -> Result<T>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c, 'd> Fn(&'c mut Db<'d>, &'c A) -> DbWork<'c, T> + Send + Sync + 'static,
    {
        self.write_job(move |conn, _| run_here(f(&mut Db::Sqlite(conn), &args)))
            .await
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
}
