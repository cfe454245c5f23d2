//! Keeping the reactor and the job workers alive. In apalis 1.0 one failed fetch, heartbeat or
//! acknowledgement (the database restarted, a busy SQLite file) ends a worker; a reactor ends
//! when it cannot read its checkpoint. Each runs in a loop here that starts it again after a
//! growing pause, and [`Health`] says which are running, for readiness.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apalis::layers::catch_panic::CatchPanicLayer;
use apalis::prelude::{WorkerBuilder, WorkerBuilderExt};
use apalis_core::backend::ext::BackendExt;
use apalis_core::error::AbortError;
use apalis_core::task::data::Data;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::job::{Job, JobResult, Run};
use crate::jobs::Context;
use crate::queue::Apalis;
use crate::reactor::ReactorRunner;

/// First pause before a restart; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Which supervised parts are running, and why the others are not.
#[derive(Clone, Default)]
pub struct Health {
    parts: Arc<Mutex<BTreeMap<String, PartHealth>>>,
    /// Woken on every change, for [`Health::wait_until`].
    changed: Arc<tokio::sync::Notify>,
}

/// One part's state, for `/health/ready`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartHealth {
    pub name: String,
    /// Why it is not running (waiting to be restarted), if it is not.
    pub failure: Option<String>,
    /// How often it has failed and been started again.
    pub restarts: u32,
}

impl Health {
    pub(crate) fn running(&self, name: &str) {
        self.update(name, |part| part.failure = None);
    }

    pub(crate) fn failed(&self, name: &str, why: String) {
        self.update(name, |part| {
            part.failure = Some(why);
            part.restarts += 1;
        });
    }

    fn update(&self, name: &str, change: impl FnOnce(&mut PartHealth)) {
        let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        let part = parts.entry(name.to_owned()).or_insert_with(|| PartHealth {
            name: name.to_owned(),
            failure: None,
            restarts: 0,
        });
        change(part);
        drop(parts);
        self.changed.notify_waiters();
    }

    /// Waits until `done` holds for the parts, at most `within`; answers whether it did. A
    /// restart follows a pause on the runtime's clock (the supervisor's back-off), which only
    /// passing time ends: this wakes on each change rather than polling.
    pub async fn wait_until(&self, within: Duration, done: impl Fn(&[PartHealth]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if done(&self.parts()) {
                return true;
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return done(&self.parts());
            }
        }
    }

    /// Every part, by name.
    pub fn parts(&self) -> Vec<PartHealth> {
        let parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        parts.values().cloned().collect()
    }
}

/// Runs one apalis worker of `$backend` (either storage: their types differ, so this is a
/// macro rather than a function with apalis's long bounds) until `$stop` turns true.
macro_rules! run_worker {
    ($backend:expr, $job:ty, $ctx:expr, $name:expr, $stop:expr) => {{
        let mut signal = $stop.clone();
        WorkerBuilder::new($name)
            .backend($backend.poll_with_interval($ctx.config.poll_interval))
            .layer(CatchPanicLayer::with_panic_handler(on_panic))
            .concurrency($ctx.config.concurrency)
            .data($ctx.clone())
            .build(handle::<$job>)
            .run_until(async move {
                let _ = signal.wait_for(|stop| *stop).await;
                Ok::<(), std::io::Error>(())
            })
            .await
            .map_err(|e| e.to_string())
    }};
}

/// The apalis handler of job type `J`.
async fn handle<J: Job>(job: J, run: Run, ctx: Data<Context>) -> JobResult {
    crate::jobs::run(job, run, (*ctx).clone()).await
}

/// Spawns the supervisor of `J`'s worker. The worker runs until told to stop; when it ends
/// with an error it is built again (under a new name, so apalis sees a new worker) after a
/// growing pause.
pub(crate) fn worker<J: Job>(
    ctx: Context,
    mut stop: watch::Receiver<bool>,
    health: Health,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut restarts = 0u32;
        loop {
            let name = worker_name(J::QUEUE, restarts);
            health.running(J::QUEUE);
            let ran = match ctx.queues.apalis().clone() {
                Apalis::Sqlite { pool, liveness } => {
                    let backend = Apalis::sqlite_storage::<J>(&pool, liveness, J::QUEUE);
                    run_worker!(backend, J, ctx, name, stop)
                }
                Apalis::Postgres { pool, liveness, .. } => {
                    let queue = ctx.queues.queue_name(J::QUEUE);
                    let backend = Apalis::postgres_storage::<J>(&pool, liveness, &queue);
                    run_worker!(backend, J, ctx, name, stop)
                }
            };
            if *stop.borrow() {
                return;
            }
            restarts += 1;
            let why = ran
                .err()
                .unwrap_or_else(|| "the worker stopped by itself".to_owned());
            tracing::error!(queue = J::QUEUE, error = %why, restarts, "a job worker failed; restarting");
            health.failed(J::QUEUE, why);
            if pause(&mut stop, backoff(restarts)).await {
                return;
            }
        }
    })
}

/// Spawns the supervisor of a reactor: runs it, starting it again after a pause whenever it
/// fails, until told to stop. Its health is `reactor:<name>`.
pub(crate) fn reactor(
    runner: ReactorRunner,
    mut stop: watch::Receiver<bool>,
    health: Health,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let name = format!("reactor:{}", runner.reactor.name());
        let mut restarts = 0;
        loop {
            health.running(&name);
            match runner.run(stop.clone()).await {
                Ok(()) => return,
                Err(e) => {
                    restarts += 1;
                    tracing::error!(reactor = %name, error = %e, restarts, "the reactor failed; restarting");
                    health.failed(&name, e.to_string());
                    if pause(&mut stop, backoff(restarts)).await {
                        return;
                    }
                }
            }
        }
    })
}

/// A handler that panics fails its job for good (a bug will not fix itself on a retry); the
/// worker goes on.
fn on_panic(panic: &Box<dyn std::any::Any + Send>) -> AbortError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a job handler panicked".to_owned());
    tracing::error!(panic = %message, "a job handler panicked");
    AbortError::new(message)
}

/// A name no other worker has: apalis keys liveness and job locks by it.
fn worker_name(queue: &str, restarts: u32) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    let nonce = uuid::Uuid::now_v7().simple().to_string();
    format!(
        "{queue}@{host}:{}:{}:r{restarts}",
        std::process::id(),
        &nonce[20..]
    )
}

/// The pause before restart number `restarts` (1-based).
pub(crate) fn backoff(restarts: u32) -> Duration {
    let doubled = FIRST_BACKOFF.saturating_mul(2u32.saturating_pow(restarts.saturating_sub(1)));
    doubled.min(MAX_BACKOFF)
}

/// Waits `wait`; `true` if told to stop meanwhile.
pub(crate) async fn pause(stop: &mut watch::Receiver<bool>, wait: Duration) -> bool {
    tokio::select! {
        _ = stop.wait_for(|stop| *stop) => true,
        () = tokio::time::sleep(wait) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restarts_back_off_up_to_half_a_minute() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(4), Duration::from_secs(4));
        assert_eq!(backoff(20), MAX_BACKOFF);
    }
}
