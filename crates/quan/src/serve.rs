//! `quan serve`: the HTTP API, with the sweepers that expire coupons and old idempotency keys,
//! the runner that takes over background jobs whose process died, the campaign worker, and the
//! outbox's sender.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use jiff::SignedDuration;
use quan_app::{App, SystemClock};
use quan_http::AppState;

use crate::TenantArgs;

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: TenantArgs,
    /// The address to listen on.
    #[arg(long, env = "QUAN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// The base URL that claim links point at.
    #[arg(long, env = "QUAN_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Seconds a background job stays with its process without progress (a batch of 10000 codes
    /// must fit in it); after that (the process died) another `quan serve` on the database, or
    /// this one restarted, resumes it from its last committed batch.
    #[arg(long, env = "QUAN_JOB_LEASE", default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3600))]
    pub job_lease: u32,
    /// Requests a second each API key may make (a token bucket with bursts of as many); 0
    /// turns the limit off. Over it, requests answer 429 with `Retry-After`.
    #[arg(long, env = "QUAN_RATE_LIMIT", default_value_t = DEFAULT_RATE_LIMIT)]
    pub rate_limit: u32,
    /// Milliseconds the campaign worker waits when it found nothing to do (it runs on at once
    /// while there is work). Several processes on one database share the work.
    #[arg(long, env = "QUAN_CAMPAIGN_TICK_MS", default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub campaign_tick_ms: u64,
    /// Milliseconds a channel's webhook may take to answer a message before the attempt counts
    /// as failed (and is retried later).
    #[arg(long, env = "QUAN_WEBHOOK_TIMEOUT_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=120_000))]
    pub webhook_timeout_ms: u64,
    /// Let webhooks point at loopback, link-local and private addresses (receivers on the same
    /// host or network); refused otherwise, when set and at every delivery.
    #[arg(long, env = "QUAN_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,
}

/// The default per-key rate limit: generous, so only a runaway client meets it.
pub const DEFAULT_RATE_LIMIT: u32 = 50_000;

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let store = args.db.open().await?;
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let public_url = args.public_url.unwrap_or_else(|| format!("http://{addr}"));
    let app = App::new(
        store.clone(),
        quan_app::Config {
            zone: args.db.zone()?,
            clock: Arc::new(SystemClock),
            public_url,
            job_lease: SignedDuration::from_secs(args.job_lease.into()),
            delivery: quan_app::delivery::DeliveryConfig {
                timeout: Duration::from_millis(args.webhook_timeout_ms),
                allow_private: args.webhook_allow_private,
                ..Default::default()
            },
        },
    )
    .await?;
    let given = std::env::var("QUAN_ADMIN_KEY")
        .ok()
        .filter(|k| !k.is_empty());
    if let Some(minted) = app.bootstrap_admin(given.as_deref()).await? {
        println!("quan: bootstrap admin key (shown once, keep it): {minted}");
    }
    tokio::spawn(upkeep(app.clone()));
    tokio::spawn(campaigns(
        app.clone(),
        Duration::from_millis(args.campaign_tick_ms),
    ));
    tokio::spawn(deliver(app.clone()));
    tokio::spawn(probe(app.clone()));
    tokio::spawn(app.jobs.clone().resume_lapsed());
    let state = AppState::new(app, args.rate_limit);
    tracing::info!(%addr, backend = store.backend(), "quan serving");
    axum::serve(listener, quan_http::router(state))
        .with_graceful_shutdown(shutdown())
        .await?;
    Ok(())
}

/// Probes the database every second, so that `/healthz` answers from memory and never waits in
/// the read path's queue.
async fn probe(app: App) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = app.probe_database().await {
            tracing::warn!(error = %e, "the database did not answer a probe");
        }
    }
}

/// Runs the upkeep (expiry, lapsed order locks, old idempotency keys) every 30 seconds.
async fn upkeep(app: App) {
    let mut tick = tokio::time::interval(Duration::from_secs(30));
    loop {
        tick.tick().await;
        if let Err(e) = app.upkeep().await {
            tracing::warn!(error = %e, "upkeep failed");
        }
    }
}

/// Runs the campaign worker: again at once while it finds work, else after `idle`.
async fn campaigns(app: App, idle: Duration) {
    loop {
        match app.run_campaigns().await {
            Ok(run) if run.busy() => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e.message, "campaign run failed"),
        }
        tokio::time::sleep(idle).await;
    }
}

/// Delivers the outbox's due messages every second, each channel in a loop of its own: a
/// receiver that hangs delays only its channel (a round that takes longer delays that
/// channel's next); the pending-message gauges are read beside them.
async fn deliver(app: App) {
    let gauges = app.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if let Err(e) = gauges.outbox_gauges().await {
                tracing::warn!(error = %e, "reading the outbox's pending messages failed");
            }
        }
    });
    let loops = quan_core::campaign::MessageChannel::ALL.map(|channel| {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = app.deliver_channel(channel).await {
                    tracing::warn!(error = %e, channel = channel.as_str(), "delivery failed");
                }
            }
        })
    });
    for l in loops {
        let _ = l.await;
    }
}

async fn shutdown() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {},
        _ = term.recv() => {},
    }
}
