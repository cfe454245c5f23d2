//! The data-key table: one key per subject (a member), kept beside the log, never in it.
//! Keys are stored wrapped (encrypted) under the master key; see [`crate::pii`].

use std::collections::HashMap;

use async_trait::async_trait;
use uuid::Uuid;

use crate::StoreError;

/// What the table holds for one subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    /// The wrapped key bytes.
    Live(Vec<u8>),
    /// The key was destroyed: every sealed copy of this subject's data is unreadable for good.
    Destroyed,
    /// No key was ever created for this subject.
    Missing,
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Returns the subject's key, storing `wrapped` as its key first if it has none.
    /// A destroyed key is never recreated: the answer is then `KeyState::Destroyed`.
    async fn get_or_create(&self, subject: Uuid, wrapped: Vec<u8>) -> Result<KeyState, StoreError>;

    /// The subject's key state.
    async fn get(&self, subject: Uuid) -> Result<KeyState, StoreError>;

    /// Key states of many subjects at once (absent subjects map to `Missing`).
    async fn get_many(&self, subjects: &[Uuid]) -> Result<HashMap<Uuid, KeyState>, StoreError>;

    /// Destroys the subject's key (the bytes are overwritten, a tombstone stays so the key is
    /// never recreated). Returns whether a live key was destroyed.
    async fn destroy(&self, subject: Uuid) -> Result<bool, StoreError>;
}
