//! From a recorded event to what projections see: the decoded domain event of whichever
//! aggregate has its type (personal data opened through the vault, `None` once shredded) and
//! that aggregate's state right after it, folded with the domain's own `evolve`. Decoding and
//! folding happen once per event, however many projections read it, and nothing here names an
//! aggregate: the domain's registry ([`AnyEvent`]) does.
//!
//! States are cached per stream. A cache miss (a restart, an evicted stream, a rewind) folds
//! the stream from its start up to the event, so the state is always the one at that event.

use std::collections::HashMap;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};
use roster_app::{AppError, codec};
use roster_domain::{AnyEvent, AnyState, Registered};
use roster_store::pii::Vault;
use roster_store::{DynLog, RecordedEvent, StoreError};

use crate::ProjectionError;

/// Streams cached before the cache is emptied and refilled on demand.
const CACHE_LIMIT: usize = 100_000;

/// Events decoded concurrently within a page. The store keeps four idle read connections and
/// opens (and closes) extra ones beyond that, so more would cost more than it saves.
const DECODE_AHEAD: usize = 4;

/// One event, decoded, with the state of its aggregate after it.
pub struct Envelope<'a> {
    pub recorded: &'a RecordedEvent,
    pub body: Body,
}

// One envelope lives per event in flight (a handful at a time), so the large variant costs a
// few hundred bytes of stack; boxing it would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
pub enum Body {
    /// A domain event and its aggregate's state after it.
    Event(AnyEvent, AnyState),
    /// A type this build does not know (a later version, another kind of event).
    Unknown,
    /// A known type that cannot be decoded: a poison event.
    Undecodable(String),
}

impl Envelope<'_> {
    /// The event and the state after it, if the event is one of aggregate `A`'s.
    pub fn of<A: Registered>(&self) -> Option<(&A::Event, &A::State)> {
        match &self.body {
            Body::Event(event, state) => Some((A::event_of(event)?, A::state_of(state)?)),
            _ => None,
        }
    }
}

/// An event decoded but not yet folded: `Ok(None)` for an unknown type, `Err` for a poison
/// event (the reason, with quoted values cut out).
pub type Decoded = Result<Option<AnyEvent>, String>;

/// Decodes events and keeps aggregate states.
pub struct Folder {
    log: DynLog,
    vault: Vault,
    /// Stream -> (version of the last event folded, state after it).
    states: HashMap<String, (u64, AnyState)>,
}

impl Folder {
    pub fn new(log: DynLog, vault: Vault) -> Self {
        Self {
            log,
            vault,
            states: HashMap::new(),
        }
    }

    /// The envelope of `recorded`. Errors are infrastructure failures only: an event that
    /// cannot be decoded becomes [`Body::Undecodable`].
    pub async fn envelope<'a>(
        &mut self,
        recorded: &'a RecordedEvent,
    ) -> Result<Envelope<'a>, ProjectionError> {
        let decoded = decode(&self.vault, recorded).await?;
        self.envelope_of(recorded, decoded).await
    }

    /// Decodes a page of events, several at a time: opening personal data waits on the key
    /// table, and those waits overlap. Folding stays in log order ([`Folder::envelope_of`]).
    pub async fn decode_page(
        &self,
        page: &[RecordedEvent],
    ) -> Result<Vec<Decoded>, ProjectionError> {
        // Boxed futures in a Vec (rather than a `map` closure on the stream) keep the future
        // `Send` for any lifetime, which `tokio::spawn` of the runner needs.
        let decodes: Vec<BoxFuture<'_, Result<Decoded, ProjectionError>>> = page
            .iter()
            .map(|recorded| decode(&self.vault, recorded).boxed())
            .collect();
        futures::stream::iter(decodes)
            .buffered(DECODE_AHEAD)
            .try_collect()
            .await
    }

    /// The envelope of `recorded`, already decoded; events must come in log order.
    pub async fn envelope_of<'a>(
        &mut self,
        recorded: &'a RecordedEvent,
        decoded: Decoded,
    ) -> Result<Envelope<'a>, ProjectionError> {
        let body = match decoded {
            Ok(None) => Body::Unknown,
            Err(reason) => {
                // A poison event changes nothing: the cached and the refolded paths skip it.
                let before = self.before(recorded, None).await?;
                if let Some(state) = before {
                    self.keep(recorded, state);
                }
                Body::Undecodable(reason)
            }
            Ok(Some(event)) => {
                let before = self.before(recorded, Some(&event)).await?;
                let after = event.evolve(before.unwrap_or_else(|| event.initial_state()));
                self.keep(recorded, after.clone());
                Body::Event(event, after)
            }
        };
        Ok(Envelope { recorded, body })
    }

    /// The state of `recorded`'s stream right before it: cached when the previous event was
    /// the last one folded, else folded from the log. `None` for an empty stream whose
    /// aggregate is not known yet (a poison first event).
    async fn before(
        &mut self,
        recorded: &RecordedEvent,
        event: Option<&AnyEvent>,
    ) -> Result<Option<AnyState>, ProjectionError> {
        match self.states.remove(&recorded.stream) {
            Some((version, state)) if version + 1 == recorded.version => Ok(Some(state)),
            _ if recorded.version == 0 => Ok(event.map(AnyEvent::initial_state)),
            _ => self.fold_before(recorded).await,
        }
    }

    fn keep(&mut self, recorded: &RecordedEvent, state: AnyState) {
        if self.states.len() >= CACHE_LIMIT {
            self.states.clear();
        }
        self.states
            .insert(recorded.stream.clone(), (recorded.version, state));
    }

    /// The state after every event of the stream before `recorded` (poison events skipped).
    async fn fold_before(
        &self,
        recorded: &RecordedEvent,
    ) -> Result<Option<AnyState>, ProjectionError> {
        let limit = usize::try_from(recorded.version).unwrap_or(usize::MAX);
        let earlier = self.log.read_stream(&recorded.stream, 0, limit).await?;
        let mut state: Option<AnyState> = None;
        for event in earlier.iter().filter(|e| e.version < recorded.version) {
            if let Ok(Some(event)) = decode(&self.vault, event).await? {
                let before = state.unwrap_or_else(|| event.initial_state());
                state = Some(event.evolve(before));
            }
        }
        Ok(state)
    }
}

/// Decodes one event: `Ok(Err(reason))` when the event itself is bad (a poison event),
/// `Err` when the infrastructure failed (worth retrying).
pub async fn decode(vault: &Vault, recorded: &RecordedEvent) -> Result<Decoded, ProjectionError> {
    match codec::decode_any(vault, recorded).await {
        Ok(event) => Ok(Ok(event)),
        Err(AppError::Decode { reason, .. }) => Ok(Err(redact(&reason))),
        Err(AppError::Store(e @ (StoreError::Corrupt(_) | StoreError::Crypto(_)))) => {
            Ok(Err(e.to_string()))
        }
        Err(e) => Err(e.into()),
    }
}

/// A decode error with every quoted value cut out: serde quotes the offending value
/// (`invalid type: string "ann@example.com"`), and the reason ends up in logs and in the parked
/// table, which must never hold personal data.
pub fn redact(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut quoted = false;
    for c in reason.chars() {
        if c == '"' {
            if !quoted {
                out.push_str("\"…\"");
            }
            quoted = !quoted;
        } else if !quoted {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn decode_errors_lose_the_values_they_quote() {
        let reason = r#"invalid type: string "ann@example.com", expected a map at line 1"#;
        assert_eq!(
            super::redact(reason),
            r#"invalid type: string "…", expected a map at line 1"#
        );
    }
}
