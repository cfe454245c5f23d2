//! The event log in KurrentDB (formerly EventStoreDB), through the `kurrentdb` gRPC client.
//!
//! - Every Roster stream is written under a namespace (`<namespace>:<stream>`), so that one
//!   KurrentDB cluster can hold several Roster installations (and each conformance case its
//!   own log); reads and the `$all` filter see only the namespace's streams.
//! - An append carries the expected revision (`NoStream`, or the last event's revision) and the
//!   events' own ids, so KurrentDB's idempotent write makes an exact retry a no-op.
//! - Global positions are KurrentDB's commit positions (byte offsets in its transaction file:
//!   ordered, not dense). Checkpoints are those positions; lag is counted by reading
//!   (`EventLog::lag`'s default).
//! - Uniqueness claims and data keys stay on the SQL side: `open` wraps this log in
//!   `roster_store::claiming::ClaimingLog` with `roster_store::split_keys::SqlKeys`. An append
//!   with claims that reaches this log directly is refused.
//!
//! No KurrentDB server runs in CI: the conformance suite runs against one whenever
//! `ROSTER_KURRENTDB_URL` is set (`tests/conformance.rs`); CI compiles this crate and runs the
//! cases that need no server (the mappings below).

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::Arc;

use async_trait::async_trait;
use kurrentdb::{
    AppendToStreamOptions, Client, ClientSettings, CurrentRevision, EventData, ReadAllOptions,
    ReadStreamOptions, RetryOptions, StreamPosition, StreamState, SubscribeToAllOptions,
    SubscriptionFilter,
};
use roster_store::{
    AppendError, AppendOutcome, AppendRequest, EventLog, ExpectedVersion, Metadata, Position,
    RecordedEvent, StoreError, StreamVersion,
};
use tokio::sync::watch;

/// The log in one namespace of a KurrentDB cluster. Cheap to clone.
#[derive(Clone)]
pub struct KurrentLog {
    client: Client,
    namespace: String,
    /// The head as this process knows it: raised by its own appends at once, and by every
    /// append of the namespace (any process's) through a `$all` subscription.
    head: Arc<watch::Sender<Position>>,
    changes: watch::Receiver<Position>,
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Server {
        server: "kurrentdb",
        message: e.to_string(),
    }
}

impl KurrentLog {
    /// Connects to the cluster at `url` (`kurrentdb://…`, `esdb://…`) and follows the
    /// namespace's appends (from any process) to feed [`EventLog::changes`].
    pub async fn connect(url: &str, namespace: &str) -> Result<Self, StoreError> {
        let settings = parse_url(url)?;
        let client = Client::new(settings).map_err(backend)?;
        let namespace = namespace_of(namespace)?;
        let (sender, changes) = watch::channel(0);
        let log = Self {
            client,
            namespace,
            head: Arc::new(sender),
            changes,
        };
        let head = log.head().await?;
        log.raise_head(head);
        // From the head read above, so that no append between that read and the subscription's
        // start goes unannounced.
        tokio::spawn(follow(
            log.client.clone(),
            log.filter(),
            start_after(head),
            log.head.clone(),
        ));
        Ok(log)
    }

    fn raise_head(&self, position: Position) {
        raise(&self.head, position);
    }

    fn stored(&self, stream: &str) -> String {
        format!("{}{stream}", self.namespace)
    }

    fn filter(&self) -> SubscriptionFilter {
        SubscriptionFilter::on_stream_name().add_prefix(&self.namespace)
    }

    fn recorded(&self, event: &kurrentdb::RecordedEvent) -> Result<RecordedEvent, StoreError> {
        let stream = event
            .stream_id()
            .strip_prefix(&self.namespace)
            .ok_or_else(|| StoreError::Corrupt(format!("{} is not ours", event.stream_id())))?;
        let metadata: Metadata = serde_json::from_slice(&event.custom_metadata)?;
        Ok(RecordedEvent {
            event_id: event.id,
            stream: stream.to_owned(),
            version: event.revision,
            position: event.position.commit,
            event_type: event.event_type.clone(),
            payload: serde_json::from_slice(&event.data)?,
            metadata,
        })
    }

    async fn read_all_from(
        &self,
        from: StreamPosition<kurrentdb::Position>,
        forwards: bool,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let options = ReadAllOptions::default()
            .position(from)
            .filter(self.filter())
            .max_count(limit);
        let options = match forwards {
            true => options.forwards(),
            false => options.backwards(),
        };
        let mut read = self.client.read_all(&options).await.map_err(backend)?;
        let mut events = Vec::new();
        while let Some(resolved) = read.next().await.map_err(backend)? {
            events.push(self.recorded(resolved.get_original_event())?);
        }
        Ok(events)
    }
}

/// Raises the announced head to `position` if it is newer.
fn raise(head: &watch::Sender<Position>, position: Position) {
    head.send_if_modified(|known| {
        let newer = position > *known;
        if newer {
            *known = position;
        }
        newer
    });
}

/// Follows the namespace's appends from `from` and announces each new position. The client
/// resubscribes after a failure from the last event it delivered, for as long as it takes;
/// the task ends when nobody listens any more.
async fn follow(
    client: Client,
    filter: SubscriptionFilter,
    from: StreamPosition<kurrentdb::Position>,
    head: Arc<watch::Sender<Position>>,
) {
    let options = SubscribeToAllOptions::default()
        .position(from)
        .filter(filter)
        .retry_options(
            RetryOptions::default()
                .retry_forever()
                .retry_delay(RESUBSCRIBE_DELAY),
        );
    let mut subscription = client.subscribe_to_all(&options).await;
    loop {
        tokio::select! {
            next = subscription.next() => match next {
                Ok(event) => raise(&head, event.get_original_event().position.commit),
                Err(e) => {
                    // Only an access error ends a subscription that retries forever.
                    tracing::error!(error = %e, "KurrentDB subscription ended: other processes' \
                        appends are no longer announced (subscriptions still poll)");
                    return;
                }
            },
            () = head.closed() => return,
        }
    }
}

/// Wait between attempts to subscribe again after the subscription failed.
const RESUBSCRIBE_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// The first event id that appears twice in one append, if any.
fn repeated_id(req: &AppendRequest) -> Option<uuid::Uuid> {
    let mut seen = HashSet::with_capacity(req.events.len());
    req.events
        .iter()
        .map(|e| e.event_id)
        .find(|id| !seen.insert(*id))
}

/// Client settings from a connection string; `kurrentdb://`, `kurrent://`, `kdb://` and
/// `esdb://` all name the same protocol.
pub fn parse_url(url: &str) -> Result<ClientSettings, StoreError> {
    ClientSettings::from_str(url).map_err(|e| {
        StoreError::Config(format!(
            "ROSTER_KURRENTDB_URL is not a KurrentDB connection string: {e}"
        ))
    })
}

/// The stream-name prefix of a namespace: `[a-z0-9_]`, 1 to 32 characters, then `:`.
pub fn namespace_of(name: &str) -> Result<String, StoreError> {
    let ok = (1..=32).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    match ok {
        true => Ok(format!("{name}:")),
        false => Err(StoreError::Config(format!(
            "KurrentDB namespace {name:?}: 1 to 32 of a-z, 0-9 and _"
        ))),
    }
}

/// The expected revision KurrentDB checks for an expected version.
pub fn stream_state(expected: ExpectedVersion) -> StreamState {
    match expected {
        ExpectedVersion::Any => StreamState::Any,
        ExpectedVersion::NoStream => StreamState::NoStream,
        ExpectedVersion::Exact(version) => StreamState::StreamRevision(version),
    }
}

/// The version KurrentDB reports a stream at (`None`: no stream).
pub fn actual_version(current: CurrentRevision) -> Option<StreamVersion> {
    match current {
        CurrentRevision::Current(revision) => Some(revision),
        CurrentRevision::NoStream => None,
    }
}

/// Where a read of `$all` after `after` starts (inclusive: the caller skips `after` itself).
pub fn start_after(after: Position) -> StreamPosition<kurrentdb::Position> {
    match after {
        0 => StreamPosition::Start,
        p => StreamPosition::Position(kurrentdb::Position {
            commit: p,
            prepare: p,
        }),
    }
}

#[async_trait]
impl EventLog for KurrentLog {
    async fn append(&self, req: AppendRequest) -> Result<AppendOutcome, AppendError> {
        if !req.claims.is_empty() {
            return Err(AppendError::Backend(StoreError::Config(
                "claims on a KurrentDB log go through the claiming wrapper".into(),
            )));
        }
        if req.events.is_empty() {
            let head = self.head().await?;
            return Ok(AppendOutcome {
                last_version: 0,
                first_position: head,
                last_position: head,
            });
        }
        if let Some(event_id) = repeated_id(&req) {
            return Err(AppendError::DuplicateEventId { event_id });
        }
        let count = req.events.len() as u64;
        let mut events = Vec::with_capacity(req.events.len());
        for event in &req.events {
            let data = EventData::json(&event.event_type, &event.payload)
                .map_err(|e| AppendError::Backend(e.into()))?
                .id(event.event_id)
                .metadata_as_json(&event.metadata)
                .map_err(|e| AppendError::Backend(e.into()))?;
            events.push(data);
        }
        let options = AppendToStreamOptions::default().stream_state(stream_state(req.expected));
        let written = self
            .client
            .append_to_stream(self.stored(&req.stream), &options, events)
            .await;
        let written = match written {
            Ok(written) => written,
            // With no expected version KurrentDB refuses an append only when some of its ids
            // are already in the stream and others are not: not a retry.
            Err(kurrentdb::Error::WrongExpectedVersion { .. })
                if req.expected == ExpectedVersion::Any =>
            {
                return Err(AppendError::DuplicateEventId {
                    event_id: req.events[0].event_id,
                });
            }
            Err(kurrentdb::Error::WrongExpectedVersion { current, .. }) => {
                return Err(AppendError::WrongExpectedVersion {
                    stream: req.stream,
                    expected: req.expected,
                    actual: actual_version(current),
                });
            }
            Err(e) => return Err(AppendError::Backend(backend(e))),
        };
        // KurrentDB answers with the last event's revision and position only, and takes an
        // append whose ids it recognises as a retry. The events at the revisions it reports
        // are read back: they must be the request's, in order (else the ids were already in
        // the stream in another arrangement, and nothing was written), and they give the
        // positions.
        let last_version = written.next_expected_version;
        let first_version = (last_version + 1).saturating_sub(count);
        let stored = self
            .read_stream(&req.stream, first_version, req.events.len())
            .await?;
        let ids = stored.iter().map(|e| e.event_id);
        if !ids.eq(req.events.iter().map(|e| e.event_id)) {
            return Err(AppendError::DuplicateEventId {
                event_id: req.events[0].event_id,
            });
        }
        let (first, last) = (&stored[0], &stored[stored.len() - 1]);
        self.raise_head(last.position);
        Ok(AppendOutcome {
            last_version,
            first_position: first.position,
            last_position: last.position,
        })
    }

    async fn read_stream(
        &self,
        stream: &str,
        from: StreamVersion,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let options = ReadStreamOptions::default()
            .position(StreamPosition::Position(from))
            .max_count(limit)
            .forwards();
        let mut read = match self.client.read_stream(self.stored(stream), &options).await {
            Ok(read) => read,
            Err(kurrentdb::Error::ResourceNotFound) => return Ok(Vec::new()),
            Err(e) => return Err(backend(e)),
        };
        let mut events = Vec::new();
        loop {
            match read.next().await {
                Ok(Some(resolved)) => events.push(self.recorded(resolved.get_original_event())?),
                Ok(None) => return Ok(events),
                Err(kurrentdb::Error::ResourceNotFound) => return Ok(events),
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let mut events = self
            .read_all_from(start_after(after), true, limit.saturating_add(1))
            .await?;
        events.retain(|e| e.position > after);
        events.truncate(limit);
        Ok(events)
    }

    async fn head(&self) -> Result<Position, StoreError> {
        let last = self.read_all_from(StreamPosition::End, false, 1).await?;
        Ok(last.first().map_or(0, |e| e.position))
    }

    fn changes(&self) -> watch::Receiver<Position> {
        self.changes.clone()
    }

    fn backend_name(&self) -> &'static str {
        "kurrentdb"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_versions_map_to_kurrentdb_revisions() {
        assert_eq!(stream_state(ExpectedVersion::Any), StreamState::Any);
        assert_eq!(
            stream_state(ExpectedVersion::NoStream),
            StreamState::NoStream
        );
        assert_eq!(
            stream_state(ExpectedVersion::Exact(4)),
            StreamState::StreamRevision(4)
        );
        assert_eq!(actual_version(CurrentRevision::Current(7)), Some(7));
        assert_eq!(actual_version(CurrentRevision::NoStream), None);
    }

    #[test]
    fn a_read_of_all_starts_at_the_start_or_at_the_position_read_last() {
        assert_eq!(start_after(0), StreamPosition::Start);
        assert_eq!(
            start_after(1234),
            StreamPosition::Position(kurrentdb::Position {
                commit: 1234,
                prepare: 1234
            })
        );
    }

    #[test]
    fn an_id_twice_in_one_append_is_found_before_anything_is_sent() {
        let event = |id: uuid::Uuid| roster_store::NewEvent {
            event_id: id,
            event_type: "MemberRegistered.v1".into(),
            payload: serde_json::json!({}),
            metadata: Metadata {
                actor: roster_store::ActorRef::System,
                correlation_id: id,
                causation_id: None,
                idempotency_key: None,
                recorded_at: chrono::Utc::now(),
            },
        };
        let (a, b) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        let mut req = AppendRequest {
            stream: "member-1".into(),
            expected: ExpectedVersion::Any,
            events: vec![event(a), event(b)],
            claims: Vec::new(),
        };
        assert_eq!(repeated_id(&req), None);
        req.events.push(event(a));
        assert_eq!(repeated_id(&req), Some(a));
    }

    #[test]
    fn namespaces_are_short_plain_names() {
        assert_eq!(namespace_of("roster").unwrap(), "roster:");
        assert_eq!(namespace_of("t_0123").unwrap(), "t_0123:");
        for bad in ["", "Roster", "a-b", "a:b", &"x".repeat(33)] {
            assert!(namespace_of(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn connection_strings_are_parsed_or_refused_clearly() {
        assert!(parse_url("esdb://127.0.0.1:2113?tls=false").is_ok());
        assert!(parse_url("kurrentdb://127.0.0.1:2113?tls=false").is_ok());
        let refused = parse_url("http://nowhere").unwrap_err().to_string();
        assert!(refused.contains("ROSTER_KURRENTDB_URL"), "{refused}");
    }
}
