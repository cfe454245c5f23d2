//! A Roster with its read-model database on a throw-away store, a clock the test moves, and
//! helpers to drive commands and compare tables.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use roster_app::clock::{ManualClock, V7Ids};
use roster_app::verification::{DEFAULT_TOKEN_TTL, Verification};
use roster_app::{CommandHandler, CommandMeta, Runtime};
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
use roster_store::pii::{MasterKey, Vault};
use roster_store::{ActorRef, DynStore};
use tempfile::TempDir;
use uuid::Uuid;

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct Env {
    pub runtime: Runtime,
    pub db: Db,
    pub read: ReadModels,
    pub clock: Arc<ManualClock>,
    _dir: Option<TempDir>,
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap()
}

pub async fn env(backend: Backend) -> Env {
    let (store, db, dir): (DynStore, Db, Option<TempDir>) = match backend {
        Backend::Sqlite => {
            let (store, dir) = roster_store::testing::sqlite_temp().await;
            let db = Db::sqlite(store.path()).await.unwrap();
            (Arc::new(store), db, Some(dir))
        }
        Backend::Postgres => {
            let store = roster_store::testing::postgres_temp().await;
            let db = Db::postgres(store.connect_options().clone()).await.unwrap();
            (Arc::new(store), db, None)
        }
    };
    let vault = Vault::new(&MasterKey::generate(), store.clone());
    let clock = Arc::new(ManualClock::new(t0()));
    let commands =
        CommandHandler::new(store.clone(), vault.clone(), clock.clone(), Arc::new(V7Ids));
    let runtime = Runtime {
        store,
        vault,
        commands,
    };
    let read = ReadModels::with_clock(&runtime, db.clone(), clock.clone());
    Env {
        runtime,
        db,
        read,
        clock,
        _dir: dir,
    }
}

impl Env {
    pub async fn start(&self) -> Projections {
        let config = RunnerConfig {
            engine: fast_retries(),
        };
        Projections::start(&self.runtime, self.db.clone(), config)
            .await
            .unwrap()
    }

    pub async fn head(&self) -> u64 {
        self.runtime.store.head().await.unwrap()
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
        let id = self.runtime.commands.new_id();
        let command = MemberCommand::Register(RegisterMember {
            member_id: id,
            email: format!("{}-{}@example.com", name.to_lowercase(), id.simple()),
            name: name.into(),
            fields: BTreeMap::from([("plan".into(), "gold".into())]),
            company: Some("Acme".into()),
            location: None,
            verification: None,
        });
        self.member(id, command).await;
        id
    }

    fn verification(&self) -> Verification {
        Verification::new(
            self.runtime.vault.clone(),
            self.runtime.store.clone(),
            DEFAULT_TOKEN_TTL,
        )
    }

    /// Issues a verification token and confirms the member's email with it (by its hash, as
    /// the API does after looking the presented token up).
    pub async fn confirm(&self, id: Uuid) {
        let ticket = self.verification().ticket(id);
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
        self.runtime
            .commands
            .execute::<Member>(id, &command, &meta())
            .await
            .unwrap();
    }

    pub async fn org(&self, id: Uuid, command: OrgCommand) {
        self.runtime
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
        let org = self.runtime.commands.new_id();
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
        let group = self.runtime.commands.new_id();
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
