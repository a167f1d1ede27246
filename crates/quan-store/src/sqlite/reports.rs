//! Short links and the dashboard's counts on SQLite.

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, OptionalExtension};

use super::rows::*;
use super::SqliteStore;
use crate::model::micros;
use crate::reports::{NewShortLink, ShortLink, TemplateActivity, TEMPLATE_ACTIVITY};
use crate::traits::{Reports, ShortLinks};
use crate::Result;

#[async_trait]
impl ShortLinks for SqliteStore {
    async fn insert_short_link(&self, link: NewShortLink) -> Result<bool> {
        self.write_conn(move |tx, _| {
            let n = tx.execute(
                "INSERT INTO short_links (code, template_id, link, expires_at, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (code) DO NOTHING",
                params![
                    link.code,
                    link.template_id,
                    link.link,
                    micros(link.expires_at),
                    micros(link.now)
                ],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn short_link(&self, code: &str) -> Result<Option<ShortLink>> {
        let code = code.to_string();
        self.read_point_conn(move |conn| {
            Ok(conn
                .prepare_cached(
                    "SELECT code, template_id, link, expires_at, created_at FROM short_links \
                     WHERE code = ?1",
                )?
                .query_row([&code], |r| {
                    Ok(ShortLink {
                        code: r.get(0)?,
                        template_id: r.get(1)?,
                        link: r.get(2)?,
                        expires_at: ts(r.get(3)?),
                        created_at: ts(r.get(4)?),
                    })
                })
                .optional()?)
        })
        .await
    }
}

#[async_trait]
impl Reports for SqliteStore {
    async fn template_activity(
        &self,
        from: Timestamp,
        until: Timestamp,
    ) -> Result<Vec<TemplateActivity>> {
        self.read_conn(move |conn| {
            let mut stmt = conn.prepare_cached(TEMPLATE_ACTIVITY)?;
            let rows = stmt.query_map(params![micros(from), micros(until)], |r| {
                Ok(TemplateActivity {
                    template_id: r.get(0)?,
                    issued: r.get(1)?,
                    claimed: r.get(2)?,
                    used: r.get(3)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }
}
