//! `roster payments show|list|reconcile`: payments for operators. `show` folds the payment's
//! stream (always current); `list` reads the payments read model; `reconcile` asks Stripe about
//! attempts whose outcome Roster does not know.

use clap::Subcommand;
use roster_app::Roster;
use roster_projections::ReadModels;
use roster_projections::read::{PaymentFilter, PaymentRecord};
use roster_workers::WorkerConfig;
use roster_workers::reconcile::{Reconciled, reconcile};
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum PaymentsCommand {
    /// One payment as JSON: attempts with decline codes, next re-attempt, captured and
    /// refunded amounts, refunds.
    Show { payment: Uuid },
    /// Payments, one per line (oldest first), or as JSON lines with `--json`.
    List {
        #[arg(long)]
        member: Option<Uuid>,
        /// processing, retrying, succeeded, partially_refunded, refunded or failed.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Ask Stripe about every payment whose open attempt started more than `--grace` ago (or
    /// whose outcome is recorded as unknown) and record what it says. Charges nothing.
    Reconcile {
        /// How old an attempt in flight must be before it counts as stuck: `10m`, `1h`.
        #[arg(long, default_value = "10m")]
        grace: String,
    },
}

pub async fn run(roster: &Roster, command: PaymentsCommand) -> anyhow::Result<()> {
    match command {
        PaymentsCommand::Show { payment } => {
            let loaded = roster.payments.get(payment).await?;
            let record = PaymentRecord::of(&loaded.state, loaded.position);
            println!("{}", serde_json::to_string_pretty(&record)?);
        }
        PaymentsCommand::List {
            member,
            status,
            limit,
            json,
        } => {
            let models = ReadModels::open(roster).await?;
            let filter = PaymentFilter { member, status };
            let page = models.payments(&filter, None, limit).await?;
            for p in page.items {
                match json {
                    true => println!("{}", serde_json::to_string(&p)?),
                    false => println!("{}", line(&p)),
                }
            }
        }
        PaymentsCommand::Reconcile { grace } => {
            let grace = roster_app::settings::parse_duration(&grace).map_err(anyhow::Error::msg)?;
            let grace = chrono::Duration::from_std(grace)?;
            let config = WorkerConfig::from_settings(&roster.settings, "http://127.0.0.1")?;
            let gateway = config
                .gateway
                .ok_or_else(|| anyhow::anyhow!("ROSTER_STRIPE_SECRET_KEY is not set"))?;
            let models = ReadModels::open(roster).await?;
            let filter = PaymentFilter {
                member: None,
                status: Some("processing".into()),
            };
            let mut after = None;
            loop {
                let page = models.payments(&filter, after.as_deref(), 500).await?;
                for p in &page.items {
                    let outcome = reconcile(roster, &gateway, p.payment_id, grace).await?;
                    if outcome != Reconciled::NothingOpen {
                        println!("{}  {outcome:?}", p.payment_id);
                    }
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
    }
    Ok(())
}

fn line(p: &PaymentRecord) -> String {
    let money = |minor: u64| {
        roster_domain::payment::format_minor(minor, p.exponent) + " " + p.currency.as_str()
    };
    format!(
        "{}  {}  {:<18}  {:>14}  refunded {:>14}  attempts {}",
        p.payment_id,
        p.member_id,
        p.status,
        money(p.amount),
        money(p.refunded_amount),
        p.attempts.len()
    )
}
