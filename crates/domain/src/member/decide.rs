//! The member's rules. Each command has one small function; the lifecycle guard in
//! [`decide`] runs first so that an erased member refuses everything uniformly.

use uuid::Uuid;

use super::command::{
    EditMemberProfile, MemberCommand, RegisterMember, RewardMemberReferral, SuspendMember,
};
use super::event::{
    MemberErasureRequested, MemberEvent, MemberPersonal, MemberProfileChanges, MemberProfileEdited,
    MemberReactivated, MemberReferralRewarded, MemberRegistered, MemberSuspended,
};
use super::state::{MemberState, MemberStatus};
use super::{profile, verification};
use crate::{Actor, Ctx, DomainError, validate};

const MAX_REASON: usize = 500;

pub(super) fn decide(
    state: &MemberState,
    command: &MemberCommand,
    ctx: &Ctx,
) -> Result<Vec<MemberEvent>, DomainError> {
    // Erasure is final: the id is never reused and nothing may bring the member back.
    if state.status == MemberStatus::Erased {
        return Err(DomainError::invalid_state("the member has been erased"));
    }
    guard_actor(state, command, ctx)?;
    let member_id = || registered_id(state);
    match command {
        MemberCommand::Register(register) => decide_register(state, register, ctx),
        MemberCommand::ConfirmEmail(c) => one(verification::confirm(
            state,
            member_id()?,
            &c.token_hash,
            ctx,
        )),
        MemberCommand::EditProfile(edit) => edit_profile(member_id()?, edit, ctx),
        MemberCommand::Suspend(suspend) => one(decide_suspend(state, member_id()?, suspend, ctx)),
        MemberCommand::Reactivate(_) => one(reactivate(state, member_id()?, ctx)),
        MemberCommand::RequestErasure(_) => Ok(vec![MemberEvent::ErasureRequested(
            MemberErasureRequested {
                member_id: member_id()?,
                requested_at: ctx.now,
            },
        )]),
        MemberCommand::IssueVerification(c) => {
            one(verification::reissue(state, member_id()?, &c.ticket, ctx))
        }
        MemberCommand::RecordVerificationEmailSent(c) => {
            verification::record_sent(state, member_id()?, &c.nonce, ctx)
        }
        MemberCommand::RecordVerificationEmailFailed(c) => {
            verification::record_failed(state, member_id()?, c, ctx)
        }
        MemberCommand::RewardReferral(c) => reward_referral(state, member_id()?, c, ctx),
    }
}

/// A member acting through an upstream app (`X-Roster-Actor`) may edit or erase only their own
/// record; registering, confirming (that takes the emailed token), suspending, reactivating,
/// issuing tokens and reporting mails are for trusted callers, so a suspended member cannot
/// reactivate themselves.
fn guard_actor(state: &MemberState, command: &MemberCommand, ctx: &Ctx) -> Result<(), DomainError> {
    let Actor::Member(actor) = ctx.actor else {
        return Ok(());
    };
    let own_record = state.member_id == Some(actor);
    match command {
        MemberCommand::EditProfile(_) | MemberCommand::RequestErasure(_) if own_record => Ok(()),
        MemberCommand::EditProfile(_) | MemberCommand::RequestErasure(_) => {
            Err(DomainError::NotAllowed {
                reason: "a member may change only their own record".into(),
            })
        }
        _ => Err(DomainError::NotAllowed {
            reason: "only a trusted caller (an API key without X-Roster-Actor) may do this".into(),
        }),
    }
}

fn one(event: Result<MemberEvent, DomainError>) -> Result<Vec<MemberEvent>, DomainError> {
    event.map(|event| vec![event])
}

fn registered_id(state: &MemberState) -> Result<Uuid, DomainError> {
    match (state.status, state.member_id) {
        (MemberStatus::Unregistered, _) | (_, None) => Err(DomainError::not_found("member")),
        (_, Some(id)) => Ok(id),
    }
}

fn decide_register(
    state: &MemberState,
    register: &RegisterMember,
    ctx: &Ctx,
) -> Result<Vec<MemberEvent>, DomainError> {
    if state.status != MemberStatus::Unregistered {
        return Err(DomainError::already_exists("member"));
    }
    let member_id = validate::uuid_v7("member_id", register.member_id)?;
    if register.referred_by == Some(member_id) {
        return Err(DomainError::invalid(
            "referral_code",
            "a member cannot refer themselves",
        ));
    }
    let registered = MemberEvent::Registered(MemberRegistered {
        member_id,
        personal: Some(MemberPersonal {
            email: profile::email(&register.email)?,
            name: profile::name(&register.name)?,
            fields: profile::fields(&register.fields)?,
            company: profile::optional("company", register.company.as_deref())?,
            location: profile::optional("location", register.location.as_deref())?,
        }),
        registered_at: ctx.now,
        referred_by: register.referred_by,
    });
    let mut events = vec![registered];
    if let Some(ticket) = &register.verification {
        events.push(verification::issue(member_id, ticket, ctx)?);
    }
    Ok(events)
}

/// One reward per referred member: the first successful payment earns it, later ones nothing.
fn reward_referral(
    state: &MemberState,
    member_id: Uuid,
    c: &RewardMemberReferral,
    ctx: &Ctx,
) -> Result<Vec<MemberEvent>, DomainError> {
    if state.referrals_rewarded.contains(&c.referred_member_id) {
        return Ok(Vec::new());
    }
    if c.referred_member_id == member_id {
        return Err(DomainError::invalid(
            "referred_member_id",
            "a member cannot refer themselves",
        ));
    }
    Ok(vec![MemberEvent::ReferralRewarded(
        MemberReferralRewarded {
            member_id,
            referred_member_id: c.referred_member_id,
            payment_id: c.payment_id,
            rewarded_at: ctx.now,
        },
    )])
}

/// An edit that changes nothing appends nothing, so repeating a request is harmless.
fn edit_profile(
    member_id: Uuid,
    edit: &EditMemberProfile,
    ctx: &Ctx,
) -> Result<Vec<MemberEvent>, DomainError> {
    let changes = MemberProfileChanges {
        name: edit.name.as_deref().map(profile::name).transpose()?,
        fields: edit.fields.as_ref().map(profile::fields).transpose()?,
        company: profile::change("company", edit.company.as_deref())?,
        location: profile::change("location", edit.location.as_deref())?,
    };
    let personal = (changes != MemberProfileChanges::default()).then_some(changes);
    if personal.is_none() && edit.visibility.is_none() {
        return Ok(Vec::new());
    }
    Ok(vec![MemberEvent::ProfileEdited(MemberProfileEdited {
        member_id,
        personal,
        visibility: edit.visibility,
        edited_at: ctx.now,
    })])
}

fn decide_suspend(
    state: &MemberState,
    member_id: Uuid,
    suspend: &SuspendMember,
    ctx: &Ctx,
) -> Result<MemberEvent, DomainError> {
    if !matches!(
        state.status,
        MemberStatus::Active | MemberStatus::PendingConfirmation
    ) {
        return Err(DomainError::invalid_state(format!(
            "only an active or pending member can be suspended; this one is {}",
            state.status.as_str()
        )));
    }
    let reason = validate::text("reason", &suspend.reason, MAX_REASON)?;
    Ok(MemberEvent::Suspended(MemberSuspended {
        member_id,
        reason,
        suspended_at: ctx.now,
    }))
}

fn reactivate(state: &MemberState, member_id: Uuid, ctx: &Ctx) -> Result<MemberEvent, DomainError> {
    if state.status != MemberStatus::Suspended {
        return Err(DomainError::invalid_state(format!(
            "only a suspended member can be reactivated; this one is {}",
            state.status.as_str()
        )));
    }
    Ok(MemberEvent::Reactivated(MemberReactivated {
        member_id,
        reactivated_at: ctx.now,
    }))
}
