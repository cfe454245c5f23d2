//! The Python packages the test servers run on (aiosmtpd, localstripe: pinned in
//! `tests/support/requirements.txt`), installed into the checkout's `.tools/python` on first use.
//!
//! Included by the other support modules (`#[path = "python.rs"] mod python;`), not by tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

/// The pinned Python packages, shared with `scripts/test`.
pub const REQUIREMENTS: &str = "tests/support/requirements.txt";

/// Inside the installation: a copy of the requirements it was installed from. An installation
/// whose copy differs from the file (a package added or bumped) is installed anew.
const STAMP: &str = ".requirements";

/// The workspace root: the nearest folder above the crate that holds the requirements file.
pub fn workspace() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join(REQUIREMENTS).is_file())
        .unwrap_or(manifest)
        .to_path_buf()
}

/// Where the packages are installed (installing them when the installation is missing or was
/// made from other requirements); the value for `PYTHONPATH`.
pub fn python_path() -> PathBuf {
    static INSTALLED: OnceLock<PathBuf> = OnceLock::new();
    INSTALLED.get_or_init(install).clone()
}

fn install() -> PathBuf {
    let root = workspace();
    let wanted = std::fs::read(root.join(REQUIREMENTS)).unwrap();
    let target = root.join(".tools/python");
    let current = |dir: &Path| std::fs::read(dir.join(STAMP)).ok().as_ref() == Some(&wanted);
    if current(&target) {
        return target;
    }
    // Installed beside the final folder, then renamed into place: a concurrent run never sees
    // half an installation. Each install has a folder of its own (two test binaries, or two
    // support modules in one, may install at once).
    std::fs::create_dir_all(root.join(".tools")).unwrap();
    let unique = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let partial = root.join(format!(".tools/python.partial-{unique}"));
    let status = Command::new("python3")
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-warn-conflicts",
            "--root-user-action=ignore",
        ])
        .arg("--target")
        .arg(&partial)
        .arg("-r")
        .arg(root.join(REQUIREMENTS))
        .status()
        .expect("python3 is needed to run the test servers");
    assert!(
        status.success(),
        "pip could not install {REQUIREMENTS} into {}",
        partial.display()
    );
    std::fs::write(partial.join(STAMP), &wanted).unwrap();
    // Unless another run put a current installation in place meanwhile, the stale one moves
    // aside and this one takes its place; losing that race to another run is fine too.
    if !current(&target) {
        let old = root.join(format!(".tools/python.old-{unique}"));
        let _ = std::fs::rename(&target, &old);
        let _ = std::fs::rename(&partial, &target);
        let _ = std::fs::remove_dir_all(&old);
    }
    let _ = std::fs::remove_dir_all(&partial);
    assert!(
        current(&target),
        "{} does not hold the packages of {REQUIREMENTS}",
        target.display()
    );
    target
}

/// Starts `command` (a Python test server, run with [`python_path`]) and reads the port from the
/// first line it prints (`… 127.0.0.1:PORT`), which it prints once its socket is bound.
pub fn spawn_server(mut command: Command, what: &str) -> (Child, u16) {
    let mut child = command
        .env("PYTHONPATH", python_path())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{what} did not start: {line:?}"));
    (child, port)
}
