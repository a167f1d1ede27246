//! `quan allocate` as a user runs it: a small CSV and a small Parquet file, the output file and
//! the one JSON line; a malformed file refused with its row number.

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use parquet::arrow::ArrowWriter;

type Row = (&'static str, &'static str, f64, f64);

const ROWS: [Row; 7] = [
    ("a", "x", 10.0, 30.0),
    ("a", "y", 20.0, 50.0),
    ("b", "x", 10.0, 25.0),
    ("b", "y", 20.0, 28.0),
    ("c", "x", 10.0, 5.0),
    ("d,1", "y", 5.0, 4.0),
    ("e", "x", 0.0, 1.5),
];

fn allocate(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_quan"))
        .arg("allocate")
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run quan");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn write_csv(path: &Path) {
    let mut w = csv::Writer::from_path(path).unwrap();
    w.write_record(["member_id", "option", "cost", "value"])
        .unwrap();
    for (m, o, c, v) in ROWS {
        w.write_record([m, o, &c.to_string(), &v.to_string()])
            .unwrap();
    }
    w.flush().unwrap();
}

fn write_parquet(path: &Path) {
    let col = |f: fn(&Row) -> &'static str| {
        Arc::new(StringArray::from(ROWS.iter().map(f).collect::<Vec<_>>())) as ArrayRef
    };
    let num = |f: fn(&Row) -> f64| {
        Arc::new(Float64Array::from(ROWS.iter().map(f).collect::<Vec<_>>())) as ArrayRef
    };
    let batch = RecordBatch::try_from_iter([
        ("member_id", col(|r| r.0)),
        ("option", col(|r| r.1)),
        ("cost", num(|r| r.2)),
        ("value", num(|r| r.3)),
    ])
    .unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Runs one file, checks the JSON line against the output file and returns both.
fn run(input: &Path, extra: &[&str]) -> (serde_json::Value, Vec<(String, String)>) {
    let out = input.with_extension("out.csv");
    let mut args = vec![
        "--input",
        input.to_str().unwrap(),
        "--output",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (ok, stdout, stderr) = allocate(&args);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one JSON line: {stdout}");
    let summary: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    let mut r = csv::Reader::from_path(&out).unwrap();
    assert_eq!(r.headers().unwrap(), vec!["member_id", "option"]);
    let rows: Vec<(String, String)> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_string(), rec[1].to_string())
        })
        .collect();
    assert_eq!(summary["chosen"], rows.len());
    let (value, cost) = rows.iter().fold((0.0, 0.0), |(v, c), (m, o)| {
        let row = ROWS.iter().find(|r| r.0 == m && r.1 == o).unwrap();
        (v + row.3, c + row.2)
    });
    assert_eq!(summary["objective"].as_f64().unwrap(), value);
    assert_eq!(summary["spend"].as_f64().unwrap(), cost);
    let ub = summary["upper_bound"].as_f64().unwrap();
    let gap = summary["gap"].as_f64().unwrap();
    assert!(ub >= value);
    assert!((gap - (ub - value) / ub).abs() < 1e-12);
    assert!(summary["seconds"].as_f64().unwrap() >= 0.0);
    (summary, rows)
}

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(m, o)| (m.to_string(), o.to_string()))
        .collect()
}

#[test]
fn csv_and_parquet_give_the_same_optimal_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("in.csv");
    let pq = dir.path().join("in.parquet");
    write_csv(&csv);
    write_parquet(&pq);
    for input in [&csv, &pq] {
        let (summary, rows) = run(input, &["--budget", "30"]);
        assert_eq!(summary["members"], 5);
        // a:y + b:x spends the 30 for 75; e's coupon is free.
        assert_eq!(rows, pairs(&[("a", "y"), ("b", "x"), ("e", "x")]));
        assert_eq!(summary["objective"].as_f64().unwrap(), 76.5);
    }
    // Stock and a minimum ROI: one x only (e's, free), and c's x (ROI 0.5) and d,1's y (0.8)
    // are never given.
    let (_, rows) = run(
        &csv,
        &["--budget", "100", "--stock", "x=1", "--min-roi", "1"],
    );
    assert_eq!(rows, pairs(&[("a", "y"), ("b", "y"), ("e", "x")]));
    let (_, rows) = run(&csv, &["--budget", "100"]);
    assert_eq!(
        rows,
        pairs(&[("a", "y"), ("b", "y"), ("c", "x"), ("d,1", "y"), ("e", "x")])
    );
}

#[test]
fn a_malformed_file_is_refused_with_its_row() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.csv");
    std::fs::write(
        &input,
        "member_id,option,cost,value\na,x,1,2\nb,x,1,2\nb,x,3,4\n",
    )
    .unwrap();
    let out = dir.path().join("out.csv");
    let (ok, _, stderr) = allocate(&[
        "--input",
        input.to_str().unwrap(),
        "--budget",
        "10",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("row 3: member \"b\" has option \"x\" twice"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing is written for a refused file");
    let (ok, _, stderr) = allocate(&[
        "--input",
        input.to_str().unwrap(),
        "--budget",
        "10",
        "--stock",
        "x",
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(stderr.contains("OPTION=N"), "{stderr}");
}
