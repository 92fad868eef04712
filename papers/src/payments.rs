//! Money that leaves the company by bank transfer (issue: payment files
//! and the tax paperwork): a declared dividend, a year's current-account
//! interest or repayments of advances paid as one SEPA credit transfer
//! file (`pain.001.001.09`), each holder's net to the IBAN the vault
//! holds, and the bank's statement (`camt.053`, or CSV) matched back to
//! what was owed, recording the payment (`DividendPaid`, `InterestPaid`,
//! `AdvanceRepaid`) at the bank's booking date for the transfers that
//! settled and for those only.
//!
//! - [`Reference`]: the end-to-end id each transfer carries and the bank
//!   gives back: `DIV-<year>-<n>` (n the holder's place in the declared
//!   allocations), `INT-<year>-<a>` (a the advance's place among the
//!   advances, in the order granted), `RMB-<a>-<k>` (the advance's k-th
//!   repayment), so that the statement names what it pays.
//! - [`dividend_transfers`], [`interest_transfers`],
//!   [`repayment_transfers`]: the files, with the holders they cannot pay
//!   (no bank account in the vault) listed, never silently left out.
//! - [`settle`]: the statement's lines, each recorded or listed with why
//!   not (returned by the bank, pending, another amount, an unknown id).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use serde::Serialize;
use sha2::{Digest, Sha256};
use windledger_domain::company::HolderKind;
use windledger_domain::finance::{AdvanceCommand, FinancialYearCommand, WithholdingStatus};
use windledger_domain::money::Euros;
use windledger_domain::types::HolderId;
use windledger_projections::cap_table::AsOf;
use windledger_projections::finance::{AdvanceRecord, Dividend};
use windledger_projections::runner::Projections;
use windledger_sepa::statement::{Direction, LineStatus, StatementLine};
use windledger_sepa::{CreditTransfers, Party, Transfer};
use windledger_vault::Identity;

use windledger_app::Error;
use windledger_app::command::Command;
use windledger_app::ledger::LedgerRuntime;
use windledger_app::people::{Reader, Vault};

/// The last day of the year before a payment by which a holder's request
/// to be exempted from the income-tax withholding must be received (CGI
/// art. 242 quater, 1; BOI-RPPM-RCM-30-20-10: "au plus tard le 30
/// novembre de l'année qui précède celle du paiement"). The thresholds of
/// the reference income (50,000 EUR single, 75,000 EUR a couple) are the
/// holder's sworn statement: the company keeps it, it does not check it.
pub const EXEMPTION_DEADLINE: (u32, u32) = (11, 30);

/// Whether `statements` hold a request to be exempted from the
/// income-tax withholding on payments made on `payment_date`: one for
/// that year, received by 30 November of the year before.
pub fn exempt_on(statements: &[windledger_vault::Statement], payment_date: NaiveDate) -> bool {
    let year = payment_date.year();
    let Some(deadline) =
        NaiveDate::from_ymd_opt(year - 1, EXEMPTION_DEADLINE.0, EXEMPTION_DEADLINE.1)
    else {
        return false;
    };
    statements.iter().any(|s| {
        s.kind == windledger_vault::StatementKind::WithholdingExemption
            && s.year == year
            && s.dated <= deadline
    })
}

/// The withholding status of each individual on the cap table at
/// `record_date` whose identity says they are not withheld as a French
/// resident: taxed abroad (their tax residence is not `FR`), or exempt
/// of the income-tax withholding for payments on `payment_date`
/// ([`exempt_on`]); and of each investment club that asked to be withheld
/// for its members ([`members_withheld_on`]). Each read of the vault is
/// logged under `reader`.
pub async fn withholding_statuses(
    vault: &Vault,
    runtime: &LedgerRuntime,
    record_date: NaiveDate,
    payment_date: NaiveDate,
    reader: &Reader,
) -> Result<BTreeMap<HolderId, WithholdingStatus>, Error> {
    let kinds: BTreeMap<HolderId, HolderKind> = runtime.projections.read(|p| {
        p.cap_table
            .fold()
            .snapshot(AsOf::Date { date: record_date }, record_date)
            .map(|s| {
                s.holders
                    .into_iter()
                    .filter(|h| {
                        matches!(h.kind, HolderKind::Individual | HolderKind::InvestmentClub)
                    })
                    .map(|h| (h.holder, h.kind))
                    .collect()
            })
            .unwrap_or_default()
    });
    let people = vault.read_many(runtime, kinds.keys(), reader).await?;
    Ok(people
        .into_iter()
        .filter_map(|(holder, f)| {
            let status = status_of(*kinds.get(&holder)?, &f.person, payment_date)?;
            Some((holder, status))
        })
        .collect())
}

/// Whether an investment club's `statements` ask the company to withhold
/// for its members on payments made on `payment_date`: a request for that
/// year or an earlier one, dated by then.
pub fn members_withheld_on(
    statements: &[windledger_vault::Statement],
    payment_date: NaiveDate,
) -> bool {
    statements.iter().any(|s| {
        s.kind == windledger_vault::StatementKind::MembersWithholding
            && s.year <= payment_date.year()
            && s.dated <= payment_date
    })
}

/// The withholding status of one holder of `kind`, from their identity:
/// an individual taxed abroad, or exempt of the income-tax withholding on
/// payments of `payment_date`'s year; an investment club that asked to be
/// withheld for its members; `None` otherwise (an individual withheld as
/// a French resident, a club or a legal person paid gross).
fn status_of(
    kind: HolderKind,
    person: &windledger_vault::Person,
    payment_date: NaiveDate,
) -> Option<WithholdingStatus> {
    match kind {
        HolderKind::InvestmentClub => members_withheld_on(&person.statements, payment_date)
            .then_some(WithholdingStatus::MembersWithheld),
        HolderKind::Individual if person.tax_residence.as_str() != "FR" => {
            Some(WithholdingStatus::NonResident)
        }
        HolderKind::Individual if exempt_on(&person.statements, payment_date) => {
            Some(WithholdingStatus::Exempt)
        }
        _ => None,
    }
}

/// A dividend's declaration or an interest's accrual as the server runs
/// it, on the aggregate `aggregate_id`: the withholding statuses filled in
/// from the identity vault ([`withholding_statuses`]; for interest, the
/// lender's as of the accrual date, with the default rates unless given);
/// any other command as it is. A command that gives statuses of its own
/// is refused: they are the vault's to say (an import file gives them as
/// they were, and does not come here).
pub async fn with_withholding_statuses(
    vault: Option<&Vault>,
    runtime: &LedgerRuntime,
    aggregate_id: &str,
    command: Command,
    reader: &Reader,
) -> Result<Command, Error> {
    let leave_out = || {
        Error::invalid(
            "withholding_statuses is the server's to fill in from the identity vault: leave it out",
        )
    };
    match command {
        Command::FinancialYear(FinancialYearCommand::DeclareDividend {
            resolution,
            amount,
            record_date,
            payment_date,
            withholding,
            withholding_statuses: given,
        }) => {
            if !given.is_empty() {
                return Err(leave_out());
            }
            let statuses = match vault {
                Some(v) => {
                    withholding_statuses(v, runtime, record_date, payment_date, reader).await?
                }
                None => BTreeMap::new(),
            };
            Ok(Command::FinancialYear(
                FinancialYearCommand::DeclareDividend {
                    resolution,
                    amount,
                    record_date,
                    payment_date,
                    withholding,
                    withholding_statuses: statuses,
                },
            ))
        }
        Command::Advance(AdvanceCommand::AccrueInterest {
            year,
            rate_ceiling,
            accrued_on,
            withholding,
            withholding_status,
        }) => {
            if withholding_status.is_some() {
                return Err(Error::invalid(
                    "withholding_status is the server's to fill in from the identity vault: leave it out",
                ));
            }
            // The lender, if one whose identity may change what is
            // withheld (a legal person is not withheld).
            let lender = runtime.projections.read(|p| {
                let holder = p
                    .finance
                    .fold()
                    .advances()
                    .find(|(id, _)| *id == aggregate_id)?
                    .1
                    .holder
                    .clone();
                let kind = p.cap_table.fold().holder(&holder)?.kind;
                matches!(kind, HolderKind::Individual | HolderKind::InvestmentClub)
                    .then_some((holder, kind))
            });
            let status = match (vault, lender) {
                (Some(v), Some((holder, kind))) => v
                    .read_many(runtime, [&holder], reader)
                    .await?
                    .get(&holder)
                    .and_then(|f| status_of(kind, &f.person, accrued_on)),
                _ => None,
            };
            Ok(Command::Advance(AdvanceCommand::AccrueInterest {
                year,
                rate_ceiling,
                accrued_on,
                withholding: Some(withholding.unwrap_or_default()),
                withholding_status: status,
            }))
        }
        other => Ok(other),
    }
}

/// What a transfer pays, as its end-to-end id says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reference {
    /// `DIV-2025-00042`: the dividend of 2025 of the holder at place 41
    /// (0-based) in the declared allocations.
    Dividend { year: i32, place: usize },
    /// `INT-2025-00003`: the interest of 2025 of the advance at place 2
    /// (0-based) among the advances, in the order granted.
    Interest { year: i32, advance: usize },
    /// `RMB-00003-002`: the second repayment of the advance at place 2.
    Repayment { advance: usize, number: usize },
}

impl Reference {
    /// The ISO 20022 purpose code of the transfer: dividend, interest,
    /// loan repayment.
    pub fn purpose(&self) -> &'static str {
        match self {
            Self::Dividend { .. } => "DIVD",
            Self::Interest { .. } => "INTE",
            Self::Repayment { .. } => "LOAR",
        }
    }

    /// The reference an end-to-end id names; `None` for any other text.
    pub fn parse(id: &str) -> Option<Self> {
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let (kind, rest) = id.split_once('-')?;
        let (a, b) = rest.split_once('-')?;
        if !all_digits(a) || !all_digits(b) {
            return None;
        }
        let place = |s: &str, digits: usize| -> Option<usize> {
            (s.len() >= digits).then_some(())?;
            s.parse::<usize>().ok()?.checked_sub(1)
        };
        match kind {
            "DIV" | "INT" if a.len() == 4 => {
                let year = a.parse().ok()?;
                let n = place(b, 5)?;
                Some(if kind == "DIV" {
                    Self::Dividend { year, place: n }
                } else {
                    Self::Interest { year, advance: n }
                })
            }
            "RMB" => Some(Self::Repayment {
                advance: place(a, 5)?,
                number: place(b, 3)? + 1,
            }),
            _ => None,
        }
    }
}

impl std::fmt::Display for Reference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Dividend { year, place } => write!(f, "DIV-{year}-{:05}", place + 1),
            Self::Interest { year, advance } => write!(f, "INT-{year}-{:05}", advance + 1),
            Self::Repayment { advance, number } => write!(f, "RMB-{:05}-{number:03}", advance + 1),
        }
    }
}

/// The end-to-end id of the dividend of `year` paid to the holder at
/// `place` (0-based) in the declared allocations: `DIV-2025-00042` for
/// the 42nd.
pub fn end_to_end_id(year: i32, place: usize) -> String {
    Reference::Dividend { year, place }.to_string()
}

/// The year and 0-based place an end-to-end id of [`end_to_end_id`]
/// names; `None` for any other reference.
pub fn parse_end_to_end_id(id: &str) -> Option<(i32, usize)> {
    match Reference::parse(id)? {
        Reference::Dividend { year, place } => Some((year, place)),
        _ => None,
    }
}

/// The company's account the transfers are paid from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Debtor {
    pub iban: windledger_vault::Iban,
    pub bic: Option<windledger_vault::Bic>,
}

/// Who pays a file and how: the company's account, the day the bank is
/// asked to pay, the server's clock (the file's creation), and the vault
/// the payees' bank accounts are read from, each read logged under
/// `reader`.
pub struct Payer<'a> {
    pub vault: Option<&'a Vault>,
    pub debtor: Debtor,
    pub execution_date: NaiveDate,
    pub now: NaiveDateTime,
    pub reader: Reader,
}

/// What a payment run pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PaymentKind {
    Dividend,
    /// A year's current-account interest.
    Interest,
    /// Repayments of current-account advances.
    Repayment,
}

/// One holder's transfer in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Payee {
    pub holder: HolderId,
    /// The advance paid (interest, repayment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advance: Option<String>,
    pub end_to_end_id: String,
    pub net: Euros,
}

/// A transfer file and what it leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct PaymentRun {
    pub kind: PaymentKind,
    /// The financial year of the dividend, the year the interest ran; for
    /// repayments, the execution date's.
    pub year: i32,
    /// The file's `MsgId`: the same transfers on the same day give the
    /// same id, which a bank refuses twice.
    pub message_id: String,
    pub execution_date: NaiveDate,
    /// The transfers of the file, in the allocations' (the advances')
    /// order.
    pub transfers: Vec<Payee>,
    /// The file's control sum: the sum of the transfers' net amounts.
    pub control_sum: Euros,
    /// Holders owed a net amount with no bank account in the vault (or no
    /// identity at all): not in the file, to pay otherwise or once their
    /// IBAN is recorded.
    pub without_bank_account: Vec<Payee>,
    /// Holders whose net is zero: nothing to transfer.
    pub nothing_to_pay: Vec<HolderId>,
    /// Holders taxed abroad whose withholding the operator has not decided
    /// (`decide_withholding`): not paid until it is.
    pub awaiting_decision: Vec<HolderId>,
    /// Holders already recorded as paid: not in the file.
    pub already_paid: usize,
    /// The pain.001 file; `None` when there is no transfer to make.
    #[serde(skip)]
    pub file: Option<String>,
}

impl PaymentRun {
    /// What the run pays, in words: "the dividend of 2024", "the interest
    /// of 2025", "these repayments".
    pub fn what(&self) -> String {
        match self.kind {
            PaymentKind::Dividend => format!("the dividend of {}", self.year),
            PaymentKind::Interest => format!("the interest of {}", self.year),
            PaymentKind::Repayment => "these repayments".to_owned(),
        }
    }

    fn new(kind: PaymentKind, year: i32, execution_date: NaiveDate) -> Self {
        Self {
            kind,
            year,
            message_id: String::new(),
            execution_date,
            transfers: Vec::new(),
            control_sum: Euros::ZERO,
            without_bank_account: Vec::new(),
            nothing_to_pay: Vec::new(),
            awaiting_decision: Vec::new(),
            already_paid: 0,
            file: None,
        }
    }
}

/// The declared dividend of `year`, as the projections hold it.
pub fn declared_dividend(projections: &Projections, year: i32) -> Option<Dividend> {
    projections.finance.fold().year(year)?.dividend.clone()
}

/// Where one holder's dividend stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Recorded as paid.
    Paid,
    /// In the next transfer file.
    ToPay,
    /// Owed, but the vault holds no bank account: not in the file.
    NoBankAccount,
    /// A net of zero.
    NothingToPay,
    /// Taxed abroad: waits for the operator to record what is withheld
    /// (`decide_withholding`).
    AwaitingDecision,
}

/// Where each holder of `dividend` stands, in the allocations' order; the
/// vault is read (each read logged under `reader`) for the holders still
/// owed, to tell who has a bank account.
pub async fn standings(
    vault: Option<&Vault>,
    runtime: &LedgerRuntime,
    dividend: &Dividend,
    reader: &Reader,
) -> Result<Vec<Standing>, Error> {
    let owed = |a: &windledger_projections::finance::HolderDividend| {
        a.paid.is_none() && a.net != Euros::ZERO && !a.awaits_decision()
    };
    let people = match vault {
        Some(v) => {
            let holders = dividend
                .allocations
                .iter()
                .filter(|a| owed(a))
                .map(|a| &a.holder);
            v.read_many(runtime, holders, reader).await?
        }
        None => BTreeMap::new(),
    };
    Ok(dividend
        .allocations
        .iter()
        .map(|a| {
            if a.paid.is_some() {
                Standing::Paid
            } else if a.awaits_decision() {
                Standing::AwaitingDecision
            } else if a.net == Euros::ZERO {
                Standing::NothingToPay
            } else if people
                .get(&a.holder)
                .is_some_and(|f| f.person.bank_account.is_some())
            {
                Standing::ToPay
            } else {
                Standing::NoBankAccount
            }
        })
        .collect())
}

/// The company's legal name, the transfers' debtor.
pub fn company_name(projections: &Projections) -> Option<String> {
    let incorporation = projections.cap_table.fold().incorporation()?;
    Some(incorporation.legal_name.as_str().to_owned())
}

/// What `read` reads of the projections, with the company's legal name
/// (the transfers' debtor) read at the same position; `read`'s refusal
/// first, then the company's absence.
fn read_with_company<T>(
    runtime: &LedgerRuntime,
    read: impl FnOnce(&Projections) -> Result<T, Error>,
) -> Result<(T, String), Error> {
    let (read, company) = runtime.projections.read(|p| (read(p), company_name(p)));
    let read = read?;
    let company = company.ok_or_else(|| Error::invalid("the company is not incorporated"))?;
    Ok((read, company))
}

/// The credit transfer file of the dividend of `year`: one transfer a
/// holder not yet paid whose net is above zero and whose bank account the
/// vault holds (each read logged under `reader`), asked for execution on
/// `execution_date`, created at `now` (the server's clock).
pub async fn dividend_transfers(
    runtime: &LedgerRuntime,
    year: i32,
    payer: &Payer<'_>,
) -> Result<PaymentRun, Error> {
    let (dividend, company) = read_with_company(runtime, |p| {
        declared_dividend(p, year).ok_or_else(|| no_dividend(year))
    })?;
    let mut run = PaymentRun::new(PaymentKind::Dividend, year, payer.execution_date);
    let mut owed = Vec::new();
    for (place, allocation) in dividend.allocations.iter().enumerate() {
        if allocation.paid.is_some() {
            run.already_paid += 1;
        } else if allocation.awaits_decision() {
            run.awaiting_decision.push(allocation.holder.clone());
        } else if allocation.net == Euros::ZERO {
            run.nothing_to_pay.push(allocation.holder.clone());
        } else {
            owed.push(Payee {
                holder: allocation.holder.clone(),
                advance: None,
                end_to_end_id: end_to_end_id(year, place),
                net: allocation.net,
            });
        }
    }
    let remittance = format!("Dividende exercice {year} - {company}");
    let file = File {
        company,
        payer,
        purpose: Reference::Dividend { year, place: 0 }.purpose(),
        remittance: &|_| remittance.clone(),
    };
    file.write(runtime, run, owed).await
}

fn no_dividend(year: i32) -> Error {
    Error::refused(
        "NoDividendDeclared",
        format!("no dividend is declared for the financial year {year}"),
    )
}

/// The company's advances in the order granted (their place names their
/// transfers).
pub fn advances_in_order(projections: &Projections) -> Vec<(String, AdvanceRecord)> {
    let mut advances: Vec<(String, AdvanceRecord)> = projections
        .finance
        .fold()
        .advances()
        .map(|(id, a)| (id.clone(), a.clone()))
        .collect();
    advances.sort_by_key(|(_, a)| a.place);
    advances
}

/// The credit transfer file of the current-account interest of `year`:
/// one transfer an advance whose interest of the year is accrued, not yet
/// paid, and above zero once withheld, to the lender's bank account in
/// the vault; as [`dividend_transfers`] otherwise.
pub async fn interest_transfers(
    runtime: &LedgerRuntime,
    year: i32,
    payer: &Payer<'_>,
) -> Result<PaymentRun, Error> {
    let (advances, company) = read_with_company(runtime, |p| Ok(advances_in_order(p)))?;
    if !advances.iter().any(|(_, a)| a.interest.contains_key(&year)) {
        return Err(Error::refused(
            "NoInterestAccrued",
            format!("no interest of {year} is accrued on any advance"),
        ));
    }
    let mut run = PaymentRun::new(PaymentKind::Interest, year, payer.execution_date);
    let mut owed = Vec::new();
    for (id, advance) in &advances {
        let Some(interest) = advance.interest.get(&year) else {
            continue;
        };
        if interest.paid.is_some() {
            run.already_paid += 1;
            continue;
        }
        match interest.net() {
            None => run.awaiting_decision.push(advance.holder.clone()),
            Some(net) if net == Euros::ZERO => run.nothing_to_pay.push(advance.holder.clone()),
            Some(net) => owed.push(Payee {
                holder: advance.holder.clone(),
                advance: Some(id.clone()),
                end_to_end_id: Reference::Interest {
                    year,
                    advance: advance.place,
                }
                .to_string(),
                net,
            }),
        }
    }
    let file = File {
        company: company.clone(),
        payer,
        purpose: Reference::Interest { year, advance: 0 }.purpose(),
        remittance: &|p: &Payee| {
            format!(
                "Interets {year} compte courant {} - {company}",
                p.advance.as_deref().unwrap_or_default()
            )
        },
    };
    file.write(runtime, run, owed).await
}

/// A repayment asked for: `amount` of the principal of `advance`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RepaymentOrder {
    pub advance: String,
    pub amount: Euros,
}

/// The credit transfer file of repayments of advances: one transfer each,
/// of at most the principal still owed, to the lender's bank account in
/// the vault. Each is recorded (`AdvanceRepaid`) when the bank's
/// statement shows it booked; settle a file before making the next for
/// the same advance (their references would be the same).
pub async fn repayment_transfers(
    runtime: &LedgerRuntime,
    orders: &[RepaymentOrder],
    payer: &Payer<'_>,
) -> Result<PaymentRun, Error> {
    let (advances, company) = read_with_company(runtime, |p| Ok(advances_in_order(p)))?;
    if orders.is_empty() {
        return Err(Error::invalid("name at least one advance to repay"));
    }
    let run = PaymentRun::new(
        PaymentKind::Repayment,
        payer.execution_date.year(),
        payer.execution_date,
    );
    let mut owed = Vec::new();
    let mut named = BTreeSet::new();
    for order in orders {
        let Some((id, advance)) = advances.iter().find(|(id, _)| *id == order.advance) else {
            return Err(Error::refused(
                "UnknownAdvance",
                format!("there is no advance {}", order.advance),
            ));
        };
        if !named.insert(id.as_str()) {
            return Err(Error::invalid(format!(
                "the advance {id} is named twice: one repayment an advance per file"
            )));
        }
        if order.amount.cents().is_none_or(|c| c == 0) {
            return Err(Error::invalid(format!(
                "a repayment of {} of {id}: amounts are kept to the cent and must be above zero",
                order.amount
            )));
        }
        if order.amount > advance.outstanding {
            return Err(Error::refused(
                "RepaymentAboveOutstanding",
                format!(
                    "a repayment of {} of {id} is above the {} still owed",
                    order.amount, advance.outstanding
                ),
            ));
        }
        owed.push(Payee {
            holder: advance.holder.clone(),
            advance: Some(id.clone()),
            end_to_end_id: Reference::Repayment {
                advance: advance.place,
                number: advance.repayments.len() + 1,
            }
            .to_string(),
            net: order.amount,
        });
    }
    let file = File {
        company: company.clone(),
        payer,
        purpose: Reference::Repayment {
            advance: 0,
            number: 1,
        }
        .purpose(),
        remittance: &|p: &Payee| {
            format!(
                "Remboursement compte courant {} - {company}",
                p.advance.as_deref().unwrap_or_default()
            )
        },
    };
    file.write(runtime, run, owed).await
}

/// What every transfer of a file shares.
struct File<'a> {
    company: String,
    payer: &'a Payer<'a>,
    purpose: &'static str,
    remittance: &'a (dyn Fn(&Payee) -> String + Sync),
}

impl File<'_> {
    /// `run` with the transfers of `owed` whose bank account the vault
    /// holds (the others listed), and its file when there is any.
    async fn write(
        &self,
        runtime: &LedgerRuntime,
        mut run: PaymentRun,
        owed: Vec<Payee>,
    ) -> Result<PaymentRun, Error> {
        let people = match self.payer.vault {
            Some(v) => {
                v.read_many(runtime, owed.iter().map(|p| &p.holder), &self.payer.reader)
                    .await?
            }
            None => BTreeMap::new(),
        };
        let mut transfers = Vec::new();
        for payee in owed {
            let account = people
                .get(&payee.holder)
                .and_then(|f| Some((&f.person.identity, f.person.bank_account.as_ref()?)));
            match account {
                Some((identity, account)) => {
                    transfers.push(Transfer {
                        end_to_end_id: payee.end_to_end_id.clone(),
                        amount: cents(payee.net)?,
                        creditor: Party {
                            name: account_holder(identity),
                            iban: account.iban.to_string(),
                            bic: Some(account.bic.to_string()),
                        },
                        remittance: (self.remittance)(&payee),
                    });
                    run.transfers.push(payee);
                }
                None => run.without_bank_account.push(payee),
            }
        }
        let control_sum = transfers
            .iter()
            .try_fold(0u64, |sum, t| sum.checked_add(t.amount))
            .ok_or_else(|| Error::internal("the transfers' sum overflows"))?;
        run.control_sum = Euros::from_cents(control_sum);
        run.message_id = message_id(self.purpose, run.year, run.execution_date, &run.transfers);
        if transfers.is_empty() {
            return Ok(run);
        }
        let file = CreditTransfers {
            message_id: run.message_id.clone(),
            created_at: self.payer.now,
            debtor: Party {
                name: self.company.clone(),
                iban: self.payer.debtor.iban.to_string(),
                bic: self.payer.debtor.bic.as_ref().map(ToString::to_string),
            },
            execution_date: run.execution_date,
            purpose: Some(self.purpose.to_owned()),
            transfers,
        };
        run.file =
            Some(file.to_xml().map_err(|e| {
                Error::invalid(format!("the transfer file cannot be written: {e}"))
            })?);
        Ok(run)
    }
}

/// The name on the payee's account: a person's given and family names, a
/// legal person's name.
fn account_holder(identity: &Identity) -> String {
    match identity {
        Identity::Natural {
            family_name,
            given_names,
            ..
        } => format!("{given_names} {family_name}"),
        Identity::Legal { name, .. } => name.clone(),
    }
}

fn cents(amount: Euros) -> Result<u64, Error> {
    amount
        .cents()
        .ok_or_else(|| Error::internal(format!("{amount} is not a whole number of cents")))
}

/// `DIV-<year>-` (`INT-`, `RMB-`) and 12 hex digits of the SHA-256 of the
/// execution date and every transfer: the same file twice has the same id.
fn message_id(purpose: &str, year: i32, execution_date: NaiveDate, payees: &[Payee]) -> String {
    let mut hash = Sha256::new();
    hash.update(execution_date.to_string());
    for p in payees {
        hash.update(format!("\n{};{};{}", p.end_to_end_id, p.holder, p.net));
    }
    let digest = hex::encode(hash.finalize());
    let prefix = match purpose {
        "DIVD" => "DIV",
        "INTE" => "INT",
        _ => "RMB",
    };
    format!("{prefix}-{year}-{}", &digest[..12])
}

/// A statement line recorded as a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Settled {
    pub holder: HolderId,
    pub end_to_end_id: String,
    pub amount: Euros,
    /// The bank's booking date.
    pub paid_on: NaiveDate,
}

/// Why a statement line was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Mismatch {
    /// The bank returned or rejected the transfer (its reason code, if
    /// given): the holder is still owed their net.
    Returned { code: Option<String> },
    /// Not booked yet: import a later statement.
    Pending,
    /// An end-to-end id of this year's dividend that names no allocation.
    UnknownId,
    /// The amount booked is not the allocation's net.
    Amount { expected: Euros, booked: Euros },
    /// Not in euros.
    Currency { currency: String },
    /// A booked line without a booking date.
    NoBookingDate,
    /// Already recorded as paid, on another day or for another amount.
    AlreadyPaid { paid_on: NaiveDate },
    /// The ledger refused the payment (e.g. a booking date before the
    /// record date, or still to come).
    Refused {
        rule: Option<String>,
        detail: String,
    },
}

/// A statement line not recorded, with where it is and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Unmatched {
    /// Where in the statement ("entry 3, transaction 1", "line 5").
    pub place: String,
    pub end_to_end_id: String,
    pub amount: Euros,
    /// The holder the id names, when it names one.
    pub holder: Option<HolderId>,
    #[serde(flatten)]
    pub mismatch: Mismatch,
}

/// What importing a statement did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Settlement {
    /// Recorded as paid by this import.
    pub recorded: Vec<Settled>,
    /// Lines of this dividend not recorded, with why.
    pub unmatched: Vec<Unmatched>,
    /// Lines already recorded as paid, on the same day for the same amount
    /// (a statement imported twice): nothing to do.
    pub already_recorded: usize,
    /// Lines that are not this dividend's transfers (other movements of
    /// the account, another year's dividend): left alone.
    pub other_lines: usize,
}

/// Which lines of a statement to settle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The transfers of the dividend of a financial year only.
    Dividend(i32),
    /// Every transfer the ledger made: dividends, interest, repayments.
    Everything,
}

impl Scope {
    fn covers(self, reference: Reference) -> bool {
        match (self, reference) {
            (Self::Everything, _) => true,
            (Self::Dividend(year), Reference::Dividend { year: y, .. }) => y == year,
            (Self::Dividend(_), _) => false,
        }
    }
}

/// What a reference names as owed.
struct Due {
    holder: HolderId,
    /// The net owed; `None` for any amount the ledger accepts (a
    /// repayment, up to the principal owed).
    expected: Option<Euros>,
    /// Already recorded: on what day, for what amount.
    recorded: Option<(NaiveDate, Euros)>,
    /// The aggregate the payment is recorded on.
    aggregate: String,
    reference: Reference,
}

impl Due {
    fn command(&self, paid_on: NaiveDate, booked: Euros) -> Command {
        match self.reference {
            Reference::Dividend { .. } => {
                Command::FinancialYear(FinancialYearCommand::RecordDividendPayment {
                    holder: self.holder.clone(),
                    paid_on,
                })
            }
            Reference::Interest { year, .. } => {
                Command::Advance(AdvanceCommand::PayInterest { year, paid_on })
            }
            Reference::Repayment { .. } => Command::Advance(AdvanceCommand::Repay {
                amount: booked,
                repaid_on: paid_on,
            }),
        }
    }
}

/// What `reference` names as owed, or `None` if it names nothing.
fn due(p: &Projections, reference: Reference) -> Option<Due> {
    let advance = |place: usize| {
        p.finance
            .fold()
            .advances()
            .find(|(_, a)| a.place == place)
            .map(|(id, a)| (id.clone(), a))
    };
    match reference {
        Reference::Dividend { year, place } => {
            let dividend = p.finance.fold().year(year)?.dividend.as_ref()?;
            let a = dividend.allocations.get(place)?;
            Some(Due {
                holder: a.holder.clone(),
                expected: Some(a.net),
                recorded: a.paid.as_ref().map(|paid| (paid.paid_on, paid.amount)),
                aggregate: year.to_string(),
                reference,
            })
        }
        Reference::Interest { year, advance: n } => {
            let (id, a) = advance(n)?;
            let interest = a.interest.get(&year)?;
            Some(Due {
                holder: a.holder.clone(),
                // Undecided, the ledger refuses the payment and says why.
                expected: interest.net(),
                recorded: interest
                    .paid
                    .as_ref()
                    .map(|paid| (paid.paid_on, paid.amount)),
                aggregate: id,
                reference,
            })
        }
        Reference::Repayment { advance: n, number } => {
            let (id, a) = advance(n)?;
            Some(Due {
                holder: a.holder.clone(),
                expected: None,
                recorded: number
                    .checked_sub(1)
                    .and_then(|k| a.repayments.get(k))
                    .map(|r| (r.repaid_on, r.amount)),
                aggregate: id,
                reference,
            })
        }
    }
}

/// Records, from a bank statement's `lines`, each payment of `scope` whose
/// transfer the bank booked (at its booking date), and lists every other
/// line of it with why it was not recorded. A transfer the statement also
/// shows returned is not recorded, even when its debit was booked.
///
/// The payments are recorded [`PAYMENTS_A_COMMIT`] to a commit, each
/// aggregate's in the statement's order; a payment the ledger refuses is
/// listed and holds no other back. Stopped between two commits, an import
/// has recorded whole commits only, and importing the statement again
/// records the rest.
pub async fn settle(
    runtime: &LedgerRuntime,
    scope: Scope,
    lines: &[StatementLine],
    metadata: &HashMap<String, String>,
) -> Result<Settlement, Error> {
    if let Scope::Dividend(year) = scope {
        runtime
            .projections
            .read(|p| declared_dividend(p, year).map(|_| ()))
            .ok_or_else(|| no_dividend(year))?;
    }
    let ours = |line: &StatementLine| {
        let id = line.end_to_end_id.as_deref()?;
        let reference = Reference::parse(id)?;
        scope
            .covers(reference)
            .then_some((id.to_owned(), reference))
    };
    let returned: BTreeMap<String, Option<String>> = lines
        .iter()
        .filter_map(|l| match &l.status {
            LineStatus::Returned { reason } => Some((ours(l)?.0, reason.clone())),
            _ => None,
        })
        .collect();
    let mut settlement = Settlement::default();
    // In the statement's order, what each line comes to.
    let mut recorded: Vec<(usize, Settled)> = Vec::new();
    let mut unmatched: Vec<(usize, Unmatched)> = Vec::new();
    // The payments to record, by the aggregate they are recorded on.
    let mut to_record: BTreeMap<String, Vec<Payment>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for (index, line) in lines.iter().enumerate() {
        let Some((id, reference)) = ours(line) else {
            settlement.other_lines += 1;
            continue;
        };
        if line.direction == Direction::Credit {
            // A return's own credit line: its debit line says it.
            if !matches!(line.status, LineStatus::Returned { .. }) {
                settlement.other_lines += 1;
            }
            continue;
        }
        let due = runtime.projections.read(|p| due(p, reference));
        let booked = Euros::from_cents(line.amount);
        let mut mismatched = |mismatch| {
            unmatched.push((
                index,
                Unmatched {
                    place: line.place.clone(),
                    end_to_end_id: id.clone(),
                    amount: booked,
                    holder: due.as_ref().map(|d| d.holder.clone()),
                    mismatch,
                },
            ));
        };
        let Some(due) = &due else {
            mismatched(Mismatch::UnknownId);
            continue;
        };
        let mismatch = if let Some(code) = returned.get(&id) {
            Some(Mismatch::Returned { code: code.clone() })
        } else if matches!(line.status, LineStatus::Returned { .. }) {
            Some(Mismatch::Returned { code: None })
        } else if line.status == LineStatus::Pending {
            Some(Mismatch::Pending)
        } else if line.currency != "EUR" {
            Some(Mismatch::Currency {
                currency: line.currency.clone(),
            })
        } else {
            match due.expected {
                Some(expected) if booked != expected => Some(Mismatch::Amount { expected, booked }),
                _ => None,
            }
        };
        if let Some(mismatch) = mismatch {
            mismatched(mismatch);
            continue;
        }
        let Some(paid_on) = line.booking_date else {
            mismatched(Mismatch::NoBookingDate);
            continue;
        };
        if !seen.insert(reference) {
            mismatched(Mismatch::AlreadyPaid { paid_on });
            continue;
        }
        if let Some((recorded_on, amount)) = due.recorded {
            if recorded_on == paid_on && amount == booked {
                settlement.already_recorded += 1;
            } else {
                mismatched(Mismatch::AlreadyPaid {
                    paid_on: recorded_on,
                });
            }
            continue;
        }
        to_record
            .entry(due.aggregate.clone())
            .or_default()
            .push(Payment {
                index,
                place: line.place.clone(),
                command: due.command(paid_on, booked),
                settled: Settled {
                    holder: due.holder.clone(),
                    end_to_end_id: id.clone(),
                    amount: booked,
                    paid_on,
                },
            });
    }
    for (aggregate, payments) in to_record {
        let mut payments = payments.into_iter().peekable();
        while payments.peek().is_some() {
            let batch: Vec<Payment> = payments.by_ref().take(PAYMENTS_A_COMMIT).collect();
            let commands = batch.iter().map(|p| p.command.clone()).collect();
            let outcomes = runtime
                .execute_batch(&aggregate, commands, metadata.clone())
                .await?;
            for (payment, outcome) in batch.into_iter().zip(outcomes) {
                match outcome {
                    Ok(_) => recorded.push((payment.index, payment.settled)),
                    Err(e)
                        if matches!(
                            e.kind,
                            windledger_app::ErrorKind::Refused | windledger_app::ErrorKind::Invalid
                        ) =>
                    {
                        unmatched.push((payment.index, payment.refused(e)))
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }
    recorded.sort_by_key(|(index, _)| *index);
    unmatched.sort_by_key(|(index, _)| *index);
    settlement.recorded = recorded.into_iter().map(|(_, s)| s).collect();
    settlement.unmatched = unmatched.into_iter().map(|(_, u)| u).collect();
    Ok(settlement)
}

/// How many payments one commit records: a statement of 20,000 transfers
/// is 20 commits, not 20,000, and no one transaction grows without bound.
pub const PAYMENTS_A_COMMIT: usize = 1_000;

/// A statement line's payment, to record.
struct Payment {
    /// The line's index in the statement.
    index: usize,
    place: String,
    command: Command,
    settled: Settled,
}

impl Payment {
    /// The line, not recorded because the ledger refused its payment.
    fn refused(self, e: Error) -> Unmatched {
        Unmatched {
            place: self.place,
            end_to_end_id: self.settled.end_to_end_id,
            amount: self.settled.amount,
            holder: Some(self.settled.holder),
            mismatch: Mismatch::Refused {
                rule: e.rule.map(str::to_owned),
                detail: e.detail,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use windledger_vault::{Statement, StatementKind};

    fn request(dated: (i32, u32, u32), year: i32) -> Statement {
        Statement {
            kind: StatementKind::WithholdingExemption,
            dated: NaiveDate::from_ymd_opt(dated.0, dated.1, dated.2).expect("a date"),
            year,
        }
    }

    #[test]
    fn an_exemption_counts_for_the_next_years_payments_when_received_by_30_november() {
        let paid = NaiveDate::from_ymd_opt(2026, 7, 15).expect("a date");
        assert!(exempt_on(&[request((2025, 11, 30), 2026)], paid));
        assert!(exempt_on(&[request((2025, 1, 2), 2026)], paid));
        assert!(
            !exempt_on(&[request((2025, 12, 1), 2026)], paid),
            "1 December: too late"
        );
        assert!(
            !exempt_on(&[request((2026, 1, 5), 2026)], paid),
            "in the year itself"
        );
        assert!(
            !exempt_on(&[request((2024, 11, 30), 2025)], paid),
            "last year's"
        );
        let other = Statement {
            kind: StatementKind::TaxResidenceCertificate,
            ..request((2025, 11, 30), 2026)
        };
        assert!(!exempt_on(&[other], paid));
        assert!(!exempt_on(&[], paid));
    }

    #[test]
    fn a_clubs_request_counts_from_its_year_once_dated() {
        let asked = Statement {
            kind: StatementKind::MembersWithholding,
            ..request((2025, 3, 2), 2025)
        };
        let on = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("a date");
        assert!(members_withheld_on(
            std::slice::from_ref(&asked),
            on(2025, 7, 15)
        ));
        assert!(
            members_withheld_on(std::slice::from_ref(&asked), on(2027, 1, 5)),
            "standing"
        );
        assert!(
            !members_withheld_on(std::slice::from_ref(&asked), on(2025, 3, 1)),
            "not yet received"
        );
        let next_year = Statement {
            year: 2026,
            ..asked
        };
        assert!(!members_withheld_on(&[next_year], on(2025, 7, 15)));
        assert!(!members_withheld_on(
            &[request((2024, 11, 30), 2025)],
            on(2025, 7, 15)
        ));
    }

    #[test]
    fn interest_and_repayment_references_name_their_advance() {
        let interest = Reference::Interest {
            year: 2025,
            advance: 2,
        };
        assert_eq!(interest.to_string(), "INT-2025-00003");
        assert_eq!(Reference::parse("INT-2025-00003"), Some(interest));
        let repayment = Reference::Repayment {
            advance: 2,
            number: 12,
        };
        assert_eq!(repayment.to_string(), "RMB-00003-012");
        assert_eq!(Reference::parse("RMB-00003-012"), Some(repayment));
        assert_eq!([interest, repayment].map(|r| r.purpose()), ["INTE", "LOAR"]);
        for other in [
            "INT-25-00003",
            "INT-2025-0003",
            "RMB-0003-012",
            "RMB-00003-12",
            "RMB-00000-001",
            "RMB-00003-000",
            "XYZ-2025-00003",
            "INT-2025-00003-1",
        ] {
            assert_eq!(Reference::parse(other), None, "{other}");
        }
    }

    #[test]
    fn end_to_end_ids_name_their_place_and_year() {
        assert_eq!(end_to_end_id(2025, 41), "DIV-2025-00042");
        assert_eq!(end_to_end_id(2025, 123_456), "DIV-2025-123457");
        assert_eq!(parse_end_to_end_id("DIV-2025-00042"), Some((2025, 41)));
        assert_eq!(
            parse_end_to_end_id("DIV-2025-123457"),
            Some((2025, 123_456))
        );
        for other in [
            "DIV-2025-0042",
            "DIV-2025-00000",
            "DIV-25-00042",
            "DIV-2025-0004a",
            "INT-2025-00042",
            "DIV-2025-+0042",
            "",
        ] {
            assert_eq!(parse_end_to_end_id(other), None, "{other}");
        }
    }
}
