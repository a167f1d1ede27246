//! `quan bench`: load generators that drive a running quan over HTTP and report throughput
//! and latency percentiles. The server is measured as a client sees it, durability included:
//! every 201 counted here was committed before it was sent.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

#[derive(clap::Subcommand)]
pub enum BenchCommand {
    /// Claims on one hot template with a large stock, from many users over many connections.
    Claim(ClaimArgs),
}

#[derive(clap::Args)]
pub struct ClaimArgs {
    /// The running service.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// A platform key.
    #[arg(long, env = "QUAN_ADMIN_KEY")]
    pub key: String,
    /// Concurrent connections, each sending one claim at a time.
    #[arg(long, default_value_t = 128)]
    pub connections: usize,
    /// Claims to send in all.
    #[arg(long, default_value_t = 200_000)]
    pub claims: u64,
    /// Distinct users the claims come from.
    #[arg(long, default_value_t = 100_000)]
    pub users: u64,
    /// The template's stock.
    #[arg(long, default_value_t = 1_000_000)]
    pub stock: i64,
    /// Claims per connection before measuring starts (warm-up).
    #[arg(long, default_value_t = 20)]
    pub warmup: u64,
    /// Threads of the load generator. It shares the machine with the service, so it runs on
    /// one thread unless told otherwise.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Run against a service that already has members or templates. The bench adds a public
    /// template (ended when it is done) and coupons for synthetic users `bench-u…`, which
    /// count in that database's reports; without this flag it refuses such a service.
    #[arg(long)]
    pub on_live_data: bool,
}

impl BenchCommand {
    /// Threads the load generator's runtime should have.
    pub fn threads(&self) -> usize {
        match self {
            BenchCommand::Claim(args) => args.threads.max(1),
        }
    }
}

pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    match command {
        BenchCommand::Claim(args) => claim(args).await,
    }
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: HeaderValue,
    authorization: HeaderValue,
}

impl Conn {
    async fn open(url: &str, key: &str) -> anyhow::Result<Conn> {
        let host = url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let stream = tokio::net::TcpStream::connect(&host)
            .await
            .with_context(|| format!("connecting to {host}"))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Conn {
            sender,
            host: HeaderValue::from_str(&host)?,
            authorization: HeaderValue::from_str(&format!("Bearer {key}"))?,
        })
    }

    /// Sends one request; answers the status and the body's bytes.
    async fn exchange(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> anyhow::Result<(u16, Bytes)> {
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = path.parse()?;
        let headers = req.headers_mut();
        headers.insert(HOST, self.host.clone());
        headers.insert(AUTHORIZATION, self.authorization.clone());
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        self.sender.ready().await?;
        let res = self.sender.send_request(req).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }

    /// Sends one request with a JSON body (or none); answers the status and the JSON answer.
    async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(u16, Value)> {
        let bytes = body
            .map(|b| Bytes::from(serde_json::to_vec(b).expect("json")))
            .unwrap_or_default();
        let (status, body) = self.exchange(method, path, bytes).await?;
        let value = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&body).unwrap_or(Value::Null)
        };
        Ok((status, value))
    }
}

/// A claim's body, written without building a JSON value per request (the load generator
/// shares the machine with the service, so its own cost is kept small).
fn claim_body(user: &str) -> Bytes {
    Bytes::from(format!(r#"{{"user_id":"{user}","channel":"app"}}"#))
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Refuses a service that holds data of its own, unless told to run there anyway.
async fn refuse_live_data(admin: &mut Conn, args: &ClaimArgs) -> anyhow::Result<()> {
    if args.on_live_data {
        return Ok(());
    }
    for (what, path) in [
        ("members", "/v1/members?limit=1"),
        ("templates", "/v1/templates?limit=1"),
    ] {
        let (st, page) = admin.send(Method::GET, path, None).await?;
        if st != 200 {
            bail!("reading {what} answered {st}: {page} (is --key a platform key?)");
        }
        let total = page["total"].as_i64().unwrap_or(0);
        if total > 0 {
            bail!(
                "{} already has {total} {what}: the bench would add a template and coupons \
                 there. Run it against a fresh database, or pass --on-live-data",
                args.url
            );
        }
    }
    Ok(())
}

async fn claim(args: ClaimArgs) -> anyhow::Result<()> {
    let mut admin = Conn::open(&args.url, &args.key).await?;
    refuse_live_data(&mut admin, &args).await?;
    let template = json!({
        "name": "bench hot template",
        "scope": {"kind": "platform"},
        "benefit": {"kind": "reduction", "threshold": 10000, "off": 1000},
        "validity": {"kind": "relative", "days": 30},
        "stock": args.stock, "per_user_limit": null, "per_user_daily_limit": null,
        "audience": {"kind": "all"}, "channels": null, "regions": null,
        "distribution": ["public"], "funding": {"platform_bp": 10000, "merchant_bp": 0}
    });
    let (st, t) = admin
        .send(Method::POST, "/v1/templates", Some(&template))
        .await?;
    if st != 201 {
        bail!("creating the template answered {st}: {t}");
    }
    let id = t["id"].as_str().context("template id")?.to_string();
    let (st, _) = admin
        .send(Method::POST, &format!("/v1/templates/{id}/activate"), None)
        .await?;
    if st != 200 {
        bail!("activating answered {st}");
    }

    let next = Arc::new(AtomicU64::new(0));
    let ok = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let path = format!("/v1/templates/{id}/claim");
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let mut conn = Conn::open(&args.url, &args.key).await?;
        let (next, ok, refused, failed, path) = (
            next.clone(),
            ok.clone(),
            refused.clone(),
            failed.clone(),
            path.clone(),
        );
        let (users, total, warmup) = (args.users, args.claims, args.warmup);
        tasks.push(tokio::spawn(async move {
            for w in 0..warmup {
                let body = claim_body(&format!("bench-warm-{c}-{w}"));
                let _ = conn.exchange(Method::POST, &path, body).await;
            }
            let mut latencies = Vec::new();
            let start = Instant::now();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let body = claim_body(&format!("bench-u{}", i.wrapping_mul(2_654_435_761) % users));
                let t0 = Instant::now();
                match conn.exchange(Method::POST, &path, body).await {
                    Ok((201, _)) => ok.fetch_add(1, Ordering::Relaxed),
                    Ok((409, _)) => refused.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
                latencies.push(t0.elapsed().as_micros().min(u32::MAX as u128) as u32);
            }
            (latencies, start)
        }));
    }
    let started = Instant::now();
    let mut all = Vec::with_capacity(args.claims as usize);
    for t in tasks {
        let (lat, _) = t.await?;
        all.extend(lat);
    }
    let elapsed = started.elapsed();
    all.sort_unstable();
    let (_, t) = admin
        .send(Method::GET, &format!("/v1/templates/{id}"), None)
        .await?;
    let claimed = t["claimed"].as_i64().unwrap_or(-1);
    // Ended, so that it leaves no coupon in any member's coupon center.
    let (st, _) = admin
        .send(Method::POST, &format!("/v1/templates/{id}/end"), None)
        .await?;
    if st != 200 {
        bail!("ending the bench template answered {st}");
    }
    let warm = args.connections as u64 * args.warmup;
    let answered = ok.load(Ordering::Relaxed);
    println!("template            {id}");
    println!("connections         {}", args.connections);
    println!("claims sent         {}", args.claims);
    println!("201 claimed         {answered}");
    println!("409 refused         {}", refused.load(Ordering::Relaxed));
    println!("errors              {}", failed.load(Ordering::Relaxed));
    println!("elapsed             {:.2} s", elapsed.as_secs_f64());
    println!(
        "claims/s            {:.0}",
        args.claims as f64
            / elapsed
                .as_secs_f64()
                .max(Duration::from_micros(1).as_secs_f64())
    );
    println!(
        "latency p50         {:.2} ms",
        percentile(&all, 0.50) as f64 / 1000.0
    );
    println!(
        "latency p99         {:.2} ms",
        percentile(&all, 0.99) as f64 / 1000.0
    );
    println!(
        "latency max         {:.2} ms",
        all.last().copied().unwrap_or(0) as f64 / 1000.0
    );
    println!(
        "template claimed    {claimed} (expected {})",
        answered + warm
    );
    if claimed != (answered + warm) as i64 {
        bail!("the template's counter does not match the answered claims");
    }
    Ok(())
}
