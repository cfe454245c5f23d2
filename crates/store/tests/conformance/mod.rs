//! The conformance suite: every case is written once, generic over a store [`Fixture`], and
//! [`conformance_suite!`] turns the list of cases into one `#[tokio::test]` per case for a
//! backend (`tests/sqlite.rs`, `tests/postgres.rs`).

// The cases are test code called from `#[tokio::test]` functions: a failed expectation should
// stop the test with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Each backend's test crate compiles the whole suite and runs the cases that apply to it (the
// SQL logs never mark positions sparse; KurrentDB has no case that needs an id index).
#![allow(dead_code)]

pub mod append;
pub mod claims;
pub mod concurrency;
pub mod crashes;
pub mod keys;
pub mod subscribe;

use std::any::Any;
use std::time::Duration;

use futures::future::BoxFuture;
use roster_store::{
    ActorRef, AppendOutcome, AppendRequest, DynClaims, DynKeys, DynLog, ExpectedVersion, LogParts,
    Metadata, NewEvent, RecordedEvent,
};
use uuid::Uuid;

/// A fresh, empty store, and the way to open another handle on the same data.
pub struct Fixture {
    pub store: DynLog,
    /// The claim index and the data keys beside the log.
    pub claims: DynClaims,
    pub keys: DynKeys,
    /// Opens a NEW store (new connections, new writer) on the same file or schema, as a
    /// restarted or second process would.
    pub reopen: Box<dyn Fn() -> BoxFuture<'static, DynLog> + Send + Sync>,
    /// Keeps temporary files alive for as long as the fixture.
    pub guard: Box<dyn Any + Send + Sync>,
    /// Whether global positions are 1, 2, 3, … (the SQL logs; KurrentDB's are byte offsets).
    /// Cases check positions by their order and by what the log returned, and, where this
    /// holds, that they are exactly dense.
    pub dense_positions: bool,
}

impl Fixture {
    /// The seams of a freshly opened store, how to reopen its log, and what keeps it alive.
    pub fn new(
        parts: LogParts,
        reopen: impl Fn() -> BoxFuture<'static, DynLog> + Send + Sync + 'static,
        guard: impl Any + Send + Sync,
    ) -> Self {
        Self {
            store: parts.log,
            claims: parts.claims,
            keys: parts.keys,
            reopen: Box::new(reopen),
            guard: Box::new(guard),
            dense_positions: true,
        }
    }

    /// For a log whose positions are ordered but not dense.
    pub fn with_sparse_positions(mut self) -> Self {
        self.dense_positions = false;
        self
    }
}

/// One `#[tokio::test]` per conformance case, each on a fresh store from `$fixture()`.
#[macro_export]
macro_rules! conformance_suite {
    // A log in a SQL database: every case.
    ($fixture:path) => {
        $crate::conformance_suite!($fixture, without_id_index, #[cfg(all())]);
        $crate::conformance_suite!(@cases $fixture, cfg(all());
            append::event_ids_from_another_stream_are_duplicates,
            append::a_taken_id_after_a_new_one_is_a_duplicate,
            concurrency::failing_requests_in_a_batch_leave_the_others_written,
        );
    };
    // A log with no index of event ids across a stream's history and across streams
    // (KurrentDB checks an append's ids only against the revisions after the one it expected):
    // every case but the three that need one. `#[$attr]` goes on every case: the KurrentDB
    // suite marks its cases ignored unless the build saw a server's address (no server runs in
    // CI; an ignored case says so in the test output, where a case that returned early would
    // pass without having run).
    ($fixture:path, without_id_index, #[$attr:meta]) => {
        $crate::conformance_suite!(@cases $fixture, $attr;
            append::appends_and_reads_back_a_stream_and_the_global_log,
            append::an_empty_log_has_head_zero_and_reads_nothing,
            append::lag_counts_the_events_after_a_position_and_dates_the_oldest,
            append::expected_version_any_no_stream_and_exact_are_enforced,
            append::a_conflict_reports_the_expected_and_the_actual_version,
            append::a_retried_append_writes_nothing_and_returns_the_first_outcome,
            append::a_retry_is_recognised_even_when_the_stream_has_moved_on,
            append::a_partial_duplicate_is_rejected_and_writes_nothing,
            append::the_same_event_id_twice_in_one_append_is_a_duplicate,
            append::read_all_pages_through_the_log_with_a_limit,
            append::read_stream_starts_at_a_version_and_honours_the_limit,
            append::appended_events_survive_reopening_the_store,
            claims::fifty_concurrent_claims_of_one_key_have_exactly_one_winner,
            claims::a_taken_claim_rejects_the_whole_append,
            claims::the_owner_may_claim_its_own_key_again,
            claims::a_released_key_can_be_claimed_by_another_owner,
            claims::releasing_someone_elses_claim_does_nothing,
            claims::an_append_of_claims_alone_is_allowed,
            claims::claim_owner_names_the_holder_until_the_claim_is_released,
            keys::a_data_key_is_created_once_and_then_returned,
            keys::get_many_reports_live_destroyed_and_missing_keys,
            keys::a_destroyed_key_is_never_recreated,
            keys::destroying_a_subject_without_a_key_leaves_a_tombstone,
            concurrency::concurrent_appenders_and_racers_commit_exactly_once_per_version,
            concurrency::a_subscriber_sees_every_position_once_while_appenders_race,
            subscribe::subscribe_catches_up_and_then_follows_live_appends,
            subscribe::subscribe_from_a_position_skips_what_came_before,
            subscribe::changes_carry_the_new_head,
            subscribe::appends_through_another_handle_reach_subscribers,
            subscribe::changes_carry_appends_made_through_another_handle,
        );
    };
    (@cases $fixture:path, $attr:meta; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[$attr]
            async fn $case() {
                conformance::$module::$case($fixture().await).await;
            }
        )*
    };
}

/// An event with a fresh UUIDv7 and a small payload that says which one it is.
pub fn event(event_type: &str, n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: event_type.to_owned(),
        payload: serde_json::json!({ "n": n, "nested": { "list": [1, 2, 3], "text": "ünïcødé" } }),
        metadata: Metadata {
            actor: ActorRef::System,
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            idempotency_key: Some(format!("key-{n}")),
            recorded_at: chrono::Utc::now(),
        },
    }
}

pub fn events(event_type: &str, count: u64) -> Vec<NewEvent> {
    (0..count).map(|n| event(event_type, n)).collect()
}

pub fn stream_name(prefix: &str) -> String {
    format!("{prefix}-{}", Uuid::now_v7())
}

/// Appends and fails the test on any error.
pub async fn append_ok(
    store: &DynLog,
    stream: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> AppendOutcome {
    store
        .append(AppendRequest::new(stream, expected, events))
        .await
        .unwrap_or_else(|e| panic!("append to {stream} failed: {e}"))
}

/// The whole log, read in pages.
pub async fn read_everything(store: &DynLog) -> Vec<RecordedEvent> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map_or(0, |e: &RecordedEvent| e.position);
        let page = store.read_all(after, 1000).await.unwrap();
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// The positions of the whole log, checked to increase strictly and, on a dense log, to be
/// 1, 2, 3, ….
pub async fn positions(fx: &Fixture) -> Vec<u64> {
    let all: Vec<u64> = read_everything(&fx.store)
        .await
        .iter()
        .map(|e| e.position)
        .collect();
    assert!(
        all.windows(2).all(|w| w[0] < w[1]),
        "positions strictly increase: {all:?}"
    );
    if fx.dense_positions {
        assert_eq!(all, (1..=all.len() as u64).collect::<Vec<_>>(), "dense");
    }
    all
}

/// Fails the test if `fut` takes longer than `secs`.
pub async fn within<T>(secs: u64, what: &str, fut: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(secs), fut)
        .await
        .unwrap_or_else(|_| panic!("timed out after {secs} s waiting for {what}"))
}
