//! The reactors of this build, one module each.

pub mod grants;
pub mod mail;
pub mod memberships;
pub mod payments;
pub mod referrals;
