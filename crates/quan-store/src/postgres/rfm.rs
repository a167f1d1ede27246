//! The RFM primitives on PostgreSQL.

use quan_core::scrm::rfm::RfmInput;
use quan_core::scrm::RfmScore;

use super::keys::put_setting_in;
use crate::scrm::*;
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use jiff::Timestamp;

use super::{retrying, PgStore};
use crate::model::*;
use crate::traits::*;
use crate::Result;

#[async_trait]
impl Rfm for PgStore {
    async fn rfm_inputs(&self, since: Timestamp, as_of: Timestamp) -> Result<Vec<RfmInput>> {
        let c = self.pool.get().await?;
        Ok(c.query(
            "SELECT user_id, max(paid_at), count(*), sum(amount)::bigint FROM member_orders \
                 WHERE counted = 1 AND paid_at > $1 AND paid_at <= $2 GROUP BY user_id",
            &[&micros(since), &micros(as_of)],
        )
        .await?
        .iter()
        .map(|r| RfmInput {
            member_id: r.get(0),
            last: r.get(1),
            frequency: r.get(2),
            monetary: r.get(3),
        })
        .collect())
    }

    async fn write_rfm(&self, rows: Vec<(String, RfmScore)>, cuts: RfmCuts) -> Result<u64> {
        let (rows, cuts) = (&rows, &cuts);
        retrying(|| async move {
            let mut client = self.pool.get().await?;
            let tx = client.transaction().await?;
            let all = tx
            .execute(
                "UPDATE members SET rfm_r = 0, rfm_f = 0, rfm_m = 0, rfm_tier = 'C', rfm_at = $1",
                &[&micros(cuts.as_of)],
            )
            .await?;
            let ids: Vec<&str> = rows.iter().map(|(id, _)| id.as_str()).collect();
            let r: Vec<i64> = rows.iter().map(|(_, s)| i64::from(s.r)).collect();
            let f: Vec<i64> = rows.iter().map(|(_, s)| i64::from(s.f)).collect();
            let m: Vec<i64> = rows.iter().map(|(_, s)| i64::from(s.m)).collect();
            let tier: Vec<&str> = rows.iter().map(|(_, s)| s.tier.as_str()).collect();
            let scored = tx
                .execute(
                    "UPDATE members SET rfm_r = n.r, rfm_f = n.f, rfm_m = n.m, rfm_tier = n.tier \
                 FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[]) \
                 AS n (id, r, f, m, tier) WHERE members.id = n.id",
                    &[&ids, &r, &f, &m, &tier],
                )
                .await?;
            put_setting_in(
                &tx,
                RFM_CUTS_SETTING,
                &serde_json::to_string(cuts).expect("json"),
            )
            .await?;
            tx.commit().await?;
            Ok(all - scored)
        })
        .await
    }
}
