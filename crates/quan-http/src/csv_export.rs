//! CSV files the API hands out: one writer for every export, each cell passed through
//! [`quan_core::text::csv_cell`] so that no cell runs as a spreadsheet formula.

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A CSV file as a download named `file` (its bytes, or a stream of them).
pub fn attachment(file: &str, body: impl Into<Body>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body.into(),
    )
        .into_response()
}

/// Rows of one CSV file (or one streamed part of it), as RFC 4180 writes them: fields quoted
/// when they must be, lines ending in CRLF.
pub struct CsvRows(csv::Writer<Vec<u8>>);

impl CsvRows {
    pub fn new() -> Self {
        CsvRows(
            csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(Vec::new()),
        )
    }

    /// Appends one row; each cell is neutralised by the CSV-injection rule.
    pub fn row<I, S>(&mut self, cells: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let cells = cells
            .into_iter()
            .map(|c| quan_core::text::csv_cell(c.as_ref()).into_owned());
        self.0
            .write_record(cells)
            .expect("writing to memory cannot fail");
    }

    pub fn into_bytes(self) -> Bytes {
        Bytes::from(self.0.into_inner().expect("flushing to memory cannot fail"))
    }
}

impl Default for CsvRows {
    fn default() -> Self {
        Self::new()
    }
}

/// A JSON document as rows of `figure,value`: each leaf under its dotted path (`cost.by_funder
/// .platform`, `holdout.conversion_uplift_ci95_bp[0]`), in the document's order; `null` is an
/// empty value.
pub fn figures(doc: &serde_json::Value) -> CsvRows {
    fn walk(v: &serde_json::Value, path: &str, out: &mut CsvRows) {
        match v {
            serde_json::Value::Object(fields) => {
                for (k, item) in fields {
                    let at = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(item, &at, out);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(item, &format!("{path}[{i}]"), out);
                }
            }
            serde_json::Value::String(s) => out.row([path, s.as_str()]),
            serde_json::Value::Null => out.row([path, ""]),
            other => out.row([path.to_string(), other.to_string()]),
        }
    }
    let mut out = CsvRows::new();
    out.row(["figure", "value"]);
    walk(doc, "", &mut out);
    out
}
