//! `quan campaigns` on the command line: a playbook applied and activated, listed, read,
//! paused, resumed and ended; the worker run with `activate --wait`; a refused playbook
//! changes nothing.

use std::process::Command;

fn quan(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_quan"))
        .args(args)
        .args(["--database-url", db])
        .env("QUAN_TIME_ZONE", "Asia/Shanghai")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run quan");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn example(name: &str) -> String {
    format!(
        "{}/../../examples/campaigns/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn campaigns_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/q.db", dir.path().display());
    // A playbook naming a template it does not hold is refused whole.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"campaigns": [{"name": "x", "trigger": {"kind": "once"},
            "actions": [{"kind": "grant", "template_id": "nowhere"}]}]}"#,
    )
    .unwrap();
    let (ok, _, err) = quan(&db, &["campaigns", "apply", bad.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("campaigns[0].actions[0].template_id"), "{err}");
    let (ok, out, err) = quan(&db, &["campaigns", "list"]);
    assert!(ok, "{err}");
    assert!(out.contains("0 of 0"), "{out}");

    // The Thursday playbook, as a draft; members; then activated with --wait: nothing is due
    // before Thursday, so the worker stops at once with every member still to come.
    let (ok, out, err) = quan(
        &db,
        &["campaigns", "apply", &example("thursday-slow-day.json")],
    );
    assert!(ok, "{err}");
    assert!(out.contains("template thursday_8"), "{out}");
    let id = out
        .lines()
        .find(|l| l.starts_with("cmp_"))
        .and_then(|l| l.split('\t').next())
        .expect("a campaign line")
        .to_string();
    assert!(out.contains("\tdraft\t"), "{out}");
    let (ok, out, err) = quan(&db, &["campaigns", "activate", &id, "--wait"]);
    assert!(ok, "{err}");
    assert!(out.contains("\tactive\t"), "{out}");
    let (ok, out, _) = quan(&db, &["campaigns", "get", &id]);
    assert!(ok);
    assert!(out.contains("\"weekdays\""), "{out}");
    for (action, status) in [("pause", "paused"), ("resume", "active"), ("end", "ended")] {
        let (ok, out, err) = quan(&db, &["campaigns", action, &id]);
        assert!(ok, "{action}: {err}");
        assert!(out.contains(&format!("\t{status}\t")), "{out}");
    }
    let (ok, _, err) = quan(&db, &["campaigns", "resume", &id]);
    assert!(!ok, "an ended campaign stays ended");
    assert!(
        err.contains("invalid_state") || err.contains("cannot resume"),
        "{err}"
    );
    let (ok, out, _) = quan(&db, &["campaigns", "list"]);
    assert!(ok);
    assert!(out.contains("1 of 1"), "{out}");
}

/// `quan report campaign ID --html FILE`: one page, its charts inline, nothing loaded from
/// elsewhere; an unknown campaign is refused.
#[test]
fn a_campaigns_review_as_one_html_page() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/q.db", dir.path().display());
    let (ok, out, err) = quan(
        &db,
        &[
            "campaigns",
            "apply",
            &example("welcome-pack.json"),
            "--activate",
        ],
    );
    assert!(ok, "{err}");
    let id = out
        .lines()
        .find(|l| l.starts_with("cmp_"))
        .and_then(|l| l.split('\t').next())
        .expect("a campaign line")
        .to_string();
    let file = dir.path().join("review.html");
    let (ok, out, err) = quan(
        &db,
        &["report", "campaign", &id, "--html", file.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    assert!(out.contains(&id), "{out}");
    let html = std::fs::read_to_string(&file).unwrap();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(
        html.contains("Welcome pack") && html.contains("<svg"),
        "{html}"
    );
    assert!(
        html.contains("Funnel") && html.contains("Forecast against actual"),
        "{html}"
    );
    for outside in ["<script", " src=", " href=", "<link"] {
        assert!(!html.contains(outside), "{outside} in {html}");
    }
    let (ok, _, err) = quan(
        &db,
        &[
            "report",
            "campaign",
            "cmp_nope",
            "--html",
            file.to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("no such campaign"), "{err}");
}
