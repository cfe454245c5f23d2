//! The API key aggregate: what every process must learn about a key. Streams are
//! `apikey-<uuid>`.
//!
//! Keys themselves (name, scopes, the secret's hash) live in the SQL side's `api_keys` table,
//! where a request looks them up. Only the revocation is a fact in the log: API processes keep
//! the keys they have seen while the log's head has not moved, so appending the revocation is
//! what makes every process, on any host, look the key up again. A new key needs no such news
//! (an unknown key is never remembered).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Actor, Ctx, DomainError, DomainEvent};

crate::tagged_enum! {
    pub enum ApiKeyEvent {
        Revoked(ApiKeyRevoked) = "ApiKeyRevoked.v1",
    }
}

impl DomainEvent for ApiKeyEvent {}

/// The key stopped working: every request with it is refused from now on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApiKeyRevoked {
    pub key_id: Uuid,
    /// The key's name when it was revoked (an operator's label, not personal data).
    pub name: String,
}

crate::tagged_enum! {
    pub enum ApiKeyCommand {
        Revoke(RevokeApiKey) = "RevokeApiKey",
    }
}

/// Revokes the key. Revoking a revoked key changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RevokeApiKey {
    pub key_id: Uuid,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiKeyState {
    pub revoked: bool,
}

fn decide(
    state: &ApiKeyState,
    command: &ApiKeyCommand,
    ctx: &Ctx,
) -> Result<Vec<ApiKeyEvent>, DomainError> {
    if let Actor::Member(_) = ctx.actor {
        return Err(DomainError::NotAllowed {
            reason: "API keys are an operator's business".into(),
        });
    }
    match command {
        ApiKeyCommand::Revoke(_) if state.revoked => Ok(Vec::new()),
        ApiKeyCommand::Revoke(c) => Ok(vec![ApiKeyEvent::Revoked(ApiKeyRevoked {
            key_id: c.key_id,
            name: c.name.clone(),
        })]),
    }
}

fn evolve(mut state: ApiKeyState, event: &ApiKeyEvent) -> ApiKeyState {
    match event {
        ApiKeyEvent::Revoked(_) => state.revoked = true,
    }
    state
}

crate::aggregate! {
    /// The API key aggregate.
    pub struct ApiKey: "apikey", ApiKeyState, ApiKeyCommand, ApiKeyEvent, decide, evolve
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::Aggregate;

    fn revoke(key_id: Uuid) -> ApiKeyCommand {
        ApiKeyCommand::Revoke(RevokeApiKey {
            key_id,
            name: "shop".into(),
        })
    }

    fn ctx(actor: Actor) -> Ctx {
        Ctx {
            actor,
            now: Utc::now(),
        }
    }

    #[test]
    fn a_revocation_is_recorded_once() {
        let key = Uuid::now_v7();
        let events = ApiKey::decide(&ApiKeyState::default(), &revoke(key), &ctx(Actor::Trusted));
        let events = events.unwrap();
        assert_eq!(
            events,
            vec![ApiKeyEvent::Revoked(ApiKeyRevoked {
                key_id: key,
                name: "shop".into()
            })]
        );
        let state = ApiKey::fold(&events);
        assert!(state.revoked);
        let again = ApiKey::decide(&state, &revoke(key), &ctx(Actor::Trusted)).unwrap();
        assert!(again.is_empty(), "revoking twice records nothing more");
    }

    #[test]
    fn a_member_cannot_revoke_a_key() {
        let refused = ApiKey::decide(
            &ApiKeyState::default(),
            &revoke(Uuid::now_v7()),
            &ctx(Actor::Member(Uuid::now_v7())),
        );
        assert!(matches!(refused, Err(DomainError::NotAllowed { .. })));
    }
}
