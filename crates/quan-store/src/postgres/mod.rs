//! The PostgreSQL backend: the production and multi-node store.
//!
//! Several `quan serve` processes may share one database, so every invariant is the
//! database's: claims of a template are decided under that template's row lock
//! (`SELECT ... FOR UPDATE`), which serialises them across processes; per-user and per-day
//! counts are read under the same lock, claim codes are locked row by row, and idempotency keys
//! are a primary key. What this process adds is group commit: claims waiting at the same time
//! are decided together, in one transaction per template, with a few set-based statements.
//! A batch that meets a deadlock, a serialisation failure or a unique-key race is retried whole.

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;

use deadpool_postgres::GenericClient;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use jiff::Timestamp;
use quan_core::zone::TenantZone;
use tokio_postgres::error::SqlState;
use tokio_postgres::NoTls;

mod lanes;

use crate::sql::{Ctx, Db, Engine, Work};
use crate::{Result, Store, StoreError};
use lanes::Claimer;

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../../migrations/postgres/0001_foundation.sql"),
    ),
    (2, include_str!("../../migrations/postgres/0002_orders.sql")),
    (3, include_str!("../../migrations/postgres/0003_jobs.sql")),
    (4, include_str!("../../migrations/postgres/0004_scrm.sql")),
    // 0005 rebuilt SQLite's ledger; PostgreSQL needed nothing, so the versions stay aligned.
    (
        6,
        include_str!("../../migrations/postgres/0006_buying_is_not_joining.sql"),
    ),
    (
        7,
        include_str!("../../migrations/postgres/0007_campaigns.sql"),
    ),
    (
        8,
        include_str!("../../migrations/postgres/0008_task_grants.sql"),
    ),
    (
        9,
        include_str!("../../migrations/postgres/0009_allocations.sql"),
    ),
    (
        10,
        include_str!("../../migrations/postgres/0010_console.sql"),
    ),
    (11, include_str!("../../migrations/postgres/0011_keys.sql")),
    (
        12,
        include_str!("../../migrations/postgres/0012_report_indexes.sql"),
    ),
    (
        13,
        include_str!("../../migrations/postgres/0013_reviews.sql"),
    ),
    (
        14,
        include_str!("../../migrations/postgres/0014_counters.sql"),
    ),
];
const POOL_SIZE: usize = 24;
pub(super) const ATTEMPTS: usize = 8;

pub struct PgStore {
    pool: Pool,
    claimer: Claimer,
    ctx: Arc<Ctx>,
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => StoreError::Postgres(e),
            other => StoreError::Pool(other.to_string()),
        }
    }
}

pub(super) fn retryable(e: &StoreError) -> bool {
    match e {
        StoreError::Postgres(e) => {
            matches!(e.code(), Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::UNIQUE_VIOLATION)
        }
        _ => false,
    }
}

impl PgStore {
    pub async fn open(url: &str, zone: TenantZone) -> Result<Self> {
        let config = tokio_postgres::Config::from_str(url)
            .map_err(|_| StoreError::BadUrl(url.to_string()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        migrate(&pool).await?;
        let ctx = Arc::new(Ctx {
            zone,
            templates: Default::default(),
            campaigns: Default::default(),
        });
        let claimer = Claimer::new(pool.clone(), ctx.clone());
        Ok(Self { pool, claimer, ctx })
    }
}

async fn migrate(pool: &Pool) -> Result<()> {
    let mut client = pool.get().await?;
    // One process migrates at a time; the others wait on the advisory lock, then find it done.
    client.execute("SELECT pg_advisory_lock(7262)", &[]).await?;
    let result = async {
        client
            .batch_execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
            .await?;
        for (version, sql) in MIGRATIONS {
            let tx = client.transaction().await?;
            let done = tx.query_one("SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)", &[version]).await?.get::<_, bool>(0);
            if !done {
                tx.batch_execute(sql).await?;
                tx.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)", &[version, &Timestamp::now().as_microsecond()]).await?;
            }
            tx.commit().await?;
        }
        Ok::<_, StoreError>(())
    }
    .await;
    client
        .execute("SELECT pg_advisory_unlock(7262)", &[])
        .await?;
    result
}

/// Runs `attempt` (one transaction) again while it fails on a deadlock, a serialisation
/// failure or a unique-key race with another writer.
pub(super) async fn retrying<T, F, Fut>(mut attempt: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let mut n = 0;
    loop {
        n += 1;
        match attempt().await {
            Err(e) if n < ATTEMPTS && retryable(&e) => {
                tracing::debug!(error = %e, attempt = n, "retrying scrm write");
            }
            other => return other,
        }
    }
}

impl Engine for PgStore {
    fn ctx(&self) -> &Arc<Ctx> {
        &self.ctx
    }

    async fn claim_batched(
        &self,
        cmd: crate::records::ClaimCommand,
    ) -> Result<crate::records::ClaimOutcome> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.claimer.submit((cmd, tx));
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c, 'd> FnOnce(&'c mut Db<'d>) -> Work<'c, T> + Send + 'static,
    {
        let c = self.pool.get().await?;
        f(&mut Db::Pg(&c)).await
    }

    async fn write<A, T, F>(&self, args: A, f: F) -> Result<T>
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c, 'd> Fn(&'c mut Db<'d>, &'c A) -> Work<'c, T> + Send + Sync + 'static,
    {
        retrying(|| async {
            let mut c = self.pool.get().await?;
            let tx = c.transaction().await?;
            let done = f(&mut Db::PgTx(&tx), &args).await?;
            tx.commit().await?;
            Ok(done)
        })
        .await
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }
}
