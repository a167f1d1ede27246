//! The PostgreSQL backend: the production and multi-node store.
//!
//! Several `quan serve` processes may share one database, so every invariant is the
//! database's: claims of a template are decided under that template's row lock
//! (`SELECT ... FOR UPDATE`), which serialises them across processes; per-user and per-day
//! counts are read under the same lock, claim codes are locked row by row, and idempotency keys
//! are a primary key. What this process adds is group commit: claims waiting at the same time
//! are decided together, in one transaction per template, with a few set-based statements.
//! A batch that meets a deadlock, a serialisation failure or a unique-key race is retried whole.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use jiff::Timestamp;
use quan_core::access::Role;
use quan_core::checkout::refund::{RefundAsk, RefundPlan};
use quan_core::claim::MemberFacts;
use quan_core::coupon::{CouponStatus, LedgerEvent};
use quan_core::template::{StatusAction, TemplateStatus};
use quan_core::zone::TenantZone;
use quan_core::{ErrorCode, FieldError};
use tokio::sync::oneshot;
use tokio_postgres::error::SqlState;
use tokio_postgres::{NoTls, Row};

mod scrm;

use crate::claiming::{self, TemplateCache};
use crate::model::*;
use crate::{Result, Store, StoreError};

const MIGRATIONS: &[(i64, &str)] = &[
    (
        1,
        include_str!("../migrations/postgres/0001_foundation.sql"),
    ),
    (2, include_str!("../migrations/postgres/0002_orders.sql")),
    (3, include_str!("../migrations/postgres/0003_jobs.sql")),
    (4, include_str!("../migrations/postgres/0004_scrm.sql")),
];
const POOL_SIZE: usize = 24;
const MAX_BATCH: usize = 1000;
const ATTEMPTS: usize = 8;

type ClaimJob = (ClaimCommand, oneshot::Sender<Result<ClaimOutcome>>);

pub struct PgStore {
    pool: Pool,
    claimer: Claimer,
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => StoreError::Postgres(e),
            other => StoreError::Pool(other.to_string()),
        }
    }
}

fn retryable(e: &StoreError) -> bool {
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
        let claimer = Claimer {
            pool: pool.clone(),
            zone,
            cache: Arc::new(TemplateCache::default()),
            lanes: Arc::default(),
        };
        Ok(Self { pool, claimer })
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

/// One claim lane per template: while a batch of a template is in flight, its next claims
/// queue here and go together in the next batch (they would wait on the row lock anyway).
#[derive(Default)]
struct Lanes(Mutex<HashMap<String, Vec<ClaimJob>>>);

/// What a lane's runner needs.
#[derive(Clone)]
struct Claimer {
    pool: Pool,
    zone: TenantZone,
    cache: Arc<TemplateCache>,
    lanes: Arc<Lanes>,
}

impl Claimer {
    fn submit(&self, job: ClaimJob) {
        let mut lanes = self.lanes.0.lock().expect("lanes lock");
        match lanes.get_mut(&job.0.template_id) {
            Some(queue) => queue.push(job),
            None => {
                let template_id = job.0.template_id.clone();
                lanes.insert(template_id.clone(), vec![job]);
                tokio::spawn(self.clone().run_lane(template_id));
            }
        }
    }

    /// Runs batches for one template until its queue is empty, then retires the lane.
    async fn run_lane(self, template_id: String) {
        loop {
            let batch = {
                let mut lanes = self.lanes.0.lock().expect("lanes lock");
                let queue = lanes
                    .get_mut(&template_id)
                    .expect("lane exists while it runs");
                if queue.is_empty() {
                    lanes.remove(&template_id);
                    return;
                }
                let n = queue.len().min(MAX_BATCH);
                queue.drain(..n).collect::<Vec<_>>()
            };
            run_batch(&self.pool, &self.zone, &self.cache, batch).await;
        }
    }
}

async fn run_batch(pool: &Pool, zone: &TenantZone, cache: &TemplateCache, jobs: Vec<ClaimJob>) {
    let (cmds, replies): (Vec<ClaimCommand>, Vec<_>) = jobs.into_iter().unzip();
    let mut attempt = 0;
    let result = loop {
        attempt += 1;
        match claim_batch(pool, zone, cache, &cmds).await {
            Err(e) if attempt < ATTEMPTS && retryable(&e) => {
                tracing::debug!(error = %e, attempt, "retrying claim batch");
                continue;
            }
            other => break other,
        }
    };
    match result {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "claim batch failed");
            let message = e.to_string();
            for reply in replies {
                let _ = reply.send(Err(StoreError::Corrupt(format!(
                    "claim batch failed: {message}"
                ))));
            }
        }
    }
}

const LOCK_TEMPLATE: &str =
    "SELECT store_id, status, spec, version, remaining FROM templates WHERE id = $1 FOR UPDATE";
const READ_IDEMPOTENCY: &str =
    "SELECT i.key_id, i.idem_key, i.request_hash, i.response FROM idempotency i \
     JOIN unnest($1::text[], $2::text[]) AS k (key_id, idem_key) USING (key_id, idem_key)";
const LOCK_CODES: &str = "SELECT code FROM claim_codes WHERE code = ANY($1) AND template_id = $2 AND used_by IS NULL FOR UPDATE";
const READ_COUNTS: &str = "SELECT user_id, claim_day, COUNT(*) FROM coupons WHERE user_id = ANY($2) AND template_id = $1 GROUP BY user_id, claim_day";
const INSERT_COUPONS: &str = "INSERT INTO coupons (id, template_id, store_id, user_id, code, status, route, claimed_at, claim_day, valid_from, valid_until, updated_at) \
     SELECT id, $1, $2, user_id, code, 'claimed', route, claimed_at, claim_day, valid_from, valid_until, claimed_at \
     FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[]) \
     AS n (id, user_id, code, route, claimed_at, claim_day, valid_from, valid_until)";
const INSERT_LEDGER: &str = "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason) \
     SELECT id, $1, user_id, event, NULL, 'claimed', at, actor, route \
     FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[]) AS n (id, user_id, event, at, actor, route)";
const UPDATE_COUNTERS: &str = "UPDATE templates SET remaining = $2, issued = issued + $3, claimed = claimed + $4 WHERE id = $1";
const USE_CODES: &str = "UPDATE claim_codes SET used_by = n.user_id, coupon_id = n.coupon_id, used_at = n.at \
     FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) AS n (code, user_id, coupon_id, at) WHERE claim_codes.code = n.code";
// A key used at the same moment for another template conflicts here; the batch retries.
const INSERT_IDEMPOTENCY: &str =
    "INSERT INTO idempotency (key_id, idem_key, request_hash, response, created_at) \
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[])";

/// Decides and writes one template's batch of claims in one transaction. After the template's
/// row lock, the reads go out together and so do the writes (tokio-postgres pipelines queries
/// issued concurrently on one connection), so a batch costs a few round trips and one commit.
async fn claim_batch(
    pool: &Pool,
    zone: &TenantZone,
    cache: &TemplateCache,
    cmds: &[ClaimCommand],
) -> Result<Vec<ClaimOutcome>> {
    let template_id = &cmds[0].template_id;
    let mut client = pool.get().await?;
    let txn = client.transaction().await?;
    let tx = &txn;
    let lock = tx.prepare_cached(LOCK_TEMPLATE).await?;
    let Some(row) = tx.query_opt(&lock, &[template_id]).await? else {
        return Ok(cmds.iter().map(|_| ClaimOutcome::NotFound).collect());
    };
    let store_id: Option<String> = row.get(0);
    let status = TemplateStatus::parse(row.get(1))
        .ok_or_else(|| StoreError::Corrupt("template status".into()))?;
    let template = cache.get(template_id, row.get(3), row.get(2))?;
    let remaining: Option<i64> = row.get(4);

    let (key_ids, keys): (Vec<&str>, Vec<&str>) = cmds
        .iter()
        .filter_map(|c| c.idempotency.as_ref())
        .map(|k| (k.key_id.as_str(), k.key.as_str()))
        .unzip();
    let codes: Vec<&str> = cmds
        .iter()
        .filter_map(|c| {
            if let ClaimRoute::Code(code) = &c.route {
                Some(code.as_str())
            } else {
                None
            }
        })
        .collect();
    let users: Vec<&str> = cmds.iter().map(|c| c.user_id.as_str()).collect();
    let (prior_rows, code_rows, members, count_rows) = tokio::try_join!(
        async {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let st = tx.prepare_cached(READ_IDEMPOTENCY).await?;
            Ok::<_, StoreError>(tx.query(&st, &[&key_ids, &keys]).await?)
        },
        async {
            if codes.is_empty() {
                return Ok(Vec::new());
            }
            let st = tx.prepare_cached(LOCK_CODES).await?;
            Ok(tx.query(&st, &[&codes, template_id]).await?)
        },
        async {
            if !claiming::needs_member(&template) {
                return Ok(HashMap::new());
            }
            member_facts(tx, cmds, claiming::audience_segment(&template)).await
        },
        async {
            let st = tx.prepare_cached(READ_COUNTS).await?;
            Ok(tx.query(&st, &[template_id, &users]).await?)
        },
    )?;
    let mut counts: HashMap<(String, i64), i64> = HashMap::new();
    for r in &count_rows {
        counts.insert((r.get(0), r.get(1)), r.get(2));
    }
    let facts = claiming::BatchFacts {
        store_id: store_id.clone(),
        status,
        remaining,
        prior: prior_rows
            .iter()
            .map(|r| ((r.get(0), r.get(1)), (r.get(2), r.get(3))))
            .collect(),
        usable_codes: code_rows.iter().map(|r| r.get(0)).collect(),
        members,
        counts,
    };
    let claiming::BatchPlan {
        outcomes,
        coupons: new,
        codes: used,
        idem,
        remaining: left,
        claimed,
        issued,
    } = claiming::plan_batch(&template, facts, cmds, zone)?;
    tokio::try_join!(
        async {
            if new.id.is_empty() {
                return Ok(());
            }
            let (coupons, ledger, counters) = tokio::try_join!(
                tx.prepare_cached(INSERT_COUPONS),
                tx.prepare_cached(INSERT_LEDGER),
                tx.prepare_cached(UPDATE_COUNTERS)
            )?;
            let coupon_params: [&(dyn tokio_postgres::types::ToSql + Sync); 10] = [
                template_id,
                &store_id,
                &new.id,
                &new.user,
                &new.code,
                &new.route,
                &new.claimed_at,
                &new.day,
                &new.from,
                &new.until,
            ];
            let ledger_params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
                template_id,
                &new.id,
                &new.user,
                &new.event,
                &new.claimed_at,
                &new.actor,
                &new.route,
            ];
            let counter_params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
                [template_id, &left, &issued, &claimed];
            tokio::try_join!(
                tx.execute(&coupons, &coupon_params),
                tx.execute(&ledger, &ledger_params),
                tx.execute(&counters, &counter_params),
            )?;
            Ok::<_, StoreError>(())
        },
        async {
            if used.code.is_empty() {
                return Ok(());
            }
            let st = tx.prepare_cached(USE_CODES).await?;
            tx.execute(&st, &[&used.code, &used.user, &used.coupon, &used.at])
                .await?;
            Ok(())
        },
        async {
            if idem.key.is_empty() {
                return Ok(());
            }
            let st = tx.prepare_cached(INSERT_IDEMPOTENCY).await?;
            tx.execute(
                &st,
                &[
                    &idem.key_id,
                    &idem.key,
                    &idem.hash,
                    &idem.response,
                    &idem.at,
                ],
            )
            .await?;
            Ok(())
        },
    )?;
    txn.commit().await?;
    Ok(outcomes)
}

/// What deciding the claims of `cmds` needs to know of their members; a member is in a rule
/// segment as of its (latest) claim's time.
async fn member_facts(
    tx: &impl GenericClient,
    cmds: &[ClaimCommand],
    segment: Option<&str>,
) -> Result<HashMap<String, MemberFacts>> {
    let users: Vec<&str> = cmds.iter().map(|c| c.user_id.as_str()).collect();
    let mut facts: HashMap<String, MemberFacts> = HashMap::new();
    for r in tx
        .query(
            "SELECT id, joined_at, tier, paid_orders FROM members WHERE id = ANY($1)",
            &[&users],
        )
        .await?
    {
        facts.insert(
            r.get(0),
            MemberFacts {
                is_member: true,
                joined_at: Some(from_micros(r.get(1))),
                tier: r.get(2),
                paid_orders: r.get(3),
                in_segment: false,
            },
        );
    }
    let Some(segment) = segment else {
        return Ok(facts);
    };
    let rule: Option<String> = tx
        .query_opt("SELECT rule FROM segments WHERE id = $1", &[&segment])
        .await?
        .and_then(|r| r.get(0));
    match rule {
        None => {
            for r in tx.query("SELECT member_id FROM segment_members WHERE segment_id = $1 AND member_id = ANY($2)", &[&segment, &users]).await? {
                facts.entry(r.get(0)).or_default().in_segment = true;
            }
        }
        Some(raw) => {
            let rule: quan_core::scrm::Rule = serde_json::from_str(&raw)
                .map_err(|_| StoreError::Corrupt("segment rule".into()))?;
            let lifecycle = scrm::lifecycle_in(tx).await?;
            let mut asked: HashMap<&str, Timestamp> = HashMap::new();
            for c in cmds {
                let at = asked.entry(&c.user_id).or_insert(c.now);
                *at = (*at).max(c.now);
            }
            for (user, now) in asked {
                // Only members can meet a rule.
                let Some(f) = facts.get_mut(user) else {
                    continue;
                };
                f.in_segment = scrm::rule_matches(tx, &rule, &lifecycle, user, now).await?;
            }
        }
    }
    Ok(facts)
}

const TEMPLATE_COLS: &str =
    "id, store_id, status, spec, remaining, issued, claimed, used, created_at, updated_at";

fn template_record(r: &Row) -> Result<TemplateRecord> {
    let id: String = r.get(0);
    Ok(TemplateRecord {
        spec: serde_json::from_str(r.get(3))
            .map_err(|e| StoreError::Corrupt(format!("template {id}: {e}")))?,
        status: TemplateStatus::parse(r.get(2))
            .ok_or_else(|| StoreError::Corrupt("template status".into()))?,
        store_id: r.get(1),
        remaining: r.get(4),
        issued: r.get(5),
        claimed: r.get(6),
        used: r.get(7),
        created_at: from_micros(r.get(8)),
        updated_at: from_micros(r.get(9)),
        id,
    })
}

async fn get_template(
    c: &impl GenericClient,
    id: &str,
    lock: bool,
) -> Result<Option<TemplateRecord>> {
    let sql = format!(
        "SELECT {TEMPLATE_COLS} FROM templates WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(template_record)
        .transpose()
}

const COUPON_COLS: &str = "id, template_id, store_id, user_id, code, status, route, claimed_at, valid_from, valid_until, order_id, updated_at";

fn coupon_record(r: &Row) -> Result<CouponRecord> {
    Ok(CouponRecord {
        id: r.get(0),
        template_id: r.get(1),
        store_id: r.get(2),
        user_id: r.get(3),
        code: r.get(4),
        status: CouponStatus::parse(r.get(5))
            .ok_or_else(|| StoreError::Corrupt("coupon status".into()))?,
        route: r.get(6),
        claimed_at: from_micros(r.get(7)),
        valid_from: from_micros(r.get(8)),
        valid_until: from_micros(r.get(9)),
        order_id: r.get(10),
        updated_at: from_micros(r.get(11)),
    })
}

async fn get_coupon(c: &impl GenericClient, id: &str, lock: bool) -> Result<Option<CouponRecord>> {
    let sql = format!(
        "SELECT {COUPON_COLS} FROM coupons WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    c.query_opt(&sql, &[&id])
        .await?
        .as_ref()
        .map(coupon_record)
        .transpose()
}

async fn append_ledger(c: &impl GenericClient, e: &LedgerWrite<'_>) -> Result<()> {
    c.execute(
        "INSERT INTO coupon_ledger (coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[&e.coupon_id, &e.template_id, &e.user_id, &e.event.as_str(), &e.from.map(CouponStatus::as_str), &e.to.as_str(), &micros(e.at), &e.actor, &e.reason, &e.order_id],
    )
    .await?;
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
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn setting_or_init(&self, name: &str, init: String) -> Result<String> {
        let c = self.pool.get().await?;
        c.execute(
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[&name, &init],
        )
        .await?;
        Ok(
            c.query_one("SELECT value FROM settings WHERE name = $1", &[&name])
                .await?
                .get(0),
        )
    }

    async fn insert_key(&self, key: NewKey) -> Result<KeyRecord> {
        let c = self.pool.get().await?;
        let stores = serde_json::to_string(&key.store_ids).expect("strings serialize");
        c.execute(
            "INSERT INTO api_keys (id, key_hash, role, store_ids, user_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            &[&key.id, &key.key_hash, &key.role.as_str(), &stores, &key.user_id, &micros(key.created_at)],
        )
        .await?;
        Ok(KeyRecord {
            id: key.id,
            role: key.role,
            store_ids: key.store_ids,
            user_id: key.user_id,
            created_at: key.created_at,
        })
    }

    async fn key_by_hash(&self, key_hash: &str) -> Result<Option<KeyRecord>> {
        let c = self.pool.get().await?;
        let row = c
            .query_opt(
                "SELECT id, role, store_ids, user_id, created_at FROM api_keys WHERE key_hash = $1",
                &[&key_hash],
            )
            .await?;
        row.map(|r| {
            Ok(KeyRecord {
                id: r.get(0),
                role: Role::parse(r.get(1))
                    .ok_or_else(|| StoreError::Corrupt("key role".into()))?,
                store_ids: serde_json::from_str(r.get(2))
                    .map_err(|_| StoreError::Corrupt("key stores".into()))?,
                user_id: r.get(3),
                created_at: from_micros(r.get(4)),
            })
        })
        .transpose()
    }

    async fn insert_template(&self, new: NewTemplate) -> Result<TemplateRecord> {
        let c = self.pool.get().await?;
        let spec = new.template.spec();
        let json = serde_json::to_string(spec).expect("spec serializes");
        c.execute(
            "INSERT INTO templates (id, store_id, status, spec, stock, remaining, created_by, created_at, updated_at) \
             VALUES ($1, $2, 'draft', $3, $4, $4, $5, $6, $6)",
            &[&new.id, &spec.scope.store_id(), &json, &spec.stock, &new.created_by, &micros(new.now)],
        )
        .await?;
        get_template(&c, &new.id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("template vanished".into()))
    }

    async fn template(&self, id: &str) -> Result<Option<TemplateRecord>> {
        let c = self.pool.get().await?;
        get_template(&c, id, false).await
    }

    async fn list_templates(&self, f: TemplateFilter) -> Result<Page<TemplateRecord>> {
        let c = self.pool.get().await?;
        let status = f.status.map(|s| s.as_str());
        let filter =
            "($1::text[] IS NULL OR store_id = ANY($1)) AND ($2::text IS NULL OR status = $2) \
                      AND ($3::text IS NULL OR (spec::jsonb -> 'scope' ->> 'kind') = $3)";
        let total: i64 = c
            .query_one(
                &format!("SELECT COUNT(*) FROM templates WHERE {filter}"),
                &[&f.stores, &status, &f.scope_kind],
            )
            .await?
            .get(0);
        let rows = c
            .query(
                &format!("SELECT {TEMPLATE_COLS} FROM templates WHERE {filter} AND ($4::text IS NULL OR id > $4) ORDER BY id LIMIT $5"),
                &[&f.stores, &status, &f.scope_kind, &f.cursor, &(i64::from(f.limit) + 1)],
            )
            .await?;
        let items = rows
            .iter()
            .map(template_record)
            .collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, f.limit, total, |t| t.id.clone()))
    }

    async fn update_template(
        &self,
        u: TemplateUpdate,
    ) -> Result<Result<TemplateRecord, ErrorCode>> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let Some(current) = get_template(&tx, &u.id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        if current.status != TemplateStatus::Draft {
            return Ok(Err(ErrorCode::InvalidState));
        }
        let spec = u.template.spec();
        let json = serde_json::to_string(spec).expect("spec serializes");
        tx.execute(
            "UPDATE templates SET spec = $2, store_id = $3, stock = $4, remaining = $4, version = version + 1, updated_at = $5 WHERE id = $1",
            &[&u.id, &json, &spec.scope.store_id(), &spec.stock, &micros(u.now)],
        )
        .await?;
        let t = get_template(&tx, &u.id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("template vanished".into()))?;
        tx.commit().await?;
        Ok(Ok(t))
    }

    async fn set_template_status(
        &self,
        id: &str,
        action: StatusAction,
        now: Timestamp,
    ) -> Result<Result<TemplateRecord, ErrorCode>> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let Some(current) = get_template(&tx, id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        let Some(next) = current.status.apply(action) else {
            return Ok(Err(ErrorCode::InvalidState));
        };
        tx.execute(
            "UPDATE templates SET status = $2, updated_at = $3 WHERE id = $1",
            &[&id, &next.as_str(), &micros(now)],
        )
        .await?;
        let t = get_template(&tx, id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("template vanished".into()))?;
        tx.commit().await?;
        Ok(Ok(t))
    }

    async fn claim(&self, cmd: ClaimCommand) -> Result<ClaimOutcome> {
        let (tx, rx) = oneshot::channel();
        self.claimer.submit((cmd, tx));
        rx.await.map_err(|_| StoreError::WriterGone)?
    }

    async fn make_claim_codes(
        &self,
        template_id: &str,
        count: u32,
        now: Timestamp,
    ) -> Result<Result<Vec<String>, ErrorCode>> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let n = i64::from(count);
        let updated = tx
            .execute(
                "UPDATE templates SET remaining = remaining - $2, issued = issued + $2 WHERE id = $1 AND (remaining IS NULL OR remaining >= $2)",
                &[&template_id, &n],
            )
            .await?;
        if updated == 0 {
            return Ok(Err(ErrorCode::OutOfStock));
        }
        let codes: Vec<String> = (0..count).map(|_| crate::ids::new_code()).collect();
        tx.execute(
            "INSERT INTO claim_codes (code, template_id, created_at) SELECT code, $2, $3 FROM unnest($1::text[]) AS code",
            &[&codes, &template_id, &micros(now)],
        )
        .await?;
        tx.commit().await?;
        Ok(Ok(codes))
    }

    async fn insert_job(&self, job: NewJob) -> Result<Option<JobRecord>> {
        self.insert_job_impl(job).await
    }

    async fn job(&self, id: &str) -> Result<Option<JobRecord>> {
        let c = self.pool.get().await?;
        get_job(&c, id).await
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
        let c = self.pool.get().await?;
        get_coupon(&c, id, false).await
    }

    async fn coupon_by_code(&self, code: &str) -> Result<Option<CouponRecord>> {
        let c = self.pool.get().await?;
        c.query_opt(
            &format!("SELECT {COUPON_COLS} FROM coupons WHERE code = $1"),
            &[&code],
        )
        .await?
        .as_ref()
        .map(coupon_record)
        .transpose()
    }

    async fn redeem_coupon(
        &self,
        id: &str,
        order_id: Option<&str>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<CouponRecord, ErrorCode>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some(c) = get_coupon(&tx, id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        if c.status != CouponStatus::Claimed || c.valid_from > now || c.valid_until <= now {
            return Ok(Err(ErrorCode::InvalidState));
        }
        tx.execute(
            "UPDATE coupons SET status = 'redeemed', order_id = $2, updated_at = $3 WHERE id = $1",
            &[&id, &order_id, &micros(now)],
        )
        .await?;
        tx.execute(
            "UPDATE templates SET used = used + 1 WHERE id = $1",
            &[&c.template_id],
        )
        .await?;
        append_ledger(
            &tx,
            &LedgerWrite {
                coupon_id: id,
                template_id: &c.template_id,
                user_id: &c.user_id,
                event: LedgerEvent::Redeemed,
                from: Some(CouponStatus::Claimed),
                to: CouponStatus::Redeemed,
                at: now,
                actor,
                reason: Some("redeemed by code"),
                order_id,
            },
        )
        .await?;
        let out = get_coupon(&tx, id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("coupon vanished".into()))?;
        tx.commit().await?;
        Ok(Ok(out))
    }

    async fn usable_coupons(
        &self,
        user_id: &str,
        now: Timestamp,
        with_locked: bool,
        limit: u32,
    ) -> Result<Vec<CouponRecord>> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                &format!(
                    "SELECT {COUPON_COLS} FROM coupons WHERE user_id = $1 AND valid_until > $2 \
                     AND (status = 'claimed' OR ($3 AND status = 'locked')) ORDER BY valid_until, id LIMIT $4"
                ),
                &[&user_id, &micros(now), &with_locked, &i64::from(limit)],
            )
            .await?;
        rows.iter().map(coupon_record).collect()
    }

    async fn wallet(&self, q: WalletQuery) -> Result<Page<CouponRecord>> {
        let c = self.pool.get().await?;
        let status = q.status.map(CouponStatus::as_str).unwrap_or("");
        let now = micros(q.now);
        // $4 is the status asked for; a claimed coupon past its end ($3) reads as expired.
        let filter = "user_id = $1 AND ($2::text[] IS NULL OR store_id = ANY($2)) AND ($4 = '' \
             OR ($4 = 'claimed' AND status = 'claimed' AND valid_until > $3) \
             OR ($4 = 'expired' AND (status = 'expired' OR (status = 'claimed' AND valid_until <= $3))) \
             OR ($4 NOT IN ('claimed', 'expired') AND status = $4))";
        let total: i64 = c
            .query_one(
                &format!("SELECT COUNT(*) FROM coupons WHERE {filter}"),
                &[&q.user_id, &q.stores, &now, &status],
            )
            .await?
            .get(0);
        let rows = c
            .query(
                &format!("SELECT {COUPON_COLS} FROM coupons WHERE {filter} AND ($5::text IS NULL OR id > $5) ORDER BY id LIMIT $6"),
                &[&q.user_id, &q.stores, &now, &status, &q.cursor, &(i64::from(q.limit) + 1)],
            )
            .await?;
        let items = rows.iter().map(coupon_record).collect::<Result<Vec<_>>>()?;
        Ok(page_of(items, q.limit, total, |c| c.id.clone()))
    }

    async fn revoke_coupon(
        &self,
        id: &str,
        actor: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<Result<CouponRecord, ErrorCode>> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let Some(coupon) = get_coupon(&tx, id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        if coupon.status != CouponStatus::Claimed {
            return Ok(Err(ErrorCode::InvalidState));
        }
        tx.execute(
            "UPDATE coupons SET status = 'revoked', updated_at = $2 WHERE id = $1",
            &[&id, &micros(now)],
        )
        .await?;
        append_ledger(
            &tx,
            &LedgerWrite {
                coupon_id: id,
                template_id: &coupon.template_id,
                user_id: &coupon.user_id,
                event: LedgerEvent::Revoked,
                from: Some(CouponStatus::Claimed),
                to: CouponStatus::Revoked,
                at: now,
                actor,
                reason: Some(reason),
                order_id: None,
            },
        )
        .await?;
        let out = get_coupon(&tx, id, false)
            .await?
            .ok_or_else(|| StoreError::Corrupt("coupon vanished".into()))?;
        tx.commit().await?;
        Ok(Ok(out))
    }

    async fn expire_due(&self, now: Timestamp, limit: u32) -> Result<u64> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        let rows = tx
            .query(
                "UPDATE coupons SET status = 'expired', updated_at = $1 WHERE id IN \
                 (SELECT id FROM coupons WHERE status = 'claimed' AND valid_until <= $1 LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 RETURNING id, template_id, user_id",
                &[&micros(now), &i64::from(limit)],
            )
            .await?;
        for r in &rows {
            let (id, template_id, user_id): (String, String, String) =
                (r.get(0), r.get(1), r.get(2));
            append_ledger(
                &tx,
                &LedgerWrite {
                    coupon_id: &id,
                    template_id: &template_id,
                    user_id: &user_id,
                    event: LedgerEvent::Expired,
                    from: Some(CouponStatus::Claimed),
                    to: CouponStatus::Expired,
                    at: now,
                    actor: "system",
                    reason: Some("validity ended"),
                    order_id: None,
                },
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    async fn ledger(&self, coupon_id: &str) -> Result<Vec<LedgerEntry>> {
        let c = self.pool.get().await?;
        let rows = c
            .query(
                "SELECT seq, coupon_id, template_id, user_id, event, from_status, to_status, at, actor, reason, order_id \
                 FROM coupon_ledger WHERE coupon_id = $1 ORDER BY seq",
                &[&coupon_id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| LedgerEntry {
                seq: r.get(0),
                coupon_id: r.get(1),
                template_id: r.get(2),
                user_id: r.get(3),
                event: r.get(4),
                from_status: r.get(5),
                to_status: r.get(6),
                at: from_micros(r.get(7)),
                actor: r.get(8),
                reason: r.get(9),
                order_id: r.get(10),
            })
            .collect())
    }

    async fn ledger_count(&self) -> Result<i64> {
        let c = self.pool.get().await?;
        Ok(c.query_one("SELECT COUNT(*) FROM coupon_ledger", &[])
            .await?
            .get(0))
    }

    async fn coupon_count(&self, template_id: &str) -> Result<i64> {
        let c = self.pool.get().await?;
        Ok(c.query_one(
            "SELECT COUNT(*) FROM coupons WHERE template_id = $1",
            &[&template_id],
        )
        .await?
        .get(0))
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
        let c = self.pool.get().await?;
        let inserted = c
            .execute(
                "INSERT INTO idempotency (key_id, idem_key, request_hash, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[&key.key_id, &key.key, &key.request_hash, &micros(now)],
            )
            .await?;
        if inserted == 1 {
            return Ok(IdempotencyStart::Started);
        }
        let r = c.query_one("SELECT request_hash, response FROM idempotency WHERE key_id = $1 AND idem_key = $2", &[&key.key_id, &key.key]).await?;
        let (hash, response): (String, Option<String>) = (r.get(0), r.get(1));
        Ok(match response {
            _ if hash != key.request_hash => IdempotencyStart::Mismatch,
            Some(response) => IdempotencyStart::Replay(response),
            None => IdempotencyStart::InFlight,
        })
    }

    async fn finish_idempotent(&self, key: &IdempotencyKey, response: &str) -> Result<()> {
        let c = self.pool.get().await?;
        c.execute(
            "UPDATE idempotency SET response = $3 WHERE key_id = $1 AND idem_key = $2",
            &[&key.key_id, &key.key, &response],
        )
        .await?;
        Ok(())
    }

    async fn sweep_idempotency(&self, before: Timestamp) -> Result<u64> {
        let c = self.pool.get().await?;
        Ok(c.execute(
            "DELETE FROM idempotency WHERE created_at < $1",
            &[&micros(before)],
        )
        .await?)
    }
}

const ORDER_COLS: &str = "id, user_id, status, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at, request_hash";

async fn get_order(
    c: &impl GenericClient,
    id: &str,
    lock: bool,
) -> Result<Option<(OrderRecord, String)>> {
    let sql = format!(
        "SELECT {ORDER_COLS} FROM orders WHERE id = $1{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let Some(r) = c.query_opt(&sql, &[&id]).await? else {
        return Ok(None);
    };
    Ok(Some((
        OrderRecord {
            id: r.get(0),
            user_id: r.get(1),
            status: r.get(2),
            quote: r.get(3),
            lines: serde_json::from_str(r.get(4))
                .map_err(|_| StoreError::Corrupt("order lines".into()))?,
            coupon_ids: serde_json::from_str(r.get(5))
                .map_err(|_| StoreError::Corrupt("order coupons".into()))?,
            payable: r.get(6),
            lock_until: from_micros(r.get(7)),
            created_at: from_micros(r.get(8)),
            updated_at: from_micros(r.get(9)),
        },
        r.get(10),
    )))
}

async fn order_of(c: &impl GenericClient, id: &str) -> Result<OrderRecord> {
    get_order(c, id, false)
        .await?
        .map(|(o, _)| o)
        .ok_or_else(|| StoreError::Corrupt("order vanished".into()))
}

/// Moves the coupons an order still holds back to the wallet, with a ledger entry each.
async fn release_coupons(
    c: &impl GenericClient,
    order: &OrderRecord,
    now: Timestamp,
    actor: &str,
    reason: &str,
) -> Result<()> {
    let rows = c
        .query(
            "UPDATE coupons SET status = 'claimed', order_id = NULL, locked_until = NULL, updated_at = $3 \
             WHERE id = ANY($1) AND order_id = $2 AND status = 'locked' RETURNING id, template_id, user_id",
            &[&order.coupon_ids, &order.id, &micros(now)],
        )
        .await?;
    for r in rows {
        let (id, template_id, user_id): (String, String, String) = (r.get(0), r.get(1), r.get(2));
        append_ledger(
            c,
            &LedgerWrite {
                coupon_id: &id,
                template_id: &template_id,
                user_id: &user_id,
                event: LedgerEvent::Released,
                from: Some(CouponStatus::Locked),
                to: CouponStatus::Claimed,
                at: now,
                actor,
                reason: Some(reason),
                order_id: Some(&order.id),
            },
        )
        .await?;
    }
    Ok(())
}

async fn set_order_status(
    c: &impl GenericClient,
    id: &str,
    status: &str,
    now: Timestamp,
) -> Result<()> {
    c.execute(
        "UPDATE orders SET status = $2, updated_at = $3 WHERE id = $1",
        &[&id, &status, &micros(now)],
    )
    .await?;
    Ok(())
}

impl PgStore {
    pub(crate) async fn lock_order_impl(
        &self,
        o: NewOrder,
    ) -> Result<Result<OrderRecord, LockRefusal>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        // Claim the order id first: a concurrent retry of the same order waits here.
        let inserted = tx
            .execute(
                "INSERT INTO orders (id, user_id, status, request_hash, quote, lines, coupon_ids, payable, lock_until, created_at, updated_at) \
                 VALUES ($1, $2, 'locked', $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (id) DO NOTHING",
                &[
                    &o.id,
                    &o.user_id,
                    &o.request_hash,
                    &o.quote,
                    &serde_json::to_string(&o.lines).expect("lines serialize"),
                    &serde_json::to_string(&o.coupon_ids).expect("ids serialize"),
                    &o.payable,
                    &micros(o.lock_until),
                    &micros(o.now),
                ],
            )
            .await?;
        if inserted == 0 {
            let (existing, hash) = get_order(&tx, &o.id, false)
                .await?
                .ok_or_else(|| StoreError::Corrupt("order vanished".into()))?;
            return Ok(if hash == o.request_hash {
                Ok(existing)
            } else {
                Err(LockRefusal::Conflict)
            });
        }
        // Lock every coupon in one statement; the row locks make racing orders take turns, and
        // the second finds the coupon no longer claimable.
        let rows = tx
            .query(
                "UPDATE coupons c SET status = 'locked', order_id = $2, locked_until = $3, updated_at = $4 \
                 FROM (SELECT id, status FROM coupons WHERE id = ANY($1) ORDER BY id FOR UPDATE) old \
                 WHERE c.id = old.id AND c.user_id = $5 AND c.valid_until > $4 \
                 AND (c.status = 'claimed' OR (c.status = 'locked' AND c.locked_until <= $4)) \
                 RETURNING c.id, c.template_id, old.status",
                &[&o.coupon_ids, &o.id, &micros(o.lock_until), &micros(o.now), &o.user_id],
            )
            .await?;
        if rows.len() != o.coupon_ids.len() {
            let locked: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
            let missing = o
                .coupon_ids
                .iter()
                .find(|id| !locked.contains(id))
                .cloned()
                .unwrap_or_default();
            return Ok(Err(LockRefusal::CouponNotUsable(missing))); // dropping `tx` rolls back
        }
        for r in &rows {
            let (id, template_id, from): (String, String, String) = (r.get(0), r.get(1), r.get(2));
            append_ledger(
                &tx,
                &LedgerWrite {
                    coupon_id: &id,
                    template_id: &template_id,
                    user_id: &o.user_id,
                    event: LedgerEvent::Locked,
                    from: CouponStatus::parse(&from),
                    to: CouponStatus::Locked,
                    at: o.now,
                    actor: &o.actor,
                    reason: None,
                    order_id: Some(&o.id),
                },
            )
            .await?;
        }
        let order = order_of(&tx, &o.id).await?;
        tx.commit().await?;
        Ok(Ok(order))
    }

    pub(crate) async fn order_impl(&self, id: &str) -> Result<Option<OrderRecord>> {
        let c = self.pool.get().await?;
        Ok(get_order(&c, id, false).await?.map(|(o, _)| o))
    }

    pub(crate) async fn pay_order_impl(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some((order, _)) = get_order(&tx, id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        match order.status.as_str() {
            "paid" => return Ok(Ok(order)),
            "locked" if order.lock_until > now => {}
            "locked" => {
                release_coupons(&tx, &order, now, "system", "lock lapsed").await?;
                set_order_status(&tx, id, "expired", now).await?;
                tx.commit().await?;
                return Ok(Err(ErrorCode::InvalidState));
            }
            _ => return Ok(Err(ErrorCode::InvalidState)),
        }
        let rows = tx
            .query(
                "UPDATE coupons SET status = 'redeemed', locked_until = NULL, updated_at = $3 \
                 WHERE id = ANY($1) AND order_id = $2 AND status = 'locked' RETURNING id, template_id, user_id",
                &[&order.coupon_ids, &id, &micros(now)],
            )
            .await?;
        if rows.len() != order.coupon_ids.len() {
            return Ok(Err(ErrorCode::InvalidState)); // dropping `tx` rolls back
        }
        for r in &rows {
            let (cid, template_id, user_id): (String, String, String) =
                (r.get(0), r.get(1), r.get(2));
            tx.execute(
                "UPDATE templates SET used = used + 1 WHERE id = $1",
                &[&template_id],
            )
            .await?;
            append_ledger(
                &tx,
                &LedgerWrite {
                    coupon_id: &cid,
                    template_id: &template_id,
                    user_id: &user_id,
                    event: LedgerEvent::Redeemed,
                    from: Some(CouponStatus::Locked),
                    to: CouponStatus::Redeemed,
                    at: now,
                    actor,
                    reason: None,
                    order_id: Some(id),
                },
            )
            .await?;
        }
        set_order_status(&tx, id, "paid", now).await?;
        // A paid checkout order is an order of the member's history.
        let mut touched = std::collections::BTreeSet::new();
        scrm::write_order(
            &tx,
            crate::scrm::checkout_history(&order, now),
            now,
            &mut touched,
        )
        .await?;
        scrm::refresh(&tx, &touched, now).await?;
        let out = order_of(&tx, id).await?;
        tx.commit().await?;
        Ok(Ok(out))
    }

    pub(crate) async fn cancel_order_impl(
        &self,
        id: &str,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<OrderRecord, ErrorCode>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some((order, _)) = get_order(&tx, id, true).await? else {
            return Ok(Err(ErrorCode::NotFound));
        };
        match order.status.as_str() {
            "paid" => Ok(Err(ErrorCode::InvalidState)),
            "cancelled" | "expired" => Ok(Ok(order)),
            _ => {
                release_coupons(&tx, &order, now, actor, "order cancelled").await?;
                set_order_status(&tx, id, "cancelled", now).await?;
                let out = order_of(&tx, id).await?;
                tx.commit().await?;
                Ok(Ok(out))
            }
        }
    }

    pub(crate) async fn refund_order_impl(
        &self,
        id: &str,
        ask: Vec<RefundAsk>,
        now: Timestamp,
        actor: &str,
    ) -> Result<Result<(OrderRecord, RefundPlan), FieldError>> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let Some((order, _)) = get_order(&tx, id, true).await? else {
            return Ok(Err(FieldError::new(
                ErrorCode::NotFound,
                "order_id",
                "no such order",
            )));
        };
        if order.status != "paid" {
            return Ok(Err(FieldError::new(
                ErrorCode::InvalidState,
                "status",
                "only a paid order is refunded",
            )));
        }
        let quote: quan_core::checkout::Quote = serde_json::from_str(&order.quote)
            .map_err(|_| StoreError::Corrupt("order quote".into()))?;
        let plan = match quan_core::checkout::refund::plan(&order.lines, &quote, &ask) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        for cid in &plan.coupons_back {
            let Some(c) = get_coupon(&tx, cid, true).await? else {
                continue;
            };
            if c.status != CouponStatus::Redeemed {
                continue;
            }
            let to = if c.valid_until > now {
                CouponStatus::Claimed
            } else {
                CouponStatus::Expired
            };
            tx.execute(
                "UPDATE coupons SET status = $2, order_id = NULL, updated_at = $3 WHERE id = $1",
                &[cid, &to.as_str(), &micros(now)],
            )
            .await?;
            tx.execute(
                "UPDATE templates SET used = used - 1 WHERE id = $1",
                &[&c.template_id],
            )
            .await?;
            append_ledger(
                &tx,
                &LedgerWrite {
                    coupon_id: cid,
                    template_id: &c.template_id,
                    user_id: &c.user_id,
                    event: if to == CouponStatus::Claimed {
                        LedgerEvent::Restored
                    } else {
                        LedgerEvent::Expired
                    },
                    from: Some(CouponStatus::Redeemed),
                    to,
                    at: now,
                    actor,
                    reason: Some("order refunded"),
                    order_id: Some(id),
                },
            )
            .await?;
        }
        tx.execute(
            "UPDATE orders SET lines = $2, updated_at = $3 WHERE id = $1",
            &[
                &id,
                &serde_json::to_string(&plan.after).expect("lines serialize"),
                &micros(now),
            ],
        )
        .await?;
        let out = order_of(&tx, id).await?;
        // The member's history follows: what the lines paid less what was refunded.
        if let Some(row) = tx
            .query_opt("SELECT paid_at FROM member_orders WHERE id = $1", &[&id])
            .await?
        {
            let mut touched = std::collections::BTreeSet::new();
            let history = crate::scrm::checkout_history(&out, from_micros(row.get(0)));
            scrm::write_order(&tx, history, now, &mut touched).await?;
            scrm::refresh(&tx, &touched, now).await?;
        }
        tx.commit().await?;
        Ok(Ok((out, plan)))
    }

    pub(crate) async fn release_lapsed_locks_impl(&self, now: Timestamp) -> Result<u64> {
        let mut client = self.pool.get().await?;
        let tx = client.transaction().await?;
        let rows = tx
            .query("SELECT id FROM orders WHERE status = 'locked' AND lock_until <= $1 LIMIT 1000 FOR UPDATE SKIP LOCKED", &[&micros(now)])
            .await?;
        for r in &rows {
            let id: String = r.get(0);
            let order = order_of(&tx, &id).await?;
            release_coupons(&tx, &order, now, "system", "lock lapsed").await?;
            set_order_status(&tx, &id, "expired", now).await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }
}

const JOB_COLS: &str =
    "id, kind, template_id, store_id, status, total, done, error_code, error_message, \
     lease_owner, created_by, created_at, updated_at, finished_at";

fn job_record(r: &Row) -> Result<JobRecord> {
    let corrupt = |what: &str| StoreError::Corrupt(what.into());
    let error = match r.get::<_, Option<String>>(7) {
        None => None,
        Some(c) => Some(JobError {
            code: error_code(&c).ok_or_else(|| corrupt("job error code"))?,
            message: r.get::<_, Option<String>>(8).unwrap_or_default(),
        }),
    };
    Ok(JobRecord {
        id: r.get(0),
        kind: JobKind::parse(r.get(1)).ok_or_else(|| corrupt("job kind"))?,
        template_id: r.get(2),
        store_id: r.get(3),
        status: JobStatus::parse(r.get(4)).ok_or_else(|| corrupt("job status"))?,
        total: r.get(5),
        done: r.get(6),
        error,
        lease_owner: r.get(9),
        created_by: r.get(10),
        created_at: from_micros(r.get(11)),
        updated_at: from_micros(r.get(12)),
        finished_at: r.get::<_, Option<i64>>(13).map(from_micros),
    })
}

async fn get_job(c: &impl GenericClient, id: &str) -> Result<Option<JobRecord>> {
    c.query_opt(
        &format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1"),
        &[&id],
    )
    .await?
    .as_ref()
    .map(job_record)
    .transpose()
}

async fn job_of(c: &impl GenericClient, id: &str) -> Result<JobRecord> {
    get_job(c, id)
        .await?
        .ok_or_else(|| StoreError::Corrupt("job vanished".into()))
}

/// Background jobs. A batch locks its job row first, so two runners of one job (one whose
/// lease lapsed, one that took it over) take turns, and the second finds `done` moved on.
impl PgStore {
    pub(crate) async fn insert_job_impl(&self, job: NewJob) -> Result<Option<JobRecord>> {
        let c = self.pool.get().await?;
        let row = c
            .query_opt(
                &format!(
                    "INSERT INTO jobs (id, kind, template_id, store_id, status, total, done, lease_owner, lease_until, created_by, created_at, updated_at) \
                     SELECT $1, $2, id, store_id, 'running', $3, 0, $4, $5, $6, $7, $7 FROM templates WHERE id = $8 RETURNING {JOB_COLS}"
                ),
                &[
                    &job.id,
                    &job.kind.as_str(),
                    &job.total,
                    &job.lease.owner,
                    &micros(job.lease.until),
                    &job.created_by,
                    &micros(job.now),
                    &job.template_id,
                ],
            )
            .await?;
        row.as_ref().map(job_record).transpose()
    }

    pub(crate) async fn job_codes_impl(
        &self,
        id: &str,
        limit: u32,
        cursor: Option<String>,
    ) -> Result<Page<String>> {
        let mut c = self.pool.get().await?;
        // One snapshot for the page and its total.
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let Some(done) = tx
            .query_opt("SELECT done FROM jobs WHERE id = $1", &[&id])
            .await?
        else {
            return Ok(Page {
                items: vec![],
                total: 0,
                next: None,
            });
        };
        // Every code sorts after "", so the first page needs no other statement.
        let items: Vec<String> = tx
            .query(
                "SELECT code FROM claim_codes WHERE job_id = $1 AND code > $2 ORDER BY code LIMIT $3",
                &[&id, &cursor.unwrap_or_default(), &(i64::from(limit) + 1)],
            )
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        tx.commit().await?;
        Ok(page_of(items, limit, done.get(0), Clone::clone))
    }

    pub(crate) async fn run_job_batch_impl(&self, b: JobBatch) -> Result<Option<JobRecord>> {
        let mut c = self.pool.get().await?;
        let tx = c.transaction().await?;
        // Read committed re-checks the conditions after waiting for the row lock, so a runner
        // that waited behind another's batch finds `done` moved on and stops.
        let Some(held) = tx
            .query_opt(
                "SELECT template_id, total FROM jobs WHERE id = $1 AND status = 'running' AND lease_owner = $2 AND done = $3 FOR UPDATE",
                &[&b.job_id, &b.lease.owner, &b.done],
            )
            .await?
        else {
            return Ok(None);
        };
        let (template_id, total): (String, i64) = (held.get(0), held.get(1));
        let n = b.size.min(total - b.done);
        let now = micros(b.now);
        let taken = tx
            .execute(
                "UPDATE templates SET remaining = remaining - $2, issued = issued + $2 WHERE id = $1 AND (remaining IS NULL OR remaining >= $2)",
                &[&template_id, &n],
            )
            .await?;
        if taken == 0 {
            let remaining: Option<i64> = tx
                .query_one(
                    "SELECT remaining FROM templates WHERE id = $1",
                    &[&template_id],
                )
                .await?
                .get(0);
            let error = out_of_stock(n, remaining, b.done);
            tx.execute(
                "UPDATE jobs SET status = 'failed', error_code = $2, error_message = $3, lease_owner = NULL, lease_until = NULL, updated_at = $4, finished_at = $4 WHERE id = $1",
                &[&b.job_id, &error.code.as_str(), &error.message, &now],
            )
            .await?;
            let job = job_of(&tx, &b.job_id).await?;
            tx.commit().await?;
            return Ok(Some(job));
        }
        let codes: Vec<String> = (0..n).map(|_| crate::ids::new_code()).collect();
        tx.execute(
            "INSERT INTO claim_codes (code, template_id, created_at, job_id) SELECT code, $2, $3, $4 FROM unnest($1::text[]) AS code",
            &[&codes, &template_id, &now, &b.job_id],
        )
        .await?;
        // SET expressions read the row as it was, so `done + $2` is the new count throughout.
        tx.execute(
            "UPDATE jobs SET done = done + $2, updated_at = $3, \
             status = CASE WHEN done + $2 = total THEN 'succeeded' ELSE status END, \
             finished_at = CASE WHEN done + $2 = total THEN $3::bigint END, \
             lease_owner = CASE WHEN done + $2 = total THEN NULL ELSE lease_owner END, \
             lease_until = CASE WHEN done + $2 = total THEN NULL ELSE $4::bigint END WHERE id = $1",
            &[&b.job_id, &n, &now, &micros(b.lease.until)],
        )
        .await?;
        let job = job_of(&tx, &b.job_id).await?;
        tx.commit().await?;
        Ok(Some(job))
    }

    pub(crate) async fn take_lapsed_job_impl(
        &self,
        now: Timestamp,
        lease: Lease,
    ) -> Result<Option<JobRecord>> {
        let c = self.pool.get().await?;
        let row = c
            .query_opt(
                &format!(
                    "UPDATE jobs SET lease_owner = $2, lease_until = $3 WHERE id = \
                     (SELECT id FROM jobs WHERE status = 'running' AND lease_until < $1 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) \
                     RETURNING {JOB_COLS}"
                ),
                &[&micros(now), &lease.owner, &micros(lease.until)],
            )
            .await?;
        row.as_ref().map(job_record).transpose()
    }

    pub(crate) async fn fail_job_impl(
        &self,
        id: &str,
        owner: &str,
        error: JobError,
        now: Timestamp,
    ) -> Result<bool> {
        let c = self.pool.get().await?;
        let failed = c
            .execute(
                "UPDATE jobs SET status = 'failed', error_code = $3, error_message = $4, lease_owner = NULL, lease_until = NULL, updated_at = $5, finished_at = $5 \
                 WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
                &[&id, &owner, &error.code.as_str(), &error.message, &micros(now)],
            )
            .await?;
        Ok(failed == 1)
    }
}
