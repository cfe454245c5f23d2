//! Cross-aggregate rules of members and organizations that the pure domain cannot see:
//! one member per email (a claim written with the registration), a verification token leads
//! to one member (a claim written with the token), and org commands that name members must
//! name registered ones.

use roster_domain::DomainError;
use roster_domain::member::MemberStatus;
use roster_domain::org::{AddOrgMember, CreateOrg};
use roster_domain::{Member, MemberEvent, MemberState, OrgCommand, OrgEvent, Organization};
use roster_store::pii::Vault;
use roster_store::{ActorRef, ClaimOp};
use uuid::Uuid;

use crate::verification::TOKEN_SCOPE;
use crate::{AppError, CommandHandler, CommandMeta, Handled, UniqueClaims};

/// The claim scope of normalised, keyed-hashed emails.
pub const EMAIL_SCOPE: &str = "email";

/// Registration claims the keyed hash of the normalised email; erasure releases it, so the
/// address can register again while nothing in the log links it to the erased member.
///
/// Issuing a verification token claims the token's hash (so a presented token finds its
/// member); a newer token, the confirmation and erasure release the older one.
impl UniqueClaims for Member {
    fn claims(before: &MemberState, events: &[MemberEvent], vault: &Vault) -> Vec<ClaimOp> {
        let mut claims = email_claims(before, events, vault);
        claims.extend(token_claims(before, events));
        claims
    }
}

fn token_claims(before: &MemberState, events: &[MemberEvent]) -> Vec<ClaimOp> {
    let op = |hash: &str, owner: Uuid, claim: bool| {
        let (scope, key, owner) = (TOKEN_SCOPE.into(), hash.to_owned(), owner.to_string());
        if claim {
            ClaimOp::Claim { scope, key, owner }
        } else {
            ClaimOp::Release { scope, key, owner }
        }
    };
    let release_current = |owner: Uuid| {
        before
            .verification
            .as_ref()
            .map(|current| op(&current.token_hash, owner, false))
    };
    let mut claims = Vec::new();
    for event in events {
        match event {
            MemberEvent::VerificationIssued(e) => {
                claims.extend(release_current(e.member_id));
                claims.push(op(&e.token_hash, e.member_id, true));
            }
            MemberEvent::EmailConfirmed(e) => claims.extend(release_current(e.member_id)),
            MemberEvent::ErasureRequested(e) => claims.extend(release_current(e.member_id)),
            _ => {}
        }
    }
    claims
}

fn email_claims(before: &MemberState, events: &[MemberEvent], vault: &Vault) -> Vec<ClaimOp> {
    let email = |email: &str, owner: Uuid, claim: bool| {
        let (scope, key, owner) = (
            EMAIL_SCOPE.into(),
            vault.email_index(email),
            owner.to_string(),
        );
        if claim {
            ClaimOp::Claim { scope, key, owner }
        } else {
            ClaimOp::Release { scope, key, owner }
        }
    };
    events
        .iter()
        .filter_map(|event| match event {
            MemberEvent::Registered(r) => r
                .personal
                .as_ref()
                .map(|p| email(&p.email, r.member_id, true)),
            MemberEvent::ErasureRequested(e) => before
                .personal
                .as_ref()
                .map(|p| email(&p.email, e.member_id, false)),
            _ => None,
        })
        .collect()
}

impl UniqueClaims for Organization {}

impl CommandHandler {
    /// A member acting through an upstream app (`X-Roster-Actor`) must be registered and
    /// neither suspended nor erased: their grants stay recorded, but they may use none.
    pub async fn ensure_actor_may_act(&self, meta: &CommandMeta) -> Result<(), AppError> {
        let ActorRef::Member(actor) = meta.actor else {
            return Ok(());
        };
        let status = self.load::<Member>(actor).await?.state.status;
        match status {
            MemberStatus::Active | MemberStatus::PendingConfirmation => Ok(()),
            other => Err(DomainError::NotAllowed {
                reason: format!("the acting member is {}", other.as_str()),
            }
            .into()),
        }
    }

    /// Fails with `NotFound` unless the member is registered and not erased.
    pub async fn require_member(&self, member_id: Uuid) -> Result<(), AppError> {
        let member = self.load::<Member>(member_id).await?;
        match member.state.status {
            MemberStatus::Unregistered | MemberStatus::Erased => Err(AppError::NotFound {
                what: format!("member {member_id}"),
            }),
            _ => Ok(()),
        }
    }

    /// Creates an organization owned by a registered member.
    pub async fn create_org(
        &self,
        command: CreateOrg,
        meta: &CommandMeta,
    ) -> Result<Handled<OrgEvent>, AppError> {
        self.require_member(command.owner_id).await?;
        let org_id = command.org_id;
        self.execute::<Organization>(org_id, &OrgCommand::Create(command), meta)
            .await
    }

    /// Adds a registered member to an existing organization.
    pub async fn add_org_member(
        &self,
        org_id: Uuid,
        command: AddOrgMember,
        meta: &CommandMeta,
    ) -> Result<Handled<OrgEvent>, AppError> {
        self.require_member(command.member_id).await?;
        self.execute::<Organization>(org_id, &OrgCommand::AddMember(command), meta)
            .await
    }
}
