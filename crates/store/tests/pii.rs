//! Sealing personal data and crypto-shredding, on the embedded store.

use roster_store::SqlStore;
use roster_store::pii::{MasterKey, Vault};
use roster_store::testing::sqlite_temp;
use serde_json::json;
use uuid::Uuid;

async fn vault() -> (Vault, tempfile::TempDir) {
    let (store, dir) = sqlite_temp().await;
    (
        Vault::new(&MasterKey::generate(), store.into_parts().keys),
        dir,
    )
}

fn payload() -> serde_json::Value {
    json!({ "member_id": "m", "personal": { "email": "ada@example.com", "name": "Ada" }, "at": 1 })
}

#[tokio::test]
async fn sealed_personal_data_holds_no_plaintext_and_opens_again() {
    let (vault, _dir) = vault().await;
    let subject = Uuid::now_v7();
    let sealed = vault.seal_payload(subject, payload()).await.unwrap();
    let text = sealed.to_string();
    assert!(
        !text.contains("ada@example.com") && !text.contains("Ada"),
        "{text}"
    );
    assert_eq!(
        sealed["member_id"], "m",
        "fields outside `personal` stay readable"
    );
    assert_eq!(vault.open_payload(sealed).await.unwrap(), payload());
}

#[tokio::test]
async fn shredding_the_key_makes_every_copy_read_as_null() {
    let (vault, _dir) = vault().await;
    let subject = Uuid::now_v7();
    let first = vault.seal_payload(subject, payload()).await.unwrap();
    let second = vault.seal_payload(subject, payload()).await.unwrap();
    assert!(vault.shred(subject).await.unwrap());
    for copy in [first, second] {
        let opened = vault.open_payload(copy).await.unwrap();
        assert_eq!(opened["personal"], serde_json::Value::Null);
        assert_eq!(opened["member_id"], "m");
    }
    assert!(
        !vault.shred(subject).await.unwrap(),
        "a second shred finds no live key"
    );
}

#[tokio::test]
async fn no_new_personal_data_is_sealed_for_a_shredded_member() {
    let (vault, _dir) = vault().await;
    let subject = Uuid::now_v7();
    vault.seal_payload(subject, payload()).await.unwrap();
    vault.shred(subject).await.unwrap();
    assert!(vault.seal_payload(subject, payload()).await.is_err());
}

#[tokio::test]
async fn a_sealed_value_cannot_be_moved_to_another_member() {
    let (vault, _dir) = vault().await;
    let (alice, mallory) = (Uuid::now_v7(), Uuid::now_v7());
    vault.seal_payload(mallory, payload()).await.unwrap();
    let mut sealed = vault.seal_payload(alice, payload()).await.unwrap();
    sealed["personal"]["sealed_v1"]["subject"] = json!(mallory);
    assert!(vault.open_payload(sealed).await.is_err());
}

#[tokio::test]
async fn payloads_without_personal_data_pass_through() {
    let (vault, _dir) = vault().await;
    let plain = json!({ "org_id": "o", "personal": null });
    assert_eq!(
        vault
            .seal_payload(Uuid::now_v7(), plain.clone())
            .await
            .unwrap(),
        plain
    );
    assert_eq!(vault.open_payload(plain.clone()).await.unwrap(), plain);
}

#[tokio::test]
async fn the_email_index_is_keyed_by_the_master_key() {
    let (store, _dir) = sqlite_temp().await;
    let keys = store.into_parts().keys;
    let one = Vault::new(&MasterKey::generate(), keys.clone());
    let other = Vault::new(&MasterKey::generate(), keys);
    assert_eq!(
        one.email_index("ada@example.com"),
        one.email_index("ada@example.com")
    );
    assert_ne!(
        one.email_index("ada@example.com"),
        one.email_index("bob@example.com")
    );
    assert_ne!(
        one.email_index("ada@example.com"),
        other.email_index("ada@example.com")
    );
    assert!(!one.email_index("ada@example.com").contains("ada"));
}

#[test]
fn the_master_key_file_is_created_private_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys/master.key");
    let created = MasterKey::load_or_create(&path).unwrap();
    let again = MasterKey::load_or_create(&path).unwrap();
    assert_eq!(created.to_base64(), again.to_base64());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(MasterKey::from_base64("not a key").is_err());
    assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
}

#[tokio::test]
async fn a_verification_token_is_rebuilt_from_its_nonce_only_with_the_master_key() {
    let (ours, _dir) = vault().await;
    let (member, other) = (Uuid::now_v7(), Uuid::now_v7());
    let token = ours.verification_token(member, "nonce-one");
    assert_eq!(token.len(), 43, "32 bytes of URL-safe base64: {token}");
    assert!(
        token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    );
    assert_eq!(ours.verification_token(member, "nonce-one"), token);
    assert_ne!(ours.verification_token(member, "nonce-two"), token);
    assert_ne!(ours.verification_token(other, "nonce-one"), token);
    let (another_vault, _other_dir) = vault().await;
    assert_ne!(another_vault.verification_token(member, "nonce-one"), token);
}
