//! The in-process side of the API benchmark (`scripts/bench-api`): registrations through the
//! use case the HTTP handler calls (`Members::register`: decide, seal, durable append with the
//! email claim and the first verification token with its claim) at a given concurrency, on a
//! fresh SQLite data dir opened with `roster_app::open`, with no HTTP in between. Prints one
//! `RESULT inprocess_register_per_s=<rate>` line for the script.
//!
//! `ROSTER_BENCH_REQUESTS` (default 3000), `ROSTER_BENCH_CONCURRENCY` (default 32),
//! `ROSTER_BENCH_DIR` (default: the system temp dir). Under `cargo test` it runs 50 as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use roster_app::clock::{SystemClock, V7Ids};
use roster_app::members::Registration;
use roster_app::{CommandMeta, Settings};
use roster_store::ActorRef;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this as a smoke test.
    let measuring = std::env::args().any(|a| a == "--bench");
    let requests = env_or("ROSTER_BENCH_REQUESTS", if measuring { 3000 } else { 50 });
    let concurrency = env_or("ROSTER_BENCH_CONCURRENCY", 32);
    let dir = match std::env::var_os("ROSTER_BENCH_DIR") {
        Some(base) => tempfile::tempdir_in(base).unwrap(),
        None => tempfile::tempdir().unwrap(),
    };
    let settings = Settings::in_dir(dir.path());
    let roster = roster_app::open(settings, Arc::new(SystemClock), Arc::new(V7Ids))
        .await
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (roster, next) = (roster.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return;
                }
                let form = Registration {
                    email: format!("bench{i}@example.com"),
                    name: "Bench".into(),
                    ..Registration::default()
                };
                let meta = CommandMeta::new(ActorRef::App("bench".into()));
                roster.members.register(form, &meta).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rate = requests as f64 / elapsed;
    println!("in-process register: {requests} in {elapsed:.2} s at concurrency {concurrency}");
    println!("RESULT inprocess_register_per_s={rate:.1}");
}
