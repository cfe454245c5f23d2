//! The member use cases beyond one command: a registration that issues its token, and erasure
//! as a process of steps that a repeat finishes.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use roster_app::members::{ErasureStep, Registration};
use roster_app::testing::{self, Backend};
use roster_app::{AppError, CommandMeta};
use roster_domain::{MemberStatus, Tagged};
use roster_store::ActorRef;
use uuid::Uuid;

fn meta() -> CommandMeta {
    CommandMeta::new(ActorRef::System)
}

fn form(email: &str) -> Registration {
    Registration {
        email: email.into(),
        name: "Ada Lovelace".into(),
        ..Registration::default()
    }
}

#[tokio::test]
async fn a_registration_issues_a_token_that_leads_back_to_the_member() {
    let test = testing::open(Backend::Sqlite).await;
    let members = &test.roster.members;
    let handled = members
        .register(form("ada@example.com"), &meta())
        .await
        .unwrap();
    let names: Vec<&str> = handled.events.iter().map(Tagged::name).collect();
    assert_eq!(
        names,
        ["MemberRegistered.v1", "MemberVerificationIssued.v1"]
    );
    assert_eq!(handled.state.status, MemberStatus::PendingConfirmation);

    let member = handled.state.member_id.unwrap();
    let nonce = handled.state.verification.unwrap().nonce;
    let token = members.tickets().token(member, &nonce);
    let (found, _hash) = members.tickets().find(&token).await.unwrap().unwrap();
    assert_eq!(found, member);
    assert!(
        members
            .tickets()
            .find("not a token")
            .await
            .unwrap()
            .is_none()
    );
}

/// Counts its runs, and fails the first one (a step that could not finish, say).
struct Flaky(AtomicUsize);

#[async_trait]
impl ErasureStep for Flaky {
    fn name(&self) -> &'static str {
        "flaky test step"
    }

    async fn run(&self, _member: Uuid, _meta: &CommandMeta) -> Result<(), AppError> {
        match self.0.fetch_add(1, Ordering::SeqCst) {
            0 => Err(AppError::Encode("not this time".into())),
            _ => Ok(()),
        }
    }
}

#[tokio::test]
async fn an_erasure_that_failed_half_way_is_finished_by_repeating_it() {
    let test = testing::open(Backend::Sqlite).await;
    let flaky = Arc::new(Flaky(AtomicUsize::new(0)));
    let members = test.roster.members.clone().with_erasure_step(flaky.clone());
    let handled = members
        .register(form("gone@example.com"), &meta())
        .await
        .unwrap();
    let member = handled.state.member_id.unwrap();

    assert!(members.erase(member, &meta()).await.is_err());
    let erased = members.erase(member, &meta()).await.unwrap();
    assert_eq!(erased.state.status, MemberStatus::Erased);
    assert!(erased.events.is_empty(), "the request was recorded once");
    assert_eq!(flaky.0.load(Ordering::SeqCst), 2);
    // The first step ran too: the member's data key is gone.
    assert!(
        !test.roster.vault.shred(member).await.unwrap(),
        "already shredded"
    );
    let again = test
        .roster
        .members
        .register(form("gone@example.com"), &meta())
        .await;
    assert!(again.is_ok(), "the address is free again: {again:?}");

    let unknown = members.erase(Uuid::now_v7(), &meta()).await;
    assert!(matches!(unknown, Err(AppError::NotFound { .. })));
}
