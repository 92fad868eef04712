//! `windledger token issue` opens what exists: a ledger the database holds,
//! for a holder its company registered. A typo is refused with one
//! sentence, and nothing is written.

use std::path::Path;
use std::process::Output;

use windledger_store::{Store, StoreOptions};

use crate::support::{demo, failure, success, windledger};

/// The database `windledger demo` sets up in the folder it runs in.
const DEMO_DATABASE: &str = "sqlite://windledger-demo.sqlite";

/// `windledger token issue ARGS` on the demo's database, with the demo's
/// ledger unless ARGS name one.
fn issue(folder: &Path, args: &[&str]) -> Output {
    let mut all = vec!["token", "issue", "--database-url", DEMO_DATABASE];
    if !args.contains(&"--ledger") {
        all.extend(["--ledger", "ailes-de-taillard"]);
    }
    all.extend_from_slice(args);
    windledger(folder, &all)
}

/// The ledgers of the demo's database and how many tokens it holds.
fn contents(folder: &Path) -> (Vec<String>, usize) {
    let url = format!(
        "sqlite://{}",
        folder.join("windledger-demo.sqlite").display()
    );
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(async {
            let store = Store::connect(StoreOptions::new(&url))
                .await
                .expect("the demo's database");
            let ledgers = store.ledgers().await.expect("the ledgers");
            let tokens = store.tokens(None).await.expect("the tokens");
            (
                ledgers.iter().map(ToString::to_string).collect(),
                tokens.len(),
            )
        })
}

#[test]
fn a_token_opens_a_ledger_that_exists_for_a_holder_it_registered() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    demo(here, &[]);
    let before = contents(here);
    assert_eq!(before, (vec!["ailes-de-taillard".to_owned()], 4));

    let message = failure(
        &issue(
            here,
            &["--ledger", "ailes-de-taillar", "--role", "secretary"],
        ),
        "a token for a ledger that does not exist",
    );
    assert!(
        message.contains(
            "there is no ledger ailes-de-taillar in the database \
             sqlite://windledger-demo.sqlite (its ledgers: ailes-de-taillard)"
        ),
        "{message}"
    );
    assert!(message.contains("windledger import"), "{message}");

    for role in ["shareholder", "municipality"] {
        let message = failure(
            &issue(here, &["--role", role, "--holder", "cit-999"]),
            "a token for a holder the ledger does not know",
        );
        assert!(
            message.contains("cit-999 is not a holder of the ledger ailes-de-taillard"),
            "{message}"
        );
    }
    assert_eq!(contents(here), before, "nothing written");

    let message = failure(
        &windledger(
            here,
            &[
                "token",
                "issue",
                "--ledger",
                "ailes-de-taillard",
                "--role",
                "secretary",
                "--database-url",
                "sqlite://mistyped.sqlite",
            ],
        ),
        "a token in a database that does not exist",
    );
    assert!(
        message.contains("there is no SQLite database at mistyped.sqlite"),
        "{message}"
    );
    assert!(!here.join("mistyped.sqlite").exists(), "nothing created");

    // The holders the demo's farm registered: a citizen, the municipality.
    for (role, holder) in [("shareholder", "cit-002"), ("municipality", "ccmp")] {
        let token = success(
            &issue(here, &["--role", role, "--holder", holder]),
            "a token for a registered holder",
        );
        assert!(token.starts_with("wl_"), "{token}");
    }
    assert_eq!(contents(here).1, 6);
}
