//! Where aggregates, their events and their commands are declared once, and everything that
//! lists them derives from the declaration: stored type names, JSON Schemas, decoding a stored
//! event of any aggregate by its type name, and folding it into that aggregate's state.
//!
//! - [`tagged_enum!`] declares an event or command enum: each variant wraps one struct and
//!   carries its stored name (`MemberRegistered.v1`, `RegisterMember`).
//! - [`aggregates!`](crate::aggregates) (invoked once, in `lib.rs`) lists the aggregates and
//!   makes [`AnyEvent`](crate::AnyEvent), [`AnyState`](crate::AnyState), the schema lists and
//!   the [`Registered`](crate::Registered) accessors.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// An enum whose variants each carry a stored name: events (`MemberRegistered.v1`) and
/// commands (`RegisterMember`). Implemented by [`tagged_enum!`].
pub trait Tagged: Sized {
    /// Every variant's name, in declaration order.
    const NAMES: &'static [&'static str];

    /// This value's name.
    fn name(&self) -> &'static str;

    /// The JSON Schema of each variant's data, by name.
    fn schemas() -> Vec<(&'static str, Value)>;

    /// Whether `name` is one of [`Tagged::NAMES`].
    fn has(name: &str) -> bool {
        Self::NAMES.contains(&name)
    }
}

/// The JSON Schema of `T`.
pub fn schema<T: JsonSchema>() -> Value {
    schemars::schema_for!(T).to_value()
}

/// Reads the data of a stored variant named `name` (adjacently tagged serde form).
pub fn decode_tagged<T: DeserializeOwned>(name: &str, data: Value) -> Result<T, serde_json::Error> {
    serde_json::from_value(json!({ "type": name, "data": data }))
}

/// Declares an adjacently tagged enum (`{"type": NAME, "data": {...}}`) whose variants each
/// wrap one struct, with the name each is stored under:
///
/// ```text
/// tagged_enum! {
///     pub enum MemberEvent {
///         Registered(MemberRegistered) = "MemberRegistered.v1",
///     }
/// }
/// ```
///
/// The names, `name()` and the schema list ([`Tagged`]) come from this one list.
#[macro_export]
macro_rules! tagged_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident($ty:ty) = $tag:literal),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq,
            ::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema
        )]
        #[serde(tag = "type", content = "data")]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $tag)] $variant($ty)),+
        }

        impl $crate::Tagged for $name {
            const NAMES: &'static [&'static str] = &[$($tag),+];

            fn name(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $tag),+
                }
            }

            fn schemas() -> Vec<(&'static str, ::serde_json::Value)> {
                vec![$(($tag, $crate::registry::schema::<$ty>())),+]
            }
        }
    };
}

/// Lists the aggregates of this build, each under a short variant name, and derives from the
/// list: [`AnyEvent`](crate::AnyEvent) (an event of any aggregate, decoded by its stored type
/// name), [`AnyState`](crate::AnyState) (the state it folds into), the schema lists and the
/// [`Registered`](crate::Registered) accessors. Invoked once, in `lib.rs`.
#[macro_export]
macro_rules! aggregates {
    ($($variant:ident => $agg:ty),+ $(,)?) => {
        /// An event of any aggregate of this build.
        #[derive(Debug, Clone, PartialEq)]
        pub enum AnyEvent {
            $($variant(<$agg as $crate::Aggregate>::Event)),+
        }

        /// The state of any aggregate of this build, shared (folding copies on write).
        #[derive(Debug, Clone)]
        pub enum AnyState {
            $($variant(::std::sync::Arc<<$agg as $crate::Aggregate>::State>)),+
        }

        impl AnyEvent {
            /// Decodes a stored event by its type name: `None` when no aggregate of this build
            /// has an event of that type, `Some(Err)` when the data does not fit the type.
            pub fn decode(
                event_type: &str,
                data: ::serde_json::Value,
            ) -> Option<Result<Self, ::serde_json::Error>> {
                $(
                    if <<$agg as $crate::Aggregate>::Event as $crate::Tagged>::has(event_type) {
                        return Some(
                            $crate::registry::decode_tagged(event_type, data).map(Self::$variant),
                        );
                    }
                )+
                None
            }

            /// Whether an aggregate of this build has events of this type.
            pub fn is_known(event_type: &str) -> bool {
                false $(|| <<$agg as $crate::Aggregate>::Event as $crate::Tagged>::has(event_type))+
            }

            /// The stored type name.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$variant(event) => $crate::Tagged::name(event)),+
                }
            }

            /// The state of this event's aggregate before its first event.
            pub fn initial_state(&self) -> AnyState {
                match self {
                    $(Self::$variant(_) => AnyState::$variant(::std::default::Default::default())),+
                }
            }

            /// `state` (of this event's aggregate; any other starts from the initial state)
            /// with this event applied.
            pub fn evolve(&self, state: AnyState) -> AnyState {
                match (self, state) {
                    $(
                        (Self::$variant(event), AnyState::$variant(state)) => AnyState::$variant(
                            ::std::sync::Arc::new(<$agg as $crate::Aggregate>::evolve(
                                ::std::sync::Arc::unwrap_or_clone(state),
                                event,
                            )),
                        ),
                    )+
                    (event, _) => event.evolve(event.initial_state()),
                }
            }
        }

        /// The schema of every event's data, by stored type name, aggregate by aggregate.
        pub fn event_schemas() -> Vec<(&'static str, ::serde_json::Value)> {
            let mut all = Vec::new();
            $(all.extend(<<$agg as $crate::Aggregate>::Event as $crate::Tagged>::schemas());)+
            all
        }

        /// The schema of every command, by command name, aggregate by aggregate.
        pub fn command_schemas() -> Vec<(&'static str, ::serde_json::Value)> {
            let mut all = Vec::new();
            $(all.extend(<<$agg as $crate::Aggregate>::Command as $crate::Tagged>::schemas());)+
            all
        }

        /// The stream prefix of every aggregate.
        pub const STREAM_PREFIXES: &[&str] = &[$(<$agg as $crate::Aggregate>::STREAM_PREFIX),+];

        $(
            impl $crate::Registered for $agg {
                fn event_of(event: &AnyEvent) -> Option<&Self::Event> {
                    match event {
                        AnyEvent::$variant(event) => Some(event),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }

                fn state_of(state: &AnyState) -> Option<&Self::State> {
                    match state {
                        AnyState::$variant(state) => Some(state),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }

                fn wrap(event: Self::Event) -> AnyEvent {
                    AnyEvent::$variant(event)
                }
            }
        )+
    };
}

/// Declares an aggregate's type and its `impl Aggregate`, which hands `decide` and `evolve` to
/// the module's own functions:
///
/// ```text
/// aggregate! {
///     /// The member aggregate.
///     pub struct Member: "member", MemberState, MemberCommand, MemberEvent,
///         decide::decide, state::evolve
/// }
/// ```
#[macro_export]
macro_rules! aggregate {
    (
        $(#[$meta:meta])*
        pub struct $name:ident: $prefix:literal, $state:ty, $command:ty, $event:ty,
            $decide:path, $evolve:path
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default)]
        pub struct $name;

        impl $crate::Aggregate for $name {
            const STREAM_PREFIX: &'static str = $prefix;
            type State = $state;
            type Command = $command;
            type Event = $event;

            fn decide(
                state: &$state,
                command: &$command,
                ctx: &$crate::Ctx,
            ) -> Result<Vec<$event>, $crate::DomainError> {
                $decide(state, command, ctx)
            }

            fn evolve(state: $state, event: &$event) -> $state {
                $evolve(state, event)
            }
        }
    };
}
