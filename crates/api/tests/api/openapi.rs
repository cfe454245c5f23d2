//! `schemas/openapi.json` is the served document; this test fails when it is stale
//! (`ROSTER_UPDATE_SCHEMAS=1` rewrites it). Every problem type is in it.

use roster_api::problem::ProblemType;

use crate::support::{Backend, spawn_api};

fn checked_in_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/openapi.json")
}

#[test]
fn the_checked_in_openapi_document_is_current() {
    let current = roster_api::openapi::document();
    let path = checked_in_path();
    if std::env::var_os("ROSTER_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &current).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == current,
        "schemas/openapi.json is stale; run `ROSTER_UPDATE_SCHEMAS=1 cargo test -p roster-api --test api openapi`"
    );
}

#[test]
fn every_problem_type_is_in_the_document() {
    let document = roster_api::openapi::document();
    for kind in ProblemType::all() {
        assert!(
            document.contains(&format!("\"{}\"", kind.slug())),
            "{} missing",
            kind.slug()
        );
    }
}

#[tokio::test]
async fn the_document_is_served_without_a_key() {
    let api = spawn_api(Backend::Sqlite).await;
    let served = api.get("/v1/openapi.json").without_key().send().await;
    let body = served.expect(200);
    assert!(body["paths"]["/v1/members"]["post"].is_object());
    assert!(body["paths"]["/v1/check"]["get"].is_object());
}

#[test]
fn every_slug_is_the_string_serde_writes() {
    for kind in ProblemType::all() {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.slug());
    }
    assert_eq!(ProblemType::all().count(), 30);
}

#[test]
fn only_answers_that_a_retry_could_change_are_transient() {
    let transient: Vec<_> = ProblemType::all().filter(|k| k.is_transient()).collect();
    assert_eq!(
        transient,
        [
            ProblemType::VersionConflict,
            ProblemType::NotReady,
            ProblemType::ProjectionBehind,
            ProblemType::RateLimited,
            ProblemType::Internal
        ]
    );
}
