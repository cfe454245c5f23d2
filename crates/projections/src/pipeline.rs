//! From a recorded event to what projections see: the decoded domain event (personal data
//! opened through the vault, `None` once shredded) and the aggregate's state right after it,
//! folded with the domain's own `evolve`. Decoding and folding happen once per event, however
//! many projections read it.
//!
//! States are cached per stream. A cache miss (a restart, an evicted stream, a rewind) folds
//! the stream from its start up to the event, so the state is always the one at that event.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock};

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};

use roster_app::{AppError, codec};
use roster_domain::{Aggregate, DomainEvent, Member, MemberEvent, MemberState};
use roster_domain::{OrgEvent, OrgState, Organization};
use roster_store::pii::Vault;
use roster_store::{DynStore, RecordedEvent, StoreError};

use crate::ProjectionError;

/// Streams cached before the cache is emptied and refilled on demand.
const CACHE_LIMIT: usize = 100_000;

/// Events decoded concurrently within a page. The store keeps four idle read connections and
/// opens (and closes) extra ones beyond that, so more would cost more than it saves.
const DECODE_AHEAD: usize = 4;

/// Event types this build can decode. Anything else is unknown: skipped by the domain
/// projections, recorded generically by the audit log.
static KNOWN: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    roster_domain::event_schemas()
        .into_iter()
        .map(|(name, _)| name)
        .collect()
});

pub fn is_known(event_type: &str) -> bool {
    KNOWN.contains(event_type)
}

/// One event, decoded, with the state of its aggregate after it.
pub struct Envelope<'a> {
    pub recorded: &'a RecordedEvent,
    pub body: Body,
}

pub enum Body {
    Member(MemberEvent, Arc<MemberState>),
    Org(OrgEvent, Arc<OrgState>),
    /// A type this build does not know (a later version, another aggregate).
    Unknown,
    /// A known type that cannot be decoded: a poison event.
    Undecodable(String),
}

/// Decodes events and keeps aggregate states.
pub struct Folder {
    store: DynStore,
    vault: Vault,
    members: Cache<Member>,
    orgs: Cache<Organization>,
}

impl Folder {
    pub fn new(store: DynStore, vault: Vault) -> Self {
        Self {
            store,
            vault,
            members: Cache::default(),
            orgs: Cache::default(),
        }
    }

    /// The envelope of `recorded`. Errors are infrastructure failures only: an event that
    /// cannot be decoded becomes [`Body::Undecodable`].
    pub async fn envelope<'a>(
        &mut self,
        recorded: &'a RecordedEvent,
    ) -> Result<Envelope<'a>, ProjectionError> {
        let decoded = decode_any(&self.vault, recorded).await?;
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
            .map(|recorded| decode_any(&self.vault, recorded).boxed())
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
            Decoded::Unknown => Body::Unknown,
            Decoded::Member(event) => match self
                .members
                .step(&self.store, &self.vault, recorded, event)
                .await?
            {
                Ok((event, state)) => Body::Member(event, state),
                Err(reason) => Body::Undecodable(reason),
            },
            Decoded::Org(event) => match self
                .orgs
                .step(&self.store, &self.vault, recorded, event)
                .await?
            {
                Ok((event, state)) => Body::Org(event, state),
                Err(reason) => Body::Undecodable(reason),
            },
        };
        Ok(Envelope { recorded, body })
    }
}

/// An event decoded but not yet folded.
pub enum Decoded {
    Member(Result<MemberEvent, String>),
    Org(Result<OrgEvent, String>),
    Unknown,
}

async fn decode_any(vault: &Vault, recorded: &RecordedEvent) -> Result<Decoded, ProjectionError> {
    Ok(if !is_known(&recorded.event_type) {
        Decoded::Unknown
    } else if recorded.stream.starts_with("member-") {
        Decoded::Member(decode(vault, recorded).await?)
    } else if recorded.stream.starts_with("org-") {
        Decoded::Org(decode(vault, recorded).await?)
    } else {
        Decoded::Unknown
    })
}

type Step<A> = Result<(<A as Aggregate>::Event, Arc<<A as Aggregate>::State>), String>;

struct Cache<A: Aggregate> {
    /// Stream -> (version of the last event folded, state after it).
    states: HashMap<String, (u64, Arc<A::State>)>,
}

impl<A: Aggregate> Default for Cache<A> {
    fn default() -> Self {
        Self {
            states: HashMap::new(),
        }
    }
}

impl<A: Aggregate> Cache<A> {
    async fn step(
        &mut self,
        store: &DynStore,
        vault: &Vault,
        recorded: &RecordedEvent,
        decoded: Result<A::Event, String>,
    ) -> Result<Step<A>, ProjectionError> {
        let before = match self.states.remove(&recorded.stream) {
            Some((version, state)) if version + 1 == recorded.version => state,
            _ if recorded.version == 0 => Arc::new(A::State::default()),
            _ => Arc::new(self.fold_before(store, vault, recorded).await?),
        };
        let after = match &decoded {
            Ok(event) => Arc::new(A::evolve(Arc::unwrap_or_clone(before), event)),
            // A poison event changes nothing: both the cached and the refolded path skip it.
            Err(_) => before,
        };
        if self.states.len() >= CACHE_LIMIT {
            self.states.clear();
        }
        self.states.insert(
            recorded.stream.clone(),
            (recorded.version, Arc::clone(&after)),
        );
        Ok(decoded.map(|event| (event, after)))
    }

    /// The state after every event of the stream before `recorded`.
    async fn fold_before(
        &self,
        store: &DynStore,
        vault: &Vault,
        recorded: &RecordedEvent,
    ) -> Result<A::State, ProjectionError> {
        let limit = usize::try_from(recorded.version).unwrap_or(usize::MAX);
        let earlier = store.read_stream(&recorded.stream, 0, limit).await?;
        let mut state = A::State::default();
        for event in earlier.iter().filter(|e| e.version < recorded.version) {
            if let Ok(event) = decode::<A::Event>(vault, event).await? {
                state = A::evolve(state, &event);
            }
        }
        Ok(state)
    }
}

/// Decodes one event: `Ok(Err(reason))` when the event itself is bad (a poison event),
/// `Err` when the infrastructure failed (worth retrying).
pub async fn decode<E: DomainEvent>(
    vault: &Vault,
    recorded: &RecordedEvent,
) -> Result<Result<E, String>, ProjectionError> {
    match codec::decode::<E>(vault, recorded).await {
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
