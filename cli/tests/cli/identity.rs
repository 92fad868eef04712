//! `windledger identity rotate-key` after the demo: every person's key is
//! re-wrapped under a new vault key, the identities read with it and no
//! longer with the old one, and a rotation that cannot finish changes
//! nothing.

use crate::support::{demo, failure, success, windledger};

const PEOPLE: &str = "holder,person,family_name,given_names,birth_date,birth_place,legal_name,\
    legal_form,siren,representative,address_line_1,address_line_2,postal_code,city,country,email,\
    tax_residence,iban,bic,electronic_convocation_given_on\n\
    cit-001,natural,Vercingétorix,Camille,,,,,,,3 rue des Éoliennes,,42220,Burdignes,FR,,FR,,,\n\
    ccmp,legal,,,,,Communauté de communes des Monts du Pilat,EPCI,200040111,Le président,\
    Moulin de la Munas,,42220,Marlhes,FR,,FR,,,\n";

#[test]
fn the_vault_key_rotates_and_the_identities_follow_it() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    demo(here, &[]);
    std::fs::write(here.join("people.csv"), PEOPLE).expect("a register file");
    let said = success(
        &windledger(here, &["identity", "import", "people.csv"]),
        "identity import",
    );
    assert!(said.starts_with("2 identities recorded"), "{said}");
    let export = |key: &str| {
        windledger(
            here,
            &[
                "identity",
                "export",
                "--holder",
                "ccmp",
                "--vault-key-file",
                key,
            ],
        )
    };
    let before = success(&export("windledger-demo-vault.key"), "export");
    assert!(before.contains("Monts du Pilat"));

    // The new key is the one in use: refused, nothing changed.
    let same = windledger(
        here,
        &[
            "identity",
            "rotate-key",
            "--to",
            "windledger-demo-vault.key",
        ],
    );
    assert!(failure(&same, "rotate-key to itself").contains("the one in use"));

    let said = success(
        &windledger(here, &["identity", "rotate-key", "--to", "nouvelle.key"]),
        "rotate-key",
    );
    assert!(
        said.contains(
            "Re-wrapped 2 person's keys of 1 ledger(s) under the vault key in nouvelle.key"
        ),
        "{said}"
    );
    assert!(here.join("nouvelle.key").exists());
    let after = success(&export("nouvelle.key"), "export with the new key");
    assert!(after.contains("Monts du Pilat"));
    let old = failure(
        &export("windledger-demo-vault.key"),
        "export with the old key",
    );
    assert!(old.contains("but the vault key given is"), "{old}");

    // Rotating again from the old key: every key is under the new one
    // already, so none is re-wrapped.
    let again = success(
        &windledger(here, &["identity", "rotate-key", "--to", "nouvelle.key"]),
        "rotate-key again",
    );
    assert!(
        again.contains("Re-wrapped 0 person's keys") && again.contains("2 were under it already"),
        "{again}"
    );
}
