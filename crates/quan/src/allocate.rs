//! `quan allocate`: which coupon each member gets, or none, within a budget (docs/DOMAIN.md
//! section 10); the reading, solving and writing around `quan_allocate`.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use indicatif::ProgressBar;
use quan_allocate::{read, solve, Allocation, Constraints, Instance, NONE};

/// Inputs at least this large get a progress bar (when stderr is a terminal).
const LARGE: u64 = 32 << 20;

#[derive(clap::Args)]
pub struct AllocateArgs {
    /// A .csv or .parquet file with columns member_id, option, cost, value (expected cost and
    /// expected incremental value of giving that option to that member), the rows of one member
    /// next to each other.
    #[arg(long)]
    input: PathBuf,
    /// The total budget, in the unit of the file's costs.
    #[arg(long)]
    budget: f64,
    /// At most N members get OPTION (repeat for several options).
    #[arg(long = "stock", value_name = "OPTION=N", value_parser = stock)]
    stock: Vec<(String, u64)>,
    /// Every coupon given returns at least R per unit of cost: value ≥ R × cost.
    #[arg(long, value_name = "R")]
    min_roi: Option<f64>,
    /// Where to write `member_id,option` for every member given an option.
    #[arg(long)]
    output: PathBuf,
}

fn stock(raw: &str) -> Result<(String, u64), String> {
    let (option, n) = raw
        .rsplit_once('=')
        .ok_or_else(|| format!("{raw:?}: give OPTION=N"))?;
    let n = n
        .trim()
        .parse::<u64>()
        .map_err(|_| format!("{raw:?}: N must be a whole number of at least 0"))?;
    Ok((option.trim().to_string(), n))
}

fn bar(len: u64, template: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    bar.set_style(crate::progress::style(template));
    bar
}

/// Reads the file as its extension says, with a progress bar for a large one.
fn load(path: &Path) -> anyhow::Result<Instance> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let large = size >= LARGE;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let read = match ext.as_deref() {
        Some("csv") => {
            let bar = if large {
                bar(size, "reading [{bar:40}] {bytes}/{total_bytes} ({eta})")
            } else {
                ProgressBar::hidden()
            };
            let r = read::csv(bar.wrap_read(file), &mut |_, _| {});
            bar.finish_and_clear();
            r
        }
        Some("parquet") => {
            let bar = if large {
                bar(0, "reading [{bar:40}] {pos}/{len} rows ({eta})")
            } else {
                ProgressBar::hidden()
            };
            let r = read::parquet(file, &mut |n, total| {
                if let Some(t) = total {
                    bar.set_length(t);
                }
                bar.set_position(n);
            });
            bar.finish_and_clear();
            r
        }
        _ => bail!("{}: give a .csv or .parquet file", path.display()),
    };
    read.with_context(|| format!("{} is refused", path.display()))
}

/// A CSV field as the csv crate writes it by default: in quotes (a quote doubled) only when it
/// holds a comma, a quote or a line break; a cell a spreadsheet would run as a formula is
/// neutralised first (`quan_core::text::csv_cell`, the rule of every CSV quan writes).
fn field(out: &mut Vec<u8>, s: &str) {
    let cell = quan_core::text::csv_cell(s);
    let s = cell.as_bytes();
    if s.iter().any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for &b in s {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s);
    }
}

/// Writes `member_id,option` for every member given an option: the records put together by
/// hand (ten million members give millions of lines; a record at a time through the csv
/// writer is most of the time it takes).
fn write(path: &Path, inst: &Instance, a: &Allocation) -> anyhow::Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let options: Vec<Vec<u8>> = inst
        .options()
        .iter()
        .map(|o| {
            let mut f = Vec::new();
            field(&mut f, o);
            f
        })
        .collect();
    let mut line = Vec::with_capacity(256);
    line.extend_from_slice(b"member_id,option\n");
    for (m, &o) in a.choice.iter().enumerate() {
        if o != NONE {
            field(&mut line, inst.member_id(m));
            line.push(b',');
            line.extend_from_slice(&options[o as usize]);
            line.push(b'\n');
        }
        if line.len() >= 1 << 16 {
            w.write_all(&line)
                .with_context(|| format!("writing {}", path.display()))?;
            line.clear();
        }
    }
    w.write_all(&line)
        .and_then(|()| w.flush())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

pub fn run(args: AllocateArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let inst = load(&args.input)?;
    let read = started.elapsed().as_secs_f64();
    let mut c = Constraints::new(args.budget).context("--budget")?;
    for (option, n) in &args.stock {
        c = c.with_stock(&inst, option, *n).context("--stock")?;
    }
    if let Some(r) = args.min_roi {
        c = c.with_min_roi(r).context("--min-roi")?;
    }
    let a = solve(&inst, &c);
    let solved = started.elapsed().as_secs_f64();
    write(&args.output, &inst, &a)?;
    let seconds = started.elapsed().as_secs_f64();
    tracing::info!(
        read_s = read,
        solve_s = solved - read,
        write_s = seconds - solved,
        passes = a.passes,
        optimal = a.optimal,
        "allocated"
    );
    println!(
        "{}",
        serde_json::json!({
            "members": inst.members(),
            "chosen": a.chosen,
            "objective": a.objective,
            "spend": a.spend,
            "upper_bound": a.upper_bound,
            "gap": a.gap(),
            "seconds": seconds,
        })
    );
    Ok(())
}
