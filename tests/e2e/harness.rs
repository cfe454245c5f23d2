//! `spawn_app()`: one `roster serve` process per test.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;
use uuid::Uuid;

/// How long a test waits for a worker's mail or report.
pub const WAIT: Duration = Duration::from_secs(30);

/// Polls `probe` until it answers `Some`, for at most `within`, on the wall clock: what a test
/// waits for here happens in another process (a `roster serve`, its workers), whose clock it
/// cannot move and which tells it nothing it could await. Fails the test naming `what`.
pub async fn eventually<T, F: std::future::Future<Output = Option<T>>>(
    within: Duration,
    what: &str,
    mut probe: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub address: String,
    pub key: String,
    pub client: reqwest::Client,
    pub dir: TempDir,
    database_url: Option<String>,
    child: Child,
}

/// Another `roster serve` process (`--role …`) beside a [`TestApp`], on the same data dir and
/// database; it logs to `<name>.log` in the data dir.
pub struct ServeProcess {
    pub address: String,
    pub log: PathBuf,
    child: Child,
}

impl ServeProcess {
    /// SIGKILL: the process gets no chance to finish, acknowledge or release anything.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `roster worker` process beside a [`TestApp`].
pub struct WorkerProcess {
    child: Child,
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl WorkerProcess {
    /// SIGKILL: the process gets no chance to finish or acknowledge anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn roster(dir: &Path, database_url: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_roster"));
    command
        .arg("--data-dir")
        .arg(dir)
        .env_remove("ROSTER_MASTER_KEY")
        .env_remove("ROSTER_LISTEN")
        .env_remove("ROSTER_CONFIG")
        .env("ROSTER_PUBLIC_URL", "https://members.example.com");
    match database_url {
        Some(url) => command.env("ROSTER_DATABASE_URL", url),
        None => command.env_remove("ROSTER_DATABASE_URL"),
    };
    command
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_, _| {}).await
}

/// As [`spawn_app`], letting the test adjust the `serve` command (flags, environment, a
/// config file in the data dir) before it starts.
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Command, &Path)) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let database_url = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => Some(roster_store::testing::postgres_url().await),
    };
    let output = roster(dir.path(), database_url.as_deref())
        .args([
            "keys",
            "create",
            "--name",
            "e2e",
            "--scopes",
            "commands,queries,operator",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let key = stdout.lines().last().unwrap().trim().to_owned();
    assert!(key.starts_with("roster_"), "{stdout}");

    let (child, address) = start_serve(dir.path(), database_url.as_deref(), adjust);
    TestApp {
        address,
        key,
        client: reqwest::Client::new(),
        dir,
        database_url,
        child,
    }
}

/// Starts `roster serve` on port 0, logging (appending) to `serve.log` in the data dir; returns
/// the process and the address it printed.
fn start_serve(
    dir: &Path,
    database_url: Option<&str>,
    adjust: impl FnOnce(&mut Command, &Path),
) -> (Child, String) {
    start_serve_logged(dir, database_url, "serve.log", adjust)
}

fn start_serve_logged(
    dir: &Path,
    database_url: Option<&str>,
    log_name: &str,
    adjust: impl FnOnce(&mut Command, &Path),
) -> (Child, String) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(log_name))
        .unwrap();
    let mut serve = roster(dir, database_url);
    serve
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("ROSTER_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(log);
    adjust(&mut serve, dir);
    let mut child = serve.spawn().unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let address = first_line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {first_line:?}"))
        .to_owned();
    (child, address)
}

/// A response, read whole.
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(self.status, status, "unexpected answer {}", self.body);
        &self.body
    }

    #[track_caller]
    pub fn expect_problem(&self, status: u16, slug: &str) {
        assert_eq!(
            (self.status, self.body["type"].as_str()),
            (status, Some(slug)),
            "{}",
            self.body
        );
    }
}

impl TestApp {
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        actor: Option<Uuid>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.address))
            .bearer_auth(&self.key);
        if let Some(actor) = actor {
            request = request.header("x-roster-actor", actor.to_string());
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Answer { status, body }
    }

    pub async fn post(&self, path: &str, actor: Option<Uuid>, body: Value) -> Answer {
        self.send(reqwest::Method::POST, path, actor, Some(body))
            .await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, None, None).await
    }

    /// Reads `path` until `done` holds for its 200 body, on the wall clock: what it waits for
    /// happens in the server's workers and projections, another process whose clock a test
    /// cannot move.
    pub async fn get_until(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let answer = self.get(path).await;
            if answer.status == 200 && done(&answer.body) {
                return answer.body;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{path} not as awaited within {WAIT:?}: {}",
                answer.body
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    pub fn outbox(&self) -> PathBuf {
        self.dir.path().join("outbox")
    }

    /// The mails in the outbox, oldest first.
    pub fn outbox_mails(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.outbox()) else {
            return Vec::new();
        };
        let mut mails: Vec<_> = entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        mails.sort();
        mails
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// The newest verification mail to `email` in the outbox, waiting for a worker to write it.
    pub async fn verification_mail(&self, email: &str) -> String {
        let to = format!("To: {email}");
        eventually(WAIT, &format!("a mail to {email}"), || async {
            self.outbox_mails()
                .into_iter()
                .rev()
                .find(|m| m.contains(&to) && m.contains("token="))
        })
        .await
    }

    /// Waits until the audit log shows an event of `event_type` about `member`.
    pub async fn wait_for_audit(&self, member: Uuid, event_type: &str) -> Value {
        eventually(WAIT, &format!("{event_type} in the audit log"), || async {
            let audit = self
                .get(&format!("/v1/audit?member={member}&limit=100"))
                .await;
            audit.expect(200)["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["type"] == event_type)
                .cloned()
        })
        .await
    }

    /// Whether the server exits by itself within `within` (a fault aborted it). The server is
    /// another process: its exit can only be watched for, on the wall clock.
    pub async fn wait_exit(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// SIGKILL, then `roster serve` again on the same data (and database), adjusted by
    /// `adjust` as the first start was.
    pub fn kill_and_restart(&mut self, adjust: impl FnOnce(&mut Command, &Path)) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let (child, address) = start_serve(self.dir.path(), self.database_url.as_deref(), adjust);
        self.child = child;
        self.address = address;
    }

    /// Starts `roster serve --role <role>` on the same data (and database), logging to
    /// `<name>.log`; returns once it listens.
    pub fn serve_role(
        &self,
        name: &str,
        role: &str,
        adjust: impl FnOnce(&mut Command, &Path),
    ) -> ServeProcess {
        let log_name = format!("{name}.log");
        let (child, address) = start_serve_logged(
            self.dir.path(),
            self.database_url.as_deref(),
            &log_name,
            |serve, dir| {
                serve.args(["--role", role]);
                adjust(serve, dir);
            },
        );
        ServeProcess {
            address,
            log: self.dir.path().join(log_name),
            child,
        }
    }

    /// Starts `roster worker` on the same data (and database); returns once it is running.
    pub fn worker(&self, adjust: impl FnOnce(&mut Command)) -> WorkerProcess {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("worker.log"))
            .unwrap();
        let mut worker = roster(self.dir.path(), self.database_url.as_deref());
        worker
            .arg("worker")
            .env("ROSTER_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(log);
        adjust(&mut worker);
        let mut child = worker.spawn().unwrap();
        let mut first_line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first_line)
            .unwrap();
        assert_eq!(first_line.trim(), "worker started");
        WorkerProcess { child }
    }

    /// Runs a `roster` subcommand on the same data (and database) and returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = roster(self.dir.path(), self.database_url.as_deref())
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "roster {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    /// The token in the newest verification mail to `email` in the outbox.
    pub async fn token_for(&self, email: &str) -> String {
        let mail = self.verification_mail(email).await;
        assert!(
            mail.contains("https://members.example.com/confirm?token="),
            "{mail}"
        );
        let start = mail.find("token=").unwrap() + "token=".len();
        mail[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect()
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }

    /// Sends SIGTERM and waits for a clean exit; returns the server's log.
    pub fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(status.success());
        let exit = self.child.wait().unwrap();
        assert!(exit.success(), "roster serve exited with {exit}");
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap()
    }
}
