//! Roster's application layer: command handling over the event store, and the wiring that
//! opens a configured store.
//!
//! Architecture invariants:
//! - Every state change goes through [`handler::CommandHandler::execute`]: load, decide (pure,
//!   in `roster-domain`), append at the expected version. Nothing else appends domain events.
//! - Personal data is sealed by [`codec`] before it reaches the store and opened after reading.

pub mod apikeys;
pub mod clock;
pub mod codec;
mod error;
pub mod handler;
pub mod members;
pub mod runtime;
pub mod secrets;
pub mod sidedb;
pub mod verification;

pub use error::AppError;
pub use handler::{CommandHandler, CommandMeta, Handled, Loaded, UniqueClaims};
pub use runtime::{Runtime, StorageConfig};
