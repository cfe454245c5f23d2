//! Reading `payments_v1`, and the record of a payment both the read model and the payment's
//! own stream answer with.

use chrono::{DateTime, Utc};
use roster_domain::payment::{
    AttemptOutcome, Method, PaymentState, RefundStatus, currency_exponent,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Page, ReadModels};
use crate::ProjectionError;
use crate::rows::Val;

/// A payment as upstream apps and operators see it. Amounts are in minor units of
/// `currency`, whose `exponent` says how many decimals a major unit has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PaymentRecord {
    pub payment_id: Uuid,
    pub member_id: Uuid,
    pub membership_id: Option<Uuid>,
    pub status: String,
    pub amount: u64,
    pub currency: String,
    pub exponent: u8,
    /// `card` (through the gateway), or how money received offline came.
    pub method: String,
    /// The reference of an offline payment.
    pub reference: Option<String>,
    pub description: Option<String>,
    pub captured_amount: u64,
    pub refunded_amount: u64,
    /// Refunds asked for and not yet answered.
    pub pending_refund_amount: u64,
    pub attempts: Vec<AttemptRecord>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub refunds: Vec<RefundRecord>,
    pub requested_at: Option<DateTime<Utc>>,
    pub succeeded_at: Option<DateTime<Utc>>,
    /// Global position of the payment's latest event.
    pub position: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AttemptRecord {
    pub attempt: u32,
    /// `in_flight`, `unknown`, `succeeded` or `declined`.
    pub outcome: String,
    pub started_at: DateTime<Utc>,
    pub gateway_id: Option<String>,
    pub decline_code: Option<String>,
    pub decline_message: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RefundRecord {
    pub refund_id: Uuid,
    pub amount: u64,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    pub reason: Option<String>,
    pub override_reason: Option<String>,
    pub requested_at: DateTime<Utc>,
    pub gateway_id: Option<String>,
}

impl PaymentRecord {
    /// The record of `state` at `position`; `None` before the payment exists.
    pub fn of(state: &PaymentState, position: u64) -> Option<Self> {
        let (payment_id, member_id) = (state.payment_id?, state.member_id?);
        let (method, reference) = match &state.method {
            Some(Method::Offline { method, reference }) => (
                serde_json::to_value(method)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                Some(reference.clone()),
            ),
            _ => ("card".to_owned(), None),
        };
        Some(Self {
            payment_id,
            member_id,
            membership_id: state.membership_id,
            status: state.status().as_str().to_owned(),
            amount: state.amount,
            currency: state.currency.clone(),
            exponent: currency_exponent(&state.currency).unwrap_or(2),
            method,
            reference,
            description: state.description.clone(),
            captured_amount: state.captured,
            refunded_amount: state.refunded(),
            pending_refund_amount: state.refund_pending(),
            attempts: state.attempts.iter().map(attempt).collect(),
            next_attempt_at: state.next_attempt.map(|(_, at)| at),
            refunds: state
                .refunds
                .iter()
                .map(|(id, r)| RefundRecord {
                    refund_id: *id,
                    amount: r.amount,
                    status: match r.status {
                        RefundStatus::Pending => "pending",
                        RefundStatus::Succeeded => "succeeded",
                        RefundStatus::Failed => "failed",
                    }
                    .to_owned(),
                    reason: r.reason.clone(),
                    override_reason: r.override_reason.clone(),
                    requested_at: r.requested_at,
                    gateway_id: r.gateway_id.clone(),
                })
                .collect(),
            requested_at: state.requested_at,
            succeeded_at: state.succeeded_at,
            position,
        })
    }
}

fn attempt(a: &roster_domain::payment::Attempt) -> AttemptRecord {
    let (outcome, gateway_id, decline) = match &a.outcome {
        AttemptOutcome::InFlight => ("in_flight", None, None),
        AttemptOutcome::Unknown { .. } => ("unknown", None, None),
        AttemptOutcome::Succeeded { gateway_id } => ("succeeded", Some(gateway_id.clone()), None),
        AttemptOutcome::Failed {
            gateway_id,
            decline,
            ..
        } => ("declined", gateway_id.clone(), Some(decline)),
    };
    AttemptRecord {
        attempt: a.number,
        outcome: outcome.to_owned(),
        started_at: a.started_at,
        gateway_id,
        decline_code: decline.and_then(|d| d.code.clone()),
        decline_message: decline.and_then(|d| d.message.clone()),
    }
}

/// Which payments a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaymentFilter {
    pub member: Option<Uuid>,
    pub status: Option<String>,
}

/// Payments and money per status and currency, for `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentTotals {
    pub status: String,
    pub currency: String,
    pub count: u64,
    pub captured: u64,
    pub refunded: u64,
}

impl ReadModels {
    /// Payments in id order (UUIDv7: the order they were asked for), after the cursor.
    pub async fn payments(
        &self,
        filter: &PaymentFilter,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<PaymentRecord>, ProjectionError> {
        let limit = limit.clamp(1, 1000);
        let mut params = vec![Val::text(after.unwrap_or_default())];
        let mut sql = String::from("SELECT record FROM payments_v1 WHERE payment_id > $1");
        if let Some(member) = filter.member {
            params.push(Val::id(member));
            sql.push_str(&format!(" AND member_id = ${}", params.len()));
        }
        if let Some(status) = &filter.status {
            params.push(Val::text(status.clone()));
            sql.push_str(&format!(" AND status = ${}", params.len()));
        }
        sql.push_str(&format!(" ORDER BY payment_id LIMIT {}", limit + 1));
        let rows = self.db().query(&sql, params).await?;
        let mut items = rows
            .iter()
            .map(|r| record(r))
            .collect::<Result<Vec<_>, _>>()?;
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            items
                .last()
                .map(|p| p.payment_id.to_string())
                .unwrap_or_default()
        });
        Ok(Page { items, next })
    }

    /// Counts and sums per status and currency.
    pub async fn payment_totals(&self) -> Result<Vec<PaymentTotals>, ProjectionError> {
        let rows = self
            .db()
            .query(
                "SELECT status, currency, COUNT(*), SUM(captured), SUM(refunded) \
                 FROM payments_v1 GROUP BY status, currency ORDER BY status, currency",
                Vec::new(),
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| {
                let int = |i: usize| {
                    r.get(i)
                        .and_then(Val::as_int)
                        .map_or(0, |v| u64::try_from(v).unwrap_or(0))
                };
                let text = |i: usize| r.get(i).and_then(Val::as_text).unwrap_or("").to_owned();
                PaymentTotals {
                    status: text(0),
                    currency: text(1),
                    count: int(2),
                    captured: int(3),
                    refunded: int(4),
                }
            })
            .collect())
    }
}

fn record(row: &[Val]) -> Result<PaymentRecord, ProjectionError> {
    let text = row
        .first()
        .and_then(Val::as_text)
        .ok_or_else(|| ProjectionError::Corrupt("payments_v1.record".into()))?;
    serde_json::from_str(text)
        .map_err(|e| ProjectionError::Corrupt(format!("payments_v1.record: {e}")))
}
