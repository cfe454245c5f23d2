//! A projection changed by a newer build is rebuilt in the background at start-up; the old
//! tables keep serving until the new ones have caught up and swap in.

use std::time::{Duration, Instant};

use roster_sql::Stmt;

use crate::harness::{Backend, env};
use crate::on_both_backends;

async fn an_outdated_projection_is_rebuilt_in_the_background_and_takes_over_when_caught_up(
    backend: Backend,
) {
    let env = env(backend).await;
    let runner = env.start().await;
    let (ids, _) = env.workload(6).await;
    env.caught_up().await;
    runner.shutdown().await;

    // As if an older build had made the live accounts tables.
    let older =
        "UPDATE projection_checkpoints SET fingerprint = 'older build' WHERE name = 'accounts_v1'";
    env.db
        .transaction(vec![Stmt::new(older, Vec::new())])
        .await
        .unwrap();
    let status = env.read.status().await.unwrap();
    assert!(status.iter().any(|s| s.name == "accounts_v1" && s.outdated));

    let runner = env.start().await;
    assert!(
        env.read.member(ids[0]).await.unwrap().is_some(),
        "the old tables keep serving"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = env.read.status().await.unwrap();
        let accounts = status.iter().find(|s| s.name == "accounts_v1").unwrap();
        if accounts.generation == 2 && !accounts.outdated {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the rebuild never took over: {accounts:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let late = env.register("Late").await;
    env.caught_up().await;
    assert!(env.read.member(late).await.unwrap().is_some());
    assert_eq!(env.snapshot().await["accounts_v1"].len(), 7);
    let status = env.read.status().await.unwrap();
    let audit = status.iter().find(|s| s.name == "audit_v1").unwrap();
    assert_eq!(
        (audit.generation, audit.outdated),
        (1, false),
        "only the outdated one is rebuilt"
    );
    runner.shutdown().await;
}
on_both_backends!(
    an_outdated_projection_is_rebuilt_in_the_background_and_takes_over_when_caught_up
);
