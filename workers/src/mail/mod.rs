//! Sending mail: a [`Mailer`] over SMTP (lettre: STARTTLS or implicit TLS, credentials, from
//! `ROSTER_SMTP_URL`) or, with no SMTP configured, over the file [`outbox`]. Failures are
//! classified for the jobs: a permanent refusal is never retried, anything else may be.
//!
//! Nothing here logs an address: SMTP replies may quote it, so a [`MailError`] keeps only the
//! kind of failure and the reply code.

pub mod outbox;
pub mod templates;

use std::time::Duration;

use std::sync::Arc;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use roster_app::clock::Clock;
use roster_domain::member::{MailFailure, MailFailureKind};

pub use outbox::FileOutbox;
pub use templates::{MailTemplate, Rendered};

/// Longest wait for an SMTP server at any step (connect, each reply).
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where mail goes.
#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(FileOutbox),
}

/// Puts rendered mails into messages and hands them to the transport.
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// Dates the mails (and names outbox files).
    clock: Arc<dyn Clock>,
}

/// Why a mailer cannot be built from the configuration.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("ROSTER_SMTP_URL is not a usable SMTP URL: {0}")]
    SmtpUrl(String),
    #[error("ROSTER_SMTP_CA_FILE: {0}")]
    CaFile(String),
    #[error(
        "ROSTER_SMTP_URL has credentials but no TLS: use smtps:// or ?tls=required \
         (plain SMTP with credentials is allowed to a loopback relay only)"
    )]
    Insecure,
    #[error("ROSTER_MAIL_FROM is not a mailbox like `Roster <roster@example.com>`: {0}")]
    From(String),
}

/// How to reach the SMTP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://user:pass@host:465`
    /// (implicit TLS), `smtp://host:25` (plain, for a local relay).
    pub url: String,
    /// PEM certificates to trust besides the public roots, for a relay with a private CA.
    pub ca_file: Option<std::path::PathBuf>,
}

/// Why a mail was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mail not sent ({}{}): {}", failure.kind.as_str(), failure.smtp_code.map(|c| format!(", SMTP {c}")).unwrap_or_default(), if *.permanent { "permanent" } else { "may succeed later" })]
pub struct MailError {
    pub failure: MailFailure,
    /// Trying again cannot help (a 5xx reply, an address that is not one).
    pub permanent: bool,
}

impl Mailer {
    /// SMTP when `smtp` is given, else the file outbox.
    pub fn new(
        smtp: Option<&SmtpSettings>,
        outbox: FileOutbox,
        from: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, MailConfigError> {
        let from = from
            .parse::<Mailbox>()
            .map_err(|e| MailConfigError::From(e.to_string()))?;
        let transport = match smtp {
            Some(smtp) => Transport::Smtp(smtp_transport(smtp)?),
            None => Transport::Outbox(outbox),
        };
        Ok(Self {
            transport,
            from,
            clock,
        })
    }

    /// Sends `mail` to `to`. `message_id` is stable for one job, so a mail sent twice (a worker
    /// that died between sending and acknowledging) carries the same `Message-ID` both times.
    pub async fn send(&self, to: &str, mail: &Rendered, message_id: &str) -> Result<(), MailError> {
        let message = self.message(to, mail, message_id)?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(classify),
            Transport::Outbox(outbox) => outbox
                .write(&message.formatted(), message_id, self.clock.now())
                .await
                .map(drop)
                .map_err(|e| {
                    tracing::warn!(error = %e, "cannot write to the outbox");
                    MailError {
                        failure: failure(MailFailureKind::Unreachable, None),
                        permanent: false,
                    }
                }),
        }
    }

    fn message(&self, to: &str, mail: &Rendered, message_id: &str) -> Result<Message, MailError> {
        let unsendable = || MailError {
            failure: failure(MailFailureKind::Unsendable, None),
            permanent: true,
        };
        let to = to.parse::<Mailbox>().map_err(|_| unsendable())?;
        Message::builder()
            .date(self.clock.now().into())
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{message_id}@roster>")))
            .multipart(
                MultiPart::alternative()
                    .singlepart(part(ContentType::TEXT_PLAIN, &mail.text))
                    .singlepart(part(ContentType::TEXT_HTML, &mail.html)),
            )
            .map_err(|_| unsendable())
    }
}

fn smtp_transport(
    smtp: &SmtpSettings,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailConfigError> {
    let url = smtp.url.as_str();
    // The URL may hold a password: errors say what is wrong without repeating it.
    let bad_url = |e: &dyn std::fmt::Display| MailConfigError::SmtpUrl(redact(&e.to_string(), url));
    let parsed = url::Url::parse(url).map_err(|e| bad_url(&e))?;
    let host = parsed
        .host_str()
        .ok_or_else(|| bad_url(&"no host"))?
        .to_owned();
    let tls_mode = parsed
        .query_pairs()
        .find(|(k, _)| k == "tls")
        .map(|(_, v)| v.into_owned());
    let encrypted = parsed.scheme() == "smtps" || tls_mode.as_deref() == Some("required");
    let has_credentials = !parsed.username().is_empty() || parsed.password().is_some();
    if has_credentials && !encrypted && !is_loopback(&host) {
        // lettre would send AUTH over whatever the connection is; opportunistic TLS can be
        // stripped by anyone on the path.
        return Err(MailConfigError::Insecure);
    }
    let mut builder =
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map_err(|e| bad_url(&e))?;
    if let Some(ca_file) = &smtp.ca_file {
        let unreadable = |e: &dyn std::fmt::Display| {
            MailConfigError::CaFile(format!("{}: {e}", ca_file.display()))
        };
        if !encrypted && tls_mode.as_deref() != Some("opportunistic") {
            return Err(unreadable(
                &"a CA file needs TLS: smtps:// or ?tls=required",
            ));
        }
        let pem = std::fs::read(ca_file).map_err(|e| unreadable(&e))?;
        let certificate = Certificate::from_pem(&pem).map_err(|e| unreadable(&e))?;
        let parameters = TlsParameters::builder(host)
            .add_root_certificate(certificate)
            .build()
            .map_err(|e| unreadable(&e))?;
        // The same choice lettre makes from the URL, with the extra root added.
        let tls = match (parsed.scheme(), tls_mode.as_deref()) {
            ("smtps", _) => Tls::Wrapper(parameters),
            ("smtp", Some("required")) => Tls::Required(parameters),
            ("smtp", Some("opportunistic")) => Tls::Opportunistic(parameters),
            _ => Tls::None,
        };
        builder = builder.tls(tls);
    }
    Ok(builder.timeout(Some(SMTP_TIMEOUT)).build())
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A body part in 8bit, so links read as written: quoted-printable (lettre's choice for lines
/// over 76 characters, which a link with a token is) would turn `token=` into `token=3D` and
/// break the link across lines. 8bit allows lines up to 998 octets (RFC 5322); a text with
/// longer lines is left to lettre's choice.
fn part(content_type: ContentType, text: &str) -> SinglePart {
    let crlf = text.replace("\r\n", "\n").replace('\n', "\r\n");
    let body = if crlf.split("\r\n").all(|line| line.len() <= MAX_LINE) {
        Body::dangerous_pre_encoded(crlf.into_bytes(), ContentTransferEncoding::EightBit)
    } else {
        Body::new(text.to_owned())
    };
    SinglePart::builder().header(content_type).body(body)
}

/// The longest line 8bit allows, without its CRLF.
const MAX_LINE: usize = 998;

fn failure(kind: MailFailureKind, smtp_code: Option<u16>) -> MailFailure {
    MailFailure { kind, smtp_code }
}

/// A refused login (530, 534, 535, 538) is the operator's to fix, not the recipient's fault:
/// it is retried like an outage. Any other 5xx is permanent, 4xx transient; no reply at all
/// (connection, TLS, timeout) is the server being unreachable, which may pass.
fn classify(error: lettre::transport::smtp::Error) -> MailError {
    let code = error
        .status()
        .and_then(|code| code.to_string().parse::<u16>().ok());
    let (kind, permanent) = if matches!(code, Some(530 | 534 | 535 | 538)) {
        (MailFailureKind::Unauthorized, false)
    } else if error.is_permanent() {
        (MailFailureKind::Rejected, true)
    } else if error.is_transient() {
        (MailFailureKind::Deferred, false)
    } else {
        (MailFailureKind::Unreachable, false)
    };
    MailError {
        failure: failure(kind, code),
        permanent,
    }
}

/// `text` with the URL's password (if any) blanked out.
fn redact(text: &str, url: &str) -> String {
    let password = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .and_then(|(credentials, _)| credentials.split_once(':'))
        .map(|(_, password)| password)
        .filter(|p| !p.is_empty());
    match password {
        Some(password) => text.replace(password, "***"),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_in_the_smtp_url_is_never_repeated_in_an_error() {
        let smtp = SmtpSettings {
            url: "smtp://user:s3cret@host:587?tls=bogus".into(),
            ca_file: None,
        };
        let error = Mailer::new(
            Some(&smtp),
            FileOutbox::new("/nonexistent".into()),
            "roster@example.com",
            Arc::new(roster_app::clock::SystemClock),
        )
        .err()
        .unwrap();
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    fn settings(url: &str, ca_file: Option<&str>) -> SmtpSettings {
        SmtpSettings {
            url: url.into(),
            ca_file: ca_file.map(Into::into),
        }
    }

    fn build(url: &str, ca_file: Option<&str>) -> Result<Mailer, MailConfigError> {
        let outbox = FileOutbox::new("/nonexistent".into());
        let clock = Arc::new(roster_app::clock::SystemClock);
        Mailer::new(
            Some(&settings(url, ca_file)),
            outbox,
            "roster@example.com",
            clock,
        )
    }

    // lettre's connection pool needs a runtime when it is built and dropped.
    #[tokio::test]
    async fn credentials_travel_only_over_tls_or_to_a_loopback_relay() {
        for insecure in [
            "smtp://user:pw@mail.example.com:587",
            "smtp://user:pw@mail.example.com:587?tls=opportunistic",
        ] {
            assert!(
                matches!(build(insecure, None), Err(MailConfigError::Insecure)),
                "{insecure}"
            );
        }
        for fine in [
            "smtp://user:pw@mail.example.com:587?tls=required",
            "smtps://user:pw@mail.example.com:465",
            "smtp://user:pw@127.0.0.1:2525",
            "smtp://user:pw@localhost:2525",
            "smtp://mail.example.com:25",
        ] {
            assert!(build(fine, None).is_ok(), "{fine}");
        }
    }

    #[tokio::test]
    async fn a_ca_file_without_tls_is_a_configuration_error() {
        let error = build("smtp://relay.example.com:25", Some("/nonexistent/ca.pem"))
            .err()
            .unwrap();
        assert!(error.to_string().contains("needs TLS"), "{error}");
    }

    #[test]
    fn long_links_stay_whole_with_their_equals_sign() {
        let link = format!(
            "https://members.example.com/confirm?token={}",
            "a".repeat(43)
        );
        let part = part(ContentType::TEXT_PLAIN, &format!("Zoë, open\n{link}\n"));
        let text = String::from_utf8(part.formatted()).unwrap();
        assert!(text.contains(&format!("\r\n{link}\r\n")), "{text}");
        assert!(text.contains("Content-Transfer-Encoding: 8bit"), "{text}");
        assert!(text.contains("Zoë"), "{text}");
    }

    #[test]
    fn a_text_with_overlong_lines_is_encoded_by_lettre() {
        let part = part(ContentType::TEXT_PLAIN, &"x".repeat(2000));
        let text = String::from_utf8(part.formatted()).unwrap();
        assert!(!text.contains("Content-Transfer-Encoding: 8bit"), "{text}");
    }
}
