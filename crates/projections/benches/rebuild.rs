//! Rebuild throughput on SQLite: a full rebuild of every projection against a raw scan and
//! decode of the same log, at N and 10N members.
//!
//! `cargo bench -p roster-projections` (`ROSTER_BENCH_QUICK=1` for a small run). Prints the
//! rates and the two ratios the issue sets goals for: rebuild rate / scan rate (goal >= 0.5)
//! and time(10N) / time(N) (goal <= 11).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use roster_app::testing::{self, Backend};
use roster_app::{CommandMeta, Roster, codec};
use roster_domain::member::{ConfirmMemberEmail, EditMemberProfile, RegisterMember};
use roster_domain::org::{AddOrgMember, CreateOrg};
use roster_domain::{Member, MemberCommand, OrgCommand, Organization};
use roster_projections::{RebuildOptions, rebuild};
use roster_store::ActorRef;
use uuid::Uuid;

/// Members per organization in the generated log.
const ORG_SIZE: usize = 10;

/// Medians over the rounds of one log size.
struct Figures {
    events: u64,
    scan: Duration,
    rebuild: Duration,
    /// Median of the per-round rebuild/scan rate ratios.
    ratio: f64,
}

fn main() {
    let quick = std::env::var("ROSTER_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (n, rounds) = if quick { (100, 3) } else { (1000, 5) };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let small = runtime.block_on(measure(n, rounds));
    let large = runtime.block_on(measure(10 * n, rounds));
    for (label, f) in [("N", &small), ("10N", &large)] {
        let scan_rate = f.events as f64 / f.scan.as_secs_f64();
        let rebuild_rate = f.events as f64 / f.rebuild.as_secs_f64();
        println!(
            "{label:>3}: {} events; scan+decode {:.3}s ({scan_rate:.0} ev/s); full rebuild {:.3}s ({rebuild_rate:.0} ev/s); \
             rebuild/scan rate {:.2} (median of rounds {:.2})",
            f.events,
            f.scan.as_secs_f64(),
            f.rebuild.as_secs_f64(),
            rebuild_rate / scan_rate,
            f.ratio,
        );
    }
    let scaling = large.rebuild.as_secs_f64() / small.rebuild.as_secs_f64();
    println!(
        "rebuild rate / scan-and-decode rate at 10N: {:.2} (goal >= 0.5)",
        large.ratio
    );
    println!("time(10N) / time(N) for a full rebuild: {scaling:.2} (goal <= 11)");
}

/// Generates a log for `members`, then times a raw scan and a full rebuild `rounds` times,
/// alternating which goes first, and keeps the medians.
async fn measure(members: usize, rounds: usize) -> Figures {
    let test = testing::open(Backend::Sqlite).await;
    let runtime = test.roster;
    generate(&runtime, members).await;
    let events = runtime.log.head().await.unwrap();
    let (mut scans, mut rebuilds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..rounds {
        let (scan, rebuilt) = if round % 2 == 0 {
            let scan = time_scan(&runtime, events).await;
            (scan, time_rebuild(&runtime, events).await)
        } else {
            let rebuilt = time_rebuild(&runtime, events).await;
            (time_scan(&runtime, events).await, rebuilt)
        };
        ratios.push(scan.as_secs_f64() / rebuilt.as_secs_f64());
        scans.push(scan);
        rebuilds.push(rebuilt);
    }
    Figures {
        events,
        scan: median(&mut scans),
        rebuild: median(&mut rebuilds),
        ratio: median(&mut ratios),
    }
}

fn median<T: PartialOrd + Copy>(values: &mut [T]) -> T {
    values.sort_by(|a, b| a.partial_cmp(b).unwrap());
    values[values.len() / 2]
}

async fn time_scan(runtime: &Roster, events: u64) -> Duration {
    let started = Instant::now();
    assert_eq!(scan_and_decode(runtime).await, events);
    started.elapsed()
}

async fn time_rebuild(runtime: &Roster, events: u64) -> Duration {
    let options = RebuildOptions {
        operator: "bench".into(),
        ..RebuildOptions::default()
    };
    let started = Instant::now();
    let report = rebuild(runtime, options, |_| {}).await.unwrap();
    assert_eq!(report.events, events);
    started.elapsed()
}

/// The baseline: read the whole log in pages and decode every event (opening personal data).
async fn scan_and_decode(runtime: &Roster) -> u64 {
    let mut after = 0;
    let mut count = 0;
    loop {
        let page = runtime.log.read_all(after, 500).await.unwrap();
        let Some(last) = page.last() else {
            return count;
        };
        after = last.position;
        for recorded in &page {
            let decoded = codec::decode_any(&runtime.vault, recorded).await.unwrap();
            assert!(decoded.is_some());
            count += 1;
        }
    }
}

/// Per member: registered, confirmed, profile edited; per ten members an organization that
/// adds the other nine. Commands run 32 at a time so the store's group commit batches them.
async fn generate(runtime: &Roster, members: usize) {
    let ids: Vec<Uuid> = futures::stream::iter(0..members)
        .map(|i| member(runtime, i))
        .buffer_unordered(32)
        .collect()
        .await;
    futures::stream::iter(ids.chunks(ORG_SIZE))
        .for_each_concurrent(8, |chunk| org(runtime, chunk))
        .await;
}

async fn member(runtime: &Roster, i: usize) -> Uuid {
    let meta = CommandMeta::new(ActorRef::App("bench".into()));
    let id = runtime.commands.new_id();
    let ticket = runtime.members.tickets().ticket(id);
    let register = MemberCommand::Register(RegisterMember {
        member_id: id,
        email: format!("m{i}-{}@example.com", id.simple()),
        name: format!("Member {i}"),
        fields: BTreeMap::from([("plan".into(), "gold".into())]),
        company: Some("Acme".into()),
        location: Some("Lisbon".into()),
        verification: Some(ticket.clone()),
        referred_by: None,
    });
    let edit = MemberCommand::EditProfile(EditMemberProfile {
        name: Some(format!("Member {i} renamed")),
        ..EditMemberProfile::default()
    });
    for command in [
        register,
        MemberCommand::ConfirmEmail(ConfirmMemberEmail {
            token_hash: ticket.token_hash,
        }),
        edit,
    ] {
        runtime
            .commands
            .execute::<Member>(id, &command, &meta)
            .await
            .unwrap();
    }
    id
}

async fn org(runtime: &Roster, members: &[Uuid]) {
    let meta = CommandMeta::new(ActorRef::App("bench".into()));
    let org = runtime.commands.new_id();
    let create = OrgCommand::Create(CreateOrg {
        org_id: org,
        name: "Org".into(),
        owner_id: members[0],
        seat_limit: 20,
    });
    runtime
        .commands
        .execute::<Organization>(org, &create, &meta)
        .await
        .unwrap();
    for (i, member) in members.iter().enumerate().skip(1) {
        let role = if i % 2 == 0 { "member" } else { "customer" };
        let add = OrgCommand::AddMember(AddOrgMember {
            member_id: *member,
            role: role.into(),
        });
        runtime
            .commands
            .execute::<Organization>(org, &add, &meta)
            .await
            .unwrap();
    }
}
