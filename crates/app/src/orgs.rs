//! The organization use cases that reach beyond the organization's stream: an org command that
//! names a member must name a registered one. Everything else is the aggregate's own decision.

use roster_domain::org::{AddOrgMember, CreateOrg};
use roster_domain::{OrgCommand, Organization};
use uuid::Uuid;

use crate::{AppError, CommandHandler, CommandMeta, Handled};

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
