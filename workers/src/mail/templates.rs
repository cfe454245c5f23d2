//! Every mail Roster sends, as a text and an HTML template under `templates/`, checked at
//! compile time (askama): a template that names a missing field does not build. The HTML
//! templates extend `base.html` and escape every value; the text templates do not escape.
//!
//! Each mail is a plain struct of what it shows; [`MailTemplate::render`] gives its subject,
//! text and HTML. Jobs of later issues (payments, refunds, reminders, waiting lists) use the
//! same mechanism: a struct, two templates, one `mail!` line.

use askama::Template;
use chrono::{DateTime, Utc};

/// A mail ready to be put into a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub trait MailTemplate {
    fn render(&self) -> Result<Rendered, askama::Error>;
}

/// Declares the text and HTML template of a mail struct and its subject.
macro_rules! mail {
    ($mail:ident, $text:literal, $html:literal, |$m:ident| $subject:expr) => {
        const _: () = {
            #[derive(Template)]
            #[template(path = $text)]
            struct Text<'a> {
                m: &'a $mail,
            }

            #[derive(Template)]
            #[template(path = $html)]
            struct Html<'a> {
                m: &'a $mail,
            }

            impl MailTemplate for $mail {
                fn render(&self) -> Result<Rendered, askama::Error> {
                    let $m = self;
                    Ok(Rendered {
                        subject: $subject,
                        text: Text { m: self }.render()?,
                        html: Html { m: self }.render()?,
                    })
                }
            }
        };
    };
}

/// The double opt-in mail: the link with the token.
#[derive(Debug, Clone)]
pub struct VerificationMail {
    pub name: String,
    /// `<public url>/confirm?token=<token>`.
    pub link: String,
    /// When the link stops working, for people (`2026-11-30 14:05 UTC`).
    pub expires_at: String,
}
mail!(
    VerificationMail,
    "verification.txt",
    "verification.html",
    |_m| { "Confirm your email address".to_owned() }
);

/// After the confirmation: what the member has, the terms, what to do next.
#[derive(Debug, Clone)]
pub struct WelcomeMail {
    pub name: String,
    /// The plan tier, once the member has one.
    pub plan: Option<String>,
    pub terms_url: String,
    pub start_url: String,
}
mail!(
    WelcomeMail,
    "welcome.txt",
    "welcome.html",
    |m| match &m.plan {
        Some(plan) => format!("Welcome to {plan}"),
        None => "Welcome: your account is active".to_owned(),
    }
);

/// A payment succeeded.
#[derive(Debug, Clone)]
pub struct PaymentReceiptMail {
    pub name: String,
    /// Formatted with [`format_amount`].
    pub amount: String,
    pub description: String,
    pub paid_on: String,
    pub payment_id: String,
}
mail!(
    PaymentReceiptMail,
    "payment_receipt.txt",
    "payment_receipt.html",
    |m| format!("Payment received: {}", m.amount)
);

/// A charge was declined (dunning): when it is tried again, or that it will not be.
#[derive(Debug, Clone)]
pub struct PaymentFailedMail {
    pub name: String,
    pub amount: String,
    pub description: String,
    /// `None` after the last attempt.
    pub next_attempt: Option<String>,
    pub update_url: String,
    pub payment_id: String,
}
mail!(
    PaymentFailedMail,
    "payment_failed.txt",
    "payment_failed.html",
    |_m| { "Your payment did not go through".to_owned() }
);

/// A refund, full or partial.
#[derive(Debug, Clone)]
pub struct RefundMail {
    pub name: String,
    pub amount: String,
    pub payment_id: String,
    pub reason: Option<String>,
}
mail!(RefundMail, "refund.txt", "refund.html", |m| format!(
    "Refund of {}",
    m.amount
));

/// N days before a membership period ends and renews.
#[derive(Debug, Clone)]
pub struct RenewalReminderMail {
    pub name: String,
    pub plan: String,
    pub period_end: String,
    pub days_left: u32,
    /// What the renewal charges, as people read it (`15.00 EUR`).
    pub amount: String,
    /// Where the member changes the payment method or cancels.
    pub manage_url: String,
}
mail!(
    RenewalReminderMail,
    "renewal_reminder.txt",
    "renewal_reminder.html",
    |m| format!("Your {} membership renews on {}", m.plan, m.period_end)
);

/// A place on a full plan freed up and is offered to the first in line.
#[derive(Debug, Clone)]
pub struct WaitlistOfferMail {
    pub name: String,
    pub plan: String,
    pub claim_url: String,
    pub claim_by: String,
}
mail!(
    WaitlistOfferMail,
    "waitlist_offer.txt",
    "waitlist_offer.html",
    |m| format!("A place in {} is free for you", m.plan)
);

/// An instant as mails show it: `2026-11-30 14:05 UTC`.
pub fn format_time(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An amount in minor units as people read it: `12.50 EUR`, `1,200 JPY`, `3.500 KWD`.
pub fn format_amount(minor: i64, currency: &str) -> String {
    let currency = currency.to_ascii_uppercase();
    let exponent = minor_unit_exponent(&currency);
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(exponent);
    let units = group_thousands(abs / scale);
    if exponent == 0 {
        format!("{sign}{units} {currency}")
    } else {
        let fraction = abs % scale;
        let width = exponent as usize;
        format!("{sign}{units}.{fraction:0width$} {currency}")
    }
}

/// ISO 4217 minor units: most currencies have 2, these have 0 or 3.
fn minor_unit_exponent(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn every_mail() -> Vec<Rendered> {
        let name = "Zoë <b>\"O'Hara\"</b>".to_owned();
        let mails: Vec<Box<dyn MailTemplate>> = vec![
            Box::new(VerificationMail {
                name: name.clone(),
                link: "https://m.example.com/confirm?token=abc&x=1".into(),
                expires_at: "2026-12-01 10:00 UTC".into(),
            }),
            Box::new(WelcomeMail {
                name: name.clone(),
                plan: Some("Gold".into()),
                terms_url: "https://m.example.com/terms".into(),
                start_url: "https://m.example.com".into(),
            }),
            Box::new(PaymentReceiptMail {
                name: name.clone(),
                amount: format_amount(1250, "eur"),
                description: "Gold membership".into(),
                paid_on: "2026-12-01".into(),
                payment_id: "pay_1".into(),
            }),
            Box::new(PaymentFailedMail {
                name: name.clone(),
                amount: format_amount(1250, "EUR"),
                description: "Gold membership".into(),
                next_attempt: Some("2026-12-04".into()),
                update_url: "https://m.example.com/billing".into(),
                payment_id: "pay_1".into(),
            }),
            Box::new(RefundMail {
                name: name.clone(),
                amount: format_amount(500, "EUR"),
                payment_id: "pay_1".into(),
                reason: Some("duplicate".into()),
            }),
            Box::new(RenewalReminderMail {
                name: name.clone(),
                plan: "Gold".into(),
                period_end: "2026-12-31".into(),
                days_left: 7,
                amount: format_amount(1500, "EUR"),
                manage_url: "https://m.example.com/billing".into(),
            }),
            Box::new(WaitlistOfferMail {
                name,
                plan: "Gold".into(),
                claim_url: "https://m.example.com/claim/1".into(),
                claim_by: "2026-12-03 10:00 UTC".into(),
            }),
        ];
        mails.iter().map(|m| m.render().unwrap()).collect()
    }

    #[test]
    fn every_mail_renders_a_subject_a_text_and_an_html_page_with_the_name() {
        for mail in every_mail() {
            assert!(!mail.subject.is_empty());
            assert!(mail.text.contains("Zoë <b>\"O'Hara\"</b>"), "{}", mail.text);
            assert!(mail.html.starts_with("<!DOCTYPE html>"), "{}", mail.html);
            assert!(mail.html.contains("Zoë"), "{}", mail.html);
        }
    }

    #[test]
    fn html_escapes_what_people_typed_and_text_keeps_it() {
        for mail in every_mail() {
            assert!(!mail.html.contains("<b>"), "{}", mail.html);
            assert!(mail.html.contains("&#60;b&#62;"), "{}", mail.html);
        }
        let verification = &every_mail()[0];
        assert!(
            verification
                .text
                .contains("\nhttps://m.example.com/confirm?token=abc&x=1\n"),
            "the link stands on a line of its own: {}",
            verification.text
        );
        assert!(
            verification
                .html
                .contains("href=\"https://m.example.com/confirm?token=abc&#38;x=1\""),
            "{}",
            verification.html
        );
    }

    #[test]
    fn optional_parts_show_only_when_present() {
        let without = WelcomeMail {
            name: "A".into(),
            plan: None,
            terms_url: "t".into(),
            start_url: "s".into(),
        }
        .render()
        .unwrap();
        assert!(!without.text.contains("Your plan"));
        assert_eq!(without.subject, "Welcome: your account is active");
        let last = PaymentFailedMail {
            name: "A".into(),
            amount: "1.00 EUR".into(),
            description: "d".into(),
            next_attempt: None,
            update_url: "u".into(),
            payment_id: "p".into(),
        }
        .render()
        .unwrap();
        assert!(last.text.contains("We will not try again"), "{}", last.text);
        let one_day = RenewalReminderMail {
            name: "A".into(),
            plan: "Gold".into(),
            period_end: "e".into(),
            days_left: 1,
            amount: "1.00 EUR".into(),
            manage_url: "u".into(),
        }
        .render()
        .unwrap();
        assert!(one_day.text.contains("in 1 day:"), "{}", one_day.text);
    }

    #[test]
    fn amounts_use_the_currencys_minor_units() {
        assert_eq!(format_amount(1250, "eur"), "12.50 EUR");
        assert_eq!(format_amount(5, "USD"), "0.05 USD");
        assert_eq!(format_amount(123_456_789, "USD"), "1,234,567.89 USD");
        assert_eq!(format_amount(1200, "JPY"), "1,200 JPY");
        assert_eq!(format_amount(3500, "KWD"), "3.500 KWD");
        assert_eq!(format_amount(-250, "EUR"), "-2.50 EUR");
    }

    #[test]
    fn times_read_as_utc() {
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 14, 5, 9).unwrap();
        assert_eq!(format_time(at), "2026-11-30 14:05 UTC");
    }
}
