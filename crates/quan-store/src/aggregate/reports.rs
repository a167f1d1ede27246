//! Short links and the dashboard's counts.

use async_trait::async_trait;
use jiff::Timestamp;

use crate::records::micros;
use crate::records::reports::{activity_sql, NewShortLink, ShortLink, TemplateActivity};
use crate::sql::{Engine, Row, Strings};
use crate::traits::{Reports, ShortLinks};
use crate::Result;

#[async_trait]
impl<E: Engine> ShortLinks for E {
    async fn insert_short_link(&self, link: NewShortLink) -> Result<bool> {
        self.write(link, |db, link| {
            Box::pin(async move {
                let n = db
                    .execute(
                        "INSERT INTO short_links (code, template_id, link, expires_at, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (code) DO NOTHING",
                        &[&link.code, &link.template_id, &link.link, &micros(link.expires_at), &micros(link.now)],
                    )
                    .await?;
                Ok(n == 1)
            })
        })
        .await
    }

    async fn short_link(&self, code: &str) -> Result<Option<ShortLink>> {
        let code = code.to_string();
        self.read_point(move |db| {
            Box::pin(async move {
                db.query_opt(
                    "SELECT code, template_id, link, expires_at, created_at FROM short_links WHERE code = $1",
                    &[&code],
                    |r| {
                        Ok(ShortLink {
                            code: r.get(0)?,
                            template_id: r.get(1)?,
                            link: r.get(2)?,
                            expires_at: r.time(3)?,
                            created_at: r.time(4)?,
                        })
                    },
                )
                .await
            })
        })
        .await
    }
}

#[async_trait]
impl<E: Engine> Reports for E {
    async fn template_activity(
        &self,
        from: Timestamp,
        until: Timestamp,
        templates: Option<Vec<String>>,
    ) -> Result<Vec<TemplateActivity>> {
        let activity = |r: &Row| {
            Ok(TemplateActivity {
                template_id: r.get(0)?,
                issued: r.get(1)?,
                claimed: r.get(2)?,
                used: r.get(3)?,
            })
        };
        self.read(move |db| {
            Box::pin(async move {
                let (from, until) = (micros(from), micros(until));
                match templates {
                    None => {
                        db.query(activity_sql(false), &[&from, &until], activity)
                            .await
                    }
                    Some(ids) => {
                        db.query(
                            activity_sql(true),
                            &[&from, &until, &Strings(&ids)],
                            activity,
                        )
                        .await
                    }
                }
            })
        })
        .await
    }
}
