//! A poison event is retried, parked with its error, and the projection goes on; operators
//! list, retry and skip it, and every action is logged.

use std::sync::Arc;

use roster_app::clock::V7Ids;
use roster_domain::{MemberEvent, Tagged};
use roster_projections::engine::{Engine, Outcome};
use roster_projections::pipeline::Envelope;
use roster_projections::rows::{Col, RowOp, TableDef, Val};
use roster_projections::{Policy, Projection, Projections, RunnerConfig, State, catalog, operator};
use roster_store::pii::MasterKey;
use roster_store::{AppendRequest, ExpectedVersion, Metadata, NewEvent};
use serde_json::json;
use uuid::Uuid;

use crate::harness::{Backend, Env, env, fast_retries, t0};
use crate::on_both_backends;

async fn a_poisoned_event_is_parked_and_the_projection_continues(backend: Backend) {
    let env = env(backend).await;
    let runner = env.start().await;
    let before = env.register("Before").await;

    let (poison, position) = append_poison(&env).await;
    let after = env.register("After").await;
    env.caught_up().await;

    assert!(env.read.member(before).await.unwrap().is_some());
    assert!(env.read.member(after).await.unwrap().is_some());
    assert!(env.read.member(poison).await.unwrap().is_none());
    let parked = operator::parked(&env.db, None, false).await.unwrap();
    let names: Vec<&str> = parked.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["accounts_v1", "audit_v1"]);
    assert!(
        parked
            .iter()
            .all(|p| p.position == position && p.attempts == 2 && !p.error.is_empty())
    );
    let status = env.read.status().await.unwrap();
    let accounts = status.iter().find(|s| s.name == "accounts_v1").unwrap();
    assert_eq!((accounts.parked, accounts.lag_events), (1, 0));

    // Still undecodable: a retry fails and leaves it parked.
    assert!(
        operator::retry(&env.roster, "accounts_v1", position, "ops")
            .await
            .is_err()
    );
    operator::skip(&env.roster, "accounts_v1", position, "ops")
        .await
        .unwrap();
    let parked = operator::parked(&env.db, Some("accounts_v1"), false)
        .await
        .unwrap();
    assert!(parked.is_empty());
    let log = env
        .db
        .query(
            "SELECT operator, action, position FROM projection_operator_log ORDER BY at",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(log.len(), 1, "only the successful skip is logged: {log:?}");
    assert_eq!(log[0][1].as_text(), Some("skip"));
    runner.shutdown().await;
}
on_both_backends!(a_poisoned_event_is_parked_and_the_projection_continues);

/// Appends a `MemberRegistered.v1` whose payload does not decode; returns its member id and
/// position.
async fn append_poison(env: &Env) -> (Uuid, u64) {
    let poison = Uuid::now_v7();
    let event = NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "MemberRegistered.v1".into(),
        payload: json!({ "member_id": poison, "no": "such shape" }),
        metadata: Metadata {
            actor: roster_store::ActorRef::System,
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            idempotency_key: None,
            recorded_at: t0(),
        },
    };
    let request = AppendRequest::new(
        format!("member-{poison}"),
        ExpectedVersion::NoStream,
        vec![event],
    );
    let position = env.roster.log.append(request).await.unwrap().last_position;
    (poison, position)
}

/// Reads member events and writes nothing; stops on a poison event instead of parking it.
struct Stopper;

const STOPPER: TableDef = TableDef {
    name: "stopper_v1",
    columns: &[("id", Col::Text, false)],
    key: &["id"],
    indexes: &[],
};

impl Projection for Stopper {
    fn name(&self) -> &'static str {
        "stopper_v1"
    }

    fn tables(&self) -> &'static [TableDef] {
        &[STOPPER]
    }

    fn policy(&self) -> Policy {
        Policy::Stop
    }

    fn handles(&self, event_type: &str) -> bool {
        MemberEvent::has(event_type)
    }

    fn project(&self, _envelope: &Envelope<'_>) -> Result<Vec<RowOp>, String> {
        Ok(Vec::new())
    }
}

async fn a_projection_whose_policy_is_stop_stops_before_the_poison_event(backend: Backend) {
    let env = env(backend).await;
    env.register("Before").await;
    let (_, position) = append_poison(&env).await;
    env.register("After").await;
    let projections: Vec<Arc<dyn Projection>> = vec![Arc::new(Stopper)];
    catalog::ensure(&env.db, &projections).await.unwrap();
    let mut slots = catalog::live_slots(&env.db, &projections).await.unwrap();
    let mut engine = Engine::new(&env.roster, fast_retries());
    for _ in 0..5 {
        if engine.step(&mut slots).await.unwrap() == Outcome::Idle {
            break;
        }
    }
    let slots = catalog::live_slots(&env.db, &projections).await.unwrap();
    assert_eq!(
        (slots[0].state, slots[0].position),
        (State::Stopped, position - 1)
    );
    let parked = env
        .db
        .query("SELECT name, position FROM projection_parked", Vec::new())
        .await
        .unwrap();
    assert_eq!(
        parked,
        vec![vec![Val::text("stopper_v1"), Val::int(position)]]
    );
}
on_both_backends!(a_projection_whose_policy_is_stop_stops_before_the_poison_event);

async fn a_parked_event_is_applied_by_a_retry_once_its_cause_is_fixed(backend: Backend) {
    let env = env(backend).await;
    let member = env.register("Kim").await;
    // A runner started with the wrong master key cannot open the sealed registration.
    let mut settings = (*env.roster.settings).clone();
    settings.master_key = Some(MasterKey::generate().to_base64());
    let wrong = roster_app::open(settings, env.clock.clone(), Arc::new(V7Ids))
        .await
        .unwrap();
    let config = RunnerConfig {
        engine: fast_retries(),
    };
    let runner = Projections::start(&wrong, config).await.unwrap();
    env.caught_up().await;
    runner.shutdown().await;
    let parked = operator::parked(&env.db, Some("accounts_v1"), false)
        .await
        .unwrap();
    assert_eq!(parked.len(), 1);
    assert!(
        parked[0].error.contains("master key"),
        "{}",
        parked[0].error
    );
    assert!(env.read.member(member).await.unwrap().is_none());

    // With the right key, the operator retries it.
    let position = parked[0].position;
    operator::retry(&env.roster, "accounts_v1", position, "ops")
        .await
        .unwrap();
    let account = env.read.member(member).await.unwrap().unwrap();
    assert_eq!(account.name.as_deref(), Some("Kim"));
    assert!(
        operator::parked(&env.db, Some("accounts_v1"), false)
            .await
            .unwrap()
            .is_empty()
    );
    let resolved = operator::parked(&env.db, Some("accounts_v1"), true)
        .await
        .unwrap();
    assert_eq!(resolved[0].resolution.as_deref(), Some("retried"));
    let log = env
        .db
        .query(
            "SELECT action, name FROM projection_operator_log",
            Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        log,
        vec![vec![Val::text("retry"), Val::text("accounts_v1")]]
    );
}
on_both_backends!(a_parked_event_is_applied_by_a_retry_once_its_cause_is_fixed);
