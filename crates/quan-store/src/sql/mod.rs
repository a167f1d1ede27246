//! One SQL for both backends: a connection ([`Db`]) that runs PostgreSQL-flavoured statements
//! on either database, the values bound to them ([`Param`], [`Strings`]), the rows they read
//! ([`Row`]) and set-based writes over columns of rows ([`Db::execute_rows`]).
//!
//! Statements are written once, in PostgreSQL's spelling; [`dialect`] rewrites them for SQLite
//! (placeholders, `= ANY($n)`, casts, `FOR UPDATE`). What truly differs is behind `Db`'s
//! methods: a set-based write is one `unnest` statement on PostgreSQL and one cached statement
//! run per row on SQLite, where a row costs no round trip.

pub(crate) mod dialect;
mod values;

use std::sync::Arc;

use futures::future::BoxFuture;
use rusqlite::OptionalExtension;

use crate::{Result, StoreError};
pub(crate) use values::{Col, Column, Param, Strings};

/// A write's or a read's work on a connection: a boxed future borrowing it.
pub(crate) type Work<'c, T> = BoxFuture<'c, Result<T>>;

/// The database a piece of work runs on: SQLite's connection (the writer's, inside its group
/// transaction, or a reader's), or a PostgreSQL client or transaction.
pub(crate) enum Db<'c> {
    Sqlite(&'c mut rusqlite::Connection),
    Pg(&'c deadpool_postgres::Client),
    PgTx(&'c deadpool_postgres::Transaction<'c>),
}

/// One row read, of either backend.
pub(crate) enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Pg(&'r tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `i`, converted to `T`.
    pub fn get<T: Col>(&self, i: usize) -> Result<T> {
        match self {
            Row::Sqlite(r) => Ok(T::from_sqlite(r, i)?),
            Row::Pg(r) => Ok(T::from_pg(r, i)?),
        }
    }

    /// Column `i`, a time in Unix microseconds.
    pub fn time(&self, i: usize) -> Result<jiff::Timestamp> {
        Ok(crate::records::from_micros(self.get(i)?))
    }
}

impl Db<'_> {
    /// Whether this is PostgreSQL (for the few statements whose spelling cannot be shared).
    pub fn is_postgres(&self) -> bool {
        !matches!(self, Db::Sqlite(_))
    }

    /// Runs a statement; the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, params: &[&dyn Param]) -> Result<u64> {
        match self {
            Db::Sqlite(c) => {
                let sql = dialect::sqlite(sql);
                let mut st = c.prepare_cached(&sql)?;
                Ok(st.execute(rusqlite::params_from_iter(
                    params.iter().map(|p| p.as_sqlite()),
                ))? as u64)
            }
            Db::Pg(c) => {
                let st = c.prepare_cached(sql).await?;
                Ok(c.execute(&st, &pg_params(params)).await?)
            }
            Db::PgTx(c) => {
                let st = c.prepare_cached(sql).await?;
                Ok(c.execute(&st, &pg_params(params)).await?)
            }
        }
    }

    /// Runs a query and maps every row it reads.
    pub async fn query<T, F>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        mut map: F,
    ) -> Result<Vec<T>>
    where
        F: FnMut(&Row) -> Result<T> + Send,
    {
        match self {
            Db::Sqlite(c) => {
                let sql = dialect::sqlite(sql);
                let mut st = c.prepare_cached(&sql)?;
                let mut rows = st.query(rusqlite::params_from_iter(
                    params.iter().map(|p| p.as_sqlite()),
                ))?;
                let mut out = Vec::new();
                while let Some(r) = rows.next()? {
                    out.push(map(&Row::Sqlite(r))?);
                }
                Ok(out)
            }
            Db::Pg(c) => {
                let st = c.prepare_cached(sql).await?;
                let rows = c.query(&st, &pg_params(params)).await?;
                rows.iter().map(|r| map(&Row::Pg(r))).collect()
            }
            Db::PgTx(c) => {
                let st = c.prepare_cached(sql).await?;
                let rows = c.query(&st, &pg_params(params)).await?;
                rows.iter().map(|r| map(&Row::Pg(r))).collect()
            }
        }
    }

    /// Runs a query that reads at most one row.
    pub async fn query_opt<T, F>(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        map: F,
    ) -> Result<Option<T>>
    where
        F: FnMut(&Row) -> Result<T> + Send,
    {
        if let Db::Sqlite(c) = self {
            // A point read: no vector for one row.
            let sql = dialect::sqlite(sql);
            let mut st = c.prepare_cached(&sql)?;
            let mut map = map;
            let mapped = st
                .query_row(
                    rusqlite::params_from_iter(params.iter().map(|p| p.as_sqlite())),
                    |r| Ok(map(&Row::Sqlite(r))),
                )
                .optional()?;
            return mapped.transpose();
        }
        Ok(self.query(sql, params, map).await?.into_iter().next())
    }

    /// Runs a query that reads exactly one row.
    pub async fn query_one<T, F>(&mut self, sql: &str, params: &[&dyn Param], map: F) -> Result<T>
    where
        F: FnMut(&Row) -> Result<T> + Send,
    {
        self.query_opt(sql, params, map)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("no row for: {sql}")))
    }

    /// Runs a statement once over columns of rows. `sql` names them as the relation `{rows}`
    /// (`INSERT INTO t (a, b) SELECT x.a, $1 FROM {rows}`, `UPDATE t SET ... FROM {rows}
    /// WHERE ...`); its own parameters come first. PostgreSQL binds each column as an array
    /// (`unnest(...) AS x (names)`); SQLite runs the statement once per row as a one-row
    /// statement (`dialect::one_row`: `VALUES (...)`, or the `UPDATE` without its `FROM`), which
    /// needs no statement journal. Returns the rows changed.
    pub async fn execute_rows(
        &mut self,
        sql: &str,
        params: &[&dyn Param],
        columns: &[(&str, Column<'_>)],
    ) -> Result<u64> {
        let len = columns.first().map_or(0, |(_, c)| c.len());
        if len == 0 {
            return Ok(0);
        }
        debug_assert!(columns.iter().all(|(_, c)| c.len() == len));
        let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
        let first = params.len() + 1;
        match self {
            Db::Sqlite(c) => {
                let sql = dialect::sqlite_one_row(sql, &names, first);
                let mut st = c.prepare_cached(&sql)?;
                // The statement's own parameters once; then each row's columns, bound in place.
                for (k, p) in params.iter().enumerate() {
                    st.raw_bind_parameter(k + 1, p.as_sqlite())?;
                }
                let mut changed = 0;
                for i in 0..len {
                    for (k, (_, column)) in columns.iter().enumerate() {
                        st.raw_bind_parameter(first + k, column.sqlite_at(i))?;
                    }
                    changed += st.raw_execute()? as u64;
                }
                Ok(changed)
            }
            Db::Pg(_) | Db::PgTx(_) => {
                let (sql, all) = pg_rows(sql, params, columns);
                self.execute(&sql, &all).await
            }
        }
    }

    /// Runs statements that do not depend on one another, in order: on PostgreSQL sent
    /// together (pipelined on the connection, one round trip for all of them), on SQLite one
    /// after another. Returns the rows they changed.
    pub async fn execute_all(&mut self, statements: &[Statement<'_>]) -> Result<u64> {
        fn pg<'a>(s: &'a Statement<'a>) -> Option<(String, Vec<&'a dyn Param>)> {
            match s.rows {
                Some(columns) if columns.first().is_some_and(|(_, c)| c.len() > 0) => {
                    Some(pg_rows(s.sql, s.params, columns))
                }
                Some(_) => None,
                None => Some((s.sql.to_string(), s.params.to_vec())),
            }
        }
        match self {
            Db::Sqlite(_) => {
                let mut changed = 0;
                for s in statements {
                    changed += match s.rows {
                        Some(columns) => self.execute_rows(s.sql, s.params, columns).await?,
                        None => self.execute(s.sql, s.params).await?,
                    };
                }
                Ok(changed)
            }
            Db::Pg(c) => {
                let planned: Vec<_> = statements.iter().filter_map(pg).collect();
                pipelined(&**c, &planned).await
            }
            Db::PgTx(c) => {
                let planned: Vec<_> = statements.iter().filter_map(pg).collect();
                pipelined(&**c, &planned).await
            }
        }
    }
}

/// One statement of [`Db::execute_all`]: a plain one, or (with `rows`) a set-based write over
/// columns of rows as [`Db::execute_rows`] takes it.
pub(crate) struct Statement<'a> {
    pub sql: &'a str,
    pub params: &'a [&'a dyn Param],
    pub rows: Option<&'a [(&'a str, Column<'a>)]>,
}

/// A set-based write as PostgreSQL runs it: `{rows}` as `unnest` of one array per column,
/// bound after the statement's own parameters.
fn pg_rows<'a>(
    sql: &str,
    params: &[&'a dyn Param],
    columns: &'a [(&str, Column<'_>)],
) -> (String, Vec<&'a dyn Param>) {
    let first = params.len() + 1;
    let arrays: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(k, (_, c))| format!("${}::{}", first + k, c.pg_array_type()))
        .collect();
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let relation = format!("unnest({}) AS x ({})", arrays.join(", "), names.join(", "));
    let mut all: Vec<&dyn Param> = params.to_vec();
    all.extend(columns.iter().map(|(_, c)| c as &dyn Param));
    (sql.replace("{rows}", &relation), all)
}

/// Statements sent together on one PostgreSQL connection: tokio-postgres pipelines requests
/// made concurrently, so they cost one round trip.
async fn pipelined<C: deadpool_postgres::GenericClient + Sync>(
    client: &C,
    statements: &[(String, Vec<&dyn Param>)],
) -> Result<u64> {
    let runs = statements.iter().map(|(sql, params)| async move {
        let st = client.prepare_cached(sql).await?;
        Ok::<u64, StoreError>(client.execute(&st, &pg_params(params)).await?)
    });
    Ok(futures::future::try_join_all(runs).await?.into_iter().sum())
}

fn pg_params<'a>(
    params: &'a [&'a dyn Param],
) -> Vec<&'a (dyn tokio_postgres::types::ToSql + Sync)> {
    params.iter().map(|p| p.as_pg()).collect()
}

/// Runs work that never waits (SQLite's: every statement runs when called) to its end on this
/// thread.
pub(crate) fn run_here<T>(work: impl std::future::Future<Output = T>) -> T {
    futures::executor::block_on(work)
}

/// What every write and read shares besides the connection.
pub(crate) struct Ctx {
    pub zone: quan_core::zone::TenantZone,
    pub templates: crate::records::parsed::TemplateCache,
    pub campaigns: crate::records::campaigns::CampaignCache,
}

/// A backend: where work runs. Everything above is written once against [`Db`]; a backend
/// only provides connections and transactions (SQLite's single writer with group commit,
/// PostgreSQL's pool with retries on deadlocks and races).
pub(crate) trait Engine: Send + Sync + 'static {
    fn ctx(&self) -> &Arc<Ctx>;

    /// Claims: the claims waiting together for one template go as one batch
    /// (`aggregate::claims::claim_in`) in one transaction.
    fn claim_batched(
        &self,
        cmd: crate::records::ClaimCommand,
    ) -> impl std::future::Future<Output = Result<crate::records::ClaimOutcome>> + Send;

    /// Runs a read on a connection outside any write.
    fn read<T, F>(&self, f: F) -> impl std::future::Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: for<'c, 'd> FnOnce(&'c mut Db<'d>) -> Work<'c, T> + Send + 'static;

    /// Runs a point read (a row by its key): the same as [`Engine::read`], where a backend may
    /// spare a hand-off.
    fn read_point<T, F>(&self, f: F) -> impl std::future::Future<Output = Result<T>> + Send
    where
        T: Send + 'static,
        F: for<'c, 'd> FnOnce(&'c mut Db<'d>) -> Work<'c, T> + Send + 'static,
    {
        self.read(f)
    }

    /// Runs a write in one transaction (retried whole where the backend may meet a deadlock or
    /// a race with another process, so `f` may run more than once with the same `args`);
    /// answers after the commit.
    fn write<A, T, F>(&self, args: A, f: F) -> impl std::future::Future<Output = Result<T>> + Send
    where
        A: Send + Sync + 'static,
        T: Send + 'static,
        F: for<'c, 'd> Fn(&'c mut Db<'d>, &'c A) -> Work<'c, T> + Send + Sync + 'static;
}
