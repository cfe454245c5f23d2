//! Roster's application layer: [`open`] builds Roster from its settings, and the use cases run
//! over what it opened: command handling (load, decide, append at the expected version), the
//! member and organization use cases, the permission check, API keys and the side tables.
//!
//! Architecture invariants:
//! - Every state change goes through [`handler::CommandHandler::execute`]: load, decide (pure,
//!   in `roster-domain`), append at the expected version. Nothing else appends domain events.
//! - Rules that span streams (one member per email, a token leads to one member, org commands
//!   name registered members, a suspended member uses no grant) live here, not in a transport.
//! - Personal data is sealed by [`codec`] before it reaches the store and opened after reading.
//! - Time and new ids come from the [`clock::Clock`] and [`clock::IdGen`] given to [`open`].

pub mod access_codes;
pub mod apikeys;
pub mod checks;
mod claims;
pub mod clock;
pub mod codec;
mod error;
pub mod handler;
pub mod head_cache;
pub mod members;
pub mod memberships;
mod open;
pub mod orgs;
pub mod payments;
pub mod plans;
mod schedule;
pub mod secrets;
pub mod settings;
pub mod sidedb;
#[cfg(feature = "testing")]
pub mod testing;

pub use claims::{EMAIL_SCOPE, UniqueClaims};
pub use error::AppError;
pub use handler::{CommandHandler, CommandMeta, Handled, Loaded, stream_name};
pub use memberships::Memberships;
pub use open::{OpenError, Roster, SQLITE_FILE, SqlPlace, open};
pub use orgs::{NewOrg, OrgSnapshot, Orgs};
pub use payments::Payments;
pub use plans::Plans;
pub use settings::{RetrySchedule, Settings};
