//! The RFM primitives on SQLite.

use quan_core::scrm::rfm::RfmInput;
use quan_core::scrm::RfmScore;

use crate::scrm::*;
use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::params;

use super::SqliteStore;
use crate::model::*;
use crate::traits::*;
use crate::Result;

#[async_trait]
impl Rfm for SqliteStore {
    async fn rfm_inputs(&self, since: Timestamp, as_of: Timestamp) -> Result<Vec<RfmInput>> {
        self.read_conn(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT user_id, max(paid_at), count(*), sum(amount) FROM member_orders \
                 WHERE counted = 1 AND paid_at > ?1 AND paid_at <= ?2 GROUP BY user_id",
            )?;
            let rows = stmt.query_map([micros(since), micros(as_of)], |r| {
                Ok(RfmInput {
                    member_id: r.get(0)?,
                    last: r.get(1)?,
                    frequency: r.get(2)?,
                    monetary: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn write_rfm(&self, rows: Vec<(String, RfmScore)>, cuts: RfmCuts) -> Result<u64> {
        self.write_conn(move |tx, _| {
            let at = micros(cuts.as_of);
            let all = tx.execute(
                "UPDATE members SET rfm_r = 0, rfm_f = 0, rfm_m = 0, rfm_tier = 'C', rfm_at = ?1",
                [at],
            )? as u64;
            let mut update = tx.prepare_cached(
                "UPDATE members SET rfm_r = ?2, rfm_f = ?3, rfm_m = ?4, rfm_tier = ?5 WHERE id = ?1",
            )?;
            let mut scored = 0;
            for (id, s) in &rows {
                scored += update.execute(params![id, s.r, s.f, s.m, s.tier.as_str()])? as u64;
            }
            tx.execute(
                "INSERT INTO settings (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [RFM_CUTS_SETTING, &serde_json::to_string(&cuts).expect("json")],
            )?;
            Ok(all - scored)
        })
        .await
    }
}
