//! `windledger demo`, run as a user runs it: the built binary, in a folder
//! of its own, twice.

use std::path::Path;
use std::process::{Command, Output};

use windledger_store::testing::{Backend, TestDatabase};
use windledger_store::{
    CheckpointSigner, Head, LedgerId, Store, StoreOptions, StreamId, Verification, verify_jsonl,
};

/// Events of the reference farm (`fixtures/ailes-de-taillard.jsonl`), which
/// the demo imports into an empty ledger.
use crate::support::REFERENCE_EVENTS;

/// `windledger demo --no-serve`: the set-up, then exit.
fn demo(folder: &Path, database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_windledger"))
        .args(["demo", "--no-serve", "--database-url", database_url])
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
        &[signer.verifier()],
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
    assert!(first.contains("Importing the reference farm"));
    assert!(first.contains(&format!(
        "Chain verified from the database: intact, {REFERENCE_EVENTS} events"
    )));
    assert!(first.contains("Offline check of"));
    for role in [
        "secretary:",
        "municipality, acting for ccmp:",
        "operator:",
        "shareholder, acting for cit-001:",
    ] {
        assert!(first.contains(role), "a token for {role}");
    }
    let (store, ledger, head_after_first) = head(&url).await;
    assert_eq!(head_after_first.size, REFERENCE_EVENTS);
    let stream = StreamId::parse("company/ailes-de-taillard").expect("a stream id");
    let types: Vec<_> = store
        .read_stream(&ledger, &stream, 0, 10_000)
        .await
        .expect("the company stream")
        .into_iter()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(
        types.first().map(String::as_str),
        Some("CompanyIncorporated")
    );
    assert!(types.iter().any(|t| t == "SharesTransferred"));
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
        // The database holds the tokens' hashes: its owner's only too, with
        // its WAL files, and made so again if someone opened it up.
        let private = |what: &str| {
            for suffix in ["", "-wal", "-shm"] {
                let path = folder.path().join(format!("farm.sqlite{suffix}"));
                if let Ok(meta) = std::fs::metadata(&path) {
                    let mode = meta.permissions().mode();
                    assert_eq!(mode & 0o777, 0o600, "{} {what}", path.display());
                }
            }
        };
        private("after the first run");
        std::fs::set_permissions(
            folder.path().join("farm.sqlite"),
            std::fs::Permissions::from_mode(0o644),
        )
        .expect("opened up");
        stdout(&demo(folder.path(), &url));
        private("after a run on a database others could read");
    }

    let second = stdout(&demo(folder.path(), &url));
    assert!(second.contains(&format!("already holds {REFERENCE_EVENTS} events")));
    assert!(!second.contains("Importing the reference farm"));
    assert!(second.contains(&format!(
        "consistent with the checkpoint of {REFERENCE_EVENTS} events"
    )));
    assert!(second.contains("(reused)"));
    let (_, _, head_after_second) = head(&url).await;
    assert_eq!(head_after_second, head_after_first);
    assert_eq!(
        std::fs::read_to_string(&key_path).expect("the key file"),
        key,
        "the key is reused"
    );
    assert_eq!(audit(folder.path(), "farm"), head_after_first);

    // Each run revokes the tokens of the runs before it: four in force, each
    // ending within 30 days, however often the demo runs.
    assert!(
        second.contains("tokens of earlier demo runs are revoked"),
        "{second}"
    );
    let tokens = store
        .tokens(Some(ledger.as_str()))
        .await
        .expect("the tokens");
    let runs = tokens.len() / 4;
    assert!(runs >= 2, "{} tokens", tokens.len());
    let in_force: Vec<_> = tokens.iter().filter(|t| t.revoked_at.is_none()).collect();
    assert_eq!(in_force.len(), 4, "{tokens:?}");
    let now = chrono::Utc::now();
    for t in &tokens {
        let expires = t.expires_at.expect("every demo token expires");
        assert!(expires > now && expires <= now + chrono::Duration::days(30));
    }
}

#[tokio::test]
async fn the_demo_runs_on_postgres_too() {
    let Some(db) = TestDatabase::new(Backend::Postgres).await else {
        return;
    };
    let folder = tempfile::tempdir().expect("a temporary folder");
    stdout(&demo(folder.path(), &db.url));
    let second = stdout(&demo(folder.path(), &db.url));
    assert!(second.contains(&format!("already holds {REFERENCE_EVENTS} events")));
    let (_, _, head) = head(&db.url).await;
    assert_eq!(head.size, REFERENCE_EVENTS);
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

/// The demo as the README runs it: it serves until SIGTERM, answers with
/// the tokens it printed, and stops cleanly.
#[cfg(unix)]
#[test]
fn the_demo_serves_with_the_tokens_it_prints_and_stops_on_sigterm() {
    use crate::support::http_get;
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let folder = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite://{}", folder.path().join("farm.sqlite").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_windledger"))
        .args(["demo", "--listen", "127.0.0.1:0", "--database-url", &url])
        .current_dir(folder.path())
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the demo starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut shareholder_token = None;
    let mut address = None;
    let mut previous = String::new();
    let mut printed = String::new();
    for line in lines.by_ref() {
        let line = line.expect("a line");
        printed.push_str(&line);
        printed.push('\n');
        if previous.contains("shareholder, acting for cit-001:") {
            shareholder_token = Some(line.trim().to_owned());
        }
        if let Some(rest) = line.strip_prefix("Serving on http://") {
            address = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
        previous = line;
    }
    let address = address.expect("the demo says where it serves");
    // Serving, it shows how to call what it serves.
    assert!(
        printed.contains("/api/v1/ledgers/ailes-de-taillard/parties\n  curl "),
        "{printed}"
    );
    let token = shareholder_token.expect("the demo prints a shareholder token");
    let get = |path: &str, token: Option<&str>| http_get(&address, path, token);
    let api = "/api/v1/ledgers/ailes-de-taillard";
    assert!(get(&format!("{api}/parties"), None).starts_with("HTTP/1.1 200"));
    let statement = get(&format!("{api}/holders/cit-001/statement"), Some(&token));
    assert!(statement.starts_with("HTTP/1.1 200"), "{statement}");
    assert!(statement.contains("\"dividends\""));
    assert!(
        get(&format!("{api}/holders/cit-002/statement"), Some(&token)).starts_with("HTTP/1.1 403")
    );

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("the demo exits");
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
}
