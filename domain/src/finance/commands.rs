//! What operators and the company secretary ask the financial-year stream
//! to record.
//!
//! Every report carries an id chosen by whoever reports it, and may correct
//! an earlier report of the same year by naming its id: the correction
//! replaces it (the figures in force are the latest correction).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::events::FinancialYearEvent;
use super::types::{
    Balances, Beneficiary, CostCategory, DividendAmount, LocalTax, RevenueKind, WithholdingRates,
    WithholdingStatus, YearMonth,
};
use crate::money::Euros;
use crate::same_fields::same_fields;
use crate::types::{HolderId, ReportId, ResolutionId, Siren, TurbineId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum FinancialYearCommand {
    /// Ouverture de l'exercice. `opening_balances` only for the first year
    /// kept in windledger; later years take the previous year's closing.
    OpenYear {
        /// The year the exercice ends in: the stream's id.
        year: i32,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        opening_balances: Option<Balances>,
    },
    /// Production of one turbine in one month.
    ReportProduction {
        report: ReportId,
        turbine: TurbineId,
        month: YearMonth,
        /// Energy delivered, in MWh (at most 3 decimals: kWh).
        #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
        mwh: Decimal,
        /// Disponibilité, per cent.
        #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
        availability: Decimal,
        corrects: Option<ReportId>,
    },
    /// Revenue of one month: volume x price, to the cent.
    RecordRevenue {
        report: ReportId,
        month: YearMonth,
        kind: RevenueKind,
        #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
        volume_mwh: Decimal,
        /// EUR per MWh; negative for a complément de rémunération paid back.
        #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
        price_per_mwh: Decimal,
        corrects: Option<ReportId>,
    },
    RecordCost {
        report: ReportId,
        month: YearMonth,
        category: CostCategory,
        amount: Euros,
        /// Where the payment stays in the territory.
        beneficiary: Option<Beneficiary>,
        corrects: Option<ReportId>,
    },
    /// IFER of a tax year: every turbine in service on its 1 January, at
    /// the rate per kW of that year (from the tax notice).
    AssessIfer {
        report: ReportId,
        tax_year: i32,
        rate_per_kw: Euros,
        /// The EPCI the farm's communes belong to.
        epci: Siren,
        /// Whether that EPCI levies the single business tax (FPU).
        epci_single_business_tax: bool,
        corrects: Option<ReportId>,
    },
    /// CFE or property tax, as assessed for one beneficiary.
    RecordLocalTax {
        report: ReportId,
        tax: LocalTax,
        beneficiary: Beneficiary,
        amount: Euros,
        corrects: Option<ReportId>,
    },
    /// Approbation des comptes, by an adopted resolution.
    ApproveAccounts {
        resolution: ResolutionId,
        /// Résultat net: negative for a loss.
        #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
        net_result: Decimal,
    },
    /// Affectation du résultat: the legal reserve follows the rule; the
    /// statutory reserves and the dividend are as voted; the rest is
    /// carried forward.
    AppropriateResult {
        resolution: ResolutionId,
        statutory_reserves: Euros,
        dividend: Euros,
    },
    /// Mise en distribution of the appropriated dividend: the allocation
    /// roll is the cap table at the record date.
    DeclareDividend {
        resolution: ResolutionId,
        amount: DividendAmount,
        record_date: NaiveDate,
        payment_date: NaiveDate,
        /// `None`: the French defaults.
        withholding: Option<WithholdingRates>,
        /// Individuals on the roll not withheld as French residents (an
        /// exemption, a residence abroad). Through the API and the pages
        /// the server fills it in from the identity vault; an import file
        /// gives it as it was.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        withholding_statuses: BTreeMap<HolderId, WithholdingStatus>,
    },
    /// What is withheld from a non-resident's dividend, as the operator
    /// decided it (the tax treaty's rate): the dividend is paid net of it.
    DecideWithholding {
        holder: HolderId,
        income_tax: Euros,
        social_contributions: Euros,
    },
    /// The net dividend of one holder, paid.
    RecordDividendPayment {
        holder: HolderId,
        paid_on: NaiveDate,
    },
}

impl FinancialYearCommand {
    /// The first day of what the command reports (a month, a tax year) or
    /// the date it fixes (a record date, a payment), which must have come.
    /// Opening a year ahead, approving and appropriating (which rest on a
    /// resolution already adopted) fix no such date.
    pub fn begins_on(&self) -> Option<NaiveDate> {
        match self {
            Self::ReportProduction { month, .. }
            | Self::RecordRevenue { month, .. }
            | Self::RecordCost { month, .. } => Some(month.first_day()),
            Self::AssessIfer { tax_year, .. } => NaiveDate::from_ymd_opt(*tax_year, 1, 1),
            Self::DeclareDividend { record_date, .. } => Some(*record_date),
            Self::RecordDividendPayment { paid_on, .. } => Some(*paid_on),
            Self::OpenYear { .. }
            | Self::RecordLocalTax { .. }
            | Self::ApproveAccounts { .. }
            | Self::AppropriateResult { .. }
            | Self::DecideWithholding { .. } => None,
        }
    }

    /// The month a production or revenue report is about, and what it
    /// reports: its figures are known, so reported, once the month is over.
    /// A cost keeps [`Self::begins_on`]: an invoice comes within its month.
    pub fn reports_month(&self) -> Option<(YearMonth, &'static str)> {
        match self {
            Self::ReportProduction { month, .. } => Some((*month, "production")),
            Self::RecordRevenue { month, .. } => Some((*month, "revenue")),
            _ => None,
        }
    }

    pub(super) fn cited_resolution(&self) -> Option<&ResolutionId> {
        match self {
            Self::ApproveAccounts { resolution, .. }
            | Self::AppropriateResult { resolution, .. }
            | Self::DeclareDividend { resolution, .. } => Some(resolution),
            _ => None,
        }
    }
}

/// The command an event is the outcome of (see the company's). A report
/// gives back its figures (revenue's amount, IFER's lines and total are
/// the aggregate's); the accounts, appropriation and dividend cite their
/// resolution by id and give back what was voted (the legal reserve, the
/// balances, the allocations are the aggregate's); a recorded withholding
/// is given as asked, the defaults included.
impl From<&FinancialYearEvent> for FinancialYearCommand {
    fn from(event: &FinancialYearEvent) -> Self {
        // By reference: a declaration's allocations and a year's turbines
        // are not copied to be left out.
        same_fields!(&event, FinancialYearEvent => Self {
            YearOpened => OpenYear { year, starts_on, ends_on, opening_balances },
            ProductionReported => ReportProduction {
                report, turbine, month, mwh, availability, corrects,
            },
            RevenueRecorded => RecordRevenue {
                report, month, kind, volume_mwh, price_per_mwh, corrects,
            },
            CostRecorded => RecordCost { report, month, category, amount, beneficiary, corrects },
            IferAssessed => AssessIfer {
                report, tax_year, rate_per_kw, epci, epci_single_business_tax, corrects,
            },
            LocalTaxRecorded => RecordLocalTax { report, tax, beneficiary, amount, corrects },
            AccountsApproved => ApproveAccounts {
                resolution: resolution.id.clone(),
                net_result: net_result.amount(),
            },
            ResultAppropriated => AppropriateResult {
                resolution: resolution.id.clone(),
                statutory_reserves, dividend,
            },
            WithholdingDecided => DecideWithholding { holder, income_tax, social_contributions },
            DividendPaid => RecordDividendPayment { holder, paid_on },
        } unless {
            FinancialYearEvent::DividendDeclared {
                resolution, amount, record_date, payment_date, withholding, allocations, ..
            } => Self::DeclareDividend {
                resolution: resolution.id.clone(),
                amount: *amount,
                record_date: *record_date,
                payment_date: *payment_date,
                withholding: Some(*withholding),
                withholding_statuses: allocations
                    .iter()
                    .filter_map(|a| Some((a.holder.clone(), a.status?)))
                    .collect(),
            },
        })
    }
}
