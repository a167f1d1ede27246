//! The SQLite writer: one thread owning the write connection, group commit with a savepoint
//! per job, the syncer thread that fsyncs the WAL before answering, and the checkpointer.

use std::sync::Arc;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::aggregate::claims::{decide_claims, write_claims};
use crate::records::*;
use crate::sql::Ctx;
use crate::sql::{run_here, Db};
use crate::{Result, StoreError};

// Every `LIMIT` binds its parameter as `0 + ?N`: SQLite (3.4x) reads a bare `LIMIT ?N` while
// planning, which marks the statement to be prepared again whenever that parameter is bound,
// that is on every execution of a cached statement.
const MAX_GROUP: usize = 1024;
/// While one commit is being fsynced, a group of this many claims commits at once, so the next
/// fsync finds it waiting instead of waiting for its commit (BENCHMARKS.md).
const EARLY_COMMIT: usize = 32;

pub(super) type Reply = Box<dyn FnOnce(Result<(), Arc<StoreError>>) + Send>;
pub(super) type Job = Box<dyn FnOnce(&mut Connection, &Ctx) -> (bool, Reply) + Send>;
type ClaimReply = oneshot::Sender<Result<ClaimOutcome>>;

/// What the writer thread takes: claims, which it decides per template in batches, any other
/// write as a closure, and the syncer's word that the disk is free for the next commit.
pub(super) enum Work {
    Claim(Box<ClaimCommand>, ClaimReply),
    Job(Job),
    /// The syncer made this many commits durable and answered them.
    Synced(usize),
}

pub(super) fn checkpoint_loop(conn: Connection, alive: std::sync::Weak<()>) {
    while alive.strong_count() > 0 {
        std::thread::sleep(std::time::Duration::from_millis(250));
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "sqlite checkpoint failed");
        }
    }
}

/// A committed group's answers and the commit's outcome, on their way to the syncer.
type Committed = (Vec<Reply>, Result<(), Arc<StoreError>>);

/// Fsyncs the WAL for every committed group that waits, then answers them all, then tells the
/// writer the disk is free (a weak sender: the store's own sender alone keeps the writer alive).
pub(super) fn sync_loop(
    wal_path: String,
    groups: std::sync::mpsc::Receiver<Committed>,
    writer: mpsc::WeakUnboundedSender<Work>,
) {
    let mut wal: Option<std::fs::File> = None;
    while let Ok(first) = groups.recv() {
        let mut batch = vec![first];
        batch.extend(groups.try_iter());
        let groups = batch.len();
        let synced = if batch.iter().any(|(_, commit)| commit.is_ok()) {
            let file = match wal.take() {
                Some(f) => Ok(f),
                None => std::fs::OpenOptions::new().read(true).open(&wal_path),
            };
            let started = std::time::Instant::now();
            let synced = file.and_then(|f| f.sync_data().map(|()| f));
            tracing::debug!(groups, fsync = ?started.elapsed(), "sqlite wal fsync");
            metrics::histogram!("quan_store_fsync_seconds", "backend" => "sqlite")
                .record(started.elapsed().as_secs_f64());
            match synced {
                Ok(f) => {
                    wal = Some(f);
                    Ok(())
                }
                Err(e) => {
                    tracing::error!(error = %e, "fsync of the SQLite WAL failed");
                    Err(Arc::new(StoreError::Corrupt(format!(
                        "fsync of the WAL failed: {e}"
                    ))))
                }
            }
        } else {
            Ok(())
        };
        for (replies, commit) in batch {
            let outcome = commit.and(synced.clone());
            for reply in replies {
                reply(outcome.clone());
            }
        }
        if let Some(writer) = writer.upgrade() {
            let _ = writer.send(Work::Synced(groups));
        }
    }
}

/// The writer's open transaction: what it holds so far, and whether a claim batch failed while
/// writing (then the whole transaction rolls back and every answer in it is that failure).
struct Group {
    replies: Vec<Reply>,
    claims: usize,
    poisoned: Option<Arc<StoreError>>,
}

pub(super) fn writer_loop(
    conn: &mut Connection,
    mut rx: mpsc::UnboundedReceiver<Work>,
    ctx: Arc<Ctx>,
    synced: std::sync::mpsc::Sender<Committed>,
) {
    let mut in_flight = 0usize;
    let mut waiting: Vec<Work> = Vec::with_capacity(MAX_GROUP);
    let mut closing = false;
    while !closing {
        let Some(first) = rx.blocking_recv() else {
            return;
        };
        if let Work::Synced(n) = first {
            in_flight -= n;
            continue;
        }
        waiting.push(first);
        let started = std::time::Instant::now();
        if let Err(e) = run_statement(conn, "BEGIN IMMEDIATE") {
            {
                tracing::error!(error = %e, "sqlite writer cannot begin a transaction");
                let e = Arc::new(e);
                let replies = waiting.drain(..).map(|w| refuse(w, &e)).collect();
                if synced.send((replies, Err(e))).is_err() {
                    return;
                }
                in_flight += 1;
                continue;
            }
        }
        let mut group = Group {
            replies: Vec::new(),
            claims: 0,
            poisoned: None,
        };
        loop {
            while waiting.len() < MAX_GROUP {
                match rx.try_recv() {
                    Ok(Work::Synced(n)) => in_flight -= n,
                    Ok(work) => waiting.push(work),
                    Err(_) => break,
                }
            }
            run_group(conn, &ctx, &mut waiting, &mut group);
            if in_flight == 0
                || (in_flight == 1 && group.claims >= EARLY_COMMIT)
                || group.poisoned.is_some()
                || group.claims >= MAX_GROUP
            {
                break;
            }
            // The disk is busy with the last commit: add what arrives meanwhile, until the
            // syncer reports it free (or the group is big enough to wait ready behind it).
            match rx.blocking_recv() {
                Some(Work::Synced(n)) => in_flight -= n,
                Some(work) => waiting.push(work),
                None => {
                    closing = true;
                    break;
                }
            }
        }
        let decided = started.elapsed();
        let commit = match group.poisoned {
            Some(e) => {
                if let Err(undo) = run_statement(conn, "ROLLBACK") {
                    tracing::error!(error = %undo, "sqlite rollback failed");
                }
                Err(e)
            }
            None => run_statement(conn, "COMMIT").map_err(|e| {
                let _ = run_statement(conn, "ROLLBACK");
                Arc::new(e)
            }),
        };
        in_flight += 1;
        let size = group.replies.len();
        tracing::debug!(size, claims = group.claims, ?decided, total = ?started.elapsed(), "sqlite group commit");
        if group.claims > 0 {
            metrics::histogram!("quan_store_claim_group_size", "backend" => "sqlite")
                .record(group.claims as f64);
        }
        if let Err(e) = &commit {
            tracing::error!(error = %e, "sqlite group commit failed");
        }
        if synced.send((group.replies, commit)).is_err() {
            tracing::error!("the SQLite syncer has stopped");
            return;
        }
    }
}

/// Runs the waiting work in the open transaction: claims grouped by template, each group one
/// batch without a savepoint (a batch reads and decides before it writes, and a failure while
/// writing poisons the whole transaction), then every other job in its own savepoint.
fn run_group(tx: &mut Connection, ctx: &Ctx, waiting: &mut Vec<Work>, group: &mut Group) {
    let mut claims: Vec<(String, Vec<ClaimCommand>, Vec<ClaimReply>)> = Vec::new();
    let mut jobs = Vec::new();
    for work in waiting.drain(..) {
        match work {
            Work::Claim(cmd, reply) => {
                match claims.iter_mut().find(|(t, _, _)| *t == cmd.template_id) {
                    Some((_, cmds, replies)) => {
                        cmds.push(*cmd);
                        replies.push(reply);
                    }
                    None => claims.push((cmd.template_id.clone(), vec![*cmd], vec![reply])),
                }
            }
            Work::Job(job) => jobs.push(job),
            Work::Synced(_) => {}
        }
    }
    for (_, cmds, senders) in claims {
        group.claims += cmds.len();
        if let Some(e) = &group.poisoned {
            let e = e.clone();
            group.replies.push(Box::new(move |_| {
                answer_claims(senders, Ok(Vec::new()), Err(e))
            }));
            continue;
        }
        let outcome = match claim_batch(tx, ctx, &cmds) {
            Ok(decided) => decided,
            Err(e) => {
                tracing::error!(error = %e, "writing a claim batch failed; the group rolls back");
                group.poisoned = Some(Arc::new(e));
                Ok(Vec::new())
            }
        };
        group.replies.push(Box::new(move |commit| {
            answer_claims(senders, outcome, commit)
        }));
    }
    for job in jobs {
        if let Err(e) = run_statement(tx, "SAVEPOINT job") {
            group.poisoned.get_or_insert_with(|| Arc::new(e));
        }
        if group.poisoned.is_some() {
            group.replies.push(Box::new(move |_| drop(job)));
            continue;
        }
        let (ok, reply) = job(tx, ctx);
        let undone = if ok {
            Ok(())
        } else {
            run_statement(tx, "ROLLBACK TO job")
        };
        if let Err(e) = undone.and_then(|()| run_statement(tx, "RELEASE job")) {
            group.poisoned.get_or_insert_with(|| Arc::new(e));
        }
        group.replies.push(reply);
    }
}

/// Decides and writes a batch of claims of one template inside the writer's transaction,
/// without a savepoint: deciding only reads, so the inner result (the decision, or the error
/// that refused it) has written nothing; the outer error is a failure while writing, after
/// which the transaction must be rolled back. (A savepoint per batch made SQLite copy every
/// page the group had already changed into its sub-journal.)
pub(super) fn claim_batch(
    conn: &mut Connection,
    ctx: &Ctx,
    cmds: &[ClaimCommand],
) -> Result<Result<Vec<ClaimOutcome>>> {
    let mut db = Db::Sqlite(conn);
    let decided = match run_here(decide_claims(&mut db, ctx, cmds)) {
        Ok(Some(decided)) => decided,
        Ok(None) => return Ok(Ok(cmds.iter().map(|_| ClaimOutcome::NotFound).collect())),
        Err(refused) => return Ok(Err(refused)),
    };
    run_here(write_claims(&mut db, &decided))?;
    Ok(Ok(decided.plan.outcomes))
}

/// Runs one cached statement without parameters (transaction and savepoint control).
fn run_statement(tx: &Connection, sql: &str) -> Result<()> {
    tx.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// The answer to a piece of work the writer could not start. A job's answer travels inside
/// it: dropped unrun, its caller hears that the writer could not take it.
fn refuse(work: Work, e: &Arc<StoreError>) -> Reply {
    match work {
        Work::Claim(_, sender) => {
            let e = e.clone();
            Box::new(move |_| {
                let _ = sender.send(Err(StoreError::Corrupt(format!("write failed: {e}"))));
            })
        }
        Work::Job(job) => Box::new(move |_| drop(job)),
        Work::Synced(_) => Box::new(|_| {}),
    }
}

fn answer_claims(
    senders: Vec<ClaimReply>,
    outcome: Result<Vec<ClaimOutcome>>,
    commit: Result<(), Arc<StoreError>>,
) {
    match (outcome, commit) {
        (Ok(outcomes), Ok(())) => {
            for (sender, outcome) in senders.into_iter().zip(outcomes) {
                let _ = sender.send(Ok(outcome));
            }
        }
        (Err(e), _) => {
            let message = e.to_string();
            for sender in senders {
                let _ = sender.send(Err(StoreError::Corrupt(format!(
                    "claim batch failed: {message}"
                ))));
            }
        }
        (Ok(_), Err(e)) => {
            for sender in senders {
                let _ = sender.send(Err(StoreError::Corrupt(format!("commit failed: {e}"))));
            }
        }
    }
}
