//! `windledger pay` and `windledger bank-statement` after the demo, whose
//! dividends are all paid: nothing to transfer is said in a plain
//! sentence and nothing is written; a statement's lines that name no
//! allocation are listed and nothing is recorded; a file that is not a
//! statement is refused, naming it.

use crate::support::{demo, failure, success, windledger};

#[test]
fn paying_a_dividend_already_paid_writes_nothing_and_a_statement_is_matched_line_by_line() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    demo(here, &[]);
    let said = failure(
        &windledger(
            here,
            &[
                "pay",
                "--year",
                "2024",
                "--debtor-iban",
                "FR76 3000 6000 0112 3456 7890 189",
                "--out",
                "virements.xml",
            ],
        ),
        "pay",
    );
    assert!(
        said.contains("no transfer to make for the dividend of 2024"),
        "{said}"
    );
    assert!(!here.join("virements.xml").exists());
    let said = failure(
        &windledger(
            here,
            &[
                "pay",
                "--year",
                "2024",
                "--debtor-iban",
                "FR7630006000011234567890188",
                "--out",
                "virements.xml",
            ],
        ),
        "pay with a wrong IBAN",
    );
    assert!(said.contains("--debtor-iban"), "{said}");

    std::fs::write(
        here.join("releve.csv"),
        "end_to_end_id;amount;booking_date;status\n\
         DIV-2024-99999;12,50;15/07/2025;comptabilisé\n\
         VIR-LOYER-07;800,00;15/07/2025;comptabilisé\n",
    )
    .expect("a statement");
    let said = success(
        &windledger(here, &["bank-statement", "--year", "2024", "releve.csv"]),
        "bank-statement",
    );
    assert!(
        said.contains("not recorded: line 2, DIV-2024-99999 (12.50 €): no allocation has this id"),
        "{said}"
    );
    assert!(said.contains("Payments recorded: 0;"), "{said}");
    assert!(
        said.contains("lines of other movements, left alone: 1."),
        "{said}"
    );

    std::fs::write(here.join("releve.txt"), "bonjour\n").expect("a file");
    let said = failure(
        &windledger(here, &["bank-statement", "--year", "2024", "releve.txt"]),
        "bank-statement of a file that is not one",
    );
    assert!(said.contains("releve.txt is not a statement"), "{said}");
}
