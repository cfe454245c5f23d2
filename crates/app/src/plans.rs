//! The plan use cases: define (a PUT: create or change), read, retire. A plan's id derives from
//! its slug ([`plan_id`]), so the slug names one stream for good.

use roster_domain::plan::{DefinePlan, Price, RetirePlan, plan_id};
use roster_domain::{Plan, PlanCommand, PlanState};

use crate::{AppError, CommandHandler, CommandMeta, Handled, Loaded};

/// A plan's terms as an upstream app gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanDefinition {
    pub name: String,
    pub prices: Vec<Price>,
    pub capacity: Option<u32>,
    pub seat_limit: Option<u32>,
    pub content_tags: Vec<String>,
    pub claim_window_hours: Option<u32>,
}

/// The plan use cases. Cheap to clone.
#[derive(Clone)]
pub struct Plans {
    commands: CommandHandler,
}

impl Plans {
    pub fn new(commands: CommandHandler) -> Self {
        Self { commands }
    }

    /// Creates the plan `slug` or changes its terms; answers whether it was created.
    pub async fn define(
        &self,
        slug: &str,
        definition: PlanDefinition,
        meta: &CommandMeta,
    ) -> Result<(bool, Handled<Plan>), AppError> {
        let command = PlanCommand::Define(DefinePlan {
            slug: slug.to_owned(),
            name: definition.name,
            prices: definition.prices,
            capacity: definition.capacity,
            seat_limit: definition.seat_limit,
            content_tags: definition.content_tags,
            claim_window_hours: definition.claim_window_hours,
        });
        let handled = self
            .commands
            .execute::<Plan>(plan_id(slug), &command, meta)
            .await?;
        let created = handled
            .events
            .iter()
            .any(|e| matches!(e, roster_domain::PlanEvent::Defined(_)));
        Ok((created, handled))
    }

    /// The plan as its stream folds now; `NotFound` when no plan has this slug.
    pub async fn get(&self, slug: &str) -> Result<Loaded<PlanState>, AppError> {
        let loaded = self.commands.load::<Plan>(plan_id(slug)).await?;
        match loaded.state.exists() {
            true => Ok(loaded),
            false => Err(AppError::NotFound {
                what: format!("plan {slug}"),
            }),
        }
    }

    /// Stops new joins; memberships on the plan stay.
    pub async fn retire(&self, slug: &str, meta: &CommandMeta) -> Result<Handled<Plan>, AppError> {
        self.get(slug).await?;
        let command = PlanCommand::Retire(RetirePlan {});
        self.commands
            .execute::<Plan>(plan_id(slug), &command, meta)
            .await
    }
}
