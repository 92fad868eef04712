//! `windledger demo`, run as a user runs it: the built binary, in a folder
//! of its own, twice.

use std::path::Path;
use std::process::{Command, Output};

use windledger_store::testing::{Backend, TestDatabase};
use windledger_store::{
    CheckpointSigner, Head, LedgerId, Store, StoreOptions, StreamId, Verification, verify_jsonl,
};

/// Events the scripted history records: incorporation, eight admissions,
/// the initial issuance, one transfer.
const SCRIPTED_EVENTS: u64 = 11;

fn demo(folder: &Path, database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_windledger"))
        .args(["demo", "--database-url", database_url])
        .current_dir(folder)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG")
        .output()
        .expect("the windledger binary runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "the demo failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

async fn head(database_url: &str) -> (Store, LedgerId, Head) {
    let store = Store::connect(StoreOptions::new(database_url))
        .await
        .expect("the demo's database opens");
    let ledger = LedgerId::parse("ailes-de-taillard").expect("a ledger id");
    let head = store.head(&ledger).await.expect("the demo's ledger exists");
    (store, ledger, head)
}

/// What an auditor holds after a run: the export, the signed checkpoint and
/// the key. The checkpoint covers the whole export.
fn audit(folder: &Path, stem: &str) -> Head {
    let signer = CheckpointSigner::from_secret_key(
        &std::fs::read_to_string(folder.join(format!("{stem}.key"))).expect("the key file"),
    )
    .expect("a signing key");
    let note =
        std::fs::read_to_string(folder.join(format!("{stem}.checkpoint"))).expect("the note");
    let checkpoint = signer.verifier().verify(&note).expect("a signed note");
    let export = std::fs::File::open(folder.join(format!("{stem}.jsonl"))).expect("the export");
    match verify_jsonl(
        std::io::BufReader::new(export),
        std::slice::from_ref(&checkpoint),
        |_| {},
    ) {
        Ok(Verification::Intact {
            head,
            checkpoints_checked: 1,
        }) => {
            assert_eq!((checkpoint.size, checkpoint.head), (head.size, head.hash));
            head
        }
        other => panic!("the export should verify against the checkpoint: {other:?}"),
    }
}

#[tokio::test]
async fn a_second_run_appends_nothing_and_both_verify() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", folder.path().join("farm.sqlite").display());

    let first = stdout(&demo(folder.path(), &url));
    assert!(first.contains("illustrative scenario with invented figures"));
    assert!(first.contains("Recording the scripted history"));
    assert!(first.contains("Chain verified from the database: intact, 11 events"));
    assert!(first.contains("Offline check of"));
    let (store, ledger, head_after_first) = head(&url).await;
    assert_eq!(head_after_first.size, SCRIPTED_EVENTS);
    let stream = StreamId::parse("company/main").expect("a stream id");
    let types: Vec<_> = store
        .read_stream(&ledger, &stream, 0, 100)
        .await
        .expect("the company stream")
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types.first().map(String::as_str),
        Some("CompanyIncorporated")
    );
    assert_eq!(types.last().map(String::as_str), Some("SharesTransferred"));
    assert_eq!(audit(folder.path(), "farm"), head_after_first);

    let key_path = folder.path().join("farm.key");
    let key = std::fs::read_to_string(&key_path).expect("the key file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path)
            .expect("the key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the signing key is for its owner only");
    }

    let second = stdout(&demo(folder.path(), &url));
    assert!(second.contains("already holds 11 events"));
    assert!(!second.contains("Recording the scripted history"));
    assert!(second.contains("consistent with the checkpoint of 11 events"));
    assert!(second.contains("(reused)"));
    let (_, _, head_after_second) = head(&url).await;
    assert_eq!(head_after_second, head_after_first);
    assert_eq!(
        std::fs::read_to_string(&key_path).expect("the key file"),
        key,
        "the key is reused"
    );
    assert_eq!(audit(folder.path(), "farm"), head_after_first);
}

#[tokio::test]
async fn the_demo_runs_on_postgres_too() {
    let Some(db) = TestDatabase::new(Backend::Postgres).await else {
        return;
    };
    let folder = tempfile::tempdir().expect("a temporary folder");
    stdout(&demo(folder.path(), &db.url));
    let second = stdout(&demo(folder.path(), &db.url));
    assert!(second.contains("already holds 11 events"));
    let (_, _, head) = head(&db.url).await;
    assert_eq!(head.size, SCRIPTED_EVENTS);
    assert_eq!(audit(folder.path(), "windledger-demo"), head);
}

#[test]
fn a_database_it_cannot_use_is_one_sentence_and_exit_code_1() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let output = demo(folder.path(), "mysql://localhost/farm");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("error: cannot open the database mysql://localhost/farm"));
    assert!(!stderr.contains("panicked"));
}
