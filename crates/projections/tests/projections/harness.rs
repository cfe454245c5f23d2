//! A Roster with its read-model database on a throw-away store, a clock the test moves, and
//! helpers to drive commands and compare tables.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use roster_app::clock::ManualClock;
pub use roster_app::testing::Backend;
use roster_app::{CommandMeta, Roster, testing};
use roster_domain::member::{
    ConfirmMemberEmail, EditMemberProfile, IssueMemberVerification, RegisterMember, Visibility,
};
use roster_domain::org::{
    AddOrgMember, AssignOrgRole, CreateOrg, CreateOrgGroup, DefineOrgRole, GrantOrgGroupRole,
    JoinOrgGroup, RevokeOrgRole,
};
use roster_domain::{Member, MemberCommand, OrgCommand, Organization};
use roster_projections::rows::Val;
use roster_projections::{Db, EngineConfig, Projections, ReadModels, RunnerConfig, projection};
use roster_store::ActorRef;
use tempfile::TempDir;
use uuid::Uuid;

pub struct Env {
    pub roster: Roster,
    pub db: Db,
    pub read: ReadModels,
    pub clock: Arc<ManualClock>,
    _dir: TempDir,
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

pub async fn env(backend: Backend) -> Env {
    let (settings, dir) = testing::settings(backend).await;
    let test = testing::open_at(settings, dir, t0()).await;
    let read = ReadModels::open(&test.roster).await.unwrap();
    Env {
        db: test.roster.sql.clone(),
        roster: test.roster,
        read,
        clock: test.clock,
        _dir: test.dir,
    }
}

impl Env {
    pub async fn start(&self) -> Projections {
        let config = RunnerConfig {
            engine: fast_retries(),
        };
        Projections::start(&self.roster, config).await.unwrap()
    }

    pub async fn head(&self) -> u64 {
        self.roster.log.head().await.unwrap()
    }

    /// Waits until every projection has applied the whole log.
    pub async fn caught_up(&self) {
        let head = self.head().await;
        for p in projection::all() {
            self.read
                .wait_for(p.name(), head, Duration::from_secs(30))
                .await
                .unwrap();
        }
    }

    pub async fn register(&self, name: &str) -> Uuid {
        let id = self.roster.commands.new_id();
        let command = MemberCommand::Register(RegisterMember {
            member_id: id,
            email: format!("{}-{}@example.com", name.to_lowercase(), id.simple()),
            name: name.into(),
            fields: BTreeMap::from([("plan".into(), "gold".into())]),
            company: Some("Acme".into()),
            location: None,
            verification: None,
            referred_by: None,
        });
        self.member(id, command).await;
        id
    }

    /// Issues a verification token and confirms the member's email with it (by its hash, as
    /// the API does after looking the presented token up).
    pub async fn confirm(&self, id: Uuid) {
        let ticket = self.roster.members.tickets().ticket(id);
        let token_hash = ticket.token_hash.clone();
        self.member(
            id,
            MemberCommand::IssueVerification(IssueMemberVerification { ticket }),
        )
        .await;
        self.member(
            id,
            MemberCommand::ConfirmEmail(ConfirmMemberEmail { token_hash }),
        )
        .await;
    }

    pub async fn member(&self, id: Uuid, command: MemberCommand) {
        self.roster
            .commands
            .execute::<Member>(id, &command, &meta())
            .await
            .unwrap();
    }

    pub async fn org(&self, id: Uuid, command: OrgCommand) {
        self.roster
            .commands
            .execute::<Organization>(id, &command, &meta())
            .await
            .unwrap();
    }

    /// A bit of everything: members registered, confirmed, edited; an org with a custom role,
    /// a group, scoped and expiring grants, a revocation.
    pub async fn workload(&self, members: usize) -> (Vec<Uuid>, Uuid) {
        let mut ids = Vec::new();
        for i in 0..members {
            let id = self.register(&format!("Member{i}")).await;
            if i % 2 == 0 {
                self.confirm(id).await;
            }
            if i % 3 == 0 {
                let edit = EditMemberProfile {
                    name: Some(format!("Renamed{i}")),
                    visibility: Some(Visibility {
                        public: true,
                        searchable: false,
                    }),
                    ..EditMemberProfile::default()
                };
                self.member(id, MemberCommand::EditProfile(edit)).await;
            }
            ids.push(id);
        }
        let org = self.roster.commands.new_id();
        self.org_setup(org, &ids).await;
        (ids, org)
    }

    async fn org_setup(&self, org: Uuid, ids: &[Uuid]) {
        let owner = ids[0];
        self.org(
            org,
            OrgCommand::Create(CreateOrg {
                org_id: org,
                name: "Acme".into(),
                owner_id: owner,
                seat_limit: 50,
            }),
        )
        .await;
        self.org(
            org,
            OrgCommand::DefineRole(DefineOrgRole {
                name: "editor".into(),
                permissions: vec!["content.pages.edit".into(), "reports.view".into()],
                occupies_seat: true,
            }),
        )
        .await;
        let group = self.roster.commands.new_id();
        self.org(
            org,
            OrgCommand::CreateGroup(CreateOrgGroup {
                group_id: group,
                name: "writers".into(),
            }),
        )
        .await;
        self.org(
            org,
            OrgCommand::GrantGroupRole(GrantOrgGroupRole {
                group_id: group,
                role: "editor".into(),
                scope: None,
            }),
        )
        .await;
        for (i, member) in ids.iter().enumerate().skip(1) {
            let role = if i % 2 == 0 { "customer" } else { "freelancer" };
            self.org(
                org,
                OrgCommand::AddMember(AddOrgMember {
                    member_id: *member,
                    role: role.into(),
                }),
            )
            .await;
            if i % 3 == 0 {
                self.org(
                    org,
                    OrgCommand::JoinGroup(JoinOrgGroup {
                        group_id: group,
                        member_id: *member,
                    }),
                )
                .await;
            }
            if i % 4 == 1 {
                self.org(
                    org,
                    OrgCommand::AssignRole(AssignOrgRole {
                        member_id: *member,
                        role: "guest".into(),
                        scope: Some("channel:42".into()),
                        expires_at: Some(t0() + chrono::Duration::days(30)),
                    }),
                )
                .await;
            }
            if i % 5 == 4 {
                self.org(
                    org,
                    OrgCommand::RevokeRole(RevokeOrgRole {
                        member_id: *member,
                        role: role.into(),
                        scope: None,
                    }),
                )
                .await;
            }
        }
    }

    /// Every read-model table (through its view), ordered by its key.
    pub async fn snapshot(&self) -> BTreeMap<&'static str, Vec<Vec<Val>>> {
        let mut tables = BTreeMap::new();
        for p in projection::all() {
            for table in p.tables() {
                let sql = format!(
                    "SELECT {} FROM {} ORDER BY {}",
                    table.column_names().join(", "),
                    table.name,
                    table.key.join(", ")
                );
                tables.insert(table.name, self.db.query(&sql, Vec::new()).await.unwrap());
            }
        }
        tables
    }
}

pub fn meta() -> CommandMeta {
    CommandMeta::new(ActorRef::App("test-app".into()))
}

pub fn fast_retries() -> EngineConfig {
    EngineConfig {
        batch: 100,
        attempts: 2,
        backoff: Duration::from_millis(10),
    }
}

/// Asserts two snapshots are equal table by table, naming the first table that differs.
pub fn assert_same_tables(
    live: &BTreeMap<&str, Vec<Vec<Val>>>,
    rebuilt: &BTreeMap<&str, Vec<Vec<Val>>>,
) {
    assert_eq!(
        live.keys().collect::<Vec<_>>(),
        rebuilt.keys().collect::<Vec<_>>()
    );
    for (table, rows) in live {
        assert_eq!(
            rows, &rebuilt[table],
            "table {table} differs after the rebuild"
        );
    }
}
