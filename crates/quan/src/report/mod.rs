//! `quan report`: the daily counters reviews read, rebuilt from the ledgers; a campaign's
//! review as a page to mail.

mod html;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use quan_app::Id;

use crate::{operator, TenantArgs};

#[derive(clap::Subcommand)]
pub enum ReportCommand {
    /// Recompute the daily counters (coupons and coupon orders per template, campaign, store,
    /// channel and day) from the coupon and sales ledgers, in one transaction. Run it after
    /// upgrading a database made before the counters.
    Rebuild {
        #[command(flatten)]
        db: TenantArgs,
    },
    /// Write a campaign's review as one self-contained HTML page (tables and SVG charts,
    /// nothing loaded from elsewhere), to mail.
    Campaign {
        #[command(flatten)]
        db: TenantArgs,
        /// The campaign's id.
        id: String,
        /// The file to write.
        #[arg(long)]
        html: PathBuf,
    },
}

pub async fn run(command: ReportCommand) -> anyhow::Result<()> {
    match command {
        ReportCommand::Rebuild { db } => rebuild(db).await,
        ReportCommand::Campaign { db, id, html } => {
            let app = db.app().await?;
            let id = Id::parse(id).map_err(|(_, why)| anyhow::anyhow!("campaign id: {why}"))?;
            let review = app.campaign_review(&operator(), &id).await?;
            let name = app.campaign(&operator(), &id).await?.spec.name.to_string();
            std::fs::write(&html, html::page(&name, &review))
                .with_context(|| format!("writing {}", html.display()))?;
            println!(
                "{}: the review of {} ({name})",
                html.display(),
                review.campaign_id
            );
            Ok(())
        }
    }
}

async fn rebuild(db: TenantArgs) -> anyhow::Result<()> {
    let app = db.app().await?;
    let started = Instant::now();
    let r = app.rebuild_counters(&operator()).await?;
    println!(
        "counters rebuilt from {} coupon and {} sales ledger entries: {} coupon and {} sales rows; {:.0} ms",
        r.coupon_entries,
        r.sales_entries,
        r.coupon_rows,
        r.sales_rows,
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
