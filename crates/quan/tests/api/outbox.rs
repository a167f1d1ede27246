//! The outbox on both backends, against a real webhook receiver on a local port: signed
//! deliveries, failures and timeouts retried after their backoff (the clock moved by hand),
//! dead letters after five failures and their retry by hand, channels without a webhook,
//! signed links in messages, concurrent senders, and who may configure and read it all.

use crate::common;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use common::process::Server;
use common::{code, field, Backend, TestApp, ADMIN};
use hmac::{Hmac, Mac};
use jiff::SignedDuration;
use quan_app::delivery::DeliveryReport;
use quan_core::campaign::MessageChannel;
use quan_core::zone::TenantZone;
use quan_store::NewMessage;
use serde_json::{json, Value};
use sha2::Sha256;

const SECRET: &str = "a-webhook-secret-of-32-bytes-xyz";

/// What the receiver answers to one delivery.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Fail,
    /// Answers only after the sender's timeout.
    Hang,
    /// Answers only once the test releases it.
    Held,
    Ok,
}

#[derive(Debug, Clone)]
struct Received {
    message_id: String,
    signature: String,
    content_type: String,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

struct Inbox {
    script: VecDeque<Answer>,
    got: Vec<Received>,
    /// Permits for `Held` answers: none until the test releases them.
    release: Arc<tokio::sync::Semaphore>,
}

/// A webhook receiver on a local port: answers by its script, then 200.
struct Receiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
}

impl Receiver {
    async fn start(script: &[Answer]) -> Receiver {
        let inbox = Arc::new(Mutex::new(Inbox {
            script: script.iter().copied().collect(),
            got: vec![],
            release: Arc::new(tokio::sync::Semaphore::new(0)),
        }));
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(inbox.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { url, inbox }
    }

    fn got(&self) -> Vec<Received> {
        self.inbox.lock().unwrap().got.clone()
    }

    /// Answers every `Held` delivery, waiting or to come.
    fn release(&self) {
        let inbox = self.inbox.lock().unwrap();
        inbox
            .release
            .add_permits(tokio::sync::Semaphore::MAX_PERMITS / 2);
    }
}

async fn receive(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    let (answer, release) = {
        let mut inbox = inbox.lock().unwrap();
        inbox.got.push(Received {
            message_id: header("x-quan-message-id"),
            signature: header("x-quan-signature"),
            content_type: header("content-type"),
            body: body.to_vec(),
        });
        (
            inbox.script.pop_front().unwrap_or(Answer::Ok),
            inbox.release.clone(),
        )
    };
    match answer {
        Answer::Fail => StatusCode::INTERNAL_SERVER_ERROR,
        Answer::Hang => {
            tokio::time::sleep(common::DELIVERY_TIMEOUT * 2).await;
            StatusCode::OK
        }
        Answer::Held => {
            let _permit = release.acquire().await.unwrap();
            StatusCode::OK
        }
        Answer::Ok => StatusCode::OK,
    }
}

/// The signature a receiver expects, computed here with the hmac crate itself.
fn expected_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

async fn set_webhook(app: &TestApp, channel: &str, url: &str) {
    let (st, b) = app
        .call(
            "PUT",
            &format!("/v1/channels/{channel}"),
            Some(ADMIN),
            Some(json!({"url": url, "secret": SECRET})),
            &[],
        )
        .await;
    assert_eq!(st, 200, "{b}");
}

/// Queues a message to `user` through the store, as a campaign does.
async fn enqueue(
    app: &TestApp,
    channel: MessageChannel,
    user: &str,
    link_template: Option<&str>,
) -> String {
    let now = app.clock_now();
    let m = app
        .store
        .enqueue_message(NewMessage {
            id: quan_store::new_id("msg", now.as_millisecond()),
            campaign_id: Some("cmp_test".into()),
            user_id: user.into(),
            channel,
            text: "Your coupon is waiting".into(),
            link_template_id: link_template.map(str::to_string),
            now,
        })
        .await
        .unwrap();
    m.id
}

async fn deliver(app: &TestApp) -> DeliveryReport {
    app.app.deliver_due().await.unwrap()
}

fn advance(app: &TestApp, secs: i64) {
    app.clock
        .set(app.clock_now() + SignedDuration::from_secs(secs));
}

async fn message(app: &TestApp, id: &str) -> Value {
    let (st, m) = app.get(&format!("/v1/outbox/{id}")).await;
    assert_eq!(st, 200, "{m}");
    m
}

async fn failures_and_timeouts_are_retried_after_their_backoff(backend: Backend) {
    let app = TestApp::start(backend).await;
    let hook = Receiver::start(&[Answer::Fail, Answer::Hang]).await;
    set_webhook(&app, "sms", &hook.url).await;
    let id = enqueue(&app, MessageChannel::Sms, "u1", None).await;
    let start = app.clock_now();

    // A 500: failed once, due again 30 s later.
    let report = deliver(&app).await;
    assert_eq!((report.sent, report.retried, report.dead), (0, 1, 0));
    let m = message(&app, &id).await;
    assert_eq!(
        (m["status"].as_str(), m["attempts"].as_i64()),
        (Some("pending"), Some(1))
    );
    assert!(m["last_error"].as_str().unwrap().contains("500"), "{m}");
    assert_eq!(
        m["next_attempt_at"].as_str().unwrap(),
        (start + SignedDuration::from_secs(30)).to_string()
    );

    // Not before its backoff has elapsed.
    assert_eq!(deliver(&app).await, DeliveryReport::default());
    advance(&app, 29);
    assert_eq!(deliver(&app).await, DeliveryReport::default());
    assert_eq!(hook.got().len(), 1);

    // A timeout: failed twice, due again 60 s later.
    advance(&app, 1);
    let report = deliver(&app).await;
    assert_eq!((report.sent, report.retried), (0, 1));
    let m = message(&app, &id).await;
    assert_eq!(m["attempts"], 2);
    assert!(
        m["last_error"]
            .as_str()
            .unwrap()
            .contains("did not answer within 300 ms"),
        "{m}"
    );
    advance(&app, 59);
    assert_eq!(deliver(&app).await.sent, 0);

    // Then it answers 200: sent.
    advance(&app, 1);
    let report = deliver(&app).await;
    assert_eq!((report.sent, report.retried, report.dead), (1, 0, 0));
    let m = message(&app, &id).await;
    assert_eq!(
        (m["status"].as_str(), m["attempts"].as_i64()),
        (Some("sent"), Some(3))
    );
    assert_eq!(m["sent_at"].as_str().unwrap(), app.clock_now().to_string());
    assert_eq!(deliver(&app).await.sent, 0, "sent once");

    let got = hook.got();
    assert_eq!(got.len(), 3);
    for r in &got {
        assert_eq!(r.message_id, id);
        assert_eq!(r.content_type, "application/json");
        assert_eq!(r.signature, expected_signature(SECRET, &r.body));
        assert_ne!(
            r.signature,
            expected_signature("another-secret-16b", &r.body)
        );
        assert_eq!(
            r.json(),
            json!({"id": id, "channel": "sms", "user_id": "u1", "text": "Your coupon is waiting",
                   "campaign_id": "cmp_test"})
        );
    }

    let (st, sent) = app.get("/v1/outbox?status=sent").await;
    assert_eq!(st, 200, "{sent}");
    assert_eq!(sent["total"], 1);
    assert_eq!(sent["items"][0]["id"], id.as_str());
    let (_, pending) = app.get("/v1/outbox?status=pending").await;
    assert_eq!(
        (pending["total"].as_i64(), &pending["next"]),
        (Some(0), &Value::Null)
    );
}

async fn five_failures_make_a_dead_letter_that_comes_back_by_hand(backend: Backend) {
    let app = TestApp::start(backend).await;
    let hook = Receiver::start(&[Answer::Fail; 5]).await;
    set_webhook(&app, "app_push", &hook.url).await;
    let id = enqueue(&app, MessageChannel::AppPush, "u2", None).await;
    let mut delays = vec![];
    for failure in 1..=5 {
        let before = app.clock_now();
        let report = deliver(&app).await;
        let m = message(&app, &id).await;
        assert_eq!(m["attempts"], failure, "{m}");
        if failure < 5 {
            assert_eq!((report.retried, report.dead), (1, 0));
            let next: jiff::Timestamp = m["next_attempt_at"].as_str().unwrap().parse().unwrap();
            delays.push(next.duration_since(before).as_secs());
            app.clock.set(next);
        } else {
            assert_eq!((report.retried, report.dead), (0, 1));
            assert_eq!(m["status"], "dead");
        }
    }
    assert_eq!(delays, [30, 60, 120, 240], "doubling from 30 s");
    advance(&app, 7200);
    assert_eq!(
        deliver(&app).await,
        DeliveryReport::default(),
        "dead stays dead"
    );
    assert_eq!(hook.got().len(), 5);

    let (st, dead) = app.get("/v1/outbox?status=dead").await;
    assert_eq!(st, 200, "{dead}");
    assert_eq!(dead["total"], 1);
    assert_eq!(dead["items"][0]["id"], id.as_str());
    assert!(dead["items"][0]["last_error"]
        .as_str()
        .unwrap()
        .contains("500"));

    // Back to pending by hand, due now; the receiver answers 200 again.
    let (st, back) = app.post(&format!("/v1/outbox/{id}/retry"), json!({})).await;
    assert_eq!(st, 200, "{back}");
    assert_eq!(
        (back["status"].as_str(), back["attempts"].as_i64()),
        (Some("pending"), Some(0))
    );
    let (st, again) = app.post(&format!("/v1/outbox/{id}/retry"), json!({})).await;
    assert_eq!(
        (st, code(&again)),
        (409, "invalid_state"),
        "only a dead letter"
    );
    assert_eq!(deliver(&app).await.sent, 1);
    assert_eq!(message(&app, &id).await["status"], "sent");
    let (st, sent) = app.post(&format!("/v1/outbox/{id}/retry"), json!({})).await;
    assert_eq!((st, code(&sent)), (409, "invalid_state"));
    let (st, none) = app.post("/v1/outbox/msg_nope/retry", json!({})).await;
    assert_eq!((st, code(&none)), (404, "not_found"));

    let (_, metrics) = app.get("/metrics").await;
    let text = metrics.as_str().unwrap();
    for name in [
        "quan_outbox_sent_total{channel=\"app_push\"}",
        "quan_outbox_retries_total{channel=\"app_push\"}",
        "quan_outbox_dead_total{channel=\"app_push\"}",
        "quan_outbox_pending{channel=\"app_push\"}",
    ] {
        assert!(text.contains(name), "{name} missing");
    }
}

async fn a_channel_without_a_webhook_keeps_its_messages_pending(backend: Backend) {
    let app = TestApp::start(backend).await;
    let hook = Receiver::start(&[]).await;
    set_webhook(&app, "sms", &hook.url).await;
    let wechat = enqueue(&app, MessageChannel::Wechat, "u3", None).await;
    let sms = enqueue(&app, MessageChannel::Sms, "u3", None).await;
    let report = deliver(&app).await;
    assert_eq!((report.sent, report.retried, report.unrouted), (1, 0, 1));
    let m = message(&app, &wechat).await;
    assert_eq!(
        (m["status"].as_str(), m["attempts"].as_i64()),
        (Some("pending"), Some(0))
    );
    assert_eq!(m["last_error"], Value::Null);
    assert_eq!(message(&app, &sms).await["status"], "sent");

    set_webhook(&app, "wechat", &hook.url).await;
    let report = deliver(&app).await;
    assert_eq!((report.sent, report.unrouted), (1, 0));
    let got = hook.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].message_id, wechat);
    assert_eq!(got[1].json()["channel"], "wechat");
}

async fn a_message_carries_the_members_signed_claim_link(backend: Backend) {
    let app = TestApp::start(backend).await;
    let hook = Receiver::start(&[]).await;
    set_webhook(&app, "email", &hook.url).await;
    let linked = app.active(json!({"distribution": ["link_only"]})).await;
    let unlinkable = app.active(json!({"distribution": ["campaign_only"]})).await;
    let id = enqueue(&app, MessageChannel::Email, "u4", Some(&linked)).await;
    let bad = enqueue(&app, MessageChannel::Email, "u4", Some(&unlinkable)).await;
    let report = deliver(&app).await;
    assert_eq!((report.sent, report.retried), (1, 1));
    let m = message(&app, &bad).await;
    assert!(
        m["last_error"]
            .as_str()
            .unwrap()
            .contains("honours no links"),
        "{m}"
    );

    let got = hook.got();
    assert_eq!(got.len(), 1, "no POST without its link");
    let body = got[0].json();
    assert_eq!(body["id"], id.as_str());
    let url = body["link"].as_str().expect("a link");
    assert!(
        url.starts_with(&format!("{}/claim?template={linked}&link=", app.url)),
        "{url}"
    );
    let token = url.split("&link=").nth(1).unwrap();
    // The link is the member's: it claims for u4, and for nobody else.
    let (st, b) = app
        .claim(&linked, json!({"user_id": "u5", "link": token}))
        .await;
    assert_eq!((st, code(&b)), (409, "invalid_link"), "{b}");
    let (st, b) = app
        .claim(&linked, json!({"user_id": "u4", "link": token}))
        .await;
    assert_eq!(st, 201, "{b}");
}

async fn concurrent_senders_send_each_message_once(backend: Backend) {
    let app = TestApp::start(backend).await;
    let hook = Receiver::start(&[]).await;
    set_webhook(&app, "sms", &hook.url).await;
    let mut ids = vec![];
    for i in 0..40 {
        ids.push(enqueue(&app, MessageChannel::Sms, &format!("u{i}"), None).await);
    }
    let (a, b, c) = tokio::join!(
        app.app.deliver_due(),
        app.app.deliver_due(),
        app.app.deliver_due()
    );
    let sent = a.unwrap().sent + b.unwrap().sent + c.unwrap().sent;
    assert_eq!(sent, 40);
    let mut seen: HashMap<String, u32> = HashMap::new();
    for r in hook.got() {
        *seen.entry(r.message_id).or_default() += 1;
    }
    assert_eq!(seen.len(), 40);
    assert!(seen.values().all(|&n| n == 1), "a message sent twice");
    let (_, page) = app.get("/v1/outbox?status=sent&limit=25").await;
    assert_eq!(
        (
            page["total"].as_i64(),
            page["items"].as_array().unwrap().len()
        ),
        (Some(40), 25)
    );
    let next = page["next"].as_str().unwrap();
    let (_, rest) = app
        .get(&format!("/v1/outbox?status=sent&limit=25&cursor={next}"))
        .await;
    assert_eq!(
        (rest["items"].as_array().unwrap().len(), &rest["next"]),
        (15, &Value::Null)
    );
}

async fn channels_and_the_outbox_are_for_operators_and_checked(backend: Backend) {
    let app = TestApp::start(backend).await;
    let merchant = app.key("merchant", &["s1"], None).await;
    let guide = app.key("guide", &["s1"], Some("g1")).await;
    let body = json!({"url": "http://127.0.0.1:9/hook", "secret": SECRET});
    for key in [&merchant, &guide] {
        let (st, b) = app
            .call(
                "PUT",
                "/v1/channels/sms",
                Some(key),
                Some(body.clone()),
                &[],
            )
            .await;
        assert_eq!((st, code(&b)), (403, "forbidden"), "{b}");
        for path in ["/v1/channels", "/v1/outbox", "/v1/outbox/msg_1"] {
            let (st, b) = app.call("GET", path, Some(key), None, &[]).await;
            assert_eq!((st, code(&b)), (403, "forbidden"), "{path}: {b}");
        }
        let (st, b) = app
            .call(
                "POST",
                "/v1/outbox/msg_1/retry",
                Some(key),
                Some(json!({})),
                &[],
            )
            .await;
        assert_eq!((st, code(&b)), (403, "forbidden"), "{b}");
    }
    let (st, _) = app.call("GET", "/v1/channels", None, None, &[]).await;
    assert_eq!(st, 401);

    let put = |channel: &'static str, body: Value| {
        let app = &app;
        async move {
            app.call(
                "PUT",
                &format!("/v1/channels/{channel}"),
                Some(ADMIN),
                Some(body),
                &[],
            )
            .await
        }
    };
    for (body, status, want_code, want_field) in [
        (
            json!({"url": "ftp://h/x", "secret": SECRET}),
            422,
            "invalid_value",
            "url",
        ),
        (
            json!({"url": "hook.example.com", "secret": SECRET}),
            422,
            "invalid_value",
            "url",
        ),
        (
            json!({"url": "http://", "secret": SECRET}),
            422,
            "invalid_value",
            "url",
        ),
        (
            json!({"url": "http://h/x", "secret": "short"}),
            422,
            "invalid_value",
            "secret",
        ),
        (
            json!({"url": "http://h/x", "secret": "s".repeat(257)}),
            422,
            "too_large",
            "secret",
        ),
        (json!({"url": "http://h/x"}), 400, "missing_field", "secret"),
        (
            json!({"url": 7, "secret": SECRET}),
            400,
            "invalid_type",
            "url",
        ),
        (
            json!({"url": "http://h/x", "secret": SECRET, "token": 1}),
            400,
            "unknown_field",
            "token",
        ),
    ] {
        let (st, b) = put("sms", body.clone()).await;
        assert_eq!(
            (st, code(&b), field(&b)),
            (status, want_code, want_field),
            "{body}: {b}"
        );
    }
    let (st, b) = put("fax", body.clone()).await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (404, "not_found", "channel"),
        "{b}"
    );
    // Nothing was written by the refusals.
    let (st, list) = app.get("/v1/channels").await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["total"], 4);
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["configured"] == false));

    let (st, b) = put("sms", body.clone()).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(
        (b["channel"].as_str(), b["configured"].as_bool()),
        (Some("sms"), Some(true))
    );
    // An https:// webhook is accepted (the sender speaks TLS).
    let (st, b) = put(
        "email",
        json!({"url": "https://hooks.example.com/mail", "secret": SECRET}),
    )
    .await;
    assert_eq!(st, 200, "{b}");
    let (_, list) = app.get("/v1/channels").await;
    assert!(
        !list.to_string().contains(SECRET),
        "the secret is never shown"
    );
    let sms = &list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "sms")
        .unwrap();
    assert_eq!(sms["url"], "http://127.0.0.1:9/hook");
    assert!(!b.to_string().contains(SECRET));

    let (st, b) = app.get("/v1/outbox?status=lost").await;
    assert_eq!((st, code(&b)), (400, "bad_request"), "{b}");
    let (st, b) = app.get("/v1/outbox?limit=0").await;
    assert_eq!(
        (st, code(&b), field(&b)),
        (422, "invalid_value", "limit"),
        "{b}"
    );
    let (st, b) = app.get("/v1/outbox/msg_nope").await;
    assert_eq!((st, code(&b)), (404, "not_found"), "{b}");

    // An unreachable webhook is a failure like any other.
    let id = enqueue(&app, MessageChannel::Sms, "u1", None).await;
    assert_eq!(deliver(&app).await.retried, 1);
    let m = message(&app, &id).await;
    assert!(
        m["last_error"].as_str().unwrap().starts_with("unreachable"),
        "{m}"
    );
}

/// Real `quan serve` processes deliver on their own every second; on PostgreSQL two of them
/// share the database and send each message once.
async fn quan_serve_delivers_and_processes_share_the_work(backend: Backend) {
    let (database_url, _dir) = common::fresh_database(backend).await;
    let processes = if backend == Backend::Postgres { 2 } else { 1 };
    let mut servers = vec![];
    for _ in 0..processes {
        servers
            .push(Server::start_with(&database_url, &[("QUAN_WEBHOOK_TIMEOUT_MS", "2000")]).await);
    }
    let hook = Receiver::start(&[]).await;
    let http = reqwest::Client::new();
    let put = http
        .put(format!("{}/v1/channels/sms", servers[0].url))
        .bearer_auth(ADMIN)
        .json(&json!({"url": hook.url, "secret": SECRET}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status().as_u16(), 200);
    let store = quan_store::open(&database_url, TenantZone::parse(common::ZONE).unwrap())
        .await
        .unwrap();
    let mut ids = HashSet::new();
    for i in 0..60 {
        let now = jiff::Timestamp::now();
        let m = store
            .enqueue_message(NewMessage {
                id: quan_store::new_id("msg", now.as_millisecond()),
                campaign_id: None,
                user_id: format!("u{i}"),
                channel: MessageChannel::Sms,
                text: "Flash sale tonight".into(),
                link_template_id: None,
                now,
            })
            .await
            .unwrap();
        ids.insert(m.id);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let sent: Value = http
            .get(format!(
                "{}/v1/outbox?status=sent",
                servers[processes - 1].url
            ))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if sent["total"] == 60 {
            break;
        }
        assert!(Instant::now() < deadline, "not all sent: {sent}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = hook.got();
    let seen: HashSet<String> = got.iter().map(|r| r.message_id.clone()).collect();
    assert_eq!(seen, ids);
    assert_eq!(got.len(), 60, "each message once");
    for r in &got {
        assert_eq!(r.signature, expected_signature(SECRET, &r.body));
        assert_eq!(r.json()["campaign_id"], Value::Null);
    }
}

both!(quan_serve_delivers_and_processes_share_the_work);
both!(failures_and_timeouts_are_retried_after_their_backoff);
both!(five_failures_make_a_dead_letter_that_comes_back_by_hand);
both!(a_channel_without_a_webhook_keeps_its_messages_pending);
both!(a_message_carries_the_members_signed_claim_link);
both!(concurrent_senders_send_each_message_once);
both!(channels_and_the_outbox_are_for_operators_and_checked);

/// A receiver that hangs costs only its own channel: while a batch of SMS deliveries waits on
/// it (with a sender timeout of a minute), the email channel's message is sent.
async fn a_hanging_receiver_delays_only_its_own_channel(backend: Backend) {
    let app = TestApp::start(backend).await;
    let sms = Receiver::start(&[Answer::Held; 40]).await;
    let email = Receiver::start(&[]).await;
    set_webhook(&app, "sms", &sms.url).await;
    set_webhook(&app, "email", &email.url).await;
    for i in 0..40 {
        enqueue(&app, MessageChannel::Sms, &format!("u{i}"), None).await;
    }
    let mail = enqueue(&app, MessageChannel::Email, "u0", None).await;
    let patient = app
        .another_process(quan_app::delivery::DeliveryConfig {
            timeout: std::time::Duration::from_secs(60),
            allow_private: true,
            ..Default::default()
        })
        .await;
    let round = tokio::spawn(async move { patient.deliver_due().await.unwrap() });
    let mut sent = false;
    for _ in 0..500 {
        if message(&app, &mail).await["status"] == "sent" {
            sent = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(sent, "the email waited for the SMS receiver");
    assert!(!round.is_finished(), "the SMS deliveries are still held");
    assert_eq!(email.got().len(), 1);
    sms.release();
    let report = round.await.unwrap();
    assert_eq!(report.sent, 41);
}
both!(a_hanging_receiver_delays_only_its_own_channel);

/// Without `QUAN_WEBHOOK_ALLOW_PRIVATE`, a webhook that reaches inside (loopback, the cloud
/// metadata address, private networks, in any spelling) is refused when set and when sent to;
/// redirects are not followed; credentials in a URL are never shown.
async fn webhooks_may_not_reach_inside(backend: Backend) {
    let app = TestApp::start(backend).await;
    let strict = app.another_process(Default::default()).await;
    let admin = strict.principal(ADMIN).await.unwrap().unwrap();
    let put = |url: &str| quan_app::channels::ChannelBody {
        url: url.to_string(),
        secret: SECRET.to_string(),
    };
    for inside in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/x",
        "http://0x7f000001/x",
        "http://2130706433/x",
        "http://10.0.0.1/x",
        "http://localhost:8080/x",
        "http://[::ffff:127.0.0.1]/x",
    ] {
        let refused = strict
            .put_channel(&admin, "sms", put(inside))
            .await
            .unwrap_err();
        assert_eq!(
            (refused.code, refused.field.as_deref()),
            (quan_core::ErrorCode::InvalidValue, Some("url")),
            "{inside}"
        );
    }

    // Set while allowed (as the test server is), a private receiver is refused at delivery by a
    // service that does not allow it, with an error that says only its kind.
    let hook = Receiver::start(&[]).await;
    set_webhook(&app, "sms", &hook.url).await;
    let id = enqueue(&app, MessageChannel::Sms, "u1", None).await;
    let report = strict.deliver_due().await.unwrap();
    assert_eq!((report.sent, report.retried), (0, 1));
    assert!(hook.got().is_empty());
    let m = message(&app, &id).await;
    assert!(
        m["last_error"]
            .as_str()
            .unwrap()
            .starts_with("address refused"),
        "{m}"
    );

    // Credentials are never shown back.
    let with_credentials = hook.url.replace("http://", "http://user:pw@");
    set_webhook(&app, "email", &with_credentials).await;
    let (_, channels) = app.get("/v1/channels").await;
    let shown = channels["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["channel"] == "email")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(shown.starts_with("http://***@127.0.0.1:"), "{shown}");
}
both!(webhooks_may_not_reach_inside);
