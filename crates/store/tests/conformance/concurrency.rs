//! Group commit under concurrency, and gap-safety: a subscriber running beside racing
//! appenders sees every position exactly once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use roster_store::subscription::subscribe;
use roster_store::{AppendError, AppendRequest, DynLog, ExpectedVersion};
use tokio::sync::watch;

use super::{Fixture, append_ok, event, events, positions, read_everything, stream_name, within};

const APPENDERS: u64 = 32;
const APPENDS_EACH: u64 = 10;
const RACERS: u64 = 20;
const ROUNDS: u64 = 10;

fn expected_before(version: u64) -> ExpectedVersion {
    if version == 0 {
        ExpectedVersion::NoStream
    } else {
        ExpectedVersion::Exact(version - 1)
    }
}

/// Appends `APPENDS_EACH` single events to its own stream, each with the exact version.
async fn appender(store: DynLog) -> String {
    let stream = stream_name("member");
    for version in 0..APPENDS_EACH {
        append_ok(
            &store,
            &stream,
            expected_before(version),
            vec![event("A.v1", version)],
        )
        .await;
    }
    stream
}

/// Tries to write every version of the contended stream once; returns the versions it won.
async fn racer(store: DynLog, stream: String) -> Vec<(u64, uuid::Uuid)> {
    let mut won = Vec::new();
    for version in 0..ROUNDS {
        let e = event("Raced.v1", version);
        let id = e.event_id;
        match store
            .append(AppendRequest::new(
                &stream,
                expected_before(version),
                vec![e],
            ))
            .await
        {
            Ok(out) => {
                assert_eq!(out.last_version, version);
                won.push((version, id));
            }
            Err(AppendError::WrongExpectedVersion { .. }) => {}
            Err(other) => panic!("racer failed: {other}"),
        }
        tokio::task::yield_now().await;
    }
    won
}

pub async fn concurrent_appenders_and_racers_commit_exactly_once_per_version(fx: Fixture) {
    let contended = stream_name("plan");
    let appenders: Vec<_> = (0..APPENDERS)
        .map(|_| tokio::spawn(appender(fx.store.clone())))
        .collect();
    let racers: Vec<_> = (0..RACERS)
        .map(|_| tokio::spawn(racer(fx.store.clone(), contended.clone())))
        .collect();

    let mut winners: BTreeMap<u64, Vec<uuid::Uuid>> = BTreeMap::new();
    for r in racers {
        for (version, id) in within(60, "the racers", r).await.unwrap() {
            winners.entry(version).or_default().push(id);
        }
    }
    let mut streams = Vec::new();
    for a in appenders {
        streams.push(within(60, "the appenders", a).await.unwrap());
    }

    assert_eq!(
        winners.len() as u64,
        ROUNDS,
        "every version has a winner: {winners:?}"
    );
    assert!(
        winners.values().all(|ids| ids.len() == 1),
        "one winner per version: {winners:?}"
    );
    let raced = fx.store.read_stream(&contended, 0, 100).await.unwrap();
    let raced_ids: Vec<_> = raced.iter().map(|e| e.event_id).collect();
    assert_eq!(
        raced_ids,
        winners.values().map(|ids| ids[0]).collect::<Vec<_>>()
    );
    for s in &streams {
        let read = fx.store.read_stream(s, 0, 100).await.unwrap();
        assert_eq!(
            read.iter().map(|e| e.version).collect::<Vec<_>>(),
            (0..APPENDS_EACH).collect::<Vec<_>>()
        );
    }
    let all = positions(&fx).await;
    let total = APPENDERS * APPENDS_EACH + ROUNDS;
    assert_eq!(all.len() as u64, total);
    assert_eq!(fx.store.head().await.unwrap(), all[all.len() - 1]);
}

/// Appends batches of one to three events to its own stream until the deadline.
async fn steady_appender(store: DynLog, deadline: Instant) {
    let stream = stream_name("member");
    let mut n = 0;
    while Instant::now() < deadline && n < 300 {
        append_ok(
            &store,
            &stream,
            ExpectedVersion::Any,
            events("A.v1", n % 3 + 1),
        )
        .await;
        n += 1;
    }
}

/// Collects positions from a subscription until it has seen `last` (once that is known).
async fn collect_until(store: DynLog, mut last: watch::Receiver<u64>) -> Vec<u64> {
    let mut sub = subscribe(store, 0);
    let mut seen = Vec::new();
    loop {
        let target = *last.borrow_and_update();
        if seen.last().is_some_and(|p| *p >= target) {
            return seen;
        }
        tokio::select! {
            item = sub.next() => seen.push(item.expect("the subscription ended").expect("read failed").position),
            _ = last.changed() => {}
        }
    }
}

pub async fn a_subscriber_sees_every_position_once_while_appenders_race(fx: Fixture) {
    // Half of the appenders write through a second handle, as a second process would.
    let other = (fx.reopen)().await;
    let (last_tx, last_rx) = watch::channel(u64::MAX);
    let subscriber = tokio::spawn(collect_until(fx.store.clone(), last_rx));
    let deadline = Instant::now() + Duration::from_secs(2);
    let appenders: Vec<_> = (0..8)
        .map(|i| {
            let store = if i % 2 == 0 {
                fx.store.clone()
            } else {
                other.clone()
            };
            tokio::spawn(steady_appender(store, deadline))
        })
        .collect();
    for a in appenders {
        within(60, "the appenders", a).await.unwrap();
    }
    let head = fx.store.head().await.unwrap();
    last_tx.send(head).unwrap();
    let seen = within(30, "the subscriber to reach the head", subscriber)
        .await
        .unwrap();

    let all = positions(&fx).await;
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "positions strictly increase"
    );
    assert_eq!(
        seen.len(),
        all.len(),
        "the subscriber saw {} of {} events",
        seen.len(),
        all.len()
    );
    assert_eq!(seen, all);
    assert_eq!(all.last().copied(), Some(head));
}

/// Requests sent together (so that they most likely share one transaction): the failing ones
/// leave nothing behind, the others are written, and positions stay dense.
pub async fn failing_requests_in_a_batch_leave_the_others_written(fx: Fixture) {
    use roster_store::ClaimOp;
    let store = &fx.store;
    let taken = stream_name("member");
    let existing = events("A.v1", 1);
    append_ok(store, &taken, ExpectedVersion::NoStream, existing.clone()).await;
    let claim = |owner: &str| ClaimOp::Claim {
        scope: "email".into(),
        key: "k".into(),
        owner: owner.into(),
    };
    store
        .append(
            AppendRequest::new(&taken, ExpectedVersion::Any, vec![])
                .with_claims(vec![claim("first")]),
        )
        .await
        .unwrap();

    let fresh = event("B.v1", 0);
    let requests = vec![
        AppendRequest::new(
            stream_name("ok"),
            ExpectedVersion::NoStream,
            events("C.v1", 2),
        ),
        AppendRequest::new(
            &taken,
            ExpectedVersion::Exact(0),
            vec![fresh.clone(), existing[0].clone()],
        ),
        AppendRequest::new(
            stream_name("ok"),
            ExpectedVersion::NoStream,
            events("C.v1", 1),
        ),
        AppendRequest::new(&taken, ExpectedVersion::NoStream, events("D.v1", 1)),
        AppendRequest::new(
            stream_name("claim"),
            ExpectedVersion::NoStream,
            events("E.v1", 1),
        )
        .with_claims(vec![claim("second")]),
        AppendRequest::new(&taken, ExpectedVersion::Exact(0), events("F.v1", 2)),
    ];
    let results = futures::future::join_all(requests.into_iter().map(|r| store.append(r))).await;
    let kinds: Vec<&str> = results
        .iter()
        .map(|r| match r {
            Ok(_) => "ok",
            Err(AppendError::DuplicateEventId { .. }) => "duplicate",
            Err(AppendError::WrongExpectedVersion { .. }) => "conflict",
            Err(AppendError::Claimed { .. }) => "claimed",
            Err(AppendError::Backend(e)) => panic!("backend error {e}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["ok", "duplicate", "ok", "conflict", "claimed", "ok"]
    );
    assert_eq!(positions(&fx).await.len(), 6);
    let all = read_everything(store).await;
    assert!(all.iter().all(|e| e.event_id != fresh.event_id));
    assert_eq!(store.read_stream(&taken, 0, 10).await.unwrap().len(), 3);
}
