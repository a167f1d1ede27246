//! The primitives of a full RFM recompute ([`crate::scrm::recompute_rfm`]).

use async_trait::async_trait;
use jiff::Timestamp;
use quan_core::scrm::rfm::RfmInput;
use quan_core::scrm::RfmScore;

use crate::records::*;
use crate::scrm::*;
use crate::sql::{Column, Engine};
use crate::traits::Rfm;
use crate::Result;

#[async_trait]
impl<E: Engine> Rfm for E {
    async fn rfm_inputs(&self, since: Timestamp, as_of: Timestamp) -> Result<Vec<RfmInput>> {
        self.read(move |db| {
            Box::pin(async move {
                db.query(
                    "SELECT user_id, MAX(paid_at), COUNT(*), CAST(SUM(amount) AS BIGINT) FROM member_orders \
                     WHERE counted = 1 AND paid_at > $1 AND paid_at <= $2 GROUP BY user_id",
                    &[&micros(since), &micros(as_of)],
                    |r| {
                        Ok(RfmInput {
                            member_id: r.get(0)?,
                            last: r.get(1)?,
                            frequency: r.get(2)?,
                            monetary: r.get(3)?,
                        })
                    },
                )
                .await
            })
        })
        .await
    }

    async fn write_rfm(&self, rows: Vec<(String, RfmScore)>, cuts: RfmCuts) -> Result<u64> {
        self.write((rows, cuts), |db, (rows, cuts)| {
            Box::pin(async move {
                let all = db
                    .execute(
                        "UPDATE members SET rfm_r = 0, rfm_f = 0, rfm_m = 0, rfm_tier = 'C', rfm_at = $1",
                        &[&micros(cuts.as_of)],
                    )
                    .await?;
                let ids: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
                let score = |f: fn(&RfmScore) -> u8| -> Vec<i64> {
                    rows.iter().map(|(_, s)| i64::from(f(s))).collect()
                };
                let tier: Vec<String> = rows.iter().map(|(_, s)| s.tier.as_str().to_string()).collect();
                let scored = db
                    .execute_rows(
                        "UPDATE members SET rfm_r = x.r, rfm_f = x.f, rfm_m = x.m, rfm_tier = x.tier \
                         FROM {rows} WHERE members.id = x.id",
                        &[],
                        &[
                            ("id", Column::Text(&ids)),
                            ("r", Column::Int(&score(|s| s.r))),
                            ("f", Column::Int(&score(|s| s.f))),
                            ("m", Column::Int(&score(|s| s.m))),
                            ("tier", Column::Text(&tier)),
                        ],
                    )
                    .await?;
                db.execute(
                    "INSERT INTO settings (name, value) VALUES ($1, $2) \
                     ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
                    &[&RFM_CUTS_SETTING, &serde_json::to_string(cuts).expect("cuts serialize")],
                )
                .await?;
                Ok(all - scored)
            })
        })
        .await
    }
}
