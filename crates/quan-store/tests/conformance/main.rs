//! The store's conformance suite: every test is written once against the storage traits and
//! runs on both backends (`on_both_backends!`), SQLite always and PostgreSQL on the server
//! named by `QUAN_TEST_DATABASE_URL` (scripts/with-postgres.sh starts one; without it the
//! PostgreSQL cases fail, they never skip).

#[path = "../common/mod.rs"]
mod common;

mod campaigns;
mod claims;
mod counters;
mod coupons;
mod idempotency;
mod jobs;
mod learning;
mod orders;
mod outbox;
mod reports;
mod reviews;
mod scrm_history;
mod scrm_joining;
mod scrm_members;
mod scrm_segments;
mod tasks;
mod templates;
