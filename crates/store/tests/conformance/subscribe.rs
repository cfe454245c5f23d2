//! Catch-up subscriptions and change notifications.

use futures::StreamExt;
use roster_store::ExpectedVersion;
use roster_store::subscription::subscribe;

use super::{Fixture, append_ok, events, positions, stream_name, within};

pub async fn subscribe_catches_up_and_then_follows_live_appends(fx: Fixture) {
    let s = stream_name("member");
    append_ok(&fx.store, &s, ExpectedVersion::NoStream, events("A.v1", 5)).await;
    let written = positions(&fx).await;
    let mut sub = subscribe(fx.store.clone(), 0);
    for expected in &written {
        let e = within(5, "catch-up", sub.next()).await.unwrap().unwrap();
        assert_eq!(e.position, *expected);
    }
    let store = fx.store.clone();
    let stream = s.clone();
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        append_ok(
            &store,
            &stream,
            ExpectedVersion::Exact(4),
            events("B.v1", 3),
        )
        .await;
    });
    let mut live = Vec::new();
    for version in 5..=7 {
        let e = within(5, "a live event", sub.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!((e.version, e.stream.as_str()), (version, s.as_str()));
        live.push(e.position);
    }
    assert_eq!(positions(&fx).await[5..], live);
}

pub async fn subscribe_from_a_position_skips_what_came_before(fx: Fixture) {
    append_ok(
        &fx.store,
        &stream_name("member"),
        ExpectedVersion::NoStream,
        events("A.v1", 6),
    )
    .await;
    let written = positions(&fx).await;
    let mut sub = subscribe(fx.store.clone(), written[3]);
    let first = within(5, "the first event", sub.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.position, written[4]);
}

pub async fn changes_carry_the_new_head(fx: Fixture) {
    let mut changes = fx.store.changes();
    assert_eq!(*changes.borrow_and_update(), 0);
    let out = append_ok(
        &fx.store,
        &stream_name("member"),
        ExpectedVersion::NoStream,
        events("A.v1", 3),
    )
    .await;
    // One notification may carry the whole append or only part of it (a log that announces
    // event by event): the head announced reaches the append's last position, and not beyond.
    within(5, "a change", async {
        while *changes.borrow_and_update() < out.last_position {
            changes.changed().await.unwrap();
        }
    })
    .await;
    assert_eq!(*changes.borrow(), out.last_position);
}

pub async fn appends_through_another_handle_reach_subscribers(fx: Fixture) {
    let other = (fx.reopen)().await;
    let mut sub = subscribe(fx.store.clone(), 0);
    let out = append_ok(
        &other,
        &stream_name("member"),
        ExpectedVersion::NoStream,
        events("A.v1", 2),
    )
    .await;
    let first = within(10, "an event appended elsewhere", sub.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.position, out.first_position);
}

/// Not only subscriptions (which also poll) but the change channel itself hears of commits
/// made through another handle, as by another process.
pub async fn changes_carry_appends_made_through_another_handle(fx: Fixture) {
    let other = (fx.reopen)().await;
    let mut changes = fx.store.changes();
    changes.borrow_and_update();
    let out = append_ok(
        &other,
        &stream_name("member"),
        ExpectedVersion::NoStream,
        events("A.v1", 1),
    )
    .await;
    within(5, "the change from another handle", async {
        while *changes.borrow_and_update() < out.last_position {
            changes.changed().await.unwrap();
        }
    })
    .await;
}
