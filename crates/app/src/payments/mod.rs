//! The payment use cases: asking for a payment (for a registered member), recording one made
//! offline, refunding, and the reports of the gateway (from the charging worker and from
//! webhooks alike). The rules are the [`Payment`] aggregate's; this module adds what the
//! aggregate is told from outside: the retry schedule (when the next attempt is due), the
//! refund window, and new ids.

use chrono::{DateTime, Utc};
use roster_domain::payment::{
    AbandonPayment, ChangePaymentMethod, Decline, OfflineMethod, RecordOfflinePayment,
    RecordPaymentFailed, RecordPaymentOutcomeUnknown, RecordPaymentSucceeded, RecordRefundFailed,
    RecordRefundSucceeded, RequestPayment, RequestRefund, StartPaymentAttempt,
};
use roster_domain::{Payment, PaymentCommand, PaymentState};
use uuid::Uuid;

mod webhook;

use crate::sidedb::SideDb;
use crate::{AppError, CommandHandler, CommandMeta, Handled, Loaded, RetrySchedule};

pub use webhook::{WEBHOOK_TOLERANCE_SECONDS, WebhookOutcome, sign_webhook};

/// A card payment as an upstream app asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPayment {
    pub member_id: Uuid,
    pub amount: u64,
    pub currency: String,
    pub payment_method: String,
    pub membership_id: Option<Uuid>,
    pub description: Option<String>,
}

/// Money an operator received outside the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflinePayment {
    pub member_id: Uuid,
    pub amount: u64,
    pub currency: String,
    pub method: OfflineMethod,
    pub reference: String,
    pub received_at: Option<DateTime<Utc>>,
    pub membership_id: Option<Uuid>,
    pub description: Option<String>,
}

/// A refund as asked for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRefund {
    /// `None`: all that remains.
    pub amount: Option<u64>,
    pub currency: Option<String>,
    pub reason: Option<String>,
    /// An operator's reason to refund outside the window (the API lets only the `operator`
    /// scope set it).
    pub override_reason: Option<String>,
}

/// The payment use cases. Cheap to clone.
#[derive(Clone)]
pub struct Payments {
    commands: CommandHandler,
    side: SideDb,
    policy: PaymentPolicy,
}

/// What the payment use cases are told by the settings.
#[derive(Debug, Clone)]
pub struct PaymentPolicy {
    /// Waits before each re-attempt of a declined charge.
    pub retry: RetrySchedule,
    /// Days after the success in which a refund needs no override.
    pub refund_window_days: u32,
    /// Every secret a webhook may be signed with (several while one is rotated).
    pub webhook_secrets: Vec<String>,
}

impl Payments {
    pub fn new(commands: CommandHandler, side: SideDb, policy: PaymentPolicy) -> Self {
        Self {
            commands,
            side,
            policy,
        }
    }

    /// The waits between a declined charge and its re-attempts.
    pub fn retry_schedule(&self) -> &RetrySchedule {
        &self.policy.retry
    }

    /// Asks for a card payment under a fresh id; a worker charges it.
    pub async fn request(
        &self,
        payment: NewPayment,
        meta: &CommandMeta,
    ) -> Result<Handled<Payment>, AppError> {
        let payment_id = self.commands.new_id();
        self.request_as(payment_id, payment, meta).await
    }

    /// Asks for a card payment under the id given (a membership names its payments before
    /// asking for them); asking again under the same id is `AlreadyExists`.
    pub async fn request_as(
        &self,
        payment_id: Uuid,
        payment: NewPayment,
        meta: &CommandMeta,
    ) -> Result<Handled<Payment>, AppError> {
        self.commands.require_member(payment.member_id).await?;
        let command = PaymentCommand::Request(RequestPayment {
            payment_id,
            member_id: payment.member_id,
            amount: payment.amount,
            currency: payment.currency,
            payment_method: payment.payment_method,
            membership_id: payment.membership_id,
            description: payment.description,
        });
        self.execute(payment_id, &command, meta).await
    }

    /// Records money received outside the gateway, under a fresh id.
    pub async fn record_offline(
        &self,
        payment: OfflinePayment,
        meta: &CommandMeta,
    ) -> Result<Handled<Payment>, AppError> {
        self.commands.require_member(payment.member_id).await?;
        let payment_id = self.commands.new_id();
        let command = PaymentCommand::RecordOffline(RecordOfflinePayment {
            payment_id,
            member_id: payment.member_id,
            amount: payment.amount,
            currency: payment.currency,
            method: payment.method,
            reference: payment.reference,
            received_at: payment.received_at,
            membership_id: payment.membership_id,
            description: payment.description,
        });
        self.execute(payment_id, &command, meta).await
    }

    /// The payment as its stream folds now; `NotFound` when none has this id.
    pub async fn get(&self, payment_id: Uuid) -> Result<Loaded<PaymentState>, AppError> {
        let loaded = self.commands.load::<Payment>(payment_id).await?;
        match loaded.state.exists() {
            true => Ok(loaded),
            false => Err(AppError::NotFound {
                what: format!("payment {payment_id}"),
            }),
        }
    }

    /// Asks for a refund under a fresh id, within the refund window.
    pub async fn refund(
        &self,
        payment_id: Uuid,
        refund: NewRefund,
        meta: &CommandMeta,
    ) -> Result<(Uuid, Handled<Payment>), AppError> {
        let refund_id = self.commands.new_id();
        let command = PaymentCommand::RequestRefund(RequestRefund {
            refund_id,
            amount: refund.amount,
            currency: refund.currency,
            reason: refund.reason,
            window_days: self.policy.refund_window_days,
            override_reason: refund.override_reason,
        });
        let handled = self.execute(payment_id, &command, meta).await?;
        Ok((refund_id, handled))
    }

    /// The worker begins attempt `attempt` (again, after a crash: then nothing changes).
    pub async fn start_attempt(
        &self,
        payment_id: Uuid,
        attempt: u32,
        meta: &CommandMeta,
    ) -> Result<Handled<Payment>, AppError> {
        let command = PaymentCommand::StartAttempt(StartPaymentAttempt { attempt });
        self.execute(payment_id, &command, meta).await
    }

    /// The gateway captured attempt `attempt`.
    pub async fn record_succeeded(
        &self,
        payment_id: Uuid,
        attempt: u32,
        gateway_id: String,
        captured: u64,
        meta: &CommandMeta,
    ) -> Result<Handled<Payment>, AppError> {
        let command = PaymentCommand::RecordSucceeded(RecordPaymentSucceeded {
            attempt,
            gateway_id,
            captured,
        });
        self.execute(payment_id, &command, meta).await
    }

    /// The gateway declined attempt `attempt`; the next is due after the schedule's wait.
    pub async fn record_declined(
        &self,
        payment_id: Uuid,
        attempt: u32,
        gateway_id: Option<String>,
        decline: Decline,
        meta: &CommandMeta,
    ) -> Result<Handled<Payment>, AppError> {
        let index = usize::try_from(attempt).unwrap_or(usize::MAX);
        let retry = &self.policy.retry;
        let next_attempt_at = (index < retry.max_attempts()).then(|| {
            let wait = chrono::Duration::from_std(retry.delay_after(index))
                .unwrap_or(chrono::Duration::MAX);
            self.commands.clock().now() + wait
        });
        let command = PaymentCommand::RecordFailed(RecordPaymentFailed {
            attempt,
            gateway_id,
            decline,
            next_attempt_at,
        });
        self.execute(payment_id, &command, meta).await
    }

    /// Attempt `attempt`'s outcome could not be learned; it stays open until reconciled.
    pub async fn record_unknown(
        &self,
        payment_id: Uuid,
        attempt: u32,
        reason: String,
        meta: &CommandMeta,
    ) -> Result<Handled<Payment>, AppError> {
        let command =
            PaymentCommand::RecordUnknown(RecordPaymentOutcomeUnknown { attempt, reason });
        self.execute(payment_id, &command, meta).await
    }

    /// The gateway answered refund `refund_id`: `Ok` with its id, or `Err` with its reason.
    pub async fn record_refund(
        &self,
        payment_id: Uuid,
        refund_id: Uuid,
        outcome: Result<Option<String>, String>,
        meta: &CommandMeta,
    ) -> Result<Handled<Payment>, AppError> {
        let command = match outcome {
            Ok(gateway_id) => PaymentCommand::RecordRefundSucceeded(RecordRefundSucceeded {
                refund_id,
                gateway_id,
            }),
            Err(reason) => {
                PaymentCommand::RecordRefundFailed(RecordRefundFailed { refund_id, reason })
            }
        };
        self.execute(payment_id, &command, meta).await
    }

    /// The member's new payment method, charged from the next attempt on.
    pub async fn change_method(
        &self,
        payment_id: Uuid,
        payment_method: String,
        meta: &CommandMeta,
    ) -> Result<Handled<Payment>, AppError> {
        let command = PaymentCommand::ChangeMethod(ChangePaymentMethod { payment_method });
        self.execute(payment_id, &command, meta).await
    }

    /// Stops a payment that has not succeeded.
    pub async fn abandon(
        &self,
        payment_id: Uuid,
        reason: String,
        meta: &CommandMeta,
    ) -> Result<Handled<Payment>, AppError> {
        let command = PaymentCommand::Abandon(AbandonPayment { reason });
        self.execute(payment_id, &command, meta).await
    }

    async fn execute(
        &self,
        payment_id: Uuid,
        command: &PaymentCommand,
        meta: &CommandMeta,
    ) -> Result<Handled<Payment>, AppError> {
        self.commands
            .execute::<Payment>(payment_id, command, meta)
            .await
    }
}
