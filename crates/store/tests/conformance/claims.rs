//! Uniqueness claims written in the same transaction as the events.

use roster_store::{AppendError, AppendRequest, ClaimOp, ExpectedVersion};

use super::{Fixture, append_ok, event, stream_name};

pub fn claim(key: &str, owner: &str) -> ClaimOp {
    ClaimOp::Claim {
        scope: "email".into(),
        key: key.into(),
        owner: owner.into(),
    }
}

pub fn release(key: &str, owner: &str) -> ClaimOp {
    ClaimOp::Release {
        scope: "email".into(),
        key: key.into(),
        owner: owner.into(),
    }
}

pub fn register(stream: &str, claims: Vec<ClaimOp>) -> AppendRequest {
    AppendRequest::new(
        stream,
        ExpectedVersion::NoStream,
        vec![event("MemberRegistered.v1", 0)],
    )
    .with_claims(claims)
}

pub async fn fifty_concurrent_claims_of_one_key_have_exactly_one_winner(fx: Fixture) {
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = fx.store.clone();
            tokio::spawn(async move {
                let stream = format!("member-claim-{i}");
                let result = store
                    .append(register(&stream, vec![claim("ann@example.com", &stream)]))
                    .await;
                (stream, result)
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (stream, Ok(_)) => winners.push(stream),
            (stream, Err(AppendError::Claimed { scope, owner })) => {
                assert_eq!(scope, "email");
                losers.push((stream, owner));
            }
            (_, Err(other)) => panic!("unexpected error {other:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "winners: {winners:?}");
    assert_eq!(losers.len(), 49);
    for (stream, owner) in losers {
        assert_eq!(owner, winners[0]);
        assert!(
            fx.store
                .read_stream(&stream, 0, 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
    let written = super::read_everything(&fx.store).await;
    assert_eq!(written.len(), 1, "only the winner's event is in the log");
    assert_eq!(fx.store.head().await.unwrap(), written[0].position);
}

pub async fn a_taken_claim_rejects_the_whole_append(fx: Fixture) {
    let store = &fx.store;
    store
        .append(register("member-a", vec![claim("ann@example.com", "a")]))
        .await
        .unwrap();
    // The second request's first claim is free, its second is not: nothing of it is written.
    let req = register(
        "member-b",
        vec![claim("bob@example.com", "b"), claim("ann@example.com", "b")],
    );
    let err = store.append(req).await.unwrap_err();
    assert!(
        matches!(&err, AppendError::Claimed { owner, .. } if owner == "a"),
        "{err:?}"
    );
    assert!(
        store
            .read_stream("member-b", 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // bob@ was not kept either: another owner can take it.
    store
        .append(register("member-c", vec![claim("bob@example.com", "c")]))
        .await
        .unwrap();
}

pub async fn the_owner_may_claim_its_own_key_again(fx: Fixture) {
    let store = &fx.store;
    store
        .append(register("member-a", vec![claim("ann@example.com", "a")]))
        .await
        .unwrap();
    let again = AppendRequest::new(
        "member-a",
        ExpectedVersion::Exact(0),
        vec![event("EmailChanged.v1", 1)],
    )
    .with_claims(vec![claim("ann@example.com", "a")]);
    store.append(again).await.unwrap();
}

pub async fn a_released_key_can_be_claimed_by_another_owner(fx: Fixture) {
    let store = &fx.store;
    store
        .append(register("member-a", vec![claim("ann@example.com", "a")]))
        .await
        .unwrap();
    let taken = store
        .append(register("member-b", vec![claim("ann@example.com", "b")]))
        .await;
    assert!(matches!(taken, Err(AppendError::Claimed { .. })));
    let change = AppendRequest::new(
        "member-a",
        ExpectedVersion::Exact(0),
        vec![event("EmailChanged.v1", 1)],
    )
    .with_claims(vec![
        release("ann@example.com", "a"),
        claim("ann.new@example.com", "a"),
    ]);
    store.append(change).await.unwrap();
    store
        .append(register("member-b", vec![claim("ann@example.com", "b")]))
        .await
        .unwrap();
    let old_taken = store
        .append(register(
            "member-c",
            vec![claim("ann.new@example.com", "c")],
        ))
        .await;
    assert!(matches!(old_taken, Err(AppendError::Claimed { owner, .. }) if owner == "a"));
}

pub async fn releasing_someone_elses_claim_does_nothing(fx: Fixture) {
    let store = &fx.store;
    store
        .append(register("member-a", vec![claim("ann@example.com", "a")]))
        .await
        .unwrap();
    let sneaky = AppendRequest::new("member-b", ExpectedVersion::Any, vec![])
        .with_claims(vec![release("ann@example.com", "b")]);
    store.append(sneaky).await.unwrap();
    let taken = store
        .append(register("member-c", vec![claim("ann@example.com", "c")]))
        .await;
    assert!(matches!(taken, Err(AppendError::Claimed { owner, .. }) if owner == "a"));
}

pub async fn an_append_of_claims_alone_is_allowed(fx: Fixture) {
    let store = &fx.store;
    let s = stream_name("reservation");
    let only_claims = AppendRequest::new(&s, ExpectedVersion::Any, vec![])
        .with_claims(vec![claim("solo@example.com", "x")]);
    store.append(only_claims).await.unwrap();
    assert_eq!(store.head().await.unwrap(), 0);
    let taken = store
        .append(register("member-y", vec![claim("solo@example.com", "y")]))
        .await;
    assert!(matches!(taken, Err(AppendError::Claimed { owner, .. }) if owner == "x"));
    // Claims in one request are judged in order: release, then claim by another owner.
    let handover = AppendRequest::new(&s, ExpectedVersion::Any, vec![]).with_claims(vec![
        release("solo@example.com", "x"),
        claim("solo@example.com", "y"),
    ]);
    store.append(handover).await.unwrap();
    append_ok(
        store,
        "member-y",
        ExpectedVersion::NoStream,
        vec![event("A.v1", 0)],
    )
    .await;
    let taken = store
        .append(register("member-z", vec![claim("solo@example.com", "z")]))
        .await;
    assert!(matches!(taken, Err(AppendError::Claimed { owner, .. }) if owner == "y"));
}

pub async fn claim_owner_names_the_holder_until_the_claim_is_released(fx: Fixture) {
    let (store, claims) = (&fx.store, &fx.claims);
    assert_eq!(
        claims
            .claim_owner("email", "ann@example.com")
            .await
            .unwrap(),
        None
    );
    store
        .append(register("member-a", vec![claim("ann@example.com", "a")]))
        .await
        .unwrap();
    let owner = claims
        .claim_owner("email", "ann@example.com")
        .await
        .unwrap();
    assert_eq!(owner.as_deref(), Some("a"));
    assert_eq!(
        claims
            .claim_owner("other-scope", "ann@example.com")
            .await
            .unwrap(),
        None
    );
    let release_it = AppendRequest::new(
        "member-a",
        ExpectedVersion::Exact(0),
        vec![event("EmailChanged.v1", 1)],
    )
    .with_claims(vec![release("ann@example.com", "a")]);
    store.append(release_it).await.unwrap();
    assert_eq!(
        claims
            .claim_owner("email", "ann@example.com")
            .await
            .unwrap(),
        None
    );
}
