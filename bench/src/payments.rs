//! `payments`: a declared dividend paid to WINDLEDGER_BENCH_HOLDERS
//! (20,000) holders (issue: "the pain.001 file ... for 20,000 holders";
//! target <= 2 s).
//!
//! Set-up, not measured: a synthetic farm of N holders over two years
//! (no newcomers, no transfers, no dividend paid), whose first year's
//! dividend is declared by the second year's general meeting; every
//! holder's identity in the vault, each with a bank account.
//!
//! Measured, each step once, as `windledger pay`, `windledger
//! bank-statement` and the API run them:
//!
//! - `payments_file`: the SEPA credit transfer file (pain.001.001.09): the
//!   declared allocations read from the projections, every owed holder's
//!   data read from the vault (each read logged), the file written and
//!   checked;
//! - `payments_statement_read`: the bank's camt.053 statement of those
//!   transfers (written beforehand as a bank would, 3 returned) read;
//! - `payments_settle`: its lines matched to the allocations and each
//!   settled transfer recorded as paid (one command each), until the
//!   projections show it.
//!
//! - `payments_2777`: the monthly returns of the withholding of the
//!   payments' year, figures and PDF;
//! - `payments_ifu_pdf`: the IFU of every beneficiary of that year, named
//!   from the vault (each read logged), as one PDF/A with one part each
//!   (target <= 60 s); `payments_ifu_csv` the accountant's CSV.
//!
//! Then the files' sizes, and the transfers and payments counted.

use std::time::Instant;

use anyhow::{Context, ensure};
use chrono::{Datelike, Days, NaiveDate};
use serde_json::json;
use windledger_app::import::synthetic::Synthetic;
use windledger_app::people::Reader;
use windledger_documents::Drawn;
use windledger_documents::tax;
use windledger_domain::company::HolderKind;
use windledger_papers::payments::{self, Debtor, Payer};
use windledger_sepa::testing::bank::{BankLine, Outcome, bank_statement};
use windledger_store::testing::Backend;
use windledger_vault::Person;

use crate::env_size;
use crate::farm::Farm;

const LEDGER: &str = "parc-virements";
const COMPANY_IBAN: &str = "FR7630006000011234567890189";

/// A French IBAN for holder `n`, its mod-97 check digits computed.
fn iban(n: usize) -> String {
    let bban = format!("3000400003{n:011}02");
    let rest = format!("{bban}152700")
        .bytes()
        .fold(0u32, |r, d| (r * 10 + u32::from(d - b'0')) % 97);
    format!("FR{:02}{bban}", 98 - rest)
}

/// Holder `n`'s identity, of the kind the register gives them, with a
/// bank account.
fn person(n: usize, kind: HolderKind) -> anyhow::Result<Person> {
    let identity = if kind == HolderKind::Individual {
        json!({"person": "natural", "family_name": format!("Associée{n:05}"),
               "given_names": "Zoé", "birth": null})
    } else {
        json!({"person": "legal", "name": format!("Énergies citoyennes {n:05}"),
               "legal_form": "SAS", "siren": null, "representative": "Dominique Martin"})
    };
    Ok(serde_json::from_value(json!({
        "identity": identity,
        "address": {"lines": [format!("{n} chemin des Crêtes")], "postal_code": "07320",
                    "city": "Saint-Agrève", "country": "FR"},
        "email": null,
        "tax_residence": "FR",
        "bank_account": {"iban": iban(n), "bic": "BNPAFRPP"},
    }))?)
}

pub async fn bench(backend: Backend) -> anyhow::Result<()> {
    let holders = env_size("WINDLEDGER_BENCH_HOLDERS", 20_000)?;
    let synthetic = Synthetic {
        holders,
        years: 2,
        newcomers_per_year: 0,
        transfers_per_year: 0,
        payments_fraction: 0.0,
        ..Synthetic::default()
    };
    let year = synthetic.first_year();
    let on = NaiveDate::from_ymd_opt(year + 2, 1, 1).context("a date")?;
    let farm = crate::farm::with_identities(backend, LEDGER, &synthetic, on, person).await?;
    let Farm { runtime, vault, .. } = &farm;
    println!("payments_setup_identities {:.1} s", farm.identities_seconds);
    let payment_date = runtime
        .projections
        .read(|p| payments::declared_dividend(p, year))
        .context("the first year's dividend is declared")?
        .payment_date;
    let payer = Payer {
        vault: Some(vault),
        debtor: Debtor {
            iban: windledger_vault::Iban::new(COMPANY_IBAN)?,
            bic: Some(windledger_vault::Bic::new("AGRIFRPP")?),
        },
        execution_date: payment_date,
        now: payment_date.and_hms_opt(9, 0, 0).context("a time")?,
        reader: Reader {
            who: "bench".to_owned(),
            purpose: "payment".to_owned(),
        },
    };

    let start = Instant::now();
    let run = payments::dividend_transfers(runtime, year, &payer).await?;
    let file_time = start.elapsed();
    let file = run.file.as_ref().context("a file")?;
    ensure!(
        run.without_bank_account.is_empty(),
        "every holder has a bank account"
    );
    println!("payments_file {:.3} s", file_time.as_secs_f64());
    println!("payments_file_transfers {} count", run.transfers.len());
    println!(
        "payments_file_size {:.1} MiB",
        file.len() as f64 / 1024.0 / 1024.0
    );

    // The bank's statement of those transfers, booked the next day, 3
    // returned (set-up).
    let booked_on = payment_date
        .checked_add_days(Days::new(1))
        .context("a date")?;
    let n = run.transfers.len();
    let returned = [1, n / 2, n.saturating_sub(2)];
    let lines: Vec<BankLine> = run
        .transfers
        .iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(BankLine {
                end_to_end_id: p.end_to_end_id.clone(),
                amount: p.net.cents().context("cents")?,
                booking_date: booked_on,
                outcome: if returned.contains(&i) {
                    Outcome::Returned {
                        reason: "AC04".to_owned(),
                    }
                } else {
                    Outcome::Booked
                },
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let camt = bank_statement(
        COMPANY_IBAN,
        &lines,
        booked_on.and_hms_opt(18, 0, 0).context("a time")?,
    );

    let start = Instant::now();
    let read = windledger_sepa::statement::read(camt.as_bytes())?;
    println!(
        "payments_statement_read {:.3} s",
        start.elapsed().as_secs_f64()
    );
    println!(
        "payments_statement_size {:.1} MiB",
        camt.len() as f64 / 1024.0 / 1024.0
    );
    let start = Instant::now();
    let settlement = payments::settle(
        runtime,
        payments::Scope::Dividend(year),
        &read,
        &Default::default(),
    )
    .await?;
    println!("payments_settle {:.3} s", start.elapsed().as_secs_f64());
    println!(
        "payments_settle_recorded {} count",
        settlement.recorded.len()
    );
    println!(
        "payments_settle_unmatched {} count",
        settlement.unmatched.len()
    );

    // The tax paperwork of the year of the payments.
    let year = booked_on.year();
    let start = Instant::now();
    let (returns, lines, drawn) = runtime.projections.read(|p| {
        Ok::<_, anyhow::Error>((
            tax::withholding_returns(p, year)?,
            tax::ifu(p, year)?,
            Drawn::of(p, LEDGER, None).context("incorporated")?,
        ))
    })?;
    let return_pdf = tax::withholding_returns_pdf(&drawn, year, &returns)?;
    println!("payments_2777 {:.3} s", start.elapsed().as_secs_f64());
    ensure!(!return_pdf.is_empty());
    let start = Instant::now();
    let names: std::collections::BTreeMap<_, _> = vault
        .read_many(runtime, lines.iter().map(|l| &l.holder), &payer.reader)
        .await?
        .into_iter()
        .map(|(h, f)| (h, windledger_papers::persons::beneficiary(&f.person)))
        .collect();
    let ifu_pdf = tax::ifu_pdf(&drawn, year, &lines, &names)?;
    let ifu_time = start.elapsed();
    println!("payments_ifu_pdf {:.3} s", ifu_time.as_secs_f64());
    println!("payments_ifu_beneficiaries {} count", lines.len());
    println!(
        "payments_ifu_pdf_size {:.1} MiB",
        ifu_pdf.len() as f64 / 1024.0 / 1024.0
    );
    let start = Instant::now();
    let ifu_csv = tax::ifu_csv(&lines, &names);
    println!("payments_ifu_csv {:.3} s", start.elapsed().as_secs_f64());
    ensure!(ifu_csv.len() > lines.len());
    Ok(())
}
