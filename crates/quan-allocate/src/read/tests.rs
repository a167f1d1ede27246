//! The readers against good and malformed files, CSV and Parquet.

use std::sync::Arc;

use ::parquet::arrow::ArrowWriter;
use arrow_array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};

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
    let i =
        from_csv("value,extra,member_id,cost,option\n30,z,a,10,x\n 50 ,z, a ,20,y\n25,z,b,10,x\n")
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

/// A Parquet file of these rows in row groups of `group` rows.
fn grouped(rows: &[(&str, &str, f64, f64)], group: usize) -> std::fs::File {
    let b = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("member_id", DataType::Utf8, false),
            Field::new("option", DataType::Utf8, false),
            Field::new("cost", DataType::Float64, false),
            Field::new("value", DataType::Float64, false),
        ])),
        vec![
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.0))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.3))),
        ],
    )
    .unwrap();
    let props = ::parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(group))
        .build();
    let mut f = tempfile::tempfile().unwrap();
    let mut w = ArrowWriter::try_new(&mut f, b.schema(), Some(props)).unwrap();
    w.write(&b).unwrap();
    w.close().unwrap();
    f
}

fn read_grouped(rows: &[(&str, &str, f64, f64)], group: usize) -> Result<Instance, InputError> {
    parquet(grouped(rows, group), &mut |_, _| {})
}

#[test]
fn parquet_row_groups_join_as_one_file() {
    let rows = [
        ("b", "y", 1.0, 2.0),
        ("b", "x", 2.0, 3.0),
        ("b", "z", 3.0, 4.0),
        ("a", "x", 1.0, 1.5),
        ("a", "z", 2.0, 2.5),
        ("c", "w", 0.5, 0.1),
        ("d", "y", 1.0, 1.0),
    ];
    // Any size of row group gives the instance a row-by-row read gives.
    let one = Instance::from_rows(rows.iter().copied()).unwrap();
    for group in 1..=rows.len() {
        let i = read_grouped(&rows, group).unwrap();
        assert_eq!(i.members(), 4, "groups of {group}");
        assert_eq!(i.options(), one.options());
        for m in 0..i.members() {
            assert_eq!(i.member_id(m), one.member_id(m));
            assert_eq!(i.pairs_of(m), one.pairs_of(m));
        }
        assert_eq!(i.option(), one.option());
        assert_eq!(i.cost(), one.cost());
        assert_eq!(i.value(), one.value());
        for j in 0..i.pairs() {
            assert_eq!(i.rounded(j), one.rounded(j), "pair {j}, groups of {group}");
        }
    }
}

#[test]
fn parquet_row_groups_refuse_the_first_bad_row_of_the_file() {
    type Case<'a> = (&'a [(&'a str, &'a str, f64, f64)], u64, Reason);
    let cases: [Case; 4] = [
        // The same option again for a member going on into the next row group.
        (
            &[
                ("a", "x", 1.0, 1.0),
                ("a", "y", 1.0, 1.0),
                ("a", "x", 1.0, 1.0),
            ],
            3,
            Reason::Duplicate {
                member: "a".into(),
                option: "x".into(),
            },
        ),
        // A member of an earlier row group again, after another.
        (
            &[
                ("a", "x", 1.0, 1.0),
                ("b", "x", 1.0, 1.0),
                ("a", "y", 1.0, 1.0),
            ],
            3,
            Reason::NotGrouped { member: "a".into() },
        ),
        // An earlier bad row wins over one in an earlier-read or later row group.
        (
            &[
                ("a", "x", 1.0, 1.0),
                ("b", "x", 1.0, f64::NAN),
                ("c", "x", -1.0, 1.0),
                ("a", "y", 1.0, 1.0),
            ],
            2,
            Reason::NotFinite("value"),
        ),
        (
            &[
                ("b", "x", 1.0, 1.0),
                ("c", "x", 1.0, 1.0),
                ("b", "y", 1.0, 1.0),
                ("d", "x", -1.0, 1.0),
            ],
            3,
            Reason::NotGrouped { member: "b".into() },
        ),
    ];
    for (rows, row, reason) in cases {
        let want = InputError::Row { row, reason };
        assert_eq!(Instance::from_rows(rows.iter().copied()).unwrap_err(), want);
        for group in 1..=rows.len() {
            assert_eq!(
                read_grouped(rows, group).unwrap_err(),
                want,
                "groups of {group}"
            );
        }
    }
}
