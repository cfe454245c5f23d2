//! Pages where mailed links land, for deployments whose `ROSTER_PUBLIC_URL` points at Roster
//! itself (the embedded default): `GET /confirm?token=…` says what the button will do and
//! changes nothing (mail scanners open links), `POST /confirm` confirms and says so. An
//! upstream app replaces these with its own pages by pointing `ROSTER_PUBLIC_URL` at itself.
//!
//! No API key: the token is the credential. It stays out of logs (requests are logged by their
//! route, never by their query) and out of `Referer` (`Referrer-Policy: no-referrer`, and the
//! form posts the token in its body, not in a URL). Failed confirmations count per client as
//! for the API (`roster_app::members::Client`): the caller is the peer address, the end user
//! the last `X-Forwarded-For` entry (what a proxy in front of Roster saw), else the peer.

use std::net::SocketAddr;

use axum::extract::connect_info::ConnectInfo;
use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use roster_app::members::Client;
use roster_app::{AppError, CommandMeta};
use roster_domain::DomainError;
use roster_domain::membership::MembershipStatus;
use roster_store::ActorRef;
use serde::Deserialize;

use super::members::verification::forwarded_for;
use crate::ApiState;

/// The link's query, and the form's body.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub token: String,
}

/// The page behind the mailed link: what will happen, and the button that does it.
pub async fn confirm_page(Query(link): Query<TokenForm>) -> Response {
    let token = link.token.trim();
    if !looks_like_a_token(token) {
        return page(StatusCode::BAD_REQUEST, Page::Unusable);
    }
    page(StatusCode::OK, Page::Confirm { token })
}

/// The button: confirms the email address the token was sent to.
pub async fn confirm(
    State(state): State<ApiState>,
    client: Browser,
    Form(form): Form<TokenForm>,
) -> Response {
    let meta = CommandMeta::new(ActorRef::App("hosted-page".into()));
    let members = &state.roster().members;
    match members.confirm(form.token.trim(), &client.0, &meta).await {
        Ok(_) => page(StatusCode::OK, Page::Confirmed),
        Err(AppError::Domain(DomainError::InvalidToken { .. })) => {
            page(StatusCode::BAD_REQUEST, Page::Unusable)
        }
        Err(AppError::Domain(DomainError::InvalidState { .. })) => {
            page(StatusCode::CONFLICT, Page::NotNow)
        }
        Err(AppError::Throttled {
            retry_after_seconds,
            ..
        }) => {
            let mut answer = page(StatusCode::TOO_MANY_REQUESTS, Page::TooMany);
            answer
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_seconds));
            answer
        }
        Err(e) => {
            tracing::error!(error = %e, "the hosted confirmation failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, Page::Broken)
        }
    }
}

/// The page behind a waiting-list offer's link: which plan, until when, and the button.
pub async fn claim_page(State(state): State<ApiState>, Query(link): Query<TokenForm>) -> Response {
    let token = link.token.trim();
    if !looks_like_a_claim(token) {
        return page(StatusCode::BAD_REQUEST, Page::OfferGone);
    }
    let memberships = &state.roster().memberships;
    let offer = match memberships.offer_of_token(token).await {
        Ok(membership_id) => memberships.get(membership_id).await,
        Err(e) => Err(e),
    };
    match offer {
        Ok(view) => {
            let until = view
                .offer_expires_at
                .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default();
            let plan = view.state.plan_slug;
            page(
                StatusCode::OK,
                Page::Claim {
                    token,
                    plan: &plan,
                    until: &until,
                },
            )
        }
        Err(AppError::Domain(DomainError::InvalidToken { .. }) | AppError::NotFound { .. }) => {
            page(StatusCode::BAD_REQUEST, Page::OfferGone)
        }
        Err(e) => {
            tracing::error!(error = %e, "the hosted claim page failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, Page::Broken)
        }
    }
}

/// The button: takes the place held for the member.
pub async fn claim(State(state): State<ApiState>, Form(form): Form<TokenForm>) -> Response {
    let meta = CommandMeta::new(ActorRef::App("hosted-page".into()));
    let memberships = &state.roster().memberships;
    match memberships.claim_with_token(form.token.trim(), &meta).await {
        Ok(view) => page(
            StatusCode::OK,
            Page::Claimed {
                paying: view.state.status == MembershipStatus::PendingPayment,
            },
        ),
        Err(
            AppError::Domain(
                DomainError::InvalidToken { .. }
                | DomainError::NotFound { .. }
                | DomainError::InvalidState { .. },
            )
            | AppError::NotFound { .. },
        ) => page(StatusCode::BAD_REQUEST, Page::OfferGone),
        Err(AppError::Domain(DomainError::InvalidInput { .. })) => {
            page(StatusCode::CONFLICT, Page::NeedsMethod)
        }
        Err(e) => {
            tracing::error!(error = %e, "the hosted claim failed");
            page(StatusCode::INTERNAL_SERVER_ERROR, Page::Broken)
        }
    }
}

/// A claim token as Roster makes them: the membership id in hex, a dot, the MAC.
fn looks_like_a_claim(token: &str) -> bool {
    token
        .split_once('.')
        .is_some_and(|(id, mac)| id.len() == 32 && looks_like_a_token(mac))
}

/// A token as Roster makes them: URL-safe base64, 43 characters.
fn looks_like_a_token(token: &str) -> bool {
    (20..=100).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The browser confirming: its peer address (the caller), and the end user's address.
pub struct Browser(Client);

impl<St: Send + Sync> FromRequestParts<St> for Browser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &St) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip().to_string());
        let peer = peer.as_deref().unwrap_or("-");
        let user = forwarded_for(parts).unwrap_or(peer);
        Ok(Browser(Client::new(format!("hosted:{peer}"), Some(user))))
    }
}

enum Page<'a> {
    Confirm {
        token: &'a str,
    },
    Claim {
        token: &'a str,
        plan: &'a str,
        until: &'a str,
    },
    Claimed {
        paying: bool,
    },
    OfferGone,
    NeedsMethod,
    Confirmed,
    Unusable,
    NotNow,
    TooMany,
    Broken,
}

fn page(status: StatusCode, page: Page<'_>) -> Response {
    let (title, body) = match page {
        Page::Confirm { token } => (
            "Confirm your email address",
            format!(
                "<p>Press the button to confirm that this email address is yours. Your account \
                 becomes active at once.</p>\
                 <form method=\"post\" action=\"confirm\">\
                 <input type=\"hidden\" name=\"token\" value=\"{token}\">\
                 <button type=\"submit\">Confirm my email address</button></form>"
            ),
        ),
        Page::Claim { token, plan, until } => (
            "A place is free for you",
            format!(
                "<p>A place in <strong>{}</strong> is held for you until {until}. Press the \
                 button to take it.</p>\
                 <form method=\"post\" action=\"claim\">\
                 <input type=\"hidden\" name=\"token\" value=\"{token}\">\
                 <button type=\"submit\">Take my place</button></form>",
                escape(plan)
            ),
        ),
        Page::Claimed { paying: false } => (
            "The place is yours",
            "<p>Your membership is active. You may close this page.</p>".to_owned(),
        ),
        Page::Claimed { paying: true } => (
            "The place is yours",
            "<p>Your place is taken. Your membership starts as soon as the first payment goes \
             through; you will get a receipt by email.</p>"
                .to_owned(),
        ),
        Page::OfferGone => (
            "This offer cannot be used",
            "<p>The place was already taken, or the time to claim it has passed and it went to \
             the next person in line.</p>"
                .to_owned(),
        ),
        Page::NeedsMethod => (
            "A payment method is needed",
            "<p>This plan is paid, and no payment method is on file for you. Take the place \
             from the site that sent you the email.</p>"
                .to_owned(),
        ),
        Page::Confirmed => (
            "Email address confirmed",
            "<p>Thank you: your email address is confirmed and your account is active. You may \
             close this page.</p>"
                .to_owned(),
        ),
        Page::Unusable => (
            "This link cannot be used",
            "<p>The link has expired, was already used, or was replaced by a newer one. Ask for \
             a new confirmation email and use the link in it.</p>"
                .to_owned(),
        ),
        Page::NotNow => (
            "The account cannot be confirmed now",
            "<p>This account is not waiting for a confirmation at the moment. If you think this \
             is wrong, contact the site that sent you the email.</p>"
                .to_owned(),
        ),
        Page::TooMany => (
            "Too many attempts",
            "<p>There were too many failed confirmations from your connection. Wait a few \
             minutes, then try the link again.</p>"
                .to_owned(),
        ),
        Page::Broken => (
            "Something went wrong",
            "<p>Your confirmation could not be recorded just now. Try the link again in a \
             moment.</p>"
                .to_owned(),
        ),
    };
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><style>{STYLE}</style></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>"
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(*name, HeaderValue::from_static(value));
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// No referrer leaves the page, nothing may frame it, and it loads nothing from anywhere.
const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("referrer-policy", "no-referrer"),
    ("x-content-type-options", "nosniff"),
    (
        "content-security-policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
         frame-ancestors 'none'; base-uri 'none'",
    ),
];

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f6f7f9;margin:0}\
main{max-width:32rem;margin:4rem auto;padding:2rem;background:#fff;border-radius:8px;\
box-shadow:0 1px 3px #0002}h1{font-size:1.4rem}button{font-size:1rem;padding:.6rem 1.2rem;\
border:0;border-radius:6px;background:#2456d3;color:#fff;cursor:pointer}";

/// Text made safe to place in HTML.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
