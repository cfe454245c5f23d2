//! `roster keys`: the secret is the last line and is stored only hashed; revoking by name.

use std::process::Command;

fn roster(dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command
        .arg("--data-dir")
        .arg(dir)
        .env_remove("ROSTER_DATABASE_URL")
        .env_remove("ROSTER_MASTER_KEY");
    command
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command.output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

#[test]
fn keys_are_shown_once_stored_hashed_and_revocable_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = run(roster(dir.path()).args([
        "keys",
        "create",
        "--name",
        "shop",
        "--scopes",
        "queries,commands",
    ]));
    assert!(ok, "{out}");
    let secret = out.lines().last().unwrap().trim().to_owned();
    assert!(secret.starts_with("roster_") && secret.len() > 40, "{out}");
    let needle = secret.as_bytes();
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            files += 1;
            let stored = std::fs::read(&path).unwrap();
            let found = stored.windows(needle.len()).any(|w| w == needle);
            assert!(!found, "the secret is stored in {}", path.display());
        }
    }
    assert!(files >= 2, "the database files exist");

    let (ok, listed) = run(roster(dir.path()).args(["keys", "list"]));
    assert!(
        ok && listed.contains("shop") && listed.contains("commands,queries"),
        "{listed}"
    );
    assert!(listed.contains("live") && !listed.contains(&secret));

    let (ok, out) = run(roster(dir.path()).args(["keys", "revoke", "shop"]));
    assert!(ok, "{out}");
    let (_, listed) = run(roster(dir.path()).args(["keys", "list"]));
    assert!(listed.contains("revoked"), "{listed}");
    let (ok, out) = run(roster(dir.path()).args(["keys", "revoke", "shop"]));
    assert!(!ok, "revoking again finds no live key: {out}");
    let (ok, out) =
        run(roster(dir.path()).args(["keys", "create", "--name", "x", "--scopes", "admin"]));
    assert!(!ok && out.contains("unknown scope"), "{out}");
}
