//! Why the financial-year stream refuses a command. Each message says what
//! to do.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use thiserror::Error;

use super::types::YearMonth;
use crate::money::{Euros, SignedEuros};
use crate::resolution::LookupError;
use crate::types::{HolderId, ReportId, ResolutionId, TurbineId};

#[derive(Debug, Clone, PartialEq, Eq, Error, strum::IntoStaticStr)]
pub enum FinancialYearError {
    #[error(
        "{date} has not come yet (today is {today}): a month, a record date or a payment is recorded once it has begun"
    )]
    NotYetBegun { date: NaiveDate, today: NaiveDate },
    /// A month's production or revenue, reported before the month is over
    /// (`what` is `production` or `revenue`).
    #[error(
        "{month} is not over yet (today is {today}): its {what} is reported once the month is over, from {}",
        .month.first_day_after()
    )]
    MonthNotOver {
        month: YearMonth,
        what: &'static str,
        today: NaiveDate,
    },

    // Opening.
    #[error("the financial year is already open")]
    AlreadyOpened,
    #[error(
        "the financial year is not open: the company's secretary opens it (with the year's dates and the farm's turbines), then reports can be made"
    )]
    NotOpened,
    #[error("the year must end after it starts ({starts_on} .. {ends_on})")]
    EmptyYear {
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    },
    #[error("a financial year lasts at most 24 months; {starts_on} .. {ends_on} is longer")]
    YearTooLong {
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    },
    #[error("financial year {year} must end in {year}, not on {ends_on}")]
    YearMismatch { year: i32, ends_on: NaiveDate },

    // Reports.
    #[error("the accounts of this year are approved: record the correction in the next year")]
    AccountsAlreadyApproved,
    #[error("report {0} is already recorded: give each report its own id")]
    DuplicateReport(ReportId),
    #[error("report {0} is not in this financial year")]
    UnknownReport(ReportId),
    #[error("report {report} was already corrected by {by}: correct {by} instead")]
    ReportAlreadyCorrected { report: ReportId, by: ReportId },
    #[error("report {report} is a {found} report; a {expected} report cannot correct it")]
    CorrectionOfAnotherKind {
        report: ReportId,
        expected: &'static str,
        found: &'static str,
    },
    #[error("a correction keeps what report {0} is about (turbine and month, or tax year)")]
    CorrectionChangesSubject(ReportId),
    #[error("turbine {0} is not one of the farm's turbines")]
    UnknownTurbine(TurbineId),
    #[error("{month} is outside the financial year ({starts_on} .. {ends_on})")]
    MonthOutsideYear {
        month: YearMonth,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    },
    #[error("turbine {turbine} was commissioned on {commissioned_on}, after {month}")]
    BeforeCommissioning {
        turbine: TurbineId,
        month: YearMonth,
        commissioned_on: NaiveDate,
    },
    #[error("turbine {turbine} left service on {decommissioned_on}, before {month}")]
    AfterDecommissioning {
        turbine: TurbineId,
        month: YearMonth,
        decommissioned_on: NaiveDate,
    },
    #[error(
        "production of {turbine} for {month} is already reported ({report}): send a correction of it"
    )]
    ProductionAlreadyReported {
        turbine: TurbineId,
        month: YearMonth,
        report: ReportId,
    },
    #[error("{what} is {value}: it must be a non-negative number with at most {decimals} decimals")]
    InvalidQuantity {
        what: &'static str,
        value: Decimal,
        decimals: u32,
    },
    #[error("availability is {0} %: it must be between 0 and 100")]
    InvalidAvailability(Decimal),
    #[error("{what} is {amount}: amounts are kept to the cent")]
    SubCentAmount { what: &'static str, amount: Decimal },
    #[error("an amount overflowed: check the figures")]
    Overflow,
    #[error("IFER of {0} is already assessed: send a correction of it")]
    IferAlreadyAssessed(i32),
    #[error("tax year {tax_year} is not within the financial year ({starts_on} .. {ends_on})")]
    TaxYearOutsideYear {
        tax_year: i32,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
    },
    #[error("no turbine was in service on 1 January {0}: there is no IFER to assess")]
    NoTurbineInService(i32),

    // Close.
    /// The resolution cited does not back the decision (the rule is the
    /// inner one's: `ResolutionNotAdopted`, `ResolutionPurposeMismatch`,
    /// `WrongDecisionKind`).
    #[error(transparent)]
    Unbacked(#[from] crate::resolution::Unbacked),
    #[error(
        "resolution {resolution} was adopted on {adopted_on}, before the year ended on {ends_on}"
    )]
    DecidedBeforeYearEnd {
        resolution: ResolutionId,
        adopted_on: NaiveDate,
        ends_on: NaiveDate,
    },
    #[error(transparent)]
    Lookup(#[from] LookupError),
    #[error("the accounts are not approved yet: approve them first")]
    AccountsNotApproved,
    #[error("the result is already appropriated")]
    AlreadyAppropriated,
    #[error("the result is not appropriated yet: appropriate it first")]
    NotAppropriated,
    #[error(
        "the year {0} is not closed in this ledger: appropriate its result first, or open this year with its opening balances"
    )]
    PreviousYearNotClosed(i32),
    #[error(
        "statutory reserves of {voted} exceed what the year's profit leaves after prior losses and the legal reserve ({available})"
    )]
    StatutoryReservesAboveProfit {
        voted: Euros,
        available: SignedEuros,
    },
    #[error("a dividend of {dividend} is above the distributable profit of {distributable}")]
    DividendAboveDistributable {
        dividend: Euros,
        distributable: SignedEuros,
    },

    // Dividend.
    #[error("the dividend is already declared")]
    DividendAlreadyDeclared,
    #[error("a dividend of {declared} is above the {appropriated} the appropriation set aside")]
    DividendAboveAppropriated {
        declared: Euros,
        appropriated: Euros,
    },
    #[error("the record date {record_date} is before the decision of {adopted_on}")]
    RecordDateBeforeDecision {
        record_date: NaiveDate,
        adopted_on: NaiveDate,
    },
    #[error("{date} is before the record date {record_date}")]
    BeforeRecordDate {
        date: NaiveDate,
        record_date: NaiveDate,
    },
    #[error("no holder has shares with dividend rights on {0}")]
    NoEligibleHolder(NaiveDate),
    #[error(
        "withholding rates of {income_tax} % and {social_contributions} % must each be between 0 and 100 and together at most 100"
    )]
    InvalidWithholdingRates {
        income_tax: Decimal,
        social_contributions: Decimal,
    },
    #[error("no dividend is declared yet")]
    NoDividendDeclared,
    #[error("{0} has no allocation in this dividend")]
    NoAllocation(HolderId),
    #[error("the dividend of {0} is already paid")]
    AlreadyPaid(HolderId),
    #[error(
        "{0} is neither an individual nor an investment club: legal persons and associations receive the gross"
    )]
    WithholdingStatusOfNonIndividual(HolderId),
    #[error(
        "{0}'s withholding status does not fit its kind: exempt and non-resident are an individual's, members_withheld an investment club's"
    )]
    WithholdingStatusMisfit(HolderId),
    #[error("{0} is not on the dividend's roll: give withholding statuses of its holders only")]
    WithholdingStatusOffRoll(HolderId),
    #[error(
        "{0} is taxed outside France: record what is withheld from their dividend (decide_withholding) before it is paid"
    )]
    WithholdingUndecided(HolderId),
    #[error(
        "{0} is not a non-resident of this dividend: only a non-resident's withholding is decided"
    )]
    NotNonResident(HolderId),
    #[error("what is withheld from {0}'s dividend is already decided")]
    WithholdingAlreadyDecided(HolderId),
    #[error("{withheld} withheld from {holder}'s dividend is above its gross of {gross}")]
    WithheldAboveGross {
        holder: HolderId,
        withheld: Euros,
        gross: Euros,
    },
}

impl crate::Rule for FinancialYearError {
    fn rule(&self) -> &'static str {
        match self {
            Self::Unbacked(unbacked) => unbacked.into(),
            other => other.into(),
        }
    }
}
