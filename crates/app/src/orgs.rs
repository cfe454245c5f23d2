//! The organization use cases that reach beyond the organization's stream: an org command that
//! names a member must name a registered one. Everything else is the aggregate's own decision.

use roster_domain::org::{
    AddOrgMember, ChangeOrgPackage, CreateOrg, CreateOrgGroup, OrgPackage, SettleOrgGrantExpiries,
};
use roster_domain::plan::plan_id;
use roster_domain::{DomainError, OrgCommand, OrgState, Organization, Plan, seats_used};
use uuid::Uuid;

use crate::{AppError, CommandHandler, CommandMeta, Handled};

/// An organization as its stream folds now, with the seats it uses at the clock's time.
#[derive(Debug, Clone)]
pub struct OrgSnapshot {
    pub state: OrgState,
    pub seats_used: u32,
    /// Global position of the organization's last event.
    pub position: u64,
}

/// What creating an organization takes; the id is made here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrg {
    pub name: String,
    /// A registered member: the first owner, in a seat.
    pub owner_id: Uuid,
    pub seat_limit: u32,
}

/// The organization use cases. Cheap to clone.
#[derive(Clone)]
pub struct Orgs {
    commands: CommandHandler,
}

impl Orgs {
    pub fn new(commands: CommandHandler) -> Self {
        Self { commands }
    }

    /// Creates an organization, under a fresh id, owned by a registered member.
    pub async fn create(
        &self,
        org: NewOrg,
        meta: &CommandMeta,
    ) -> Result<Handled<Organization>, AppError> {
        self.commands.require_member(org.owner_id).await?;
        let org_id = self.commands.new_id();
        let command = OrgCommand::Create(CreateOrg {
            org_id,
            name: org.name,
            owner_id: org.owner_id,
            seat_limit: org.seat_limit,
        });
        self.execute(org_id, &command, meta).await
    }

    /// The organization, or `NotFound` when none was created under this id.
    pub async fn get(&self, org_id: Uuid) -> Result<OrgSnapshot, AppError> {
        let loaded = self.commands.load::<Organization>(org_id).await?;
        if !loaded.state.is_created() {
            return Err(AppError::NotFound {
                what: format!("organization {org_id}"),
            });
        }
        Ok(OrgSnapshot {
            seats_used: seats_used(&loaded.state, self.commands.clock().now()),
            state: loaded.state,
            position: loaded.position,
        })
    }

    /// Creates a group in the organization under a fresh id, which it answers with.
    pub async fn create_group(
        &self,
        org_id: Uuid,
        name: String,
        meta: &CommandMeta,
    ) -> Result<(Uuid, Handled<Organization>), AppError> {
        let group_id = self.commands.new_id();
        let command = OrgCommand::CreateGroup(CreateOrgGroup { group_id, name });
        let handled = self.execute(org_id, &command, meta).await?;
        Ok((group_id, handled))
    }

    /// Puts the organization on the organization plan `plan` (an upgrade, a downgrade or a
    /// change of package), or takes it off its package (`None`). The seat limit comes from the
    /// plan now; choosing the package it is on again keeps the limit it got then (a plan's
    /// later changes do not rewrite its holders' terms). The aggregate checks the actor's
    /// `billing.plan.manage`; a downgrade keeps the seats already taken.
    pub async fn change_package(
        &self,
        org_id: Uuid,
        plan: Option<&str>,
        meta: &CommandMeta,
    ) -> Result<Handled<Organization>, AppError> {
        let package = match plan {
            Some(slug) => Some(self.package(org_id, slug).await?),
            None => None,
        };
        let command = OrgCommand::ChangePackage(ChangeOrgPackage { package });
        self.execute(org_id, &command, meta).await
    }

    /// The package `slug` gives this organization: the one it is on, or the plan's terms now.
    async fn package(&self, org_id: Uuid, slug: &str) -> Result<OrgPackage, AppError> {
        let current = self.get(org_id).await?.state.package;
        if let Some(package) = current.filter(|p| p.plan == slug) {
            return Ok(package);
        }
        let plan = self.commands.load::<Plan>(plan_id(slug)).await?.state;
        let terms = plan.terms.as_ref().ok_or_else(|| AppError::NotFound {
            what: format!("plan {slug}"),
        })?;
        if plan.retired {
            return Err(DomainError::InvalidState {
                message: format!("the plan {slug} is retired"),
            }
            .into());
        }
        let seat_limit = terms.seat_limit.ok_or_else(|| DomainError::InvalidInput {
            field: "plan".into(),
            reason: format!("{slug} is not an organization plan: it has no seat limit"),
        })?;
        Ok(OrgPackage {
            plan: slug.to_owned(),
            seat_limit,
        })
    }

    /// Settles the direct grants whose expiry has passed (the scheduler's step when one falls
    /// due); nothing when none has.
    pub async fn settle_grant_expiries(
        &self,
        org_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Handled<Organization>, AppError> {
        let command = OrgCommand::SettleGrantExpiries(SettleOrgGrantExpiries {});
        self.execute(org_id, &command, meta).await
    }

    /// Any organization command. One that adds a member must name a registered one.
    pub async fn execute(
        &self,
        org_id: Uuid,
        command: &OrgCommand,
        meta: &CommandMeta,
    ) -> Result<Handled<Organization>, AppError> {
        if let OrgCommand::AddMember(AddOrgMember { member_id, .. }) = command {
            self.commands.require_member(*member_id).await?;
        }
        self.commands
            .execute::<Organization>(org_id, command, meta)
            .await
    }
}
