//! `windledger pay` and `windledger bank-statement`: a declared dividend,
//! a year's current-account interest or repayments of advances paid by
//! one SEPA credit transfer file (pain.001.001.09) for the bank, and the
//! bank's statement (camt.053 or CSV) read back to record what it paid
//! (docs/payments.md).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use chrono::{NaiveDate, Utc};
use windledger_domain::paris::to_paris;
use windledger_papers::payments::{self, Debtor, Mismatch, Payer};

use crate::identity::{actor, reader};
use crate::options::LedgerAndKeys;

#[derive(clap::Args, Debug)]
pub struct PayOptions {
    /// The financial year whose dividend is paid (the year it ends in);
    /// with --interest, the year whose interest is paid.
    #[arg(long, required_unless_present = "repay")]
    pub year: Option<i32>,
    /// Pay the current-account interest of --year rather than its
    /// dividend.
    #[arg(long, requires = "year")]
    pub interest: bool,
    /// Repay AMOUNT (euros) of the advance ADVANCE; repeat for several
    /// advances (one repayment each).
    #[arg(long = "repay", value_name = "ADVANCE=AMOUNT", conflicts_with = "year")]
    pub repay: Vec<String>,
    /// The company's IBAN, which the transfers are paid from.
    #[arg(long, env = "WINDLEDGER_COMPANY_IBAN")]
    pub debtor_iban: String,
    /// Its bank's BIC (optional in SEPA).
    #[arg(long, env = "WINDLEDGER_COMPANY_BIC")]
    pub debtor_bic: Option<String>,
    /// The day the bank is asked to pay (default: today, Paris time).
    #[arg(long)]
    pub execution_date: Option<NaiveDate>,
    /// Where to write the file (pain.001.001.09 XML) to hand to the bank.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub on: LedgerAndKeys,
}

#[derive(clap::Args, Debug)]
pub struct BankStatementOptions {
    /// Record the transfers of this financial year's dividend only
    /// (default: every transfer of the ledger's the statement shows:
    /// dividends, interest, repayments).
    #[arg(long)]
    pub year: Option<i32>,
    /// The bank's statement: a camt.053 file (XML) or the CSV of
    /// docs/payments.md.
    pub statement: PathBuf,
    #[command(flatten)]
    pub on: LedgerAndKeys,
}

pub async fn run_pay(options: &PayOptions, out: &mut dyn Write) -> anyhow::Result<()> {
    let debtor = Debtor {
        iban: windledger_vault::Iban::new(options.debtor_iban.replace(' ', ""))
            .map_err(|e| anyhow::anyhow!("--debtor-iban: {e}"))?,
        bic: options
            .debtor_bic
            .clone()
            .map(windledger_vault::Bic::new)
            .transpose()
            .map_err(|e| anyhow::anyhow!("--debtor-bic: {e}"))?,
    };
    let now = to_paris(Utc::now());
    let execution_date = options.execution_date.unwrap_or(now.date());
    anyhow::ensure!(
        execution_date >= now.date(),
        "--execution-date {execution_date} is past: a bank pays today ({}) at the earliest",
        now.date()
    );
    let (vault, runtime) = options.on.open(&mut std::io::stderr()).await?;
    let payer = Payer {
        vault: Some(&vault),
        debtor,
        execution_date,
        now,
        reader: reader("payment"),
    };
    let run = match (options.year, options.interest) {
        (Some(year), false) => payments::dividend_transfers(&runtime, year, &payer).await?,
        (Some(year), true) => payments::interest_transfers(&runtime, year, &payer).await?,
        (None, _) => {
            let orders = options
                .repay
                .iter()
                .map(|r| repayment_order(r))
                .collect::<anyhow::Result<Vec<_>>>()?;
            payments::repayment_transfers(&runtime, &orders, &payer).await?
        }
    };
    for payee in &run.without_bank_account {
        writeln!(
            out,
            "not in the file: {} is owed {} and has no bank account in the vault",
            payee.holder, payee.net
        )?;
    }
    for holder in &run.awaiting_decision {
        writeln!(
            out,
            "not in the file: {holder} is taxed outside France and waits for the decision on their withholding (decide_withholding)"
        )?;
    }
    writeln!(
        out,
        "{} holders already paid; {} with a net of zero.",
        run.already_paid,
        run.nothing_to_pay.len()
    )?;
    let what = run.what();
    let file = run
        .file
        .as_ref()
        .with_context(|| format!("no transfer to make for {what}: nothing written"))?;
    std::fs::write(&options.out, file)
        .with_context(|| format!("cannot write {}", options.out.display()))?;
    writeln!(
        out,
        "{} transfers, {} in all, to execute on {execution_date}: written to {} (message id {}).",
        run.transfers.len(),
        run.control_sum,
        options.out.display(),
        run.message_id
    )?;
    Ok(())
}

/// `cca-1=5000.00`: a repayment of 5,000 EUR of the advance `cca-1`.
fn repayment_order(text: &str) -> anyhow::Result<payments::RepaymentOrder> {
    let (advance, amount) = text
        .rsplit_once('=')
        .with_context(|| format!("--repay {text}: write ADVANCE=AMOUNT, e.g. cca-1=5000.00"))?;
    // As the API reads it: a decimal in euros, above zero.
    let amount: windledger_domain::money::Euros =
        serde_json::from_value(serde_json::Value::String(amount.trim().to_owned()))
            .map_err(|e| anyhow::anyhow!("--repay {text}: {e}"))?;
    Ok(payments::RepaymentOrder {
        advance: advance.trim().to_owned(),
        amount,
    })
}

pub async fn run_statement(
    options: &BankStatementOptions,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let bytes = std::fs::read(&options.statement)
        .with_context(|| format!("cannot read {}", options.statement.display()))?;
    let lines = windledger_sepa::statement::read(&bytes)
        .with_context(|| format!("{} is not a statement", options.statement.display()))?;
    let (_, runtime) = options.on.open(&mut std::io::stderr()).await?;
    let scope = match options.year {
        Some(year) => payments::Scope::Dividend(year),
        None => payments::Scope::Everything,
    };
    let settlement = payments::settle(&runtime, scope, &lines, &actor()).await?;
    for u in &settlement.unmatched {
        let why = match &u.mismatch {
            Mismatch::Returned { code } => format!(
                "returned by the bank{}",
                code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default()
            ),
            Mismatch::Pending => "not booked yet".to_owned(),
            Mismatch::UnknownId => "names nothing the ledger owes".to_owned(),
            Mismatch::Amount { expected, booked } => {
                format!("booked {booked} where {expected} is owed")
            }
            Mismatch::Currency { currency } => format!("in {currency}, not EUR"),
            Mismatch::NoBookingDate => "booked without a date".to_owned(),
            Mismatch::AlreadyPaid { paid_on } => format!("already recorded as paid on {paid_on}"),
            Mismatch::Refused { detail, .. } => format!("refused: {detail}"),
        };
        writeln!(
            out,
            "not recorded: {}, {} ({}): {why}",
            u.place, u.end_to_end_id, u.amount
        )?;
    }
    writeln!(
        out,
        "Payments recorded: {}; recorded already: {}; lines not recorded: {}; lines of other movements, left alone: {}.",
        settlement.recorded.len(),
        settlement.already_recorded,
        settlement.unmatched.len(),
        settlement.other_lines
    )?;
    Ok(())
}
