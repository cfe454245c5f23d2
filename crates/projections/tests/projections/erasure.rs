//! Erasure: the member's personal data leaves the read models, and a replay after the key is
//! destroyed gives the same tables.

use roster_domain::MemberCommand;
use roster_domain::member::RequestMemberErasure;
use roster_projections::read::AuditFilter;
use roster_projections::{RebuildOptions, rebuild};

use crate::harness::{Backend, assert_same_tables, env};
use crate::on_both_backends;

async fn erasure_masks_personal_data_in_accounts_and_audit(backend: Backend) {
    let env = env(backend).await;
    let runner = env.start().await;
    let id = env.register("Zelda").await;
    env.caught_up().await;
    let account = env.read.member(id).await.unwrap().unwrap();
    let email = account.email.clone().unwrap();
    assert_eq!(account.name.as_deref(), Some("Zelda"));
    assert_eq!(account.status, "pending_confirmation");

    env.member(id, MemberCommand::RequestErasure(RequestMemberErasure {}))
        .await;
    env.roster.vault.shred(id).await.unwrap();
    env.caught_up().await;

    let account = env.read.member(id).await.unwrap().unwrap();
    assert_eq!(account.status, "erased");
    assert_eq!(
        (account.email, account.name, account.company),
        (None, None, None)
    );
    assert!(account.fields.is_empty());
    let filter = AuditFilter {
        member: Some(id.to_string()),
        ..AuditFilter::default()
    };
    let audit = env.read.audit(&filter, 0, 100).await.unwrap();
    assert_eq!(audit.items.len(), 2);
    let everything = format!("{:?}", env.snapshot().await);
    assert!(!everything.contains(&email) && !everything.contains("Zelda"));

    let live = env.snapshot().await;
    let options = RebuildOptions {
        operator: "test".into(),
        ..RebuildOptions::default()
    };
    rebuild(&env.roster, options, |_| {}).await.unwrap();
    assert_same_tables(&live, &env.snapshot().await);
    runner.shutdown().await;
}
on_both_backends!(erasure_masks_personal_data_in_accounts_and_audit);
