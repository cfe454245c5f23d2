//! Values held uniquely across the whole log, claimed in the transaction of the append that
//! takes them (see [`UniqueClaims`]): one member per email, and a verification token leads to
//! one member.

use roster_domain::{Aggregate, Member, MemberEvent, MemberState, Organization};
use roster_store::ClaimOp;
use roster_store::pii::Vault;
use uuid::Uuid;

use crate::members::tickets::TOKEN_SCOPE;

/// Values an aggregate holds uniquely across the whole log (a member's email): the claims and
/// releases its new events imply, written in the same transaction as the append. The state
/// before the events is given because a release must name what was claimed (an erased
/// member's email is in the state, not in the erasure event).
pub trait UniqueClaims: Aggregate {
    fn claims(_before: &Self::State, _events: &[Self::Event], _vault: &Vault) -> Vec<ClaimOp> {
        Vec::new()
    }
}

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

impl UniqueClaims for roster_domain::Payment {}

impl UniqueClaims for roster_domain::Plan {}

impl UniqueClaims for roster_domain::Membership {}

impl UniqueClaims for roster_domain::ApiKey {}
