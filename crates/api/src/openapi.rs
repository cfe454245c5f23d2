//! The OpenAPI document, generated from the handlers' annotations and checked in as
//! `schemas/openapi.json` (a test fails when it is stale; `ROSTER_UPDATE_SCHEMAS=1` rewrites).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::problem::{Problem, ProblemType};
use crate::routes::{
    audit, check, members, memberships, ops, orgs, payments, plans, reports, webhooks,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roster",
        description = "Event-sourced membership backend. Errors are `application/problem+json` \
            whose `type` is one of the `ProblemType` slugs. Every command accepts \
            `Idempotency-Key` and answers with the global log `position` it wrote.",
        license(name = "Apache-2.0")
    ),
    paths(
        ops::live, ops::ready, ops::metrics, ops::openapi,
        members::register, members::verification::confirm, members::get, members::referral_code, members::list::list, members::edit,
        members::suspend, members::reactivate, members::erase, members::verification::resend_verification,
        orgs::create, orgs::view::get, orgs::change_seat_limit, orgs::change_package, orgs::end_package, orgs::add_member, orgs::remove_member,
        orgs::assign_role, orgs::revoke_role, orgs::define_role, orgs::groups::create_group,
        orgs::groups::grant_group_role, orgs::groups::revoke_group_role, orgs::groups::join_group, orgs::groups::leave_group,
        payments::request, payments::record_offline, payments::get, payments::list, payments::refund, payments::change_method, webhooks::stripe,
        plans::define, plans::get, plans::list, plans::retire,
        memberships::join, memberships::get, memberships::list, memberships::cancel, memberships::claim,
        memberships::change_method,
        check::check, audit::audit, reports::memberships, reports::access_review,
    ),
    components(schemas(Problem, ProblemType)),
    modifiers(&ApiKeyAuth),
    tags(
        (name = "members", description = "Registration, double opt-in, profile, lifecycle, erasure"),
        (name = "orgs", description = "Organizations, seats, roles, groups"),
        (name = "payments", description = "Card payments with re-attempts, refunds, offline payments"),
        (name = "plans", description = "Membership levels: prices, capacity and waiting list, content"),
        (name = "memberships", description = "Joining plans, waiting lists and offers, cancelling"),
        (name = "permissions", description = "Permission and content checks, permissions also at a past instant"),
        (name = "audit", description = "Who did what, from the log"),
        (name = "reports", description = "Members per plan, joins and cancellations, revenue, waiting lists; the access review"),
        (name = "operations", description = "Health, metrics, this document"),
    )
)]
pub struct ApiDoc;

/// `Authorization: Bearer <key>`; the scopes a route needs are listed in its security block.
struct ApiKeyAuth;

impl Modify for ApiKeyAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key from `roster keys create`; scopes: commands, queries, operator",
                    ))
                    .build(),
            ),
        );
    }
}

/// The document as checked in: pretty JSON with a final newline.
pub fn document() -> String {
    let json = ApiDoc::openapi().to_pretty_json().unwrap_or_default();
    format!("{json}\n")
}
