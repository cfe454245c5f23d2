//! Crashes injected between the steps of the claims protocol of `ClaimingLog` (the claims of
//! a log that shares no transaction with the SQL side): a crash after the append, a crash
//! before it, a refused handover. Each case gets a [`Split`]: a `ClaimingLog` over some log,
//! its claims' database, and the way to restart both as a new process would.

use std::any::Any;

use futures::future::BoxFuture;
use roster_sql::Db;
use roster_store::claiming::ClaimingLog;
use roster_store::{AppendError, AppendRequest, ClaimIndex, DynLog, EventLog, ExpectedVersion};

use super::claims::{claim, register, release};

/// A `ClaimingLog` over a log, with its claims in `db`.
pub struct Split {
    pub log: ClaimingLog,
    /// The claims' database (where a crash leaves rows behind).
    pub db: Db,
    reopen: Box<dyn Fn() -> BoxFuture<'static, DynLog> + Send + Sync>,
    _guard: Box<dyn Any + Send + Sync>,
}

impl Split {
    /// The claiming log over `inner` with its claims in `db`; `reopen` opens the same log
    /// again (new connections), `guard` keeps temporary files alive.
    pub async fn open(
        inner: DynLog,
        db: Db,
        reopen: impl Fn() -> BoxFuture<'static, DynLog> + Send + Sync + 'static,
        guard: impl Any + Send + Sync,
    ) -> Self {
        let log = ClaimingLog::open(inner, db.clone(), grace()).await.unwrap();
        Self {
            log,
            db,
            reopen: Box::new(reopen),
            _guard: Box::new(guard),
        }
    }

    /// A restarted process: a new handle on the log, recovery run on opening.
    pub async fn restart(&self, grace: chrono::Duration) -> ClaimingLog {
        let inner = (self.reopen)().await;
        ClaimingLog::open(inner, self.db.clone(), grace)
            .await
            .unwrap()
    }
}

/// Long enough that a case never sees a pending row expire unless it says so.
pub fn grace() -> chrono::Duration {
    chrono::Duration::minutes(10)
}

pub async fn a_crash_after_the_append_keeps_the_claim_and_recovery_confirms_it(split: Split) {
    split.log.crash_after_next_append();
    let crashed = split
        .log
        .append(register(
            "member-ann",
            vec![claim("ann@example.com", "ann")],
        ))
        .await;
    assert!(
        matches!(crashed, Err(AppendError::Backend(_))),
        "{crashed:?}"
    );
    // The event is in the log; the claim is pending, and counts as held already.
    assert_eq!(
        split
            .log
            .read_stream("member-ann", 0, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    let owner = split.log.claim_owner("email", "ann@example.com").await;
    assert_eq!(owner.unwrap().as_deref(), Some("ann"));
    // Another owner is refused: the pending row is settled from the log, the claim stands.
    let other = split
        .log
        .append(register(
            "member-eve",
            vec![claim("ann@example.com", "eve")],
        ))
        .await;
    assert!(matches!(other, Err(AppendError::Claimed { ref owner, .. }) if owner == "ann"));
    // A restarted process finds it confirmed, and its owner may claim it again.
    let restarted = split.restart(grace()).await;
    let again = restarted
        .append(
            AppendRequest::new("member-ann", ExpectedVersion::Exact(0), Vec::new())
                .with_claims(vec![claim("ann@example.com", "ann")]),
        )
        .await;
    assert!(again.is_ok(), "{again:?}");
}

pub async fn a_crash_before_the_append_holds_the_value_until_the_grace_period_then_frees_it(
    split: Split,
) {
    // Reserve through a failing append: the stream exists already, so the log refuses it
    // (a certain "no"), which undoes the reservation at once.
    let existing = "member-taken";
    split
        .log
        .append(AppendRequest::new(
            existing,
            ExpectedVersion::NoStream,
            vec![super::event("MemberRegistered.v1", 0)],
        ))
        .await
        .unwrap();
    let refused = split
        .log
        .append(register(existing, vec![claim("bob@example.com", "bob")]))
        .await;
    assert!(
        matches!(refused, Err(AppendError::WrongExpectedVersion { .. })),
        "{refused:?}"
    );
    assert_eq!(
        split
            .log
            .claim_owner("email", "bob@example.com")
            .await
            .unwrap(),
        None,
        "a refused append leaves no claim"
    );

    // A pending row whose append never happened, as a crash leaves it.
    let db = &split.db;
    let old = chrono::Utc::now().timestamp_millis() - 60_000;
    db.execute(
        "INSERT INTO split_claims \
         (scope, claim_key, owner, state, stream, version, event_id, created_at) \
         VALUES ('email', 'cat@example.com', 'cat', 'claiming', 'member-cat', 0, $1, $2)",
        vec![
            roster_sql::Val::id(uuid::Uuid::now_v7()),
            roster_sql::Val::Int(old),
        ],
    )
    .await
    .unwrap();
    // Within the grace period the value stays held: never two owners.
    let restarted = split.restart(grace()).await;
    let early = restarted
        .append(register(
            "member-dan",
            vec![claim("cat@example.com", "dan")],
        ))
        .await;
    assert!(
        matches!(early, Err(AppendError::Claimed { .. })),
        "{early:?}"
    );
    // Past it, recovery drops the reservation (its event is not in the log) and frees it.
    let restarted = split.restart(chrono::Duration::seconds(30)).await;
    assert_eq!(
        restarted
            .claim_owner("email", "cat@example.com")
            .await
            .unwrap(),
        None
    );
    restarted
        .append(register(
            "member-dan",
            vec![claim("cat@example.com", "dan")],
        ))
        .await
        .unwrap();
}

pub async fn a_handover_whose_append_is_refused_gives_the_value_back(split: Split) {
    split
        .log
        .append(register(
            "member-old",
            vec![claim("pat@example.com", "old")],
        ))
        .await
        .unwrap();
    // One append releases the old owner's value and claims it for a new one, but the log
    // refuses it (the stream has moved on): the old owner keeps the value.
    let handover = AppendRequest::new(
        "member-old",
        ExpectedVersion::NoStream,
        vec![super::event("MemberEmailChanged.v1", 1)],
    )
    .with_claims(vec![
        release("pat@example.com", "old"),
        claim("pat@example.com", "new"),
    ]);
    let refused = split.log.append(handover).await;
    assert!(
        matches!(refused, Err(AppendError::WrongExpectedVersion { .. })),
        "{refused:?}"
    );
    let owner = split.log.claim_owner("email", "pat@example.com").await;
    assert_eq!(owner.unwrap().as_deref(), Some("old"));
}
