//! Command handling: load the stream, decide, append at the expected version; on a conflict,
//! reload and decide again (bounded). Metadata is attached here, once, for every command.

use std::sync::Arc;

use roster_domain::member::MemberStatus;
use roster_domain::{Actor, Aggregate, Ctx, DomainError, Member, Tagged};
use roster_store::pii::Vault;
use roster_store::{
    ActorRef, AppendError, AppendRequest, DynLog, ExpectedVersion, Metadata, Position,
    StreamVersion,
};
use uuid::Uuid;

use crate::clock::{Clock, IdGen};
use crate::{AppError, UniqueClaims, codec};

/// Page size when loading a stream.
const PAGE: usize = 1000;

/// Who asked, and how this command relates to others. Becomes every event's metadata.
#[derive(Debug, Clone)]
pub struct CommandMeta {
    pub actor: ActorRef,
    pub correlation_id: Uuid,
    pub causation_id: Option<Uuid>,
    pub idempotency_key: Option<String>,
}

impl CommandMeta {
    /// Metadata for a command with a fresh correlation id.
    pub fn new(actor: ActorRef) -> Self {
        Self {
            actor,
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            idempotency_key: None,
        }
    }

    /// The domain's view of the actor: only a member's own rights are checked by the domain.
    pub fn domain_actor(&self) -> Actor {
        match self.actor {
            ActorRef::Member(id) => Actor::Member(id),
            _ => Actor::Trusted,
        }
    }
}

/// A stream folded into its aggregate's state.
#[derive(Debug, Clone)]
pub struct Loaded<S> {
    pub state: S,
    /// Version of the last event, `None` when the stream does not exist.
    pub version: Option<StreamVersion>,
    /// Global position of the last event (0 when the stream does not exist).
    pub position: Position,
}

/// The outcome of a handled command.
#[derive(Debug, Clone)]
pub struct Handled<A: Aggregate> {
    pub stream: String,
    /// The events appended (empty when the command changed nothing).
    pub events: Vec<A::Event>,
    /// The aggregate's state with them applied: what the command left behind.
    pub state: A::State,
    /// Global position of the last event written, or of the stream's last event if none was:
    /// a query with `min_position` set to it reads this command's effects.
    pub position: Position,
}

/// Runs commands against the event store.
#[derive(Clone)]
pub struct CommandHandler {
    log: DynLog,
    vault: Vault,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGen>,
    max_attempts: usize,
    streams: StreamLocks,
}

/// Commands on one stream run one at a time in this process, in the order they came. A hot
/// stream (a plan whose last places a hundred members race for) would otherwise make the
/// concurrent commands lose the optimistic race again and again until some give up; other
/// processes still meet at the expected version, and retry.
#[derive(Clone, Default)]
struct StreamLocks(Arc<std::sync::Mutex<LockTable>>);

#[derive(Default)]
struct LockTable {
    locks: std::collections::HashMap<String, std::sync::Weak<tokio::sync::Mutex<()>>>,
    /// Forgotten locks are swept when the table reaches this size.
    sweep_at: usize,
}

impl StreamLocks {
    fn of(&self, stream: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut table = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(lock) = table.locks.get(stream).and_then(std::sync::Weak::upgrade) {
            return lock;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        table.locks.insert(stream.to_owned(), Arc::downgrade(&lock));
        if table.locks.len() >= table.sweep_at {
            table.locks.retain(|_, lock| lock.strong_count() > 0);
            table.sweep_at = (table.locks.len() * 2).max(1024);
        }
        lock
    }
}

pub fn stream_name<A: Aggregate>(id: Uuid) -> String {
    format!("{}-{}", A::STREAM_PREFIX, id)
}

impl CommandHandler {
    pub fn new(log: DynLog, vault: Vault, clock: Arc<dyn Clock>, ids: Arc<dyn IdGen>) -> Self {
        Self {
            log,
            vault,
            clock,
            ids,
            max_attempts: 64,
            streams: StreamLocks::default(),
        }
    }

    pub fn log(&self) -> &DynLog {
        &self.log
    }

    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    pub fn new_id(&self) -> Uuid {
        self.ids.new_id(self.clock.now())
    }

    /// Reads and folds the aggregate's whole stream.
    pub async fn load<A: Aggregate>(&self, id: Uuid) -> Result<Loaded<A::State>, AppError> {
        self.load_until::<A>(id, None).await
    }

    /// Reads and folds the aggregate's stream, stopping before the first event recorded after
    /// `until` when it is given: the aggregate as it was at that instant ("who could do X on
    /// date D" is answered from the log).
    pub async fn load_until<A: Aggregate>(
        &self,
        id: Uuid,
        until: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Loaded<A::State>, AppError> {
        let stream = stream_name::<A>(id);
        let mut loaded = Loaded {
            state: A::State::default(),
            version: None,
            position: 0,
        };
        loop {
            let from = loaded.version.map_or(0, |v| v + 1);
            let page = self.log.read_stream(&stream, from, PAGE).await?;
            for recorded in &page {
                if until.is_some_and(|until| recorded.metadata.recorded_at > until) {
                    return Ok(loaded);
                }
                let event: A::Event = codec::decode(&self.vault, recorded).await?;
                loaded.state = A::evolve(loaded.state, &event);
                loaded.version = Some(recorded.version);
                loaded.position = recorded.position;
            }
            if page.len() < PAGE {
                return Ok(loaded);
            }
        }
    }

    /// Decides `command` against the current state of aggregate `id` and appends the outcome;
    /// answers with the events and the state they leave.
    pub async fn execute<A>(
        &self,
        id: Uuid,
        command: &A::Command,
        meta: &CommandMeta,
    ) -> Result<Handled<A>, AppError>
    where
        A: UniqueClaims,
    {
        let _timer = CommandTimer::start(command.name());
        let stream = stream_name::<A>(id);
        self.ensure_actor_may_act(meta).await?;
        let lock = self.streams.of(&stream);
        let _serial = lock.lock().await;
        for _ in 0..self.max_attempts {
            let loaded = self.load::<A>(id).await?;
            let now = self.clock.now();
            let ctx = Ctx {
                actor: meta.domain_actor(),
                now,
            };
            let events = A::decide(&loaded.state, command, &ctx)?;
            if events.is_empty() {
                return Ok(Handled {
                    stream,
                    events,
                    state: loaded.state,
                    position: loaded.position,
                });
            }
            let claims = A::claims(&loaded.state, &events, &self.vault);
            let request = self
                .request(&stream, loaded.version, &events, meta, now)
                .await?
                .with_claims(claims);
            let started = std::time::Instant::now();
            let appended = self.log.append(request).await;
            // Append latency alone (queueing for the writer, the transaction, the fsync), beside
            // the API's whole-command latency.
            metrics::histogram!("roster_append_duration_seconds")
                .record(started.elapsed().as_secs_f64());
            match appended {
                Ok(outcome) => {
                    let state = events.iter().fold(loaded.state, A::evolve);
                    return Ok(Handled {
                        stream,
                        events,
                        state,
                        position: outcome.last_position,
                    });
                }
                Err(AppendError::WrongExpectedVersion { .. }) => {
                    tracing::debug!(%stream, "version conflict, deciding again");
                    tokio::task::yield_now().await;
                }
                Err(AppendError::Claimed { scope, .. }) => return Err(AppError::Taken { scope }),
                Err(AppendError::DuplicateEventId { event_id }) => {
                    return Err(AppError::Encode(format!(
                        "fresh event id {event_id} already in the log"
                    )));
                }
                Err(AppendError::Backend(e)) => return Err(e.into()),
            }
        }
        Err(AppError::Contended {
            stream,
            attempts: self.max_attempts,
        })
    }

    async fn request<E: roster_domain::DomainEvent>(
        &self,
        stream: &str,
        version: Option<StreamVersion>,
        events: &[E],
        meta: &CommandMeta,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<AppendRequest, AppError> {
        let metadata = Metadata {
            actor: meta.actor.clone(),
            correlation_id: meta.correlation_id,
            causation_id: meta.causation_id,
            idempotency_key: meta.idempotency_key.clone(),
            recorded_at: now,
        };
        let mut new_events = Vec::with_capacity(events.len());
        for event in events {
            let event_id = self.ids.new_id(now);
            new_events.push(codec::encode(&self.vault, event, event_id, metadata.clone()).await?);
        }
        let expected = version.map_or(ExpectedVersion::NoStream, ExpectedVersion::Exact);
        Ok(AppendRequest::new(stream, expected, new_events))
    }
}

/// Records how long a command took, however it ended, when dropped
/// (`roster_command_duration_seconds`, by command name).
struct CommandTimer {
    command: &'static str,
    started: std::time::Instant,
}

impl CommandTimer {
    fn start(command: &'static str) -> Self {
        Self {
            command,
            started: std::time::Instant::now(),
        }
    }
}

impl Drop for CommandTimer {
    fn drop(&mut self) {
        metrics::histogram!("roster_command_duration_seconds", "command" => self.command)
            .record(self.started.elapsed().as_secs_f64());
    }
}

/// Rules every command of a member-facing caller obeys, whatever the aggregate.
impl CommandHandler {
    /// A member acting through an upstream app (`X-Roster-Actor`) must be registered and
    /// neither suspended nor erased: their grants stay recorded, but they may use none.
    pub async fn ensure_actor_may_act(&self, meta: &CommandMeta) -> Result<(), AppError> {
        let ActorRef::Member(actor) = meta.actor else {
            return Ok(());
        };
        let status = self.load::<Member>(actor).await?.state.status;
        match status {
            MemberStatus::Active | MemberStatus::PendingConfirmation => Ok(()),
            other => Err(DomainError::NotAllowed {
                reason: format!("the acting member is {}", other.as_str()),
            }
            .into()),
        }
    }

    /// Fails with `NotFound` unless the member is registered and not erased.
    pub async fn require_member(&self, member_id: Uuid) -> Result<(), AppError> {
        let member = self.load::<Member>(member_id).await?;
        match member.state.status {
            MemberStatus::Unregistered | MemberStatus::Erased => Err(AppError::NotFound {
                what: format!("member {member_id}"),
            }),
            _ => Ok(()),
        }
    }
}
