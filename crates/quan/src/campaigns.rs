//! `quan campaigns`: apply playbook files, list, read, and change campaigns, and run the
//! campaign worker in this process with a progress bar (beside or instead of `quan serve`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use quan_app::campaigns::CampaignView;
use quan_app::playbooks::PlaybookBody;
use quan_app::App;
use quan_core::campaign::CampaignAction;

use crate::{id, operator, TenantArgs};

#[derive(clap::Subcommand)]
pub enum CampaignsCommand {
    /// Create a playbook's templates, segments and campaigns from a JSON file (see
    /// examples/campaigns/), or one campaign (the body of `POST /v1/campaigns`).
    Apply {
        #[command(flatten)]
        db: TenantArgs,
        /// A playbook file (examples/campaigns/) or a campaign's JSON (the body of `POST /v1/campaigns`).
        file: PathBuf,
        /// Activate the campaigns at once.
        #[arg(long)]
        activate: bool,
    },
    /// List campaigns with their stats.
    List {
        #[command(flatten)]
        db: TenantArgs,
        /// At most this many campaigns.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Print a campaign with its stats.
    Get {
        #[command(flatten)]
        db: TenantArgs,
        /// The campaign's id.
        id: String,
    },
    /// Start a campaign; with --wait, run the worker here until its due entries are treated.
    Activate {
        #[command(flatten)]
        db: TenantArgs,
        /// The campaign's id.
        id: String,
        /// Run the campaign worker here, with a progress bar, until its due entries are
        /// treated.
        #[arg(long)]
        wait: bool,
    },
    /// Pause a campaign.
    Pause {
        #[command(flatten)]
        db: TenantArgs,
        /// The campaign's id.
        id: String,
    },
    /// Resume a paused campaign.
    Resume {
        #[command(flatten)]
        db: TenantArgs,
        /// The campaign's id.
        id: String,
    },
    /// End a campaign for good.
    End {
        #[command(flatten)]
        db: TenantArgs,
        /// The campaign's id.
        id: String,
    },
}

fn print(c: &CampaignView) {
    let s = &c.stats;
    println!(
        "{}\t{}\t{}\tentered={} treated={} held_out={} granted={} spent={} pending={}",
        c.id,
        c.status.as_str(),
        c.spec.name.as_str(),
        s.entered,
        s.treated,
        s.held_out,
        s.granted,
        s.spent,
        s.pending
    );
    for w in &c.warnings {
        println!("  warning {}: {} ({})", w.code, w.message, w.field);
    }
}

pub async fn run(command: CampaignsCommand) -> anyhow::Result<()> {
    match command {
        CampaignsCommand::Apply { db, file, activate } => {
            let text =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let raw: serde_json::Value = serde_json::from_slice(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            let app = db.app().await?;
            // A playbook has `campaigns`; anything else is one campaign.
            let body: PlaybookBody = if raw.get("campaigns").is_some() {
                quan_app::input::parse(&text)
            } else {
                quan_app::input::parse(&text).map(|spec| PlaybookBody {
                    description: None,
                    templates: Default::default(),
                    segments: Default::default(),
                    campaigns: vec![spec],
                })
            }
            .with_context(|| format!("{} is not a playbook", file.display()))?;
            let applied = app.apply_playbook(&operator(), body, activate).await?;
            for (name, id) in &applied.templates {
                println!("template {name}\t{id}");
            }
            for s in &applied.segments {
                println!("segment {s}");
            }
            applied.campaigns.iter().for_each(print);
            Ok(())
        }
        CampaignsCommand::List { db, limit } => {
            let paging = quan_app::page::Paging {
                limit: Some(limit.clamp(1, 500)),
                cursor: None,
            };
            let page = db.app().await?.list_campaigns(&operator(), paging).await?;
            page.items.iter().for_each(print);
            println!("{} of {}", page.items.len(), page.total);
            Ok(())
        }
        CampaignsCommand::Get { db, id: raw } => {
            let c = db.app().await?.campaign(&operator(), &id(&raw)?).await?;
            print(&c);
            println!("{}", serde_json::to_string_pretty(&c.spec)?);
            Ok(())
        }
        CampaignsCommand::Activate { db, id: raw, wait } => {
            let app = db.app().await?;
            let c = app
                .change_campaign(&operator(), &id(&raw)?, CampaignAction::Activate)
                .await?;
            if wait {
                work_until_done(&app, &c.id).await?;
            }
            print(&app.campaign(&operator(), &id(&raw)?).await?);
            Ok(())
        }
        CampaignsCommand::Pause { db, id } => change(&db, &id, CampaignAction::Pause).await,
        CampaignsCommand::Resume { db, id } => change(&db, &id, CampaignAction::Resume).await,
        CampaignsCommand::End { db, id } => change(&db, &id, CampaignAction::End).await,
    }
}

async fn change(db: &TenantArgs, raw: &str, action: CampaignAction) -> anyhow::Result<()> {
    let c = db
        .app()
        .await?
        .change_campaign(&operator(), &id(raw)?, action)
        .await?;
    print(&c);
    Ok(())
}

/// Runs the worker until the campaign has nothing due, with a bar of its decided entries.
async fn work_until_done(app: &App, campaign_id: &str) -> anyhow::Result<()> {
    let bar = crate::import::progress(None, "granting");
    let cid = id(campaign_id)?;
    loop {
        let run = app.run_campaigns().await?;
        let c = app.campaign(&operator(), &cid).await?;
        let s = &c.stats;
        bar.set_length(s.entered as u64);
        bar.set_position((s.entered - s.pending) as u64);
        bar.set_message(format!("treated {} held out {}", s.treated, s.held_out));
        if !run.busy()
            && (s.pending == 0 || c.status != quan_core::campaign::CampaignStatus::Active)
        {
            break;
        }
        if !run.busy() {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
    bar.finish();
    Ok(())
}
