//! Domain events <-> stored events. The only place that knows the stored shape:
//! `type` = the versioned type name, `payload` = the event's data with personal data sealed.

use roster_domain::{AnyEvent, DomainEvent};
use roster_store::pii::Vault;
use roster_store::{Metadata, NewEvent, RecordedEvent};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::AppError;

/// Serialises a domain event and seals its personal data under its subject's key.
pub async fn encode<E: DomainEvent>(
    vault: &Vault,
    event: &E,
    event_id: Uuid,
    metadata: Metadata,
) -> Result<NewEvent, AppError> {
    let (event_type, payload) = split(serde_json::to_value(event)?)?;
    debug_assert_eq!(event_type, event.event_type());
    let payload = match event.personal_data_subject() {
        Some(subject) => vault.seal_payload(subject, payload).await?,
        None => payload,
    };
    Ok(NewEvent {
        event_id,
        event_type,
        payload,
        metadata,
    })
}

/// Opens the sealed personal data (null once shredded) and deserialises the domain event.
pub async fn decode<E: DomainEvent>(
    vault: &Vault,
    recorded: &RecordedEvent,
) -> Result<E, AppError> {
    let payload = vault.open_payload(recorded.payload.clone()).await?;
    let tagged = json!({ "type": recorded.event_type, "data": payload });
    serde_json::from_value(tagged).map_err(|e| AppError::Decode {
        position: recorded.position,
        event_type: recorded.event_type.clone(),
        reason: e.to_string(),
    })
}

/// Decodes an event of any aggregate of this build, its personal data opened: `None` for a
/// type no aggregate has (an event of a newer build, or not a domain event).
pub async fn decode_any(
    vault: &Vault,
    recorded: &RecordedEvent,
) -> Result<Option<AnyEvent>, AppError> {
    if !AnyEvent::is_known(&recorded.event_type) {
        return Ok(None);
    }
    let payload = vault.open_payload(recorded.payload.clone()).await?;
    any(recorded, payload)
}

/// Decodes an event of any aggregate without opening its personal data, which reads as erased
/// (`personal: None`): for readers that act on ids and facts, never on who (reactors).
pub fn decode_sealed(recorded: &RecordedEvent) -> Result<Option<AnyEvent>, AppError> {
    if !AnyEvent::is_known(&recorded.event_type) {
        return Ok(None);
    }
    let mut payload = recorded.payload.clone();
    if let Some(personal) = payload.get_mut("personal") {
        *personal = Value::Null;
    }
    any(recorded, payload)
}

fn any(recorded: &RecordedEvent, payload: Value) -> Result<Option<AnyEvent>, AppError> {
    AnyEvent::decode(&recorded.event_type, payload)
        .transpose()
        .map_err(|e| AppError::Decode {
            position: recorded.position,
            event_type: recorded.event_type.clone(),
            reason: e.to_string(),
        })
}

/// Splits the adjacently tagged serde form `{"type": T, "data": D}` into `(T, D)`.
fn split(tagged: Value) -> Result<(String, Value), AppError> {
    let Value::Object(mut map) = tagged else {
        return Err(AppError::Encode(
            "an event must serialise to an object".into(),
        ));
    };
    let Some(Value::String(event_type)) = map.remove("type") else {
        return Err(AppError::Encode(
            "an event must carry its type name in `type`".into(),
        ));
    };
    let data = map
        .remove("data")
        .unwrap_or(Value::Object(Default::default()));
    Ok((event_type, data))
}
