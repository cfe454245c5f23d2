//! Stripe, as the payment jobs use it (async-stripe over rustls). Every request that creates
//! something carries an idempotency key derived from Roster's ids, and every PaymentIntent
//! carries the payment and attempt in its metadata, so an attempt's intent can be found again
//! after a crash or a timeout before anything may be created for it.

use std::collections::HashMap;
use std::str::FromStr;

use roster_app::payments::Payments;
use roster_app::{AppError, CommandMeta, Handled};
use roster_domain::Payment;
use roster_domain::payment::Decline;
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_core::customer::CreateCustomer;
use stripe_core::payment_intent::{
    CreatePaymentIntent, CreatePaymentIntentOffSession, ListPaymentIntent,
};
use stripe_core::refund::CreateRefund;
use stripe_core::{PaymentIntent, PaymentIntentStatus};
use stripe_payment::payment_method::AttachPaymentMethod;
use stripe_types::Currency;
use uuid::Uuid;

/// How long one request to Stripe may take.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Pages of 100 intents read when looking an attempt's intent up.
const LOOKUP_PAGES: usize = 100;

/// Stripe, configured. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Gateway {
    client: Client,
}

/// What a charge came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Charge {
    Succeeded {
        intent_id: String,
        captured: u64,
    },
    Declined {
        intent_id: Option<String>,
        decline: Decline,
    },
    /// The intent exists but is not settled (`processing`, `requires_action`): its outcome
    /// comes later, by webhook or by looking again.
    Pending {
        intent_id: String,
        status: String,
    },
}

impl Charge {
    /// `succeeded`, `declined` or `pending`, for metrics and reports.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Succeeded { .. } => "succeeded",
            Self::Declined { .. } => "declined",
            Self::Pending { .. } => "pending",
        }
    }

    /// Reports what Stripe says of the attempt, as the charge job and reconciliation both do;
    /// `None` for an intent not settled yet (nothing to report).
    pub async fn record(
        &self,
        payments: &Payments,
        payment_id: Uuid,
        attempt: u32,
        meta: &CommandMeta,
    ) -> Result<Option<Handled<Payment>>, AppError> {
        let handled = match self {
            Self::Succeeded {
                intent_id,
                captured,
            } => {
                payments
                    .record_succeeded(payment_id, attempt, intent_id.clone(), *captured, meta)
                    .await?
            }
            Self::Declined { intent_id, decline } => {
                payments
                    .record_declined(
                        payment_id,
                        attempt,
                        intent_id.clone(),
                        decline.clone(),
                        meta,
                    )
                    .await?
            }
            Self::Pending { .. } => return Ok(None),
        };
        Ok(Some(handled))
    }
}

/// Why a request did not give an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// No answer, or one that says to try again (network, timeout, 429, 5xx): whether
    /// something was created is unknown.
    #[error("Stripe did not answer: {0}")]
    Unreachable(String),
    /// Stripe refused the request itself (a bad key, an unknown payment method): trying
    /// again gives the same.
    #[error("Stripe refused the request: {0}")]
    Refused(String),
}

/// A charge as the job asks for it.
#[derive(Debug, Clone)]
pub struct ChargeRequest<'a> {
    pub payment_id: Uuid,
    pub attempt: u32,
    pub member_id: Uuid,
    pub customer: &'a str,
    pub payment_method: &'a str,
    pub amount: u64,
    /// ISO 4217, any case.
    pub currency: &'a str,
}

impl Gateway {
    /// A client for Stripe at `base` (`None`: Stripe itself) with the secret key.
    pub fn new(base: Option<&str>, secret_key: &str) -> Result<Self, String> {
        // rustls picks a default provider only when exactly one is built in; the KurrentDB
        // client brings aws-lc beside ring (and installs aws-lc as the process default when it
        // connects first). Ring is named unless a provider is installed already: either serves.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = ClientBuilder::new(secret_key)
            .request_strategy(RequestStrategy::Once)
            .timeout(REQUEST_TIMEOUT);
        if let Some(base) = base.filter(|b| !b.is_empty()) {
            builder = builder.url(base);
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        Ok(Self { client })
    }

    /// Makes the member's customer (the key makes a retried creation the same one).
    pub async fn create_customer(&self, member_id: Uuid) -> Result<String, GatewayError> {
        let customer = CreateCustomer::new()
            .metadata(HashMap::from([(
                "member_id".to_owned(),
                member_id.to_string(),
            )]))
            .customize()
            .request_strategy(idempotent(&format!("roster-customer-{member_id}"))?)
            .send(&self.client)
            .await
            .map_err(failure)?;
        Ok(customer.id.to_string())
    }

    /// Attaches `payment_method` to `customer`; answers the attached method's id.
    pub async fn attach(
        &self,
        payment_method: &str,
        customer: &str,
    ) -> Result<String, GatewayError> {
        let attached = AttachPaymentMethod::new(payment_method)
            .customer(customer)
            .send(&self.client)
            .await
            .map_err(failure)?;
        Ok(attached.id.to_string())
    }

    /// The intent made for this payment's attempt, if there is one: what it came to.
    pub async fn find_charge(
        &self,
        payment_id: Uuid,
        attempt: u32,
    ) -> Result<Option<Charge>, GatewayError> {
        let (payment, attempt) = (payment_id.to_string(), attempt.to_string());
        let mut after: Option<String> = None;
        for _ in 0..LOOKUP_PAGES {
            let mut request = ListPaymentIntent::new().limit(100);
            if let Some(after) = &after {
                request = request.starting_after(after.as_str());
            }
            let page = request.send(&self.client).await.map_err(failure)?;
            let found = page.data.iter().find(|intent| {
                intent.metadata.get("payment_id") == Some(&payment)
                    && intent.metadata.get("attempt") == Some(&attempt)
            });
            if let Some(intent) = found {
                return Ok(Some(charge_of(intent)));
            }
            after = page.data.last().map(|intent| intent.id.to_string());
            if !page.has_more || after.is_none() {
                return Ok(None);
            }
        }
        Err(GatewayError::Unreachable(format!(
            "more than {LOOKUP_PAGES} pages of intents to look through"
        )))
    }

    /// Creates and confirms the attempt's intent off-session.
    pub async fn charge(&self, request: &ChargeRequest<'_>) -> Result<Charge, GatewayError> {
        let currency = Currency::from_str(&request.currency.to_ascii_lowercase())
            .unwrap_or_else(|never| match never {});
        let amount = i64::try_from(request.amount)
            .map_err(|_| GatewayError::Refused("amount out of range".into()))?;
        let key = format!(
            "roster-payment-{}-attempt-{}",
            request.payment_id, request.attempt
        );
        let metadata = HashMap::from([
            ("payment_id".to_owned(), request.payment_id.to_string()),
            ("attempt".to_owned(), request.attempt.to_string()),
            ("member_id".to_owned(), request.member_id.to_string()),
        ]);
        let created = CreatePaymentIntent::new(amount, currency)
            .customer(request.customer)
            .payment_method(request.payment_method)
            .confirm(true)
            .off_session(CreatePaymentIntentOffSession::Bool(true))
            .metadata(metadata)
            .customize()
            .request_strategy(idempotent(&key)?)
            .send(&self.client)
            .await;
        match created {
            Ok(intent) => Ok(charge_of(&intent)),
            Err(StripeError::Stripe(error, 402)) => Ok(Charge::Declined {
                intent_id: error.payment_intent.as_ref().map(|i| i.id.to_string()),
                decline: Decline {
                    code: error
                        .decline_code
                        .clone()
                        .or_else(|| error.code.as_ref().map(|c| c.as_str().to_owned())),
                    message: error.message.clone(),
                },
            }),
            Err(e) => Err(failure(e)),
        }
    }

    /// Refunds `amount` of the intent; `Ok(Ok(id))` when Stripe refunded, `Ok(Err(reason))`
    /// when it refused this refund.
    pub async fn refund(
        &self,
        intent_id: &str,
        amount: u64,
        payment_id: Uuid,
        refund_id: Uuid,
    ) -> Result<Result<String, String>, GatewayError> {
        let amount = i64::try_from(amount)
            .map_err(|_| GatewayError::Refused("amount out of range".into()))?;
        let metadata = HashMap::from([
            ("payment_id".to_owned(), payment_id.to_string()),
            ("refund_id".to_owned(), refund_id.to_string()),
        ]);
        let refunded = CreateRefund::new()
            .payment_intent(intent_id)
            .amount(amount)
            .metadata(metadata)
            .customize()
            .request_strategy(idempotent(&format!("roster-refund-{refund_id}"))?)
            .send(&self.client)
            .await;
        match refunded {
            Ok(refund) => match refund.status.as_deref() {
                Some("failed" | "canceled") => Ok(Err(refund
                    .failure_reason
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_else(|| "refused by Stripe".into()))),
                _ => Ok(Ok(refund.id.to_string())),
            },
            // Stripe refuses a refund it will never make (more than remains) with a 400.
            Err(StripeError::Stripe(error, 400)) => Ok(Err(error
                .message
                .clone()
                .unwrap_or_else(|| "refused by Stripe".into()))),
            Err(e) => Err(failure(e)),
        }
    }
}

fn idempotent(key: &str) -> Result<RequestStrategy, GatewayError> {
    IdempotencyKey::new(key)
        .map(RequestStrategy::Idempotent)
        .map_err(|e| GatewayError::Refused(format!("idempotency key: {e:?}")))
}

fn charge_of(intent: &PaymentIntent) -> Charge {
    let intent_id = intent.id.to_string();
    match &intent.status {
        PaymentIntentStatus::Succeeded => Charge::Succeeded {
            intent_id,
            captured: u64::try_from(intent.amount_received).unwrap_or_default(),
        },
        PaymentIntentStatus::RequiresPaymentMethod | PaymentIntentStatus::Canceled => {
            let error = intent.last_payment_error.as_deref();
            Charge::Declined {
                intent_id: Some(intent_id),
                decline: Decline {
                    code: error.and_then(|e| {
                        e.decline_code
                            .clone()
                            .or_else(|| e.code.as_ref().map(|c| c.as_str().to_owned()))
                    }),
                    message: error.and_then(|e| e.message.clone()),
                },
            }
        }
        other => Charge::Pending {
            intent_id,
            status: other.as_str().to_owned(),
        },
    }
}

fn failure(error: StripeError) -> GatewayError {
    match error {
        StripeError::Stripe(api, status) if status == 429 || status >= 500 => {
            GatewayError::Unreachable(format!("{status}: {}", api.message.unwrap_or_default()))
        }
        StripeError::Stripe(api, status) => {
            GatewayError::Refused(format!("{status}: {}", api.message.unwrap_or_default()))
        }
        // No answer, or one that could not be read: whether it was made is unknown.
        other => GatewayError::Unreachable(other.to_string()),
    }
}
