//! Verification tokens (double opt-in), as the application makes and finds them.
//!
//! A token is never stored anywhere. Issuing one picks a random nonce; the token is a keyed MAC
//! of the member id and the nonce under a key derived from the master key
//! ([`Vault::verification_token`]), and the member's stream records the nonce and the token's
//! SHA-256. The mailer rebuilds the token from the nonce; a copy of the database alone cannot.
//! The hash is also claimed (scope [`TOKEN_SCOPE`]) in the append that issues it, so a
//! presented token leads to its member without a scan; confirming or issuing a newer token
//! releases the claim.

use chrono::Duration;
use rand::RngCore;
use rand::rngs::OsRng;
use roster_domain::member::VerificationTicket;
use roster_store::pii::Vault;
use roster_store::{DynClaims, StoreError};
use uuid::Uuid;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::secrets::hash_secret;

/// Default lifetime of a verification token (`ROSTER_TOKEN_TTL`).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::hours(24);

/// The claim scope of verification token hashes.
pub const TOKEN_SCOPE: &str = "verification-token";

/// Longest string accepted as a token; anything longer is not one of ours.
const MAX_TOKEN_LEN: usize = 100;

/// Makes tickets, rebuilds their tokens and finds the member a token was issued to.
#[derive(Clone)]
pub struct Tickets {
    vault: Vault,
    claims: DynClaims,
    ttl: Duration,
}

impl Tickets {
    pub fn new(vault: Vault, claims: DynClaims, ttl: Duration) -> Self {
        Self { vault, claims, ttl }
    }

    /// A new ticket for `member_id`: a nonce of 32 random bytes and the hash of the token it
    /// yields.
    pub fn ticket(&self, member_id: Uuid) -> VerificationTicket {
        let mut nonce = [0u8; 32];
        OsRng.fill_bytes(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let token_hash = hash_secret(&self.token(member_id, &nonce));
        VerificationTicket {
            nonce,
            token_hash,
            ttl_seconds: u32::try_from(self.ttl.num_seconds()).unwrap_or(u32::MAX),
        }
    }

    /// The token of the ticket issued to `member_id` with `nonce`: what the mail carries.
    pub fn token(&self, member_id: Uuid, nonce: &str) -> String {
        self.vault.verification_token(member_id, nonce)
    }

    /// The member `token` was issued to and the token's hash, if it is a live claim: not
    /// confirmed with yet, not replaced by a newer token, not erased. Expiry is the domain's
    /// to judge.
    pub async fn find(&self, token: &str) -> Result<Option<(Uuid, String)>, StoreError> {
        let token = token.trim();
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Ok(None);
        }
        let hash = hash_secret(token);
        let owner = self.claims.claim_owner(TOKEN_SCOPE, &hash).await?;
        Ok(owner
            .and_then(|owner| Uuid::parse_str(&owner).ok())
            .map(|member| (member, hash)))
    }
}
