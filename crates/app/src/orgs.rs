//! The organization use cases that reach beyond the organization's stream: an org command that
//! names a member must name a registered one. Everything else is the aggregate's own decision.

use roster_domain::org::{AddOrgMember, CreateOrg, CreateOrgGroup};
use roster_domain::{OrgCommand, OrgState, Organization, seats_used};
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
