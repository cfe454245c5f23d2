//! Permission checks: now, from `permissions_v1`; at a past instant, by folding the
//! organization's stream up to that instant with the domain's own functions.

use chrono::{DateTime, Utc};
use roster_app::handler::stream_name;
use roster_domain::{Aggregate, CheckResult, Grant, OrgEvent, OrgState, Organization, Via};
use uuid::Uuid;

use super::ReadModels;
use super::orgs::{text, uuid};
use crate::ProjectionError;
use crate::pipeline::decode;
use crate::rows::{Val, time_text};

/// Page size when folding an organization's stream.
const PAGE: usize = 1000;

impl ReadModels {
    /// May `member` use `permission` (in `scope`) in `org` now, and through which grants.
    /// The same rule as the domain's `check`: an unscoped grant allows every scope, a scoped
    /// grant only its own scope; expired grants do not count.
    pub async fn check(
        &self,
        member: Uuid,
        org: Uuid,
        permission: &str,
        scope: Option<&str>,
    ) -> Result<CheckResult, ProjectionError> {
        self.require_org(org).await?;
        let rows = self
            .db
            .query(
                "SELECT role, scope, group_id, group_name FROM permissions_v1 \
                 WHERE org_id = $1 AND member_id = $2 AND permission = $3 \
                 AND (scope = '' OR scope = $4) AND (expires_at IS NULL OR expires_at > $5) \
                 ORDER BY group_name, role, scope",
                vec![
                    Val::id(org),
                    Val::id(member),
                    Val::text(permission),
                    Val::text(scope.unwrap_or_default()),
                    Val::text(time_text(self.clock.now())),
                ],
            )
            .await?;
        let via: Vec<Via> = rows
            .iter()
            .map(|r| Via {
                role: text(r, 0),
                scope: Some(text(r, 1)).filter(|s| !s.is_empty()),
                group_id: Some(text(r, 2))
                    .filter(|g| !g.is_empty())
                    .map(|_| uuid(r, 2)),
                group: r.get(3).and_then(Val::as_text).map(str::to_owned),
            })
            .collect();
        Ok(CheckResult {
            allowed: !via.is_empty(),
            via,
        })
    }

    /// Every effective permission of `member` in `org` now, with its origin.
    pub async fn permissions(
        &self,
        member: Uuid,
        org: Uuid,
    ) -> Result<Vec<Grant>, ProjectionError> {
        let rows = self
            .db
            .query(
                "SELECT permission, role, scope, group_id, group_name, expires_at FROM permissions_v1 \
                 WHERE org_id = $1 AND member_id = $2 AND (expires_at IS NULL OR expires_at > $3) \
                 ORDER BY permission, group_name, role, scope",
                vec![Val::id(org), Val::id(member), Val::text(time_text(self.clock.now()))],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| Grant {
                permission: text(r, 0),
                role: text(r, 1),
                scope: Some(text(r, 2)).filter(|s| !s.is_empty()),
                group_id: Some(text(r, 3))
                    .filter(|g| !g.is_empty())
                    .map(|_| uuid(r, 3)),
                group: r.get(4).and_then(Val::as_text).map(str::to_owned),
                expires_at: r
                    .get(5)
                    .and_then(Val::as_text)
                    .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc)),
            })
            .collect())
    }

    /// What `member` could do in `org` at `at`: the org's stream folded up to `at`, then the
    /// domain's `effective_permissions` at `at`.
    pub async fn permissions_at(
        &self,
        member: Uuid,
        org: Uuid,
        at: DateTime<Utc>,
    ) -> Result<Vec<Grant>, ProjectionError> {
        let state = self.org_state_at(org, at).await?;
        Ok(roster_domain::effective_permissions(&state, member, at))
    }

    /// The domain's `check` on the org's state at `at`.
    pub async fn check_at(
        &self,
        member: Uuid,
        org: Uuid,
        permission: &str,
        scope: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<CheckResult, ProjectionError> {
        let state = self.org_state_at(org, at).await?;
        Ok(roster_domain::check(&state, member, permission, scope, at))
    }

    async fn org_state_at(
        &self,
        org: Uuid,
        at: DateTime<Utc>,
    ) -> Result<OrgState, ProjectionError> {
        let stream = stream_name::<Organization>(org);
        let mut state = OrgState::default();
        let mut from = 0;
        loop {
            let page = self.store.read_stream(&stream, from, PAGE).await?;
            for recorded in page.iter().take_while(|e| e.metadata.recorded_at <= at) {
                if let Ok(event) = decode::<OrgEvent>(&self.vault, recorded).await? {
                    state = Organization::evolve(state, &event);
                }
            }
            let past_at = page.last().is_some_and(|e| e.metadata.recorded_at > at);
            if page.len() < PAGE || past_at {
                break;
            }
            from += PAGE as u64;
        }
        if !state.is_created() {
            return Err(ProjectionError::NotFound(format!(
                "organization {org} at {at}"
            )));
        }
        Ok(state)
    }

    async fn require_org(&self, org: Uuid) -> Result<(), ProjectionError> {
        let rows = self
            .db
            .query(
                "SELECT 1 FROM orgs_v1 WHERE org_id = $1",
                vec![Val::id(org)],
            )
            .await?;
        if rows.is_empty() {
            return Err(ProjectionError::NotFound(format!("organization {org}")));
        }
        Ok(())
    }
}
