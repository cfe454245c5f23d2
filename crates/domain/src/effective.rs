//! Effective permissions and permission checks: one pure function of an organization's state
//! and an instant, shared by the domain's own authorization, the read-model projection and the
//! check API, so that all three always agree. Asking about a past instant of a state folded up
//! to that instant answers "who could do X on date D".

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::org::OrgState;

/// A role a member holds at an instant, directly or through a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldRole<'a> {
    pub role: &'a str,
    pub scope: Option<&'a str>,
    /// Direct grants may expire; group grants do not.
    pub expires_at: Option<DateTime<Utc>>,
    /// The group (id, name) the role comes through; `None` for a direct grant.
    pub group: Option<(Uuid, &'a str)>,
}

/// One permission a member holds, with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Grant {
    pub permission: String,
    pub role: String,
    pub scope: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub group_id: Option<Uuid>,
    /// The group's name, as the check API reports it.
    pub group: Option<String>,
}

/// The answer to "may this member do that": allowed or not, and every grant that allows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    pub allowed: bool,
    pub via: Vec<Via>,
}

/// One grant that allows a checked permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Via {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// Every role `member_id` holds at `at`: direct grants that have not expired, then the grants
/// of each group they belong to.
pub fn held_roles(state: &OrgState, member_id: Uuid, at: DateTime<Utc>) -> Vec<HeldRole<'_>> {
    let direct = state
        .members
        .get(&member_id)
        .into_iter()
        .flat_map(|member| {
            member
                .grants
                .iter()
                .filter(move |g| g.is_active(at))
                .map(|g| HeldRole {
                    role: &g.role,
                    scope: g.scope.as_deref(),
                    expires_at: g.expires_at,
                    group: None,
                })
        });
    let via_groups = state
        .groups
        .iter()
        .filter(|(_, group)| group.members.contains(&member_id))
        .flat_map(|(id, group)| {
            group.grants.iter().map(move |g| HeldRole {
                role: &g.role,
                scope: g.scope.as_deref(),
                expires_at: None,
                group: Some((*id, group.name.as_str())),
            })
        });
    direct.chain(via_groups).collect()
}

/// The roles `member_id` holds at `at` that confer a privileged permission
/// ([`is_privileged`](crate::permissions::is_privileged)), each with those permissions: what an
/// access review lists.
pub fn privileged_roles(
    state: &OrgState,
    member_id: Uuid,
    at: DateTime<Utc>,
) -> Vec<(HeldRole<'_>, Vec<&str>)> {
    held_roles(state, member_id, at)
        .into_iter()
        .filter_map(|held| {
            let permissions: Vec<&str> = state
                .role(held.role)?
                .permissions()
                .into_iter()
                .filter(|p| crate::permissions::is_privileged(p))
                .collect();
            (!permissions.is_empty()).then_some((held, permissions))
        })
        .collect()
}

/// Direct grants ∪ grants via groups, minus those expired at `at`, one entry per permission
/// and origin, sorted by permission.
pub fn effective_permissions(state: &OrgState, member_id: Uuid, at: DateTime<Utc>) -> Vec<Grant> {
    let mut grants: Vec<Grant> = held_roles(state, member_id, at)
        .into_iter()
        .flat_map(|held| {
            let permissions = state
                .role(held.role)
                .map(|r| r.permissions())
                .unwrap_or_default();
            permissions.into_iter().map(move |permission| Grant {
                permission: permission.to_owned(),
                role: held.role.to_owned(),
                scope: held.scope.map(str::to_owned),
                expires_at: held.expires_at,
                group_id: held.group.map(|(id, _)| id),
                group: held.group.map(|(_, name)| name.to_owned()),
            })
        })
        .collect();
    grants.sort_by(|a, b| {
        (&a.permission, &a.group, &a.role, &a.scope).cmp(&(
            &b.permission,
            &b.group,
            &b.role,
            &b.scope,
        ))
    });
    grants
}

/// Whether `member_id` may use `permission` (in `scope`, if given) at `at`, and through which
/// grants. An unscoped grant allows every scope; a scoped grant allows only a check for that
/// same scope, so a check without a scope is allowed by unscoped grants alone.
pub fn check(
    state: &OrgState,
    member_id: Uuid,
    permission: &str,
    scope: Option<&str>,
    at: DateTime<Utc>,
) -> CheckResult {
    let via: Vec<Via> = held_roles(state, member_id, at)
        .into_iter()
        .filter(|held| held.scope.is_none() || held.scope == scope)
        .filter(|held| {
            state
                .role(held.role)
                .is_some_and(|role| role.allows(permission))
        })
        .map(|held| Via {
            role: held.role.to_owned(),
            group: held.group.map(|(_, name)| name.to_owned()),
            group_id: held.group.map(|(id, _)| id),
            scope: held.scope.map(str::to_owned),
        })
        .collect();
    CheckResult {
        allowed: !via.is_empty(),
        via,
    }
}
