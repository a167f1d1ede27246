//! Settings read and written by PostgreSQL's not yet shared modules (members, segments, RFM).

use deadpool_postgres::GenericClient;

use crate::Result;

pub(super) async fn get_setting(c: &impl GenericClient, name: &str) -> Result<Option<String>> {
    Ok(
        c.query_opt("SELECT value FROM settings WHERE name = $1", &[&name])
            .await?
            .map(|r| r.get(0)),
    )
}

pub(super) async fn put_setting_in(c: &impl GenericClient, name: &str, value: &str) -> Result<()> {
    c.execute(
        "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
        &[&name, &value],
    )
    .await?;
    Ok(())
}
