//! The `quan` command: run the service, migrate, manage keys and templates, and benchmark.

mod allocate;
mod backtest;
mod bench;
mod campaigns;
mod import;
mod progress;
mod report;
mod scrm;
mod serve;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use quan_app::templates::{TemplateQuery, TemplateView};
use quan_app::{App, Id};
use quan_core::access::{Principal, Role};
use quan_core::template::{StatusAction, TemplateSpec};
use quan_core::zone::TenantZone;

/// mimalloc: the service allocates many small, short-lived buffers on many threads, where it is
/// markedly faster than the system allocator (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// quan (券): a coupon marketing platform. Design coupons, hand them out, hold them in wallets.
#[derive(Parser)]
#[command(name = "quan", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where the data lives.
#[derive(clap::Args, Clone)]
pub struct DbArgs {
    /// `sqlite://path` (created on first use) or `postgres://user:pass@host:port/db`.
    #[arg(
        long,
        env = "QUAN_DATABASE_URL",
        default_value = "sqlite://./quan-data/quan.db"
    )]
    pub database_url: String,
}

impl DbArgs {
    /// The store, for a command that counts no days (keys, templates, the schema).
    pub async fn open(&self) -> anyhow::Result<std::sync::Arc<dyn quan_store::Store>> {
        self.open_in(TenantZone::utc()).await
    }

    async fn open_in(
        &self,
        zone: TenantZone,
    ) -> anyhow::Result<std::sync::Arc<dyn quan_store::Store>> {
        quan_store::open(&self.database_url, zone)
            .await
            .with_context(|| format!("opening {}", redact(&self.database_url)))
    }

    /// The use cases over the database, for a command acting as an operator.
    pub async fn app(&self) -> anyhow::Result<App> {
        operator_app(self.open().await?, TenantZone::utc()).await
    }
}

/// Where the data lives and in which zone its days turn, for the commands that count days
/// (serving, importing, scoring, segments, campaigns).
#[derive(clap::Args, Clone)]
pub struct TenantArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// The tenant's time zone: "per day" limits count its local days.
    #[arg(long, env = "QUAN_TIME_ZONE", default_value = "Asia/Shanghai")]
    pub time_zone: String,
}

impl TenantArgs {
    pub fn zone(&self) -> anyhow::Result<TenantZone> {
        TenantZone::parse(&self.time_zone).map_err(anyhow::Error::msg)
    }

    pub async fn open(&self) -> anyhow::Result<std::sync::Arc<dyn quan_store::Store>> {
        self.db.open_in(self.zone()?).await
    }

    /// The use cases over the database, for a command acting as an operator.
    pub async fn app(&self) -> anyhow::Result<App> {
        operator_app(self.open().await?, self.zone()?).await
    }
}

async fn operator_app(
    store: std::sync::Arc<dyn quan_store::Store>,
    zone: TenantZone,
) -> anyhow::Result<App> {
    Ok(App::new(
        store,
        quan_app::Config {
            zone,
            clock: std::sync::Arc::new(quan_app::SystemClock),
            public_url: String::new(),
            job_lease: quan_app::jobs::DEFAULT_LEASE,
            delivery: Default::default(),
        },
    )
    .await?)
}

/// Who a command acts as: an operator of the tenant.
pub fn operator() -> Principal {
    Principal {
        key_id: "cli".into(),
        role: Role::Platform,
        store_ids: vec![],
        user_id: None,
    }
}

/// An id given on the command line, by the one id rule.
fn id(raw: &str) -> anyhow::Result<Id> {
    Id::parse(raw)
        .map_err(|(code, message)| anyhow::anyhow!("{raw:?}: {message} ({})", code.as_str()))
}

/// A database URL with its password hidden, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP API (creates and migrates the database on first start).
    Serve(serve::ServeArgs),
    /// Create or upgrade the database schema, then exit.
    Migrate(DbArgs),
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Manage coupon templates.
    Templates {
        #[command(subcommand)]
        command: TemplatesCommand,
    },
    /// Load members, orders, products, stores or events from files, or a whole dataset.
    Import {
        #[command(subcommand)]
        command: import::ImportCommand,
    },
    /// RFM scores: recompute them for every member.
    Rfm {
        #[command(subcommand)]
        command: scrm::RfmCommand,
    },
    /// Segments: size a rule.
    Segments {
        #[command(subcommand)]
        command: scrm::SegmentsCommand,
    },
    /// Campaigns: apply playbooks, list, read, activate, pause, resume, end.
    Campaigns {
        #[command(subcommand)]
        command: campaigns::CampaignsCommand,
    },
    /// Reports: rebuild the daily counters from the ledgers; a campaign's review as HTML.
    Report {
        #[command(subcommand)]
        command: report::ReportCommand,
    },
    /// Propensity models: backtest on a dataset in the Complete Journey layout.
    Model {
        #[command(subcommand)]
        command: backtest::ModelCommand,
    },
    /// Print the OpenAPI 3 document of the HTTP API (as `GET /openapi.json` serves it).
    Openapi,
    /// Choose at most one coupon per member within a budget (a multiple-choice knapsack).
    Allocate(allocate::AllocateArgs),
    /// Load generators that measure the running service.
    Bench {
        #[command(subcommand)]
        command: bench::BenchCommand,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make an API key and print it (shown once; only its hash is stored).
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// platform, merchant, guide or customer.
        #[arg(long)]
        role: String,
        /// A store a merchant or guide key may act for (repeat for several).
        #[arg(long = "store")]
        stores: Vec<String>,
        /// The user a customer key speaks for, or the guide a guide key is (required for both).
        #[arg(long)]
        user: Option<String>,
        /// When the key stops working, RFC 3339 (default: never).
        #[arg(long)]
        expires_at: Option<jiff::Timestamp>,
    },
    /// List every key, oldest first, without secrets.
    List {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Revoke a key: every process on the database refuses it within a second.
    Revoke {
        #[command(flatten)]
        db: DbArgs,
        /// The key's id (as `keys create` and `keys list` print it).
        id: String,
    },
}

#[derive(Subcommand)]
enum TemplatesCommand {
    /// Create a draft template from a JSON file (the body of `POST /v1/templates`).
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// The template as JSON (the body of `POST /v1/templates`).
        #[arg(long)]
        file: PathBuf,
        /// Activate it at once.
        #[arg(long)]
        activate: bool,
    },
    /// Print a template with its live counters.
    Get {
        #[command(flatten)]
        db: DbArgs,
        /// The template's id.
        id: String,
    },
    /// List templates, oldest first.
    List {
        #[command(flatten)]
        db: DbArgs,
        /// At most this many templates.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Make a template claimable.
    Activate {
        #[command(flatten)]
        db: DbArgs,
        /// The template's id.
        id: String,
    },
    /// Stop claims for a while.
    Pause {
        #[command(flatten)]
        db: DbArgs,
        /// The template's id.
        id: String,
    },
    /// End a template for good.
    End {
        #[command(flatten)]
        db: DbArgs,
        /// The template's id.
        id: String,
    },
}

fn print_template(t: &TemplateView) {
    println!(
        "{}\t{}\t{}\tissued={} claimed={} used={} remaining={}",
        t.id,
        t.status.as_str(),
        t.spec.name,
        t.issued,
        t.claimed,
        t.used,
        t.remaining
            .map_or("unlimited".to_string(), |r| r.to_string())
    );
}

async fn status(db: &DbArgs, raw: &str, action: StatusAction) -> anyhow::Result<()> {
    let t = db
        .app()
        .await?
        .change_template(&operator(), &id(raw)?, action)
        .await?;
    print_template(&t);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = match &cli.command {
        // The load generator runs beside the service it measures: it takes the threads it is given.
        Command::Bench { command } if command.threads() == 1 => {
            tokio::runtime::Builder::new_current_thread()
        }
        Command::Bench { command } => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(command.threads());
            b
        }
        _ => tokio::runtime::Builder::new_multi_thread(),
    }
    .enable_all()
    .build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour only on a terminal: a log file gets plain text.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Import { command } => import::run(command).await,
        Command::Rfm { command } => scrm::rfm(command).await,
        Command::Segments { command } => scrm::segments(command).await,
        Command::Campaigns { command } => campaigns::run(command).await,
        Command::Model { command } => backtest::run(command),
        Command::Migrate(db) => {
            let store = db.open().await?;
            println!("{} database is at the latest schema", store.backend());
            Ok(())
        }
        Command::Keys {
            command:
                KeysCommand::Create {
                    db,
                    role,
                    stores,
                    user,
                    expires_at,
                },
        } => {
            let role = Role::parse(&role)
                .context("--role must be platform, merchant, guide or customer")?;
            let body = quan_app::keys::NewKeyBody {
                role,
                store_ids: Some(
                    stores
                        .iter()
                        .map(|s| id(s))
                        .collect::<anyhow::Result<_>>()?,
                ),
                user_id: user.as_deref().map(id).transpose()?,
                expires_at,
            };
            let key = db.app().await?.create_key(&operator(), body).await?;
            println!("{}\t{}\t{}", key.id, key.role.as_str(), key.key);
            Ok(())
        }
        Command::Keys {
            command: KeysCommand::List { db },
        } => {
            let app = db.app().await?;
            let mut cursor = None;
            println!("id\trole\tstores\tuser\tcreated_at\texpires_at\trevoked_at");
            loop {
                let paging = quan_app::page::Paging {
                    limit: Some(500),
                    cursor,
                };
                let page = app.list_keys(&operator(), paging).await?;
                for k in page.items {
                    println!(
                        "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                        k.id,
                        k.role.as_str(),
                        k.store_ids.join(";"),
                        k.user_id.as_deref().unwrap_or("-"),
                        k.created_at,
                        time_or_dash(k.expires_at),
                        time_or_dash(k.revoked_at)
                    );
                }
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => return Ok(()),
                }
            }
        }
        Command::Keys {
            command: KeysCommand::Revoke { db, id: key },
        } => {
            let app = db.app().await?;
            let revoked = app.revoke_key(&operator(), &id(&key)?).await?;
            println!(
                "{}\trevoked at {}",
                revoked.id,
                time_or_dash(revoked.revoked_at)
            );
            Ok(())
        }
        Command::Templates { command } => match command {
            TemplatesCommand::Create { db, file, activate } => {
                let text =
                    std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
                let spec: TemplateSpec = quan_app::input::parse(&text)
                    .with_context(|| format!("{} is not a template", file.display()))?;
                let app = db.app().await?;
                let mut t = app.create_template(&operator(), spec).await?;
                if activate {
                    t = app
                        .change_template(&operator(), &id(&t.id)?, StatusAction::Activate)
                        .await?;
                }
                print_template(&t);
                Ok(())
            }
            TemplatesCommand::Get { db, id: raw } => {
                let t = db.app().await?.template(&operator(), &id(&raw)?).await?;
                print_template(&t);
                println!("{}", serde_json::to_string_pretty(&t.spec)?);
                Ok(())
            }
            TemplatesCommand::List { db, limit } => {
                let q = TemplateQuery {
                    limit: Some(limit.clamp(1, 500)),
                    ..Default::default()
                };
                let page = db.app().await?.list_templates(&operator(), q).await?;
                page.items.iter().for_each(print_template);
                println!("{} of {}", page.items.len(), page.total);
                Ok(())
            }
            TemplatesCommand::Activate { db, id } => status(&db, &id, StatusAction::Activate).await,
            TemplatesCommand::Pause { db, id } => status(&db, &id, StatusAction::Pause).await,
            TemplatesCommand::End { db, id } => status(&db, &id, StatusAction::End).await,
        },
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&quan_http::openapi::document())?
            );
            Ok(())
        }
        Command::Bench { command } => bench::run(command).await,
        Command::Report { command } => report::run(command).await,
        Command::Allocate(args) => allocate::run(args),
    }
}

fn time_or_dash(t: Option<jiff::Timestamp>) -> String {
    t.map_or_else(|| "-".to_string(), |t| t.to_string())
}

#[cfg(test)]
mod tests {
    /// Every command and every argument says what it is in `--help` (CI checks the help text).
    #[test]
    fn every_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", cmd.get_name());
            if cmd.get_about().is_none() && path != " quan" {
                missing.push(format!("{path}: no about"));
            }
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if ["help", "version"].contains(&id) {
                    continue;
                }
                if arg.get_help().is_none() {
                    missing.push(format!("{path} --{id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() != "help" {
                    walk(sub, &path, missing);
                }
            }
        }
        let mut missing = Vec::new();
        walk(
            &<super::Cli as clap::CommandFactory>::command(),
            "",
            &mut missing,
        );
        assert!(missing.is_empty(), "without help: {missing:#?}");
    }

    /// `--time-zone` is offered where days are counted, and nowhere else.
    #[test]
    fn the_time_zone_only_where_days_count() {
        fn offers(cmd: &clap::Command, path: &[&str]) -> bool {
            let mut cmd = cmd.clone();
            for name in path {
                cmd = cmd.find_subcommand(name).expect("a command").clone();
            }
            let offered = cmd.get_arguments().any(|a| a.get_id() == "time_zone");
            offered
        }
        let cli = <super::Cli as clap::CommandFactory>::command();
        for path in [
            &["keys", "create"][..],
            &["templates", "list"],
            &["migrate"],
        ] {
            assert!(!offers(&cli, path), "{path:?}");
        }
        for path in [
            &["serve"][..],
            &["import", "orders"],
            &["rfm", "recompute"],
            &["campaigns", "activate"],
            &["report", "rebuild"],
        ] {
            assert!(offers(&cli, path), "{path:?}");
        }
    }

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            super::redact("postgres://quan:secret@127.0.0.1:5432/db"),
            "postgres://quan:***@127.0.0.1:5432/db"
        );
        assert_eq!(super::redact("sqlite://./x.db"), "sqlite://./x.db");
    }
}
