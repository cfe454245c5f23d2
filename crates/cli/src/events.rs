//! `roster events list` and `roster events tail`: the log, human-readable or as JSON lines.

use clap::Subcommand;
use futures::StreamExt;
use roster_app::Roster;
use roster_store::{Position, RecordedEvent, subscription};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Print events of the whole log, or of one stream.
    List {
        /// Only this stream (e.g. `member-0190…`).
        #[arg(long)]
        stream: Option<String>,
        /// Only events after this global position.
        #[arg(long, default_value_t = 0)]
        after: Position,
        /// At most this many events.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        #[command(flatten)]
        format: Format,
    },
    /// Print events as they are appended (catch up from --after, default: the current head).
    Tail {
        #[arg(long)]
        after: Option<Position>,
        #[command(flatten)]
        format: Format,
    },
}

#[derive(Debug, clap::Args)]
pub struct Format {
    /// One JSON object per line.
    #[arg(long)]
    json: bool,
    /// Show personal data in clear (it is stored sealed); erased members show null.
    #[arg(long)]
    decrypt: bool,
}

pub async fn run(roster: &Roster, command: EventsCommand) -> anyhow::Result<()> {
    match command {
        EventsCommand::List {
            stream,
            after,
            limit,
            format,
        } => {
            let events = match stream {
                Some(stream) => {
                    let all = roster.log.read_stream(&stream, 0, usize::MAX).await?;
                    all.into_iter()
                        .filter(|e| e.position > after)
                        .take(limit)
                        .collect()
                }
                None => roster.log.read_all(after, limit).await?,
            };
            for event in events {
                print(roster, event, &format).await?;
            }
        }
        EventsCommand::Tail { after, format } => {
            let after = match after {
                Some(after) => after,
                None => roster.log.head().await?,
            };
            let mut live = subscription::subscribe(roster.log.clone(), after);
            loop {
                tokio::select! {
                    next = live.next() => match next {
                        Some(event) => print(roster, event?, &format).await?,
                        None => break,
                    },
                    _ = tokio::signal::ctrl_c() => break,
                }
            }
        }
    }
    Ok(())
}

async fn print(roster: &Roster, mut event: RecordedEvent, format: &Format) -> anyhow::Result<()> {
    if format.decrypt {
        event.payload = roster.vault.open_payload(event.payload).await?;
    }
    if format.json {
        let line = json!({
            "position": event.position,
            "stream": event.stream,
            "version": event.version,
            "event_id": event.event_id,
            "type": event.event_type,
            "payload": event.payload,
            "metadata": event.metadata,
        });
        println!("{line}");
    } else {
        println!(
            "{:>8}  {}  {}@{}  {}  {}",
            event.position,
            event.metadata.recorded_at.format("%Y-%m-%d %H:%M:%S%.3f"),
            event.stream,
            event.version,
            event.event_type,
            event.payload,
        );
    }
    Ok(())
}
