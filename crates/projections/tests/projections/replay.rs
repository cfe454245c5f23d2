//! Rebuilds: a replay into shadow tables equals the live tables, even while commands arrive.

use std::sync::Arc;

use roster_projections::{RebuildOptions, rebuild};

use crate::harness::{Backend, Env, assert_same_tables, env, fast_retries};
use crate::on_both_backends;

fn options() -> RebuildOptions {
    RebuildOptions {
        operator: "test".into(),
        engine: fast_retries(),
        ..RebuildOptions::default()
    }
}

async fn a_full_replay_equals_the_live_tables(backend: Backend) {
    let env = env(backend).await;
    let runner = env.start().await;
    env.workload(12).await;
    env.caught_up().await;
    let live = env.snapshot().await;
    assert_eq!(live["accounts_v1"].len(), 12);
    assert!(!live["audit_v1"].is_empty());

    let report = rebuild(&env.roster, options(), |_| {}).await.unwrap();
    assert!(report.swapped);
    assert_eq!(report.position, env.head().await);
    env.caught_up().await;
    assert_same_tables(&live, &env.snapshot().await);
    let status = env.read.status().await.unwrap();
    assert!(
        status
            .iter()
            .all(|s| s.generation == 2 && s.lag_events == 0 && s.rebuilding.is_none())
    );
    runner.shutdown().await;
}
on_both_backends!(a_full_replay_equals_the_live_tables);

async fn a_dry_run_counts_events_and_changes_nothing(backend: Backend) {
    let env = env(backend).await;
    let runner = env.start().await;
    env.workload(3).await;
    env.caught_up().await;
    let options = RebuildOptions {
        dry_run: true,
        ..options()
    };
    let report = rebuild(&env.roster, options, |_| {}).await.unwrap();
    assert!(!report.swapped);
    assert_eq!(report.events, env.head().await);
    assert!(
        env.read
            .status()
            .await
            .unwrap()
            .iter()
            .all(|s| s.generation == 1)
    );
    runner.shutdown().await;
}
on_both_backends!(a_dry_run_counts_events_and_changes_nothing);

async fn a_rebuild_while_commands_keep_arriving_ends_caught_up_and_consistent(backend: Backend) {
    let env = Arc::new(env(backend).await);
    let runner = env.start().await;
    env.workload(6).await;
    env.caught_up().await;

    let writer = {
        let env = Arc::clone(&env);
        tokio::spawn(async move {
            for i in 0..30 {
                let id = env.register(&format!("Late{i}")).await;
                env.confirm(id).await;
            }
        })
    };
    let mut progress = Vec::new();
    let report = rebuild(&env.roster, options(), |p| progress.push(p))
        .await
        .unwrap();
    writer.await.unwrap();
    assert!(report.swapped);
    assert!(!progress.is_empty());

    env.caught_up().await;
    let after_rebuild = env.snapshot().await;
    assert_eq!(after_rebuild["accounts_v1"].len(), 36);
    rebuild(&env.roster, options(), |_| {}).await.unwrap();
    env.caught_up().await;
    assert_same_tables(&after_rebuild, &env.snapshot().await);
    runner.shutdown().await;
}
on_both_backends!(a_rebuild_while_commands_keep_arriving_ends_caught_up_and_consistent);

async fn one_projection_is_rebuilt_alone(backend: Backend) {
    let env: Env = env(backend).await;
    let runner = env.start().await;
    env.workload(4).await;
    env.caught_up().await;
    let live = env.snapshot().await;
    let options = RebuildOptions {
        names: vec!["accounts_v1".into()],
        ..options()
    };
    rebuild(&env.roster, options, |_| {}).await.unwrap();
    assert_same_tables(&live, &env.snapshot().await);
    let status = env.read.status().await.unwrap();
    let generation = |name: &str| status.iter().find(|s| s.name == name).unwrap().generation;
    assert_eq!((generation("accounts_v1"), generation("audit_v1")), (2, 1));
    runner.shutdown().await;
}
on_both_backends!(one_projection_is_rebuilt_alone);
