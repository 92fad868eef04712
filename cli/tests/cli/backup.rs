//! `windledger backup` and `windledger restore` after the demo: the copy
//! restores into a new SQLite database with the same events, and is
//! refused where it would overwrite or could not be checked.

use crate::support::{REFERENCE_EVENTS, demo, failure, stranger_key, success, windledger};

#[test]
fn the_demo_backs_up_and_restores_into_a_new_database() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    demo(here, &[]);
    std::fs::write(
        here.join("people.csv"),
        "holder,person,family_name,given_names,birth_date,birth_place,legal_name,legal_form,\
         siren,representative,address_line_1,address_line_2,postal_code,city,country,email,\
         tax_residence,iban,bic,electronic_convocation_given_on\n\
         cit-001,natural,Vercingétorix,Camille,,,,,,,3 rue des Éoliennes,,42220,Burdignes,FR,\
         camille@example.org,FR,FR7630006000011234567890189,AGRIFRPP,\n",
    )
    .expect("a register file");
    success(
        &windledger(here, &["identity", "import", "people.csv"]),
        "identity import",
    );
    // The register names its holders when asked, from the vault (the read
    // logged), and by their ids otherwise.
    let register = |names: &[&str]| {
        let args: Vec<&str> = ["register", "--format", "csv"]
            .iter()
            .chain(names)
            .copied()
            .collect();
        success(&windledger(here, &args), "register")
    };
    assert!(register(&["--names"]).contains("Vercingétorix Camille"));
    assert!(!register(&[]).contains("Vercingétorix"));
    let keyless = windledger(
        here,
        &["register", "--names", "--vault-key-file", "ailleurs.key"],
    );
    let said = failure(&keyless, "register --names without the vault's key");
    assert!(
        said.contains("there is no key file at ailleurs.key"),
        "{said}"
    );
    assert!(!here.join("ailleurs.key").exists(), "no key made");
    let reads = success(
        &windledger(here, &["identity", "export", "--holder", "cit-001"]),
        "identity export",
    );
    assert!(reads.contains("printed on a document"), "{reads}");
    let account = windledger(
        here,
        &[
            "register",
            "account",
            "--holder",
            "cit-001",
            "--names",
            "-o",
            "compte.pdf",
        ],
    );
    assert!(account.status.success(), "{account:?}");

    let exported = |database: &str| -> serde_json::Value {
        let text = success(
            &windledger(
                here,
                &[
                    "identity",
                    "export",
                    "--holder",
                    "cit-001",
                    "--database-url",
                    database,
                ],
            ),
            "identity export",
        );
        let export: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        serde_json::json!([export["in_force"], export["versions"]])
    };
    let identity = exported("sqlite://windledger-demo.sqlite");
    assert_eq!(
        identity[1][0]["person"]["identity"]["family_name"],
        "Vercingétorix"
    );

    // The reference farm and the identity's commitment.
    let events = REFERENCE_EVENTS + 1;
    let said = success(&windledger(here, &["backup", "copies"]), "backup");
    assert!(
        said.contains("Backup key: windledger-backup.key (created"),
        "{said}"
    );
    assert!(
        said.contains(&format!("Ledger ailes-de-taillard: {events} events")),
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
            "Ledger ailes-de-taillard: {events} events restored"
        )),
        "{said}"
    );
    let original = success(&windledger(here, &["export", "events"]), "export");
    let copy = success(
        &windledger(here, &["export", "events", "--database-url", restored]),
        "export of the restored",
    );
    assert_eq!(copy, original);
    // The same register of share movements.
    let register = |database: &str| {
        success(
            &windledger(
                here,
                &["register", "--format", "csv", "--database-url", database],
            ),
            "register",
        )
    };
    assert_eq!(
        register(restored),
        register("sqlite://windledger-demo.sqlite")
    );
    // The same identities, read with the same vault key.
    assert_eq!(exported(restored), identity);
    let file = std::fs::read(here.join("copies/ailes-de-taillard.wlbackup")).expect("the copy");
    assert!(!file.windows(5).any(|w| w == b"Camil"), "encrypted");

    // Into a database that has the ledger: refused, in one sentence.
    let error = failure(
        &windledger(here, &["restore", "copies", "--database-url", restored]),
        "a second restore",
    );
    assert!(error.contains("already exists"), "{error}");
    // With another server's public key: the seals do not verify.
    let stranger = stranger_key("stranger");
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
