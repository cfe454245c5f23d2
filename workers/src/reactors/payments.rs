//! The payments reactor: a payment asked for -> its first charge; a re-attempt scheduled -> a
//! charge due at its time; a success or an offline payment -> the receipt; a declined attempt ->
//! the notice; a refund asked for -> the refund at Stripe; a refund made -> its notice.

use roster_domain::{AnyEvent, PaymentEvent};

use crate::job::{Cause, Enqueue};
use crate::jobs::charge_payment::ChargePayment;
use crate::jobs::payment_mail::{PaymentMail, PaymentMailKind};
use crate::jobs::refund_payment::RefundPayment;
use crate::reactor::Reactor;

pub struct PaymentsReactor;

/// The payments reactor's name and checkpoint.
pub const PAYMENTS: &str = "payments";

impl Reactor for PaymentsReactor {
    fn name(&self) -> &'static str {
        PAYMENTS
    }

    fn react(&self, event: &AnyEvent, cause: Cause) -> Result<Vec<Enqueue>, serde_json::Error> {
        let AnyEvent::Payment(event) = event else {
            return Ok(Vec::new());
        };
        let mail = |payment_id, mail| {
            Enqueue::of(&PaymentMail {
                payment_id,
                mail,
                cause,
            })
        };
        Ok(match event {
            PaymentEvent::Requested(e) => vec![Enqueue::of(&ChargePayment {
                payment_id: e.payment_id,
                attempt: 1,
                cause,
            })?],
            PaymentEvent::ReattemptScheduled(e) => vec![
                Enqueue::of(&ChargePayment {
                    payment_id: e.payment_id,
                    attempt: e.attempt,
                    cause,
                })?
                .at(e.at),
            ],
            PaymentEvent::Succeeded(e) => vec![mail(e.payment_id, PaymentMailKind::Receipt)?],
            PaymentEvent::OfflineRecorded(e) => {
                vec![mail(e.payment_id, PaymentMailKind::Receipt)?]
            }
            PaymentEvent::AttemptFailed(e) => vec![mail(
                e.payment_id,
                PaymentMailKind::Declined { attempt: e.attempt },
            )?],
            PaymentEvent::RefundRequested(e) => vec![Enqueue::of(&RefundPayment {
                payment_id: e.payment_id,
                refund_id: e.refund_id,
                cause,
            })?],
            PaymentEvent::RefundSucceeded(e) => vec![mail(
                e.payment_id,
                PaymentMailKind::Refunded {
                    refund_id: e.refund_id,
                },
            )?],
            PaymentEvent::AttemptStarted(_)
            | PaymentEvent::OutcomeUnknown(_)
            | PaymentEvent::Failed(_)
            | PaymentEvent::Abandoned(_)
            | PaymentEvent::MethodChanged(_)
            | PaymentEvent::RefundFailed(_) => Vec::new(),
        })
    }
}
