//! Stripe's webhooks: the signature (HMAC-SHA256 `v1` over `"{t}.{body}"`, within
//! [`WEBHOOK_TOLERANCE_SECONDS`] of Roster's clock, with any of the configured secrets), then
//! the event turned into the same reports the charging worker sends. A delivery already
//! applied is ignored by the event's id; the reports themselves change nothing the second
//! time, so whichever of the worker and the webhook comes first counts, and only once.

use hmac::{Hmac, Mac};
use roster_domain::payment::Decline;
use roster_store::ActorRef;
use serde_json::Value;
use sha2::Sha256;
use uuid::Uuid;

use super::Payments;
use crate::{AppError, CommandMeta};

/// How far a webhook's timestamp may be from Roster's clock.
pub const WEBHOOK_TOLERANCE_SECONDS: i64 = 300;

/// What became of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// Turned into reports (which may have changed nothing, if the worker was first).
    Applied { event_type: String },
    /// This event id was applied before.
    Duplicate,
    /// Not about a Roster payment, or of a type Roster does not follow.
    Ignored { event_type: String },
}

/// The `Stripe-Signature` header for `payload` at `timestamp` (Unix seconds) with `secret`,
/// as Stripe writes it (tests and tools sign their own deliveries with it).
pub fn sign_webhook(payload: &[u8], secret: &str, timestamp: i64) -> String {
    format!("t={timestamp},v1={}", hex(&mac(secret, timestamp, payload)))
}

impl Payments {
    /// Verifies and applies one delivery of Stripe's webhook.
    pub async fn stripe_webhook(
        &self,
        payload: &[u8],
        signature: Option<&str>,
    ) -> Result<WebhookOutcome, AppError> {
        let now = self.commands.clock().now().timestamp();
        verify(payload, signature, &self.policy.webhook_secrets, now)?;
        let event: Value = serde_json::from_slice(payload)
            .map_err(|e| AppError::InvalidSignature(format!("the signed body is not JSON: {e}")))?;
        let id = event["id"].as_str().unwrap_or_default();
        let event_type = event["type"].as_str().unwrap_or_default().to_owned();
        if id.is_empty() {
            return Err(AppError::InvalidSignature("the event has no id".into()));
        }
        if self.side.webhook_seen(id).await? {
            return Ok(WebhookOutcome::Duplicate);
        }
        let applied = self.apply(&event_type, &event["data"]["object"]).await?;
        self.side
            .webhook_applied(id, &event_type, self.commands.clock().now())
            .await?;
        Ok(match applied {
            true => WebhookOutcome::Applied { event_type },
            false => WebhookOutcome::Ignored { event_type },
        })
    }

    /// Sends the reports an event carries; `false` when it carries none.
    async fn apply(&self, event_type: &str, object: &Value) -> Result<bool, AppError> {
        let meta = CommandMeta::new(ActorRef::Worker("webhook.stripe".into()));
        let reported = match event_type {
            "payment_intent.succeeded" | "payment_intent.payment_failed" => {
                let Some((payment_id, attempt)) = attempt_of(object) else {
                    return Ok(false);
                };
                let intent = object["id"].as_str().unwrap_or_default().to_owned();
                match event_type {
                    "payment_intent.succeeded" => {
                        let captured = object["amount_received"].as_u64().unwrap_or_default();
                        self.record_succeeded(payment_id, attempt, intent, captured, &meta)
                            .await
                    }
                    _ => {
                        let error = &object["last_payment_error"];
                        let decline = Decline {
                            code: text(&error["decline_code"]).or_else(|| text(&error["code"])),
                            message: text(&error["message"]),
                        };
                        self.record_declined(payment_id, attempt, Some(intent), decline, &meta)
                            .await
                    }
                }
                .map(drop)
            }
            "charge.refunded" => {
                let refunds = object["refunds"]["data"].as_array().cloned();
                let mut any = false;
                for refund in refunds.unwrap_or_default() {
                    any |= self.apply_refund(&refund, &meta).await?;
                }
                return Ok(any);
            }
            "refund.created" | "refund.updated" | "charge.refund.updated" => {
                return self.apply_refund(object, &meta).await;
            }
            _ => return Ok(false),
        };
        accepted(reported)
    }

    /// A refund object with Roster's metadata: succeeded or failed at the gateway.
    async fn apply_refund(&self, refund: &Value, meta: &CommandMeta) -> Result<bool, AppError> {
        let ids = (
            uuid(&refund["metadata"]["payment_id"]),
            uuid(&refund["metadata"]["refund_id"]),
        );
        let (Some(payment_id), Some(refund_id)) = ids else {
            return Ok(false);
        };
        let outcome = match refund["status"].as_str() {
            Some("succeeded") => Ok(text(&refund["id"])),
            Some("failed" | "canceled") => Err(text(&refund["failure_reason"])
                .unwrap_or_else(|| "refused by the gateway".to_owned())),
            _ => return Ok(false),
        };
        let reported = self
            .record_refund(payment_id, refund_id, outcome, meta)
            .await;
        accepted(reported.map(drop)).map(|_| true)
    }
}

/// A report the domain refused (a payment Roster does not know) is logged and not retried:
/// Stripe would redeliver it for days and the answer would stay the same.
fn accepted(reported: Result<(), AppError>) -> Result<bool, AppError> {
    match reported {
        Ok(()) => Ok(true),
        Err(AppError::Domain(e)) => {
            tracing::warn!(error = %e, "a webhook's report was refused");
            Ok(true)
        }
        Err(AppError::NotFound { what }) => {
            tracing::warn!(%what, "a webhook names a payment Roster does not have");
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

/// The payment and attempt a PaymentIntent was made for (its metadata).
fn attempt_of(intent: &Value) -> Option<(Uuid, u32)> {
    let metadata = &intent["metadata"];
    let payment_id = uuid(&metadata["payment_id"])?;
    let attempt = metadata["attempt"].as_str()?.parse().ok()?;
    Some((payment_id, attempt))
}

fn uuid(value: &Value) -> Option<Uuid> {
    value.as_str().and_then(|s| Uuid::parse_str(s).ok())
}

fn text(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

fn verify(
    payload: &[u8],
    header: Option<&str>,
    secrets: &[String],
    now: i64,
) -> Result<(), AppError> {
    let bad = |reason: &str| Err(AppError::InvalidSignature(reason.to_owned()));
    if secrets.is_empty() {
        return bad("no webhook secret is configured (ROSTER_STRIPE_WEBHOOK_SECRET)");
    }
    let Some(header) = header else {
        return bad("the Stripe-Signature header is missing");
    };
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", v)) => signatures.extend(unhex(v)),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return bad("the Stripe-Signature header has no timestamp");
    };
    let matches = secrets.iter().any(|secret| {
        let mut mac = keyed(secret);
        mac.update(format!("{timestamp}.").as_bytes());
        mac.update(payload);
        signatures
            .iter()
            .any(|signature| mac.clone().verify_slice(signature).is_ok())
    });
    if !matches {
        return bad("no v1 signature matches a configured secret");
    }
    if (now - timestamp).abs() > WEBHOOK_TOLERANCE_SECONDS {
        return bad("the timestamp is more than 300 s away");
    }
    Ok(())
}

type HmacSha256 = Hmac<Sha256>;

fn keyed(secret: &str) -> HmacSha256 {
    // HMAC takes keys of any length.
    HmacSha256::new_from_slice(secret.as_bytes()).unwrap_or_else(|_| unreachable!())
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Vec<u8> {
    let mut mac = keyed(secret);
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1","type":"x"}"#;

    fn secrets(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_signature_by_any_configured_secret_within_the_tolerance_verifies() {
        let header = sign_webhook(BODY, "whsec_new", 1_000);
        assert!(
            verify(
                BODY,
                Some(&header),
                &secrets(&["whsec_old", "whsec_new"]),
                1_000
            )
            .is_ok()
        );
        assert!(verify(BODY, Some(&header), &secrets(&["whsec_new"]), 1_300).is_ok());
        assert!(verify(BODY, Some(&header), &secrets(&["whsec_new"]), 1_301).is_err());
        assert!(verify(BODY, Some(&header), &secrets(&["whsec_old"]), 1_000).is_err());
        assert!(verify(b"{}", Some(&header), &secrets(&["whsec_new"]), 1_000).is_err());
        assert!(verify(BODY, None, &secrets(&["whsec_new"]), 1_000).is_err());
        assert!(verify(BODY, Some("t=1000,v1=zz"), &secrets(&["whsec_new"]), 1_000).is_err());
        assert!(verify(BODY, Some(&header), &[], 1_000).is_err());
    }
}
