//! Streaming readers: an allocation file in CSV or Parquet into an [`Instance`], row by row.
//!
//! Both read the columns `member_id, option, cost, value` by name (others are ignored), number
//! the data rows from 1 (the header not counted) and refuse the first malformed row with its
//! number and reason. Neither keeps more than a reused record (CSV) or one record batch
//! (Parquet) besides the instance being built.

use std::io::Read;

use arrow_array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use parquet::file::reader::ChunkReader;

use crate::instance::{Builder, InputError, Instance, Reason};

/// The columns an allocation file has, in the order the readers use them.
pub const COLUMNS: [&str; 4] = ["member_id", "option", "cost", "value"];

/// Reports progress every this many rows.
const EVERY: u64 = 1 << 16;

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

/// Reads a CSV allocation file with a header row.
pub fn csv<R: Read>(input: R, progress: Progress<'_>) -> Result<Instance, InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
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
    let mut b = Builder::default();
    let mut record = csv::ByteRecord::new();
    let mut n = 0u64;
    loop {
        let more = reader.read_byte_record(&mut record).map_err(|e| {
            let reason = match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("{len} fields where the header has {expected_len}"),
                _ => e.to_string(),
            };
            InputError::Row {
                row: n + 1,
                reason: Reason::Malformed(reason),
            }
        })?;
        if !more {
            break;
        }
        n += 1;
        let field = |i: usize| record.get(at[i]).unwrap_or_default();
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
    progress(n, None);
    Ok(b.finish())
}

/// A column of a batch as text (ids may be stored as integers) or as numbers.
enum Column {
    Text(StringArray),
    Number(Float64Array),
}

fn column(batch: &RecordBatch, name: &'static str, numeric: bool) -> Result<Column, InputError> {
    let col: &ArrayRef = batch
        .column_by_name(name)
        .ok_or(InputError::MissingColumn(name))?;
    let text = matches!(
        col.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Dictionary(_, _)
    );
    let cast = |to: &DataType| {
        arrow_cast::cast(col, to)
            .map_err(|e| InputError::File(format!("column {name}: {e} ({})", col.data_type())))
    };
    if numeric && !text {
        let a = cast(&DataType::Float64)?;
        let a = a.as_any().downcast_ref::<Float64Array>().expect("Float64");
        Ok(Column::Number(a.clone()))
    } else {
        let a = cast(&DataType::Utf8)?;
        let a = a.as_any().downcast_ref::<StringArray>().expect("Utf8");
        Ok(Column::Text(a.clone()))
    }
}

impl Column {
    fn text(&self, name: &'static str, i: usize) -> Result<&str, Reason> {
        match self {
            Column::Text(a) if a.is_null(i) => Err(Reason::Empty(name)),
            Column::Text(a) => Ok(a.value(i).trim()),
            Column::Number(_) => unreachable!("text columns are read as text"),
        }
    }

    fn number(&self, name: &'static str, i: usize) -> Result<f64, Reason> {
        match self {
            Column::Number(a) if a.is_null(i) => Err(Reason::Empty(name)),
            Column::Number(a) => Ok(a.value(i)),
            Column::Text(a) if a.is_null(i) => Err(Reason::Empty(name)),
            Column::Text(a) => number(name, a.value(i)),
        }
    }
}

/// Reads a Parquet allocation file, one record batch at a time, only its four columns.
pub fn parquet<T: ChunkReader + 'static>(
    input: T,
    progress: Progress<'_>,
) -> Result<Instance, InputError> {
    let file = |e: parquet::errors::ParquetError| InputError::File(format!("not Parquet: {e}"));
    let builder = ParquetRecordBatchReaderBuilder::try_new(input).map_err(file)?;
    let total = builder.metadata().file_metadata().num_rows().max(0) as u64;
    let schema = builder.schema().clone();
    let mut roots = Vec::new();
    for name in COLUMNS {
        roots.push(
            schema
                .index_of(name)
                .map_err(|_| InputError::MissingColumn(name))?,
        );
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
    let reader = builder
        .with_projection(mask)
        .with_batch_size(65_536)
        .build()
        .map_err(file)?;
    // Decoding runs on its own thread, a batch or two ahead of the rows being checked.
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        scope.spawn(move || {
            for batch in reader {
                if tx.send(batch).is_err() {
                    return;
                }
            }
        });
        let mut b = Builder::with_capacity(usize::try_from(total).unwrap_or(0));
        let mut n = 0u64;
        for batch in rx {
            let batch =
                batch.map_err(|e| InputError::File(format!("reading row {}: {e}", n + 1)))?;
            let member = column(&batch, "member_id", false)?;
            let option = column(&batch, "option", false)?;
            let cost = column(&batch, "cost", true)?;
            let value = column(&batch, "value", true)?;
            for i in 0..batch.num_rows() {
                n += 1;
                let parsed = (|| {
                    Ok((
                        member.text("member_id", i)?,
                        option.text("option", i)?,
                        cost.number("cost", i)?,
                        value.number("value", i)?,
                    ))
                })();
                let (m, o, c, v) = parsed.map_err(|reason| InputError::Row { row: n, reason })?;
                b.push(n, m, o, c, v)?;
            }
            progress(n, Some(total));
        }
        Ok(b.finish())
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;

    use super::*;

    fn from_csv(text: &str) -> Result<Instance, InputError> {
        csv(text.as_bytes(), &mut |_, _| {})
    }

    fn refused(text: &str) -> (u64, Reason) {
        match from_csv(text) {
            Err(InputError::Row { row, reason }) => (row, reason),
            other => panic!("expected a refused row, got {other:?}"),
        }
    }

    #[test]
    fn csv_reads_columns_by_name() {
        let i = from_csv(
            "value,extra,member_id,cost,option\n30,z,a,10,x\n 50 ,z, a ,20,y\n25,z,b,10,x\n",
        )
        .unwrap();
        assert_eq!(i.members(), 2);
        assert_eq!(i.member_id(0), "a");
        assert_eq!(i.options(), ["x", "y"]);
        assert_eq!(i.value(), [30.0, 50.0, 25.0]);
        assert_eq!(i.cost(), [10.0, 20.0, 10.0]);
    }

    #[test]
    fn csv_refuses_a_missing_column() {
        assert_eq!(
            from_csv("member_id,option,value\na,x,1\n").unwrap_err(),
            InputError::MissingColumn("cost")
        );
    }

    #[test]
    fn csv_refuses_bad_rows_with_their_number() {
        let head = "member_id,option,cost,value\na,x,1,2\n";
        assert_eq!(
            refused(&format!("{head}b,x,-1,2\n")),
            (2, Reason::NegativeCost)
        );
        assert_eq!(
            refused(&format!("{head}b,x,1,NaN\n")),
            (2, Reason::NotFinite("value"))
        );
        assert_eq!(
            refused(&format!("{head}b,x,inf,1\n")),
            (2, Reason::NotFinite("cost"))
        );
        assert_eq!(
            refused(&format!("{head}b,x,1,2\nb,y,1,2\nb,x,3,4\n")),
            (
                4,
                Reason::Duplicate {
                    member: "b".into(),
                    option: "x".into()
                }
            )
        );
        assert_eq!(
            refused(&format!("{head}b,x,1.5.2,2\n")),
            (
                2,
                Reason::Unparsable {
                    column: "cost",
                    text: "1.5.2".into()
                }
            )
        );
        assert_eq!(
            refused(&format!("{head}b,x,,2\n")),
            (2, Reason::Empty("cost"))
        );
        assert_eq!(
            refused(&format!("{head},x,1,2\n")),
            (2, Reason::Empty("member_id"))
        );
        assert_eq!(
            refused(&format!("{head}b,x,1,2\na,y,1,2\n")),
            (3, Reason::NotGrouped { member: "a".into() })
        );
        assert!(matches!(
            refused(&format!("{head}b,x,1\n")),
            (2, Reason::Malformed(_))
        ));
    }

    #[test]
    fn the_error_message_names_the_row_and_reason() {
        let e = from_csv("member_id,option,cost,value\na,x,1,2\na,x,1,2\n").unwrap_err();
        assert_eq!(e.to_string(), "row 2: member \"a\" has option \"x\" twice");
    }

    fn parquet_file(batch: RecordBatch) -> std::fs::File {
        let mut f = tempfile::tempfile().unwrap();
        let mut w = ArrowWriter::try_new(&mut f, batch.schema(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        f
    }

    fn batch(members: Vec<Option<&str>>, cost: Vec<Option<f64>>, value: Vec<f64>) -> RecordBatch {
        let options: Vec<&str> = (0..members.len())
            .map(|i| if i % 2 == 0 { "x" } else { "y" })
            .collect();
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("member_id", DataType::Utf8, true),
                Field::new("option", DataType::Utf8, false),
                Field::new("cost", DataType::Float64, true),
                Field::new("value", DataType::Float64, false),
            ])),
            vec![
                Arc::new(StringArray::from(members)),
                Arc::new(StringArray::from(options)),
                Arc::new(Float64Array::from(cost)),
                Arc::new(Float64Array::from(value)),
            ],
        )
        .unwrap()
    }

    fn from_parquet(b: RecordBatch) -> Result<Instance, InputError> {
        parquet(parquet_file(b), &mut |_, _| {})
    }

    #[test]
    fn parquet_reads_and_counts_progress() {
        let b = batch(
            vec![Some("a"), Some("a"), Some("b")],
            vec![Some(10.0), Some(20.0), Some(10.0)],
            vec![30.0, 50.0, 25.0],
        );
        let mut seen = Vec::new();
        let i = parquet(parquet_file(b), &mut |n, total| seen.push((n, total))).unwrap();
        assert_eq!(i.members(), 2);
        assert_eq!(i.pairs(), 3);
        assert_eq!(i.member_id(1), "b");
        assert_eq!(seen.last(), Some(&(3, Some(3))));
    }

    #[test]
    fn parquet_takes_integer_ids_and_costs() {
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("member_id", DataType::Int64, false),
                Field::new("option", DataType::Utf8, false),
                Field::new("cost", DataType::Int64, false),
                Field::new("value", DataType::Float64, false),
            ])),
            vec![
                Arc::new(Int64Array::from(vec![7, 7, 8])),
                Arc::new(StringArray::from(vec!["x", "y", "x"])),
                Arc::new(Int64Array::from(vec![1, 2, 3])),
                Arc::new(Float64Array::from(vec![1.0, 2.5, 3.0])),
            ],
        )
        .unwrap();
        let i = from_parquet(b).unwrap();
        assert_eq!(i.member_id(1), "8");
        assert_eq!(i.cost(), [1.0, 2.0, 3.0]);
    }

    #[test]
    fn parquet_refuses_bad_rows_with_their_number() {
        let row = |members, cost, value| match from_parquet(batch(members, cost, value)) {
            Err(InputError::Row { row, reason }) => (row, reason),
            other => panic!("expected a refused row, got {other:?}"),
        };
        assert_eq!(
            row(
                vec![Some("a"), Some("b"), Some("c")],
                vec![Some(1.0), Some(1.0), Some(-2.0)],
                vec![1.0, 1.0, 1.0]
            ),
            (3, Reason::NegativeCost)
        );
        assert_eq!(
            row(
                vec![Some("a"), Some("b")],
                vec![Some(1.0), Some(1.0)],
                vec![1.0, f64::NAN]
            ),
            (2, Reason::NotFinite("value"))
        );
        assert_eq!(
            row(
                vec![Some("a"), Some("b")],
                vec![Some(1.0), None],
                vec![1.0, 1.0]
            ),
            (2, Reason::Empty("cost"))
        );
        assert_eq!(
            row(
                vec![Some("a"), None],
                vec![Some(1.0), Some(1.0)],
                vec![1.0, 1.0]
            ),
            (2, Reason::Empty("member_id"))
        );
        // Options alternate x, y, x: member a's third row repeats x.
        assert_eq!(
            row(
                vec![Some("a"), Some("a"), Some("a")],
                vec![Some(1.0), Some(1.0), Some(1.0)],
                vec![1.0, 1.0, 1.0]
            ),
            (
                3,
                Reason::Duplicate {
                    member: "a".into(),
                    option: "x".into()
                }
            )
        );
    }

    #[test]
    fn parquet_refuses_a_missing_column_and_text_numbers_that_do_not_parse() {
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("member_id", DataType::Utf8, false),
                Field::new("option", DataType::Utf8, false),
                Field::new("value", DataType::Utf8, false),
            ])),
            vec![
                Arc::new(StringArray::from(vec!["a"])),
                Arc::new(StringArray::from(vec!["x"])),
                Arc::new(StringArray::from(vec!["1"])),
            ],
        )
        .unwrap();
        assert_eq!(
            from_parquet(b).unwrap_err(),
            InputError::MissingColumn("cost")
        );
        let b = RecordBatch::try_new(
            Arc::new(Schema::new(vec![
                Field::new("member_id", DataType::Utf8, false),
                Field::new("option", DataType::Utf8, false),
                Field::new("cost", DataType::Utf8, false),
                Field::new("value", DataType::Utf8, false),
            ])),
            vec![
                Arc::new(StringArray::from(vec!["a", "b"])),
                Arc::new(StringArray::from(vec!["x", "x"])),
                Arc::new(StringArray::from(vec!["1", "2"])),
                Arc::new(StringArray::from(vec!["1", "lots"])),
            ],
        )
        .unwrap();
        assert_eq!(
            from_parquet(b).unwrap_err(),
            InputError::Row {
                row: 2,
                reason: Reason::Unparsable {
                    column: "value",
                    text: "lots".into()
                }
            }
        );
    }

    #[test]
    fn not_parquet_is_refused() {
        let mut f = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut f, b"member_id,option,cost,value\n").unwrap();
        assert!(matches!(
            parquet(f, &mut |_, _| {}),
            Err(InputError::File(_))
        ));
    }
}
