//! Erasure as a process: after the request is recorded, each step runs in turn. Steps must be
//! safe to run again (an interrupted erasure is finished by repeating it), and each says in
//! its name what it undoes. Later parts of Roster add theirs (releasing seats, ending
//! memberships, cancelling jobs) with [`super::Members::with_erasure_step`].

use async_trait::async_trait;
use roster_store::pii::Vault;
use uuid::Uuid;

use crate::{AppError, CommandMeta, Memberships};

#[async_trait]
pub trait ErasureStep: Send + Sync + 'static {
    /// What the step does, for logs (`shred personal data`).
    fn name(&self) -> &'static str;

    /// Runs the step for a member whose erasure is recorded. Running it twice is harmless.
    async fn run(&self, member_id: Uuid, meta: &CommandMeta) -> Result<(), AppError>;
}

/// Destroys the member's data key: every sealed copy of their personal data, in the log, its
/// backups and replicas, becomes unreadable at once (crypto-shredding).
pub struct ShredPersonalData(pub Vault);

#[async_trait]
impl ErasureStep for ShredPersonalData {
    fn name(&self) -> &'static str {
        "shred personal data"
    }

    async fn run(&self, member_id: Uuid, _: &CommandMeta) -> Result<(), AppError> {
        self.0.shred(member_id).await?;
        Ok(())
    }
}

/// Ends the member's live memberships at once: their places, offers and spots in line go to
/// the next in line.
pub struct EndMemberships(pub Memberships);

#[async_trait]
impl ErasureStep for EndMemberships {
    fn name(&self) -> &'static str {
        "end memberships"
    }

    async fn run(&self, member_id: Uuid, meta: &CommandMeta) -> Result<(), AppError> {
        self.0.end_for_erasure(member_id, meta).await?;
        Ok(())
    }
}
