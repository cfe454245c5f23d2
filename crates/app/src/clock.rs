//! Time and new ids are inputs: production uses the system clock, tests a clock they control.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use uuid::{ContextV7, Timestamp, Uuid};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self(Mutex::new(start))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }

    pub fn set(&self, to: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Makes new ids. UUIDv7 carries its creation time, taken from the injected clock so that ids
/// and event times agree in tests too.
pub trait IdGen: Send + Sync + 'static {
    fn new_id(&self, now: DateTime<Utc>) -> Uuid;
}

/// Random UUIDv7 ids (time-ordered, never reused). Ids made in one process are strictly
/// increasing even within one millisecond (or under a clock a test holds still): a counter in
/// the random bits keeps their order, so lists sorted by id are in creation order.
#[derive(Debug, Default, Clone, Copy)]
pub struct V7Ids;

static V7_CONTEXT: Mutex<ContextV7> = Mutex::new(ContextV7::new());

impl IdGen for V7Ids {
    fn new_id(&self, now: DateTime<Utc>) -> Uuid {
        let secs = u64::try_from(now.timestamp()).unwrap_or(0);
        let ts = Timestamp::from_unix(&V7_CONTEXT, secs, now.timestamp_subsec_nanos());
        Uuid::new_v7(ts)
    }
}
