//! The in-process side of the API benchmark (`scripts/bench-api`): registrations through
//! `CommandHandler::execute` (decide, seal, durable append with the email claim and the first
//! verification token with its claim, as the HTTP handler does) at a given
//! concurrency, on a fresh SQLite data dir, with no HTTP in between. Prints one
//! `RESULT inprocess_register_per_s=<rate>` line for the script.
//!
//! `ROSTER_BENCH_REQUESTS` (default 3000), `ROSTER_BENCH_CONCURRENCY` (default 32),
//! `ROSTER_BENCH_DIR` (default: the system temp dir). Under `cargo test` it runs 50 as a smoke test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use roster_app::verification::{DEFAULT_TOKEN_TTL, Verification};
use roster_app::{CommandMeta, Runtime, StorageConfig};
use roster_domain::member::RegisterMember;
use roster_domain::{Member, MemberCommand};
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
    let config = StorageConfig {
        data_dir: dir.path().to_path_buf(),
        database_url: None,
        master_key: None,
    };
    let runtime = Runtime::open(&config).await.unwrap();
    let verification = Verification::new(
        runtime.vault.clone(),
        runtime.store.clone(),
        DEFAULT_TOKEN_TTL,
    );
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (runtime, next, verification) = (runtime.clone(), next.clone(), verification.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= requests {
                    return;
                }
                let member_id = runtime.commands.new_id();
                let command = MemberCommand::Register(RegisterMember {
                    member_id,
                    email: format!("bench{i}@example.com"),
                    name: "Bench".into(),
                    fields: BTreeMap::new(),
                    company: None,
                    location: None,
                    verification: Some(verification.ticket(member_id)),
                });
                let meta = CommandMeta::new(ActorRef::App("bench".into()));
                runtime
                    .commands
                    .execute::<Member>(member_id, &command, &meta)
                    .await
                    .unwrap();
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
