//! A real SMTP server for tests: `smtp_sink.py` on aiosmtpd (from PyPI, installed into the
//! checkout's `.tools/python` on first use, see `python.rs`), on a loopback port. Tests read
//! what arrived from its folder and steer it (hold the reply, refuse, defer) with flag files.
//!
//! Include with `#[path = ".../tests/support/smtp.rs"] mod smtp;` from a crate under `crates/`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

// Both support modules include it: a crate using both has two copies (see python.rs).
#[allow(clippy::duplicate_mod)]
#[path = "python.rs"]
mod python;
use python::spawn_server;
pub use python::workspace;

/// A port nothing listens on (yet).
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the server secures itself and who it lets in.
#[derive(Debug, Clone, Copy, Default)]
pub struct SinkOptions {
    pub tls: Option<TlsMode>,
    /// `(user, password)` that AUTH must present.
    pub auth: Option<(&'static str, &'static str)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// STARTTLS, required before anything else.
    StartTls,
    /// TLS from the first byte (smtps).
    Implicit,
}

impl SmtpSink {
    /// A server on a free port.
    pub fn start() -> Self {
        Self::start_on(0)
    }

    /// A server on `port` (0 picks one).
    pub fn start_on(port: u16) -> Self {
        Self::spawn(port, SinkOptions::default())
    }

    /// A server on a free port with TLS (a certificate for `localhost` from a CA of its own,
    /// see [`SmtpSink::ca_file`]) and/or required credentials.
    pub fn start_with(options: SinkOptions) -> Self {
        Self::spawn(0, options)
    }

    /// The CA that signed the server's certificate (PEM), when it has one.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("tls/ca.pem")
    }

    fn spawn(port: u16, options: SinkOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new("python3");
        command
            .arg(workspace().join("tests/support/smtp_sink.py"))
            .arg("--dir")
            .arg(dir.path())
            .arg("--port")
            .arg(port.to_string());
        if let Some(mode) = options.tls {
            let tls = dir.path().join("tls");
            make_certificates(&tls);
            let mode = match mode {
                TlsMode::StartTls => "starttls",
                TlsMode::Implicit => "implicit",
            };
            command
                .args(["--tls", mode, "--cert"])
                .arg(tls.join("server.pem"))
                .arg("--key")
                .arg(tls.join("server.key"));
        }
        if let Some((user, password)) = options.auth {
            command.arg("--auth").arg(format!("{user}:{password}"));
        }
        let (child, port) = spawn_server(command, "the SMTP test server");
        SmtpSink { child, port, dir }
    }

    /// `smtp://127.0.0.1:PORT` (plain SMTP: the server is local).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first, as received.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<_> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }

    /// Waits (polling) until at least `count` messages have arrived; fails the test after
    /// `within`.
    pub fn wait_for(&self, count: usize, within: Duration) -> Vec<String> {
        self.wait_until(within, |messages| messages.len() >= count)
    }

    /// Waits until the mails received satisfy `done`, and returns them.
    pub fn wait_until(&self, within: Duration, done: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + within;
        loop {
            let messages = self.messages();
            if done(&messages) {
                return messages;
            }
            assert!(
                Instant::now() < deadline,
                "the mails received ({}) were not as awaited within {within:?}",
                messages.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn flag(&self, name: &str, on: bool) {
        let path = self.dir.path().join(name);
        if on {
            std::fs::write(path, b"").unwrap();
        } else {
            let _ = std::fs::remove_file(path);
        }
    }

    /// While on, a message is stored but its reply withheld.
    pub fn hold(&self, on: bool) {
        self.flag(".hold", on);
    }

    /// While on, every recipient is refused for good (550).
    pub fn reject(&self, on: bool) {
        self.flag(".reject", on);
    }

    /// While on, every recipient is refused for now (451).
    pub fn defer(&self, on: bool) {
        self.flag(".defer", on);
    }
}

/// A CA and a server certificate for `localhost` and 127.0.0.1 signed by it, in `dir`
/// (`ca.pem`, `server.pem`, `server.key`), made with the openssl command line.
fn make_certificates(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let openssl = |args: &[&str]| {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("the openssl command makes the test certificates");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=Roster test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}

/// The token in the confirmation link of a received mail.
pub fn token_in(mail: &str) -> String {
    let start = mail.find("token=").expect("a link with a token") + "token=".len();
    mail[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// The value of header `name` in a received mail.
pub fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    mail.lines()
        .take_while(|line| !line.is_empty())
        .find(|line| line.to_ascii_lowercase().starts_with(&prefix))
        .map(|line| line[prefix.len()..].trim())
}
