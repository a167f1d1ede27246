//! `quan report`: the daily counters reviews read, rebuilt from the ledgers.

use std::time::Instant;

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
}

pub async fn run(command: ReportCommand) -> anyhow::Result<()> {
    let ReportCommand::Rebuild { db } = command;
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
