//! The data-key table beside the log (crypto-shredding).

use roster_store::keys::KeyState;
use uuid::Uuid;

use super::Fixture;

pub async fn a_data_key_is_created_once_and_then_returned(fx: Fixture) {
    let keys = &fx.keys;
    let subject = Uuid::now_v7();
    assert_eq!(keys.get(subject).await.unwrap(), KeyState::Missing);
    let first = keys.get_or_create(subject, vec![1; 32]).await.unwrap();
    assert_eq!(first, KeyState::Live(vec![1; 32]));
    // A second create with other bytes keeps the first key.
    let second = keys.get_or_create(subject, vec![2; 32]).await.unwrap();
    assert_eq!(second, KeyState::Live(vec![1; 32]));
    assert_eq!(
        keys.get(subject).await.unwrap(),
        KeyState::Live(vec![1; 32])
    );
}

pub async fn get_many_reports_live_destroyed_and_missing_keys(fx: Fixture) {
    let keys = &fx.keys;
    let (live, destroyed, missing) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    keys.get_or_create(live, vec![7; 32]).await.unwrap();
    keys.get_or_create(destroyed, vec![8; 32]).await.unwrap();
    assert!(keys.destroy(destroyed).await.unwrap());
    let states = keys.get_many(&[live, destroyed, missing]).await.unwrap();
    assert_eq!(states.len(), 3);
    assert_eq!(states[&live], KeyState::Live(vec![7; 32]));
    assert_eq!(states[&destroyed], KeyState::Destroyed);
    assert_eq!(states[&missing], KeyState::Missing);
    assert!(keys.get_many(&[]).await.unwrap().is_empty());
}

pub async fn a_destroyed_key_is_never_recreated(fx: Fixture) {
    let keys = &fx.keys;
    let subject = Uuid::now_v7();
    keys.get_or_create(subject, vec![3; 32]).await.unwrap();
    assert!(keys.destroy(subject).await.unwrap());
    assert!(
        !keys.destroy(subject).await.unwrap(),
        "a second destroy finds no live key"
    );
    assert_eq!(keys.get(subject).await.unwrap(), KeyState::Destroyed);
    assert_eq!(
        keys.get_or_create(subject, vec![4; 32]).await.unwrap(),
        KeyState::Destroyed
    );
    assert_eq!(keys.get(subject).await.unwrap(), KeyState::Destroyed);
}

pub async fn destroying_a_subject_without_a_key_leaves_a_tombstone(fx: Fixture) {
    let keys = &fx.keys;
    let subject = Uuid::now_v7();
    assert!(!keys.destroy(subject).await.unwrap());
    assert_eq!(keys.get(subject).await.unwrap(), KeyState::Destroyed);
    assert_eq!(
        keys.get_or_create(subject, vec![5; 32]).await.unwrap(),
        KeyState::Destroyed
    );
}
