//! Readers: an allocation file in CSV or Parquet into an [`Instance`], checked row by row.
//!
//! Both read the columns `member_id, option, cost, value` by name (others are ignored), number
//! the data rows from 1 (the header not counted) and refuse the first malformed row with its
//! number and reason, the same as reading the file row by row would (`crate::rows` makes the
//! checks). CSV is split into records on one thread while another parses and checks them, a
//! batch of records at a time; Parquet ([`parquet`]) decodes and checks its row groups in
//! parallel. Neither keeps more than a few batches besides the instance being built.

use std::io::Read;
use std::sync::mpsc;

use crate::instance::{Builder, InputError, Instance, Reason};

mod columns;
mod parquet;
#[cfg(test)]
mod tests;

pub use parquet::parquet;

/// The columns an allocation file has, in the order the readers use them.
pub const COLUMNS: [&str; 4] = ["member_id", "option", "cost", "value"];

/// Reports progress every this many rows.
const EVERY: u64 = 1 << 16;

/// CSV records handed from the splitting thread to the checking one at a time.
const RECORDS: usize = 1 << 12;

/// Progress: rows read so far, and the total when the file says it.
pub type Progress<'a> = &'a mut dyn FnMut(u64, Option<u64>);

/// A number column's text: `Unparsable` unless a decimal (NaN and infinities parse, and are
/// refused by the builder as not finite).
fn number(column: &'static str, text: &str) -> Result<f64, Reason> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Reason::Empty(column));
    }
    t.parse::<f64>().map_err(|_| Reason::Unparsable {
        column,
        text: t.chars().take(40).collect(),
    })
}

fn utf8<'b>(column: &'static str, bytes: &'b [u8]) -> Result<&'b str, Reason> {
    std::str::from_utf8(bytes).map_err(|_| Reason::Malformed(format!("{column} is not UTF-8")))
}

/// Records split from the file, and the error that stopped the splitting, if any.
struct Records {
    records: Vec<csv::ByteRecord>,
    len: usize,
    error: Option<InputError>,
}

/// Reads a CSV allocation file with a header row.
pub fn csv<R: Read + Send>(input: R, progress: Progress<'_>) -> Result<Instance, InputError> {
    // Fields are trimmed here (as the csv crate would, ASCII whitespace) without it rebuilding
    // every record.
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(input);
    let header = reader
        .byte_headers()
        .map_err(|e| InputError::File(format!("reading the header: {e}")))?
        .clone();
    let mut at = [0usize; 4];
    for (slot, name) in at.iter_mut().zip(COLUMNS) {
        *slot = header
            .iter()
            .position(|h| h == name.as_bytes())
            .ok_or(InputError::MissingColumn(name))?;
    }
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::sync_channel::<Records>(4);
        // Batches of records come back to be filled again, so records are not reallocated.
        let (back, used) = mpsc::channel::<Vec<csv::ByteRecord>>();
        scope.spawn(move || {
            let mut n = 0u64;
            loop {
                let mut records = used.try_recv().unwrap_or_default();
                let (mut len, mut error) = (0, None);
                while len < RECORDS {
                    if records.len() == len {
                        records.push(csv::ByteRecord::new());
                    }
                    match reader.read_byte_record(&mut records[len]) {
                        Ok(true) => len += 1,
                        Ok(false) => break,
                        Err(e) => {
                            let reason = match e.kind() {
                                csv::ErrorKind::UnequalLengths {
                                    expected_len, len, ..
                                } => format!("{len} fields where the header has {expected_len}"),
                                _ => e.to_string(),
                            };
                            error = Some(InputError::Row {
                                row: n + len as u64 + 1,
                                reason: Reason::Malformed(reason),
                            });
                            break;
                        }
                    }
                }
                n += len as u64;
                let last = len < RECORDS;
                if tx
                    .send(Records {
                        records,
                        len,
                        error,
                    })
                    .is_err()
                    || last
                {
                    return;
                }
            }
        });
        let mut b = Builder::default();
        let mut n = 0u64;
        for batch in rx {
            for record in &batch.records[..batch.len] {
                n += 1;
                let field = |i: usize| record.get(at[i]).unwrap_or_default().trim_ascii();
                let parsed = (|| {
                    let member = utf8("member_id", field(0))?;
                    let option = utf8("option", field(1))?;
                    let cost = number("cost", utf8("cost", field(2))?)?;
                    let value = number("value", utf8("value", field(3))?)?;
                    Ok((member, option, cost, value))
                })();
                let (member, option, cost, value) =
                    parsed.map_err(|reason| InputError::Row { row: n, reason })?;
                b.push(n, member, option, cost, value)?;
                if n.is_multiple_of(EVERY) {
                    progress(n, None);
                }
            }
            if let Some(e) = batch.error {
                return Err(e);
            }
            let _ = back.send(batch.records);
        }
        progress(n, None);
        Ok(b.finish())
    })
}
