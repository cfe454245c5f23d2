//! Command handling end to end over the embedded store: metadata, sealing, shredding, no-ops.

// The fixture helpers are plain functions, not #[test]s, so clippy's test exemption does not
// reach them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use roster_app::clock::{Clock, ManualClock};
use roster_app::testing::{self, Backend};
use roster_app::{AppError, CommandHandler, CommandMeta, NewOrg, Orgs};
use roster_domain::member::{EditMemberProfile, RegisterMember, SuspendMember};
use roster_domain::org::AddOrgMember;
use roster_domain::{DomainError, Member, MemberCommand, MemberStatus, OrgCommand};
use roster_store::{ActorRef, DynLog};
use uuid::Uuid;

struct Fixture {
    commands: CommandHandler,
    orgs: Orgs,
    store: DynLog,
    clock: Arc<ManualClock>,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let (settings, dir) = testing::settings(Backend::Sqlite).await;
    let start = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
    let test = testing::open_at(settings, dir, start).await;
    Fixture {
        commands: test.roster.commands.clone(),
        orgs: test.roster.orgs.clone(),
        store: test.roster.log.clone(),
        clock: test.clock,
        _dir: test.dir,
    }
}

impl Fixture {
    /// Registers a member with this email, as a trusted caller.
    async fn member(&self, email: &str) -> Uuid {
        let id = self.commands.new_id();
        let system = CommandMeta::new(ActorRef::System);
        self.commands
            .execute::<Member>(id, &register_command(id, email), &system)
            .await
            .unwrap();
        id
    }

    /// Creates an organization owned by `owner` with room for five.
    async fn org(&self, owner: Uuid) -> Uuid {
        let system = CommandMeta::new(ActorRef::System);
        let created = self.orgs.create(new_org(owner, 5), &system).await.unwrap();
        created.state.org_id.unwrap()
    }
}

fn new_org(owner_id: Uuid, seat_limit: u32) -> NewOrg {
    NewOrg {
        name: "Acme".into(),
        owner_id,
        seat_limit,
    }
}

fn register_command(member_id: Uuid, email: &str) -> MemberCommand {
    MemberCommand::Register(RegisterMember {
        member_id,
        email: email.into(),
        name: "Ada Lovelace".into(),
        fields: BTreeMap::from([("company_size".into(), "12".into())]),
        company: Some("Analytical Engines".into()),
        location: None,
        verification: None,
        referred_by: None,
    })
}

#[tokio::test]
async fn every_event_carries_the_commands_metadata_and_the_injected_time() {
    let f = fixture().await;
    let member_id = f.commands.new_id();
    let mut meta = CommandMeta::new(ActorRef::App("key-1".into()));
    meta.idempotency_key = Some("idem-1".into());
    meta.causation_id = Some(Uuid::now_v7());
    let handled = f
        .commands
        .execute::<Member>(
            member_id,
            &register_command(member_id, "ada@example.com"),
            &meta,
        )
        .await
        .unwrap();

    let events = f.store.read_stream(&handled.stream, 0, 10).await.unwrap();
    assert_eq!(events.len(), 1);
    let event = &events[0];
    assert_eq!(handled.position, event.position);
    assert_eq!(event.metadata.actor, ActorRef::App("key-1".into()));
    assert_eq!(event.metadata.correlation_id, meta.correlation_id);
    assert_eq!(event.metadata.causation_id, meta.causation_id);
    assert_eq!(event.metadata.idempotency_key.as_deref(), Some("idem-1"));
    assert_eq!(event.metadata.recorded_at, f.clock.now());
    assert_eq!(event.event_id.get_version_num(), 7);
}

#[tokio::test]
async fn the_log_holds_no_plaintext_personal_data_and_erasure_shreds_it() {
    let f = fixture().await;
    let member_id = f.commands.new_id();
    let meta = CommandMeta::new(ActorRef::System);
    f.commands
        .execute::<Member>(
            member_id,
            &register_command(member_id, "Ada@Example.com"),
            &meta,
        )
        .await
        .unwrap();
    let edit = MemberCommand::EditProfile(EditMemberProfile {
        name: Some("Augusta Ada King".into()),
        ..Default::default()
    });
    f.commands
        .execute::<Member>(member_id, &edit, &meta)
        .await
        .unwrap();

    let raw = format!("{:?}", f.store.read_all(0, 100).await.unwrap());
    for secret in [
        "ada@example.com",
        "Ada Lovelace",
        "Augusta",
        "Analytical",
        "company_size",
    ] {
        assert!(!raw.contains(secret), "{secret} is readable in the log");
    }
    let loaded = f.commands.load::<Member>(member_id).await.unwrap();
    let personal = loaded.state.personal.clone().unwrap();
    assert_eq!(
        (personal.email.as_str(), personal.name.as_str()),
        ("ada@example.com", "Augusta Ada King")
    );

    f.commands
        .execute::<Member>(
            member_id,
            &MemberCommand::RequestErasure(Default::default()),
            &meta,
        )
        .await
        .unwrap();
    assert!(f.commands.vault().shred(member_id).await.unwrap());
    let erased = f.commands.load::<Member>(member_id).await.unwrap();
    assert_eq!(erased.state.status, MemberStatus::Erased);
    assert_eq!(
        erased.state.personal, None,
        "shredded data folds as unknown"
    );
}

#[tokio::test]
async fn a_rejected_command_appends_nothing_and_says_why() {
    let f = fixture().await;
    let member_id = f.commands.new_id();
    let meta = CommandMeta::new(ActorRef::System);
    let bad = register_command(member_id, "not-an-email");
    let err = f
        .commands
        .execute::<Member>(member_id, &bad, &meta)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Domain(e) if e.code() == "invalid-input"),
        "{err:?}"
    );
    let suspend = MemberCommand::Suspend(SuspendMember {
        reason: "abuse".into(),
    });
    let err = f
        .commands
        .execute::<Member>(member_id, &suspend, &meta)
        .await
        .unwrap_err();
    assert!(matches!(err, AppError::Domain(_)), "{err:?}");
    assert_eq!(f.store.head().await.unwrap(), 0);
}

#[tokio::test]
async fn org_commands_naming_unknown_members_are_not_found() {
    let f = fixture().await;
    let meta = CommandMeta::new(ActorRef::System);
    let ghost = f.commands.new_id();
    assert!(matches!(
        f.orgs.create(new_org(ghost, 3), &meta).await,
        Err(AppError::NotFound { .. })
    ));

    let owner = f.commands.new_id();
    f.commands
        .execute::<Member>(owner, &register_command(owner, "owner@example.com"), &meta)
        .await
        .unwrap();
    let created = f.orgs.create(new_org(owner, 3), &meta).await.unwrap();
    let add = OrgCommand::AddMember(AddOrgMember {
        member_id: ghost,
        role: "member".into(),
    });
    let org_id = created.state.org_id.unwrap();
    assert!(matches!(
        f.orgs.execute(org_id, &add, &meta).await,
        Err(AppError::NotFound { .. })
    ));
}

#[tokio::test]
async fn a_member_actor_is_held_to_their_own_rights() {
    let f = fixture().await;
    let owner = f.member("owner@example.com").await;
    let admin = f.member("admin@example.com").await;
    let newcomer = f.member("new@example.com").await;
    let org_id = f.org(owner).await;
    let as_owner = CommandMeta::new(ActorRef::Member(owner));
    let add_admin = AddOrgMember {
        member_id: admin,
        role: "administrator".into(),
    };
    f.orgs
        .execute(org_id, &OrgCommand::AddMember(add_admin), &as_owner)
        .await
        .unwrap();

    let as_admin = CommandMeta::new(ActorRef::Member(admin));
    let add = AddOrgMember {
        member_id: newcomer,
        role: "member".into(),
    };
    let err = f
        .orgs
        .execute(org_id, &OrgCommand::AddMember(add), &as_admin)
        .await
        .unwrap_err();
    assert!(
        matches!(err, AppError::Domain(DomainError::Forbidden { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn an_erased_members_email_can_register_again() {
    let f = fixture().await;
    let meta = CommandMeta::new(ActorRef::System);
    let first = f.commands.new_id();
    f.commands
        .execute::<Member>(first, &register_command(first, "ada@example.com"), &meta)
        .await
        .unwrap();
    let second = f.commands.new_id();
    let taken = f
        .commands
        .execute::<Member>(second, &register_command(second, "ada@example.com"), &meta)
        .await;
    assert!(matches!(taken, Err(AppError::Taken { .. })), "{taken:?}");

    f.commands
        .execute::<Member>(
            first,
            &MemberCommand::RequestErasure(Default::default()),
            &meta,
        )
        .await
        .unwrap();
    f.commands.vault().shred(first).await.unwrap();
    f.commands
        .execute::<Member>(second, &register_command(second, "ada@example.com"), &meta)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_suspended_or_erased_member_may_not_act() {
    let f = fixture().await;
    let system = CommandMeta::new(ActorRef::System);
    let owner = f.member("owner@example.com").await;
    let newcomer = f.member("new@example.com").await;
    let org_id = f.org(owner).await;
    let suspend = MemberCommand::Suspend(SuspendMember {
        reason: "chargeback".into(),
    });
    f.commands
        .execute::<Member>(owner, &suspend, &system)
        .await
        .unwrap();

    let as_owner = CommandMeta::new(ActorRef::Member(owner));
    let add = AddOrgMember {
        member_id: newcomer,
        role: "member".into(),
    };
    let err = f
        .orgs
        .execute(org_id, &OrgCommand::AddMember(add.clone()), &as_owner)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Domain(e) if e.code() == "forbidden"),
        "{err:?}"
    );

    f.commands
        .execute::<Member>(
            owner,
            &MemberCommand::Reactivate(Default::default()),
            &system,
        )
        .await
        .unwrap();
    f.orgs
        .execute(org_id, &OrgCommand::AddMember(add), &as_owner)
        .await
        .unwrap();

    let ghost = CommandMeta::new(ActorRef::Member(f.commands.new_id()));
    let edit = MemberCommand::EditProfile(EditMemberProfile {
        name: Some("X".into()),
        ..Default::default()
    });
    let err = f
        .commands
        .execute::<Member>(newcomer, &edit, &ghost)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AppError::Domain(e) if e.code() == "forbidden"),
        "{err:?}"
    );
}
