//! Reading `memberships_v1`, the record of a membership both the read model and the
//! membership's own stream answer with, and content access (`GET /v1/check` with a content
//! tag).

use chrono::{DateTime, Utc};
use roster_domain::membership::{MembershipState, MembershipStatus, grants_access, reminder_due};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ReadModels;
use super::plans::PriceRecord;
use crate::ProjectionError;
use crate::rows::Val;

/// A membership as upstream apps see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MembershipRecord {
    pub membership_id: Uuid,
    pub member_id: Uuid,
    /// The plan's slug.
    pub plan: String,
    /// `waitlisted`, `pending_payment`, `active`, `past_due`, `lapsed` or `cancelled`.
    pub status: String,
    /// The price the member pays, as it was when they joined.
    pub price: Option<PriceRecord>,
    pub content_tags: Vec<String>,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
    /// When a cancellation at the period's end takes effect.
    pub cancels_at: Option<DateTime<Utc>>,
    /// Its place in line now (1 is the first), while it waits. Read from the plan's stream
    /// when one membership is read; lists leave it out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waitlist_position: Option<u32>,
    /// Until when a freed place is held for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_expires_at: Option<DateTime<Utc>>,
    /// The last renewal reminder: the end of the period it was about, and how many days
    /// ahead it went out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reminded: Option<Reminded>,
    /// When the member joined.
    #[serde(default)]
    pub joined_at: Option<DateTime<Utc>>,
    /// When it lapsed or was cancelled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Global position of its latest event.
    pub position: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Reminded {
    pub period_end: DateTime<Utc>,
    pub days_before: u32,
}

impl MembershipRecord {
    /// The record of `state` at `position`; `None` before the membership exists.
    pub fn of(state: &MembershipState, position: u64) -> Option<Self> {
        Some(Self {
            membership_id: state.membership_id?,
            member_id: state.member_id?,
            plan: state.plan_slug.clone(),
            status: state.status.as_str().to_owned(),
            price: state.price.as_ref().map(PriceRecord::of),
            content_tags: state.content_tags.clone(),
            period_start: state.period_start,
            period_end: state.period_end,
            cancels_at: state.cancels_at,
            waitlist_position: None,
            offer_expires_at: state.offer_expires_at,
            reminded: state.reminded.map(|(period_end, days_before)| Reminded {
                period_end,
                days_before,
            }),
            joined_at: state.opened_at,
            ended_at: state.ended_at,
            position,
        })
    }

    pub fn status(&self) -> MembershipStatus {
        MembershipStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == self.status)
            .unwrap_or_default()
    }

    /// The reminder due at `now` (the domain's [`reminder_due`] on what the record keeps).
    pub fn reminder_due(&self, offsets: &[u32], now: DateTime<Utc>) -> Option<u32> {
        let state = MembershipState {
            status: self.status(),
            period_end: self.period_end,
            cancels_at: self.cancels_at,
            reminded: self.reminded.map(|r| (r.period_end, r.days_before)),
            ..MembershipState::default()
        };
        reminder_due(&state, offsets, now)
    }

    /// Whether it grants `content_tag` at `at` (the domain's rule on the recorded period).
    pub fn grants(&self, content_tag: &str, at: DateTime<Utc>) -> bool {
        self.content_tags.iter().any(|t| t == content_tag)
            && grants_access(self.status(), self.period_start, self.period_end, at)
    }
}

impl ReadModels {
    /// The member's memberships, oldest first.
    pub async fn memberships_of(
        &self,
        member_id: Uuid,
    ) -> Result<Vec<MembershipRecord>, ProjectionError> {
        let rows = self
            .db()
            .query(
                "SELECT record FROM memberships_v1 WHERE member_id = $1 ORDER BY membership_id",
                vec![Val::id(member_id)],
            )
            .await?;
        rows.iter().map(|row| record(row)).collect()
    }

    /// Memberships whose period ends after `now` and by `until`, still active or past due,
    /// oldest end first: those a reminder run looks at.
    pub async fn memberships_ending(
        &self,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<MembershipRecord>, ProjectionError> {
        let rows = self
            .db()
            .query(
                "SELECT record FROM memberships_v1 WHERE period_end > $1 AND period_end <= $2 \
                 AND status IN ('active', 'past_due') ORDER BY period_end, membership_id",
                vec![Val::time(now), Val::time(until)],
            )
            .await?;
        rows.iter().map(|row| record(row)).collect()
    }

    /// Active memberships whose period ended at or before `now`: a period end the timer that
    /// settles it has not handled yet (it is late, or was lost), oldest first.
    pub async fn memberships_overdue(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<MembershipRecord>, ProjectionError> {
        let rows = self
            .db()
            .query(
                "SELECT record FROM memberships_v1 WHERE period_end <= $1 AND status = 'active' \
                 ORDER BY period_end, membership_id",
                vec![Val::time(now)],
            )
            .await?;
        rows.iter().map(|row| record(row)).collect()
    }

    /// Every membership, read whole: what a plain scan of the read model costs (the reminder
    /// benchmark's baseline).
    pub async fn all_memberships(&self) -> Result<Vec<MembershipRecord>, ProjectionError> {
        let rows = self
            .db()
            .query("SELECT record FROM memberships_v1", Vec::new())
            .await?;
        rows.iter().map(|row| record(row)).collect()
    }

    /// The member's memberships that grant `content_tag` at `at`.
    pub async fn content_access(
        &self,
        member_id: Uuid,
        content_tag: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<MembershipRecord>, ProjectionError> {
        let mut records = self.memberships_of(member_id).await?;
        records.retain(|r| r.grants(content_tag, at));
        Ok(records)
    }
}

fn record(row: &[Val]) -> Result<MembershipRecord, ProjectionError> {
    let text = row
        .first()
        .and_then(Val::as_text)
        .ok_or_else(|| ProjectionError::Corrupt("memberships_v1.record".into()))?;
    serde_json::from_str(text)
        .map_err(|e| ProjectionError::Corrupt(format!("memberships_v1.record: {e}")))
}
