//! The permission check: may this member use this permission in this organization, and why.
//! With `at`, both streams are folded only up to that instant and asked about it ("who could
//! do X on date D", answered from the log). A suspended member keeps their grants (reactivation
//! restores them) but may use none; an erased or unknown member is not found.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use roster_domain::{
    Aggregate, CheckResult, Member, MemberStatus, Organization, check, permissions,
};
use uuid::Uuid;

use crate::head_cache::HeadCache;
use crate::{AppError, CommandHandler};

/// What is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckQuery {
    pub member: Uuid,
    pub org: Uuid,
    /// `area.resource.action`, e.g. `billing.invoices.view`.
    pub permission: String,
    /// E.g. `channel:42`. Unscoped grants allow every scope.
    pub scope: Option<String>,
    /// Ask about this past instant instead of now.
    pub at: Option<DateTime<Utc>>,
}

/// The answer, and the instant it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckAnswer {
    pub result: CheckResult,
    pub at: DateTime<Utc>,
}

/// Answers checks. Current answers come from states kept while the log's head has not moved,
/// so a steady stream of checks costs no database read. Cheap to clone.
#[derive(Clone)]
pub struct Checks {
    commands: CommandHandler,
    orgs: Folded<Organization>,
    members: Folded<Member>,
}

impl Checks {
    pub fn new(commands: CommandHandler) -> Self {
        Self {
            commands,
            orgs: Folded::default(),
            members: Folded::default(),
        }
    }

    pub async fn check(&self, query: &CheckQuery) -> Result<CheckAnswer, AppError> {
        permissions::validate_permission_shape(&query.permission)?;
        let (org, member, at) = match query.at {
            None => (
                self.orgs.current(&self.commands, query.org).await?,
                self.members.current(&self.commands, query.member).await?,
                self.commands.clock().now(),
            ),
            Some(at) => (
                Arc::new(
                    self.commands
                        .load_until::<Organization>(query.org, Some(at))
                        .await?
                        .state,
                ),
                Arc::new(
                    self.commands
                        .load_until::<Member>(query.member, Some(at))
                        .await?
                        .state,
                ),
                at,
            ),
        };
        if !org.is_created() {
            return Err(not_found(format!("organization {}", query.org)));
        }
        let result = match member.status {
            MemberStatus::Unregistered | MemberStatus::Erased => {
                return Err(not_found(format!("member {}", query.member)));
            }
            MemberStatus::Suspended => CheckResult {
                allowed: false,
                via: Vec::new(),
            },
            MemberStatus::PendingConfirmation | MemberStatus::Active => check(
                &org,
                query.member,
                &query.permission,
                query.scope.as_deref(),
                at,
            ),
        };
        Ok(CheckAnswer { result, at })
    }
}

fn not_found(what: String) -> AppError {
    AppError::NotFound { what }
}

/// Aggregates folded for checks, each kept with the log head it was loaded at
/// ([`HeadCache`]).
struct Folded<A: Aggregate>(HeadCache<Uuid, Arc<A::State>>);

const CACHE_CAPACITY: usize = 10_000;

impl<A: Aggregate> Clone for Folded<A> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<A: Aggregate> Default for Folded<A> {
    fn default() -> Self {
        Self(HeadCache::new(CACHE_CAPACITY))
    }
}

impl<A: Aggregate> Folded<A> {
    async fn current(
        &self,
        commands: &CommandHandler,
        id: Uuid,
    ) -> Result<Arc<A::State>, AppError> {
        // The head is read before loading, so the state holds at least everything up to it.
        let head = *commands.log().changes().borrow();
        if let Some(found) = self.0.get(&id, head) {
            return Ok(found);
        }
        let loaded = Arc::new(commands.load::<A>(id).await?.state);
        self.0.put(id, head, loaded.clone());
        Ok(loaded)
    }
}
