//! The reactors of this build, one module each.

pub mod mail;
pub mod payments;
