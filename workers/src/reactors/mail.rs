//! The mail reactor: `MemberVerificationIssued` -> a verification mail,
//! `MemberEmailConfirmed` -> a welcome mail.

use roster_domain::{AnyEvent, MemberEvent};

use crate::job::{Cause, Enqueue};
use crate::jobs::verification_email::VerificationEmail;
use crate::jobs::welcome_email::WelcomeEmail;
use crate::reactor::Reactor;

pub struct MailReactor;

/// The mail reactor's name and checkpoint.
pub const MAIL: &str = "mail";

impl Reactor for MailReactor {
    fn name(&self) -> &'static str {
        MAIL
    }

    fn react(&self, event: &AnyEvent, cause: Cause) -> Result<Vec<Enqueue>, serde_json::Error> {
        let AnyEvent::Member(event) = event else {
            return Ok(Vec::new());
        };
        Ok(match event {
            MemberEvent::VerificationIssued(e) => vec![Enqueue::of(&VerificationEmail {
                member_id: e.member_id,
                nonce: e.nonce.clone(),
                cause,
            })?],
            MemberEvent::EmailConfirmed(e) => vec![Enqueue::of(&WelcomeEmail {
                member_id: e.member_id,
                cause,
            })?],
            _ => Vec::new(),
        })
    }
}
