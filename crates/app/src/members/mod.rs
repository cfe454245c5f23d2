//! The member use cases: registering (with the first verification token), confirming with a
//! token (throttled per client), asking for a new token, erasing (a process of steps), and the
//! plain commands. HTTP handlers and CLI commands call these and map the result; the rules
//! themselves are the domain's, or written here where they span more than one stream.

mod erasure;
mod referrals;
mod throttle;
pub mod tickets;

use std::sync::Arc;

use roster_domain::member::{
    ConfirmMemberEmail, IssueMemberVerification, RegisterMember, RequestMemberErasure,
};
use roster_domain::{DomainError, Member, MemberCommand, MemberState, MemberStatus};
use roster_store::DynClaims;
use uuid::Uuid;

use crate::sidedb::SideDb;
use crate::{AppError, CommandHandler, CommandMeta, Handled, Loaded};
pub use erasure::{EndMemberships, ErasureStep, ShredPersonalData};
pub use throttle::{
    ACCESS_CODE_FAILURES, CONFIRM_FAILURES, CONFIRM_WINDOW, Client, KEY_CONFIRM_FAILURES,
    PLAN_ACCESS_CODE_FAILURES,
};
pub(crate) use throttle::{give_back, take_from};
use tickets::Tickets;

/// What a registration form carries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registration {
    pub email: String,
    pub name: String,
    pub fields: std::collections::BTreeMap<String, String>,
    pub company: Option<String>,
    pub location: Option<String>,
    /// Another member's referral code: they are recorded as the referrer.
    pub referral_code: Option<String>,
}

/// The member use cases. Cheap to clone.
#[derive(Clone)]
pub struct Members {
    commands: CommandHandler,
    tickets: Tickets,
    side: SideDb,
    erasure: Vec<Arc<dyn ErasureStep>>,
}

impl Members {
    pub fn new(
        commands: CommandHandler,
        claims: DynClaims,
        side: SideDb,
        token_ttl: chrono::Duration,
    ) -> Self {
        let tickets = Tickets::new(commands.vault().clone(), claims, token_ttl);
        let shred = ShredPersonalData(commands.vault().clone());
        Self {
            commands,
            tickets,
            side,
            erasure: vec![Arc::new(shred)],
        }
    }

    /// Adds a step to the erasure process (after the ones already there).
    pub fn with_erasure_step(mut self, step: Arc<dyn ErasureStep>) -> Self {
        self.erasure.push(step);
        self
    }

    /// A member as their stream folds now (erased members too: their record says so); a
    /// member never registered is `NotFound`.
    pub async fn get(&self, member_id: Uuid) -> Result<Loaded<MemberState>, AppError> {
        let loaded = self.commands.load::<Member>(member_id).await?;
        match loaded.state.status {
            MemberStatus::Unregistered => Err(AppError::NotFound {
                what: format!("member {member_id}"),
            }),
            _ => Ok(loaded),
        }
    }

    /// Makes, rebuilds and finds verification tokens.
    pub fn tickets(&self) -> &Tickets {
        &self.tickets
    }

    /// Registers a new member under a fresh id. The first verification token is issued with
    /// the registration, in the same append; a reactor turns it into a mail once it commits.
    pub async fn register(
        &self,
        form: Registration,
        meta: &CommandMeta,
    ) -> Result<Handled<Member>, AppError> {
        let referred_by = match form.referral_code.as_deref() {
            Some(code) => Some(self.referrer(code).await?),
            None => None,
        };
        let member_id = self.commands.new_id();
        let command = MemberCommand::Register(RegisterMember {
            member_id,
            email: form.email,
            name: form.name,
            fields: form.fields,
            company: form.company,
            location: form.location,
            verification: Some(self.tickets.ticket(member_id)),
            referred_by,
        });
        let handled = self
            .commands
            .execute::<Member>(member_id, &command, meta)
            .await?;
        self.record_code(member_id).await;
        Ok(handled)
    }

    /// Issues a new token (its mail follows from a worker); older links stop working. How often
    /// is the domain's rule (one a minute, five a day).
    pub async fn resend_verification(
        &self,
        member_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Handled<Member>, AppError> {
        let ticket = self.tickets.ticket(member_id);
        let command = MemberCommand::IssueVerification(IssueMemberVerification { ticket });
        self.commands
            .execute::<Member>(member_id, &command, meta)
            .await
            .map_err(|e| match e {
                AppError::Domain(DomainError::NotFound { .. }) => AppError::NotFound {
                    what: format!("member {member_id}"),
                },
                other => other,
            })
    }

    /// Confirms the email of the member `token` was issued to. Failed confirmations are
    /// counted per client ([`Client`]); over the limit the client waits, even with a good
    /// token, until its window ends.
    pub async fn confirm(
        &self,
        token: &str,
        client: &Client,
        meta: &CommandMeta,
    ) -> Result<Handled<Member>, AppError> {
        let now = self.commands.clock().now();
        let counted = throttle::take(&self.side, client, now).await?;
        let confirmed = self.confirm_token(token, meta).await;
        // Only a bad token counts against the client.
        let bad_token = matches!(
            confirmed,
            Err(AppError::Domain(DomainError::InvalidToken { .. }))
        );
        if !bad_token {
            throttle::give_back(&self.side, &counted).await;
        }
        confirmed
    }

    async fn confirm_token(
        &self,
        token: &str,
        meta: &CommandMeta,
    ) -> Result<Handled<Member>, AppError> {
        let Some((member_id, token_hash)) = self.tickets.find(token).await? else {
            return Err(DomainError::InvalidToken {
                reason: "the token is unknown, already used or expired".into(),
            }
            .into());
        };
        let command = MemberCommand::ConfirmEmail(ConfirmMemberEmail { token_hash });
        self.commands
            .execute::<Member>(member_id, &command, meta)
            .await
    }

    /// Erases a member: records the request (which releases their email and any live token),
    /// then runs every step of the erasure process (destroying their data key, so every copy of
    /// their personal data in the log becomes unreadable, and whatever later steps add). Every
    /// step may run again, so repeating an erasure finishes one that was interrupted.
    pub async fn erase(
        &self,
        member_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<Handled<Member>, AppError> {
        let loaded = self.commands.load::<Member>(member_id).await?;
        let handled = match loaded.state.status {
            MemberStatus::Unregistered => {
                return Err(AppError::NotFound {
                    what: format!("member {member_id}"),
                });
            }
            MemberStatus::Erased => Handled {
                stream: crate::handler::stream_name::<Member>(member_id),
                events: Vec::new(),
                state: loaded.state,
                position: loaded.position,
            },
            _ => {
                let command = MemberCommand::RequestErasure(RequestMemberErasure {});
                self.commands
                    .execute::<Member>(member_id, &command, meta)
                    .await?
            }
        };
        for step in &self.erasure {
            step.run(member_id, meta).await.inspect_err(|e| {
                tracing::error!(%member_id, step = step.name(), error = %e, "an erasure step failed");
            })?;
        }
        Ok(handled)
    }

    /// Any other member command (edit, suspend, reactivate, the workers' reports).
    pub async fn execute(
        &self,
        member_id: Uuid,
        command: &MemberCommand,
        meta: &CommandMeta,
    ) -> Result<Handled<Member>, AppError> {
        self.commands
            .execute::<Member>(member_id, command, meta)
            .await
    }
}
