//! Lag while a projection is held: events and seconds, and reads that wait for a position.

use std::time::Duration;

use roster_projections::{ProjectionError, operator};

use crate::harness::{Backend, env};
use crate::on_both_backends;

async fn lag_is_reported_correctly_while_a_projection_is_held(backend: Backend) {
    let env = env(backend).await;
    let runner = env.start().await;
    env.register("Early").await;
    env.caught_up().await;

    operator::hold(&env.roster, "accounts_v1", "ops")
        .await
        .unwrap();
    let mut late = Vec::new();
    for name in ["A", "B", "C"] {
        late.push(env.register(name).await);
    }
    env.clock.advance(chrono::Duration::seconds(30));
    let head = env.head().await;
    env.read
        .wait_for("audit_v1", head, Duration::from_secs(30))
        .await
        .unwrap();

    let status = env.read.status().await.unwrap();
    let accounts = status.iter().find(|s| s.name == "accounts_v1").unwrap();
    assert_eq!(accounts.state, "held");
    assert_eq!(accounts.lag_events, 3);
    assert!(
        (accounts.lag_seconds - 30.0).abs() < 0.01,
        "lag {}",
        accounts.lag_seconds
    );
    let audit = status.iter().find(|s| s.name == "audit_v1").unwrap();
    assert_eq!(
        (audit.lag_events, audit.lag_seconds, audit.state.as_str()),
        (0, 0.0, "running")
    );

    match env
        .read
        .wait_for("accounts_v1", head, Duration::from_millis(50))
        .await
    {
        Err(ProjectionError::Behind(lag)) => {
            assert_eq!((lag.wanted, lag.position), (head, head - 3))
        }
        other => panic!("expected a lag, got {other:?}"),
    }
    assert!(env.read.member(late[0]).await.unwrap().is_none());

    operator::release(&env.roster, "accounts_v1", "ops")
        .await
        .unwrap();
    env.read
        .wait_for("accounts_v1", head, Duration::from_secs(30))
        .await
        .unwrap();
    assert!(env.read.member(late[2]).await.unwrap().is_some());
    runner.shutdown().await;
}
on_both_backends!(lag_is_reported_correctly_while_a_projection_is_held);
