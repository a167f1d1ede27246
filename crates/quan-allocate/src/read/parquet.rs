//! The Parquet reader: row groups decoded and checked in parallel, each a run, then joined.
//!
//! The pairs' columns are allocated once for the file's row count (from its footer) and each
//! row group writes its own rows' slice of them, so nothing is copied or grown; a row group's
//! members are interned as it is read (all rows of a member are consecutive, so a member that
//! crosses a row group boundary is joined there). Threads take row groups in order; once a row
//! is refused, row groups after it are left unread. Columns are read from the Arrow arrays as
//! they come (no string per row); the option column is asked for as a dictionary, so a row's
//! option is its key.

use std::fs::File;
use std::io::{BufReader, Read};
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::arrow::ProjectionMask;
use parquet::errors::ParquetError;
use parquet::file::reader::{ChunkReader, Length};

use super::columns::{number_column, text, Number, Text};
use super::{Progress, COLUMNS};
use crate::instance::{InputError, Instance};
use crate::join::{Joiner, Pairs};
use crate::rows::{Refusal, Run, FIELD};

/// Rows per record batch.
const BATCH: usize = 1 << 16;

/// The file read at positions (`pread`), so that threads can read row groups at once (clones
/// of a `File` share one cursor).
#[derive(Clone)]
struct At {
    file: Arc<File>,
    len: u64,
}

/// A reader from a position of an [`At`].
struct Cursor {
    file: Arc<File>,
    pos: u64,
}

impl Read for Cursor {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.file.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Length for At {
    fn len(&self) -> u64 {
        self.len
    }
}

impl ChunkReader for At {
    type T = BufReader<Cursor>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(BufReader::new(Cursor {
            file: self.file.clone(),
            pos: start,
        }))
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<bytes::Bytes> {
        let mut buf = Vec::with_capacity(length);
        let mut at = Cursor {
            file: self.file.clone(),
            pos: start,
        };
        (&mut at).take(length as u64).read_to_end(&mut buf)?;
        if buf.len() != length {
            return Err(ParquetError::EOF(format!(
                "expected {length} bytes at offset {start}, read {}",
                buf.len()
            )));
        }
        Ok(buf.into())
    }
}

fn not_parquet(e: ParquetError) -> InputError {
    InputError::File(format!("not Parquet: {e}"))
}

/// The file's metadata with the option column read as a dictionary of strings when it holds
/// strings (the file's metadata as it is if the reader will not have it so).
fn with_dictionary(meta: ArrowReaderMetadata, option: usize) -> ArrowReaderMetadata {
    let schema = meta.schema();
    if schema.field(option).data_type() != &DataType::Utf8 {
        return meta;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let f = f.as_ref().clone();
            if i == option {
                let dict =
                    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
                f.with_data_type(dict)
            } else {
                f
            }
        })
        .collect();
    let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let options = ArrowReaderOptions::new().with_schema(schema);
    ArrowReaderMetadata::try_new(meta.metadata().clone(), options).unwrap_or(meta)
}

/// Reads a Parquet allocation file, only its four columns, row groups in parallel.
pub fn parquet(input: File, progress: Progress<'_>) -> Result<Instance, InputError> {
    let len = input.metadata().map(|m| m.len()).unwrap_or(0);
    let file = At {
        file: Arc::new(input),
        len,
    };
    let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).map_err(not_parquet)?;
    let mut roots = Vec::new();
    for name in COLUMNS {
        let i = meta.schema().index_of(name);
        roots.push(i.map_err(|_| InputError::MissingColumn(name))?);
    }
    let meta = with_dictionary(meta, roots[1]);
    let mask = ProjectionMask::roots(meta.parquet_schema(), roots);
    let mut groups = Vec::new();
    let mut total = 0u64;
    for g in meta.metadata().row_groups() {
        let rows = g.num_rows().max(0) as u64;
        groups.push((total + 1, rows as usize));
        total += rows;
    }
    if total >= u32::MAX as u64 {
        return Err(InputError::File("more than 4,294,967,294 rows".into()));
    }
    let n = total as usize;
    // Allocated zeroed by the system (fresh pages, not written twice); each row group writes
    // its slice.
    let mut pairs = Pairs {
        option: vec![0; n],
        cost: vec![0.0; n],
        value: vec![0.0; n],
    };
    let mut jobs = Vec::with_capacity(groups.len());
    {
        let (mut o, mut c, mut v) = (
            &mut pairs.option[..],
            &mut pairs.cost[..],
            &mut pairs.value[..],
        );
        for (g, &(first_row, rows)) in groups.iter().enumerate() {
            let (o1, o2) = std::mem::take(&mut o).split_at_mut(rows);
            let (c1, c2) = std::mem::take(&mut c).split_at_mut(rows);
            let (v1, v2) = std::mem::take(&mut v).split_at_mut(rows);
            jobs.push((g, first_row, o1, c1, v1));
            (o, c, v) = (o2, c2, v2);
        }
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(groups.len())
        .max(1);
    let jobs = Mutex::new(jobs.into_iter());
    // The first refused row so far: row groups after it are left unread.
    let stop = AtomicU64::new(u64::MAX);
    let mut joiner = Joiner::new(n);
    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<Msg>();
        for _ in 0..threads {
            let tx = tx.clone();
            let (file, meta, mask, jobs, stop) = (&file, &meta, &mask, &jobs, &stop);
            scope.spawn(move || loop {
                let Some((g, first_row, o, c, v)) = jobs.lock().expect("jobs").next() else {
                    return;
                };
                if stop.load(Ordering::Relaxed) < first_row {
                    continue;
                }
                let mut group = Group {
                    run: Run::new(first_row, false),
                    option: o,
                    cost: c,
                    value: v,
                };
                group.read(file, meta, mask, g, stop, &tx);
                if tx
                    .send(Msg::Done(g, Box::new(group.run), group.option))
                    .is_err()
                {
                    return;
                }
            });
        }
        drop(tx);
        // Runs are joined in order as they come, while the threads read on.
        let mut pending: Vec<Option<(Box<Run>, &mut [u8])>> =
            (0..groups.len()).map(|_| None).collect();
        let (mut next, mut read) = (0, 0u64);
        for msg in rx {
            match msg {
                Msg::Rows(k) => {
                    read += k;
                    progress(read, Some(total));
                }
                Msg::Done(g, run, option) => {
                    pending[g] = Some((run, option));
                    while let Some((run, option)) = pending.get_mut(next).and_then(Option::take) {
                        joiner.push(*run, option);
                        stop.fetch_min(joiner.first_refused(), Ordering::Relaxed);
                        next += 1;
                    }
                }
            }
        }
    });
    drop(jobs);
    joiner.finish(pairs)
}

enum Msg<'a> {
    /// Rows read (progress).
    Rows(u64),
    /// A row group's run, done or stopped at its first refused row, and its options' slice.
    Done(usize, Box<Run>, &'a mut [u8]),
}

/// A row group being read: its run and its slices of the pairs' columns.
struct Group<'a> {
    run: Run,
    option: &'a mut [u8],
    cost: &'a mut [f32],
    value: &'a mut [f32],
}

impl Group<'_> {
    fn read(
        &mut self,
        file: &At,
        meta: &ArrowReaderMetadata,
        mask: &ProjectionMask,
        g: usize,
        stop: &AtomicU64,
        tx: &mpsc::Sender<Msg<'_>>,
    ) {
        let refuse = |run: &mut Run, r: Refusal| {
            stop.fetch_min(r.row, Ordering::Relaxed);
            run.refused = Some(r);
        };
        let first_row = self.run.first_row;
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file.clone(), meta.clone())
            .with_projection(mask.clone())
            .with_row_groups(vec![g])
            .with_batch_size(BATCH)
            .build();
        let reader = match reader {
            Ok(r) => r,
            Err(e) => {
                let error = not_parquet(e);
                return refuse(
                    &mut self.run,
                    Refusal {
                        row: first_row,
                        rank: FIELD,
                        error,
                    },
                );
            }
        };
        let mut at = 0usize;
        for batch in reader {
            let row = first_row + at as u64;
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    let error = InputError::File(format!("reading row {row}: {e}"));
                    return refuse(
                        &mut self.run,
                        Refusal {
                            row,
                            rank: FIELD,
                            error,
                        },
                    );
                }
            };
            if at + batch.num_rows() > self.option.len() {
                let error =
                    InputError::File(format!("reading row {row}: more rows than the footer says"));
                return refuse(
                    &mut self.run,
                    Refusal {
                        row,
                        rank: FIELD,
                        error,
                    },
                );
            }
            let taken = match self.batch(&batch, at) {
                Ok(k) => k,
                Err(error) => {
                    return refuse(
                        &mut self.run,
                        Refusal {
                            row,
                            rank: FIELD,
                            error,
                        },
                    );
                }
            };
            if let Err(r) = taken {
                return refuse(&mut self.run, r);
            }
            at += batch.num_rows();
            let _ = tx.send(Msg::Rows(batch.num_rows() as u64));
            if stop.load(Ordering::Relaxed) < first_row {
                return;
            }
        }
    }

    /// Checks and takes a batch's rows from row `at` of the group. The outer error: a column
    /// missing or of a type that cannot be read; the inner one: a refused row.
    fn batch(&mut self, batch: &RecordBatch, at: usize) -> Result<Result<(), Refusal>, InputError> {
        let member = text(batch, "member_id")?;
        let option = text(batch, "option")?;
        let cost = number_column(batch, "cost")?;
        let value = number_column(batch, "value")?;
        let member = Text::of(&member);
        let mut option = Text::of(&option);
        let cost = Number::of(&cost);
        let value = Number::of(&value);
        for i in 0..batch.num_rows() {
            let n = self.run.first_row + (at + i) as u64;
            let fields = (|| {
                Ok((
                    member.get("member_id", i)?,
                    option.get("option", i)?,
                    cost.get("cost", i)?,
                    value.get("value", i)?,
                ))
            })();
            let ((m, _), (o, key), c, v) = match fields {
                Ok(f) => f,
                Err(reason) => return Ok(Err(Refusal::new(n, FIELD, reason))),
            };
            let known = key.and_then(|k| option.known(k));
            match self.run.push(n, m, o, known, c, v) {
                Ok((local, c, v)) => {
                    if let (Some(k), None) = (key, known) {
                        option.learn(k, local);
                    }
                    self.option[at + i] = local;
                    self.cost[at + i] = c;
                    self.value[at + i] = v;
                }
                Err(r) => return Ok(Err(r)),
            }
        }
        Ok(Ok(()))
    }
}
