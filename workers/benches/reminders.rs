//! The reminder benchmark: one reminder run (`reminders::due`: the memberships ending within
//! the largest offset, read by the period-end index, and the domain's decision for each) over
//! `ROSTER_BENCH_MEMBERSHIPS` memberships (default 100,000) in `memberships_v1`, as a ratio to
//! a plain scan of the whole read model (every record read and decoded), measured side by side
//! in one process, alternating, median of `ROSTER_BENCH_ROUNDS` (default 7). The rows are
//! written straight into the read model (what a projection of as many memberships would leave:
//! active, period ends spread evenly over the next year), so the benchmark measures the run,
//! not the filling. Prints `RESULT …` lines.
//!
//! `cargo bench -p roster-workers --bench reminders`. Without `--bench` it runs 2,000 as a
//! smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use roster_app::clock::{SystemClock, V7Ids};
use roster_app::{Settings, open};
use roster_projections::read::{MembershipRecord, PriceRecord, ReadModels};
use roster_projections::rows::physical;
use roster_projections::{MEMBERSHIPS, projection};
use roster_sql::{Stmt, Val};
use uuid::Uuid;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::main]
async fn main() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let count = env_or(
        "ROSTER_BENCH_MEMBERSHIPS",
        if measuring { 100_000 } else { 2_000 },
    );
    let rounds = env_or("ROSTER_BENCH_ROUNDS", if measuring { 7 } else { 1 });
    let dir = tempfile::tempdir().unwrap();
    let roster = open(
        Settings::in_dir(dir.path()),
        Arc::new(SystemClock),
        Arc::new(V7Ids),
    )
    .await
    .unwrap();
    let models = ReadModels::open(&roster).await.unwrap();
    roster_projections::catalog::ensure(&roster.sql, &projection::all())
        .await
        .unwrap();

    let now = Utc::now();
    let table = physical(MEMBERSHIPS, 1);
    let insert = format!(
        "INSERT INTO {table} (membership_id, member_id, plan, status, period_end, record, position) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)"
    );
    let year = chrono::Duration::days(365);
    let filling = Instant::now();
    let numbers: Vec<usize> = (0..count).collect();
    for chunk in numbers.chunks(1000) {
        let stmts = chunk
            .iter()
            .map(|i| {
                let offset = year * i32::try_from(*i).unwrap() / i32::try_from(count).unwrap();
                let record = MembershipRecord {
                    membership_id: Uuid::now_v7(),
                    member_id: Uuid::now_v7(),
                    plan: "gold".into(),
                    status: "active".into(),
                    price: Some(PriceRecord {
                        currency: "EUR".into(),
                        amount: 1500,
                        interval: "year".into(),
                    }),
                    content_tags: vec!["courses".into()],
                    period_start: Some(now + offset - year),
                    period_end: Some(now + offset + chrono::Duration::minutes(1)),
                    cancels_at: None,
                    waitlist_position: None,
                    offer_expires_at: None,
                    reminded: None,
                    joined_at: Some(now + offset - year),
                    ended_at: None,
                    position: u64::try_from(*i).unwrap(),
                };
                Stmt::new(
                    insert.clone(),
                    vec![
                        Val::id(record.membership_id),
                        Val::id(record.member_id),
                        Val::text(record.plan.clone()),
                        Val::text(record.status.clone()),
                        Val::opt_time(record.period_end),
                        Val::text(serde_json::to_string(&record).unwrap()),
                        Val::int(record.position),
                    ],
                )
            })
            .collect();
        roster.sql.transaction(stmts).await.unwrap();
    }
    println!(
        "filled {count} memberships in {:.1} s",
        filling.elapsed().as_secs_f64()
    );

    let offsets = [7, 1];
    let (mut runs, mut scans) = (Vec::new(), Vec::new());
    let mut due = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let (_, found) = roster_workers::reminders::due(&models, &offsets, now)
            .await
            .unwrap();
        runs.push(started.elapsed());
        due = found.len();
        let started = Instant::now();
        let all = models.all_memberships().await.unwrap();
        scans.push(started.elapsed());
        assert_eq!(all.len(), count);
    }
    assert!(due > 0, "some memberships end within 7 days");
    let (run, scan) = (median(runs), median(scans));
    println!("RESULT memberships={count} due={due} rounds={rounds}");
    println!(
        "RESULT reminder_run_ms={:.2} plain_scan_ms={:.2} ratio={:.4}",
        run.as_secs_f64() * 1000.0,
        scan.as_secs_f64() * 1000.0,
        run.as_secs_f64() / scan.as_secs_f64()
    );
}
