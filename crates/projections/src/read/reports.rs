//! Reports for operators (`GET /v1/reports/...`, `roster report ...`): the memberships report
//! (members per plan and status, joins and endings per month, recurring revenue per currency,
//! waiting-list lengths), folded from `memberships_v1`, and the access review (members with no
//! activity for N days and the privileged roles they still hold), from `audit_v1` and the
//! organizations' streams.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use roster_app::Roster;
use roster_domain::effective::privileged_roles;
use roster_domain::membership::MembershipStatus;
use roster_domain::plan::Interval;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ReadModels;
use super::memberships::MembershipRecord;
use crate::ProjectionError;
use crate::rows::Val;

/// Members per plan and status, joins and endings per month, recurring revenue, waiting lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MembershipsReport {
    pub generated_at: DateTime<Utc>,
    /// One row per plan and status that has any membership, by plan then status.
    pub by_plan_and_status: Vec<PlanStatusCount>,
    /// One row per calendar month (UTC) in which anyone joined or left, oldest first.
    pub monthly: Vec<MonthRow>,
    /// Per currency: what active memberships that will renew bring in per month.
    pub recurring_revenue: Vec<RevenueRow>,
    /// Per plan with anyone waiting or offered a place.
    pub waiting_lists: Vec<WaitingRow>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlanStatusCount {
    pub plan: String,
    pub status: String,
    /// Distinct members.
    pub members: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MonthRow {
    /// `YYYY-MM`.
    pub month: String,
    pub joins: u64,
    pub cancellations: u64,
    /// Ended because the payment failed for good.
    pub lapses: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RevenueRow {
    pub currency: String,
    /// Monthly recurring revenue in minor units: monthly prices whole, yearly ones a twelfth.
    pub monthly_amount: u64,
    /// The memberships counted.
    pub memberships: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WaitingRow {
    pub plan: String,
    /// In line, not offered a place.
    pub waiting: u64,
    /// Offered a freed place, not yet claimed.
    pub offered: u64,
}

impl MembershipsReport {
    /// The report over `records` at `now`. Recurring revenue counts active and past-due
    /// memberships on a monthly or yearly price that are not set to cancel.
    pub fn of(records: &[MembershipRecord], now: DateTime<Utc>) -> Self {
        let mut members: BTreeMap<(String, String), BTreeSet<Uuid>> = BTreeMap::new();
        let mut months: BTreeMap<String, MonthRow> = BTreeMap::new();
        let mut revenue: BTreeMap<String, RevenueRow> = BTreeMap::new();
        let mut waiting: BTreeMap<String, WaitingRow> = BTreeMap::new();
        let month = |at: DateTime<Utc>| at.format("%Y-%m").to_string();
        for record in records {
            let status = record.status();
            members
                .entry((record.plan.clone(), record.status.clone()))
                .or_default()
                .insert(record.member_id);
            if let Some(joined) = record.joined_at {
                months.entry(month(joined)).or_default().joins += 1;
            }
            if let Some(ended) = record.ended_at {
                let row = months.entry(month(ended)).or_default();
                match status {
                    MembershipStatus::Lapsed => row.lapses += 1,
                    _ => row.cancellations += 1,
                }
            }
            let renews = matches!(status, MembershipStatus::Active | MembershipStatus::PastDue)
                && record.cancels_at.is_none();
            if let Some(price) = record.price.as_ref().filter(|_| renews) {
                let monthly = interval(&price.interval).map_or(0, |i| i.monthly(price.amount));
                if monthly > 0 {
                    let row = revenue.entry(price.currency.clone()).or_default();
                    row.monthly_amount += monthly;
                    row.memberships += 1;
                }
            }
            if status == MembershipStatus::Waitlisted {
                let row = waiting.entry(record.plan.clone()).or_default();
                match record.offer_expires_at {
                    Some(_) => row.offered += 1,
                    None => row.waiting += 1,
                }
            }
        }
        Self {
            generated_at: now,
            by_plan_and_status: members
                .into_iter()
                .map(|((plan, status), ids)| PlanStatusCount {
                    plan,
                    status,
                    members: ids.len() as u64,
                })
                .collect(),
            monthly: months
                .into_iter()
                .map(|(month, row)| MonthRow { month, ..row })
                .collect(),
            recurring_revenue: revenue
                .into_iter()
                .map(|(currency, row)| RevenueRow { currency, ..row })
                .collect(),
            waiting_lists: waiting
                .into_iter()
                .map(|(plan, row)| WaitingRow { plan, ..row })
                .collect(),
        }
    }
}

fn interval(text: &str) -> Option<Interval> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).ok()
}

/// Members who have not been active for `inactive_days` and still hold privileged roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AccessReview {
    pub generated_at: DateTime<Utc>,
    pub inactive_days: u32,
    /// Least recently active first; never active before anyone else.
    pub members: Vec<ReviewedMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReviewedMember {
    pub member_id: Uuid,
    /// The last thing the member did (an event they caused, or one on their own stream:
    /// registration, confirmation, profile changes); `None` when the log has nothing.
    pub last_active_at: Option<DateTime<Utc>>,
    pub roles: Vec<ReviewedRole>,
}

/// A privileged role the member holds now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReviewedRole {
    pub org_id: Uuid,
    pub org_name: String,
    pub role: String,
    pub scope: Option<String>,
    /// The group it comes through; `None` for a direct grant.
    pub group: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The privileged permissions it confers.
    pub permissions: Vec<String>,
}

impl ReadModels {
    /// The memberships report at `now`.
    pub async fn memberships_report(
        &self,
        now: DateTime<Utc>,
    ) -> Result<MembershipsReport, ProjectionError> {
        let records = self.all_memberships().await?;
        Ok(MembershipsReport::of(&records, now))
    }

    /// The access review at `now`: every organization named in the audit trail is folded from
    /// its stream, each member's privileged roles taken from it, and the member's last
    /// activity read from `audit_v1`.
    pub async fn access_review(
        &self,
        roster: &Roster,
        inactive_days: u32,
        now: DateTime<Utc>,
    ) -> Result<AccessReview, ProjectionError> {
        let cutoff = now - Duration::days(i64::from(inactive_days));
        let org_rows = self
            .db()
            .query(
                "SELECT DISTINCT org_id FROM audit_v1 WHERE org_id IS NOT NULL ORDER BY org_id",
                Vec::new(),
            )
            .await?;
        let mut roles: BTreeMap<Uuid, Vec<ReviewedRole>> = BTreeMap::new();
        for row in &org_rows {
            let Some(org_id) = roster_sql::text_at(row, 0).and_then(|t| t.parse().ok()) else {
                continue;
            };
            let org = match roster.orgs.get(org_id).await {
                Ok(snapshot) => snapshot.state,
                Err(roster_app::AppError::NotFound { .. }) => continue,
                Err(e) => return Err(e.into()),
            };
            for member_id in org.members.keys() {
                for (held, permissions) in privileged_roles(&org, *member_id, now) {
                    roles.entry(*member_id).or_default().push(ReviewedRole {
                        org_id,
                        org_name: org.name.clone(),
                        role: held.role.to_owned(),
                        scope: held.scope.map(str::to_owned),
                        group: held.group.map(|(_, name)| name.to_owned()),
                        expires_at: held.expires_at,
                        permissions: permissions.into_iter().map(str::to_owned).collect(),
                    });
                }
            }
        }
        let mut members = Vec::new();
        for (member_id, roles) in roles {
            let last_active_at = self.last_active(member_id).await?;
            if last_active_at.is_some_and(|at| at > cutoff) {
                continue;
            }
            members.push(ReviewedMember {
                member_id,
                last_active_at,
                roles,
            });
        }
        members.sort_by_key(|m| (m.last_active_at, m.member_id));
        Ok(AccessReview {
            generated_at: now,
            inactive_days,
            members,
        })
    }

    /// The latest event the member caused or that is on their own stream.
    async fn last_active(&self, member_id: Uuid) -> Result<Option<DateTime<Utc>>, ProjectionError> {
        let rows = self
            .db()
            .query(
                "SELECT MAX(recorded_at) FROM audit_v1 WHERE (actor_kind = 'member' AND \
                 actor_id = $1) OR (member_id = $1 AND stream = $2)",
                vec![Val::id(member_id), Val::text(format!("member-{member_id}"))],
            )
            .await?;
        let text = rows.first().and_then(|row| roster_sql::text_at(row, 0));
        Ok(text.and_then(|t| DateTime::parse_from_rfc3339(t).ok().map(|at| at.to_utc())))
    }
}
