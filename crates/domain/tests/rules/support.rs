//! A given/when/then harness for decisions, synchronous like the domain itself, plus fixtures
//! (a fixed clock, deterministic ids, actors).

use std::fmt::Debug;

use chrono::{DateTime, Duration, TimeZone, Utc};
use roster_domain::{
    Actor, Aggregate, Ctx, DomainError, DomainEvent, ErrorKind, Member, MemberEvent, Membership,
    MembershipEvent, OrgEvent, Organization, Payment, PaymentEvent, Plan, PlanEvent,
};
use uuid::{Builder, Uuid};

/// Ties an event type to its aggregate, so `given(events)` infers the aggregate.
pub trait EventOf: DomainEvent + PartialEq + Debug {
    type Agg: Aggregate<Event = Self>;
}

impl EventOf for MemberEvent {
    type Agg = Member;
}

impl EventOf for OrgEvent {
    type Agg = Organization;
}

impl EventOf for PaymentEvent {
    type Agg = Payment;
}

impl EventOf for MembershipEvent {
    type Agg = Membership;
}

impl EventOf for PlanEvent {
    type Agg = Plan;
}

type StateOf<E> = <<E as EventOf>::Agg as Aggregate>::State;
type CommandOf<E> = <<E as EventOf>::Agg as Aggregate>::Command;

pub struct Given<E: EventOf> {
    state: StateOf<E>,
}

/// The history of the stream before the command.
pub fn given<E: EventOf>(history: impl IntoIterator<Item = E>) -> Given<E> {
    let history: Vec<E> = history.into_iter().collect();
    Given {
        state: E::Agg::fold(&history),
    }
}

impl<E: EventOf> Given<E> {
    pub fn when(self, command: CommandOf<E>, ctx: Ctx) -> Then<E> {
        let result = E::Agg::decide(&self.state, &command, &ctx);
        Then {
            state: self.state,
            result,
        }
    }

    pub fn state(self) -> StateOf<E> {
        self.state
    }
}

pub struct Then<E: EventOf> {
    state: StateOf<E>,
    result: Result<Vec<E>, DomainError>,
}

impl<E: EventOf> Then<E> {
    /// The decision appends exactly `expected`.
    pub fn then(self, expected: impl IntoIterator<Item = E>) {
        let expected: Vec<E> = expected.into_iter().collect();
        match self.result {
            Ok(events) => assert_eq!(events, expected),
            Err(error) => panic!("expected events {expected:?}, got error {error:?}"),
        }
    }

    /// The decision accepts the command and appends nothing.
    pub fn then_nothing(self) {
        self.then([]);
    }

    /// The decision is rejected by the rule `kind` names.
    pub fn then_err(self, kind: ErrorKind) -> DomainError {
        match self.result {
            Ok(events) => panic!("expected error {kind:?}, got events {events:?}"),
            Err(error) => {
                assert_eq!(error.kind(), kind, "unexpected error: {error:?}");
                error
            }
        }
    }

    /// The decided events, to build a longer history from.
    pub fn events(self) -> Vec<E> {
        match self.result {
            Ok(events) => events,
            Err(error) => panic!("expected events, got error {error:?}"),
        }
    }

    /// The state after folding the decided events, for assertions events alone cannot make.
    pub fn then_state(self) -> StateOf<E> {
        match self.result {
            Ok(events) => events.iter().fold(self.state, E::Agg::evolve),
            Err(error) => panic!("expected events, got error {error:?}"),
        }
    }
}

/// The fixed "now" of every test: 2026-03-01T12:00:00Z.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
}

pub fn days(n: i64) -> Duration {
    Duration::days(n)
}

pub fn trusted() -> Ctx {
    Ctx {
        actor: Actor::Trusted,
        now: now(),
    }
}

pub fn trusted_at(at: DateTime<Utc>) -> Ctx {
    Ctx {
        actor: Actor::Trusted,
        now: at,
    }
}

pub fn by(member_id: Uuid) -> Ctx {
    Ctx {
        actor: Actor::Member(member_id),
        now: now(),
    }
}

/// A deterministic UUIDv7: its timestamp is the test clock and its random bits are `n`.
pub fn v7(n: u8) -> Uuid {
    let millis = u64::try_from(now().timestamp_millis()).unwrap();
    Builder::from_unix_timestamp_millis(millis, &[n; 10]).into_uuid()
}
