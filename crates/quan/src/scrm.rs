//! `quan rfm` and `quan segments`: the SCRM's batch computations from the command line.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use jiff::Timestamp;
use quan_app::rfm::RecomputeBody;
use quan_app::segments::PreviewBody;
use quan_core::scrm::Rule;

use crate::{operator, TenantArgs};

#[derive(clap::Subcommand)]
pub enum RfmCommand {
    /// Recompute every member's RFM scores and tier as of a time (default now).
    Recompute {
        #[command(flatten)]
        db: TenantArgs,
        /// The end of the window, RFC 3339.
        #[arg(long)]
        as_of: Option<Timestamp>,
    },
}

#[derive(clap::Subcommand)]
pub enum SegmentsCommand {
    /// Count the members a rule selects (the rule as JSON, as in `POST /v1/segments`).
    Size {
        #[command(flatten)]
        db: TenantArgs,
        /// The rule as JSON (the `rule` of `POST /v1/segments`).
        #[arg(long)]
        file: PathBuf,
        /// Evaluate as of this time (default now), RFC 3339.
        #[arg(long)]
        as_of: Option<Timestamp>,
    },
}

pub async fn rfm(command: RfmCommand) -> anyhow::Result<()> {
    let RfmCommand::Recompute { db, as_of } = command;
    let app = db.app().await?;
    let started = Instant::now();
    let run = app
        .recompute_rfm(&operator(), RecomputeBody { as_of })
        .await?;
    let mut tiers: Vec<_> = run.tiers.iter().collect();
    tiers.sort();
    let tiers: Vec<String> = tiers.iter().map(|(t, n)| format!("{t} {n}")).collect();
    println!(
        "rfm as of {} ({} days): {} members scored, {} without orders; tiers: {}; {:.0} ms",
        run.as_of,
        run.window_days,
        run.scored,
        run.unscored,
        tiers.join(", "),
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}

pub async fn segments(command: SegmentsCommand) -> anyhow::Result<()> {
    let SegmentsCommand::Size { db, file, as_of } = command;
    let raw = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let rule: Rule = quan_app::input::parse(&raw)
        .with_context(|| format!("{} is not a rule", file.display()))?;
    let app = db.app().await?;
    let started = Instant::now();
    let preview = app
        .preview_segment(&operator(), PreviewBody { rule, as_of })
        .await?;
    println!(
        "{} members; {:.0} ms",
        preview.size,
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
