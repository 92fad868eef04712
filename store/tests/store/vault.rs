//! The identity vault's rows on both backends: a person's key is stored
//! once, versions come back oldest first, reads are logged, and an erasure
//! removes the key and every version so that their bytes are nowhere left
//! in the database.

use chrono::{TimeZone, Utc};
use windledger_store::testing::TestDatabase;
use windledger_store::{SealedVersion, VaultErasure, VaultKey, VaultRead};

fn key(holder: &str, marker: &str) -> VaultKey {
    VaultKey {
        ledger: "farm".into(),
        holder: holder.into(),
        master_key_id: "0011223344556677".into(),
        nonce: vec![7; 24],
        wrapped_key: format!("wrapped key of {marker}").into_bytes(),
        created_at: Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, 5).unwrap(),
    }
}

fn version(n: u8, marker: &str) -> SealedVersion {
    SealedVersion {
        recorded_at: Utc.with_ymd_and_hms(2025, 1, 2, 3, 4, n.into()).unwrap(),
        commitment: format!("{n:02x}").repeat(32),
        nonce: vec![n; 24],
        ciphertext: format!("ciphertext {n} of {marker}").into_bytes(),
    }
}

async fn a_persons_key_is_stored_once_and_versions_come_back_in_order(db: TestDatabase) {
    let store = db.store().await;
    assert!(store.insert_vault_key(&key("h-1", "anne")).await.unwrap());
    assert!(
        !store
            .insert_vault_key(&key("h-1", "someone else"))
            .await
            .unwrap(),
        "the first key stays"
    );
    assert_eq!(
        store.vault_key("farm", "h-1").await.unwrap(),
        Some(key("h-1", "anne"))
    );
    assert_eq!(store.vault_key("farm", "h-2").await.unwrap(), None);
    assert_eq!(store.vault_key("other", "h-1").await.unwrap(), None);

    let first = store
        .insert_vault_version("farm", "h-1", &version(1, "anne"))
        .await
        .unwrap();
    let second = store
        .insert_vault_version("farm", "h-1", &version(2, "anne"))
        .await
        .unwrap();
    assert!(second > first);
    let versions = store.vault_versions("farm", "h-1").await.unwrap();
    assert_eq!(
        versions.iter().map(|v| &v.sealed).collect::<Vec<_>>(),
        [&version(1, "anne"), &version(2, "anne")]
    );
    assert!(
        store
            .delete_vault_version("farm", "h-1", second)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_vault_version("farm", "h-1", second)
            .await
            .unwrap()
    );
    assert_eq!(store.vault_versions("farm", "h-1").await.unwrap().len(), 1);
    assert!(
        store
            .insert_vault_version("farm", "h-9", &version(1, "nobody"))
            .await
            .is_err(),
        "a version needs its person's key"
    );
    assert_eq!(store.vault_holders("farm").await.unwrap(), ["h-1"]);
}

async fn reads_are_logged_per_person(db: TestDatabase) {
    let store = db.store().await;
    let read = |holder: &str, s: u32| VaultRead {
        ledger: "farm".into(),
        holder: holder.into(),
        reader: "tok-secretary".into(),
        purpose: "convening the general meeting".into(),
        read_at: Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, s).unwrap(),
    };
    for r in [read("h-1", 1), read("h-2", 2), read("h-1", 3)] {
        store.log_vault_read(&r).await.unwrap();
    }
    assert_eq!(
        store.vault_reads("farm", Some("h-1")).await.unwrap(),
        [read("h-1", 1), read("h-1", 3)]
    );
    assert_eq!(store.vault_reads("farm", None).await.unwrap().len(), 3);
    assert!(store.vault_reads("other", None).await.unwrap().is_empty());
}

async fn an_erasure_leaves_none_of_the_persons_bytes_in_the_database(db: TestDatabase) {
    let store = db.store().await;
    for (holder, marker) in [("h-1", "ERASED-ANNE"), ("h-2", "KEPT-BRUNO")] {
        store.insert_vault_key(&key(holder, marker)).await.unwrap();
        for n in 1..=3 {
            store
                .insert_vault_version("farm", holder, &version(n, marker))
                .await
                .unwrap();
        }
    }
    assert!(
        !db.places_holding(b"ciphertext 2 of ERASED-ANNE")
            .await
            .is_empty()
    );

    let erased = store.erase_vault_subject("farm", "h-1").await.unwrap();
    assert_eq!(
        erased,
        VaultErasure {
            key: true,
            versions: 3
        }
    );
    for needle in ["ERASED-ANNE", "ciphertext 1 of ERASED-ANNE"] {
        assert_eq!(
            db.places_holding(needle.as_bytes()).await,
            Vec::<String>::new(),
            "{needle}"
        );
    }
    assert!(!db.places_holding(b"KEPT-BRUNO").await.is_empty());
    assert_eq!(store.vault_key("farm", "h-1").await.unwrap(), None);
    assert!(
        store
            .vault_versions("farm", "h-1")
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.vault_versions("farm", "h-2").await.unwrap().len(), 3);
    assert_eq!(
        store.erase_vault_subject("farm", "h-1").await.unwrap(),
        VaultErasure::default()
    );
}

async fn keys_are_rewrapped_all_or_none(db: TestDatabase) {
    let store = db.store().await;
    for holder in ["h-1", "h-2"] {
        store.insert_vault_key(&key(holder, holder)).await.unwrap();
    }
    let all = store.all_vault_keys().await.unwrap();
    assert_eq!(all, [key("h-1", "h-1"), key("h-2", "h-2")]);
    let rewrapped = |k: &VaultKey| VaultKey {
        master_key_id: "8899aabbccddeeff".into(),
        nonce: vec![9; 24],
        wrapped_key: b"under the new key".to_vec(),
        ..k.clone()
    };
    // One of them no longer under the old key: nothing changes.
    let mut stale = all.iter().map(rewrapped).collect::<Vec<_>>();
    stale.push(rewrapped(&key("h-3", "never stored")));
    assert!(
        store
            .rewrap_vault_keys("0011223344556677", &stale)
            .await
            .is_err()
    );
    assert_eq!(store.all_vault_keys().await.unwrap(), all, "none changed");
    let new: Vec<VaultKey> = all.iter().map(rewrapped).collect();
    store
        .rewrap_vault_keys("0011223344556677", &new)
        .await
        .unwrap();
    assert_eq!(store.all_vault_keys().await.unwrap(), new);
}

windledger_store::on_both_backends!(
    keys_are_rewrapped_all_or_none,
    a_persons_key_is_stored_once_and_versions_come_back_in_order,
    reads_are_logged_per_person,
    an_erasure_leaves_none_of_the_persons_bytes_in_the_database,
);
