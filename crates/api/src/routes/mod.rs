//! The routes, one module per resource. `routes()` is the whole table.

pub mod audit;
pub mod check;
pub mod hosted;
pub mod members;
pub mod memberships;
pub mod ops;
pub mod orgs;
pub mod payments;
pub mod plans;
pub mod reports;
pub mod webhooks;

use axum::Json;
use axum::Router;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use roster_store::Position;
use serde::Serialize;

use crate::ApiState;

/// Every command answer carries the global position it wrote (or, when it wrote nothing, the
/// position of the state it decided on) in this header and, where there is a body, in the
/// body's `position`: a read at that position sees the command's effects.
pub const POSITION_HEADER: &str = "roster-position";

/// Health and metrics: what every process serves, whatever its role.
pub fn ops_routes() -> Router<ApiState> {
    Router::new()
        .route("/health/live", get(ops::live))
        .route("/health/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
}

pub fn routes() -> Router<ApiState> {
    ops_routes()
        .route("/v1/openapi.json", get(ops::openapi))
        .route("/confirm", get(hosted::confirm_page).post(hosted::confirm))
        .route("/claim", get(hosted::claim_page).post(hosted::claim))
        .route("/v1/members", post(members::register).get(members::list))
        .route("/v1/members/confirm", post(members::confirm))
        .route(
            "/v1/members/{member}",
            get(members::get)
                .patch(members::edit)
                .delete(members::erase),
        )
        .route(
            "/v1/members/{member}/referral-code",
            get(members::referral_code),
        )
        .route(
            "/v1/members/{member}/memberships",
            post(memberships::join).get(memberships::list),
        )
        .route(
            "/v1/memberships/{membership}",
            get(memberships::get).delete(memberships::cancel),
        )
        .route(
            "/v1/memberships/{membership}/claim",
            post(memberships::claim),
        )
        .route(
            "/v1/memberships/{membership}/payment-method",
            put(memberships::change_method),
        )
        .route("/v1/members/{member}/suspend", post(members::suspend))
        .route("/v1/members/{member}/reactivate", post(members::reactivate))
        .route(
            "/v1/members/{member}/verification-email",
            post(members::resend_verification),
        )
        .route("/v1/orgs", post(orgs::create))
        .route("/v1/orgs/{org}", get(orgs::get))
        .route("/v1/orgs/{org}/seat-limit", put(orgs::change_seat_limit))
        .route(
            "/v1/orgs/{org}/package",
            put(orgs::change_package).delete(orgs::end_package),
        )
        .route("/v1/orgs/{org}/members", post(orgs::add_member))
        .route(
            "/v1/orgs/{org}/members/{member}",
            delete(orgs::remove_member),
        )
        .route(
            "/v1/orgs/{org}/members/{member}/roles",
            post(orgs::assign_role),
        )
        .route(
            "/v1/orgs/{org}/members/{member}/roles/{role}",
            delete(orgs::revoke_role),
        )
        .route("/v1/orgs/{org}/roles", post(orgs::define_role))
        .route("/v1/orgs/{org}/groups", post(orgs::create_group))
        .route(
            "/v1/orgs/{org}/groups/{group}/roles",
            post(orgs::grant_group_role),
        )
        .route(
            "/v1/orgs/{org}/groups/{group}/roles/{role}",
            delete(orgs::revoke_group_role),
        )
        .route(
            "/v1/orgs/{org}/groups/{group}/members",
            post(orgs::join_group),
        )
        .route(
            "/v1/orgs/{org}/groups/{group}/members/{member}",
            delete(orgs::leave_group),
        )
        .route("/v1/payments", post(payments::request).get(payments::list))
        .route("/v1/payments/offline", post(payments::record_offline))
        .route("/v1/payments/{payment}", get(payments::get))
        .route("/v1/payments/{payment}/refunds", post(payments::refund))
        .route(
            "/v1/payments/{payment}/payment-method",
            put(payments::change_method),
        )
        .route("/v1/plans", get(plans::list))
        .route("/v1/plans/{slug}", put(plans::define).get(plans::get))
        .route("/v1/plans/{slug}/retire", post(plans::retire))
        .route("/v1/webhooks/stripe", post(webhooks::stripe))
        .route("/v1/check", get(check::check))
        .route("/v1/audit", get(audit::audit))
        .route("/v1/reports/memberships", get(reports::memberships))
        .route("/v1/reports/access-review", get(reports::access_review))
}

/// How long a read waits for a read model to reach `min_position`.
const READ_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Waits until `projection` has applied the log up to `min_position` (read-your-writes).
pub async fn wait_for(
    state: &ApiState,
    projection: &str,
    min_position: Option<Position>,
) -> Result<(), crate::problem::ApiError> {
    if let Some(min_position) = min_position {
        state
            .read_models()
            .wait_for(projection, min_position, READ_WAIT)
            .await?;
    }
    Ok(())
}

/// A command's answer: `status`, the body, and the position header.
pub fn written<T: Serialize>(status: StatusCode, position: Position, body: T) -> Response {
    with_position((status, Json(body)).into_response(), position)
}

/// A command's answer without a body (204).
pub fn written_empty(position: Position) -> Response {
    with_position(StatusCode::NO_CONTENT.into_response(), position)
}

fn with_position(mut response: Response, position: Position) -> Response {
    if let Ok(value) = HeaderValue::from_str(&position.to_string()) {
        response.headers_mut().insert(POSITION_HEADER, value);
    }
    response
}
