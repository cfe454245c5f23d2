//! A Stripe API for tests: localstripe (a fake but stateful Stripe from PyPI, installed into the
//! checkout's `.tools/python` on first use, see `python.rs`) run by `localstripe_launcher.py` on
//! a loopback port, its answers patched so that async-stripe parses them (see the launcher and
//! DEVELOPERS.md for what localstripe accepts and what it leaves out).
//!
//! Include with `#[path = ".../tests/support/stripe.rs"] mod stripe;` from a crate under
//! `crates/`. Only std is used: the helpers block, which is fine from async tests too (the
//! server is another process).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command};
use std::time::Duration;

// Both support modules include it: a crate using both has two copies (see python.rs).
#[allow(clippy::duplicate_mod)]
#[path = "python.rs"]
mod python;
use python::{spawn_server, workspace};

/// A secret key localstripe takes (any `sk_…` does; it is not checked further).
const SECRET_KEY: &str = "sk_test_roster_localstripe";

/// A running localstripe, killed when dropped. Its state starts empty and lives in memory only.
pub struct LocalStripe {
    child: Child,
    pub port: u16,
}

impl Drop for LocalStripe {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LocalStripe {
    /// A server on a free port (0: the launcher binds and tells which).
    pub fn start() -> Self {
        let mut command = Command::new("python3");
        command
            .arg(workspace().join("tests/support/localstripe_launcher.py"))
            .arg("0");
        // Each request and webhook delivery on stderr, for debugging a test.
        if std::env::var_os("ROSTER_TEST_STRIPE_VERBOSE").is_some() {
            command.arg("--verbose");
        }
        let (child, port) = spawn_server(command, "localstripe");
        LocalStripe { child, port }
    }

    /// `http://127.0.0.1:PORT`, the API base for the Stripe client (async-stripe's
    /// `ClientBuilder::url` takes it with or without the final slash).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A secret key the server accepts.
    pub fn secret_key(&self) -> &'static str {
        SECRET_KEY
    }

    /// How many PaymentIntents exist (localstripe's list takes no filters: all of them, failed
    /// ones included).
    pub fn payment_intent_count(&self) -> usize {
        let body = self.get("/v1/payment_intents?limit=100");
        // localstripe's lists carry `total_count`, the length of the whole list.
        let start = body.find("\"total_count\":").expect("a list") + "\"total_count\":".len();
        body[start..]
            .trim_start()
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .unwrap()
    }

    /// Has localstripe POST every event to `url`, signed with `secret` (`Stripe-Signature:
    /// t=…,v1=…`), about a second after the change that made it. Another registration under the
    /// same `id` replaces it.
    pub fn register_webhook(&self, id: &str, url: &str, secret: &str) {
        self.register_webhook_for(id, url, secret, None);
    }

    /// [`LocalStripe::register_webhook`] for the listed event types only (`None`: all).
    pub fn register_webhook_for(&self, id: &str, url: &str, secret: &str, events: Option<&[&str]>) {
        let mut form = vec![("url", url), ("secret", secret)];
        for event in events.unwrap_or_default() {
            form.push(("events[]", *event));
        }
        let (status, body) = self.post(&format!("/_config/webhooks/{id}"), &form);
        assert_eq!(status, 200, "localstripe refused the webhook: {body}");
    }

    /// Forgets every object (customers, intents, …); webhooks stay registered.
    pub fn clear(&self) {
        let (status, body) = self.request("DELETE", "/_config/data", "");
        assert_eq!(status, 200, "localstripe did not clear: {body}");
    }

    /// `GET path` with the secret key; the body of a 2xx answer (anything else fails the test).
    pub fn get(&self, path: &str) -> String {
        let (status, body) = self.request("GET", path, "");
        assert!((200..300).contains(&status), "GET {path}: {status} {body}");
        body
    }

    /// `POST path` with the form `fields` and the secret key: the status and body.
    pub fn post(&self, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let body = fields
            .iter()
            .map(|(name, value)| format!("{}={}", form_encode(name), form_encode(value)))
            .collect::<Vec<_>>()
            .join("&");
        self.request("POST", path, &body)
    }

    /// One HTTP/1.1 request on a connection of its own.
    fn request(&self, method: &str, path: &str, form: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {SECRET_KEY}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{form}",
            self.port,
            form.len()
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{method} {path}: no HTTP answer: {answer:?}"));
        assert!(
            !head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked"),
            "{method} {path}: a chunked answer"
        );
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("{method} {path}: no status in {head:?}"));
        (status, body.to_string())
    }
}

/// `application/x-www-form-urlencoded` for one name or value.
fn form_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
