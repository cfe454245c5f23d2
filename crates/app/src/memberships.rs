//! The membership use cases: joining a plan, reading and cancelling a membership, claiming an
//! offered place, and the steps that keep a membership, its plan and its payments in step
//! (the workers run those, one per event, and each is safe to run again).
//!
//! Joining takes two appends: the plan's (a place or a spot in line, decided on the plan's
//! stream so positions are exact under concurrency), then the membership's. A join that stopped
//! between the two is finished by the next join of the same member on the plan: the plan
//! already holds their entry, and the membership is opened under its id.
//!
//! How the streams follow each other (the memberships reactor turns each event into a step):
//! - membership opened, placed or renewing with a payment named -> that payment is asked for;
//! - payment succeeded / declined with a re-attempt / failed -> membership activated or renewed /
//!   past due / lapsed;
//! - membership lapsed or cancelled -> its place, offer or spot in line released on the plan;
//! - place offered -> membership offered (and mailed a claim link); offer lapsed or line left
//!   -> a still-waiting membership cancelled; offer claimed -> membership placed;
//! - a period's end -> the renewal asked for, or a scheduled cancellation settled.

use chrono::{DateTime, Utc};
use roster_domain::membership::MembershipStatus;
use roster_domain::membership::{
    ActivateMembership, CancelMembership, ChangeMembershipPaymentMethod, EndMembershipPeriod,
    JoinStanding, LapseMembership, MarkMembershipPastDue, OfferMembershipPlace, OpenMembership,
    PlaceMembership, RecordMembershipReminder, RecordMembershipRenewal, RequestMembershipRenewal,
};
use roster_domain::payment::PaymentStatus;
use roster_domain::plan::{
    ClaimPlanOffer, ExpirePlanOffers, JoinPlan, ReleasePlanPlace, Standing, plan_id,
};
use roster_domain::{
    DomainError, Membership, MembershipCommand, MembershipState, Payment, Plan, PlanCommand,
    PlanState,
};
use roster_store::Position;
use roster_store::pii::Vault;
use uuid::Uuid;

use crate::access_codes::{code_hash, invalid_code};
use crate::members::{Client, give_back, take_from};
use crate::payments::NewPayment;
use crate::secrets::hash_secret;
use crate::sidedb::{SideDb, StoredCode};
use crate::{AppError, CommandHandler, CommandMeta, Payments};

/// A join as an upstream app asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinRequest {
    /// The plan's slug.
    pub plan: String,
    /// The price's currency when the plan has several; `None`: its first price.
    pub currency: Option<String>,
    /// The gateway's payment method (`pm_…`); needed for a paid plan unless an access code
    /// is given.
    pub payment_method: Option<String>,
    /// An access code of the plan: the membership is granted without payment.
    pub access_code: Option<String>,
    /// Who is redeeming the code, for the failure count (`None`: counted as one anonymous
    /// client).
    pub client: Option<Client>,
}

/// A membership as upstream apps see it: its state, and where it stands on its plan now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipView {
    pub state: MembershipState,
    /// Its place in line now (1 is the first), while it waits.
    pub waitlist_position: Option<u32>,
    /// Until when a place is held for it, while one is offered.
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// Global position of the membership's latest event (for `min_position`).
    pub position: Position,
}

/// The membership use cases. Cheap to clone.
#[derive(Clone)]
pub struct Memberships {
    commands: CommandHandler,
    payments: Payments,
    vault: Vault,
    side: SideDb,
}

/// The id of the payment that renews `membership_id` for the period after `period_end`: the
/// same for every run of the step, so a repeated step asks for one payment.
pub fn renewal_payment_id(membership_id: Uuid, period_end: DateTime<Utc>) -> Uuid {
    let name = format!("{membership_id}/{}", period_end.timestamp());
    Uuid::new_v5(&RENEWAL_NAMESPACE, name.as_bytes())
}

const RENEWAL_NAMESPACE: Uuid = Uuid::from_u128(0x3b0e_54f2_8d7c_4a61_9f18_c2d4_5e6a_7b80);

impl Memberships {
    pub fn new(commands: CommandHandler, payments: Payments, vault: Vault, side: SideDb) -> Self {
        Self {
            commands,
            payments,
            vault,
            side,
        }
    }

    /// Joins `member_id` to a plan: a place (paid: pending its first payment; free or by an
    /// access code: active), or a spot in line at an exact position. A code's use is taken
    /// before the join and given back if the join is refused.
    pub async fn join(
        &self,
        member_id: Uuid,
        mut request: JoinRequest,
        meta: &CommandMeta,
    ) -> Result<MembershipView, AppError> {
        self.commands.require_member(member_id).await?;
        let redeemed = match request.access_code.take() {
            Some(code) => Some(self.redeem(&code, &request).await?),
            None => None,
        };
        let joined = self
            .join_plan(member_id, request, redeemed.as_ref(), meta)
            .await;
        if let (Err(_), Some(code)) = (&joined, &redeemed)
            && let Err(e) = self.side.give_back_access_code(&code.code_hash).await
        {
            tracing::warn!(error = %e, "cannot give back the use of an access code");
        }
        joined
    }

    /// Takes one use of `code` for the request's plan, counting a failure against the client
    /// and the plan.
    async fn redeem(&self, code: &str, request: &JoinRequest) -> Result<StoredCode, AppError> {
        let client = request
            .client
            .clone()
            .unwrap_or_else(|| Client::new("-", None));
        let now = self.commands.clock().now();
        let buckets = client.access_code_buckets(&request.plan);
        let reason = "too many failed access codes; wait before trying again";
        let counted = take_from(&self.side, buckets, reason, now).await?;
        match self
            .side
            .use_access_code(&code_hash(code), &request.plan, now)
            .await?
        {
            Some(stored) => {
                give_back(&self.side, &counted).await;
                Ok(stored)
            }
            None => Err(invalid_code()),
        }
    }

    async fn join_plan(
        &self,
        member_id: Uuid,
        request: JoinRequest,
        redeemed: Option<&StoredCode>,
        meta: &CommandMeta,
    ) -> Result<MembershipView, AppError> {
        let plan = self.plan(&request.plan).await?;
        let terms = plan
            .terms
            .clone()
            .ok_or_else(|| not_found_plan(&request.plan))?;
        let price = match &request.currency {
            None => terms.prices.first(),
            Some(currency) => terms
                .prices
                .iter()
                .find(|p| p.currency.eq_ignore_ascii_case(currency.trim())),
        }
        .cloned()
        .ok_or_else(|| invalid("currency", "the plan has no price in this currency"))?;
        // A code grants the plan without a price: nothing to pay, no period to renew.
        let price = Some(price).filter(|_| redeemed.is_none());
        let paid = roster_domain::membership::needs_payment(price.as_ref());
        if paid && request.payment_method.is_none() {
            return Err(invalid(
                "payment_method",
                "this plan is paid: a payment method or an access code is needed",
            ));
        }
        let plan_id = plan_id(&request.plan);
        // A join that stopped after the plan's append: finish it under the id the plan holds.
        let unfinished = match plan.entry_of(member_id) {
            Some(entry) if !self.load(entry).await?.state.exists() => Some(entry),
            _ => None,
        };
        let (membership_id, plan) = match unfinished {
            Some(entry) => {
                self.side.index_membership(member_id, entry).await?;
                (entry, plan)
            }
            None => {
                let membership_id = self.commands.new_id();
                // Indexed before anything is appended, so erasure finds every membership.
                self.side.index_membership(member_id, membership_id).await?;
                let join = PlanCommand::Join(JoinPlan {
                    membership_id,
                    member_id,
                });
                let handled = self.commands.execute::<Plan>(plan_id, &join, meta).await?;
                (membership_id, handled.state)
            }
        };
        let standing = match plan.standing(membership_id) {
            Some(Standing::Waiting { position }) => JoinStanding::Waitlisted { position },
            _ => JoinStanding::Placed,
        };
        let placed = standing == JoinStanding::Placed;
        let open = MembershipCommand::Open(OpenMembership {
            membership_id,
            member_id,
            plan_id,
            plan_slug: plan.slug.clone(),
            price,
            content_tags: terms.content_tags.clone(),
            standing,
            payment_id: (paid && placed).then(|| self.commands.new_id()),
            payment_method: request.payment_method.filter(|_| paid),
            access_code_batch: redeemed.map(|code| code.batch_id),
        });
        let handled = self
            .commands
            .execute::<Membership>(membership_id, &open, meta)
            .await?;
        Ok(view(handled.state, &plan, membership_id, handled.position))
    }

    /// The membership as its stream folds now, with its standing on the plan.
    pub async fn get(&self, membership_id: Uuid) -> Result<MembershipView, AppError> {
        let loaded = self.load(membership_id).await?;
        if !loaded.state.exists() {
            return Err(not_found(membership_id));
        }
        let plan = match loaded.state.status {
            MembershipStatus::Waitlisted => self.plan(&loaded.state.plan_slug).await?,
            _ => PlanState::default(),
        };
        Ok(view(loaded.state, &plan, membership_id, loaded.position))
    }

    /// Ends the membership now, or at the end of the period paid (`at_period_end`). A
    /// membership still in line leaves it.
    pub async fn cancel(
        &self,
        membership_id: Uuid,
        at_period_end: bool,
        meta: &CommandMeta,
    ) -> Result<MembershipView, AppError> {
        self.get(membership_id).await?;
        let command = MembershipCommand::Cancel(CancelMembership { at_period_end });
        self.execute(membership_id, &command, meta).await?;
        self.get(membership_id).await
    }

    /// Ends every live membership of an erased member at once (each gives up its place,
    /// offer or spot in line, which goes to the next in line); those already ended, or never
    /// opened, are left as they are. Running it again ends nothing more.
    pub async fn end_for_erasure(
        &self,
        member_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<usize, AppError> {
        let mut ended = 0;
        for membership_id in self.side.memberships_of_member(member_id).await? {
            let state = self.load(membership_id).await?.state;
            if state.member_id != Some(member_id) || state.status.is_ended() {
                continue;
            }
            let command = MembershipCommand::Cancel(CancelMembership {
                at_period_end: false,
            });
            self.execute(membership_id, &command, meta).await?;
            ended += 1;
        }
        Ok(ended)
    }

    /// Takes the place offered to the membership, within its claim window; a paid plan then
    /// waits for its first payment (charged to `payment_method`, else the one given when
    /// joining).
    pub async fn claim(
        &self,
        membership_id: Uuid,
        payment_method: Option<String>,
        meta: &CommandMeta,
    ) -> Result<MembershipView, AppError> {
        let membership = self.get(membership_id).await?.state;
        if let roster_store::ActorRef::Member(actor) = meta.actor
            && membership.member_id != Some(actor)
        {
            return Err(AppError::Domain(DomainError::NotAllowed {
                reason: "a member may claim only their own offer".into(),
            }));
        }
        if membership.status.is_ended() {
            return Err(AppError::Domain(DomainError::InvalidState {
                message: "the membership has ended: there is no offer to claim".into(),
            }));
        }
        let claim = PlanCommand::Claim(ClaimPlanOffer { membership_id });
        let plan_id = membership.plan_id.unwrap_or_default();
        self.commands.execute::<Plan>(plan_id, &claim, meta).await?;
        self.place(membership_id, payment_method, meta).await?;
        self.get(membership_id).await
    }

    /// Renewals are charged to `payment_method` from now on; a payment of the membership that
    /// is waiting for a re-attempt switches to it too (a member updating their card while
    /// past due is charged the new one next).
    pub async fn change_method(
        &self,
        membership_id: Uuid,
        payment_method: String,
        meta: &CommandMeta,
    ) -> Result<MembershipView, AppError> {
        self.get(membership_id).await?;
        let command = MembershipCommand::ChangeMethod(ChangeMembershipPaymentMethod {
            payment_method: payment_method.clone(),
        });
        let handled = self
            .commands
            .execute::<Membership>(membership_id, &command, meta)
            .await?;
        if let Some(pending) = handled.state.pending_payment {
            let payment = self.commands.load::<Payment>(pending).await?.state;
            if payment.status() == PaymentStatus::Retrying {
                self.payments
                    .change_method(pending, payment_method, meta)
                    .await?;
            }
        }
        self.get(membership_id).await
    }

    /// The link token of the offer held for `membership_id` until `expires_at`: a keyed MAC,
    /// so only Roster can make one, and a new offer (another expiry) makes another.
    pub fn claim_token(&self, membership_id: Uuid, expires_at: DateTime<Utc>) -> String {
        let mac = self
            .vault
            .verification_token(membership_id, &offer_nonce(expires_at));
        format!("{}.{mac}", membership_id.simple())
    }

    /// Claims the offer a mailed link's token names. A token of no live offer is
    /// `InvalidToken`.
    pub async fn claim_with_token(
        &self,
        token: &str,
        meta: &CommandMeta,
    ) -> Result<MembershipView, AppError> {
        let membership_id = self.offer_of_token(token).await?;
        self.claim(membership_id, None, meta).await
    }

    /// The membership whose live offer `token` names.
    pub async fn offer_of_token(&self, token: &str) -> Result<Uuid, AppError> {
        let invalid = || {
            AppError::Domain(DomainError::InvalidToken {
                reason: "the link is not valid, or its offer is over".into(),
            })
        };
        let (id, _) = token.trim().split_once('.').ok_or_else(invalid)?;
        let membership_id = Uuid::try_parse(id).map_err(|_| invalid())?;
        let state = self.load(membership_id).await?.state;
        let expires_at = state.offer_expires_at.ok_or_else(invalid)?;
        let expected = self.claim_token(membership_id, expires_at);
        // Digests compared, so the time taken says nothing about the expected token.
        match hash_secret(&expected) == hash_secret(token.trim()) {
            true => Ok(membership_id),
            false => Err(invalid()),
        }
    }

    // The steps the workers run. Each reads the streams as they are now, so running one twice,
    // late or out of order changes nothing more.

    /// Asks for the payment the membership names as pending (`payment_id`), if it still does.
    pub async fn request_payment(
        &self,
        membership_id: Uuid,
        payment_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(), AppError> {
        let state = self.load(membership_id).await?.state;
        let (Some(member_id), Some(price)) = (state.member_id, state.price.as_ref()) else {
            return Ok(());
        };
        if state.pending_payment != Some(payment_id) {
            return Ok(());
        }
        let payment = NewPayment {
            member_id,
            amount: price.amount,
            currency: price.currency.clone(),
            payment_method: state.payment_method.clone().unwrap_or_default(),
            membership_id: Some(membership_id),
            description: Some(format!("Membership: {}", state.plan_slug)),
        };
        match self.payments.request_as(payment_id, payment, meta).await {
            Ok(_) | Err(AppError::Domain(DomainError::AlreadyExists { .. })) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Carries a payment's outcome to the membership it pays for: succeeded -> the period
    /// starts (first payment) or follows (renewal); declined with a re-attempt due -> past due;
    /// failed for good -> lapsed.
    pub async fn settle_payment(
        &self,
        payment_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(), AppError> {
        let payment = self.commands.load::<Payment>(payment_id).await?.state;
        let Some(membership_id) = payment.membership_id else {
            return Ok(());
        };
        let membership = self.load(membership_id).await?.state;
        if membership.pending_payment != Some(payment_id) {
            return Ok(());
        }
        let command = match payment.status() {
            PaymentStatus::Succeeded
            | PaymentStatus::PartiallyRefunded
            | PaymentStatus::Refunded => match membership.status {
                MembershipStatus::PendingPayment => {
                    MembershipCommand::Activate(ActivateMembership {
                        payment_id: Some(payment_id),
                    })
                }
                _ => MembershipCommand::RecordRenewal(RecordMembershipRenewal { payment_id }),
            },
            PaymentStatus::Retrying => {
                MembershipCommand::MarkPastDue(MarkMembershipPastDue { payment_id })
            }
            PaymentStatus::Failed => MembershipCommand::Lapse(LapseMembership { payment_id }),
            PaymentStatus::Processing | PaymentStatus::Unknown => return Ok(()),
        };
        self.execute(membership_id, &command, meta).await
    }

    /// Gives up the place, offer or spot in line of an ended membership.
    pub async fn release_place(
        &self,
        membership_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(), AppError> {
        let state = self.load(membership_id).await?.state;
        let Some(plan_id) = state.plan_id.filter(|_| state.status.is_ended()) else {
            return Ok(());
        };
        let release = PlanCommand::Release(ReleasePlanPlace { membership_id });
        self.commands
            .execute::<Plan>(plan_id, &release, meta)
            .await?;
        Ok(())
    }

    /// Records on the membership the place its plan holds for it until `expires_at`.
    pub async fn offer(
        &self,
        membership_id: Uuid,
        expires_at: DateTime<Utc>,
        meta: &CommandMeta,
    ) -> Result<(), AppError> {
        let command = MembershipCommand::Offer(OfferMembershipPlace { expires_at });
        self.execute(membership_id, &command, meta).await
    }

    /// A membership that left its plan's line (its offer lapsed, or it was released) and is
    /// still waiting ends.
    pub async fn leave_line(
        &self,
        membership_id: Uuid,
        meta: &CommandMeta,
    ) -> Result<(), AppError> {
        let state = self.load(membership_id).await?.state;
        let plan = self.plan(&state.plan_slug).await?;
        if state.status != MembershipStatus::Waitlisted || plan.standing(membership_id).is_some() {
            return Ok(());
        }
        let command = MembershipCommand::Cancel(CancelMembership {
            at_period_end: false,
        });
        self.execute(membership_id, &command, meta).await
    }

    /// A membership whose offer the plan recorded as claimed takes its place (when the claim
    /// itself stopped before saying so).
    pub async fn place(
        &self,
        membership_id: Uuid,
        payment_method: Option<String>,
        meta: &CommandMeta,
    ) -> Result<(), AppError> {
        let state = self.load(membership_id).await?.state;
        if state.status != MembershipStatus::Waitlisted {
            return Ok(());
        }
        let paid = roster_domain::membership::needs_payment(state.price.as_ref());
        let command = MembershipCommand::Place(PlaceMembership {
            payment_id: paid.then(|| self.commands.new_id()),
            payment_method,
        });
        self.execute(membership_id, &command, meta).await
    }

    /// Passes the offers of plan `plan_id` whose claim window has closed to the next in line.
    pub async fn expire_offers(&self, plan_id: Uuid, meta: &CommandMeta) -> Result<(), AppError> {
        let command = PlanCommand::ExpireOffers(ExpirePlanOffers {});
        self.commands
            .execute::<Plan>(plan_id, &command, meta)
            .await?;
        Ok(())
    }

    /// At the end of the period that ends at `period_end`: a scheduled cancellation takes
    /// effect, else the renewal is asked for. Nothing when the period has moved on meanwhile
    /// or the membership has ended.
    pub async fn end_period(
        &self,
        membership_id: Uuid,
        period_end: DateTime<Utc>,
        meta: &CommandMeta,
    ) -> Result<(), AppError> {
        let state = self.load(membership_id).await?.state;
        if state.period_end != Some(period_end) || state.status.is_ended() {
            return Ok(());
        }
        let command = match state.cancels_at {
            Some(_) => MembershipCommand::EndPeriod(EndMembershipPeriod {}),
            None => MembershipCommand::RequestRenewal(RequestMembershipRenewal {
                payment_id: renewal_payment_id(membership_id, period_end),
            }),
        };
        self.execute(membership_id, &command, meta).await
    }

    /// Records that the member was reminded `days_before` days ahead of the end of the period
    /// ending at `period_end` (nothing when already recorded, or no longer due).
    pub async fn record_reminder(
        &self,
        membership_id: Uuid,
        period_end: DateTime<Utc>,
        days_before: u32,
        meta: &CommandMeta,
    ) -> Result<(), AppError> {
        let command = MembershipCommand::RecordReminder(RecordMembershipReminder {
            period_end,
            days_before,
        });
        self.execute(membership_id, &command, meta).await
    }

    async fn load(&self, membership_id: Uuid) -> Result<crate::Loaded<MembershipState>, AppError> {
        self.commands.load::<Membership>(membership_id).await
    }

    async fn plan(&self, slug: &str) -> Result<PlanState, AppError> {
        let state = self.commands.load::<Plan>(plan_id(slug)).await?.state;
        match state.exists() {
            true => Ok(state),
            false => Err(not_found_plan(slug)),
        }
    }

    async fn execute(
        &self,
        membership_id: Uuid,
        command: &MembershipCommand,
        meta: &CommandMeta,
    ) -> Result<(), AppError> {
        self.commands
            .execute::<Membership>(membership_id, command, meta)
            .await?;
        Ok(())
    }
}

fn view(
    state: MembershipState,
    plan: &PlanState,
    membership_id: Uuid,
    position: Position,
) -> MembershipView {
    let (waitlist_position, offer_expires_at) = match state.status {
        MembershipStatus::Waitlisted => match plan.standing(membership_id) {
            Some(Standing::Waiting { position }) => (Some(position), None),
            Some(Standing::Offered(offer)) => (None, Some(offer.expires_at)),
            _ => (None, state.offer_expires_at),
        },
        _ => (None, None),
    };
    MembershipView {
        state,
        waitlist_position,
        offer_expires_at,
        position,
    }
}

fn offer_nonce(expires_at: DateTime<Utc>) -> String {
    // Verification nonces are random base64 and never contain ':', so the two kinds of link
    // token can never be the same MAC input.
    format!("plan-offer:{}", expires_at.timestamp())
}

fn not_found(membership_id: Uuid) -> AppError {
    AppError::NotFound {
        what: format!("membership {membership_id}"),
    }
}

fn not_found_plan(slug: &str) -> AppError {
    AppError::NotFound {
        what: format!("plan {slug}"),
    }
}

fn invalid(field: &str, reason: &str) -> AppError {
    AppError::Domain(DomainError::InvalidInput {
        field: field.to_owned(),
        reason: reason.to_owned(),
    })
}
