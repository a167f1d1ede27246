//! Short links and the dashboard's counts on PostgreSQL.

use async_trait::async_trait;
use jiff::Timestamp;

use super::PgStore;
use crate::model::{from_micros, micros};
use crate::reports::{NewShortLink, ShortLink, TemplateActivity, TEMPLATE_ACTIVITY};
use crate::traits::{Reports, ShortLinks};
use crate::Result;

#[async_trait]
impl ShortLinks for PgStore {
    async fn insert_short_link(&self, link: NewShortLink) -> Result<bool> {
        let c = self.pool.get().await?;
        let n = c
            .execute(
                "INSERT INTO short_links (code, template_id, link, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING",
                &[
                    &link.code,
                    &link.template_id,
                    &link.link,
                    &micros(link.expires_at),
                    &micros(link.now),
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn short_link(&self, code: &str) -> Result<Option<ShortLink>> {
        let c = self.pool.get().await?;
        Ok(c.query_opt(
            "SELECT code, template_id, link, expires_at, created_at FROM short_links \
                 WHERE code = $1",
            &[&code],
        )
        .await?
        .map(|r| ShortLink {
            code: r.get(0),
            template_id: r.get(1),
            link: r.get(2),
            expires_at: from_micros(r.get(3)),
            created_at: from_micros(r.get(4)),
        }))
    }
}

#[async_trait]
impl Reports for PgStore {
    async fn template_activity(
        &self,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<TemplateActivity>> {
        let c = self.pool.get().await?;
        let rows = c
            .query(TEMPLATE_ACTIVITY, &[&micros(from), &micros(until)])
            .await?;
        Ok(rows
            .iter()
            .map(|r| TemplateActivity {
                template_id: r.get(0),
                issued: r.get(1),
                claimed: r.get(2),
                used: r.get(3),
            })
            .collect())
    }
}
