//! `audit_v1`: every event, flattened: when, who acted, what, on which member and org.
//!
//! Summaries never contain personal data, not even before erasure: names and emails live
//! only in `accounts_v1`, which erasure clears. An audit trail is kept long and copied
//! widely, so leaving personal data out of it is simpler and safer than masking it later,
//! and it makes a replay after erasure equal to the live table.

use roster_domain::payment::format_minor;
use roster_domain::{
    AnyEvent, AnyState, ApiKeyEvent, MemberEvent, MembershipEvent, OrgEvent, PaymentEvent,
    PaymentState, PlanEvent,
};
use roster_store::ActorRef;

use crate::pipeline::{Body, Envelope};
use crate::projection::{AUDIT, Projection};
use crate::rows::{Col, RowOp, TableDef, Val};

pub struct Audit;

pub const TABLE: TableDef = TableDef {
    name: AUDIT,
    columns: &[
        ("position", Col::Int, false),
        ("recorded_at", Col::Text, false),
        ("stream", Col::Text, false),
        ("event_type", Col::Text, false),
        ("actor_kind", Col::Text, false),
        ("actor_id", Col::Text, true),
        ("member_id", Col::Text, true),
        ("org_id", Col::Text, true),
        ("correlation_id", Col::Text, false),
        ("summary", Col::Text, false),
    ],
    key: &["position"],
    indexes: &[
        &["member_id", "position"],
        &["actor_id", "position"],
        &["org_id", "position"],
    ],
};

impl Projection for Audit {
    fn name(&self) -> &'static str {
        AUDIT
    }

    fn tables(&self) -> &'static [TableDef] {
        &[TABLE]
    }

    fn handles(&self, _event_type: &str) -> bool {
        true
    }

    fn project(&self, envelope: &Envelope<'_>) -> Result<Vec<RowOp>, String> {
        let recorded = envelope.recorded;
        let (member, org, summary) = match &envelope.body {
            Body::Event(AnyEvent::Member(event), _) => {
                (Some(event.member_id()), None, member_summary(event))
            }
            Body::Event(AnyEvent::Org(event), _) => {
                (event.member_id(), Some(event.org_id()), org_summary(event))
            }
            Body::Event(AnyEvent::Payment(event), AnyState::Payment(state)) => {
                (state.member_id, None, payment_summary(event, state))
            }
            Body::Event(AnyEvent::Membership(event), AnyState::Membership(state)) => {
                (state.member_id, None, membership_summary(event))
            }
            Body::Event(AnyEvent::Membership(event), _) => (None, None, membership_summary(event)),
            Body::Event(AnyEvent::Plan(event), _) => {
                (plan_member(event), None, plan_summary(event))
            }
            Body::Event(AnyEvent::Payment(event), _) => {
                (None, None, payment_summary(event, &PaymentState::default()))
            }
            Body::Event(AnyEvent::ApiKey(ApiKeyEvent::Revoked(e)), _) => (
                None,
                None,
                format!("API key {} ({}) revoked", e.key_id, e.name),
            ),
            Body::Unknown | Body::Undecodable(_) => (None, None, recorded.event_type.clone()),
        };
        let (actor_kind, actor_id) = actor(&recorded.metadata.actor);
        let position = Val::int(recorded.position);
        Ok(vec![RowOp::Upsert {
            table: AUDIT,
            row: vec![
                ("position", position),
                ("recorded_at", Val::time(recorded.metadata.recorded_at)),
                ("stream", Val::text(recorded.stream.clone())),
                ("event_type", Val::text(recorded.event_type.clone())),
                ("actor_kind", Val::text(actor_kind)),
                ("actor_id", Val::opt_text(actor_id)),
                ("member_id", Val::opt_text(member.map(|m| m.to_string()))),
                ("org_id", Val::opt_text(org.map(|o| o.to_string()))),
                ("correlation_id", Val::id(recorded.metadata.correlation_id)),
                ("summary", Val::text(summary)),
            ],
        }])
    }
}

/// The actor as (kind, id): `member`/uuid, `app`/key id, `operator`/name, `worker`/queue,
/// `system`/none.
pub fn actor(actor: &ActorRef) -> (&'static str, Option<String>) {
    match actor {
        ActorRef::Member(id) => ("member", Some(id.to_string())),
        ActorRef::App(id) => ("app", Some(id.clone())),
        ActorRef::Operator(id) => ("operator", Some(id.clone())),
        ActorRef::Worker(id) => ("worker", Some(id.clone())),
        ActorRef::System => ("system", None),
    }
}

fn membership_summary(event: &MembershipEvent) -> String {
    match event {
        MembershipEvent::Opened(e) => format!("membership of plan {} opened", e.plan_slug),
        MembershipEvent::Offered(_) => "place offered".into(),
        MembershipEvent::Placed(_) => "offered place taken".into(),
        MembershipEvent::PaymentMethodChanged(_) => "payment method changed".into(),
        MembershipEvent::Reminded(e) => {
            format!("reminded {} days before the period ends", e.days_before)
        }
        MembershipEvent::Activated(_) => "membership active".into(),
        MembershipEvent::RenewalRequested(_) => "renewal requested".into(),
        MembershipEvent::Renewed(_) => "membership renewed".into(),
        MembershipEvent::PastDue(_) => "membership past due".into(),
        MembershipEvent::Lapsed(_) => "membership lapsed".into(),
        MembershipEvent::CancellationScheduled(e) => {
            format!("cancellation scheduled for {}", e.effective_at)
        }
        MembershipEvent::Cancelled(_) => "membership cancelled".into(),
    }
}

/// The member a plan event is about, if it is about one.
fn plan_member(event: &PlanEvent) -> Option<uuid::Uuid> {
    match event {
        PlanEvent::PlaceTaken(e) => Some(e.member_id),
        PlanEvent::Waitlisted(e) => Some(e.member_id),
        PlanEvent::PlaceOffered(e) => Some(e.member_id),
        _ => None,
    }
}

fn plan_summary(event: &PlanEvent) -> String {
    match event {
        PlanEvent::Defined(e) => format!("plan {} defined", e.slug),
        PlanEvent::Changed(_) => "plan changed".into(),
        PlanEvent::Retired(_) => "plan retired".into(),
        PlanEvent::PlaceTaken(_) => "place taken".into(),
        PlanEvent::Waitlisted(e) => format!("waitlisted at position {}", e.position),
        PlanEvent::PlaceReleased(_) => "place released".into(),
        PlanEvent::WaitlistLeft(_) => "left the waiting list".into(),
        PlanEvent::PlaceOffered(e) => format!("place offered until {}", e.expires_at),
        PlanEvent::OfferClaimed(_) => "offer claimed".into(),
        PlanEvent::OfferLapsed(_) => "offer lapsed".into(),
    }
}

/// A payment event in words, with amounts in major units of their currency.
fn payment_summary(event: &PaymentEvent, state: &PaymentState) -> String {
    let money = |amount: u64| {
        let exponent = roster_domain::payment::currency_exponent(&state.currency).unwrap_or(2);
        format!("{} {}", format_minor(amount, exponent), state.currency)
    };
    match event {
        PaymentEvent::Requested(e) => format!("payment of {} requested", money(e.amount)),
        PaymentEvent::AttemptStarted(e) => format!("payment attempt {} started", e.attempt),
        PaymentEvent::Succeeded(e) => format!("payment of {} succeeded", money(e.captured)),
        PaymentEvent::AttemptFailed(e) => format!(
            "payment attempt {} declined ({})",
            e.attempt,
            e.decline.code.as_deref().unwrap_or("no code")
        ),
        PaymentEvent::OutcomeUnknown(e) => {
            format!("payment attempt {} outcome unknown", e.attempt)
        }
        PaymentEvent::ReattemptScheduled(e) => {
            format!("payment re-attempt {} scheduled for {}", e.attempt, e.at)
        }
        PaymentEvent::Failed(e) => format!("payment failed after {} attempts", e.attempts),
        PaymentEvent::Abandoned(_) => "payment abandoned".into(),
        PaymentEvent::MethodChanged(_) => "payment method changed".into(),
        PaymentEvent::RefundRequested(e) => match e.override_reason {
            Some(_) => format!(
                "refund of {} requested (window overridden)",
                money(e.amount)
            ),
            None => format!("refund of {} requested", money(e.amount)),
        },
        PaymentEvent::RefundSucceeded(_) => "refund succeeded".into(),
        PaymentEvent::RefundFailed(_) => "refund failed".into(),
        PaymentEvent::OfflineRecorded(e) => {
            format!("offline payment of {} recorded", money(e.amount))
        }
    }
}

fn member_summary(event: &MemberEvent) -> String {
    match event {
        MemberEvent::Registered(e) => match e.referred_by {
            Some(referrer) => format!("member registered (referred by {referrer})"),
            None => "member registered".into(),
        },
        MemberEvent::EmailConfirmed(_) => "email confirmed".into(),
        MemberEvent::ProfileEdited(e) => {
            let mut parts = Vec::new();
            if let Some(changes) = &e.personal {
                let named = [
                    ("name", changes.name.is_some()),
                    ("fields", changes.fields.is_some()),
                    ("company", changes.company.is_some()),
                    ("location", changes.location.is_some()),
                ];
                parts.extend(named.iter().filter(|(_, set)| *set).map(|(n, _)| *n));
            }
            if e.visibility.is_some() {
                parts.push("visibility");
            }
            format!("profile edited ({})", parts.join(", "))
        }
        // The reason is free text an operator typed: it stays out of the audit log, which must
        // never hold personal data (the member view shows it while the member exists).
        MemberEvent::Suspended(_) => "suspended".to_string(),
        MemberEvent::Reactivated(_) => "reactivated".into(),
        MemberEvent::ErasureRequested(_) => "erased".into(),
        MemberEvent::VerificationIssued(_) => "verification token issued".into(),
        MemberEvent::VerificationEmailSent(_) => "verification email sent".into(),
        MemberEvent::VerificationEmailFailed(e) => {
            let attempts = match e.attempts {
                1 => "1 attempt".to_owned(),
                n => format!("{n} attempts"),
            };
            let code = e
                .failure
                .smtp_code
                .map(|code| format!(" (SMTP {code})"))
                .unwrap_or_default();
            format!(
                "verification email failed after {attempts}: {}{code}",
                e.failure.kind.as_str()
            )
        }
        MemberEvent::ReferralRewarded(e) => format!(
            "referral rewarded: {} made their first payment ({})",
            e.referred_member_id, e.payment_id
        ),
    }
}

fn org_summary(event: &OrgEvent) -> String {
    let scoped = |scope: &Option<String>| {
        scope
            .as_ref()
            .map(|s| format!(" in {s}"))
            .unwrap_or_default()
    };
    match event {
        OrgEvent::Created(e) => format!("org {:?} created, seat limit {}", e.name, e.seat_limit),
        OrgEvent::MemberAdded(e) => format!("added to org as {}", e.role),
        OrgEvent::MemberRemoved(_) => "removed from org".into(),
        OrgEvent::RoleDefined(e) => format!("role {} defined: {}", e.name, e.permissions.join(" ")),
        OrgEvent::RoleAssigned(e) => format!("role {} assigned{}", e.role, scoped(&e.scope)),
        OrgEvent::RoleRevoked(e) => format!("role {} revoked{}", e.role, scoped(&e.scope)),
        OrgEvent::GroupCreated(e) => format!("group {:?} created", e.name),
        OrgEvent::GroupRoleGranted(e) => format!(
            "group {} granted role {}{}",
            e.group_id,
            e.role,
            scoped(&e.scope)
        ),
        OrgEvent::GroupRoleRevoked(e) => format!(
            "group {} lost role {}{}",
            e.group_id,
            e.role,
            scoped(&e.scope)
        ),
        OrgEvent::GroupJoined(e) => format!("joined group {}", e.group_id),
        OrgEvent::GroupLeft(e) => format!("left group {}", e.group_id),
        OrgEvent::SeatLimitChanged(e) => format!("seat limit changed to {}", e.seat_limit),
        OrgEvent::PackageChanged(e) => match &e.package {
            Some(p) => format!("package changed to {} ({} seats)", p.plan, p.seat_limit),
            None => "package ended".to_owned(),
        },
        OrgEvent::RoleExpired(e) => format!("role {} expired{}", e.role, scoped(&e.scope)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use roster_domain::member::{
        MailFailure, MailFailureKind, MemberVerificationEmailFailed, MemberVerificationEmailSent,
    };
    use uuid::Uuid;

    use super::*;

    #[test]
    fn mail_reports_read_as_what_happened_without_the_servers_words() {
        let failed = |attempts, smtp_code| {
            member_summary(&MemberEvent::VerificationEmailFailed(
                MemberVerificationEmailFailed {
                    member_id: Uuid::now_v7(),
                    nonce: "n".into(),
                    failure: MailFailure {
                        kind: MailFailureKind::Rejected,
                        smtp_code,
                    },
                    attempts,
                    failed_at: Utc::now(),
                },
            ))
        };
        assert_eq!(
            failed(1, Some(550)),
            "verification email failed after 1 attempt: rejected (SMTP 550)"
        );
        assert_eq!(
            failed(7, None),
            "verification email failed after 7 attempts: rejected"
        );
        let sent = member_summary(&MemberEvent::VerificationEmailSent(
            MemberVerificationEmailSent {
                member_id: Uuid::now_v7(),
                nonce: "n".into(),
                sent_at: Utc::now(),
            },
        ));
        assert_eq!(sent, "verification email sent");
    }
}
