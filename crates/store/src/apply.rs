//! The rules of one append, written once for every backend: expected version, idempotency by
//! event id, uniqueness claims.
//!
//! [`apply`] first checks everything (read-only) and only then writes, so a rejected request
//! writes nothing even without a savepoint. The savepoints that [`crate::batch`] takes around
//! each request of a batch are there for the failures no check can foresee (a backend error
//! halfway through the writes).

use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use crate::batch::WriteTx;
use crate::{
    AppendError, AppendOutcome, AppendRequest, ClaimOp, ExpectedVersion, Position, StoreError,
    StreamVersion,
};

/// An event ready for the database: payload and metadata already serialised, so the
/// serialisation runs on the caller's task and not on the single writer.
#[derive(Debug, Clone)]
pub(crate) struct EncodedEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub payload: String,
    pub metadata: String,
}

/// An [`AppendRequest`] with its events encoded.
#[derive(Debug, Clone)]
pub(crate) struct EncodedRequest {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub events: Vec<EncodedEvent>,
    pub claims: Vec<ClaimOp>,
}

impl EncodedRequest {
    pub(crate) fn encode(req: AppendRequest) -> Result<Self, StoreError> {
        let events = req
            .events
            .into_iter()
            .map(|e| {
                Ok(EncodedEvent {
                    event_id: e.event_id,
                    event_type: e.event_type,
                    payload: serde_json::to_string(&e.payload)?,
                    metadata: serde_json::to_string(&e.metadata)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Self {
            stream: req.stream,
            expected: req.expected,
            events,
            claims: req.claims,
        })
    }
}

/// Where an event id already sits in the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredId {
    pub event_id: Uuid,
    pub stream: String,
    pub version: StreamVersion,
    pub position: Position,
}

/// Runs one request inside the writer's open transaction.
///
/// The happy path reads only the stream's version (and the claims); whether the request is a
/// retry of an earlier append is asked only when something stands in its way (a version
/// conflict, a taken claim, an event id already in the log), since only then can it be one.
pub(crate) async fn apply<T: WriteTx>(
    tx: &mut T,
    req: &EncodedRequest,
) -> Result<AppendOutcome, AppendError> {
    reject_repeated_ids(&req.events)?;
    let current = tx.stream_version(&req.stream).await?;
    if let Err(conflict) = check_expected(&req.stream, req.expected, current) {
        return retry_or(tx, req, conflict).await;
    }
    if let Err(taken) = check_claims(tx, &req.claims).await {
        return retry_or(tx, req, taken).await;
    }
    let Some(first_event) = req.events.first() else {
        write_claims(tx, &req.claims).await?;
        // A claims-only append writes no event: there is no position to report, and the
        // stream stays where it was (0 stands for a stream that does not exist).
        return Ok(AppendOutcome {
            last_version: current.unwrap_or(0),
            first_position: 0,
            last_position: 0,
        });
    };
    let first_version = current.map_or(0, |v| v + 1);
    let Some(first_position) = tx
        .insert_events(&req.stream, first_version, &req.events)
        .await?
    else {
        let duplicate = AppendError::DuplicateEventId {
            event_id: first_event.event_id,
        };
        return retry_or(tx, req, duplicate).await;
    };
    write_claims(tx, &req.claims).await?;
    let count = req.events.len() as u64;
    Ok(AppendOutcome {
        last_version: first_version + count - 1,
        first_position,
        last_position: first_position + count - 1,
    })
}

/// The request could not be applied: answer with the original outcome if it is a retry of an
/// earlier append, else with `rejection` (or `DuplicateEventId` if some of its ids are taken).
async fn retry_or<T: WriteTx>(
    tx: &mut T,
    req: &EncodedRequest,
    rejection: AppendError,
) -> Result<AppendOutcome, AppendError> {
    if req.events.is_empty() {
        return Err(rejection);
    }
    let ids: Vec<Uuid> = req.events.iter().map(|e| e.event_id).collect();
    let found = tx.find_events(&ids).await?;
    if found.is_empty() {
        return Err(rejection);
    }
    earlier_outcome(req, &ids, found)
}

/// The same event id twice in one request can never be a retry of anything.
fn reject_repeated_ids(events: &[EncodedEvent]) -> Result<(), AppendError> {
    if events.len() < 2 {
        return Ok(());
    }
    let mut seen = HashSet::with_capacity(events.len());
    match events.iter().find(|e| !seen.insert(e.event_id)) {
        Some(e) => Err(AppendError::DuplicateEventId {
            event_id: e.event_id,
        }),
        None => Ok(()),
    }
}

/// Some of the request's ids are already in the log. It is a retry (and answers with the
/// original outcome, writing nothing) only if all of them are, in this stream, at consecutive
/// versions in the request's order.
fn earlier_outcome(
    req: &EncodedRequest,
    ids: &[Uuid],
    found: Vec<StoredId>,
) -> Result<AppendOutcome, AppendError> {
    let by_id: HashMap<Uuid, StoredId> = found.into_iter().map(|s| (s.event_id, s)).collect();
    let stored: Option<Vec<&StoredId>> = ids.iter().map(|id| by_id.get(id)).collect();
    let first_known = || ids.iter().copied().find(|id| by_id.contains_key(id));
    let Some(stored) = stored else {
        return Err(duplicate(first_known()));
    };
    let consecutive = stored
        .iter()
        .enumerate()
        .all(|(i, s)| s.stream == req.stream && s.version == stored[0].version + i as u64);
    match (consecutive, stored.first(), stored.last()) {
        (true, Some(first), Some(last)) => Ok(AppendOutcome {
            last_version: last.version,
            first_position: first.position,
            last_position: last.position,
        }),
        _ => Err(duplicate(first_known())),
    }
}

fn duplicate(id: Option<Uuid>) -> AppendError {
    AppendError::DuplicateEventId {
        event_id: id.unwrap_or_default(),
    }
}

pub(crate) fn check_expected(
    stream: &str,
    expected: ExpectedVersion,
    actual: Option<StreamVersion>,
) -> Result<(), AppendError> {
    let ok = match expected {
        ExpectedVersion::Any => true,
        ExpectedVersion::NoStream => actual.is_none(),
        ExpectedVersion::Exact(n) => actual == Some(n),
    };
    if ok {
        Ok(())
    } else {
        Err(AppendError::WrongExpectedVersion {
            stream: stream.to_owned(),
            expected,
            actual,
        })
    }
}

/// Checks every claim against the table and against the request's own earlier claim
/// operations, before anything is written.
async fn check_claims<T: WriteTx>(tx: &mut T, claims: &[ClaimOp]) -> Result<(), AppendError> {
    // Who holds a (scope, key) once this request's earlier operations are applied, so that a
    // request claiming one key for two owners, or releasing and re-claiming it, is judged as
    // if its operations ran in order.
    let mut holders: HashMap<(&str, &str), Option<String>> = HashMap::new();
    for op in claims {
        let (ClaimOp::Claim { scope, key, owner } | ClaimOp::Release { scope, key, owner }) = op;
        let slot = (scope.as_str(), key.as_str());
        let holder = match holders.get(&slot) {
            Some(h) => h.clone(),
            None => tx.claim_owner(scope, key).await?,
        };
        let next = match op {
            ClaimOp::Claim { .. } => match holder {
                Some(other) if other != *owner => {
                    return Err(AppendError::Claimed {
                        scope: scope.clone(),
                        owner: other,
                    });
                }
                _ => Some(owner.clone()),
            },
            ClaimOp::Release { .. } => holder.filter(|h| h != owner),
        };
        holders.insert(slot, next);
    }
    Ok(())
}

async fn write_claims<T: WriteTx>(tx: &mut T, claims: &[ClaimOp]) -> Result<(), StoreError> {
    for op in claims {
        match op {
            ClaimOp::Claim { scope, key, owner } => tx.insert_claim(scope, key, owner).await?,
            ClaimOp::Release { scope, key, owner } => tx.delete_claim(scope, key, owner).await?,
        }
    }
    Ok(())
}
