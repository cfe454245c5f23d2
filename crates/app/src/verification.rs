//! Email verification (double opt-in): a single-use, expiring token per registration, mailed
//! as a link. Only the token's hash is stored (beside the log, never in it), so neither the
//! log nor a copy of the database holds a usable token. Issuing a new token for a member
//! invalidates the older ones.
//!
//! The mail goes to a [`FileOutbox`]: one `.eml` file per mail under `DATA_DIR/outbox/`, the
//! embedded default. SMTP delivery through workers is the email issue's to add.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use roster_store::StoreError;
use uuid::Uuid;

use crate::clock::Clock;
use crate::secrets::{hash_secret, random_secret};
use crate::sidedb::SideDb;

/// Default lifetime of a verification token (`ROSTER_TOKEN_TTL`).
pub const DEFAULT_TOKEN_TTL: Duration = Duration::hours(24);

/// One mail, already rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub from: String,
    pub to: String,
    pub subject: String,
    pub text: String,
}

/// Writes each mail as an RFC 5322 message file in a folder.
#[derive(Debug, Clone)]
pub struct FileOutbox {
    dir: PathBuf,
}

impl FileOutbox {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Writes the mail to `<dir>/<time>-<id>.eml` (written under a temporary name, then
    /// renamed, so a reader never sees half a mail). Returns the file.
    pub async fn send(
        &self,
        mail: &Mail,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> std::io::Result<PathBuf> {
        tokio::fs::create_dir_all(&self.dir).await?;
        let name = format!("{}-{id}.eml", now.format("%Y%m%dT%H%M%S%.3fZ"));
        let path = self.dir.join(&name);
        let partial = self.dir.join(format!(".{name}.partial"));
        tokio::fs::write(&partial, render(mail, id, now)).await?;
        tokio::fs::rename(&partial, &path).await?;
        Ok(path)
    }
}

fn render(mail: &Mail, id: Uuid, now: DateTime<Utc>) -> String {
    let headers = [
        format!("From: {}", header_value(&mail.from)),
        format!("To: {}", header_value(&mail.to)),
        format!("Subject: {}", header_value(&mail.subject)),
        format!("Date: {}", now.to_rfc2822()),
        format!("Message-ID: <{id}@roster>"),
        "MIME-Version: 1.0".to_owned(),
        "Content-Type: text/plain; charset=utf-8".to_owned(),
        "Content-Transfer-Encoding: 8bit".to_owned(),
    ];
    let body = mail.text.replace("\r\n", "\n").replace('\n', "\r\n");
    format!("{}\r\n\r\n{body}\r\n", headers.join("\r\n"))
}

/// Header values never contain line breaks (header injection).
fn header_value(value: &str) -> String {
    value.replace(['\r', '\n'], " ")
}

/// Settings of the verification mail.
#[derive(Debug, Clone)]
pub struct VerificationConfig {
    /// Base of the link, e.g. `https://members.example.com` (`ROSTER_PUBLIC_URL`).
    pub public_url: String,
    /// Sender address (`ROSTER_MAIL_FROM`).
    pub mail_from: String,
    pub token_ttl: Duration,
}

/// Issues, mails and redeems verification tokens.
#[derive(Clone)]
pub struct Verification {
    side: SideDb,
    outbox: FileOutbox,
    config: VerificationConfig,
    clock: Arc<dyn Clock>,
}

/// Why mailing a verification token failed.
#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write to the outbox: {0}")]
    Outbox(#[from] std::io::Error),
}

impl Verification {
    pub fn new(
        side: SideDb,
        outbox: FileOutbox,
        config: VerificationConfig,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            side,
            outbox,
            config,
            clock,
        }
    }

    /// Issues a new token for the member (invalidating older ones) and mails the link.
    pub async fn send(
        &self,
        member_id: Uuid,
        email: &str,
        name: &str,
    ) -> Result<(), VerificationError> {
        let now = self.clock.now();
        let token = random_secret();
        let expires_at = now + self.config.token_ttl;
        self.side
            .insert_token(&hash_secret(&token), member_id, now, expires_at)
            .await?;
        let link = format!(
            "{}/confirm?token={token}",
            self.config.public_url.trim_end_matches('/')
        );
        let text = format!(
            "Hello {name},\n\nplease confirm your email address by opening this link:\n\n{link}\n\n\
             The link works once and expires at {} UTC. If you did not register, ignore this mail.\n",
            expires_at.format("%Y-%m-%d %H:%M")
        );
        let mail = Mail {
            from: self.config.mail_from.clone(),
            to: email.to_owned(),
            subject: "Confirm your email address".to_owned(),
            text,
        };
        self.outbox.send(&mail, Uuid::now_v7(), now).await?;
        Ok(())
    }

    /// Uses up `token`: the member it was issued to, or `None` when it is unknown, used or
    /// expired (all three look the same to the caller).
    pub async fn redeem(&self, token: &str) -> Result<Option<Uuid>, StoreError> {
        let token = token.trim();
        if token.is_empty() || token.len() > 100 {
            return Ok(None);
        }
        self.side
            .consume_token(&hash_secret(token), self.clock.now())
            .await
    }

    /// Gives a redeemed token back: the confirmation it was redeemed for did not happen, and
    /// the member must not be left with a link that no longer works.
    pub async fn restore(&self, token: &str) -> Result<(), StoreError> {
        self.side.restore_token(&hash_secret(token.trim())).await
    }
}
