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
    // `pay` for 2024 into virements.xml, paying from `iban`: it fails.
    let pay_failing = |iban: &str, what: &str| {
        failure(
            &windledger(
                here,
                &[
                    "pay",
                    "--year",
                    "2024",
                    "--debtor-iban",
                    iban,
                    "--out",
                    "virements.xml",
                ],
            ),
            what,
        )
    };
    let said = pay_failing("FR76 3000 6000 0112 3456 7890 189", "pay");
    assert!(
        said.contains("no transfer to make for the dividend of 2024"),
        "{said}"
    );
    assert!(!here.join("virements.xml").exists());
    let said = pay_failing("FR7630006000011234567890188", "pay with a wrong IBAN");
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
        said.contains(
            "not recorded: line 2, DIV-2024-99999 (12.50 €): names nothing the ledger owes"
        ),
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

/// The demo's partner lent on current account: its interest of 2024 is
/// owed, but the partner has no bank account in the vault; a repayment
/// above what is owed, or written wrong, is refused in a plain sentence;
/// a statement without `--year` matches repayments too.
#[test]
fn interest_and_repayments_are_paid_by_their_own_files() {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let here = folder.path();
    demo(here, &[]);
    let iban = ["--debtor-iban", "FR76 3000 6000 0112 3456 7890 189"];
    let pay = |more: &[&str]| {
        let mut args = vec!["pay"];
        args.extend(more);
        args.extend(iban);
        args.extend(["--out", "virements.xml"]);
        windledger(here, &args)
    };
    let output = pay(&["--interest", "--year", "2024"]);
    let printed = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        printed.contains("not in the file: partenaire-industriel is owed")
            && printed.contains("has no bank account in the vault"),
        "{printed}"
    );
    let said = failure(&output, &format!("pay the interest: {printed}"));
    assert!(
        said.contains("no transfer to make for the interest of 2024"),
        "{said}"
    );
    for (more, what, expected) in [
        (
            &["--interest", "--year", "2019"][..],
            "pay 2019's interest",
            "no interest of 2019 is accrued",
        ),
        (
            &["--repay", "cca-partenaire-2020=999999999"],
            "repay more than owed",
            "still owed",
        ),
        (
            &["--repay", "cca-partenaire-2020"],
            "repay, no amount",
            "write ADVANCE=AMOUNT",
        ),
        (
            &["--repay", "cca-inconnue=10"],
            "repay an unknown advance",
            "there is no advance cca-inconnue",
        ),
    ] {
        let said = failure(&pay(more), what);
        assert!(said.contains(expected), "{said}");
    }
    assert!(!here.join("virements.xml").exists());

    std::fs::write(
        here.join("releve.csv"),
        "end_to_end_id;amount;booking_date;status\n\
         RMB-00001-099;12,50;15/07/2025;comptabilisé\n\
         INT-2024-00001;10,00;15/07/2025;en attente\n",
    )
    .expect("a statement");
    let said = success(
        &windledger(here, &["bank-statement", "releve.csv"]),
        "bank-statement",
    );
    assert!(said.contains("Payments recorded: 0;"), "{said}");
    assert!(
        said.contains("RMB-00001-099 (12.50 €): refused:"),
        "a repayment out of sequence is the ledger's to refuse (a date before the last): {said}"
    );
    assert!(
        said.contains("INT-2024-00001 (10.00 €): not booked yet"),
        "{said}"
    );
}
