//! The real `roster` binary against a fresh data dir.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use std::sync::Arc;

use roster_app::clock::{SystemClock, V7Ids};
use roster_app::members::Registration;
use roster_app::{CommandMeta, Settings};
use roster_store::ActorRef;
use uuid::Uuid;

fn roster(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("ROSTER_DATABASE_URL")
        .env_remove("ROSTER_MASTER_KEY");
    command
}

/// Registers a member in the data dir the way the binary opens it (its master key file).
async fn register(data_dir: &Path, email: &str) -> Uuid {
    let settings = Settings::in_dir(data_dir);
    let roster = roster_app::open(settings, Arc::new(SystemClock), Arc::new(V7Ids))
        .await
        .unwrap();
    let form = Registration {
        email: email.into(),
        name: "Ada".into(),
        ..Registration::default()
    };
    let meta = CommandMeta::new(ActorRef::System);
    let handled = roster.members.register(form, &meta).await.unwrap();
    handled.state.member_id.unwrap()
}

#[test]
fn migrate_creates_the_database_and_the_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let stdout = stdout_of(dir.path(), &["migrate"]);
    assert!(stdout.contains("head position 0"));
    assert!(dir.path().join("roster.db").exists());
    assert!(dir.path().join("master.key").exists());
}

#[tokio::test]
async fn events_list_prints_the_log_sealed_unless_asked_to_decrypt() {
    let dir = tempfile::tempdir().unwrap();
    let member_id = register(dir.path(), "ada@example.com").await;

    let stdout = stdout_of(dir.path(), &["events", "list", "--json"]);
    let line: serde_json::Value = serde_json::from_str(stdout.lines().next().unwrap()).unwrap();
    assert_eq!(line["type"], "MemberRegistered.v1");
    assert_eq!(line["stream"], format!("member-{member_id}"));
    assert_eq!(line["position"], 1);
    assert!(!stdout.contains("ada@example.com"));

    let stdout = stdout_of(dir.path(), &["events", "list", "--json", "--decrypt"]);
    assert!(stdout.contains("ada@example.com"), "{stdout}");

    let stdout = stdout_of(dir.path(), &["events", "list", "--stream", "member-none"]);
    assert!(stdout.is_empty());

    let stdout = stdout_of(dir.path(), &["events", "list"]);
    assert!(
        stdout.contains("MemberRegistered.v1") && stdout.contains(&format!("member-{member_id}@0")),
        "{stdout}"
    );
}

#[tokio::test]
async fn events_tail_catches_up_then_prints_events_as_they_are_appended() {
    let dir = tempfile::tempdir().unwrap();
    // A registration appends two events: the member, and their first verification token.
    register(dir.path(), "first@example.com").await;
    let mut tail = roster(dir.path())
        .args(["events", "tail", "--json", "--after", "2"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    let mut next_stream = move || {
        let line = lines.next().unwrap().unwrap();
        serde_json::from_str::<serde_json::Value>(&line).unwrap()["stream"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let second = register(dir.path(), "second@example.com").await;
    let streams = [next_stream(), next_stream()];
    // The tail has printed, so it is running: this one can only reach it live.
    let third = register(dir.path(), "third@example.com").await;
    let live = [next_stream(), next_stream()];
    tail.kill().unwrap();
    tail.wait().unwrap();
    assert_eq!(streams, [(); 2].map(|()| format!("member-{second}")));
    assert_eq!(live, [(); 2].map(|()| format!("member-{third}")));
}

#[test]
fn a_database_url_that_is_not_postgres_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let output = roster(dir.path())
        .args(["--database-url", "mysql://x", "migrate"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("postgres://"));
}

#[tokio::test]
async fn replay_rebuilds_the_read_models_and_status_reports_them_caught_up() {
    let dir = tempfile::tempdir().unwrap();
    for email in ["a@example.com", "b@example.com", "c@example.com"] {
        register(dir.path(), email).await;
    }
    let stdout = stdout_of(dir.path(), &["replay", "--dry-run"]);
    assert!(stdout.contains("dry run: 6 events"), "{stdout}");
    let stdout = stdout_of(dir.path(), &["replay"]);
    assert!(stdout.contains("from 6 events"), "{stdout}");

    let status = projections_status(dir.path());
    assert_eq!(
        status.len(),
        5,
        "accounts, audit, payments, plans, memberships: {status:?}"
    );
    for projection in &status {
        assert_eq!(projection["position"], 6, "{projection}");
        assert_eq!(projection["lag_events"], 0, "{projection}");
        assert_eq!(projection["state"], "running", "{projection}");
    }
}

#[tokio::test]
async fn a_held_projection_shows_as_held_until_released() {
    let dir = tempfile::tempdir().unwrap();
    register(dir.path(), "a@example.com").await;
    stdout_of(dir.path(), &["projections", "hold", "accounts_v1"]);
    let held = projections_status(dir.path());
    let accounts = held.iter().find(|p| p["name"] == "accounts_v1").unwrap();
    assert_eq!(accounts["state"], "held");
    assert_eq!(accounts["lag_events"], 2, "the registration and its token");

    stdout_of(dir.path(), &["projections", "release", "accounts_v1"]);
    let released = projections_status(dir.path());
    let accounts = released
        .iter()
        .find(|p| p["name"] == "accounts_v1")
        .unwrap();
    assert_eq!(accounts["state"], "running");

    let output = roster(dir.path())
        .args(["projections", "hold", "no_such_v1"])
        .output()
        .unwrap();
    assert!(!output.status.success(), "an unknown projection is refused");
}

fn projections_status(data_dir: &Path) -> Vec<serde_json::Value> {
    let stdout = stdout_of(data_dir, &["projections", "status", "--json"]);
    serde_json::from_str(&stdout).unwrap()
}

/// Runs `roster` with `args` on the data dir, asserts it succeeded, returns what it printed.
fn stdout_of(data_dir: &Path, args: &[&str]) -> String {
    let output = roster(data_dir).args(args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn codes_generate_prints_a_batch_once_as_csv_and_the_codes_join_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let member = register(dir.path(), "coder@example.com").await;
    {
        let settings = Settings::in_dir(dir.path());
        let roster = roster_app::open(settings, Arc::new(SystemClock), Arc::new(V7Ids))
            .await
            .unwrap();
        let definition = roster_app::plans::PlanDefinition {
            name: "Gold".into(),
            prices: vec![roster_domain::plan::Price {
                currency: "EUR".into(),
                amount: 900,
                interval: roster_domain::plan::Interval::Month,
            }],
            capacity: None,
            seat_limit: None,
            content_tags: Vec::new(),
            claim_window_hours: None,
        };
        let meta = CommandMeta::new(ActorRef::System);
        roster
            .plans
            .define("gold", definition, &meta)
            .await
            .unwrap();
    }
    let csv = stdout_of(
        dir.path(),
        &[
            "codes", "generate", "--plan", "gold", "--count", "3", "--uses", "2",
        ],
    );
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "code,plan,uses,expires_at");
    assert_eq!(lines.len(), 4, "{csv}");
    let code = lines[1].split(',').next().unwrap();
    assert!(lines[1].ends_with(",gold,2,"), "{csv}");
    // Stored hashed only: the code is nowhere in the data dir.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(code), "{} holds a code", path.display());
        }
    }
    let settings = Settings::in_dir(dir.path());
    let opened = roster_app::open(settings, Arc::new(SystemClock), Arc::new(V7Ids))
        .await
        .unwrap();
    let request = roster_app::memberships::JoinRequest {
        plan: "gold".into(),
        currency: None,
        payment_method: None,
        access_code: Some(code.to_owned()),
        client: None,
    };
    let meta = CommandMeta::new(ActorRef::System);
    let joined = opened
        .memberships
        .join(member, request, &meta)
        .await
        .unwrap();
    assert_eq!(
        joined.state.status,
        roster_domain::membership::MembershipStatus::Active
    );
    // An unknown plan is refused with a message.
    let output = roster(dir.path())
        .args(["codes", "generate", "--plan", "tin", "--count", "1"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("plan tin not found"));
}

#[tokio::test]
async fn remind_run_lists_what_is_due_and_stores_each_reminder_once() {
    use roster_domain::membership::{
        ActivateMembership, JoinStanding, MembershipCommand, OpenMembership,
    };
    use roster_domain::plan::{Interval, Price};
    let dir = tempfile::tempdir().unwrap();
    let member = register(dir.path(), "reminded@example.com").await;
    let end = {
        let settings = Settings::in_dir(dir.path());
        let roster = roster_app::open(settings, Arc::new(SystemClock), Arc::new(V7Ids))
            .await
            .unwrap();
        let (membership, payment) = (Uuid::now_v7(), Uuid::now_v7());
        let meta = CommandMeta::new(ActorRef::System);
        let open = MembershipCommand::Open(OpenMembership {
            membership_id: membership,
            member_id: member,
            plan_id: Uuid::now_v7(),
            plan_slug: "gold".into(),
            price: Some(Price {
                currency: "EUR".into(),
                amount: 900,
                interval: Interval::Month,
            }),
            content_tags: Vec::new(),
            standing: JoinStanding::Placed,
            payment_id: Some(payment),
            payment_method: Some("pm_card_visa".into()),
            access_code_batch: None,
        });
        let commands = &roster.commands;
        let execute =
            |command| commands.execute::<roster_domain::Membership>(membership, command, &meta);
        execute(&open).await.unwrap();
        let activate = MembershipCommand::Activate(ActivateMembership {
            payment_id: Some(payment),
        });
        execute(&activate).await.unwrap().state.period_end.unwrap()
    };
    stdout_of(dir.path(), &["replay"]);
    let at = (end - chrono::Duration::days(7) + chrono::Duration::hours(1)).to_rfc3339();
    let listed = stdout_of(
        dir.path(),
        &["remind", "run", "--dry-run", "--now", &at, "--json"],
    );
    let report: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(report["due"][0]["days_before"], 7, "{report}");
    assert_eq!(report["enqueued"], 0);
    let stored = stdout_of(dir.path(), &["remind", "run", "--now", &at]);
    assert!(
        stored.contains("1 due of 1") && stored.contains("1 stored"),
        "{stored}"
    );
    let again = stdout_of(dir.path(), &["remind", "run", "--now", &at]);
    assert!(again.contains("0 stored"), "{again}");
    let early = (end - chrono::Duration::days(8)).to_rfc3339();
    let none = stdout_of(dir.path(), &["remind", "run", "--dry-run", "--now", &early]);
    assert!(none.contains("0 due of 0"), "{none}");
}

#[tokio::test]
async fn report_access_review_lists_an_idle_owner_as_a_table_and_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let owner = register(dir.path(), "owner@example.com").await;
    {
        let settings = Settings::in_dir(dir.path());
        let roster = roster_app::open(settings, Arc::new(SystemClock), Arc::new(V7Ids))
            .await
            .unwrap();
        let org = roster_app::NewOrg {
            name: "Acme".into(),
            owner_id: owner,
            seat_limit: 3,
        };
        let meta = CommandMeta::new(ActorRef::System);
        roster.orgs.create(org, &meta).await.unwrap();
    }
    stdout_of(dir.path(), &["replay"]);
    let later = (chrono::Utc::now() + chrono::Duration::days(100)).to_rfc3339();
    let table = stdout_of(dir.path(), &["report", "access-review", "--now", &later]);
    assert!(table.contains("privileged roles: 1"), "{table}");
    assert!(
        table.contains(&owner.to_string()) && table.contains("owner"),
        "{table}"
    );
    assert!(
        table.contains("Acme") && table.contains("read from audit_v1"),
        "{table}"
    );
    let json = stdout_of(
        dir.path(),
        &[
            "report",
            "access-review",
            "--inactive-days",
            "30",
            "--now",
            &later,
            "--json",
        ],
    );
    let review: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(review["members"][0]["member_id"], owner.to_string());
    assert_eq!(review["members"][0]["roles"][0]["role"], "owner");
    let now = stdout_of(dir.path(), &["report", "access-review", "--json"]);
    let review: serde_json::Value = serde_json::from_str(&now).unwrap();
    assert_eq!(review["members"], serde_json::json!([]), "active today");

    let memberships = stdout_of(dir.path(), &["report", "memberships"]);
    assert!(
        memberships.contains("PLAN") && memberships.contains("CURRENCY"),
        "{memberships}"
    );
    let json = stdout_of(dir.path(), &["report", "memberships", "--json"]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(report["by_plan_and_status"], serde_json::json!([]));
    let output = roster(dir.path())
        .args(["report", "access-review", "--inactive-days", "0"])
        .output()
        .unwrap();
    assert!(!output.status.success());
}
