//! Reading `plans_v1`, and the record of a plan both the read model and the plan's own stream
//! answer with.

use roster_domain::PlanState;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ReadModels;
use crate::ProjectionError;
use crate::rows::Val;

/// A price in one currency, in minor units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PriceRecord {
    pub currency: String,
    pub amount: u64,
    /// `month`, `year`, `once` or `free`.
    pub interval: String,
}

/// A plan as upstream apps see it: its terms and how full it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlanRecord {
    pub slug: String,
    pub name: String,
    pub prices: Vec<PriceRecord>,
    pub capacity: Option<u32>,
    pub seat_limit: Option<u32>,
    pub content_tags: Vec<String>,
    pub claim_window_hours: u32,
    pub retired: bool,
    pub places_taken: u32,
    /// Freed places held for someone in line.
    pub places_offered: u32,
    pub waitlist_length: u32,
    /// Global position of the plan's latest event.
    pub position: u64,
}

impl PriceRecord {
    pub fn of(price: &roster_domain::plan::Price) -> Self {
        Self {
            currency: price.currency.clone(),
            amount: price.amount,
            interval: serde_json::to_value(price.interval)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl PlanRecord {
    /// The record of `state` at `position`; `None` before the plan exists.
    pub fn of(state: &PlanState, position: u64) -> Option<Self> {
        let terms = state.terms.as_ref()?;
        Some(Self {
            slug: state.slug.clone(),
            name: terms.name.clone(),
            prices: terms.prices.iter().map(PriceRecord::of).collect(),
            capacity: terms.capacity,
            seat_limit: terms.seat_limit,
            content_tags: terms.content_tags.clone(),
            claim_window_hours: terms.claim_window_hours,
            retired: state.retired,
            places_taken: count(state.placed.len()),
            places_offered: count(state.offers.len()),
            waitlist_length: count(state.waiting.len()),
            position,
        })
    }
}

impl ReadModels {
    /// Every plan, by slug (retired ones too: they say so).
    pub async fn plans(&self) -> Result<Vec<PlanRecord>, ProjectionError> {
        let rows = self
            .db()
            .query("SELECT record FROM plans_v1 ORDER BY slug", Vec::new())
            .await?;
        rows.iter()
            .map(|row| {
                let text = row
                    .first()
                    .and_then(Val::as_text)
                    .ok_or_else(|| ProjectionError::Corrupt("plans_v1.record".into()))?;
                serde_json::from_str(text)
                    .map_err(|e| ProjectionError::Corrupt(format!("plans_v1.record: {e}")))
            })
            .collect()
    }
}
