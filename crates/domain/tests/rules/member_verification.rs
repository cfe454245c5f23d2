use chrono::Duration;
use roster_domain::DomainError;
use roster_domain::ErrorKind;
use roster_domain::member::{
    MailFailure, MailFailureKind, MailOutcome, MemberCommand, MemberEvent,
    MemberVerificationEmailFailed, MemberVerificationEmailSent, RecordVerificationEmailFailed,
    RecordVerificationEmailSent, RegisterMember, VerificationTicket,
};

use crate::fixtures::{
    alice, confirm, confirm_with, confirmed, erased, issued, issued_at, nonce, register_alice,
    registered, resend, ticket,
};
use crate::support::{by, given, now, trusted, trusted_at};

fn sent(n: u8) -> MemberEvent {
    MemberEvent::VerificationEmailSent(MemberVerificationEmailSent {
        member_id: alice(),
        nonce: nonce(n),
        sent_at: now(),
    })
}

fn report_sent(n: u8) -> MemberCommand {
    MemberCommand::RecordVerificationEmailSent(RecordVerificationEmailSent { nonce: nonce(n) })
}

fn rejected() -> MailFailure {
    MailFailure {
        kind: MailFailureKind::Rejected,
        smtp_code: Some(550),
    }
}

fn report_failed(n: u8) -> MemberCommand {
    MemberCommand::RecordVerificationEmailFailed(RecordVerificationEmailFailed {
        nonce: nonce(n),
        failure: rejected(),
        attempts: 1,
    })
}

fn failed(n: u8) -> MemberEvent {
    MemberEvent::VerificationEmailFailed(MemberVerificationEmailFailed {
        member_id: alice(),
        nonce: nonce(n),
        failure: rejected(),
        attempts: 1,
        failed_at: now(),
    })
}

#[test]
fn a_registration_with_a_ticket_issues_the_first_token_with_it() {
    let form = RegisterMember {
        verification: Some(ticket(1)),
        ..register_alice()
    };
    given::<MemberEvent>([])
        .when(MemberCommand::Register(form), trusted())
        .then([registered(), issued()]);
}

#[test]
fn a_resend_issues_a_new_token_and_the_older_one_stops_working() {
    let earlier = now() - Duration::minutes(2);
    given([registered(), issued_at(1, earlier)])
        .when(resend(2), trusted())
        .then([issued_at(2, now())]);
    let history = [registered(), issued_at(1, earlier), issued_at(2, now())];
    given(history.clone())
        .when(confirm_with(1), trusted())
        .then_err(ErrorKind::InvalidToken);
    given(history)
        .when(confirm_with(2), trusted())
        .then([confirmed()]);
}

#[test]
fn an_unknown_token_is_refused() {
    given([registered(), issued()])
        .when(confirm_with(9), trusted())
        .then_err(ErrorKind::InvalidToken);
    given([registered()])
        .when(confirm(), trusted())
        .then_err(ErrorKind::InvalidToken);
}

#[test]
fn a_token_works_until_it_expires_and_not_after() {
    let issued_then = issued_at(1, now() - Duration::days(1) + Duration::seconds(1));
    given([registered(), issued_then])
        .when(confirm(), trusted())
        .then([confirmed()]);
    let expired = issued_at(1, now() - Duration::days(1));
    let error = given([registered(), expired])
        .when(confirm(), trusted())
        .then_err(ErrorKind::InvalidToken);
    assert!(error.to_string().contains("expired"), "{error}");
}

#[test]
fn a_resend_within_a_minute_of_the_last_token_is_rate_limited() {
    let error = given([registered(), issued()])
        .when(resend(2), trusted_at(now() + Duration::seconds(20)))
        .then_err(ErrorKind::RateLimited);
    assert_eq!(
        error,
        DomainError::RateLimited {
            retry_after_seconds: 40
        }
    );
    given([registered(), issued()])
        .when(resend(2), trusted_at(now() + Duration::seconds(60)))
        .then_state();
}

#[test]
fn at_most_five_tokens_are_issued_in_a_day() {
    let hours_ago = |h: i64| issued_at(1, now() - Duration::hours(h));
    let history = [
        registered(),
        hours_ago(25),
        hours_ago(5),
        hours_ago(4),
        hours_ago(3),
        hours_ago(2),
        hours_ago(1),
    ];
    let error = given(history.clone())
        .when(resend(2), trusted())
        .then_err(ErrorKind::RateLimited);
    // The oldest of the five in the window (5 hours ago) leaves it 19 hours from now.
    assert_eq!(
        error,
        DomainError::RateLimited {
            retry_after_seconds: 19 * 3600
        }
    );
    given(history)
        .when(resend(2), trusted_at(now() + Duration::hours(19)))
        .then_state();
}

#[test]
fn only_a_member_pending_confirmation_gets_a_new_token() {
    given([registered(), issued(), confirmed()])
        .when(resend(2), trusted_at(now() + Duration::hours(1)))
        .then_err(ErrorKind::InvalidState);
}

#[test]
fn a_malformed_ticket_is_invalid_input() {
    let cases = [
        (
            VerificationTicket {
                nonce: "short".into(),
                ..ticket(1)
            },
            "nonce",
        ),
        (
            VerificationTicket {
                nonce: format!("{}/", "n".repeat(20)),
                ..ticket(1)
            },
            "nonce",
        ),
        (
            VerificationTicket {
                token_hash: "h".repeat(44),
                ..ticket(1)
            },
            "token_hash",
        ),
        (
            VerificationTicket {
                ttl_seconds: 0,
                ..ticket(1)
            },
            "ttl_seconds",
        ),
    ];
    for (ticket, field) in cases {
        let form = RegisterMember {
            verification: Some(ticket),
            ..register_alice()
        };
        let error = given::<MemberEvent>([])
            .when(MemberCommand::Register(form), trusted())
            .then_err(ErrorKind::InvalidInput);
        assert!(
            matches!(&error, DomainError::InvalidInput { field: f, .. } if f == field),
            "{error:?}"
        );
    }
}

#[test]
fn a_sent_mail_is_recorded_once() {
    given([registered(), issued()])
        .when(report_sent(1), trusted())
        .then([sent(1)]);
    given([registered(), issued(), sent(1)])
        .when(report_sent(1), trusted())
        .then_nothing();
    let state = given([registered(), issued(), sent(1)]).state();
    assert_eq!(state.verification.unwrap().mail, MailOutcome::Sent);
}

#[test]
fn a_mail_sent_after_the_member_confirmed_is_still_recorded_once() {
    given([registered(), issued(), confirmed()])
        .when(report_sent(1), trusted())
        .then([sent(1)]);
    given([registered(), issued(), confirmed(), sent(1)])
        .when(report_sent(1), trusted())
        .then_nothing();
}

#[test]
fn a_failed_mail_is_recorded_once_and_never_after_it_was_sent() {
    given([registered(), issued()])
        .when(report_failed(1), trusted())
        .then([failed(1)]);
    given([registered(), issued(), failed(1)])
        .when(report_failed(1), trusted())
        .then_nothing();
    given([registered(), issued(), sent(1)])
        .when(report_failed(1), trusted())
        .then_nothing();
}

#[test]
fn a_report_about_an_older_token_is_recorded_but_leaves_the_newest_token_pending() {
    let history = [
        registered(),
        issued_at(1, now() - Duration::hours(1)),
        issued_at(2, now()),
    ];
    given(history.clone())
        .when(report_sent(1), trusted())
        .then([sent(1)]);
    let state = given(history.into_iter().chain([sent(1)])).state();
    let newest = state.verification.unwrap();
    assert_eq!(
        (newest.nonce, newest.mail),
        (nonce(2), MailOutcome::Pending)
    );
}

#[test]
fn resends_and_mail_reports_are_for_trusted_callers_only() {
    for command in [resend(2), report_sent(1), report_failed(1)] {
        given([registered(), issued()])
            .when(command, by(alice()))
            .then_err(ErrorKind::NotAllowed);
    }
}

#[test]
fn erasure_forgets_the_token() {
    let state = given([registered(), issued(), erased()]).state();
    assert_eq!(state.verification, None);
    given([registered(), issued(), erased()])
        .when(confirm(), trusted())
        .then_err(ErrorKind::InvalidState);
}
