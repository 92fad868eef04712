//! Money paid by bank transfer through the API
//! (`windledger_papers::payments`): the SEPA credit transfer file of a
//! dividend's holders still to pay (of a year's current-account interest,
//! of repayments of advances), where each holder stands, and the bank's
//! statement imported to record what it paid; and the tax paperwork of
//! what was paid (`windledger_documents::tax`): the monthly returns of the
//! withholding (form 2777) and the IFU (form 2561).

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use windledger_app::ledger::LedgerRuntime;
use windledger_documents::tax;
use windledger_documents::{DocumentError, Drawn};
use windledger_domain::money::Euros;
use windledger_domain::paris::to_paris;
use windledger_domain::types::HolderId;
use windledger_papers::payments::{self, Debtor, Payer, PaymentRun, Settlement, Standing};
use windledger_sepa::statement;

use crate::AppState;
use crate::answers;
use crate::auth::Principal;
use crate::documents::{blocking, file};
use crate::extract::{Call, HolderPath, JsonBody, Ledger, PathParams, QueryParams};
use crate::identity::{metadata, reader};
use crate::problem::Problem;
use crate::reads::projected;

/// The number of transfers in the file.
pub const TRANSFER_COUNT: HeaderName = HeaderName::from_static("transfer-count");
/// The file's control sum, in euros.
pub const CONTROL_SUM: HeaderName = HeaderName::from_static("control-sum");
/// How many holders owed a dividend the file leaves out for want of a
/// bank account in the vault (`GET .../dividend/payments` lists them).
pub const WITHOUT_BANK_ACCOUNT: HeaderName = HeaderName::from_static("without-bank-account");

/// A route's `{year}`.
#[derive(Debug, Deserialize)]
pub struct YearPath {
    pub year: i32,
}

/// The company's account and the day to pay.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TransfersQuery {
    /// The company's IBAN, which the transfers are paid from.
    debtor_iban: String,
    /// Its bank's BIC (optional in SEPA).
    debtor_bic: Option<String>,
    /// The day the bank is asked to pay: today (Paris) or later; today
    /// when not given.
    execution_date: Option<NaiveDate>,
}

/// Where one holder's dividend stands.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct HolderPayment {
    holder: HolderId,
    /// The reference of the holder's transfer, which the bank gives back.
    end_to_end_id: String,
    net: Euros,
    status: Standing,
    /// The day the bank booked it, once paid.
    paid_on: Option<NaiveDate>,
}

/// The dividend's payments, holder by holder.
#[derive(Debug, Serialize, JsonSchema)]
pub(crate) struct DividendPayments {
    year: i32,
    payment_date: NaiveDate,
    total_net: Euros,
    paid: Euros,
    holders: Vec<HolderPayment>,
}

/// A bank statement to import.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BankStatement {
    /// The statement as the bank gave it: an ISO 20022 camt.053 document
    /// (XML), or the CSV of docs/payments.md; the first character tells
    /// which. Within the API's 1 MiB body: a larger statement is imported
    /// in parts, or by `windledger bank-statement`.
    statement: String,
}

fn debtor(q: &TransfersQuery) -> Result<Debtor, Problem> {
    let iban = windledger_vault::Iban::new(q.debtor_iban.replace(' ', ""))
        .map_err(|e| Problem::validation(format!("debtor_iban: {e}")))?;
    let bic = q
        .debtor_bic
        .as_ref()
        .map(|b| windledger_vault::Bic::new(b.clone()))
        .transpose()
        .map_err(|e| Problem::validation(format!("debtor_bic: {e}")))?;
    Ok(Debtor { iban, bic })
}

/// `GET /financial-years/{year}/dividend/credit-transfers.xml` (`INTEREST`
/// false): the SEPA credit transfer file (pain.001.001.09) of the holders
/// still to pay; `GET /advance-interest/{year}/credit-transfers.xml`
/// (`INTEREST` true): the file of the interest of a year still to pay.
pub(crate) async fn year_transfers<const INTEREST: bool>(
    Call(state, principal, runtime): Call,
    PathParams(YearPath { year }): PathParams<YearPath>,
    QueryParams(q): QueryParams<TransfersQuery>,
) -> Result<Response, Problem> {
    let payer = payer(&q, &state, &principal)?;
    projected(&runtime, |_| ()).await?;
    let run = if INTEREST {
        payments::interest_transfers(&runtime, year, &payer).await?
    } else {
        payments::dividend_transfers(&runtime, year, &payer).await?
    };
    transfer_file(&runtime, &run)
}

/// Who pays: the company's account, the day to pay (today or later,
/// Paris), the server's clock, the vault read for the caller.
fn payer<'a>(
    q: &TransfersQuery,
    state: &'a AppState,
    principal: &Principal,
) -> Result<Payer<'a>, Problem> {
    let debtor = debtor(q)?;
    let now = to_paris(Utc::now());
    let execution_date = q.execution_date.unwrap_or(now.date());
    if execution_date < now.date() {
        return Err(Problem::validation(format!(
            "execution_date {execution_date} is past: a bank pays today ({}) at the earliest",
            now.date()
        )));
    }
    Ok(Payer {
        vault: state.vault().ok(),
        debtor,
        execution_date,
        now,
        reader: reader(principal, "payment"),
    })
}

/// Repayments to make, and from which account.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RepaymentTransfers {
    /// The company's IBAN, which the transfers are paid from.
    debtor_iban: String,
    /// Its bank's BIC (optional in SEPA).
    debtor_bic: Option<String>,
    /// The day the bank is asked to pay: today (Paris) or later; today
    /// when not given.
    execution_date: Option<NaiveDate>,
    /// One repayment an advance, each at most the principal still owed.
    repayments: Vec<payments::RepaymentOrder>,
}

/// `POST /advance-repayments/credit-transfers.xml`: the SEPA credit
/// transfer file of the repayments asked for (nothing is recorded until
/// the bank's statement shows them booked).
pub(crate) async fn repayment_transfers(
    Call(state, principal, runtime): Call,
    JsonBody(bytes): JsonBody,
) -> Result<Response, Problem> {
    let body: RepaymentTransfers = serde_json::from_slice(&bytes)
        .map_err(|e| Problem::validation(format!("not a valid body: {e}")))?;
    let query = TransfersQuery {
        debtor_iban: body.debtor_iban,
        debtor_bic: body.debtor_bic,
        execution_date: body.execution_date,
    };
    let payer = payer(&query, &state, &principal)?;
    projected(&runtime, |_| ()).await?;
    let run = payments::repayment_transfers(&runtime, &body.repayments, &payer).await?;
    transfer_file(&runtime, &run)
}

/// The run's file as an XML download, with its count, control sum and
/// the holders left out for want of a bank account in headers; refused
/// when there is no transfer to make.
fn transfer_file(runtime: &LedgerRuntime, run: &PaymentRun) -> Result<Response, Problem> {
    let Some(file) = run.file.clone() else {
        return Err(nothing_to_transfer(run));
    };
    let mut response = file.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    let name = format!("{}-{}.xml", runtime.id, run.message_id);
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    headers.insert(TRANSFER_COUNT, HeaderValue::from(run.transfers.len()));
    if let Ok(v) = HeaderValue::from_str(&run.control_sum.to_string()) {
        headers.insert(CONTROL_SUM, v);
    }
    headers.insert(
        WITHOUT_BANK_ACCOUNT,
        HeaderValue::from(run.without_bank_account.len()),
    );
    Ok(response)
}

fn nothing_to_transfer(run: &PaymentRun) -> Problem {
    let what = run.what();
    Problem::refused(
        "NothingToTransfer",
        format!(
            "no transfer to make for {what}: {} holders already paid, {} owed with no bank account in the vault, {} with a net of zero, {} awaiting the decision on their withholding",
            run.already_paid,
            run.without_bank_account.len(),
            run.nothing_to_pay.len(),
            run.awaiting_decision.len()
        ),
    )
}

/// `GET /financial-years/{year}/dividend/payments`: each holder's
/// dividend, paid (when), to pay, or owed without a bank account.
pub(crate) async fn dividend_payments(
    Call(state, principal, runtime): Call,
    PathParams(YearPath { year }): PathParams<YearPath>,
) -> Result<Response, Problem> {
    let dividend = projected(&runtime, |p| payments::declared_dividend(p, year))
        .await?
        .ok_or_else(|| {
            Problem::not_found(format!(
                "no dividend is declared for the financial year {year}"
            ))
        })?;
    let standings = payments::standings(
        state.vault().ok(),
        &runtime,
        &dividend,
        &reader(&principal, "payment"),
    )
    .await?;
    let mut total_net = 0u64;
    let mut paid = 0u64;
    let mut holders = Vec::with_capacity(dividend.allocations.len());
    for ((place, a), status) in dividend.allocations.iter().enumerate().zip(standings) {
        let net = a
            .net
            .cents()
            .ok_or_else(|| Problem::internal("a net not in cents"))?;
        total_net += net;
        let payment = a.paid.as_ref();
        paid += payment.and_then(|p| p.amount.cents()).unwrap_or(0);
        holders.push(HolderPayment {
            holder: a.holder.clone(),
            end_to_end_id: payments::end_to_end_id(year, place),
            net: a.net,
            status,
            paid_on: payment.map(|p| p.paid_on),
        });
    }
    let answer = DividendPayments {
        year,
        payment_date: dividend.payment_date,
        total_net: Euros::from_cents(total_net),
        paid: Euros::from_cents(paid),
        holders,
    };
    Ok(answers::json(&answer)?.into_response())
}

/// `POST /financial-years/{year}/dividend/bank-statements`: the bank's
/// statement, each of this dividend's transfers it booked recorded as
/// paid on its booking date, the others listed with why not.
pub(crate) async fn import_statement(
    principal: Principal,
    Ledger(runtime): Ledger,
    PathParams(YearPath { year }): PathParams<YearPath>,
    JsonBody(bytes): JsonBody,
) -> Result<Response, Problem> {
    settle(
        &principal,
        &runtime,
        &bytes,
        payments::Scope::Dividend(year),
    )
    .await
}

/// `POST /bank-statements`: the bank's statement, each transfer of the
/// ledger's it booked (a dividend, interest, a repayment) recorded on its
/// booking date, the others listed with why not.
pub(crate) async fn import_any_statement(
    principal: Principal,
    Ledger(runtime): Ledger,
    JsonBody(bytes): JsonBody,
) -> Result<Response, Problem> {
    settle(&principal, &runtime, &bytes, payments::Scope::Everything).await
}

/// A `BankStatement` body read, and the transfers of `scope` it booked
/// recorded: the settlement, or why not.
async fn settle(
    principal: &Principal,
    runtime: &LedgerRuntime,
    bytes: &[u8],
    scope: payments::Scope,
) -> Result<Response, Problem> {
    let BankStatement { statement } = serde_json::from_slice(bytes)
        .map_err(|e| Problem::validation(format!("not a valid body: {e}")))?;
    let lines = statement::read(statement.as_bytes())
        .map_err(|e| Problem::validation(format!("not a statement windledger reads: {e}")))?;
    projected(runtime, |_| ()).await?;
    let settlement: Settlement =
        payments::settle(runtime, scope, &lines, &metadata(principal)).await?;
    Ok((StatusCode::OK, answers::json(&settlement)?).into_response())
}

/// The calendar year of a tax document.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaxYearQuery {
    /// The calendar year the payments were made in (default: last year,
    /// the one whose IFU is filed in February).
    year: Option<i32>,
}

fn tax_year(q: &TaxYearQuery) -> Result<i32, Problem> {
    let year = q
        .year
        .unwrap_or_else(|| to_paris(Utc::now()).date().year() - 1);
    if (1900..=9999).contains(&year) {
        Ok(year)
    } else {
        Err(Problem::validation(format!(
            "year {year} is not a calendar year windledger keeps (1900 to 9999)"
        )))
    }
}

async fn tax_figures<T: Send + 'static>(
    runtime: &LedgerRuntime,
    f: impl FnOnce(&windledger_projections::runner::Projections) -> Result<T, DocumentError>,
) -> Result<(T, Drawn), Problem> {
    let id = runtime.id.to_string();
    projected(runtime, |p| {
        let drawn = Drawn::of(p, &id, None)
            .ok_or_else(|| Problem::not_found("the company is not incorporated"))?;
        let figures = f(p).map_err(Problem::internal)?;
        Ok::<_, Problem>((figures, drawn))
    })
    .await?
}

/// `GET /tax/withholding-returns.csv|pdf?year=Y`: the monthly returns of
/// the withholding of a year (form 2777).
async fn withholding_returns(
    runtime: &LedgerRuntime,
    q: &TaxYearQuery,
    pdf: bool,
) -> Result<Response, Problem> {
    let year = tax_year(q)?;
    let (returns, drawn) = tax_figures(runtime, |p| tax::withholding_returns(p, year)).await?;
    if !pdf {
        let name = format!("{}-2777-{year}.csv", drawn.ledger);
        return Ok(file(
            tax::withholding_returns_csv(&returns),
            "text/csv; charset=utf-8",
            &name,
            &drawn,
        ));
    }
    let name = format!("{}-2777-{year}.pdf", drawn.ledger);
    let bytes = {
        let drawn = drawn.clone();
        blocking(move || {
            tax::withholding_returns_pdf(&drawn, year, &returns).map_err(Problem::internal)
        })
        .await?
    };
    Ok(file(bytes, "application/pdf", &name, &drawn))
}

pub(crate) async fn withholding_returns_csv(
    Ledger(runtime): Ledger,
    QueryParams(q): QueryParams<TaxYearQuery>,
) -> Result<Response, Problem> {
    withholding_returns(&runtime, &q, false).await
}

pub(crate) async fn withholding_returns_pdf(
    Ledger(runtime): Ledger,
    QueryParams(q): QueryParams<TaxYearQuery>,
) -> Result<Response, Problem> {
    withholding_returns(&runtime, &q, true).await
}

/// The IFU of `year` (of one holder, or of all), named from the vault.
async fn ifu(
    state: &AppState,
    principal: &Principal,
    runtime: &LedgerRuntime,
    q: &TaxYearQuery,
    only: Option<&HolderId>,
    pdf: bool,
) -> Result<Response, Problem> {
    let year = tax_year(q)?;
    let (mut lines, drawn) = tax_figures(runtime, |p| tax::ifu(p, year)).await?;
    if let Some(holder) = only {
        lines.retain(|l| l.holder == *holder);
    }
    let names = match state.vault() {
        Ok(v) => v
            .read_many(
                runtime,
                lines.iter().map(|l| &l.holder),
                &reader(principal, "ifu"),
            )
            .await?
            .into_iter()
            .map(|(h, f)| (h, windledger_papers::persons::beneficiary(&f.person)))
            .collect(),
        Err(_) => Default::default(),
    };
    let stem = match only {
        Some(h) => format!("{}-ifu-{year}-{h}", drawn.ledger),
        None => format!("{}-ifu-{year}", drawn.ledger),
    };
    if !pdf {
        return Ok(file(
            tax::ifu_csv(&lines, &names),
            "text/csv; charset=utf-8",
            &format!("{stem}.csv"),
            &drawn,
        ));
    }
    let bytes = {
        let drawn = drawn.clone();
        blocking(move || tax::ifu_pdf(&drawn, year, &lines, &names).map_err(Problem::internal))
            .await?
    };
    Ok(file(
        bytes,
        "application/pdf",
        &format!("{stem}.pdf"),
        &drawn,
    ))
}

/// `GET /tax/ifu.csv?year=Y`: every beneficiary's IFU line, for the
/// accountant.
pub(crate) async fn ifu_csv(
    Call(state, principal, runtime): Call,
    QueryParams(q): QueryParams<TaxYearQuery>,
) -> Result<Response, Problem> {
    ifu(&state, &principal, &runtime, &q, None, false).await
}

/// `GET /tax/ifu.pdf?year=Y`: every beneficiary's IFU, one after the
/// other.
pub(crate) async fn ifu_pdf(
    Call(state, principal, runtime): Call,
    QueryParams(q): QueryParams<TaxYearQuery>,
) -> Result<Response, Problem> {
    ifu(&state, &principal, &runtime, &q, None, true).await
}

/// `GET /holders/{holder}/ifu.pdf?year=Y`: one holder's IFU.
pub(crate) async fn holder_ifu_pdf(
    Call(state, principal, runtime): Call,
    PathParams(HolderPath { holder }): PathParams<HolderPath>,
    QueryParams(q): QueryParams<TaxYearQuery>,
) -> Result<Response, Problem> {
    ifu(&state, &principal, &runtime, &q, Some(&holder), true).await
}
