//! One set of defaults for every command: after `windledger demo
//! --no-serve`, the commands run in the same folder work on what it set up
//! (its database, its ledger, its signing key) with no option, through the
//! `windledger.toml` it writes; options and the environment come first;
//! the demo prints the exact command that serves what it set up; and the
//! repository's `.gitignore` covers every file the demo writes.

use std::path::Path;

use windledger_store::{CheckpointVerifier, LedgerId, Store, StoreOptions, Verification};

use crate::support::{
    LEDGER, REFERENCE_EVENTS, Server, command, demo, failure, file_names, printed_verifier_key,
    success, windledger,
};

/// A checkpoint the server signed, checked with the key the demo printed.
fn signed_by(note: &str, verifier_key: &str) -> u64 {
    CheckpointVerifier::parse(verifier_key)
        .expect("a verifier key")
        .verify(note)
        .unwrap_or_else(|e| panic!("the checkpoint does not verify with the demo's key: {e}"))
        .size
}

#[test]
fn after_the_demo_every_command_works_on_its_ledger_without_options() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    let set_up = demo(here, &[]);
    let verifier_key = printed_verifier_key(&set_up);

    let events = success(&windledger(here, &["export", "events"]), "export events");
    assert_eq!(events.lines().count() as u64, REFERENCE_EVENTS);

    let tokens = success(&windledger(here, &["token", "list"]), "token list");
    assert_eq!(
        tokens.lines().filter(|l| l.contains("\tdemo\t")).count(),
        4,
        "{tokens}"
    );
    let issued = success(
        &windledger(
            here,
            &["token", "issue", "--role", "operator", "--label", "after"],
        ),
        "token issue",
    );
    assert!(issued.starts_with("wl_"), "{issued}");
    let tokens = success(&windledger(here, &["token", "list"]), "token list");
    assert!(
        tokens
            .lines()
            .any(|l| l.contains(&format!("\t{LEDGER}\toperator\t-\tafter\t"))),
        "{tokens}"
    );

    let register = success(
        &windledger(here, &["register", "--format", "csv"]),
        "register",
    );
    assert!(register.lines().count() > 1, "{register}");
    let account = windledger(here, &["register", "account", "--holder", "cit-001"]);
    assert!(account.status.success(), "{account:?}");
    assert!(
        account.stdout.starts_with(b"%PDF-"),
        "the PDF to standard output"
    );

    let rebuilt = success(&windledger(here, &["rebuild"]), "rebuild");
    assert!(
        rebuilt.contains(&format!(
            "Rebuilt every projection of {LEDGER} from position 0 to {REFERENCE_EVENTS}"
        )),
        "{rebuilt}"
    );

    // An import into the demo's database, sealed with the demo's key.
    success(
        &windledger(
            here,
            &["import", "--synthetic", "--holders", "10", "--years", "1"],
        ),
        "import --synthetic",
    );
    let verifier = CheckpointVerifier::parse(&verifier_key).expect("a verifier key");
    let sealed = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(async {
            let url = format!("sqlite://{}", here.join("windledger-demo.sqlite").display());
            let store = Store::connect(StoreOptions::new(&url))
                .await
                .expect("the demo's database");
            let synthetic = LedgerId::parse("synthetic").expect("an id");
            store
                .verify(&synthetic, std::slice::from_ref(&verifier), &[], |_, _| {})
                .await
                .expect("the synthetic ledger reads")
        });
    assert!(
        matches!(sealed, Verification::Intact { .. }),
        "every event sealed with the demo's key: {sealed:?}"
    );

    // The server signs with the demo's key: its checkpoints check against
    // the key the demo printed.
    let server = Server::start({
        let mut serve = command(here, &["serve", "--listen", "127.0.0.1:0"]);
        serve.env("NO_COLOR", "1");
        serve
    });
    assert!(
        server.said.contains("windledger-demo.key (reused)"),
        "{}",
        server.said
    );
    let (note, public_key) = server.checkpoint(LEDGER);
    assert_eq!(public_key, verifier_key);
    assert_eq!(signed_by(&note, &verifier_key), REFERENCE_EVENTS);
    drop(server);

    assert!(
        !here.join("windledger-signing.key").exists(),
        "no command made a key of its own"
    );
    assert!(!here.join("windledger.sqlite").exists(), "nor a database");
}

/// Runs the printed command with `sh`.
#[cfg(unix)]
#[test]
fn the_demo_without_serving_prints_the_command_that_serves_it_and_no_curl() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    let url = format!("sqlite://{}", here.join("farm.sqlite").display());
    let set_up = demo(here, &["--database-url", &url]);
    assert!(!set_up.contains("curl"), "no server to call: {set_up}");
    let mut lines = set_up.lines();
    lines
        .by_ref()
        .find(|l| l.contains("To serve this ledger with the tokens above"))
        .unwrap_or_else(|| panic!("the demo says how to serve: {set_up}"));
    let serve = lines.next().expect("the command").trim().to_owned();
    assert!(
        serve.contains(&format!(" serve --database-url {url} ")),
        "{serve}"
    );
    let token = set_up
        .lines()
        .skip_while(|l| !l.contains("shareholder, acting for cit-001:"))
        .nth(1)
        .expect("the shareholder's token")
        .trim()
        .to_owned();

    // The command stands on its own: without windledger.toml, and with
    // the environment naming another database and key.
    std::fs::remove_file(here.join("windledger.toml")).expect("the demo wrote its defaults");
    let mut shell = std::process::Command::new("sh");
    shell
        .args(["-c", &format!("exec {serve}")])
        .current_dir(here)
        .env("DATABASE_URL", "sqlite://elsewhere.sqlite")
        .env("WINDLEDGER_KEY_FILE", "elsewhere.key")
        .env_remove("WINDLEDGER_LISTEN")
        .env_remove("RUST_LOG");
    let server = Server::start(shell);
    let (note, _) = server.checkpoint(LEDGER);
    assert_eq!(
        signed_by(&note, &printed_verifier_key(&set_up)),
        REFERENCE_EVENTS
    );
    let (status, _) = server.get(
        &format!("/api/v1/ledgers/{LEDGER}/holders/cit-001/statement"),
        Some(&token),
    );
    assert!(status.contains(" 200 "), "{status}");
    drop(server);
    assert!(!here.join("elsewhere.sqlite").exists());
    assert!(!here.join("elsewhere.key").exists());
}

#[test]
fn options_and_the_environment_come_before_windledger_toml() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    std::fs::write(
        here.join("windledger.toml"),
        "database_url = \"sqlite://from-the-file.sqlite\"\nledger = \"mon-parc\"\n",
    )
    .expect("a windledger.toml");
    let refused = |output| failure(&output, "an export from a database that is not there");

    let message = refused(windledger(here, &["export", "events"]));
    assert!(
        message.contains("no SQLite database at from-the-file.sqlite"),
        "{message}"
    );
    let message = refused(windledger(
        here,
        &[
            "export",
            "events",
            "--database-url",
            "sqlite://from-the-option.sqlite",
        ],
    ));
    assert!(message.contains("from-the-option.sqlite"), "{message}");
    let message = refused(
        command(here, &["export", "events"])
            .env("DATABASE_URL", "sqlite://from-the-environment.sqlite")
            .output()
            .expect("the binary runs"),
    );
    assert!(message.contains("from-the-environment.sqlite"), "{message}");

    let help = success(&windledger(here, &["export", "--help"]), "export --help");
    assert!(
        help.contains("[default: sqlite://from-the-file.sqlite]"),
        "{help}"
    );
    assert!(help.contains("[default: mon-parc]"), "{help}");

    std::fs::write(here.join("windledger.toml"), "ledger = \"Mon Parc\"\n").expect("rewritten");
    let message = failure(
        &windledger(here, &["token", "list"]),
        "a command under a windledger.toml with a mistake",
    );
    assert!(message.contains("windledger.toml"), "{message}");
}

#[test]
fn the_gitignore_covers_what_the_demo_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository");
    let mut rules = ignore::gitignore::GitignoreBuilder::new(root);
    if let Some(e) = rules.add(root.join(".gitignore")) {
        panic!("the repository's .gitignore reads: {e}");
    }
    let rules = rules.build().expect("the .gitignore's rules");

    // The demo run from the repository's root, as the README runs it.
    let folder = tempfile::tempdir().expect("a temporary folder");
    demo(folder.path(), &[]);
    let mut written = file_names(folder.path());
    assert!(written.iter().any(|f| f.ends_with(".key")), "{written:?}");
    // Written at times only, and the key `serve` makes.
    written.extend(
        [
            "windledger-demo.sqlite-wal",
            "windledger-demo.sqlite-shm",
            "windledger-signing.key",
        ]
        .map(String::from),
    );
    for file in written {
        assert!(
            rules.matched(root.join(&file), false).is_ignore(),
            "{file} is not in .gitignore"
        );
    }
}
