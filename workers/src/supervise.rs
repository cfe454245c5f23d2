//! Keeping the reactor and the job workers alive. In apalis 1.0 one failed fetch, heartbeat or
//! acknowledgement (the database restarted, a busy SQLite file) ends a worker; a reactor ends
//! when it cannot read its checkpoint. Each runs in a loop here that starts it again after a
//! growing pause, and [`Health`] says which are running, for readiness.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

/// First pause before a restart; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Which supervised parts are running, and why the others are not.
#[derive(Clone, Default)]
pub struct Health {
    parts: Arc<Mutex<BTreeMap<String, PartHealth>>>,
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
    }

    /// Every part, by name.
    pub fn parts(&self) -> Vec<PartHealth> {
        let parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
        parts.values().cloned().collect()
    }
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
