//! Renewal reminders, the daily run drained on the manual clock: members whose period ends in
//! 7 and in 1 days are mailed once each (a repeated run, or `reminders::run` called again, adds
//! nothing); none goes to a membership cancelled (now or at the period's end); a reminder
//! stored before the membership was cancelled is not sent; each one sent is recorded on the
//! membership. The run settles an active membership whose period has ended (renewed once).

use axum::http::Method;
use chrono::{DateTime, Duration, Utc};
use roster_app::clock::Clock;
use roster_projections::MEMBERSHIPS;
use roster_projections::read::ReadModels;
use roster_workers::gateway::Gateway;
use roster_workers::queue::{Liveness, Queues};
use roster_workers::{Catalog, Drain, WorkerConfig};
use serde_json::json;

use crate::on_both_backends;
use crate::smtp::SmtpSink;
use crate::stripe::LocalStripe;
use crate::support::{Backend, TestApi, spawn_api};

on_both_backends!(reminders_go_out_at_7_and_1_days_once_and_never_after_a_cancellation);

const PUBLIC_URL: &str = "https://members.example.com";
const SUBJECT: &str = "Subject: Your The gold plan membership renews on";

struct Setup {
    api: TestApi,
    drain: Drain,
    smtp: SmtpSink,
    config: WorkerConfig,
    _stripe: LocalStripe,
}

async fn setup(backend: Backend) -> Setup {
    let api = spawn_api(backend).await;
    let (stripe, smtp) = (LocalStripe::start(), SmtpSink::start());
    let settings = roster_app::Settings {
        public_url: Some(PUBLIC_URL.into()),
        smtp_url: Some(smtp.url()),
        ..roster_app::Settings::default()
    };
    let mut config = WorkerConfig::from_settings(&settings, PUBLIC_URL).unwrap();
    config.gateway = Some(Gateway::new(Some(&stripe.url()), stripe.secret_key()).unwrap());
    // The daily run falls due at the time of day the test starts (the manual clock's), so the
    // instants below (a period's end, minus whole days, plus an hour) are past that day's run
    // whatever the time the suite runs at.
    config.reminder_run = Some(api.clock.now().time());
    let drain = roster_workers::prepare(&api.roster, Catalog::builtin(), config.clone())
        .await
        .unwrap()
        .drain();
    Setup {
        api,
        drain,
        smtp,
        config,
        _stripe: stripe,
    }
}

impl Setup {
    /// The read models caught up with the log (the run reads them), then everything due.
    async fn run_due(&self) {
        let head = self.api.head().await;
        let models = ReadModels::open(&self.api.roster).await.unwrap();
        let wait = std::time::Duration::from_secs(10);
        models.wait_for(MEMBERSHIPS, head, wait).await.unwrap();
        self.drain.run_due().await.unwrap();
    }

    async fn join(&self, email: &str) -> String {
        let member = self.api.active_member(email).await;
        let body = json!({ "plan": "gold", "payment_method": "pm_card_visa" });
        let joined = self
            .api
            .post(&format!("/v1/members/{member}/memberships"), body)
            .send()
            .await;
        joined.expect(201)["membership_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Reminder mails to `email`, and the days each names.
    fn reminders_to(&self, email: &str) -> Vec<String> {
        let to = format!("To: {email}");
        self.smtp
            .messages()
            .into_iter()
            .filter(|m| m.contains(SUBJECT) && m.contains(&to))
            .map(|m| {
                let days = ["in 7 days", "in 1 day"]
                    .into_iter()
                    .find(|d| m.contains(d))
                    .unwrap_or("?");
                days.to_owned()
            })
            .collect()
    }

    async fn period_end(&self, membership: &str) -> DateTime<Utc> {
        let record = self
            .api
            .get(&format!("/v1/memberships/{membership}"))
            .send()
            .await;
        let end = record.expect(200)["period_end"]
            .as_str()
            .unwrap()
            .to_owned();
        DateTime::parse_from_rfc3339(&end).unwrap().to_utc()
    }
}

async fn reminders_go_out_at_7_and_1_days_once_and_never_after_a_cancellation(backend: Backend) {
    let s = setup(backend).await;
    let price = json!({ "currency": "EUR", "amount": 1500, "interval": "month" });
    let plan = json!({ "name": "The gold plan", "prices": [price] });
    s.api
        .call(Method::PUT, "/v1/plans/gold")
        .json(plan)
        .send()
        .await
        .expect(201);
    let stays = s.join("stays@example.com").await;
    let ends = s.join("ends@example.com").await;
    let leaves = s.join("leaves@example.com").await;
    s.run_due().await;
    let end = s.period_end(&stays).await;
    // One cancels at the period's end: it is not renewing, so it is not reminded.
    s.api
        .delete(&format!("/v1/memberships/{ends}?at_period_end=true"))
        .send()
        .await
        .expect(200);

    s.api.clock.set(end - Duration::days(8));
    s.run_due().await;
    assert!(s.reminders_to("stays@example.com").is_empty());

    s.api
        .clock
        .set(end - Duration::days(7) + Duration::hours(1));
    s.run_due().await;
    assert_eq!(s.reminders_to("stays@example.com"), ["in 7 days"]);
    assert_eq!(s.reminders_to("leaves@example.com"), ["in 7 days"]);
    assert!(s.reminders_to("ends@example.com").is_empty());
    // Run again, the next day and by hand: nothing new.
    let queues = Queues::open(&s.api.roster, Liveness::of(&s.config))
        .await
        .unwrap();
    let now = s.api.clock.now();
    let again = roster_workers::reminders::run(&s.api.roster, &queues, &s.config, now, false)
        .await
        .unwrap();
    assert_eq!((again.due.len(), again.enqueued), (0, 0), "{again:?}");
    s.api.clock.advance(Duration::days(1));
    s.run_due().await;
    assert_eq!(s.reminders_to("stays@example.com").len(), 1);

    // One leaves at once after the 7-day reminder: no 1-day reminder for them.
    s.api
        .delete(&format!("/v1/memberships/{leaves}"))
        .send()
        .await
        .expect(200);
    s.api
        .clock
        .set(end - Duration::days(1) + Duration::hours(1));
    s.run_due().await;
    assert_eq!(
        s.reminders_to("stays@example.com"),
        ["in 7 days", "in 1 day"]
    );
    assert_eq!(s.reminders_to("leaves@example.com"), ["in 7 days"]);
    assert!(s.reminders_to("ends@example.com").is_empty());
    let record = s.api.get(&format!("/v1/memberships/{stays}")).send().await;
    assert_eq!(record.expect(200)["reminded"]["days_before"], 1);

    // Renewed at the period's end; the next period's 7-day reminder is stored by hand, then
    // the membership is cancelled before a worker sends it: nothing goes out.
    // The daily run also settles a period end whose timer has not run (late or lost): it
    // stores the period-end step, which renews once whoever else runs it.
    s.api.clock.set(end);
    let overdue = roster_workers::reminders::run(&s.api.roster, &queues, &s.config, end, false)
        .await
        .unwrap()
        .overdue;
    assert!(
        overdue.iter().any(|id| id.to_string() == stays),
        "{overdue:?}"
    );
    s.run_due().await;
    let next_end = s.period_end(&stays).await;
    assert!(next_end > end, "renewed");
    let at = next_end - Duration::days(7) + Duration::hours(1);
    let head = s.api.head().await;
    let models = ReadModels::open(&s.api.roster).await.unwrap();
    models
        .wait_for(MEMBERSHIPS, head, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let stored = roster_workers::reminders::run(&s.api.roster, &queues, &s.config, at, false)
        .await
        .unwrap();
    assert_eq!(stored.enqueued, 1, "{stored:?}");
    s.api
        .delete(&format!("/v1/memberships/{stays}"))
        .send()
        .await
        .expect(200);
    s.api.clock.set(at);
    s.run_due().await;
    assert_eq!(
        s.reminders_to("stays@example.com").len(),
        2,
        "no third reminder"
    );
}
