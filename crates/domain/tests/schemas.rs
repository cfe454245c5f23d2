//! Keeps `schemas/events/*.json` and `schemas/commands/*.json` equal to the schemas the code
//! generates. Run with `ROSTER_UPDATE_SCHEMAS=1` to (re)write them and delete stale files.

// clippy.toml allows these inside `#[test]` functions only; the helpers of a test binary fail
// the test the same way, by panicking.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use roster_domain::{command_schemas, event_schemas};
use serde_json::Value;

fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas")
}

/// Pretty JSON with keys sorted at every level, so the files do not change when some other
/// crate in a workspace build turns on serde_json's `preserve_order` feature.
fn render(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(&sorted(schema)).unwrap();
    text.push('\n');
    text
}

fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let entries: BTreeMap<&String, Value> = map
                .iter()
                .map(|(key, value)| (key, sorted(value)))
                .collect();
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// The `.json` files in `dir`, by file name without extension.
fn files_in(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, fs::read_to_string(&path).unwrap())
        })
        .collect()
}

fn update(dir: &Path, expected: &BTreeMap<String, String>) {
    fs::create_dir_all(dir).unwrap();
    for name in files_in(dir)
        .keys()
        .filter(|name| !expected.contains_key(*name))
    {
        fs::remove_file(dir.join(format!("{name}.json"))).unwrap();
    }
    for (name, text) in expected {
        let path = dir.join(format!("{name}.json"));
        if fs::read_to_string(&path).ok().as_deref() != Some(text) {
            fs::write(path, text).unwrap();
        }
    }
}

/// Lists, one per line, every file that is stale, missing or extra.
fn differences(kind: &str, dir: &Path, expected: &BTreeMap<String, String>) -> Vec<String> {
    let actual = files_in(dir);
    let path = |name: &str| format!("schemas/{kind}/{name}.json");
    let mut problems = Vec::new();
    for (name, text) in expected {
        match actual.get(name) {
            None => problems.push(format!("missing: {}", path(name))),
            Some(found) if found != text => problems.push(format!("stale:   {}", path(name))),
            Some(_) => {}
        }
    }
    for name in actual.keys().filter(|name| !expected.contains_key(*name)) {
        problems.push(format!("extra:   {}", path(name)));
    }
    problems
}

fn check_dir(kind: &str, schemas: Vec<(&'static str, Value)>) {
    let dir = schemas_dir().join(kind);
    let expected: BTreeMap<String, String> = schemas
        .iter()
        .map(|(name, schema)| ((*name).to_owned(), render(schema)))
        .collect();
    assert_eq!(
        expected.len(),
        schemas.len(),
        "two {kind} schemas share a name"
    );
    if std::env::var_os("ROSTER_UPDATE_SCHEMAS").is_some_and(|v| v == "1") {
        update(&dir, &expected);
        return;
    }
    let problems = differences(kind, &dir, &expected);
    assert!(
        problems.is_empty(),
        "the {kind} schemas under schemas/ are out of date:\n  {}\n\
         rerun with ROSTER_UPDATE_SCHEMAS=1 (cargo test -p roster-domain --test schemas) \
         to regenerate them, then review and commit the changes",
        problems.join("\n  ")
    );
}

#[test]
fn event_schemas_are_current() {
    check_dir("events", event_schemas());
}

#[test]
fn command_schemas_are_current() {
    check_dir("commands", command_schemas());
}
