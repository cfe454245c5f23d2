//! Failed confirmations are counted per client: the API key (or the hosted confirmation page),
//! and the end user's address as the caller saw it. After [`CONFIRM_FAILURES`] in
//! [`CONFIRM_WINDOW`] the client waits (`rate-limited`), even with a good token, until the
//! window ends; after [`KEY_CONFIRM_FAILURES`] the whole key does. Tokens are 256-bit MACs, so
//! this is defence in depth rather than what makes guessing hopeless.

use chrono::{DateTime, Utc};

use crate::AppError;
use crate::sidedb::{SideDb, Throttle};

/// Failed confirmations a client may make in one [`CONFIRM_WINDOW`].
pub const CONFIRM_FAILURES: u32 = 10;
/// Failed confirmations one API key may make in one [`CONFIRM_WINDOW`], whatever the clients:
/// a ceiling for callers that vary the client address.
pub const KEY_CONFIRM_FAILURES: u32 = 500;
pub const CONFIRM_WINDOW: chrono::Duration = chrono::Duration::minutes(15);

/// Who is confirming, for the failure count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The API key's id, or a fixed name for a caller without one (the hosted page).
    pub key: String,
    /// The end user's address, when the caller knows it. Bounded to 64 characters, so a caller
    /// cannot make rows of any size.
    pub address: Option<String>,
}

impl Client {
    pub fn new(key: impl Into<String>, address: Option<&str>) -> Self {
        Self {
            key: key.into(),
            address: address
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(|a| a.chars().take(64).collect()),
        }
    }

    /// The buckets a confirmation counts in, with their limits: the client's, then the key's.
    fn buckets(&self) -> Vec<(String, u32)> {
        let address = self.address.as_deref().unwrap_or("-");
        vec![
            (format!("confirm:{}:{address}", self.key), CONFIRM_FAILURES),
            (format!("confirm:{}", self.key), KEY_CONFIRM_FAILURES),
        ]
    }

    /// The buckets an access code redemption counts in: the client's, and the plan's (however
    /// many clients guess at it).
    pub(crate) fn access_code_buckets(&self, plan: &str) -> Vec<(String, u32)> {
        let address = self.address.as_deref().unwrap_or("-");
        vec![
            (
                format!("access-code:{}:{address}", self.key),
                ACCESS_CODE_FAILURES,
            ),
            (
                format!("access-code-plan:{plan}"),
                PLAN_ACCESS_CODE_FAILURES,
            ),
        ]
    }
}

/// Failed access code redemptions a client may make in one [`CONFIRM_WINDOW`].
pub const ACCESS_CODE_FAILURES: u32 = 10;
/// Failed access code redemptions one plan takes in one [`CONFIRM_WINDOW`], from all clients.
pub const PLAN_ACCESS_CODE_FAILURES: u32 = 200;

/// Counts one attempt in each of the client's buckets; over a limit, gives back what it took
/// and answers `Throttled`. Returns the buckets counted in.
pub(super) async fn take(
    side: &SideDb,
    client: &Client,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    take_from(
        side,
        client.buckets(),
        "too many failed confirmations from this client",
        now,
    )
    .await
}

/// Counts one attempt in each bucket; over a limit, gives back what it took and answers
/// `Throttled` with `reason`. Returns the buckets counted in.
pub(crate) async fn take_from(
    side: &SideDb,
    buckets: Vec<(String, u32)>,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>, AppError> {
    let mut taken = Vec::new();
    for (bucket, limit) in buckets {
        let throttle = side
            .take_attempt(&bucket, limit, CONFIRM_WINDOW, now)
            .await?;
        taken.push(bucket);
        if let Throttle::Limited { until } = throttle {
            give_back(side, &taken).await;
            let millis = (until - now).num_milliseconds();
            return Err(AppError::Throttled {
                retry_after_seconds: u64::try_from((millis + 999) / 1000).unwrap_or(1).max(1),
                reason: reason.into(),
            });
        }
    }
    Ok(taken)
}

/// Returns attempts that did not fail on the token. Best effort: a lost give-back costs the
/// client one attempt of its allowance, not a wrong answer.
pub(crate) async fn give_back(side: &SideDb, buckets: &[String]) {
    for bucket in buckets {
        if let Err(e) = side.give_back(bucket).await {
            tracing::warn!(error = %e, "cannot give a confirmation attempt back");
        }
    }
}
