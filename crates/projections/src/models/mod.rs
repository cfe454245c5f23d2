//! The read models: one module per projection, each with its tables and its pure `project`.

pub mod accounts;
pub mod audit;
pub mod memberships;
pub mod payments;
pub mod plans;
