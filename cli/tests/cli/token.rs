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

/// A resident's token acts for a resident the municipality registered in
/// the territory fund, and no other role's does.
#[test]
fn a_residents_token_acts_for_a_resident_the_municipality_registered() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    demo(here, &[]);
    let before = contents(here);
    for (args, expected) in [
        (
            &["--role", "resident"][..],
            "a resident's token must name the resident it acts for (--resident)",
        ),
        (
            &["--role", "resident", "--resident", "hab-001"][..],
            "hab-001 is not a registered resident of the ledger ailes-de-taillard's territory",
        ),
        (
            &["--role", "resident", "--holder", "cit-001"][..],
            "a resident's token must name the resident it acts for (--resident)",
        ),
    ] {
        let message = failure(&issue(here, args), "a resident's token for no resident");
        assert!(message.contains(expected), "{args:?}: {message}");
    }
    assert_eq!(contents(here), before, "nothing written");

    // The municipality registers hab-001 (here through the application
    // layer, as the API does).
    let url = format!("sqlite://{}", here.join("windledger-demo.sqlite").display());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(async {
            use windledger_app::command::{Aggregates, Command};
            use windledger_domain::budgeting::fund::FundCommand;
            use windledger_domain::types::{CommuneCode, ResidentId};
            // The demo's signing key seals what is appended.
            let signer = windledger_store::CheckpointSigner::from_secret_key(
                &std::fs::read_to_string(here.join("windledger-demo.key")).expect("the demo's key"),
            )
            .expect("a signing key");
            let store = Store::connect(
                StoreOptions::new(&url).sealed_by(windledger_store::Sealer::new(&signer)),
            )
            .await
            .expect("the demo's database");
            let ledger = windledger_store::LedgerId::parse("ailes-de-taillard").unwrap();
            Aggregates::new(
                &store,
                &ledger,
                windledger_domain::cap_table::KnownCapTables::default,
            )
            .run(
                windledger_domain::budgeting::fund::TerritoryFund::ID,
                Command::Fund(FundCommand::RegisterResident {
                    resident: ResidentId::new("hab-001").unwrap(),
                    commune: CommuneCode::new("42026").unwrap(),
                    holder: None,
                    identity: None,
                }),
                std::collections::HashMap::new(),
            )
            .await
            .expect("the resident is registered");
        });
    let token = success(
        &issue(here, &["--role", "resident", "--resident", "hab-001"]),
        "a token for a registered resident",
    );
    assert!(token.starts_with("wl_"), "{token}");
    let message = failure(
        &issue(here, &["--role", "municipality", "--resident", "hab-001"]),
        "a municipality's token for a resident",
    );
    assert!(message.contains("acts for no resident"), "{message}");
    assert_eq!(contents(here).1, before.1 + 1);
}
