//! Races that only one side may win, on both backends: the same test bodies, two stores.

// The shared test bodies are plain async functions, not #[test]s, so clippy's test exemption
// does not reach them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use futures::future::join_all;
use roster_app::testing::{self, Backend};
use roster_app::{AppError, CommandMeta, NewOrg, Roster};
use roster_domain::member::RegisterMember;
use roster_domain::org::AddOrgMember;
use roster_domain::{DomainError, Member, MemberCommand, OrgCommand, Organization};
use roster_store::ActorRef;
use uuid::Uuid;

fn meta() -> CommandMeta {
    CommandMeta::new(ActorRef::System)
}

async fn register(roster: &Roster, email: &str) -> Result<Uuid, AppError> {
    let member_id = Uuid::now_v7();
    let command = MemberCommand::Register(RegisterMember {
        member_id,
        email: email.into(),
        name: "Someone".into(),
        fields: BTreeMap::new(),
        company: None,
        location: None,
        verification: None,
        referred_by: None,
    });
    roster
        .commands
        .execute::<Member>(member_id, &command, &meta())
        .await?;
    Ok(member_id)
}

/// 50 concurrent "add member" commands on an org with 3 free seats admit exactly 3.
async fn fifty_adds_fill_exactly_the_free_seats(backend: Backend) {
    let test = testing::open(backend).await;
    let roster = test.roster;
    let owner = register(&roster, "owner@example.com").await.unwrap();
    let create = NewOrg {
        name: "Acme".into(),
        owner_id: owner,
        seat_limit: 4,
    };
    let created = roster.orgs.create(create, &meta()).await.unwrap();
    let org_id = created.state.org_id.unwrap();

    let mut candidates = Vec::new();
    for i in 0..50 {
        candidates.push(
            register(&roster, &format!("member{i}@example.com"))
                .await
                .unwrap(),
        );
    }
    let outcomes = join_all(candidates.iter().map(|&member_id| {
        let roster = roster.clone();
        async move {
            let add = OrgCommand::AddMember(AddOrgMember {
                member_id,
                role: "member".into(),
            });
            roster.orgs.execute(org_id, &add, &meta()).await
        }
    }))
    .await;

    let admitted = outcomes.iter().filter(|o| o.is_ok()).count();
    let refused = outcomes
        .iter()
        .filter(|o| {
            matches!(
                o,
                Err(AppError::Domain(DomainError::SeatLimitReached { .. }))
            )
        })
        .count();
    assert_eq!(
        (admitted, refused),
        (3, 47),
        "{:?}",
        outcomes.iter().find(|o| o.is_err())
    );
    let org = roster.commands.load::<Organization>(org_id).await.unwrap();
    assert_eq!(
        org.state.members.len(),
        4,
        "the owner and exactly three members"
    );
}

/// 50 concurrent registrations of one email create one member.
async fn fifty_registrations_of_one_email_create_one_member(backend: Backend) {
    let test = testing::open(backend).await;
    let (roster, store) = (test.roster.clone(), test.roster.log.clone());
    let outcomes = join_all((0..50).map(|i| {
        let roster = roster.clone();
        // Case and whitespace differ: the email is normalised before it is claimed.
        let email = if i % 2 == 0 {
            "Ada@Example.com ".to_string()
        } else {
            "ada@example.com".to_string()
        };
        async move { register(&roster, &email).await }
    }))
    .await;
    let winners: Vec<Uuid> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok().copied())
        .collect();
    let taken = outcomes
        .iter()
        .filter(|o| matches!(o, Err(AppError::Taken { .. })))
        .count();
    assert_eq!((winners.len(), taken), (1, 49));

    let all = store.read_all(0, 1000).await.unwrap();
    let registered = all
        .iter()
        .filter(|e| e.event_type == "MemberRegistered.v1")
        .count();
    assert_eq!(registered, 1, "losers leave nothing in the log");
    let member = roster.commands.load::<Member>(winners[0]).await.unwrap();
    assert_eq!(member.state.personal.unwrap().email, "ada@example.com");
}

roster_store::on_both_backends!(
    fifty_adds_fill_exactly_the_free_seats,
    fifty_registrations_of_one_email_create_one_member
);
