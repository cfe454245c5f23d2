//! Referrals: every member has a referral code, derived from their id with a key of Roster's
//! (so it is stable, and says nothing of the id); registering with one records the referrer on
//! the newcomer's stream; the newcomer's first successful payment records the referrer's
//! reward (`MemberReferralRewarded`), once.
//!
//! A code is found by a side table (`referral_codes`), written when the member registers and
//! again whenever the code is read (so members registered before referrals existed, or whose
//! first write was lost, have theirs as soon as anyone can know it).

use roster_domain::member::RewardMemberReferral;
use roster_domain::{DomainError, Member, MemberCommand, MemberStatus, Payment, PaymentStatus};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Members;
use crate::access_codes::{ALPHABET, grouped};
use crate::{AppError, CommandMeta};

/// Characters of a code (60 bits, Crockford's base32 as access codes), shown in groups of four.
const CODE_LEN: usize = 12;

impl Members {
    /// The member's referral code, `XXXX-XXXX-XXXX`. `NotFound` for no member.
    pub async fn referral_code(&self, member_id: Uuid) -> Result<String, AppError> {
        self.get(member_id).await?;
        let code = self.code_of(member_id);
        let now = self.commands.clock().now();
        self.side
            .store_referral_code(&normalise(&code), member_id, now)
            .await?;
        Ok(code)
    }

    /// Records the code of a member who just registered; a failure is logged, not returned
    /// (the registration stands, and reading the code records it again).
    pub(super) async fn record_code(&self, member_id: Uuid) {
        let code = normalise(&self.code_of(member_id));
        let now = self.commands.clock().now();
        if let Err(error) = self.side.store_referral_code(&code, member_id, now).await {
            tracing::warn!(%member_id, %error, "referral code not recorded yet");
        }
    }

    /// The member a registration's referral code names. A code nobody has is `invalid-input`.
    pub(super) async fn referrer(&self, code: &str) -> Result<Uuid, AppError> {
        let owner = self.side.referral_code_owner(&normalise(code)).await?;
        owner.ok_or_else(|| {
            AppError::Domain(DomainError::InvalidInput {
                field: "referral_code".into(),
                reason: "no member has this referral code".into(),
            })
        })
    }

    /// After the payment `payment_id` succeeded: when its member was referred, the referrer's
    /// reward is recorded, once per referred member (a later payment finds it recorded). An
    /// erased referrer gets none.
    pub async fn reward_referral(
        &self,
        payment_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(), AppError> {
        let payment = self.commands.load::<Payment>(payment_id).await?.state;
        let succeeded = matches!(
            payment.status(),
            PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded
        );
        let Some(member_id) = payment.member_id.filter(|_| succeeded) else {
            return Ok(());
        };
        let member = self.commands.load::<Member>(member_id).await?.state;
        let Some(referrer) = member.referred_by else {
            return Ok(());
        };
        let referrer_state = self.commands.load::<Member>(referrer).await?.state;
        if matches!(
            referrer_state.status,
            MemberStatus::Erased | MemberStatus::Unregistered
        ) || referrer_state.referrals_rewarded.contains(&member_id)
        {
            return Ok(());
        }
        let command = MemberCommand::RewardReferral(RewardMemberReferral {
            referred_member_id: member_id,
            payment_id,
        });
        self.commands
            .execute::<Member>(referrer, &command, meta)
            .await?;
        Ok(())
    }

    fn code_of(&self, member_id: Uuid) -> String {
        let mac = self
            .commands
            .vault()
            .verification_token(member_id, "referral-code");
        let digest = Sha256::digest(mac.as_bytes());
        let mut bits = u64::from_be_bytes(digest[..8].try_into().unwrap_or_default());
        let mut chars = Vec::with_capacity(CODE_LEN);
        for _ in 0..CODE_LEN {
            chars.push(char::from(ALPHABET[(bits & 31) as usize]));
            bits >>= 5;
        }
        grouped(&chars)
    }
}

/// A code as typed, made comparable: no dashes or spaces, capitals, and the letters Crockford's
/// alphabet leaves out read as the digits they look like (I and L as 1, O as 0).
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'I' | 'L' => '1',
            'O' => '0',
            other => other,
        })
        .collect()
}
