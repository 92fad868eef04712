//! The money side (DESIGN.md 2.2, the `financial-year` stream): production
//! and revenue, costs and local taxes, the close of the year with its
//! appropriation, the dividend and its payments; and the shareholders'
//! current-account advances, each a stream of its own.

mod advance;
mod aggregate;
pub mod allocation;
mod commands;
mod error;
mod events;
mod types;

pub use advance::{
    AdvanceCommand, AdvanceError, AdvanceEvent, AdvanceServices, CurrentAccountAdvance,
    InterestPeriod, InterestWithholding,
};
pub use aggregate::{ClosingBalances, FinancialYear, FinancialYearServices, KnownClosings};
pub use commands::FinancialYearCommand;
pub use error::FinancialYearError;
pub use events::{FINANCIAL_YEAR_EVENT_VERSION, FinancialYearEvent};
pub use types::{
    Allocation, Balances, Beneficiary, CostCategory, DividendAmount, DividendRights, IferLine,
    IferSplit, LocalTax, RevenueKind, WithholdingRates, WithholdingStatus, YearMonth, withheld,
};
