//! CSV files the API hands out: one writer for every export, each cell passed through
//! [`quan_core::text::csv_cell`] so that no cell runs as a spreadsheet formula.

use axum::body::Bytes;

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
