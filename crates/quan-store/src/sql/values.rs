//! The values statements bind and read on either backend: scalars as both drivers take them,
//! lists of strings (an array on PostgreSQL, JSON on SQLite) and columns of rows.

use rusqlite::types::{ToSqlOutput, Value};
use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};

/// A value both drivers bind.
pub(crate) trait Param: Sync {
    fn as_sqlite(&self) -> &dyn rusqlite::ToSql;
    fn as_pg(&self) -> &(dyn ToSql + Sync);
}

impl<T: rusqlite::ToSql + ToSql + Sync> Param for T {
    fn as_sqlite(&self) -> &dyn rusqlite::ToSql {
        self
    }
    fn as_pg(&self) -> &(dyn ToSql + Sync) {
        self
    }
}

/// A list of strings, for `= ANY($n)`: an array on PostgreSQL, a JSON array that
/// `json_each` reads on SQLite.
#[derive(Debug)]
pub(crate) struct Strings<'a>(pub &'a [String]);

impl rusqlite::ToSql for Strings<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Owned(Value::Text(
            serde_json::to_string(self.0).expect("strings serialize"),
        )))
    }
}

impl ToSql for Strings<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }
    fn accepts(ty: &Type) -> bool {
        <&[String] as ToSql>::accepts(ty)
    }
    to_sql_checked!();
}

/// A value both drivers read.
pub(crate) trait Col: Sized {
    fn from_sqlite(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Self>;
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, tokio_postgres::Error>;
}

impl<T> Col for T
where
    T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a>,
{
    fn from_sqlite(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Self> {
        row.get(i)
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, tokio_postgres::Error> {
        row.try_get(i)
    }
}

/// One column of the rows a set-based write takes ([`super::Db::execute_rows`]).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Column<'a> {
    Text(&'a [String]),
    MaybeText(&'a [Option<String>]),
    Int(&'a [i64]),
    MaybeInt(&'a [Option<i64>]),
}

impl Column<'_> {
    pub fn len(&self) -> usize {
        match self {
            Column::Text(v) => v.len(),
            Column::MaybeText(v) => v.len(),
            Column::Int(v) => v.len(),
            Column::MaybeInt(v) => v.len(),
        }
    }

    pub(super) fn pg_array_type(&self) -> &'static str {
        match self {
            Column::Text(_) | Column::MaybeText(_) => "text[]",
            Column::Int(_) | Column::MaybeInt(_) => "bigint[]",
        }
    }

    pub(super) fn sqlite_at(&self, i: usize) -> ToSqlOutput<'_> {
        use rusqlite::types::ValueRef;
        match self {
            Column::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v[i].as_bytes())),
            Column::MaybeText(v) => match &v[i] {
                Some(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
                None => ToSqlOutput::Owned(Value::Null),
            },
            Column::Int(v) => ToSqlOutput::Owned(Value::Integer(v[i])),
            Column::MaybeInt(v) => match v[i] {
                Some(n) => ToSqlOutput::Owned(Value::Integer(n)),
                None => ToSqlOutput::Owned(Value::Null),
            },
        }
    }
}

impl rusqlite::ToSql for Column<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Err(rusqlite::Error::ToSqlConversionFailure(
            "a column of rows binds one value per row (execute_rows)".into(),
        ))
    }
}

impl ToSql for Column<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Column::Text(v) => v.to_sql(ty, out),
            Column::MaybeText(v) => v.to_sql(ty, out),
            Column::Int(v) => v.to_sql(ty, out),
            Column::MaybeInt(v) => v.to_sql(ty, out),
        }
    }
    fn accepts(ty: &Type) -> bool {
        <&[String] as ToSql>::accepts(ty) || <&[i64] as ToSql>::accepts(ty)
    }
    to_sql_checked!();
}
