//! The continuity plan: a backup of the reference farm restores into a new
//! database (of the same kind, and into SQLite) with the same head, events,
//! seals and signed checkpoints; an altered copy, another key or another
//! server's key are refused before anything is written.

use windledger_app::backup::{self, BackupError, BackupKey, MANIFEST};
use windledger_store::testing::{Backend, TestDatabase};
use windledger_store::{Checkpoint, LedgerId, Store, StoreError};

use crate::server::copy_reference_farm;

async fn everything(store: &Store, ledger: &LedgerId) -> (Vec<u8>, Vec<String>) {
    let mut export = Vec::new();
    store
        .export_jsonl(ledger, &mut export, |_, _| {})
        .await
        .expect("an export");
    let notes = store
        .signed_checkpoints(ledger)
        .await
        .expect("the checkpoints")
        .into_iter()
        .map(|(c, at)| format!("{} {} {at}", c.size, c.note))
        .collect();
    (export, notes)
}

async fn a_backup_restores_to_the_same_head_and_refuses_what_does_not_verify(mut db: TestDatabase) {
    let ledger = copy_reference_farm(&mut db).await;
    let store = db.store().await;
    let signer = db.checkpoint_signer();
    let head = store.head(&ledger).await.expect("a head");
    let checkpoint = Checkpoint::new(ledger.clone(), head, chrono::Utc::now());
    store
        .record_signed_checkpoint(&checkpoint, &signer.sign(&checkpoint))
        .await
        .expect("a checkpoint");
    let keys = db.keys();
    let original = everything(&store, &ledger).await;

    let folder = tempfile::tempdir().expect("a folder");
    let copies = folder.path().join("copies");
    let (key, created) =
        BackupKey::read_or_create(&folder.path().join("backup.key")).expect("a backup key");
    assert!(created);
    let manifest = backup::back_up(&store, &copies, &key, |_| {})
        .await
        .expect("a backup");
    assert_eq!(manifest.ledgers.len(), 1);
    assert_eq!(
        (manifest.ledgers[0].events, manifest.ledgers[0].head),
        (head.size, head.hash)
    );
    // Encrypted: no payload readable in the copy.
    let file = std::fs::read(copies.join(&manifest.ledgers[0].file)).expect("the copy");
    assert!(!file.windows(8).any(|w| w == b"citoyens"));
    // A second backup into the same folder is refused.
    let again = backup::back_up(&store, &copies, &key, |_| {}).await;
    assert!(matches!(again, Err(BackupError::Unreadable { .. })));

    for target in [db.backend, Backend::Sqlite] {
        let Some(fresh) = TestDatabase::new(target).await else {
            continue;
        };
        let restored_store = fresh.store().await;
        let heads = backup::restore(&restored_store, &copies, &key, &keys, |_, _| {})
            .await
            .expect("the backup restores");
        assert_eq!(heads, vec![(ledger.clone(), head)]);
        assert_eq!(everything(&restored_store, &ledger).await, original);
        // Restoring over a ledger that exists writes nothing.
        let twice = backup::restore(&restored_store, &copies, &key, &keys, |_, _| {}).await;
        assert!(
            matches!(twice, Err(BackupError::Store(StoreError::LedgerExists(_)))),
            "{twice:?}"
        );
        assert_eq!(restored_store.head(&ledger).await.expect("a head"), head);
    }

    // Another backup key, another server key, an altered file, a manifest
    // that says another head: refused, and nothing written.
    let empty = TestDatabase::sqlite();
    let empty_store = empty.store().await;
    let (other_key, _) =
        BackupKey::read_or_create(&folder.path().join("other.key")).expect("a key");
    let refused = backup::restore(&empty_store, &copies, &other_key, &keys, |_, _| {}).await;
    assert!(
        matches!(refused, Err(BackupError::Altered { .. })),
        "{refused:?}"
    );
    let stranger = TestDatabase::sqlite().keys();
    let refused = backup::restore(&empty_store, &copies, &key, &stranger, |_, _| {}).await;
    assert!(
        matches!(refused, Err(BackupError::DoesNotVerify { .. })),
        "{refused:?}"
    );
    let manifest_path = copies.join(MANIFEST);
    let text = std::fs::read_to_string(&manifest_path).expect("the manifest");
    let moved = text.replace(
        &format!("\"events\": {}", head.size),
        &format!("\"events\": {}", head.size - 1),
    );
    assert_ne!(moved, text);
    std::fs::write(&manifest_path, moved).expect("a rewritten manifest");
    let refused = backup::restore(&empty_store, &copies, &key, &keys, |_, _| {}).await;
    assert!(
        matches!(refused, Err(BackupError::Altered { .. })),
        "{refused:?}"
    );
    std::fs::write(&manifest_path, &text).expect("the manifest back");
    let mut altered = file.clone();
    let middle = altered.len() / 2;
    altered[middle] ^= 1;
    std::fs::write(copies.join(&manifest.ledgers[0].file), altered).expect("an altered copy");
    let refused = backup::restore(&empty_store, &copies, &key, &keys, |_, _| {}).await;
    assert!(
        matches!(refused, Err(BackupError::DoesNotVerify { .. })),
        "{refused:?}"
    );
    assert!(empty_store.ledgers().await.expect("ledgers").is_empty());
}

windledger_store::on_both_backends!(
    a_backup_restores_to_the_same_head_and_refuses_what_does_not_verify
);
