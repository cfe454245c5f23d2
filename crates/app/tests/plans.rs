//! The plan's places under concurrency: 100 members racing for the last 3 places of a plan
//! end as exactly 3 placed and 97 queued at positions 1 to 97, on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

use std::collections::BTreeSet;

use roster_app::CommandMeta;
use roster_app::plans::PlanDefinition;
use roster_app::testing::{self, Backend};
use roster_domain::plan::{Interval, JoinPlan, Price, plan_id};
use roster_domain::{Plan, PlanCommand, PlanEvent};
use roster_store::ActorRef;
use uuid::Uuid;

fn meta() -> CommandMeta {
    CommandMeta::new(ActorRef::System)
}

#[tokio::test]
async fn a_hundred_racers_for_three_places_on_sqlite() {
    racers(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_hundred_racers_for_three_places_on_postgres() {
    racers(Backend::Postgres).await;
}

async fn racers(backend: Backend) {
    let test = testing::open(backend).await;
    let definition = PlanDefinition {
        name: "Workshop".into(),
        prices: vec![Price {
            currency: "EUR".into(),
            amount: 0,
            interval: Interval::Free,
        }],
        capacity: Some(3),
        seat_limit: None,
        content_tags: Vec::new(),
        claim_window_hours: None,
    };
    test.roster
        .plans
        .define("workshop", definition, &meta())
        .await
        .unwrap();
    let joins = (0..100).map(|_| {
        let commands = test.roster.commands.clone();
        tokio::spawn(async move {
            let join = PlanCommand::Join(JoinPlan {
                membership_id: Uuid::now_v7(),
                member_id: Uuid::now_v7(),
            });
            commands
                .execute::<Plan>(plan_id("workshop"), &join, &meta())
                .await
        })
    });
    let mut placed = 0;
    let mut positions = BTreeSet::new();
    for join in futures::future::join_all(joins).await {
        let handled = join.unwrap().unwrap();
        match &handled.events[..] {
            [PlanEvent::PlaceTaken(_)] => placed += 1,
            [PlanEvent::Waitlisted(e)] => assert!(positions.insert(e.position)),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(placed, 3);
    assert_eq!(positions, (1..=97).collect());
    let state = test.roster.plans.get("workshop").await.unwrap().state;
    assert_eq!((state.placed.len(), state.waiting.len()), (3, 97));
}
