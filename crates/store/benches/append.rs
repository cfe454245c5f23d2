//! Durable append throughput of the SQLite store against raw rusqlite under the same pragmas
//! (WAL, synchronous=FULL) and the same table.
//!
//! (a) one event per append: `SqliteStore::append` vs `BEGIN; INSERT; COMMIT` per event;
//! (b) 100 events per append vs 100 rows in one raw transaction;
//! (c) 32 concurrent submitters (tokio tasks, one stream each) vs 1 submitter, through the store.
//!
//! Both sides serialise the same events to JSON inside the timed part; the store also checks
//! the expected version of every append (`Exact(n)`), which the raw side does not.
//!
//! The disk's fsync rate drifts a lot on a shared machine, so the two sides of each comparison
//! run back to back in short runs, in alternating order, for many rounds on fresh files. The
//! report gives the median of each figure, and each ratio both as the ratio of the medians and
//! as the median of the per-round ratios (the paired figure, robust against drift).
//!
//! `cargo bench -p roster-store --bench append`; `ROSTER_BENCH_QUICK=1` for a smoke run;
//! `ROSTER_BENCH_DIR=/dev/shm` puts the files on tmpfs, where fsync is free, to measure the
//! store's software overhead alone.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_store::sqlite::SqliteStore;
use roster_store::{ActorRef, AppendRequest, EventLog, ExpectedVersion, Metadata, NewEvent};
use rusqlite::{Connection, params};
use tempfile::TempDir;
use uuid::Uuid;

struct Plan {
    rounds: usize,
    single_events: usize,
    batches: usize,
    concurrent_each: usize,
}

impl Plan {
    fn from_env() -> Self {
        if std::env::var("ROSTER_BENCH_QUICK").is_ok_and(|v| v == "1") {
            Plan {
                rounds: 3,
                single_events: 50,
                batches: 5,
                concurrent_each: 10,
            }
        } else {
            Plan {
                rounds: 12,
                single_events: 150,
                batches: 15,
                concurrent_each: 20,
            }
        }
    }
}

const BATCH: usize = 100;
/// Longest a single run goes on: on a slow disk a run stops early, and its rate counts what
/// it did, so the whole benchmark stays within about a minute.
const RUN_BUDGET: Duration = Duration::from_millis(500);
const SUBMITTERS: usize = 32;

fn event(n: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "MemberRegistered.v1".into(),
        payload: serde_json::json!({
            "member_id": Uuid::now_v7(),
            "n": n,
            "personal": { "sealed_v1": { "subject": Uuid::now_v7(), "data": "x".repeat(96) } },
        }),
        metadata: Metadata {
            actor: ActorRef::App("bench".into()),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            idempotency_key: None,
            recorded_at: chrono::Utc::now(),
        },
    }
}

fn bench_dir() -> TempDir {
    match std::env::var_os("ROSTER_BENCH_DIR") {
        Some(dir) => tempfile::tempdir_in(dir).unwrap(),
        None => tempfile::tempdir().unwrap(),
    }
}

/// Events per second of `count` events in `elapsed`.
fn rate(count: usize, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let mid = xs.len() / 2;
    if xs.len().is_multiple_of(2) {
        (xs[mid - 1] + xs[mid]) / 2.0
    } else {
        xs[mid]
    }
}

// ---------------------------------------------------------------- raw rusqlite baseline

fn raw_open(dir: &TempDir) -> Connection {
    let conn = Connection::open(dir.path().join("raw.db")).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    conn.pragma_update(None, "synchronous", "FULL").unwrap();
    conn.busy_timeout(Duration::from_secs(5)).unwrap();
    conn.execute_batch(include_str!("../migrations/sqlite/0001_event_store.sql"))
        .unwrap();
    conn
}

const RAW_INSERT: &str = "INSERT INTO events (event_id, stream, version, event_type, payload, metadata) \
                          VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

fn raw_insert(conn: &Connection, stream: &str, version: usize, e: &NewEvent) {
    let payload = serde_json::to_string(&e.payload).unwrap();
    let metadata = serde_json::to_string(&e.metadata).unwrap();
    conn.prepare_cached(RAW_INSERT)
        .unwrap()
        .execute(params![
            &e.event_id.as_bytes()[..],
            stream,
            version as i64,
            e.event_type,
            payload,
            metadata
        ])
        .unwrap();
}

/// One transaction per event.
fn raw_single(count: usize, keep: &mut Vec<TempDir>) -> f64 {
    let dir = bench_dir();
    let conn = raw_open(&dir);
    let events: Vec<NewEvent> = (0..=count).map(event).collect();
    // The first commit creates the WAL file; time only what follows.
    raw_insert(&conn, "member-raw", 0, &events[0]);
    let started = Instant::now();
    let mut done = 0;
    for (version, e) in events.iter().enumerate().skip(1) {
        conn.prepare_cached("BEGIN").unwrap().execute([]).unwrap();
        raw_insert(&conn, "member-raw", version, e);
        conn.prepare_cached("COMMIT").unwrap().execute([]).unwrap();
        done += 1;
        if started.elapsed() > RUN_BUDGET {
            break;
        }
    }
    let r = rate(done, started.elapsed());
    keep.push(dir);
    r
}

/// `BATCH` rows per transaction.
fn raw_batched(batches: usize, keep: &mut Vec<TempDir>) -> f64 {
    let dir = bench_dir();
    let conn = raw_open(&dir);
    let events: Vec<Vec<NewEvent>> = (0..batches)
        .map(|_| (0..BATCH).map(event).collect())
        .collect();
    raw_insert(&conn, "member-warm-up", 0, &event(0));
    let started = Instant::now();
    let mut done = 0;
    for (b, batch) in events.iter().enumerate() {
        conn.prepare_cached("BEGIN").unwrap().execute([]).unwrap();
        for (i, e) in batch.iter().enumerate() {
            raw_insert(&conn, "member-raw", b * BATCH + i, e);
        }
        conn.prepare_cached("COMMIT").unwrap().execute([]).unwrap();
        done += BATCH;
        if started.elapsed() > RUN_BUDGET {
            break;
        }
    }
    let r = rate(done, started.elapsed());
    keep.push(dir);
    r
}

// ---------------------------------------------------------------- the store

/// A store on a fresh file, its WAL file already created by a first append.
async fn store_open(keep: &mut Vec<TempDir>) -> Arc<SqliteStore> {
    let dir = bench_dir();
    let store = Arc::new(SqliteStore::open(dir.path().join("store.db")).unwrap());
    store_sequential(store.clone(), requests(1, 1)).await;
    keep.push(dir);
    store
}

/// `appends` requests of `per_append` events to one new stream, made before any timing starts.
fn requests(appends: usize, per_append: usize) -> Vec<AppendRequest> {
    let stream = format!("member-{}", Uuid::now_v7());
    (0..appends)
        .map(|i| {
            let expected = if i == 0 {
                ExpectedVersion::NoStream
            } else {
                ExpectedVersion::Exact((i * per_append - 1) as u64)
            };
            AppendRequest::new(&stream, expected, (0..per_append).map(event).collect())
        })
        .collect()
}

/// Appends the requests one after the other, until done or out of [`RUN_BUDGET`]; returns the
/// number of events appended.
async fn store_sequential(store: Arc<SqliteStore>, requests: Vec<AppendRequest>) -> usize {
    let started = Instant::now();
    let mut done = 0;
    for req in requests {
        done += req.events.len();
        store.append(req).await.unwrap();
        if started.elapsed() > RUN_BUDGET {
            break;
        }
    }
    done
}

async fn store_single(count: usize, keep: &mut Vec<TempDir>) -> f64 {
    let store = store_open(keep).await;
    let reqs = requests(count, 1);
    let started = Instant::now();
    let done = store_sequential(store, reqs).await;
    rate(done, started.elapsed())
}

async fn store_batched(batches: usize, keep: &mut Vec<TempDir>) -> f64 {
    let store = store_open(keep).await;
    let reqs = requests(batches, BATCH);
    let started = Instant::now();
    let done = store_sequential(store, reqs).await;
    rate(done, started.elapsed())
}

/// `submitters` tasks, each appending `each` single events to its own stream.
async fn store_concurrent(submitters: usize, each: usize, keep: &mut Vec<TempDir>) -> f64 {
    let store = store_open(keep).await;
    let work: Vec<Vec<AppendRequest>> = (0..submitters).map(|_| requests(each, 1)).collect();
    let started = Instant::now();
    let tasks: Vec<_> = work
        .into_iter()
        .map(|reqs| tokio::spawn(store_sequential(store.clone(), reqs)))
        .collect();
    let mut done = 0;
    for t in tasks {
        done += t.await.unwrap();
    }
    rate(done, started.elapsed())
}

// ---------------------------------------------------------------- report

/// One comparison: the figures of both sides, round by round.
#[derive(Default)]
struct Pair {
    a: Vec<f64>,
    b: Vec<f64>,
}

impl Pair {
    fn push(&mut self, (a, b): (f64, f64)) {
        self.a.push(a);
        self.b.push(b);
    }

    fn medians(&self) -> (f64, f64) {
        (median(self.a.clone()), median(self.b.clone()))
    }

    fn paired_ratio(&self) -> f64 {
        median(self.a.iter().zip(&self.b).map(|(a, b)| a / b).collect())
    }
}

fn main() {
    let plan = Plan::from_env();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Files are deleted only at the end: deleting (and discarding) them between runs would
    // slow the fsyncs of whichever run comes next.
    let kept = std::cell::RefCell::new(Vec::new());
    let keep = || kept.borrow_mut();
    let (mut single, mut batch, mut conc) = (Pair::default(), Pair::default(), Pair::default());
    let started = Instant::now();
    // Warm-up: page cache, thread pools, allocator.
    rt.block_on(store_single(20, &mut keep()));
    raw_single(20, &mut keep());
    for round in 1..=plan.rounds {
        // Alternate which side goes first, so that neither always follows the other.
        let flip = round.is_multiple_of(2);
        let both = |a: &mut dyn FnMut() -> f64, b: &mut dyn FnMut() -> f64| {
            if flip {
                let y = b();
                (a(), y)
            } else {
                let x = a();
                (x, b())
            }
        };
        single.push(both(
            &mut || rt.block_on(store_single(plan.single_events, &mut keep())),
            &mut || raw_single(plan.single_events, &mut keep()),
        ));
        batch.push(both(
            &mut || rt.block_on(store_batched(plan.batches, &mut keep())),
            &mut || raw_batched(plan.batches, &mut keep()),
        ));
        conc.push(both(
            &mut || {
                rt.block_on(store_concurrent(
                    SUBMITTERS,
                    plan.concurrent_each,
                    &mut keep(),
                ))
            },
            &mut || rt.block_on(store_concurrent(1, plan.single_events, &mut keep())),
        ));
        let last = |p: &Pair| (p.a[round - 1], p.b[round - 1]);
        let ((ss, rs), (sb, rb), (c, s)) = (last(&single), last(&batch), last(&conc));
        println!(
            "round {round:>2}: single store {ss:>6.0} raw {rs:>6.0} | batch store {sb:>6.0} raw {rb:>6.0} | \
             {SUBMITTERS} submitters {c:>6.0} 1 submitter {s:>6.0} events/s"
        );
    }
    report(&single, &batch, &conc, plan.rounds, started.elapsed());
}

fn report(single: &Pair, batch: &Pair, conc: &Pair, rounds: usize, took: Duration) {
    let line = |name: &str, p: &Pair, goal: f64| {
        let (a, b) = p.medians();
        let (of_medians, paired) = (a / b, p.paired_ratio());
        let met = if paired >= goal && of_medians >= goal {
            "met"
        } else {
            "NOT MET"
        };
        println!(
            "{name:<13} = {of_medians:>5.2} (median of per-round ratios {paired:>5.2})  goal >= {goal}: {met}"
        );
    };
    let (ss, rs) = single.medians();
    let (sb, rb) = batch.medians();
    let (c, s) = conc.medians();
    println!();
    println!(
        "== SQLite durable append (WAL, synchronous=FULL): medians of {rounds} rounds, {:.1} s ==",
        took.as_secs_f64()
    );
    println!("single event     store {ss:>8.0} ev/s   raw {rs:>8.0} ev/s");
    println!("100-event batch  store {sb:>8.0} ev/s   raw {rb:>8.0} ev/s");
    println!("{SUBMITTERS} submitters    store {c:>8.0} ev/s   1 submitter {s:>8.0} ev/s");
    line("single ratio", single, 0.8);
    line("batch ratio", batch, 0.7);
    line("32-vs-1 ratio", conc, 5.0);
}
