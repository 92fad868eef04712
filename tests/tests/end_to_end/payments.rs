//! A dividend paid by bank transfer, end to end, on a synthetic farm of
//! 2,000 holders: one SEPA credit transfer file (valid against the EPC's
//! pain.001.001.09 schema, checked by xmllint) whose control sum is the
//! declared net total less the holders without a bank account (listed);
//! the bank's camt.053 statement (valid against its schema) with 3
//! transfers returned, one pending, one booked for another amount and
//! lines that are not this dividend's; what settled recorded at the bank's
//! booking date, nothing for the others; the same statement imported
//! again recording nothing; the next file paying only those still owed.
//! Every figure is checked against a recomputation written here from the
//! declared allocations.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, Days};
use serde_json::json;
use windledger_app::import::synthetic::Synthetic;
use windledger_app::ledger::LedgerRuntime;
use windledger_app::people::{Reader, Vault};
use windledger_documents::tax;
use windledger_domain::company::HolderKind;
use windledger_domain::finance::FinancialYearEvent;
use windledger_domain::money::Euros;
use windledger_domain::types::HolderId;
use windledger_papers::payments::{self, Debtor, Mismatch, Payer};
use windledger_sepa::statement;
use windledger_sepa::testing::bank::{BankLine, Outcome, bank_statement};
use windledger_sepa::testing::{Schema, validate};
use windledger_store::LedgerId;
use windledger_store::testing::TestDatabase;
use windledger_vault::{MasterKey, Person};

use crate::support::{dividend_declared, synthetic_runtime};

const LEDGER: &str = "parc-2000";
const COMPANY_IBAN: &str = "FR7630006000011234567890189";

/// A French IBAN for holder `n`, with its mod-97 check digits computed
/// here (ISO 13616: the BBAN, then "FR00" as digits, mod 97).
pub fn iban(n: usize) -> String {
    let bban = format!("3000400003{n:011}02");
    let digits = format!("{bban}152700");
    let rest = digits
        .bytes()
        .fold(0u32, |r, d| (r * 10 + u32::from(d - b'0')) % 97);
    format!("FR{:02}{bban}", 98 - rest)
}

/// Holder `n`'s identity (a company's for a holder that is not an
/// individual): a bank account for all but one in 97.
fn person(n: usize, individual: bool) -> Person {
    let bank_account = if n % 97 == 5 {
        serde_json::Value::Null
    } else {
        json!({"iban": iban(n), "bic": "BNPAFRPP"})
    };
    let identity = if individual {
        json!({"person": "natural", "family_name": format!("Lefèvre-{n:04}"),
               "given_names": "Zoé", "birth": null})
    } else {
        json!({"person": "legal", "name": format!("Énergies & Co {n:04}"), "legal_form": "SAS",
               "siren": null, "representative": "Dominique Martin"})
    };
    serde_json::from_value(json!({
        "identity": identity,
        "address": {"lines": [format!("{n} chemin des Crêtes")], "postal_code": "07320",
                    "city": "Saint-Agrève", "country": "FR"},
        "email": null,
        "tax_residence": "FR",
        "bank_account": bank_account,
    }))
    .expect("a valid person")
}

/// The (end-to-end id, cents) of each transfer of a pain.001 file, read
/// from the file's text as a bank would, in order.
fn transfers_of(xml: &str) -> Vec<(String, u64)> {
    let tag = |line: &str, open: &str, close: &str| {
        Some(
            line.trim()
                .strip_prefix(open)?
                .strip_suffix(close)?
                .to_owned(),
        )
    };
    let mut ids = Vec::new();
    let mut amounts = Vec::new();
    for line in xml.lines() {
        if let Some(id) = tag(line, "<EndToEndId>", "</EndToEndId>") {
            ids.push(id);
        }
        if let Some(amount) = tag(line, "<InstdAmt Ccy=\"EUR\">", "</InstdAmt>") {
            let (euros, cents) = amount.split_once('.').expect("a decimal amount");
            amounts.push(
                euros.parse::<u64>().expect("euros") * 100 + cents.parse::<u64>().expect("cents"),
            );
        }
    }
    assert_eq!(ids.len(), amounts.len());
    ids.into_iter().zip(amounts).collect()
}

fn control_sum_of(xml: &str) -> u64 {
    let sums: Vec<u64> = xml
        .lines()
        .filter_map(|l| {
            l.trim()
                .strip_prefix("<CtrlSum>")?
                .strip_suffix("</CtrlSum>")
        })
        .map(|s| s.replace('.', "").parse().expect("a sum"))
        .collect();
    assert_eq!(sums.len(), 2, "one in the group header, one in the payment");
    assert_eq!(sums[0], sums[1]);
    sums[0]
}

#[tokio::test]
async fn a_dividend_of_2000_holders_is_paid_by_one_file_and_settled_from_the_bank_statement() {
    let db = TestDatabase::sqlite();
    let store = db.store().await;
    let ledger = LedgerId::parse(LEDGER).expect("an id");
    let farm = Synthetic {
        holders: 2_000,
        years: 2,
        newcomers_per_year: 0,
        transfers_per_year: 0,
        payments_fraction: 0.0,
        ..Synthetic::default()
    };
    let year = farm.first_year();
    let runtime = synthetic_runtime(&db, &store, &ledger, &farm).await;

    // The declared allocations, from the event itself: what the test
    // recomputes every figure from.
    let event = dividend_declared(&store, &ledger, year).await;
    let FinancialYearEvent::DividendDeclared {
        allocations,
        payment_date,
        ..
    } = event
    else {
        panic!("not a dividend");
    };
    assert!(allocations.len() >= 2_000, "every holder is allocated");
    let net_of = |a: &windledger_domain::finance::Allocation| {
        a.gross.cents().expect("cents")
            - a.income_tax.cents().expect("cents")
            - a.social_contributions.cents().expect("cents")
    };
    let total_net: u64 = allocations.iter().map(net_of).sum();
    let place_of: BTreeMap<HolderId, usize> = allocations
        .iter()
        .enumerate()
        .map(|(i, a)| (a.holder.clone(), i))
        .collect();

    // Every holder's identity in the vault, one in 97 without an IBAN.
    let vault = Vault::new(MasterKey::generate().expect("a key"));
    for (n, a) in allocations.iter().enumerate() {
        vault
            .record(
                &runtime,
                &a.holder,
                person(n, a.kind == HolderKind::Individual),
                None,
                HashMap::new(),
            )
            .await
            .expect("an identity");
    }
    let without: BTreeSet<HolderId> = allocations
        .iter()
        .enumerate()
        .filter(|(n, a)| n % 97 == 5 && net_of(a) > 0)
        .map(|(_, a)| a.holder.clone())
        .collect();
    assert!(without.len() >= 20);

    // The file.
    let reader = Reader {
        who: "test".to_owned(),
        purpose: "payment".to_owned(),
    };
    let execution = payment_date;
    let payer = Payer {
        vault: Some(&vault),
        debtor: Debtor {
            iban: windledger_vault::Iban::new(COMPANY_IBAN).expect("an IBAN"),
            bic: Some(windledger_vault::Bic::new("AGRIFRPP").expect("a BIC")),
        },
        execution_date: execution,
        now: execution.and_hms_opt(9, 0, 0).expect("a time"),
        reader: reader.clone(),
    };
    let transfers_now = || async {
        payments::dividend_transfers(&runtime, year, &payer)
            .await
            .expect("the transfers")
    };
    let run = transfers_now().await;
    let xml = run.file.clone().expect("a file");
    if let Err(words) = validate(&xml, Schema::Pain001) {
        panic!("the file is not valid against pain.001.001.09 (EPC): {words}");
    }
    let transfers = transfers_of(&xml);
    let paying: BTreeSet<HolderId> = allocations
        .iter()
        .filter(|a| net_of(a) > 0 && !without.contains(&a.holder))
        .map(|a| a.holder.clone())
        .collect();
    assert_eq!(transfers.len(), paying.len());
    for (id, cents) in &transfers {
        let (y, place) = payments::parse_end_to_end_id(id).expect("our id");
        assert_eq!(y, year);
        let a = &allocations[place];
        assert!(paying.contains(&a.holder), "{id} pays {}", a.holder);
        assert_eq!(*cents, net_of(a), "{id}: the holder's net");
    }
    let without_net: u64 = without
        .iter()
        .map(|h| net_of(&allocations[place_of[h]]))
        .sum();
    assert_eq!(control_sum_of(&xml) + without_net, total_net, "to the cent");
    assert_eq!(run.control_sum.cents(), Some(total_net - without_net));
    let listed: BTreeSet<HolderId> = run
        .without_bank_account
        .iter()
        .map(|p| p.holder.clone())
        .collect();
    assert_eq!(listed, without, "the holders without an IBAN are listed");
    assert_eq!(run.already_paid, 0);
    // The same transfers give the same message id (a bank refuses a file
    // twice); every holder's read of the vault is logged.
    let again = transfers_now().await;
    assert_eq!(again.message_id, run.message_id);
    assert_eq!(again.file, run.file);
    let reads = store.vault_reads(LEDGER, None).await.expect("the read log");
    assert_eq!(
        reads.iter().filter(|r| r.purpose == "payment").count(),
        2 * (paying.len() + without.len())
    );

    // The bank's statement: 3 returned, 1 pending, 1 booked for a cent
    // more, the rest booked the day after execution; and lines that are
    // not this dividend's.
    let booked_on = execution.checked_add_days(Days::new(1)).expect("a date");
    let returned = [3usize, 500, 1_500].map(|i| transfers[i].0.clone());
    let pending = transfers[700].0.clone();
    let more = transfers[900].0.clone();
    let mut lines: Vec<BankLine> = transfers
        .iter()
        .map(|(id, cents)| BankLine {
            end_to_end_id: id.clone(),
            amount: if *id == more { cents + 1 } else { *cents },
            booking_date: booked_on,
            outcome: if let Some(i) = returned.iter().position(|r| r == id) {
                Outcome::Returned {
                    reason: ["AC04", "AC01", "MD07"][i].to_owned(),
                }
            } else if *id == pending {
                Outcome::Pending
            } else {
                Outcome::Booked
            },
        })
        .collect();
    let unknown = format!("DIV-{year}-99999");
    lines.push(BankLine {
        end_to_end_id: unknown.clone(),
        amount: 1_000,
        booking_date: booked_on,
        outcome: Outcome::Booked,
    });
    lines.push(BankLine {
        end_to_end_id: "FACTURE-2025-17".to_owned(),
        amount: 250_000,
        booking_date: booked_on,
        outcome: Outcome::Booked,
    });
    let camt = bank_statement(
        COMPANY_IBAN,
        &lines,
        booked_on.and_hms_opt(18, 0, 0).expect("a time"),
    );
    if let Err(words) = validate(&camt, Schema::Camt053) {
        panic!("the statement is not valid against camt.053.001.08: {words}");
    }
    let read = statement::read(camt.as_bytes()).expect("the statement reads");
    // The statement imported against the dividend, naming no holder.
    let settle = || async {
        payments::settle(
            &runtime,
            payments::Scope::Dividend(year),
            &read,
            &HashMap::new(),
        )
        .await
    };
    let before = store.head(&ledger).await.expect("the head").size;
    let settlement = settle().await.expect("the statement is imported");

    let settled_ids: BTreeSet<String> = settlement
        .recorded
        .iter()
        .map(|s| s.end_to_end_id.clone())
        .collect();
    assert_eq!(settled_ids.len(), transfers.len() - 5);
    // Recorded a thousand to a commit: each commit is sealed once.
    let after = store.head(&ledger).await.expect("the head").size;
    assert_eq!(
        after - before,
        settled_ids.len() as u64,
        "one event a payment"
    );
    let commits = store
        .seals(&ledger, before, after)
        .await
        .expect("the seals")
        .len();
    assert_eq!(
        commits,
        settled_ids.len().div_ceil(payments::PAYMENTS_A_COMMIT),
        "{} payments in {commits} commits",
        settled_ids.len()
    );
    for id in returned.iter().chain([&pending, &more]) {
        assert!(!settled_ids.contains(id), "{id} is not recorded");
    }
    let mut reasons: BTreeMap<String, Mismatch> = settlement
        .unmatched
        .iter()
        .map(|u| (u.end_to_end_id.clone(), u.mismatch.clone()))
        .collect();
    for (i, id) in returned.iter().enumerate() {
        assert_eq!(
            reasons.remove(id),
            Some(Mismatch::Returned {
                code: Some(["AC04", "AC01", "MD07"][i].to_owned())
            })
        );
    }
    assert_eq!(reasons.remove(&pending), Some(Mismatch::Pending));
    let more_cents = transfers
        .iter()
        .find(|t| t.0 == more)
        .expect("a transfer")
        .1;
    assert_eq!(
        reasons.remove(&more),
        Some(Mismatch::Amount {
            expected: Euros::from_cents(more_cents),
            booked: Euros::from_cents(more_cents + 1),
        })
    );
    assert_eq!(reasons.remove(&unknown), Some(Mismatch::UnknownId));
    assert!(reasons.is_empty(), "nothing else is listed: {reasons:?}");
    assert_eq!(settlement.other_lines, 1, "the invoice's line");

    // What the ledger records: each settled transfer paid on its booking
    // date for its net, nothing for the others.
    let paid: BTreeMap<HolderId, _> = runtime.projections.read(|p| {
        let dividend = payments::declared_dividend(p, year).expect("the dividend");
        dividend
            .payments()
            .map(|(h, p)| (h.clone(), p.clone()))
            .collect()
    });
    assert_eq!(paid.len(), settled_ids.len());
    for id in &settled_ids {
        let (_, place) = payments::parse_end_to_end_id(id).expect("our id");
        let a = &allocations[place];
        let payment = paid.get(&a.holder).expect("recorded");
        assert_eq!(payment.paid_on, booked_on);
        assert_eq!(payment.amount.cents(), Some(net_of(a)));
    }

    // The tax paperwork of the payments, against a recomputation from the
    // declared allocations of the transfers settled.
    let settled: Vec<&windledger_domain::finance::Allocation> = settled_ids
        .iter()
        .map(|id| &allocations[payments::parse_end_to_end_id(id).expect("our id").1])
        .collect();
    let cents = |e: Euros| e.cents().expect("cents");
    let (returns, ifu) = runtime.projections.read(|p| {
        (
            tax::withholding_returns(p, booked_on.year()).expect("the returns"),
            tax::ifu(p, booked_on.year()).expect("the IFU"),
        )
    });
    assert_eq!(returns.len(), 1, "one month of payments");
    let r = &returns[0];
    let withheld: Vec<_> = settled
        .iter()
        .filter(|a| cents(a.income_tax) + cents(a.social_contributions) > 0)
        .collect();
    assert_eq!(r.month.to_string(), booked_on.format("%Y-%m").to_string());
    assert_eq!(r.payments, withheld.len());
    let sum_of = |f: &dyn Fn(&windledger_domain::finance::Allocation) -> u64| -> u64 {
        settled.iter().map(|a| f(a)).sum()
    };
    assert_eq!(
        cents(r.income_tax_base),
        sum_of(&|a| if cents(a.income_tax) > 0 {
            cents(a.gross)
        } else {
            0
        })
    );
    assert_eq!(cents(r.income_tax), sum_of(&|a| cents(a.income_tax)));
    assert_eq!(
        cents(r.social_base),
        sum_of(&|a| if cents(a.social_contributions) > 0 {
            cents(a.gross)
        } else {
            0
        })
    );
    assert_eq!(
        cents(r.social_contributions),
        sum_of(&|a| cents(a.social_contributions))
    );
    let next_month = booked_on.with_day(1).expect("a day") + chrono::Months::new(1);
    assert_eq!(r.due_on, next_month.with_day(15).expect("the 15th"));
    let with_dividends: Vec<_> = ifu.iter().filter(|l| l.payments > 0).collect();
    assert_eq!(with_dividends.len(), settled.len());
    for (l, a) in with_dividends.iter().zip(&settled) {
        assert_eq!(l.holder, a.holder);
        let (eligible, other) = if a.kind == HolderKind::Individual {
            (cents(a.gross), 0)
        } else {
            (0, cents(a.gross))
        };
        assert_eq!(
            (cents(l.eligible_dividends), cents(l.other_dividends)),
            (eligible, other)
        );
        assert_eq!(cents(l.income_tax_withheld), cents(a.income_tax));
        assert_eq!(cents(l.social_withheld), cents(a.social_contributions));
    }
    assert_eq!(
        ifu.iter()
            .map(|l| cents(l.eligible_dividends) + cents(l.other_dividends))
            .sum::<u64>(),
        sum_of(&|a| cents(a.gross)),
        "the IFU adds up to the year's payments, to the cent"
    );
    let csv = String::from_utf8(tax::withholding_returns_csv(&returns)).expect("UTF-8");
    assert_eq!(csv.lines().count(), 2);
    assert!(csv.contains(&format!(
        ";{}.{:02};",
        cents(r.income_tax) / 100,
        cents(r.income_tax) % 100
    )));
    let ifu_csv = String::from_utf8(tax::ifu_csv(&ifu, &Default::default())).expect("UTF-8");
    assert_eq!(ifu_csv.lines().count(), ifu.len() + 1);

    // The same statement again records nothing.
    let again = settle().await.expect("the statement is imported again");
    assert!(again.recorded.is_empty());
    assert_eq!(again.already_recorded, settled_ids.len());

    // The next file pays those still owed: the 5 not settled.
    let next = transfers_now().await;
    let next_ids: BTreeSet<String> = next
        .transfers
        .iter()
        .map(|p| p.end_to_end_id.clone())
        .collect();
    let expected: BTreeSet<String> = returned.iter().cloned().chain([pending, more]).collect();
    assert_eq!(next_ids, expected);
    assert_eq!(next.already_paid, settled_ids.len());
    assert_ne!(next.message_id, run.message_id);
}

windledger_store::on_both_backends!(
    a_batch_of_payments_is_decided_in_order_and_recorded_in_one_commit
);

/// `execute_batch`: each payment decided on what the ones before it in the
/// batch decided (the same holder twice: the second refused as already
/// paid), a refused one holding no other back, and the accepted ones
/// recorded in one commit (one seal).
async fn a_batch_of_payments_is_decided_in_order_and_recorded_in_one_commit(db: TestDatabase) {
    use windledger_app::command::Command;
    use windledger_domain::finance::FinancialYearCommand;

    let store = db.store().await;
    let ledger = LedgerId::parse("ailes").expect("an id");
    let file: String = windledger_fixtures::reference::IMPORT_FILE
        .lines()
        .filter(|l| !l.contains("\"id\":\"fy2024-dividend-paid-"))
        .map(|l| format!("{l}\n"))
        .collect();
    windledger_app::import::import(store.clone(), ledger.clone(), file.as_bytes(), |_| {})
        .await
        .expect("the farm imports");
    let runtime = LedgerRuntime::open(store.clone(), ledger.clone(), &[])
        .await
        .expect("the ledger opens");
    let pay = |holder: &str, paid_on: (i32, u32, u32)| {
        Command::FinancialYear(FinancialYearCommand::RecordDividendPayment {
            holder: HolderId::new(holder).expect("a holder"),
            paid_on: chrono::NaiveDate::from_ymd_opt(paid_on.0, paid_on.1, paid_on.2)
                .expect("a date"),
        })
    };
    let before = store.head(&ledger).await.expect("the head").size;
    let outcomes = runtime
        .execute_batch(
            "2024",
            vec![
                pay("partenaire-industriel", (2025, 7, 15)),
                pay("partenaire-industriel", (2025, 7, 16)),
                pay("sem-soleil", (2025, 6, 1)),
                pay("ccmp", (2025, 7, 15)),
            ],
            HashMap::from([("command_id".to_owned(), "one-id-for-all".to_owned())]),
        )
        .await
        .expect("the batch runs");
    let rules: Vec<Option<&str>> = outcomes
        .iter()
        .map(|o| o.as_ref().err().and_then(|e| e.rule))
        .collect();
    assert_eq!(
        rules,
        [None, Some("AlreadyPaid"), Some("BeforeRecordDate"), None]
    );
    let positions: Vec<u64> = outcomes
        .iter()
        .flat_map(|o| o.iter().flatten().map(|r| r.position))
        .collect();
    assert_eq!(positions, [before + 1, before + 2]);
    let after = store.head(&ledger).await.expect("the head").size;
    assert_eq!(after, before + 2);
    let seals = store
        .seals(&ledger, before, after)
        .await
        .expect("the seals");
    assert_eq!(seals.len(), 1, "one commit: {seals:?}");
    assert_eq!((seals[0].first, seals[0].last), (before + 1, before + 2));
    let paid: BTreeSet<String> = runtime.projections.read(|p| {
        let dividend = payments::declared_dividend(p, 2024).expect("the dividend");
        dividend.payments().map(|(h, _)| h.to_string()).collect()
    });
    let paid: BTreeSet<&str> = paid.iter().map(String::as_str).collect();
    assert_eq!(paid, BTreeSet::from(["partenaire-industriel", "ccmp"]));

    // A batch mixing aggregates' commands is refused whole.
    let mixed = runtime
        .execute_batch(
            "2024",
            vec![
                pay("sem-soleil", (2025, 7, 15)),
                Command::Advance(windledger_domain::finance::AdvanceCommand::PayInterest {
                    year: 2024,
                    paid_on: chrono::NaiveDate::from_ymd_opt(2025, 7, 15).expect("a date"),
                }),
            ],
            HashMap::new(),
        )
        .await;
    assert!(mixed.is_err(), "{mixed:?}");
    assert_eq!(store.head(&ledger).await.expect("the head").size, after);
}
