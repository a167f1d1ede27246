//! Reading rows of a CSV, JSON lines or Parquet file into typed records, one at a time.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::{bail, Context};
use serde::de::DeserializeOwned;

/// A file format, from the file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
    Parquet,
}

impl Format {
    pub fn of(path: &Path) -> anyhow::Result<Format> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(Format::Csv),
            Some("jsonl" | "ndjson") => Ok(Format::JsonLines),
            Some("parquet") => Ok(Format::Parquet),
            _ => bail!(
                "{}: give a .csv, .jsonl (or .ndjson) or .parquet file",
                path.display()
            ),
        }
    }
}

/// One row: its number in the file (1-based, data rows only) and the record or why it is unreadable.
pub type Row<T> = (usize, Result<T, String>);

/// The rows of a file, one at a time.
pub type Rows<F, C> = Box<dyn Iterator<Item = Row<Either<F, C>>>>;

/// A flat record (a CSV or Parquet row): the columns every file of it must have.
pub trait Flat: DeserializeOwned + 'static {
    /// The required columns, in the order a header lists them.
    const REQUIRED: &'static [&'static str];
}

/// The rows of `path` as `F` (JSON lines) or `C` (CSV and Parquet, flat). A CSV's first row
/// must be its header, naming at least `C`'s required columns.
pub fn read<F: DeserializeOwned + 'static, C: Flat>(path: &Path) -> anyhow::Result<Rows<F, C>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    Ok(match Format::of(path)? {
        Format::JsonLines => Box::new(
            BufReader::new(file)
                .lines()
                .enumerate()
                .filter(|(_, line)| line.as_ref().map_or(true, |l| !l.trim().is_empty()))
                .map(|(i, line)| {
                    let row = line
                        .map_err(|e| e.to_string())
                        .and_then(|l| serde_json::from_str::<F>(&l).map_err(|e| e.to_string()));
                    (i + 1, row.map(Either::Full))
                }),
        ),
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(file);
            let header = reader
                .headers()
                .with_context(|| format!("reading {}", path.display()))?;
            let missing: Vec<&str> = C::REQUIRED
                .iter()
                .copied()
                .filter(|c| !header.iter().any(|h| h == *c))
                .collect();
            if !missing.is_empty() {
                bail!(
                    "{}: the first row must be the header, naming the columns {} (missing: {})",
                    path.display(),
                    C::REQUIRED.join(", "),
                    missing.join(", ")
                );
            }
            Box::new(
                reader
                    .into_deserialize::<C>()
                    .enumerate()
                    .map(|(i, row)| (i + 1, row.map(Either::Flat).map_err(|e| e.to_string()))),
            )
        }
        Format::Parquet => {
            use parquet::file::reader::SerializedFileReader;
            let reader = SerializedFileReader::new(file)
                .with_context(|| format!("reading {}", path.display()))?;
            let rows = reader.into_iter().enumerate().map(|(i, row)| {
                let row = row.map_err(|e| e.to_string()).and_then(|r| {
                    serde_json::from_value::<C>(r.to_json_value()).map_err(|e| e.to_string())
                });
                (i + 1, row.map(Either::Flat))
            });
            Box::new(rows)
        }
    })
}

/// A row in the API's JSON shape, or flat (CSV and Parquet).
pub enum Either<F, C> {
    Full(F),
    Flat(C),
}

/// A semicolon-separated list of a flat file.
pub fn split_list(v: Option<String>) -> Vec<String> {
    v.map(|s| {
        s.split(';')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect()
    })
    .unwrap_or_default()
}
