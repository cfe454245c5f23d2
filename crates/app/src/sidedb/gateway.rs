//! What Roster keeps of the payment gateway beside the log: each member's customer there,
//! and the webhook deliveries already applied.

use chrono::{DateTime, Utc};
use roster_sql::{SqlError, Val, text_at};
use uuid::Uuid;

use super::{SideDb, millis};

impl SideDb {
    /// The member's customer at the gateway, if one was made.
    pub async fn gateway_customer(&self, member_id: Uuid) -> Result<Option<String>, SqlError> {
        let row = self
            .db
            .query_opt(
                "SELECT customer_id FROM gateway_customers WHERE member_id = $1",
                vec![Val::id(member_id)],
            )
            .await?;
        Ok(row.and_then(|row| text_at(&row, 0).map(str::to_owned)))
    }

    /// Records `customer_id` as the member's customer unless one is recorded already, and
    /// answers the one that stands (the first recorded wins a race).
    pub async fn link_gateway_customer(
        &self,
        member_id: Uuid,
        customer_id: &str,
        now: DateTime<Utc>,
    ) -> Result<String, SqlError> {
        self.db
            .execute(
                "INSERT INTO gateway_customers (member_id, customer_id, created_at) \
                 VALUES ($1, $2, $3) ON CONFLICT (member_id) DO NOTHING",
                vec![
                    Val::id(member_id),
                    Val::text(customer_id),
                    Val::Int(millis(now)),
                ],
            )
            .await?;
        Ok(self
            .gateway_customer(member_id)
            .await?
            .unwrap_or_else(|| customer_id.to_owned()))
    }

    /// `payment_method` as attached to the member's customer, if it was.
    pub async fn gateway_method(
        &self,
        member_id: Uuid,
        payment_method: &str,
    ) -> Result<Option<String>, SqlError> {
        let row = self
            .db
            .query_opt(
                "SELECT attached_id FROM gateway_methods WHERE member_id = $1 AND given_id = $2",
                vec![Val::id(member_id), Val::text(payment_method)],
            )
            .await?;
        Ok(row.and_then(|row| text_at(&row, 0).map(str::to_owned)))
    }

    /// Records `attached` as the member's attached copy of `payment_method` unless one is
    /// recorded already, and answers the one that stands.
    pub async fn link_gateway_method(
        &self,
        member_id: Uuid,
        payment_method: &str,
        attached: &str,
        now: DateTime<Utc>,
    ) -> Result<String, SqlError> {
        self.db
            .execute(
                "INSERT INTO gateway_methods (member_id, given_id, attached_id, created_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (member_id, given_id) DO NOTHING",
                vec![
                    Val::id(member_id),
                    Val::text(payment_method),
                    Val::text(attached),
                    Val::Int(millis(now)),
                ],
            )
            .await?;
        Ok(self
            .gateway_method(member_id, payment_method)
            .await?
            .unwrap_or_else(|| attached.to_owned()))
    }

    /// Whether webhook event `id` was applied already.
    pub async fn webhook_seen(&self, id: &str) -> Result<bool, SqlError> {
        let row = self
            .db
            .query_opt(
                "SELECT 1 FROM webhook_events WHERE id = $1",
                vec![Val::text(id)],
            )
            .await?;
        Ok(row.is_some())
    }

    /// Records webhook event `id` as applied.
    pub async fn webhook_applied(
        &self,
        id: &str,
        event_type: &str,
        now: DateTime<Utc>,
    ) -> Result<(), SqlError> {
        self.db
            .execute(
                "INSERT INTO webhook_events (id, event_type, received_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO NOTHING",
                vec![Val::text(id), Val::text(event_type), Val::Int(millis(now))],
            )
            .await
            .map(drop)
    }
}
