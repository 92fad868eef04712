//! The money side as recorded: per financial year, every report with the
//! figures in force (corrections applied), the accounts, the appropriation,
//! the dividend with each holder's allocation and payment; the current-
//! account advances with their interest.
//!
//! The fold keeps every figure as recorded and never adds: it cannot fail
//! on a figure. The queries that add (a month's revenue, a year's local
//! returns) use checked arithmetic and answer [`SumOverflow`] when a sum
//! leaves the range of exact decimals (7.9 x 10^28), which only a report
//! recorded before the input bounds (`windledger_domain::input`) can make
//! happen: commands now carry at most 10^12 EUR or 10^7 MWh each. A
//! correction of that report mends the sum.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use thiserror::Error;
use windledger_domain::company::{HolderKind, Turbine};
use windledger_domain::finance::{
    AdvanceEvent, Allocation, Balances, Beneficiary, CostCategory, FinancialYearEvent, IferLine,
    InterestWithholding, LocalTax, RevenueKind, WithholdingStatus, YearMonth,
};
use windledger_domain::money::{Euros, SignedEuros};
use windledger_domain::resolution::AdoptedResolution;
use windledger_domain::types::{CommuneCode, HolderId, ReportId, TurbineId};

use crate::event::{EventRef, FarmEvent, LedgerEvent};
use crate::runner::Fold;

/// A sum of recorded figures beyond the range of exact decimals.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "the figures of financial year {year} do not add up within the range of exact decimals: adding {what} overflowed. A report recorded before windledger bounded its figures (10^7 MWh, 10^12 EUR a report) carries a figure no farm reaches: record a correction of it"
)]
pub struct SumOverflow {
    pub year: i32,
    /// What was being added (`report r-2025-03`, `the dividend of h-1`).
    pub what: String,
}

/// `sum += value`, or the overflow naming what was added.
pub fn add(
    sum: &mut Decimal,
    value: Decimal,
    year: i32,
    what: impl FnOnce() -> String,
) -> Result<(), SumOverflow> {
    *sum = sum
        .checked_add(value)
        .ok_or_else(|| SumOverflow { year, what: what() })?;
    Ok(())
}

/// One month of a year, as the operator's page and the farm's page show it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MonthTotals {
    /// Production in force, all turbines.
    pub mwh: Decimal,
    /// Turbines with a production report in force.
    pub turbines_reported: usize,
    /// Revenue in force, all kinds.
    pub revenue: Decimal,
}

/// What a report says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "report", rename_all = "snake_case")]
pub enum ReportBody {
    Production {
        turbine: TurbineId,
        month: YearMonth,
        mwh: Decimal,
        availability: Decimal,
    },
    Revenue {
        month: YearMonth,
        kind: RevenueKind,
        volume_mwh: Decimal,
        price_per_mwh: Decimal,
        amount: SignedEuros,
    },
    Cost {
        month: YearMonth,
        category: CostCategory,
        amount: Euros,
        beneficiary: Option<Beneficiary>,
    },
    Ifer {
        tax_year: i32,
        lines: Vec<IferLine>,
        total: Euros,
    },
    LocalTax {
        tax: LocalTax,
        beneficiary: Beneficiary,
        amount: Euros,
    },
}

/// A report as recorded. The ids of a correction, rare, are boxed: 8
/// bytes each when there is none rather than an id's 24 (a farm holds a
/// report for about every other event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub id: ReportId,
    pub body: ReportBody,
    pub at: EventRef,
    pub corrects: Option<Box<ReportId>>,
    pub corrected_by: Option<Box<ReportId>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Appropriated {
    pub resolution: AdoptedResolution,
    pub net_result: SignedEuros,
    pub legal_reserve: Euros,
    pub statutory_reserves: Euros,
    pub dividend: Euros,
    pub distributable: SignedEuros,
    pub closing: Balances,
    pub at: EventRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dividend {
    pub resolution: AdoptedResolution,
    pub record_date: NaiveDate,
    pub payment_date: NaiveDate,
    /// One per holder, in holder id order.
    pub allocations: Vec<HolderDividend>,
    pub total: Euros,
    pub undistributed: Euros,
    pub at: EventRef,
}

impl Dividend {
    /// Where `holder`'s allocation stands in [`Dividend::allocations`].
    fn place(&self, holder: &HolderId) -> Option<usize> {
        self.allocations
            .binary_search_by(|a| a.holder.cmp(holder))
            .ok()
            // The domain declares them in holder order; a ledger that did
            // not is still read right, more slowly.
            .or_else(|| self.allocations.iter().position(|a| &a.holder == holder))
    }

    /// `holder`'s allocation.
    pub fn allocation(&self, holder: &HolderId) -> Option<&HolderDividend> {
        self.place(holder).map(|i| &self.allocations[i])
    }

    /// Every payment recorded, in holder order.
    pub fn payments(&self) -> impl Iterator<Item = (&HolderId, &Payment)> {
        self.allocations
            .iter()
            .filter_map(|a| a.paid.as_ref().map(|p| (&a.holder, p)))
    }

    /// How many holders were paid.
    pub fn paid(&self) -> usize {
        self.payments().count()
    }
}

/// A holder's share of a dividend, as the statements and local returns use
/// it (the shares by class stay in the ledger's event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HolderDividend {
    pub holder: HolderId,
    pub kind: HolderKind,
    pub commune: CommuneCode,
    pub gross: Euros,
    pub income_tax: Euros,
    pub social_contributions: Euros,
    pub net: Euros,
    /// An individual not withheld as a French resident; a non-resident's
    /// withholding and net are the operator's decision once recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<WithholdingStatus>,
    /// A non-resident's withholding, decided by the operator.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub withholding_decided: bool,
    /// The payment, once recorded: held with the allocation rather than in
    /// a map of its own (a dividend has as many as the company has holders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub paid: Option<Payment>,
}

impl HolderDividend {
    /// Whether the dividend waits for the operator's decision of what is
    /// withheld before it can be paid.
    pub fn awaits_decision(&self) -> bool {
        self.status == Some(WithholdingStatus::NonResident) && !self.withholding_decided
    }
}

impl From<Allocation> for HolderDividend {
    fn from(a: Allocation) -> Self {
        Self {
            holder: a.holder,
            kind: a.kind,
            commune: a.commune,
            gross: a.gross,
            income_tax: a.income_tax,
            social_contributions: a.social_contributions,
            net: a.net,
            status: a.status,
            withholding_decided: false,
            paid: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payment {
    pub amount: Euros,
    pub paid_on: NaiveDate,
    pub at: EventRef,
}

/// A year's reports, found by id: held in the order recorded, with their
/// places in id order (a map of whole reports would hold each in a B-tree
/// slot, about half of them empty when filled in order; a map of ids to
/// places, a copy of every id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reports {
    recorded: Vec<Report>,
    /// Places in `recorded`, in the order of their reports' ids.
    by_id: Vec<u32>,
}

impl Reports {
    /// Where `id` is in `by_id`, or would be.
    fn find(&self, id: &ReportId) -> Result<usize, usize> {
        self.by_id
            .binary_search_by(|&i| self.recorded[i as usize].id.cmp(id))
    }

    fn get_mut(&mut self, id: &ReportId) -> Option<&mut Report> {
        let at = self.find(id).ok()?;
        Some(&mut self.recorded[self.by_id[at] as usize])
    }

    /// Records `report`, in place of one with its id if there is one.
    fn insert(&mut self, report: Report) -> Result<(), String> {
        match self.find(&report.id) {
            Ok(at) => self.recorded[self.by_id[at] as usize] = report,
            Err(at) => {
                let place = u32::try_from(self.recorded.len())
                    .map_err(|_| "more than 2^32 reports in a year".to_owned())?;
                self.by_id.insert(at, place);
                self.recorded.push(report);
            }
        }
        Ok(())
    }

    /// No more reports come (the year's accounts are approved).
    fn shrink_to_fit(&mut self) {
        self.recorded.shrink_to_fit();
        self.by_id.shrink_to_fit();
    }

    /// Every report's id, in order.
    pub fn keys(&self) -> impl Iterator<Item = &ReportId> {
        self.values().map(|r| &r.id)
    }

    /// Every report, in id order.
    pub fn values(&self) -> impl Iterator<Item = &Report> {
        self.by_id.iter().map(|&i| &self.recorded[i as usize])
    }
}

/// As a map by id, in id order.
impl Serialize for Reports {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.values().map(|r| (&r.id, r)))
    }
}

/// One financial year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YearRecord {
    pub year: i32,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub turbines: Vec<Turbine>,
    /// Every report, corrected ones included, by id.
    pub reports: Reports,
    pub accounts: Option<(AdoptedResolution, SignedEuros, EventRef)>,
    pub appropriation: Option<Appropriated>,
    pub dividend: Option<Dividend>,
}

impl YearRecord {
    /// The reports in force (not corrected), in id order.
    pub fn in_force(&self) -> impl Iterator<Item = &Report> {
        self.reports.values().filter(|r| r.corrected_by.is_none())
    }

    /// Production in force per turbine and month.
    pub fn production(&self) -> BTreeMap<(TurbineId, YearMonth), (Decimal, Decimal)> {
        self.in_force()
            .filter_map(|r| match &r.body {
                ReportBody::Production {
                    turbine,
                    month,
                    mwh,
                    availability,
                } => Some(((turbine.clone(), *month), (*mwh, *availability))),
                _ => None,
            })
            .collect()
    }

    /// Revenue in force per month and kind.
    pub fn revenue(&self) -> Result<BTreeMap<(YearMonth, RevenueKind), SignedEuros>, SumOverflow> {
        let mut sums: BTreeMap<(YearMonth, RevenueKind), Decimal> = BTreeMap::new();
        for r in self.in_force() {
            if let ReportBody::Revenue {
                month,
                kind,
                amount,
                ..
            } = &r.body
            {
                let sum = sums.entry((*month, *kind)).or_default();
                add(sum, amount.amount(), self.year, || {
                    format!("report {}", r.id)
                })?;
            }
        }
        Ok(sums
            .into_iter()
            .map(|(k, v)| (k, SignedEuros::new(v)))
            .collect())
    }

    /// The year's revenue in force.
    pub fn total_revenue(&self) -> Result<SignedEuros, SumOverflow> {
        let mut total = Decimal::ZERO;
        for ((month, kind), amount) in self.revenue()? {
            add(&mut total, amount.amount(), self.year, || {
                format!("the revenue of {month} ({kind:?})")
            })?;
        }
        Ok(SignedEuros::new(total))
    }

    /// Production and revenue in force per month.
    pub fn monthly(&self) -> Result<BTreeMap<YearMonth, MonthTotals>, SumOverflow> {
        let mut months: BTreeMap<YearMonth, MonthTotals> = BTreeMap::new();
        for r in self.in_force() {
            let what = || format!("report {}", r.id);
            match &r.body {
                ReportBody::Production { month, mwh, .. } => {
                    let m = months.entry(*month).or_default();
                    add(&mut m.mwh, *mwh, self.year, what)?;
                    m.turbines_reported += 1;
                }
                ReportBody::Revenue { month, amount, .. } => {
                    let m = months.entry(*month).or_default();
                    add(&mut m.revenue, amount.amount(), self.year, what)?;
                }
                _ => {}
            }
        }
        Ok(months)
    }
}

/// One current-account advance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdvanceRecord {
    pub holder: HolderId,
    pub amount: Euros,
    pub annual_rate: Decimal,
    pub granted_on: NaiveDate,
    pub outstanding: Euros,
    /// The advance's place among the company's advances, in the order
    /// they were granted (0-based): its transfers' references name it.
    pub place: usize,
    /// Interest accrued, by calendar year.
    pub interest: BTreeMap<i32, InterestRecord>,
    /// Repayments, in date order.
    pub repayments: Vec<Repayment>,
}

/// A year's interest of an advance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterestRecord {
    pub gross: Euros,
    /// What is withheld, as decided with the accrual; `None` for an
    /// accrual recorded without rates (nothing withheld).
    pub withholding: Option<InterestWithholding>,
    /// A non-resident's withholding as the operator decided it: income
    /// tax, social contributions.
    pub decided: Option<(Euros, Euros)>,
    pub paid: Option<InterestPayment>,
    /// The accrual.
    pub at: EventRef,
}

impl InterestRecord {
    /// Taxed abroad and not decided yet: not paid until it is.
    pub fn awaits_decision(&self) -> bool {
        self.decided.is_none()
            && self
                .withholding
                .as_ref()
                .is_some_and(|w| w.status == Some(WithholdingStatus::NonResident))
    }

    /// Income tax and social contributions withheld.
    pub fn withheld(&self) -> (Euros, Euros) {
        match (&self.decided, &self.withholding) {
            (Some(decided), _) => *decided,
            (None, Some(w)) => (w.income_tax, w.social_contributions),
            (None, None) => (Euros::ZERO, Euros::ZERO),
        }
    }

    /// The net to pay; `None` while a non-resident's withholding is
    /// undecided.
    pub fn net(&self) -> Option<Euros> {
        if self.awaits_decision() {
            return None;
        }
        let (tax, social) = self.withheld();
        let withheld = tax.cents()?.checked_add(social.cents()?)?;
        Some(Euros::from_cents(
            self.gross.cents()?.checked_sub(withheld)?,
        ))
    }
}

/// Interest paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InterestPayment {
    pub amount: Euros,
    pub paid_on: NaiveDate,
    pub at: EventRef,
}

/// A repayment of principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Repayment {
    pub amount: Euros,
    pub repaid_on: NaiveDate,
    pub at: EventRef,
}

/// The finance fold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Finance {
    years: BTreeMap<i32, YearRecord>,
    /// Stream id (the year as text) -> year.
    stream_years: BTreeMap<String, i32>,
    advances: BTreeMap<String, AdvanceRecord>,
}

impl Fold for Finance {
    const NAME: &'static str = "finance";

    fn apply(&mut self, meta: &LedgerEvent, event: &FarmEvent) -> Result<(), String> {
        match event {
            FarmEvent::FinancialYear { year, event } => self.apply_year(meta, year, event),
            FarmEvent::Advance { advance, event } => self.apply_advance(meta, advance, event),
            _ => Ok(()),
        }
    }
}

impl Finance {
    pub fn years(&self) -> impl Iterator<Item = &YearRecord> {
        self.years.values()
    }

    pub fn year(&self, year: i32) -> Option<&YearRecord> {
        self.years.get(&year)
    }

    pub fn advances(&self) -> impl Iterator<Item = (&String, &AdvanceRecord)> {
        self.advances.iter()
    }

    fn apply_year(
        &mut self,
        meta: &LedgerEvent,
        stream: &str,
        event: &FinancialYearEvent,
    ) -> Result<(), String> {
        let at = meta.reference();
        if let FinancialYearEvent::YearOpened {
            year,
            starts_on,
            ends_on,
            turbines,
            ..
        } = event
        {
            self.stream_years.insert(stream.to_owned(), *year);
            self.years.insert(
                *year,
                YearRecord {
                    year: *year,
                    starts_on: *starts_on,
                    ends_on: *ends_on,
                    turbines: turbines.clone(),
                    reports: Reports::default(),
                    accounts: None,
                    appropriation: None,
                    dividend: None,
                },
            );
            return Ok(());
        }
        let record = self
            .stream_years
            .get(stream)
            .and_then(|y| self.years.get_mut(y))
            .ok_or_else(|| format!("financial year {stream} was never opened"))?;
        let body = match event.clone() {
            FinancialYearEvent::YearOpened { .. } => None,
            FinancialYearEvent::ProductionReported {
                turbine,
                month,
                mwh,
                availability,
                ..
            } => Some(ReportBody::Production {
                turbine,
                month,
                mwh,
                availability,
            }),
            FinancialYearEvent::RevenueRecorded {
                month,
                kind,
                volume_mwh,
                price_per_mwh,
                amount,
                ..
            } => Some(ReportBody::Revenue {
                month,
                kind,
                volume_mwh,
                price_per_mwh,
                amount,
            }),
            FinancialYearEvent::CostRecorded {
                month,
                category,
                amount,
                beneficiary,
                ..
            } => Some(ReportBody::Cost {
                month,
                category,
                amount,
                beneficiary,
            }),
            FinancialYearEvent::IferAssessed {
                tax_year,
                lines,
                total,
                ..
            } => Some(ReportBody::Ifer {
                tax_year,
                lines,
                total,
            }),
            FinancialYearEvent::LocalTaxRecorded {
                tax,
                beneficiary,
                amount,
                ..
            } => Some(ReportBody::LocalTax {
                tax,
                beneficiary,
                amount,
            }),
            FinancialYearEvent::AccountsApproved {
                resolution,
                net_result,
            } => {
                record.accounts = Some((resolution, net_result, at));
                // The year's reports are in (the accounts approved stand on
                // them): spare room given back.
                record.reports.shrink_to_fit();
                None
            }
            FinancialYearEvent::ResultAppropriated {
                resolution,
                net_result,
                legal_reserve,
                statutory_reserves,
                dividend,
                distributable,
                closing,
                ..
            } => {
                record.appropriation = Some(Appropriated {
                    resolution,
                    net_result,
                    legal_reserve,
                    statutory_reserves,
                    dividend,
                    distributable,
                    closing,
                    at,
                });
                None
            }
            FinancialYearEvent::DividendDeclared {
                resolution,
                record_date,
                payment_date,
                allocations,
                total,
                undistributed,
                ..
            } => {
                record.dividend = Some(Dividend {
                    resolution,
                    record_date,
                    payment_date,
                    allocations: allocations.into_iter().map(HolderDividend::from).collect(),
                    total,
                    undistributed,
                    at,
                });
                None
            }
            FinancialYearEvent::WithholdingDecided {
                holder,
                income_tax,
                social_contributions,
                net,
            } => {
                let allocation = record
                    .dividend
                    .as_mut()
                    .and_then(|d| d.place(&holder).map(|i| &mut d.allocations[i]))
                    .ok_or("a withholding decided for no allocation")?;
                allocation.income_tax = income_tax;
                allocation.social_contributions = social_contributions;
                allocation.net = net;
                allocation.withholding_decided = true;
                None
            }
            FinancialYearEvent::DividendPaid {
                holder,
                amount,
                paid_on,
            } => {
                let dividend = record
                    .dividend
                    .as_mut()
                    .ok_or("a payment before the dividend was declared")?;
                let place = dividend
                    .place(&holder)
                    .ok_or("a payment to a holder the dividend allocates nothing")?;
                dividend.allocations[place].paid = Some(Payment {
                    amount,
                    paid_on,
                    at,
                });
                None
            }
        };
        if let (Some(body), Some((id, corrects))) = (body, event.report()) {
            if let Some(c) = corrects {
                let corrected = record
                    .reports
                    .get_mut(c)
                    .ok_or_else(|| format!("report {c} is corrected but was never recorded"))?;
                corrected.corrected_by = Some(Box::new(id.clone()));
            }
            record.reports.insert(Report {
                id: id.clone(),
                body,
                at,
                corrects: corrects.cloned().map(Box::new),
                corrected_by: None,
            })?;
        }
        Ok(())
    }

    fn apply_advance(
        &mut self,
        meta: &LedgerEvent,
        advance: &str,
        event: &AdvanceEvent,
    ) -> Result<(), String> {
        if let AdvanceEvent::AdvanceGranted {
            holder,
            amount,
            annual_rate,
            granted_on,
            ..
        } = event
        {
            let place = self.advances.len();
            self.advances.insert(
                advance.to_owned(),
                AdvanceRecord {
                    holder: holder.clone(),
                    amount: *amount,
                    annual_rate: *annual_rate,
                    granted_on: *granted_on,
                    outstanding: *amount,
                    place,
                    interest: BTreeMap::new(),
                    repayments: Vec::new(),
                },
            );
            return Ok(());
        }
        let record = self
            .advances
            .get_mut(advance)
            .ok_or_else(|| format!("advance {advance} was never granted"))?;
        match event {
            AdvanceEvent::AdvanceGranted { .. } => {}
            AdvanceEvent::AdvanceRepaid {
                amount,
                repaid_on,
                outstanding,
            } => {
                record.outstanding = *outstanding;
                record.repayments.push(Repayment {
                    amount: *amount,
                    repaid_on: *repaid_on,
                    at: meta.reference(),
                });
            }
            AdvanceEvent::InterestAccrued {
                year,
                interest,
                withholding,
                ..
            } => {
                record.interest.insert(
                    *year,
                    InterestRecord {
                        gross: *interest,
                        withholding: withholding.clone(),
                        decided: None,
                        paid: None,
                        at: meta.reference(),
                    },
                );
            }
            AdvanceEvent::WithholdingDecided {
                year,
                income_tax,
                social_contributions,
                ..
            } => {
                let interest = record
                    .interest
                    .get_mut(year)
                    .ok_or_else(|| format!("the interest of {year} of {advance} is not accrued"))?;
                interest.decided = Some((*income_tax, *social_contributions));
            }
            AdvanceEvent::InterestPaid {
                year,
                amount,
                paid_on,
            } => {
                let interest = record
                    .interest
                    .get_mut(year)
                    .ok_or_else(|| format!("the interest of {year} of {advance} is not accrued"))?;
                interest.paid = Some(InterestPayment {
                    amount: *amount,
                    paid_on: *paid_on,
                    at: meta.reference(),
                });
            }
        }
        Ok(())
    }
}
