//! `windledger backup` and `windledger restore` after the demo: the copy
//! restores into a new SQLite database with the same events, and is
//! refused where it would overwrite or could not be checked.

use windledger_store::CheckpointSigner;

use crate::support::{REFERENCE_EVENTS, demo, failure, success, windledger};

#[test]
fn the_demo_backs_up_and_restores_into_a_new_database() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    demo(here, &[]);

    let said = success(&windledger(here, &["backup", "copies"]), "backup");
    assert!(
        said.contains("Backup key: windledger-backup.key (created"),
        "{said}"
    );
    assert!(
        said.contains(&format!(
            "Ledger ailes-de-taillard: {REFERENCE_EVENTS} events"
        )),
        "{said}"
    );
    assert!(here.join("copies/manifest.json").exists());

    let restored = "sqlite://restored.sqlite";
    let said = success(
        &windledger(here, &["restore", "copies", "--database-url", restored]),
        "restore",
    );
    assert!(
        said.contains(&format!(
            "Ledger ailes-de-taillard: {REFERENCE_EVENTS} events restored"
        )),
        "{said}"
    );
    let original = success(&windledger(here, &["export", "events"]), "export");
    let copy = success(
        &windledger(here, &["export", "events", "--database-url", restored]),
        "export of the restored",
    );
    assert_eq!(copy, original);

    // Into a database that has the ledger: refused, in one sentence.
    let error = failure(
        &windledger(here, &["restore", "copies", "--database-url", restored]),
        "a second restore",
    );
    assert!(error.contains("already exists"), "{error}");
    // With another server's public key: the seals do not verify.
    let stranger = CheckpointSigner::generate("stranger")
        .expect("a key")
        .verifier()
        .to_string();
    let error = failure(
        &windledger(
            here,
            &[
                "restore",
                "copies",
                "--database-url",
                "sqlite://other.sqlite",
                "--public-key",
                &stranger,
            ],
        ),
        "a restore with another key",
    );
    assert!(error.contains("does not verify"), "{error}");
    // A folder with no backup: refused before any database is created.
    let error = failure(
        &windledger(
            here,
            &[
                "restore",
                "nowhere",
                "--database-url",
                "sqlite://none.sqlite",
            ],
        ),
        "a restore of nothing",
    );
    assert!(error.contains("manifest.json"), "{error}");
    assert!(!here.join("none.sqlite").exists());
}
