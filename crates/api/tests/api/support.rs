//! `spawn_api()`: a fresh store, side tables and API keys per test, on a manual clock.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use chrono::Utc;
use http_body_util::BodyExt;
use roster_api::ApiState;
use roster_app::apikeys::{self, Scope};
use roster_app::clock::ManualClock;
use roster_app::sidedb::SideDb;
use roster_app::testing::{self, TestRoster};
use roster_app::{CommandHandler, Roster};
use roster_domain::Member;
use roster_projections::{Projections, ReadModels, RunnerConfig};
use roster_store::DynLog;
use serde_json::{Value, json};
use tempfile::TempDir;
use tower::ServiceExt;
use uuid::Uuid;

pub use roster_app::testing::Backend;

pub struct TestApi {
    pub router: Router,
    pub roster: Roster,
    pub store: DynLog,
    pub side: SideDb,
    pub clock: Arc<ManualClock>,
    /// commands + queries + operator.
    pub key: String,
    pub queries_key: String,
    pub commands_key: String,
    pub commands: CommandHandler,
    _projections: Projections,
    _dir: TempDir,
}

/// A response, read whole.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    pub fn problem_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }

    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected answer: {}",
            self.body
        );
        &self.body
    }

    #[track_caller]
    pub fn expect_problem(&self, status: u16, slug: &str) -> &Value {
        assert_eq!(
            (self.status.as_u16(), self.problem_type()),
            (status, slug),
            "unexpected answer: {}",
            self.body
        );
        let content_type = self.headers["content-type"].to_str().unwrap();
        assert_eq!(content_type, "application/problem+json");
        &self.body
    }
}

pub async fn spawn_api(backend: Backend) -> TestApi {
    spawn_api_with_limit(backend, roster_api::DEFAULT_BODY_LIMIT).await
}

pub async fn spawn_api_with_limit(backend: Backend, body_limit: usize) -> TestApi {
    spawn_api_with(backend, |s| s.body_limit = body_limit, None).await
}

/// An API over Roster opened with settings changed by `adjust`.
pub async fn spawn_api_with_settings(
    backend: Backend,
    adjust: impl FnOnce(&mut roster_app::Settings),
) -> TestApi {
    spawn_api_with(backend, adjust, None).await
}

/// An API whose readiness also asks `probe` (as `roster serve` asks the projections).
pub async fn spawn_api_with_probe(backend: Backend, probe: roster_api::probe::Probe) -> TestApi {
    spawn_api_with(backend, |_| {}, Some(probe)).await
}

async fn spawn_api_with(
    backend: Backend,
    adjust: impl FnOnce(&mut roster_app::Settings),
    probe: Option<roster_api::probe::Probe>,
) -> TestApi {
    let TestRoster { roster, clock, dir } = testing::open_with(backend, adjust).await;
    let projections = Projections::start(&roster, RunnerConfig::default())
        .await
        .unwrap();
    let read_models = ReadModels::open(&roster).await.unwrap();
    let mut state = ApiState::new(roster.clone(), read_models);
    if let Some(probe) = probe {
        state = state.with_probe(probe);
    }
    let router = roster_api::router(state);
    let side = roster.side.clone();
    let key = new_key(&side, &Scope::ALL).await;
    let queries_key = new_key(&side, &[Scope::Queries]).await;
    let commands_key = new_key(&side, &[Scope::Commands]).await;
    TestApi {
        router,
        store: roster.log.clone(),
        side,
        clock,
        key,
        queries_key,
        commands_key,
        commands: roster.commands.clone(),
        roster,
        _projections: projections,
        _dir: dir,
    }
}

pub async fn new_key(side: &SideDb, scopes: &[Scope]) -> String {
    apikeys::create(side, "test", scopes, Uuid::now_v7(), Utc::now())
        .await
        .unwrap()
        .secret
}

/// A request under construction.
pub struct Call<'a> {
    api: &'a TestApi,
    request: axum::http::request::Builder,
    body: Body,
}

impl TestApi {
    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.key));
        Call {
            api: self,
            request,
            body: Body::empty(),
        }
    }

    pub fn get(&self, path: &str) -> Call<'_> {
        self.call(Method::GET, path)
    }

    pub fn post(&self, path: &str, body: Value) -> Call<'_> {
        self.call(Method::POST, path).json(body)
    }

    pub fn delete(&self, path: &str) -> Call<'_> {
        self.call(Method::DELETE, path)
    }

    pub async fn head(&self) -> u64 {
        self.store.head().await.unwrap()
    }

    /// Registers and confirms a member; returns the id.
    pub async fn active_member(&self, email: &str) -> Uuid {
        let member = self.register(email).await;
        let token = self.token_for(member).await;
        self.post("/v1/members/confirm", json!({ "token": token }))
            .send()
            .await
            .expect(200);
        member
    }

    pub async fn register(&self, email: &str) -> Uuid {
        let answer = self
            .post(
                "/v1/members",
                json!({ "email": email, "name": "Test Person" }),
            )
            .send()
            .await;
        answer.expect(201);
        Uuid::parse_str(answer.body["member_id"].as_str().unwrap()).unwrap()
    }

    /// The member's newest verification token, rebuilt from the nonce in their stream as the
    /// mailer does (the mail itself is the workers' business, tested there).
    pub async fn token_for(&self, member: Uuid) -> String {
        let loaded = self.commands.load::<Member>(member).await.unwrap();
        let nonce = loaded
            .state
            .verification
            .expect("a verification token")
            .nonce;
        self.roster.members.tickets().token(member, &nonce)
    }

    pub async fn org(&self, owner: Uuid, seat_limit: u32) -> Uuid {
        let answer = self
            .post(
                "/v1/orgs",
                json!({ "name": "Acme", "owner_id": owner, "seat_limit": seat_limit }),
            )
            .send()
            .await;
        answer.expect(201);
        Uuid::parse_str(answer.body["org_id"].as_str().unwrap()).unwrap()
    }

    /// `POST /v1/orgs/{org}/members` by `actor`: the answer, whatever it is.
    pub async fn add_to_org(&self, org: Uuid, actor: Uuid, member: Uuid, role: &str) -> Answer {
        self.post(
            &format!("/v1/orgs/{org}/members"),
            json!({ "member_id": member, "role": role }),
        )
        .actor(actor)
        .send()
        .await
    }
}

impl Call<'_> {
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    pub fn key(mut self, key: &str) -> Self {
        if let Some(headers) = self.request.headers_mut() {
            headers.insert("authorization", format!("Bearer {key}").parse().unwrap());
        }
        self
    }

    pub fn without_key(mut self) -> Self {
        if let Some(headers) = self.request.headers_mut() {
            headers.remove("authorization");
        }
        self
    }

    pub fn actor(self, member: Uuid) -> Self {
        self.header("x-roster-actor", &member.to_string())
    }

    pub fn idempotency_key(self, key: &str) -> Self {
        self.header("idempotency-key", key)
    }

    pub fn json(mut self, body: Value) -> Self {
        self.request = self.request.header("content-type", "application/json");
        self.body = Body::from(body.to_string());
        self
    }

    pub fn raw(mut self, content_type: &str, body: impl Into<Body>) -> Self {
        self.request = self.request.header("content-type", content_type);
        self.body = body.into();
        self
    }

    pub async fn send(self) -> Answer {
        let request = self.request.body(self.body).unwrap();
        let response = self.api.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Answer {
            status,
            headers,
            body,
        }
    }
}
