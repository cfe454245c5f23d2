//! Permission checks from the read model agree with the domain, and point-in-time questions
//! fold the log up to the instant asked about.

use chrono::Duration;
use roster_domain::OrgCommand;
use roster_domain::org::{AssignOrgRole, RevokeOrgRole};

use crate::harness::{Backend, env, t0};
use crate::on_both_backends;

async fn checks_answer_with_the_reason_and_the_past_is_folded_from_the_log(backend: Backend) {
    let env = env(backend).await;
    let runner = env.start().await;
    let (ids, org) = env.workload(4).await;
    let writer = ids[3]; // a freelancer in the "writers" group, which holds "editor"
    env.caught_up().await;

    let check = env
        .read
        .check(writer, org, "reports.view", None)
        .await
        .unwrap();
    assert!(check.allowed);
    assert_eq!(check.via.len(), 1);
    assert_eq!(
        (check.via[0].role.as_str(), check.via[0].group.as_deref()),
        ("editor", Some("writers"))
    );
    assert!(
        !env.read
            .check(writer, org, "billing.plan.manage", None)
            .await
            .unwrap()
            .allowed
    );
    let guest = ids[1];
    let via_guest = |check: roster_domain::CheckResult| check.via.iter().any(|v| v.role == "guest");
    assert!(via_guest(
        env.read
            .check(guest, org, "channels.read", Some("channel:42"))
            .await
            .unwrap()
    ));

    let before = t0() + Duration::minutes(1);
    env.clock.advance(Duration::hours(1));
    env.org(
        org,
        OrgCommand::AssignRole(AssignOrgRole {
            member_id: writer,
            role: "administrator".into(),
            scope: None,
            expires_at: None,
        }),
    )
    .await;
    env.clock.advance(Duration::hours(1));
    env.org(
        org,
        OrgCommand::RevokeRole(RevokeOrgRole {
            member_id: writer,
            role: "administrator".into(),
            scope: None,
        }),
    )
    .await;
    env.caught_up().await;

    let during = t0() + Duration::minutes(90);
    assert!(
        env.read
            .check_at(writer, org, "customers.view", None, during)
            .await
            .unwrap()
            .allowed
    );
    assert!(
        !env.read
            .check_at(writer, org, "customers.view", None, before)
            .await
            .unwrap()
            .allowed
    );
    assert!(
        !env.read
            .check(writer, org, "customers.view", None)
            .await
            .unwrap()
            .allowed
    );
    let then = env.read.permissions_at(writer, org, during).await.unwrap();
    assert!(
        then.iter()
            .any(|g| g.permission == "customers.view" && g.role == "administrator")
    );

    // The guest grant expires after 30 days: the read model stops counting it without an event.
    env.clock.advance(Duration::days(31));
    assert!(!via_guest(
        env.read
            .check(guest, org, "channels.read", Some("channel:42"))
            .await
            .unwrap()
    ));
    let view = env.read.org(org).await.unwrap().unwrap();
    assert_eq!(view.members.len(), 4);
    assert_eq!(view.groups.len(), 1);
    runner.shutdown().await;
}
on_both_backends!(checks_answer_with_the_reason_and_the_past_is_folded_from_the_log);
