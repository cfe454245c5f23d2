//! Access codes: operators generate a batch of unique codes for a plan (single or multi use,
//! optional expiry), shown once and stored only hashed; a member joins with one instead of
//! paying ([`crate::Memberships::join`]). A code unknown, for another plan, used up or expired
//! is `invalid-access-code`; failed redemptions count per client and per plan and, past their
//! limits, are refused for a while (`rate-limited`) however good the next code is.

use chrono::{DateTime, Utc};
use rand::Rng;
use rand::rngs::OsRng;
use roster_domain::DomainError;
use uuid::Uuid;

use crate::secrets::hash_secret;
use crate::sidedb::SideDb;
use crate::{AppError, Plans};

/// Codes in one batch at most.
pub const MAX_BATCH: u32 = 10_000;

/// Crockford's base32: no I, L, O or U, so a code read aloud or retyped stays the same.
pub(crate) const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a code (80 bits), shown in groups of four.
const CODE_LEN: usize = 16;

/// What an operator asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBatch {
    pub plan: String,
    pub count: u32,
    /// Redemptions each code allows (1: single use).
    pub uses: u32,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A generated batch: the codes, shown this once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedCodes {
    pub batch_id: Uuid,
    pub codes: Vec<String>,
}

/// Generates and stores a batch.
pub async fn generate(
    side: &SideDb,
    plans: &Plans,
    batch: &CodeBatch,
    batch_id: Uuid,
    now: DateTime<Utc>,
) -> Result<GeneratedCodes, AppError> {
    let plan = plans.get(&batch.plan).await?;
    if plan.state.retired {
        return Err(invalid_state("the plan is retired"));
    }
    if !(1..=MAX_BATCH).contains(&batch.count) {
        return Err(invalid("count", &format!("1 to {MAX_BATCH} codes")));
    }
    if batch.uses == 0 {
        return Err(invalid("uses", "a code allows at least one use"));
    }
    if batch.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid("expires_at", "must be in the future"));
    }
    let codes: Vec<String> = (0..batch.count).map(|_| new_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| code_hash(c)).collect();
    side.store_access_codes(
        &batch.plan,
        batch_id,
        &hashes,
        batch.uses,
        batch.expires_at,
        now,
    )
    .await?;
    Ok(GeneratedCodes { batch_id, codes })
}

/// A new code: `XXXX-XXXX-XXXX-XXXX` from [`ALPHABET`].
fn new_code() -> String {
    let mut rng = OsRng;
    let chars: Vec<char> = (0..CODE_LEN)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    grouped(&chars)
}

/// A code shown in groups of four: `XXXX-XXXX-…`.
pub(crate) fn grouped(chars: &[char]) -> String {
    chars
        .chunks(4)
        .map(|group| group.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The hash a code is stored and found by: of the code as typed, without dashes or spaces,
/// in capitals.
pub fn code_hash(code: &str) -> String {
    let normal: String = code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hash_secret(&normal)
}

/// The error of a code that cannot be redeemed; the reason stays vague on purpose (a guesser
/// learns nothing about which codes exist).
pub fn invalid_code() -> AppError {
    AppError::Domain(DomainError::InvalidAccessCode {
        reason: "the code is unknown, used up, expired or for another plan".into(),
    })
}

fn invalid(field: &str, reason: &str) -> AppError {
    AppError::Domain(DomainError::InvalidInput {
        field: field.to_owned(),
        reason: reason.to_owned(),
    })
}

fn invalid_state(message: &str) -> AppError {
    AppError::Domain(DomainError::InvalidState {
        message: message.to_owned(),
    })
}
