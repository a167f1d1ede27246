//! PostgreSQL's spelling of a statement rewritten for SQLite, once per statement text:
//! `$n` → `?n`, `= ANY($n)` → `IN (SELECT value FROM json_each(?n))`, casts (`::text[]`)
//! dropped, `FOR UPDATE [SKIP LOCKED]` dropped (SQLite's single writer already excludes),
//! `GREATEST`/`LEAST` → `MAX`/`MIN`, and `LIMIT $n` → `LIMIT 0 + ?n` (SQLite prepares a
//! statement again on every bind of a bare `LIMIT` parameter).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// At most this many rewritten statements are kept per thread (the statements are constants, a
/// few hundred; a text built at run time may add more, and the cache then starts afresh).
const KEPT: usize = 4096;

/// A statement rewritten for SQLite, with the text it was rewritten from.
struct Rewritten {
    pg: Box<str>,
    names: Box<[Box<str>]>,
    sqlite: Arc<str>,
}

thread_local! {
    /// By the address and length of the PostgreSQL text (a statement is a constant, so its
    /// address finds it without hashing the text) and the first row parameter; a hit is
    /// checked against the text itself, so another text at a reused address is rewritten anew.
    static REWRITTEN: RefCell<HashMap<(usize, usize, usize), Rewritten>> =
        RefCell::new(HashMap::new());
}

/// The SQLite text of a statement written for PostgreSQL.
pub(crate) fn sqlite(sql: &str) -> Arc<str> {
    cached(sql, &[], 0, || rewrite(sql))
}

/// The SQLite text of [`one_row`]`(sql, names, first)`.
pub(crate) fn sqlite_one_row(sql: &str, names: &[&str], first: usize) -> Arc<str> {
    cached(sql, names, first, || rewrite(&one_row(sql, names, first)))
}

fn cached(sql: &str, names: &[&str], first: usize, make: impl FnOnce() -> String) -> Arc<str> {
    let key = (sql.as_ptr() as usize, sql.len(), first);
    REWRITTEN.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(r) = cache.get(&key) {
            let same_names =
                r.names.len() == names.len() && r.names.iter().zip(names).all(|(a, b)| &**a == *b);
            if same_names && &*r.pg == sql {
                return r.sqlite.clone();
            }
        }
        if cache.len() >= KEPT {
            cache.clear();
        }
        let done: Arc<str> = make().into();
        cache.insert(
            key,
            Rewritten {
                pg: sql.into(),
                names: names.iter().map(|n| (*n).into()).collect(),
                sqlite: done.clone(),
            },
        );
        done
    })
}

fn rewrite(sql: &str) -> String {
    let sql = sql
        .replace(" FOR UPDATE SKIP LOCKED", "")
        .replace(" FOR UPDATE", "")
        .replace("GREATEST(", "MAX(")
        .replace("LEAST(", "MIN(");
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 16);
    let mut i = 0;
    while i < b.len() {
        if sql[i..].starts_with("= ANY($") {
            let (n, end) = number(b, i + 7);
            out.push_str(&format!("IN (SELECT value FROM json_each(?{n}))"));
            i = end + 1; // past ')'
        } else if sql[i..].starts_with("LIMIT $") {
            let (n, end) = number(b, i + 7);
            out.push_str(&format!("LIMIT 0 + ?{n}"));
            i = end;
        } else if b[i] == b'$' && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let (n, end) = number(b, i + 1);
            out.push_str(&format!("?{n}"));
            i = end;
        } else if sql[i..].starts_with("::") {
            i += 2;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            if sql[i..].starts_with("[]") {
                i += 2;
            }
        } else {
            let c = sql[i..].chars().next().expect("in bounds");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// A set-based statement over `{rows}` (columns `names`, bound from parameter `first` on) as
/// the one-row statement SQLite runs per row: `INSERT ... SELECT e.. FROM {rows} [WHERE true]`
/// becomes `INSERT ... VALUES (e..)`, `UPDATE ... FROM {rows} WHERE ...` loses its `FROM`, and
/// each `x.name` becomes its parameter. A statement that may change many rows makes SQLite open
/// a statement journal at every execution; a one-row `INSERT` does not.
pub(crate) fn one_row(sql: &str, names: &[&str], first: usize) -> String {
    let mut out = if sql.trim_start().starts_with("INSERT") {
        let select = sql
            .find(" SELECT ")
            .expect("INSERT ... SELECT ... FROM {rows}");
        let from = sql
            .find(" FROM {rows}")
            .expect("INSERT ... SELECT ... FROM {rows}");
        let mut rest = &sql[from + " FROM {rows}".len()..];
        if let Some(r) = rest.trim_start().strip_prefix("WHERE true") {
            rest = r;
        }
        format!(
            "{} VALUES ({}){}",
            &sql[..select],
            &sql[select + 8..from],
            rest
        )
    } else {
        sql.replace(" FROM {rows}", "")
    };
    // Longest names first, so that `x.at` does not take the front of `x.attributes`.
    let mut order: Vec<(usize, &str)> = names.iter().copied().enumerate().collect();
    order.sort_by_key(|(_, n)| std::cmp::Reverse(n.len()));
    for (k, name) in order {
        out = replace_column(&out, name, &format!("${}", first + k));
    }
    out
}

/// `x.name` (not followed by more of a name) replaced by `to`.
fn replace_column(sql: &str, name: &str, to: &str) -> String {
    let pat = format!("x.{name}");
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(at) = rest.find(&pat) {
        let before_ok = at == 0 || !is_ident(rest.as_bytes()[at - 1]);
        let end = at + pat.len();
        let after_ok = rest.as_bytes().get(end).is_none_or(|b| !is_ident(*b));
        out.push_str(&rest[..at]);
        out.push_str(if before_ok && after_ok { to } else { &pat });
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The digits at `from`, and where they end.
fn number(b: &[u8], from: usize) -> (&str, usize) {
    let mut end = from;
    while end < b.len() && b[end].is_ascii_digit() {
        end += 1;
    }
    (std::str::from_utf8(&b[from..end]).expect("digits"), end)
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn rewrites_postgres_spelling() {
        assert_eq!(
            rewrite("SELECT a FROM t WHERE ($1::text[] IS NULL OR s = ANY($1)) AND id > $2 ORDER BY id LIMIT $3 FOR UPDATE"),
            "SELECT a FROM t WHERE (?1 IS NULL OR s IN (SELECT value FROM json_each(?1))) AND id > ?2 ORDER BY id LIMIT 0 + ?3"
        );
        assert_eq!(
            rewrite("UPDATE t SET n = GREATEST(n - $10, 0) WHERE id = $1 FOR UPDATE SKIP LOCKED"),
            "UPDATE t SET n = MAX(n - ?10, 0) WHERE id = ?1"
        );
        assert_eq!(rewrite("SELECT '¥' || $1"), "SELECT '¥' || ?1");
    }

    #[test]
    fn a_set_based_write_is_one_row_per_execution() {
        use super::one_row;
        assert_eq!(
            one_row("INSERT INTO t (a, b, c) SELECT x.at, $1, x.attributes FROM {rows} WHERE true ON CONFLICT (a) DO NOTHING", &["at", "attributes"], 2),
            "INSERT INTO t (a, b, c) VALUES ($2, $1, $3) ON CONFLICT (a) DO NOTHING"
        );
        assert_eq!(
            one_row(
                "UPDATE t SET s = x.s, n = $1 FROM {rows} WHERE t.id = x.id",
                &["id", "s"],
                2
            ),
            "UPDATE t SET s = $3, n = $1 WHERE t.id = $2"
        );
    }
}
