//! Scale-out on loopback: two API, two worker and two projection processes (`roster serve
//! --role …`) on one PostgreSQL database, registrations sent to both APIs, and one process of
//! each role killed with SIGKILL mid-load. Afterwards: every registration an API acknowledged
//! is in the log; every verification job ran (once: jobs are keyed by their event); every
//! acknowledged member got their mail, at most once more if a worker died between sending and
//! acknowledging; the read models equal a fresh replay; and the projection runner standing by
//! took over within `TAKEOVER` of its holder's death. Last, a key revoked by the CLI stops
//! working in the surviving API process.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::harness::{Backend, ServeProcess, TestApp, WAIT, eventually, spawn_app_with};
use crate::mail::{wait_for_workers_status, with_smtp};
use crate::smtp::{SmtpSink, header};

/// The longest a read model may stay behind after the projection holder died: its lease is
/// taken over within about a second (`roster_sql::LEASE_RETRY`); this leaves room for a busy
/// machine.
const TAKEOVER: Duration = Duration::from_secs(10);
/// Registrations sent; the kills happen after half of them.
const MEMBERS: usize = 40;

/// A registration sent to `base`: the member id if the API acknowledged it (201).
async fn register(app: &TestApp, base: &str, email: &str) -> Option<String> {
    let response = app
        .client
        .post(format!("{base}/v1/members"))
        .bearer_auth(&app.key)
        .json(&json!({ "email": email, "name": "Scale" }))
        .send()
        .await
        .ok()?;
    if response.status().as_u16() != 201 {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    body["member_id"].as_str().map(str::to_owned)
}

/// The projection process holding the lease (the one whose log says so).
async fn holder(projections: &[ServeProcess]) -> usize {
    eventually(WAIT, "a projection runner holding the lease", || async {
        projections
            .iter()
            .position(|p| p.log_text().contains("projection runner holds the lease"))
    })
    .await
}

#[tokio::test]
async fn two_of_each_role_on_postgres_survive_a_kill_of_one_of_each() {
    let sink = SmtpSink::start();
    let adjust = with_smtp(&sink);
    let api = spawn_app_with(Backend::Postgres, {
        let adjust = adjust.clone();
        move |serve: &mut Command, dir: &Path| {
            serve.args(["--role", "api"]);
            adjust(serve, dir);
        }
    })
    .await;
    let mut api2 = api.serve_role("api2", "api", adjust.clone());
    let mut workers = [
        api.serve_role("workers1", "workers", adjust.clone()),
        api.serve_role("workers2", "workers", adjust.clone()),
    ];
    let mut projections = [
        api.serve_role("projections1", "projections", adjust.clone()),
        api.serve_role("projections2", "projections", adjust.clone()),
    ];
    let bases = [api.address.clone(), api2.address.clone()];

    // Registrations to both APIs, ten at a time; one of each role killed half-way.
    let mut acknowledged: Vec<(String, String)> = Vec::new();
    let mut killed_at = None;
    for batch in 0..MEMBERS / 10 {
        let sends = (0..10).map(|i| {
            let n = batch * 10 + i;
            let email = format!("member{n}@example.com");
            let base = bases[n % 2].clone();
            let api = &api;
            async move { (register(api, &base, &email).await, email) }
        });
        for (member, email) in futures::future::join_all(sends).await {
            if let Some(member) = member {
                acknowledged.push((member, email));
            }
        }
        if batch == MEMBERS / 20 - 1 {
            let held = holder(&projections).await;
            projections[held].kill();
            workers[0].kill();
            api2.kill();
            killed_at = Some((Instant::now(), held));
        }
    }
    let (killed_at, held) = killed_at.unwrap();
    assert!(
        acknowledged.len() >= MEMBERS / 2 + MEMBERS / 4,
        "{}",
        acknowledged.len()
    );

    // The read model catches up through the runner that stood by.
    let last = &acknowledged.last().unwrap().0;
    let listed = |page: &Value| {
        page["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|m| m["member_id"] == last.as_str()))
    };
    api.get_until("/v1/members?limit=500", listed).await;
    let took = killed_at.elapsed();
    eprintln!("read models resumed {took:?} after the projection holder was killed");
    assert!(took < TAKEOVER, "read models resumed after {took:?}");
    let standby = &projections[1 - held];
    assert!(
        standby
            .log_text()
            .contains("projection runner holds the lease"),
        "the standby took over"
    );

    // Every acknowledged registration is in the log.
    for (member, _) in &acknowledged {
        api.get(&format!("/v1/members/{member}")).await.expect(200);
    }
    // Every verification mail went out, at most once more for a worker's death.
    let mailed =
        |mails: &[String], email: &str| mails.iter().any(|m| header(m, "To") == Some(email));
    let mails = sink.wait_until(WAIT, |mails| {
        acknowledged.iter().all(|(_, email)| mailed(mails, email))
    });
    for (_, email) in &acknowledged {
        let to = |m: &&String| header(m, "To") == Some(email.as_str());
        let count = mails.iter().filter(to).count();
        assert!((1..=2).contains(&count), "{email}: {count} mails");
    }
    let extra = mails.len() - acknowledged.len();
    assert!(extra <= 4, "{extra} mails beyond one each");
    // Every job ran: one per registration, all done.
    wait_for_workers_status(&api, |status| {
        let queue = &status["queues"]["mail.verification"];
        queue["Done"] == acknowledged.len() && queue.as_object().map(|q| q.len()) == Some(1)
    })
    .await;
    // Each process ran its role only: the API processes no projection runner, the worker and
    // projection processes no API.
    assert!(!api.log_text().contains("projection runner holds the lease"));
    let served = |base: &str, path: &str| {
        let url = format!("{base}{path}");
        let request = api.client.get(url).bearer_auth(&api.key);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    for process in [&workers[1], &projections[1 - held]] {
        assert_eq!(served(&process.address, "/health/live").await, 200);
        assert_eq!(served(&process.address, "/v1/members").await, 404);
    }

    // The read models equal a fresh replay of the log.
    let before = api.get("/v1/members?limit=500").await.expect(200).clone();
    let replayed = api.cli(&["replay"]);
    assert!(replayed.contains("accounts_v1"), "{replayed}");
    let after = api.get("/v1/members?limit=500").await.expect(200).clone();
    assert_eq!(before["items"], after["items"]);
    assert_eq!(
        before["items"].as_array().unwrap().len(),
        acknowledged.len()
    );

    // A key revoked by another process (`roster keys revoke`) is refused by the API process
    // that had it in mind, once the revocation's notification arrives.
    let created = api.cli(&["keys", "create", "--name", "scale", "--scopes", "queries"]);
    let secret = created.lines().last().unwrap().trim().to_owned();
    let members_with = |secret: &str| {
        let request = api
            .client
            .get(format!("{}/v1/members", api.address))
            .bearer_auth(secret);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(members_with(&secret).await, 200);
    assert_eq!(members_with(&secret).await, 200);
    let revoked = api.cli(&["keys", "revoke", "scale"]);
    assert!(revoked.contains("revoked key"), "{revoked}");
    let revoked_at = Instant::now();
    eventually(TAKEOVER, "the revoked key refused", || async {
        (members_with(&secret).await == 401).then_some(())
    })
    .await;
    eprintln!(
        "revoked key refused {:?} after `roster keys revoke` exited",
        revoked_at.elapsed()
    );
    drop(workers);
    drop(projections);
    api.stop();
}
