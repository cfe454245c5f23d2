//! A log whose positions are not dense (KurrentDB's are byte offsets in its transaction file)
//! gets its lag from `EventLog::lag`'s default: the events after a position, counted, not
//! `head - position`.

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use roster_store::{
    ActorRef, AppendError, AppendOutcome, AppendRequest, EventLog, Metadata, Position,
    RecordedEvent, StoreError, StreamVersion,
};
use tokio::sync::watch;
use uuid::Uuid;

/// Three events at positions 1000, 2500 and 9000.
struct Sparse {
    events: Vec<RecordedEvent>,
    changes: watch::Receiver<Position>,
}

fn sparse() -> Sparse {
    let start = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
    let events = [1000, 2500, 9000]
        .into_iter()
        .enumerate()
        .map(|(i, position)| RecordedEvent {
            event_id: Uuid::now_v7(),
            stream: "member-x".into(),
            version: i as u64,
            position,
            event_type: "MemberRegistered.v1".into(),
            payload: serde_json::json!({}),
            metadata: Metadata {
                actor: ActorRef::System,
                correlation_id: Uuid::now_v7(),
                causation_id: None,
                idempotency_key: None,
                recorded_at: start + Duration::minutes(i as i64),
            },
        })
        .collect();
    Sparse {
        events,
        changes: watch::channel(9000).1,
    }
}

#[async_trait]
impl EventLog for Sparse {
    async fn append(&self, _: AppendRequest) -> Result<AppendOutcome, AppendError> {
        Err(StoreError::Closed.into())
    }

    async fn read_stream(
        &self,
        _: &str,
        _: StreamVersion,
        _: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        Ok(self.events.clone())
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let later = self.events.iter().filter(|e| e.position > after);
        Ok(later.take(limit).cloned().collect())
    }

    async fn head(&self) -> Result<Position, StoreError> {
        Ok(9000)
    }

    fn changes(&self) -> watch::Receiver<Position> {
        self.changes.clone()
    }

    fn backend_name(&self) -> &'static str {
        "sparse"
    }
}

#[tokio::test]
async fn lag_counts_events_not_the_distance_between_positions() {
    let log = sparse();
    let lag = log.lag(1000).await.unwrap();
    assert_eq!(lag.events, 2, "not 9000 - 1000");
    assert!(!lag.at_least);
    assert_eq!(lag.oldest_at, Some(log.events[1].metadata.recorded_at));
    let caught_up = log.lag(9000).await.unwrap();
    assert_eq!((caught_up.events, caught_up.oldest_at), (0, None));
    assert_eq!(log.lag(0).await.unwrap().events, 3);
}
