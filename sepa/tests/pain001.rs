//! The credit transfer file: valid against the EPC's pain.001.001.09
//! schema (checked by xmllint), its totals and texts as the rules ask, and
//! every value the schema would refuse refused before anything is written.

use chrono::NaiveDate;
use windledger_sepa::pain001::FileError;
use windledger_sepa::testing::{Schema, validate};
use windledger_sepa::{CreditTransfers, Party, Transfer};

fn file(transfers: Vec<Transfer>) -> CreditTransfers {
    CreditTransfers {
        message_id: "DIV-2025-0123456789ab".into(),
        created_at: NaiveDate::from_ymd_opt(2026, 6, 30)
            .and_then(|d| d.and_hms_opt(9, 15, 0))
            .expect("a date"),
        debtor: Party {
            name: "SAS Les Ailes de Taillard".into(),
            iban: "FR7630006000011234567890189".into(),
            bic: Some("AGRIFRPP".into()),
        },
        execution_date: NaiveDate::from_ymd_opt(2026, 7, 1).expect("a date"),
        purpose: Some("DIVD".into()),
        transfers,
    }
}

fn transfer(n: usize, cents: u64, name: &str, bic: Option<&str>) -> Transfer {
    Transfer {
        end_to_end_id: format!("DIV-2025-{n:05}"),
        amount: cents,
        creditor: Party {
            name: name.into(),
            iban: "DE89370400440532013000".into(),
            bic: bic.map(str::to_owned),
        },
        remittance: "Dividende exercice 2025 - SAS Les Ailes de Taillard".into(),
    }
}

fn assert_valid(xml: &str) {
    if let Err(words) = validate(xml, Schema::Pain001) {
        panic!("not valid against pain.001.001.09 (EPC): {words}\n{xml}");
    }
}

#[test]
fn a_file_is_valid_against_the_epc_schema_with_its_totals() {
    let f = file(vec![
        transfer(
            1,
            12_345,
            "Héloïse Dupré-Œstrem & fils",
            Some("COBADEFFXXX"),
        ),
        transfer(2, 1, "Commune de Saint-Agrève", None),
        transfer(
            3,
            99_999_999_999,
            "<Coopérative> \"Énergie\"",
            Some("AGRIFRPP"),
        ),
    ]);
    let xml = f.to_xml().expect("a valid file");
    assert_valid(&xml);
    assert_eq!(f.control_sum(), Some(12_345 + 1 + 99_999_999_999));
    assert_eq!(xml.matches("<CtrlSum>1000000123.45</CtrlSum>").count(), 2);
    assert_eq!(xml.matches("<NbOfTxs>3</NbOfTxs>").count(), 2);
    assert_eq!(xml.matches("<CdtTrfTxInf>").count(), 3);
    assert!(
        xml.contains("<Nm>Heloise Dupre-OEstrem + fils</Nm>"),
        "{xml}"
    );
    assert!(xml.contains("<Nm>Cooperative Energie</Nm>"), "{xml}");
    assert!(xml.contains("<InstdAmt Ccy=\"EUR\">0.01</InstdAmt>"));
    assert!(xml.contains("<InstdAmt Ccy=\"EUR\">123.45</InstdAmt>"));
    let compact: String = xml.lines().map(str::trim).collect();
    assert!(
        compact.contains("<ReqdExctnDt><Dt>2026-07-01</Dt>"),
        "{xml}"
    );
    assert!(xml.contains("<CreDtTm>2026-06-30T09:15:00</CreDtTm>"));
    assert!(xml.contains("<BtchBookg>false</BtchBookg>"));
    assert_eq!(compact.matches("<Purp><Cd>DIVD</Cd></Purp>").count(), 3);
    // The payee without a BIC has no creditor agent (IBAN only).
    assert_eq!(xml.matches("<CdtrAgt>").count(), 2);
}

#[test]
fn a_debtor_without_a_bic_is_not_provided_and_still_valid() {
    let mut f = file(vec![transfer(1, 500, "Jean Martin", None)]);
    f.debtor.bic = None;
    f.purpose = None;
    let xml = f.to_xml().expect("a valid file");
    assert_valid(&xml);
    assert!(xml.contains("<Id>NOTPROVIDED</Id>"));
    assert!(!xml.contains("<Purp>"));
}

#[test]
fn what_the_schema_or_the_rules_refuse_is_refused_before_writing() {
    let ok = || file(vec![transfer(1, 500, "Jean Martin", None)]);
    let refused = |change: &dyn Fn(&mut CreditTransfers)| {
        let mut f = ok();
        change(&mut f);
        f.to_xml().expect_err("refused")
    };
    assert_eq!(refused(&|f| f.transfers.clear()), FileError::NoTransfer);
    assert!(matches!(
        refused(&|f| f.message_id = "DIV 2025".into()),
        FileError::Identifier {
            what: "the message id",
            ..
        }
    ));
    assert!(matches!(
        refused(&|f| f.transfers[0].end_to_end_id = "x".repeat(36)),
        FileError::Identifier {
            what: "the end-to-end id",
            ..
        }
    ));
    assert_eq!(
        refused(&|f| f.transfers.push(f.transfers[0].clone())),
        FileError::DuplicateEndToEndId("DIV-2025-00001".into())
    );
    assert!(matches!(
        refused(&|f| f.transfers[0].amount = 0),
        FileError::Amount { cents: 0, .. }
    ));
    assert!(matches!(
        refused(&|f| f.transfers[0].amount = 100_000_000_000),
        FileError::Amount { .. }
    ));
    assert!(matches!(
        refused(&|f| f.transfers[0].creditor.name = "## * _".into()),
        FileError::Name { .. }
    ));
    assert!(matches!(
        refused(&|f| f.debtor.iban = "fr7630006000011234567890189".into()),
        FileError::Iban { .. }
    ));
    assert!(matches!(
        refused(&|f| f.transfers[0].creditor.bic = Some("agrifrpp".into())),
        FileError::Bic { .. }
    ));
    assert!(matches!(
        refused(&|f| f.purpose = Some("DIV".into())),
        FileError::Purpose(_)
    ));
    assert!(matches!(
        refused(&|f| f.transfers[0].remittance = "   ".into()),
        FileError::Remittance(_)
    ));
}

#[test]
fn a_long_name_and_remittance_are_cut_to_the_rules_lengths() {
    let mut t = transfer(1, 500, &"Marie-Éléonore ".repeat(10), None);
    t.remittance = "Dividende ".repeat(20);
    let xml = file(vec![t]).to_xml().expect("a valid file");
    assert_valid(&xml);
    let name = xml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("<Nm>")?.strip_suffix("</Nm>"))
        .nth(2)
        .expect("the payee's name");
    assert_eq!(name.chars().count(), 70);
    assert!(name.starts_with("Marie-Eleonore Marie-Eleonore"));
    let remittance = xml
        .lines()
        .find_map(|l| l.trim().strip_prefix("<Ustrd>")?.strip_suffix("</Ustrd>"))
        .expect("the remittance");
    assert!(
        remittance.len() <= 140 && remittance.len() > 130,
        "{remittance}"
    );
    assert!(!remittance.ends_with(' '));
}
