//! Roster's domain: pure, synchronous decisions over event-sourced aggregates.
//!
//! Architecture invariant: this crate performs no I/O and has no async code. It depends on
//! serde, serde_json, schemars, thiserror, uuid and chrono only (CI checks `cargo tree`). Time,
//! new ids and the acting party arrive as inputs ([`Ctx`] and the commands), never from the
//! environment.
//!
//! - [`member`]: the [`Member`] aggregate (stream `member-<uuid>`).
//! - [`org`]: the [`Organization`] aggregate (stream `org-<uuid>`), with the seat-limit and
//!   last-owner invariants checked once for every decision.
//! - [`payment`]: the [`Payment`] aggregate (stream `payment-<uuid>`): attempts, re-attempts,
//!   refunds within what was captured, offline payments.
//! - [`membership`]: the [`Membership`] aggregate (stream `membership-<uuid>`): a member on a
//!   plan for a period, its payments, renewals, lapse and cancellation.
//! - [`plan`]: the [`Plan`] aggregate (stream `plan-<uuid>`): terms, capacity, the waiting
//!   list and offers of freed places.
//! - [`apikey`]: the [`ApiKey`] aggregate (stream `apikey-<uuid>`): a key's revocation, the
//!   news every API process must get.
//! - [`permissions`]: the permission catalog and the built-in role templates.
//! - [`effective`]: effective permissions and permission checks, shared by the domain's own
//!   authorization, the projections and the check API.
//! - [`DomainError`]: business rejections, each with a stable slug.
//! - [`registry`]: the one list of aggregates ([`aggregates!`] below), from which [`AnyEvent`],
//!   [`AnyState`], [`event_schemas`] and [`command_schemas`] (the JSON Schemas checked in under
//!   `schemas/`) derive.

pub mod apikey;
pub mod effective;
mod error;
pub mod member;
pub mod membership;
pub mod org;
pub mod payment;
pub mod permissions;
pub mod plan;
pub mod registry;
mod validate;

use chrono::{DateTime, Utc};
use serde::{Serialize, de::DeserializeOwned};
use uuid::Uuid;

pub use apikey::{ApiKey, ApiKeyCommand, ApiKeyEvent, ApiKeyState};
pub use effective::{CheckResult, Grant, Via, check, effective_permissions};
pub use error::{DomainError, ErrorKind};
pub use member::{Member, MemberCommand, MemberEvent, MemberState, MemberStatus};
pub use membership::{Membership, MembershipCommand, MembershipEvent, MembershipState};
pub use org::{OrgCommand, OrgEvent, OrgState, Organization, seats_used};
pub use payment::{Payment, PaymentCommand, PaymentEvent, PaymentState, PaymentStatus};
pub use plan::{Plan, PlanCommand, PlanEvent, PlanState};
pub use registry::Tagged;

// Every aggregate of this build, once. Adding one is a line here (see ARCHITECTURE.md).
aggregates! {
    Member => Member,
    Org => Organization,
    Payment => Payment,
    Plan => Plan,
    Membership => Membership,
    ApiKey => ApiKey,
}

/// Who is acting. A member's own rights are checked by the domain; a trusted party (an upstream
/// app's API key, an operator, a worker) is checked by the API layer (scopes) and acts as itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Member(Uuid),
    Trusted,
}

/// What every decision may use besides the state and the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctx {
    pub actor: Actor,
    pub now: DateTime<Utc>,
}

/// An event-sourced aggregate: a stream of events folded into a state that decides commands.
pub trait Aggregate {
    /// Streams of this aggregate are named `<STREAM_PREFIX>-<id>`.
    const STREAM_PREFIX: &'static str;
    type State: Default + Clone + Send + Sync + std::fmt::Debug + 'static;
    type Command: Tagged + Send + Sync;
    type Event: DomainEvent;

    /// Decides what happens: the events to append, or why not. Never fails for technical reasons.
    fn decide(
        state: &Self::State,
        command: &Self::Command,
        ctx: &Ctx,
    ) -> Result<Vec<Self::Event>, DomainError>;

    /// Applies one event. Never fails: an event is a fact.
    fn evolve(state: Self::State, event: &Self::Event) -> Self::State;

    /// Folds events into a state.
    fn fold<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self::State
    where
        Self::Event: 'a,
    {
        events
            .into_iter()
            .fold(Self::State::default(), Self::evolve)
    }
}

/// An aggregate listed in [`aggregates!`]: its events and states inside [`AnyEvent`] and
/// [`AnyState`].
pub trait Registered: Aggregate {
    fn event_of(event: &AnyEvent) -> Option<&Self::Event>;
    fn state_of(state: &AnyState) -> Option<&Self::State>;
    fn wrap(event: Self::Event) -> AnyEvent;
}

/// An event enum, declared with [`tagged_enum!`]. Its serde form is adjacently tagged,
/// `{"type": "MemberRegistered.v1", "data": {...}}`: the store keeps `type` as the event type
/// and `data` as the payload.
pub trait DomainEvent:
    Tagged + Serialize + DeserializeOwned + Clone + PartialEq + std::fmt::Debug + Send + Sync + 'static
{
    /// The versioned type name, e.g. `MemberRegistered.v1`.
    fn event_type(&self) -> &'static str {
        self.name()
    }

    /// The member whose data key seals this event's top-level `personal` field, if it has one.
    fn personal_data_subject(&self) -> Option<Uuid> {
        None
    }
}
