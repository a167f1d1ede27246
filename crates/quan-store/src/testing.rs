//! Test harness (feature `testing`): a store on a fresh database of either backend per test,
//! for the conformance suite in `tests/conformance` and for other crates' tests.
//!
//! SQLite databases live in a temporary directory; PostgreSQL databases are created fresh on
//! the server named by `QUAN_TEST_DATABASE_URL` (scripts/with-postgres.sh starts one). Without
//! that variable a PostgreSQL test panics: it is never skipped.

use std::sync::Arc;

use quan_core::zone::TenantZone;

use crate::Store;

/// The environment variable naming a PostgreSQL server where the user may create databases.
pub const DATABASE_URL_VAR: &str = "QUAN_TEST_DATABASE_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, empty database URL for `backend`; the guard keeps a SQLite directory alive.
///
/// # Panics
/// For PostgreSQL, when `QUAN_TEST_DATABASE_URL` is unset or the server refuses.
pub async fn fresh_database(backend: Backend) -> (String, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            (
                format!("sqlite://{}/quan.db", dir.path().display()),
                Some(dir),
            )
        }
        Backend::Postgres => {
            let admin = std::env::var(DATABASE_URL_VAR).unwrap_or_else(|_| {
                panic!(
                    "{DATABASE_URL_VAR} is not set: PostgreSQL tests never skip. Run them with \
                     scripts/with-postgres.sh (it starts a throwaway server), or point \
                     {DATABASE_URL_VAR} at a server where the user may CREATE DATABASE"
                )
            });
            let (client, conn) = tokio_postgres::connect(&admin, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("connect to the test server {admin}: {e}"));
            tokio::spawn(conn);
            let name = format!("quan_test_{:016x}", rand::random::<u64>());
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create database");
            let base = admin
                .rsplit_once('/')
                .map(|(b, _)| b)
                .expect("URL has a database");
            (format!("{base}/{name}"), None)
        }
    }
}

/// A store on a fresh database, and what keeps that database alive.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for TestStore {
    type Target = dyn Store;

    fn deref(&self) -> &dyn Store {
        &*self.store
    }
}

/// Opens (and migrates) a store of `backend` on a fresh database, in `zone`.
pub async fn fresh_store(backend: Backend, zone: TenantZone) -> TestStore {
    let (url, dir) = fresh_database(backend).await;
    let store = crate::open(&url, zone).await.expect("open store");
    assert_eq!(
        store.backend(),
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );
    TestStore {
        store,
        url,
        _dir: dir,
    }
}

/// Declares a test once and runs it on both backends: `on_both_backends!(name);` for an
/// `async fn name(backend: Backend)` in the same module. Needs `tokio` with its `macros` and
/// `rt-multi-thread` features in the calling crate.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::testing::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::testing::Backend::Postgres).await
                }
            }
        )+
    };
}
