//! Double opt-in: issuing verification tokens (rate-limited per member), confirming with one,
//! and the worker's reports of the verification mail.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::command::{RecordVerificationEmailFailed, VerificationTicket};
use super::event::{
    MemberEmailConfirmed, MemberEvent, MemberVerificationEmailFailed, MemberVerificationEmailSent,
    MemberVerificationIssued,
};
use super::state::{MailOutcome, MemberState, MemberStatus};
use crate::{Ctx, DomainError};

/// A new token may be asked for at most this often per member...
pub const RESEND_INTERVAL: Duration = Duration::seconds(60);
/// ...and at most [`RESEND_BURST`] times in this window (the registration's token counts).
pub const RESEND_WINDOW: Duration = Duration::hours(24);
pub const RESEND_BURST: usize = 5;

const MIN_TTL_SECONDS: u32 = 1;
const MAX_TTL_SECONDS: u32 = 30 * 24 * 3600;
/// A SHA-256 in URL-safe base64 without padding.
const HASH_LEN: std::ops::RangeInclusive<usize> = 43..=43;
const NONCE_LEN: std::ops::RangeInclusive<usize> = 16..=64;

/// The event that issues `ticket`, after checking its shape. The rate limit is the caller's
/// (registration issues the first token without one).
pub(super) fn issue(
    member_id: Uuid,
    ticket: &VerificationTicket,
    ctx: &Ctx,
) -> Result<MemberEvent, DomainError> {
    let nonce = base64url("nonce", &ticket.nonce, NONCE_LEN)?;
    let token_hash = base64url("token_hash", &ticket.token_hash, HASH_LEN)?;
    if !(MIN_TTL_SECONDS..=MAX_TTL_SECONDS).contains(&ticket.ttl_seconds) {
        return Err(DomainError::invalid(
            "ttl_seconds",
            "must be between 1 second and 30 days",
        ));
    }
    Ok(MemberEvent::VerificationIssued(MemberVerificationIssued {
        member_id,
        nonce,
        token_hash,
        issued_at: ctx.now,
        expires_at: ctx.now + Duration::seconds(i64::from(ticket.ttl_seconds)),
    }))
}

/// A resend: only while pending, and not too often.
pub(super) fn reissue(
    state: &MemberState,
    member_id: Uuid,
    ticket: &VerificationTicket,
    ctx: &Ctx,
) -> Result<MemberEvent, DomainError> {
    if state.status != MemberStatus::PendingConfirmation {
        return Err(DomainError::invalid_state(format!(
            "only a member pending confirmation gets a verification mail; this one is {}",
            state.status.as_str()
        )));
    }
    if let Some(wait) = resend_wait(&state.recent_issues, ctx.now) {
        return Err(DomainError::RateLimited {
            retry_after_seconds: u64::try_from(wait.num_seconds().max(1)).unwrap_or(1),
        });
    }
    issue(member_id, ticket, ctx)
}

/// How long until the next token may be issued, if the member must wait.
fn resend_wait(recent: &[DateTime<Utc>], now: DateTime<Utc>) -> Option<Duration> {
    let last = recent.last()?;
    let interval = *last + RESEND_INTERVAL - now;
    let in_window: Vec<_> = recent
        .iter()
        .filter(|t| **t > now - RESEND_WINDOW)
        .collect();
    let burst = (in_window.len() >= RESEND_BURST)
        .then(|| *in_window[in_window.len() - RESEND_BURST] + RESEND_WINDOW - now);
    [Some(interval), burst]
        .into_iter()
        .flatten()
        .filter(|wait| *wait > Duration::zero())
        .max()
}

/// The presented token must be the newest one, unexpired, and the member still pending. A used
/// token (the member is active) is refused like an unknown one: the caller cannot tell which.
pub(super) fn confirm(
    state: &MemberState,
    member_id: Uuid,
    token_hash: &str,
    ctx: &Ctx,
) -> Result<MemberEvent, DomainError> {
    let invalid = |reason: &str| {
        Err(DomainError::InvalidToken {
            reason: reason.to_owned(),
        })
    };
    match state.status {
        MemberStatus::PendingConfirmation => {}
        MemberStatus::Active => return invalid("the token was used already"),
        other => {
            return Err(DomainError::invalid_state(format!(
                "only a pending member can confirm an email; this one is {}",
                other.as_str()
            )));
        }
    }
    let Some(current) = &state.verification else {
        return invalid("the member has no verification token");
    };
    if current.token_hash != token_hash {
        return invalid("the token is not the member's newest one");
    }
    if ctx.now >= current.expires_at {
        return invalid("the token has expired");
    }
    Ok(MemberEvent::EmailConfirmed(MemberEmailConfirmed {
        member_id,
        confirmed_at: ctx.now,
    }))
}

/// A report of a sent mail is recorded once per token; a repeat appends nothing.
pub(super) fn record_sent(
    state: &MemberState,
    member_id: Uuid,
    nonce: &str,
    ctx: &Ctx,
) -> Result<Vec<MemberEvent>, DomainError> {
    let nonce = base64url("nonce", nonce, NONCE_LEN)?;
    if mail_outcome(state, &nonce) == Some(MailOutcome::Sent) {
        return Ok(Vec::new());
    }
    Ok(vec![MemberEvent::VerificationEmailSent(
        MemberVerificationEmailSent {
            member_id,
            nonce,
            sent_at: ctx.now,
        },
    )])
}

/// A failure is recorded once per token, and never after the mail was sent.
pub(super) fn record_failed(
    state: &MemberState,
    member_id: Uuid,
    report: &RecordVerificationEmailFailed,
    ctx: &Ctx,
) -> Result<Vec<MemberEvent>, DomainError> {
    let nonce = base64url("nonce", &report.nonce, NONCE_LEN)?;
    if mail_outcome(state, &nonce).is_some_and(|o| o != MailOutcome::Pending) {
        return Ok(Vec::new());
    }
    Ok(vec![MemberEvent::VerificationEmailFailed(
        MemberVerificationEmailFailed {
            member_id,
            nonce,
            failure: report.failure,
            attempts: report.attempts,
            failed_at: ctx.now,
        },
    )])
}

fn mail_outcome(state: &MemberState, nonce: &str) -> Option<MailOutcome> {
    state
        .verification
        .as_ref()
        .filter(|v| v.nonce == nonce)
        .map(|v| v.mail)
}

fn base64url(
    field: &str,
    value: &str,
    len: std::ops::RangeInclusive<usize>,
) -> Result<String, DomainError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if !len.contains(&value.len()) || !value.chars().all(ok_char) {
        return Err(DomainError::invalid(
            field,
            format!(
                "must be {} to {} characters of URL-safe base64",
                len.start(),
                len.end()
            ),
        ));
    }
    Ok(value.to_owned())
}
