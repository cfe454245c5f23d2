//! The referrals reactor: every successful payment -> a job that records the referrer's reward
//! when the payer was referred and this is the first payment that earns it.

use roster_domain::payment::PaymentSucceeded;
use roster_domain::{AnyEvent, PaymentEvent};

use crate::job::{Cause, Enqueue};
use crate::jobs::referral_reward::ReferralReward;
use crate::reactor::Reactor;

pub struct ReferralsReactor;

/// The referrals reactor's name and checkpoint.
pub const REFERRALS: &str = "referrals";

impl Reactor for ReferralsReactor {
    fn name(&self) -> &'static str {
        REFERRALS
    }

    fn react(&self, event: &AnyEvent, cause: Cause) -> Result<Vec<Enqueue>, serde_json::Error> {
        match event {
            AnyEvent::Payment(PaymentEvent::Succeeded(PaymentSucceeded { payment_id, .. })) => {
                Ok(vec![Enqueue::of(&ReferralReward {
                    payment_id: *payment_id,
                    cause,
                })?])
            }
            _ => Ok(Vec::new()),
        }
    }
}
