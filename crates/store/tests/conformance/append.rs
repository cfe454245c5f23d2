//! Appending and reading: expected versions, idempotent retries, duplicates, paging, durability.

use roster_store::{AppendError, AppendOutcome, AppendRequest, ExpectedVersion};

use super::{Fixture, append_ok, event, events, positions, read_everything, stream_name};

pub async fn appends_and_reads_back_a_stream_and_the_global_log(fx: Fixture) {
    let store = &fx.store;
    let (a, b) = (stream_name("member"), stream_name("org"));
    let sent_a = events("MemberRegistered.v1", 3);
    let sent_b = events("OrgCreated.v1", 2);

    let out_a = append_ok(store, &a, ExpectedVersion::NoStream, sent_a.clone()).await;
    let out_b = append_ok(store, &b, ExpectedVersion::NoStream, sent_b.clone()).await;

    let p = positions(&fx).await;
    assert_eq!(p.len(), 5);
    assert_eq!(
        out_a,
        AppendOutcome {
            last_version: 2,
            first_position: p[0],
            last_position: p[2]
        }
    );
    assert_eq!(
        out_b,
        AppendOutcome {
            last_version: 1,
            first_position: p[3],
            last_position: p[4]
        }
    );
    let read_a = store.read_stream(&a, 0, 100).await.unwrap();
    assert_eq!(read_a.len(), 3);
    for (i, (read, sent)) in read_a.iter().zip(&sent_a).enumerate() {
        assert_eq!(read.event_id, sent.event_id);
        assert_eq!(read.stream, a);
        assert_eq!(read.version, i as u64);
        assert_eq!(read.position, p[i]);
        assert_eq!(read.event_type, sent.event_type);
        assert_eq!(read.payload, sent.payload);
        assert_eq!(read.metadata, sent.metadata);
    }
    let all = read_everything(store).await;
    assert_eq!(all[3].event_id, sent_b[0].event_id);
    assert_eq!(store.head().await.unwrap(), p[4]);
}

pub async fn lag_counts_the_events_after_a_position_and_dates_the_oldest(fx: Fixture) {
    let store = &fx.store;
    let caught_up = store.lag(0).await.unwrap();
    assert_eq!((caught_up.events, caught_up.oldest_at), (0, None));
    let sent = events("MemberRegistered.v1", 4);
    append_ok(
        store,
        &stream_name("member"),
        ExpectedVersion::NoStream,
        sent.clone(),
    )
    .await;
    let all = read_everything(store).await;
    let lag = store.lag(all[0].position).await.unwrap();
    assert_eq!(lag.events, 3);
    assert!(!lag.at_least);
    assert_eq!(lag.oldest_at, Some(sent[1].metadata.recorded_at));
    let head = store.head().await.unwrap();
    assert_eq!(store.lag(head).await.unwrap().events, 0);
}

pub async fn an_empty_log_has_head_zero_and_reads_nothing(fx: Fixture) {
    assert_eq!(fx.store.head().await.unwrap(), 0);
    assert!(fx.store.read_all(0, 10).await.unwrap().is_empty());
    assert!(
        fx.store
            .read_stream("member-nobody", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn expected_version_any_no_stream_and_exact_are_enforced(fx: Fixture) {
    let store = &fx.store;
    let s = stream_name("member");
    append_ok(store, &s, ExpectedVersion::Any, vec![event("A.v1", 0)]).await;
    let again = store
        .append(AppendRequest::new(
            &s,
            ExpectedVersion::NoStream,
            vec![event("A.v1", 1)],
        ))
        .await;
    assert!(
        matches!(again, Err(AppendError::WrongExpectedVersion { .. })),
        "{again:?}"
    );
    let stale = store
        .append(AppendRequest::new(
            &s,
            ExpectedVersion::Exact(3),
            vec![event("A.v1", 1)],
        ))
        .await;
    assert!(
        matches!(stale, Err(AppendError::WrongExpectedVersion { .. })),
        "{stale:?}"
    );
    let out = append_ok(store, &s, ExpectedVersion::Exact(0), vec![event("A.v1", 1)]).await;
    assert_eq!(out.last_version, 1);
    let out = append_ok(store, &s, ExpectedVersion::Any, vec![event("A.v1", 2)]).await;
    assert_eq!(out.last_version, 2);
    let missing = stream_name("member");
    let exact_on_missing = store
        .append(AppendRequest::new(
            &missing,
            ExpectedVersion::Exact(0),
            vec![event("A.v1", 0)],
        ))
        .await;
    assert!(matches!(
        exact_on_missing,
        Err(AppendError::WrongExpectedVersion { actual: None, .. })
    ));
    assert_eq!(store.read_stream(&s, 0, 10).await.unwrap().len(), 3);
    assert!(store.read_stream(&missing, 0, 10).await.unwrap().is_empty());
}

pub async fn a_conflict_reports_the_expected_and_the_actual_version(fx: Fixture) {
    let s = stream_name("member");
    append_ok(&fx.store, &s, ExpectedVersion::NoStream, events("A.v1", 2)).await;
    let err = fx
        .store
        .append(AppendRequest::new(
            &s,
            ExpectedVersion::Exact(0),
            vec![event("A.v1", 9)],
        ))
        .await
        .unwrap_err();
    match err {
        AppendError::WrongExpectedVersion {
            stream,
            expected,
            actual,
        } => {
            assert_eq!(stream, s);
            assert_eq!(expected, ExpectedVersion::Exact(0));
            assert_eq!(actual, Some(1));
        }
        other => panic!("expected a version conflict, got {other:?}"),
    }
}

pub async fn a_retried_append_writes_nothing_and_returns_the_first_outcome(fx: Fixture) {
    let store = &fx.store;
    let s = stream_name("member");
    let request = AppendRequest::new(&s, ExpectedVersion::NoStream, events("A.v1", 3));
    let first = store.append(request.clone()).await.unwrap();
    let retry = store.append(request).await.unwrap();
    assert_eq!(first, retry);
    assert_eq!(store.read_stream(&s, 0, 10).await.unwrap().len(), 3);
    assert_eq!(store.head().await.unwrap(), first.last_position);
    assert_eq!(positions(&fx).await.len(), 3);
}

pub async fn a_retry_is_recognised_even_when_the_stream_has_moved_on(fx: Fixture) {
    let store = &fx.store;
    let s = stream_name("member");
    let request = AppendRequest::new(&s, ExpectedVersion::NoStream, events("A.v1", 2));
    let first = store.append(request.clone()).await.unwrap();
    append_ok(store, &s, ExpectedVersion::Exact(1), events("B.v1", 2)).await;
    let retry = store.append(request).await.unwrap();
    assert_eq!(first, retry);
    assert_eq!(store.read_stream(&s, 0, 10).await.unwrap().len(), 4);
}

pub async fn a_partial_duplicate_is_rejected_and_writes_nothing(fx: Fixture) {
    let store = &fx.store;
    let s = stream_name("member");
    let sent = events("A.v1", 2);
    let before = append_ok(store, &s, ExpectedVersion::NoStream, sent.clone()).await;
    let fresh = event("A.v1", 2);
    let mixed = vec![sent[1].clone(), fresh.clone()];
    let err = store
        .append(AppendRequest::new(&s, ExpectedVersion::Any, mixed))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppendError::DuplicateEventId { event_id } if event_id == sent[1].event_id),
        "{err:?}"
    );
    let reordered = vec![sent[1].clone(), sent[0].clone()];
    let err = store
        .append(AppendRequest::new(&s, ExpectedVersion::Any, reordered))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppendError::DuplicateEventId { .. }),
        "{err:?}"
    );
    assert_eq!(store.head().await.unwrap(), before.last_position);
    let next = append_ok(store, &s, ExpectedVersion::Exact(1), vec![fresh]).await;
    assert_eq!(next.last_version, 2);
    assert!(next.first_position > before.last_position);
}

/// An id already in the stream, after a new one, at the next version: needs an index of the
/// log's ids (the SQL logs have one; KurrentDB checks only the revisions after the expected one).
pub async fn a_taken_id_after_a_new_one_is_a_duplicate(fx: Fixture) {
    let store = &fx.store;
    let s = stream_name("member");
    let sent = events("A.v1", 2);
    let before = append_ok(store, &s, ExpectedVersion::NoStream, sent.clone()).await;
    let fresh = event("A.v1", 2);
    // The taken id comes after a new one: the new one must not stay behind either.
    let fresh_first = vec![fresh.clone(), sent[0].clone()];
    let err = store
        .append(AppendRequest::new(
            &s,
            ExpectedVersion::Exact(1),
            fresh_first,
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppendError::DuplicateEventId { event_id } if event_id == sent[0].event_id)
    );
    assert_eq!(store.head().await.unwrap(), before.last_position);
    assert!(
        store
            .read_all(0, 10)
            .await
            .unwrap()
            .iter()
            .all(|e| e.event_id != fresh.event_id)
    );
    let next = append_ok(store, &s, ExpectedVersion::Exact(1), vec![fresh]).await;
    assert_eq!((next.first_position, next.last_version), (3, 2));
}

pub async fn event_ids_from_another_stream_are_duplicates(fx: Fixture) {
    let store = &fx.store;
    let (a, b) = (stream_name("member"), stream_name("member"));
    let sent = events("A.v1", 2);
    append_ok(store, &a, ExpectedVersion::NoStream, sent.clone()).await;
    let err = store
        .append(AppendRequest::new(&b, ExpectedVersion::NoStream, sent))
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppendError::DuplicateEventId { .. }),
        "{err:?}"
    );
    assert!(store.read_stream(&b, 0, 10).await.unwrap().is_empty());
}

pub async fn the_same_event_id_twice_in_one_append_is_a_duplicate(fx: Fixture) {
    let e = event("A.v1", 0);
    let s = stream_name("member");
    let req = AppendRequest::new(&s, ExpectedVersion::NoStream, vec![e.clone(), e.clone()]);
    let err = fx.store.append(req).await.unwrap_err();
    assert!(matches!(err, AppendError::DuplicateEventId { event_id } if event_id == e.event_id));
    assert_eq!(fx.store.head().await.unwrap(), 0);
}

pub async fn read_all_pages_through_the_log_with_a_limit(fx: Fixture) {
    let store = &fx.store;
    for i in 0..5 {
        append_ok(
            store,
            &stream_name("member"),
            ExpectedVersion::NoStream,
            events("A.v1", i + 1),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let page = store.read_all(after, 4).await.unwrap();
        assert!(page.len() <= 4);
        let Some(last) = page.last() else { break };
        after = last.position;
        seen.extend(page.iter().map(|e| e.position));
    }
    let p = positions(&fx).await;
    assert_eq!(p.len(), 15);
    assert_eq!(seen, p);
    assert_eq!(store.read_all(p[14], 4).await.unwrap().len(), 0);
    assert_eq!(store.read_all(p[12], 100).await.unwrap().len(), 2);
}

pub async fn read_stream_starts_at_a_version_and_honours_the_limit(fx: Fixture) {
    let s = stream_name("member");
    append_ok(&fx.store, &s, ExpectedVersion::NoStream, events("A.v1", 10)).await;
    let page = fx.store.read_stream(&s, 4, 3).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.version).collect::<Vec<_>>(),
        vec![4, 5, 6]
    );
    assert!(fx.store.read_stream(&s, 10, 3).await.unwrap().is_empty());
}

pub async fn appended_events_survive_reopening_the_store(fx: Fixture) {
    let dense = fx.dense_positions;
    let Fixture {
        store,
        reopen,
        guard: _guard,
        ..
    } = fx;
    let s = stream_name("member");
    let sent = events("A.v1", 4);
    let out = append_ok(&store, &s, ExpectedVersion::NoStream, sent.clone()).await;
    drop(store);

    let reopened = reopen().await;
    let read = reopened.read_stream(&s, 0, 10).await.unwrap();
    assert_eq!(
        read.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        sent.iter().map(|e| e.event_id).collect::<Vec<_>>()
    );
    assert_eq!(reopened.head().await.unwrap(), out.last_position);
    let next = append_ok(&reopened, &s, ExpectedVersion::Exact(3), events("B.v1", 1)).await;
    assert!(next.first_position > out.last_position);
    if dense {
        assert_eq!(next.first_position, out.last_position + 1);
    }
}
