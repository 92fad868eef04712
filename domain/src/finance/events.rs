//! What the financial-year stream records. Each event holds what a replay
//! and an auditor need: the turbines and rates used, every IFER line and
//! its split, the balances before and after the appropriation, and every
//! holder's dividend with what was withheld.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::types::{
    Allocation, Balances, Beneficiary, CostCategory, DividendAmount, DividendRights, IferLine,
    LocalTax, RevenueKind, Turbines, WithholdingRates, YearMonth,
};
use crate::domain_event::domain_event;
use crate::money::{Euros, SignedEuros};
use crate::resolution::AdoptedResolution;
use crate::types::{HolderId, ReportId, Siren, TurbineId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum FinancialYearEvent {
    YearOpened {
        year: i32,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        /// From the company stream on the opening date.
        turbines: Turbines,
        opening_balances: Option<Balances>,
    },
    ProductionReported {
        report: ReportId,
        turbine: TurbineId,
        month: YearMonth,
        mwh: Decimal,
        availability: Decimal,
        corrects: Option<ReportId>,
    },
    RevenueRecorded {
        report: ReportId,
        month: YearMonth,
        kind: RevenueKind,
        volume_mwh: Decimal,
        price_per_mwh: Decimal,
        /// Volume x price, rounded to the cent (half away from zero).
        amount: SignedEuros,
        corrects: Option<ReportId>,
    },
    CostRecorded {
        report: ReportId,
        month: YearMonth,
        category: CostCategory,
        amount: Euros,
        beneficiary: Option<Beneficiary>,
        corrects: Option<ReportId>,
    },
    IferAssessed {
        report: ReportId,
        tax_year: i32,
        rate_per_kw: Euros,
        epci: Siren,
        epci_single_business_tax: bool,
        lines: Vec<IferLine>,
        total: Euros,
        corrects: Option<ReportId>,
    },
    LocalTaxRecorded {
        report: ReportId,
        tax: LocalTax,
        beneficiary: Beneficiary,
        amount: Euros,
        corrects: Option<ReportId>,
    },
    AccountsApproved {
        resolution: AdoptedResolution,
        net_result: SignedEuros,
    },
    ResultAppropriated {
        resolution: AdoptedResolution,
        net_result: SignedEuros,
        /// Before this appropriation: the previous year's closing.
        opening: Balances,
        /// Capital social on the day of the decision: the legal reserve
        /// stops at a tenth of it.
        share_capital: Euros,
        legal_reserve: Euros,
        statutory_reserves: Euros,
        dividend: Euros,
        /// Bénéfice distribuable: result + retained earnings - reserves.
        distributable: SignedEuros,
        /// After this appropriation.
        closing: Balances,
    },
    DividendDeclared {
        resolution: AdoptedResolution,
        amount: DividendAmount,
        record_date: NaiveDate,
        payment_date: NaiveDate,
        dividend_rights: DividendRights,
        withholding: WithholdingRates,
        allocations: Vec<Allocation>,
        /// Sum of the allocations' gross amounts.
        total: Euros,
        /// Appropriated but not distributed (rounding per share): carried
        /// forward to retained earnings.
        undistributed: Euros,
    },
    DividendPaid {
        holder: HolderId,
        amount: Euros,
        paid_on: NaiveDate,
    },
    /// What is withheld from a non-resident's dividend, as decided: the
    /// allocation's net is now `net`.
    WithholdingDecided {
        holder: HolderId,
        income_tax: Euros,
        social_contributions: Euros,
        net: Euros,
    },
}

impl FinancialYearEvent {
    /// Stable names: the log's `event_type` and the payload's only key.
    pub fn name(&self) -> &'static str {
        match self {
            Self::YearOpened { .. } => "YearOpened",
            Self::ProductionReported { .. } => "ProductionReported",
            Self::RevenueRecorded { .. } => "RevenueRecorded",
            Self::CostRecorded { .. } => "CostRecorded",
            Self::IferAssessed { .. } => "IferAssessed",
            Self::LocalTaxRecorded { .. } => "LocalTaxRecorded",
            Self::AccountsApproved { .. } => "AccountsApproved",
            Self::ResultAppropriated { .. } => "ResultAppropriated",
            Self::DividendDeclared { .. } => "DividendDeclared",
            Self::DividendPaid { .. } => "DividendPaid",
            Self::WithholdingDecided { .. } => "WithholdingDecided",
        }
    }

    /// The report this event records, and the one it corrects.
    pub fn report(&self) -> Option<(&ReportId, Option<&ReportId>)> {
        match self {
            Self::ProductionReported {
                report, corrects, ..
            }
            | Self::RevenueRecorded {
                report, corrects, ..
            }
            | Self::CostRecorded {
                report, corrects, ..
            }
            | Self::IferAssessed {
                report, corrects, ..
            }
            | Self::LocalTaxRecorded {
                report, corrects, ..
            } => Some((report, corrects.as_ref())),
            _ => None,
        }
    }
}

/// Schema version of every financial-year event.
pub const FINANCIAL_YEAR_EVENT_VERSION: &str = "1";

domain_event!(FinancialYearEvent, FINANCIAL_YEAR_EVENT_VERSION);
