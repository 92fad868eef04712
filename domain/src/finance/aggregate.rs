//! The financial-year aggregate: decides reports and the close of the year,
//! and folds its own events.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::allocation::largest_remainder;
use super::commands::FinancialYearCommand;
use super::error::FinancialYearError;
use super::events::FinancialYearEvent;
use super::types::{
    Allocation, Balances, Beneficiary, DividendAmount, DividendRights, IferLine, IferSplit,
    Turbines, WithholdingRates, WithholdingStatus, YearMonth, withheld,
};
use crate::aggregate::aggregate;
use crate::cap_table::{CapTableService, CapTableSnapshot};
use crate::clock::{Clock, not_after};
use crate::company::HolderKind;
use crate::money::{Euros, SignedEuros, round_to_cent};
use crate::resolution::{
    AdoptedResolution, BoxFuture, LookupError, ResolutionPurpose, ResolutionService, Standing,
};
use crate::types::{HolderId, ReportId, ResolutionId, TurbineId};

type Error = FinancialYearError;

/// The balances at the close of earlier years.
pub trait ClosingBalances: Send + Sync {
    /// The balances after the appropriation of `year` (and after any
    /// dividend it appropriated but did not distribute); `None` if that
    /// year is not in the ledger or its result is not appropriated yet.
    fn closing_balances<'a>(
        &'a self,
        year: i32,
    ) -> BoxFuture<'a, Result<Option<Balances>, LookupError>>;
}

/// Closings known in advance: the tests' fake.
#[derive(Debug, Clone, Default)]
pub struct KnownClosings(pub BTreeMap<i32, Balances>);

impl ClosingBalances for KnownClosings {
    fn closing_balances<'a>(
        &'a self,
        year: i32,
    ) -> BoxFuture<'a, Result<Option<Balances>, LookupError>> {
        Box::pin(std::future::ready(Ok(self.0.get(&year).cloned())))
    }
}

/// What the financial-year aggregate needs from outside its stream.
#[derive(Clone)]
pub struct FinancialYearServices {
    /// Today: a month or a date after it has not begun.
    pub clock: Arc<dyn Clock>,
    pub resolutions: Arc<dyn ResolutionService>,
    pub cap_tables: Arc<dyn CapTableService>,
    pub closings: Arc<dyn ClosingBalances>,
}

impl FinancialYearServices {
    pub fn new(
        clock: impl Clock + 'static,
        resolutions: impl ResolutionService + 'static,
        cap_tables: impl CapTableService + 'static,
        closings: impl ClosingBalances + 'static,
    ) -> Self {
        Self {
            clock: Arc::new(clock),
            resolutions: Arc::new(resolutions),
            cap_tables: Arc::new(cap_tables),
            closings: Arc::new(closings),
        }
    }
}

/// The `financial-year` stream of one exercice.
///
/// Rules chosen where the issue is silent:
/// - The year's id is the year it ends in; it lasts at most 24 months. The
///   turbines are recorded from the company stream when the year opens.
/// - Every report has an id; a correction names the report it replaces,
///   which must be in force (not corrected already) and of the same kind. A
///   production correction keeps the turbine and month, an IFER correction
///   the tax year: one figure in force per turbine and month, one IFER per
///   tax year. Corrections never change the number of reports in force.
/// - Production is reported for turbines of the farm, for months of the
///   year from their commissioning; MWh to the kWh, availability 0-100 %.
/// - Revenue is volume x price, rounded to the cent half away from zero.
/// - IFER of a tax year (within the exercice) is due for every turbine in
///   service on its 1 January: rated power x rate to the cent, shared
///   commune / EPCI / département by the rule of the turbine's
///   commissioning date, to the cent by largest remainder.
/// - Once the accounts are approved, the year takes no more reports.
/// - Nothing is recorded for a month or a tax year that has not begun on
///   the services' clock, and a record date or a payment is not in the
///   future (a year may be opened ahead of its start). A month's production
///   and revenue wait until the month is over (its figures are known only
///   then): from the first day of the next month.
/// - The accounts and the appropriation rest on adopted resolutions of the
///   kind the charter reserves for the accounts, adopted after the year
///   ended. The legal reserve takes 5 % of the profit after prior losses,
///   rounded up to the cent, until it reaches a tenth of the share capital
///   (rounded up to the cent) on the day of the decision. Statutory
///   reserves come out of that profit too. Distributable profit = result +
///   retained earnings - the reserves allocated; a dividend is never above
///   it, and never declared above what was appropriated.
/// - The dividend's roll is the cap table at the record date, on or after
///   the decision; each holder receives shares x dividend rights of each
///   class (classes with no rights are left out). A total is shared by
///   largest remainder (ties by holder id); an amount per share is rounded
///   down to the cent per holder, and the cents left are carried forward.
/// - Income tax and social contributions are withheld from French resident
///   individuals only, each rounded to the cent (social contributions capped
///   at what income tax leaves, which only rates near 100 % reach); legal
///   persons, clubs and associations receive the gross. A holder is paid their net once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinancialYear {
    opened: Option<Opened>,
    reports: BTreeMap<ReportId, ReportEntry>,
    production: BTreeMap<(TurbineId, YearMonth), ReportId>,
    ifer: BTreeMap<i32, ReportId>,
    accounts: Option<(AdoptedResolution, SignedEuros)>,
    appropriation: Option<Appropriation>,
    dividend: Option<Declared>,
    paid: BTreeSet<HolderId>,
    /// Non-residents whose withholding the operator decided.
    #[serde(default)]
    decided: BTreeSet<HolderId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Opened {
    year: i32,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    turbines: Turbines,
    opening_balances: Option<Balances>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ReportEntry {
    kind: ReportKind,
    superseded_by: Option<ReportId>,
}

/// The kinds of report, for corrections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum ReportKind {
    Production,
    Revenue,
    Cost,
    Ifer,
    LocalTax,
}

impl ReportKind {
    fn name(self) -> &'static str {
        match self {
            Self::Production => "production",
            Self::Revenue => "revenue",
            Self::Cost => "cost",
            Self::Ifer => "IFER",
            Self::LocalTax => "local tax",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Appropriation {
    adopted_on: NaiveDate,
    dividend: Euros,
    closing: Balances,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Declared {
    record_date: NaiveDate,
    allocations: BTreeMap<HolderId, Allocation>,
    undistributed: Euros,
}

/// What the services answered for a command.
#[derive(Default)]
struct Looked {
    resolution: Option<AdoptedResolution>,
    /// The company on the opening date, the decision's date or the record
    /// date, as the command needs.
    company: Option<CapTableSnapshot>,
    charter_at_decision: Option<CapTableSnapshot>,
    previous_closing: Option<Balances>,
    /// The turbines at the end of the year (for a production report), or on
    /// 1 January of an IFER's tax year: the company stream's, which may
    /// have changed since the year opened.
    turbines: Option<Vec<crate::company::Turbine>>,
}

aggregate!(
    FinancialYear: "financial-year",
    FinancialYearCommand => FinancialYearEvent, FinancialYearError, FinancialYearServices
);

impl FinancialYear {
    fn check_clock(command: &FinancialYearCommand, clock: &dyn Clock) -> Result<(), Error> {
        let today = clock.today();
        // A month's production and revenue wait until the month is over;
        // checked first, so that a future month is told when it may come.
        if let Some((month, what)) = command.reports_month()
            && today < month.first_day_after()
        {
            return Err(FinancialYearError::MonthNotOver { month, what, today });
        }
        match command.begins_on() {
            Some(begins_on) => not_after(begins_on, today, |date, today| {
                FinancialYearError::NotYetBegun { date, today }
            }),
            None => Ok(()),
        }
    }

    async fn decision(
        &self,
        command: FinancialYearCommand,
        services: &FinancialYearServices,
    ) -> Result<FinancialYearEvent, Error> {
        self.precheck(&command)?;
        let looked = self.look_up(&command, services).await?;
        self.decide(command, looked)
    }

    fn evolve(&mut self, event: FinancialYearEvent) {
        if let Some((report, corrects)) = event.report() {
            let kind = report_kind(&event);
            if let Some(old) = corrects.and_then(|c| self.reports.get_mut(c)) {
                old.superseded_by = Some(report.clone());
            }
            if let Some(kind) = kind {
                self.reports.insert(
                    report.clone(),
                    ReportEntry {
                        kind,
                        superseded_by: None,
                    },
                );
            }
        }
        match event {
            FinancialYearEvent::YearOpened {
                year,
                starts_on,
                ends_on,
                turbines,
                opening_balances,
            } => {
                self.opened = Some(Opened {
                    year,
                    starts_on,
                    ends_on,
                    turbines,
                    opening_balances,
                });
            }
            FinancialYearEvent::ProductionReported {
                report,
                turbine,
                month,
                ..
            } => {
                self.production.insert((turbine, month), report);
            }
            FinancialYearEvent::IferAssessed {
                report, tax_year, ..
            } => {
                self.ifer.insert(tax_year, report);
            }
            FinancialYearEvent::RevenueRecorded { .. }
            | FinancialYearEvent::CostRecorded { .. }
            | FinancialYearEvent::LocalTaxRecorded { .. } => {}
            FinancialYearEvent::AccountsApproved {
                resolution,
                net_result,
            } => {
                self.accounts = Some((resolution, net_result));
            }
            FinancialYearEvent::ResultAppropriated {
                resolution,
                dividend,
                closing,
                ..
            } => {
                self.appropriation = Some(Appropriation {
                    adopted_on: resolution.adopted_on,
                    dividend,
                    closing,
                });
            }
            FinancialYearEvent::DividendDeclared {
                record_date,
                allocations,
                undistributed,
                ..
            } => {
                self.dividend = Some(Declared {
                    record_date,
                    allocations: allocations
                        .into_iter()
                        .map(|a| (a.holder.clone(), a))
                        .collect(),
                    undistributed,
                });
            }
            FinancialYearEvent::DividendPaid { holder, .. } => {
                self.paid.insert(holder);
            }
            FinancialYearEvent::WithholdingDecided {
                holder,
                income_tax,
                social_contributions,
                net,
            } => {
                if let Some(a) = self
                    .dividend
                    .as_mut()
                    .and_then(|d| d.allocations.get_mut(&holder))
                {
                    a.income_tax = income_tax;
                    a.social_contributions = social_contributions;
                    a.net = net;
                }
                self.decided.insert(holder);
            }
        }
    }
}

fn report_kind(event: &FinancialYearEvent) -> Option<ReportKind> {
    match event {
        FinancialYearEvent::ProductionReported { .. } => Some(ReportKind::Production),
        FinancialYearEvent::RevenueRecorded { .. } => Some(ReportKind::Revenue),
        FinancialYearEvent::CostRecorded { .. } => Some(ReportKind::Cost),
        FinancialYearEvent::IferAssessed { .. } => Some(ReportKind::Ifer),
        FinancialYearEvent::LocalTaxRecorded { .. } => Some(ReportKind::LocalTax),
        _ => None,
    }
}

impl FinancialYear {
    // --- Reading the state. ---

    pub fn year(&self) -> Option<i32> {
        self.opened.as_ref().map(|o| o.year)
    }

    pub fn period(&self) -> Option<(NaiveDate, NaiveDate)> {
        self.opened.as_ref().map(|o| (o.starts_on, o.ends_on))
    }

    pub fn turbines(&self) -> &[crate::company::Turbine] {
        self.opened.as_ref().map_or(&[], |o| &o.turbines)
    }

    /// Reports in force (not corrected), by id.
    pub fn reports_in_force(&self) -> impl Iterator<Item = &ReportId> {
        self.reports
            .iter()
            .filter(|(_, r)| r.superseded_by.is_none())
            .map(|(id, _)| id)
    }

    /// The report in force for a turbine's month.
    pub fn production_report(&self, turbine: &TurbineId, month: YearMonth) -> Option<&ReportId> {
        self.production.get(&(turbine.clone(), month))
    }

    pub fn accounts_approved(&self) -> bool {
        self.accounts.is_some()
    }

    /// The balances at the close of this year: after the appropriation, with
    /// any appropriated dividend left undistributed carried forward.
    pub fn closing_balances(&self) -> Option<Balances> {
        let mut closing = self.appropriation.as_ref()?.closing.clone();
        if let Some(declared) = &self.dividend {
            // Both are whole cents that fit 64 bits (the appropriation and
            // the declaration are decided in integer cents): the sum fits.
            let retained = closing
                .retained_earnings
                .amount()
                .checked_add(declared.undistributed.amount())?;
            closing.retained_earnings = SignedEuros::new(retained);
        }
        Some(closing)
    }

    pub fn allocation(&self, holder: &HolderId) -> Option<&Allocation> {
        self.dividend.as_ref()?.allocations.get(holder)
    }

    pub fn is_paid(&self, holder: &HolderId) -> bool {
        self.paid.contains(holder)
    }

    // --- Deciding. ---

    /// What can be refused before asking any service.
    fn precheck(&self, command: &FinancialYearCommand) -> Result<(), Error> {
        use FinancialYearCommand as C;
        if let C::OpenYear { .. } = command {
            return if self.opened.is_some() {
                Err(Error::AlreadyOpened)
            } else {
                Ok(())
            };
        }
        if self.opened.is_none() {
            return Err(Error::NotOpened);
        }
        match command {
            C::OpenYear { .. } => Ok(()),
            C::ReportProduction { .. }
            | C::RecordRevenue { .. }
            | C::RecordCost { .. }
            | C::AssessIfer { .. }
            | C::RecordLocalTax { .. }
            | C::ApproveAccounts { .. } => {
                if self.accounts.is_some() {
                    Err(Error::AccountsAlreadyApproved)
                } else {
                    Ok(())
                }
            }
            C::AppropriateResult { .. } => match (&self.accounts, &self.appropriation) {
                (None, _) => Err(Error::AccountsNotApproved),
                (_, Some(_)) => Err(Error::AlreadyAppropriated),
                _ => Ok(()),
            },
            C::DeclareDividend { .. } => match (&self.appropriation, &self.dividend) {
                (None, _) => Err(Error::NotAppropriated),
                (_, Some(_)) => Err(Error::DividendAlreadyDeclared),
                _ => Ok(()),
            },
            C::RecordDividendPayment { .. } | C::DecideWithholding { .. } => match &self.dividend {
                None => Err(Error::NoDividendDeclared),
                Some(_) => Ok(()),
            },
        }
    }

    async fn look_up(
        &self,
        command: &FinancialYearCommand,
        services: &FinancialYearServices,
    ) -> Result<Looked, Error> {
        use FinancialYearCommand as C;
        let mut looked = Looked::default();
        if let C::OpenYear { starts_on, .. } = command {
            looked.company = Some(services.cap_tables.cap_table(*starts_on).await?);
        }
        // Only for a year open and a date within it: otherwise the command
        // is refused for that, without asking.
        let on = match (command, &self.opened) {
            // At the year's end: a turbine commissioned after the month is
            // then known, and refused for being commissioned after it.
            (C::ReportProduction { month, .. }, Some(opened))
                if opened.check_month(*month).is_ok() =>
            {
                Some(opened.ends_on)
            }
            (C::AssessIfer { tax_year, .. }, Some(opened))
                if (opened.starts_on.year()..=opened.ends_on.year()).contains(tax_year) =>
            {
                NaiveDate::from_ymd_opt(*tax_year, 1, 1)
            }
            _ => None,
        };
        if let Some(on) = on {
            looked.turbines = Some(services.cap_tables.turbines(on).await?);
        }
        let Some(id) = command.cited_resolution() else {
            return Ok(looked);
        };
        let resolution = services.resolutions.standing(id).await?.adopted(id)?;
        looked.charter_at_decision =
            Some(services.cap_tables.cap_table(resolution.adopted_on).await?);
        match command {
            C::AppropriateResult { .. } => {
                let first_year = self
                    .opened
                    .as_ref()
                    .and_then(|o| o.opening_balances.clone());
                if first_year.is_none() {
                    let previous = self.year().unwrap_or_default() - 1;
                    looked.previous_closing = Some(
                        services
                            .closings
                            .closing_balances(previous)
                            .await?
                            .ok_or(Error::PreviousYearNotClosed(previous))?,
                    );
                }
            }
            C::DeclareDividend { record_date, .. } => {
                looked.company = Some(services.cap_tables.cap_table(*record_date).await?);
            }
            _ => {}
        }
        looked.resolution = Some(resolution);
        Ok(looked)
    }

    fn decide(
        &self,
        command: FinancialYearCommand,
        mut looked: Looked,
    ) -> Result<FinancialYearEvent, Error> {
        use FinancialYearCommand as C;
        let missing = || Error::Lookup(LookupError("a lookup was skipped".to_owned()));
        if let C::OpenYear {
            year,
            starts_on,
            ends_on,
            opening_balances,
        } = command
        {
            return decide_open(
                year,
                starts_on,
                ends_on,
                opening_balances,
                looked.company.ok_or_else(missing)?,
            );
        }
        let opened = self.opened.as_ref().ok_or(Error::NotOpened)?;
        match command {
            C::OpenYear { .. } => Err(Error::AlreadyOpened),
            C::ReportProduction {
                report,
                turbine,
                month,
                mwh,
                availability,
                corrects,
            } => {
                self.check_report(&report, corrects.as_ref(), ReportKind::Production)?;
                let turbines = looked.turbines.as_deref().unwrap_or(&opened.turbines);
                let installations: Vec<_> = turbines.iter().filter(|t| t.id == turbine).collect();
                let first = installations
                    .first()
                    .ok_or_else(|| Error::UnknownTurbine(turbine.clone()))?;
                opened.check_month(month)?;
                let in_service = |t: &&crate::company::Turbine| {
                    t.in_service_between(month.first_day(), month.last_day())
                };
                if !installations.iter().any(in_service) {
                    let left = installations
                        .iter()
                        .filter_map(|t| t.decommissioned_on)
                        .filter(|d| *d <= month.first_day())
                        .max();
                    return Err(match left {
                        Some(decommissioned_on) => Error::AfterDecommissioning {
                            turbine,
                            month,
                            decommissioned_on,
                        },
                        None => Error::BeforeCommissioning {
                            turbine,
                            month,
                            commissioned_on: first.commissioned_on,
                        },
                    });
                }
                quantity("MWh", mwh, 3)?;
                if availability.is_sign_negative() || availability > Decimal::ONE_HUNDRED {
                    return Err(Error::InvalidAvailability(availability));
                }
                let in_force = self.production.get(&(turbine.clone(), month));
                match (&corrects, in_force) {
                    (None, Some(existing)) => {
                        return Err(Error::ProductionAlreadyReported {
                            turbine,
                            month,
                            report: existing.clone(),
                        });
                    }
                    (Some(c), in_force) if in_force != Some(c) => {
                        return Err(Error::CorrectionChangesSubject(c.clone()));
                    }
                    _ => {}
                }
                Ok(FinancialYearEvent::ProductionReported {
                    report,
                    turbine,
                    month,
                    mwh,
                    availability,
                    corrects,
                })
            }
            C::RecordRevenue {
                report,
                month,
                kind,
                volume_mwh,
                price_per_mwh,
                corrects,
            } => {
                self.check_report(&report, corrects.as_ref(), ReportKind::Revenue)?;
                opened.check_month(month)?;
                quantity("the volume in MWh", volume_mwh, 3)?;
                let amount = volume_mwh
                    .checked_mul(price_per_mwh)
                    .map(round_to_cent)
                    .ok_or(Error::Overflow)?;
                Ok(FinancialYearEvent::RevenueRecorded {
                    report,
                    month,
                    kind,
                    volume_mwh,
                    price_per_mwh,
                    amount: SignedEuros::new(amount),
                    corrects,
                })
            }
            C::RecordCost {
                report,
                month,
                category,
                amount,
                beneficiary,
                corrects,
            } => {
                self.check_report(&report, corrects.as_ref(), ReportKind::Cost)?;
                opened.check_month(month)?;
                whole_cents("the cost", amount)?;
                Ok(FinancialYearEvent::CostRecorded {
                    report,
                    month,
                    category,
                    amount,
                    beneficiary,
                    corrects,
                })
            }
            C::AssessIfer {
                report,
                tax_year,
                rate_per_kw,
                epci,
                epci_single_business_tax,
                corrects,
            } => {
                self.check_report(&report, corrects.as_ref(), ReportKind::Ifer)?;
                if tax_year < opened.starts_on.year() || tax_year > opened.ends_on.year() {
                    return Err(Error::TaxYearOutsideYear {
                        tax_year,
                        starts_on: opened.starts_on,
                        ends_on: opened.ends_on,
                    });
                }
                match (&corrects, self.ifer.get(&tax_year)) {
                    (None, Some(_)) => return Err(Error::IferAlreadyAssessed(tax_year)),
                    (Some(c), in_force) if in_force != Some(c) => {
                        return Err(Error::CorrectionChangesSubject(c.clone()));
                    }
                    _ => {}
                }
                let lines = ifer_lines(
                    looked.turbines.as_deref().unwrap_or(&opened.turbines),
                    tax_year,
                    rate_per_kw,
                    &Beneficiary::Epci {
                        siren: epci.clone(),
                    },
                    epci_single_business_tax,
                )?;
                let total = lines
                    .iter()
                    .try_fold(0u64, |sum, l| sum.checked_add(l.amount.cents()?))
                    .ok_or(Error::Overflow)?;
                Ok(FinancialYearEvent::IferAssessed {
                    report,
                    tax_year,
                    rate_per_kw,
                    epci,
                    epci_single_business_tax,
                    lines,
                    total: Euros::from_cents(total),
                    corrects,
                })
            }
            C::RecordLocalTax {
                report,
                tax,
                beneficiary,
                amount,
                corrects,
            } => {
                self.check_report(&report, corrects.as_ref(), ReportKind::LocalTax)?;
                whole_cents("the tax", amount)?;
                Ok(FinancialYearEvent::LocalTaxRecorded {
                    report,
                    tax,
                    beneficiary,
                    amount,
                    corrects,
                })
            }
            C::ApproveAccounts {
                resolution,
                net_result,
            } => {
                let purpose = ResolutionPurpose::AccountsApproval { year: opened.year };
                let adopted = opened.check_resolution(&resolution, &mut looked, purpose)?;
                let net_result = SignedEuros::new(net_result);
                if !net_result.is_whole_cents() {
                    return Err(Error::SubCentAmount {
                        what: "the net result",
                        amount: net_result.amount(),
                    });
                }
                Ok(FinancialYearEvent::AccountsApproved {
                    resolution: adopted,
                    net_result,
                })
            }
            C::AppropriateResult {
                resolution,
                statutory_reserves,
                dividend,
            } => {
                let purpose = ResolutionPurpose::ResultAppropriation { year: opened.year };
                let adopted = opened.check_resolution(&resolution, &mut looked, purpose)?;
                let (_, net_result) = self.accounts.clone().ok_or(Error::AccountsNotApproved)?;
                let opening = match &opened.opening_balances {
                    Some(first_year) => first_year.clone(),
                    None => looked.previous_closing.ok_or_else(missing)?,
                };
                let share_capital = looked
                    .charter_at_decision
                    .as_ref()
                    .map(|c| c.share_capital)
                    .ok_or_else(missing)?;
                appropriate(
                    adopted,
                    net_result,
                    opening,
                    share_capital,
                    statutory_reserves,
                    dividend,
                )
            }
            C::DeclareDividend {
                resolution,
                amount,
                record_date,
                payment_date,
                withholding,
                withholding_statuses,
            } => {
                let purpose = ResolutionPurpose::ResultAppropriation { year: opened.year };
                let adopted = opened.check_resolution(&resolution, &mut looked, purpose)?;
                let appropriated = self.appropriation.as_ref().ok_or(Error::NotAppropriated)?;
                if record_date < adopted.adopted_on {
                    return Err(Error::RecordDateBeforeDecision {
                        record_date,
                        adopted_on: adopted.adopted_on,
                    });
                }
                if payment_date < record_date {
                    return Err(Error::BeforeRecordDate {
                        date: payment_date,
                        record_date,
                    });
                }
                let withholding = withholding.unwrap_or_default();
                check_rates(withholding)?;
                let roll = looked.company.ok_or_else(missing)?;
                declare(
                    adopted,
                    amount,
                    record_date,
                    payment_date,
                    (withholding, &withholding_statuses),
                    &roll,
                    appropriated.dividend,
                )
            }
            C::DecideWithholding {
                holder,
                income_tax,
                social_contributions,
            } => {
                let declared = self.dividend.as_ref().ok_or(Error::NoDividendDeclared)?;
                let allocation = declared
                    .allocations
                    .get(&holder)
                    .ok_or_else(|| Error::NoAllocation(holder.clone()))?;
                if allocation.status != Some(WithholdingStatus::NonResident) {
                    return Err(Error::NotNonResident(holder));
                }
                if self.paid.contains(&holder) {
                    return Err(Error::AlreadyPaid(holder));
                }
                if self.decided.contains(&holder) {
                    return Err(Error::WithholdingAlreadyDecided(holder));
                }
                let (gross, tax, social) = (
                    allocation.gross.cents(),
                    income_tax.cents(),
                    social_contributions.cents(),
                );
                let (Some(gross), Some(tax), Some(social)) = (gross, tax, social) else {
                    return Err(Error::Overflow);
                };
                let withheld = tax.checked_add(social).ok_or(Error::Overflow)?;
                let net = gross
                    .checked_sub(withheld)
                    .ok_or_else(|| Error::WithheldAboveGross {
                        holder: holder.clone(),
                        withheld: Euros::from_cents(withheld),
                        gross: allocation.gross,
                    })?;
                Ok(FinancialYearEvent::WithholdingDecided {
                    holder,
                    income_tax,
                    social_contributions,
                    net: Euros::from_cents(net),
                })
            }
            C::RecordDividendPayment { holder, paid_on } => {
                let declared = self.dividend.as_ref().ok_or(Error::NoDividendDeclared)?;
                let allocation = declared
                    .allocations
                    .get(&holder)
                    .ok_or_else(|| Error::NoAllocation(holder.clone()))?;
                if self.paid.contains(&holder) {
                    return Err(Error::AlreadyPaid(holder));
                }
                if allocation.status == Some(WithholdingStatus::NonResident)
                    && !self.decided.contains(&holder)
                {
                    return Err(Error::WithholdingUndecided(holder));
                }
                if paid_on < declared.record_date {
                    return Err(Error::BeforeRecordDate {
                        date: paid_on,
                        record_date: declared.record_date,
                    });
                }
                Ok(FinancialYearEvent::DividendPaid {
                    amount: allocation.net,
                    holder,
                    paid_on,
                })
            }
        }
    }

    /// A new report id, and a correction of a report in force of the kind.
    fn check_report(
        &self,
        report: &ReportId,
        corrects: Option<&ReportId>,
        kind: ReportKind,
    ) -> Result<(), Error> {
        if self.reports.contains_key(report) {
            return Err(Error::DuplicateReport(report.clone()));
        }
        let Some(corrected) = corrects else {
            return Ok(());
        };
        let entry = self
            .reports
            .get(corrected)
            .ok_or_else(|| Error::UnknownReport(corrected.clone()))?;
        if let Some(by) = &entry.superseded_by {
            return Err(Error::ReportAlreadyCorrected {
                report: corrected.clone(),
                by: by.clone(),
            });
        }
        if entry.kind != kind {
            return Err(Error::CorrectionOfAnotherKind {
                report: corrected.clone(),
                expected: kind.name(),
                found: entry.kind.name(),
            });
        }
        Ok(())
    }
}

impl Opened {
    fn check_month(&self, month: YearMonth) -> Result<(), Error> {
        if month < YearMonth::of(self.starts_on) || month > YearMonth::of(self.ends_on) {
            return Err(Error::MonthOutsideYear {
                month,
                starts_on: self.starts_on,
                ends_on: self.ends_on,
            });
        }
        Ok(())
    }

    /// The resolution looked up (taken out of `looked`) is adopted, after
    /// the year's end, for `purpose`, with the kind the charter (as of the
    /// decision) reserves for the accounts.
    fn check_resolution(
        &self,
        id: &ResolutionId,
        looked: &mut Looked,
        purpose: ResolutionPurpose,
    ) -> Result<AdoptedResolution, Error> {
        let required = looked
            .charter_at_decision
            .as_ref()
            .map(|c| &c.charter.reserved.accounts);
        let found = looked.resolution.take().map(Standing::Adopted);
        let resolution = crate::resolution::backs(found, id, &purpose, required)?;
        if resolution.adopted_on <= self.ends_on {
            return Err(Error::DecidedBeforeYearEnd {
                resolution: resolution.id,
                adopted_on: resolution.adopted_on,
                ends_on: self.ends_on,
            });
        }
        Ok(resolution)
    }
}

fn decide_open(
    year: i32,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    opening_balances: Option<Balances>,
    company: CapTableSnapshot,
) -> Result<FinancialYearEvent, Error> {
    if ends_on <= starts_on {
        return Err(Error::EmptyYear { starts_on, ends_on });
    }
    if starts_on
        .checked_add_months(Months::new(24))
        .is_none_or(|limit| ends_on >= limit)
    {
        return Err(Error::YearTooLong { starts_on, ends_on });
    }
    if ends_on.year() != year {
        return Err(Error::YearMismatch { year, ends_on });
    }
    if let Some(b) = &opening_balances {
        whole_cents("the legal reserve", b.legal_reserve)?;
        whole_cents("the statutory reserves", b.statutory_reserves)?;
        if !b.retained_earnings.is_whole_cents() {
            return Err(Error::SubCentAmount {
                what: "the retained earnings",
                amount: b.retained_earnings.amount(),
            });
        }
    }
    Ok(FinancialYearEvent::YearOpened {
        year,
        starts_on,
        ends_on,
        turbines: company.turbines,
        opening_balances,
    })
}

fn quantity(what: &'static str, value: Decimal, decimals: u32) -> Result<(), Error> {
    if value.is_sign_negative() && !value.is_zero() || value.normalize().scale() > decimals {
        return Err(Error::InvalidQuantity {
            what,
            value,
            decimals,
        });
    }
    Ok(())
}

fn whole_cents(what: &'static str, amount: Euros) -> Result<u64, Error> {
    amount.cents().ok_or(Error::SubCentAmount {
        what,
        amount: amount.amount(),
    })
}

fn signed_cents(what: &'static str, amount: Euros) -> Result<i64, Error> {
    i64::try_from(whole_cents(what, amount)?).map_err(|_| Error::Overflow)
}

fn cents_of(amount: SignedEuros) -> Result<i64, Error> {
    amount.cents().ok_or(Error::Overflow)
}

/// IFER of every turbine in service on 1 January of `tax_year`, at the
/// rated power it had that day (a turbine repowered later in the year pays
/// on its former power; one commissioned later pays from the next year).
fn ifer_lines(
    turbines: &[crate::company::Turbine],
    tax_year: i32,
    rate_per_kw: Euros,
    epci: &Beneficiary,
    epci_single_business_tax: bool,
) -> Result<Vec<IferLine>, Error> {
    let first_january = NaiveDate::from_ymd_opt(tax_year, 1, 1).ok_or(Error::Overflow)?;
    let mut lines = Vec::new();
    for t in turbines.iter().filter(|t| t.in_service_on(first_january)) {
        let amount = rate_per_kw
            .amount()
            .checked_mul(Decimal::from(t.rated_power.get()))
            .map(round_to_cent)
            .and_then(|a| Euros::new(a).ok())
            .ok_or(Error::Overflow)?;
        let split = IferSplit::of(t.commissioned_on, epci_single_business_tax);
        let beneficiaries = [
            Beneficiary::Commune {
                commune: t.commune.clone(),
            },
            epci.clone(),
            Beneficiary::Departement {
                code: t.commune.departement().to_owned(),
            },
        ];
        let weights: Vec<(Beneficiary, u128)> = beneficiaries
            .into_iter()
            .zip(split.percentages())
            .map(|(b, p)| (b, u128::from(p)))
            .collect();
        let cents = amount.cents().ok_or(Error::Overflow)?;
        let shares = largest_remainder(cents, &weights)
            .ok_or(Error::Overflow)?
            .into_iter()
            .map(|(b, c)| (b, Euros::from_cents(c)))
            .collect();
        lines.push(IferLine {
            turbine: t.id.clone(),
            commune: t.commune.clone(),
            rated_power: t.rated_power,
            commissioned_on: t.commissioned_on,
            amount,
            split,
            shares,
        });
    }
    if lines.is_empty() {
        return Err(Error::NoTurbineInService(tax_year));
    }
    Ok(lines)
}

/// Affectation du résultat, in cents.
fn appropriate(
    resolution: AdoptedResolution,
    net_result: SignedEuros,
    opening: Balances,
    share_capital: Euros,
    statutory: Euros,
    dividend: Euros,
) -> Result<FinancialYearEvent, Error> {
    let result = cents_of(net_result)?;
    let retained = cents_of(opening.retained_earnings)?;
    let legal_balance = signed_cents("the legal reserve", opening.legal_reserve)?;
    let statutory_cents = signed_cents("the statutory reserves", statutory)?;
    let dividend_cents = signed_cents("the dividend", dividend)?;
    // Capital may have fractions of a cent (nominal values are free): a
    // tenth of it, rounded up, bounds the reserve.
    let capital = share_capital
        .amount()
        .checked_mul(Decimal::ONE_HUNDRED)
        .map(|c| c.ceil())
        .and_then(|c| i64::try_from(c).ok())
        .ok_or(Error::Overflow)?;

    // Every operation below is checked: the figures come from the request
    // (the result voted, the reserves, the capital), and an overflow is a
    // refusal, never a wrapped number or a panic.
    let overflow = || Error::Overflow;
    // Profit after prior losses: what the reserves are taken from.
    let profit_after_losses = if result > 0 {
        result.checked_add(retained.min(0)).ok_or_else(overflow)?
    } else {
        0
    };
    let ceiling = ceil_div(capital, 10);
    let room = ceiling
        .checked_sub(legal_balance)
        .ok_or_else(overflow)?
        .max(0);
    let legal = if profit_after_losses > 0 {
        // 5 % rounded up to the cent: the profit divided by 20, rounded up
        // (profit x 5 / 100 without the multiplication that could overflow).
        ceil_div(profit_after_losses, 20).min(room)
    } else {
        0
    };
    let available = (profit_after_losses - legal).max(0);
    if statutory_cents > available {
        return Err(Error::StatutoryReservesAboveProfit {
            voted: statutory,
            available: SignedEuros::from_cents(available),
        });
    }
    let distributable = result
        .checked_add(retained)
        .and_then(|d| d.checked_sub(legal.checked_add(statutory_cents)?))
        .ok_or(Error::Overflow)?;
    if dividend_cents > distributable.max(0) {
        return Err(Error::DividendAboveDistributable {
            dividend,
            distributable: SignedEuros::from_cents(distributable),
        });
    }
    let to_euros = |c: i64| {
        u64::try_from(c)
            .map(Euros::from_cents)
            .map_err(|_| Error::Overflow)
    };
    let closing = Balances {
        legal_reserve: to_euros(legal_balance.checked_add(legal).ok_or_else(overflow)?)?,
        statutory_reserves: to_euros(
            signed_cents("the statutory reserves", opening.statutory_reserves)?
                .checked_add(statutory_cents)
                .ok_or_else(overflow)?,
        )?,
        retained_earnings: SignedEuros::from_cents(
            distributable
                .checked_sub(dividend_cents)
                .ok_or_else(overflow)?,
        ),
    };
    Ok(FinancialYearEvent::ResultAppropriated {
        resolution,
        net_result,
        opening,
        share_capital,
        legal_reserve: to_euros(legal)?,
        statutory_reserves: statutory,
        dividend,
        distributable: SignedEuros::from_cents(distributable),
        closing,
    })
}

/// `n / d` rounded up, for `d > 0` (never overflows: the quotient is at
/// most `n`'s magnitude, and the rounding adds one only below it).
fn ceil_div(n: i64, d: i64) -> i64 {
    n.div_euclid(d) + i64::from(n.rem_euclid(d) != 0)
}

fn check_rates(rates: WithholdingRates) -> Result<(), Error> {
    let valid = |r: Decimal| !r.is_sign_negative() && r <= Decimal::ONE_HUNDRED;
    if valid(rates.income_tax)
        && valid(rates.social_contributions)
        && rates.income_tax + rates.social_contributions <= Decimal::ONE_HUNDRED
    {
        Ok(())
    } else {
        Err(Error::InvalidWithholdingRates {
            income_tax: rates.income_tax,
            social_contributions: rates.social_contributions,
        })
    }
}

/// Mise en distribution: the roll, each holder's gross, what is withheld.
fn declare(
    resolution: AdoptedResolution,
    amount: DividendAmount,
    record_date: NaiveDate,
    payment_date: NaiveDate,
    (withholding, statuses): (WithholdingRates, &BTreeMap<HolderId, WithholdingStatus>),
    roll: &CapTableSnapshot,
    appropriated: Euros,
) -> Result<FinancialYearEvent, Error> {
    let rights: DividendRights = roll
        .charter
        .share_classes
        .iter()
        .filter(|c| c.dividend_rights.numerator() > 0)
        .map(|c| (c.id.clone(), c.dividend_rights))
        .collect();
    // Shares x rights, over a common denominator: integer weights. The
    // denominators come from the charter: their common multiple is checked.
    let scale = rights
        .values()
        .try_fold(1u128, |l, r| lcm(l, u128::from(r.denominator())))
        .ok_or(Error::Overflow)?;
    let mut eligible = Vec::new();
    for position in &roll.holders {
        let shares: BTreeMap<_, _> = position
            .shares
            .iter()
            .filter(|(class, n)| rights.contains_key(*class) && !n.is_zero())
            .map(|(c, n)| (c.clone(), *n))
            .collect();
        let weight = shares.iter().try_fold(0u128, |sum, (class, n)| {
            let r = rights.get(class)?;
            let w = u128::from(n.get())
                .checked_mul(u128::from(r.numerator()))?
                .checked_mul(scale / u128::from(r.denominator()))?;
            sum.checked_add(w)
        });
        let weight = weight.ok_or(Error::Overflow)?;
        if weight > 0 {
            eligible.push((position, shares, weight));
        }
    }
    if eligible.is_empty() {
        return Err(Error::NoEligibleHolder(record_date));
    }
    for holder in statuses.keys() {
        match eligible.iter().find(|e| e.0.holder == *holder) {
            None => return Err(Error::WithholdingStatusOffRoll(holder.clone())),
            Some(e) => status_fits(holder, e.0.kind, statuses.get(holder).copied())?,
        }
    }
    // Holders in id order: the tie-break of the largest remainder.
    eligible.sort_by(|a, b| a.0.holder.cmp(&b.0.holder));

    let gross: Vec<u64> = match amount {
        DividendAmount::Total { amount: total } => {
            let cents = whole_cents("the dividend", total)?;
            let weights: Vec<(usize, u128)> =
                eligible.iter().enumerate().map(|(i, e)| (i, e.2)).collect();
            largest_remainder(cents, &weights)
                .ok_or(Error::Overflow)?
                .into_iter()
                .map(|(_, c)| c)
                .collect()
        }
        DividendAmount::PerShare { amount: per_share } => {
            // per_share = m / 10^s euros; gross = floor(m x 100 x weight /
            // (10^s x scale)) cents.
            let d = per_share.amount().normalize();
            let mantissa = u128::try_from(d.mantissa()).map_err(|_| Error::Overflow)?;
            let denominator = 10u128
                .checked_pow(d.scale())
                .and_then(|p| p.checked_mul(scale))
                .ok_or(Error::Overflow)?;
            eligible
                .iter()
                .map(|e| {
                    mantissa
                        .checked_mul(100)
                        .and_then(|m| m.checked_mul(e.2))
                        .map(|n| n / denominator)
                        .and_then(|c| u64::try_from(c).ok())
                        .ok_or(Error::Overflow)
                })
                .collect::<Result<_, _>>()?
        }
    };
    let total = gross
        .iter()
        .try_fold(0u64, |s, g| s.checked_add(*g))
        .ok_or(Error::Overflow)?;
    let appropriated_cents = appropriated.cents().ok_or(Error::Overflow)?;
    if total > appropriated_cents {
        return Err(Error::DividendAboveAppropriated {
            declared: Euros::from_cents(total),
            appropriated,
        });
    }
    let allocations = eligible
        .into_iter()
        .zip(gross)
        .map(|((position, shares, _), gross)| {
            let status = statuses.get(&position.holder).copied();
            let (income_tax, social, net) =
                withheld(gross, position.kind, status, withholding).ok_or(Error::Overflow)?;
            Ok(Allocation {
                holder: position.holder.clone(),
                kind: position.kind,
                commune: position.commune.clone(),
                shares,
                gross: Euros::from_cents(gross),
                income_tax: Euros::from_cents(income_tax),
                social_contributions: Euros::from_cents(social),
                net: Euros::from_cents(net),
                status,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(FinancialYearEvent::DividendDeclared {
        resolution,
        amount,
        record_date,
        payment_date,
        dividend_rights: rights,
        withholding,
        allocations,
        total: Euros::from_cents(total),
        undistributed: Euros::from_cents(appropriated_cents - total),
    })
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `None` when the least common multiple does not fit 128 bits.
fn lcm(a: u128, b: u128) -> Option<u128> {
    if a == 0 || b == 0 {
        return Some(a.max(b));
    }
    (a / gcd(a, b)).checked_mul(b)
}

/// Whether a holder of `kind` may carry `status`: exempt and non-resident
/// are an individual's, members withheld an investment club's.
fn status_fits(
    holder: &HolderId,
    kind: HolderKind,
    status: Option<WithholdingStatus>,
) -> Result<(), Error> {
    match (kind, status) {
        (HolderKind::InvestmentClub, Some(WithholdingStatus::MembersWithheld))
        | (
            HolderKind::Individual,
            Some(WithholdingStatus::Exempt | WithholdingStatus::NonResident),
        )
        | (_, None) => Ok(()),
        (HolderKind::InvestmentClub, _) | (HolderKind::Individual, _) => {
            Err(Error::WithholdingStatusMisfit(holder.clone()))
        }
        _ => Err(Error::WithholdingStatusOfNonIndividual(holder.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cap_table::HolderPosition;
    use crate::charter::{Charter, College, ShareClass, VoteBasis};
    use crate::ratio::Ratio;
    use crate::types::{CollegeId, CommuneCode, DecisionKindId, ShareClassId, ShareCount};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("a date")
    }

    fn resolution() -> AdoptedResolution {
        AdoptedResolution {
            id: ResolutionId::new("ago-2025.2").expect("an id"),
            decision_kind: DecisionKindId::new("ordinary").expect("a kind"),
            purpose: ResolutionPurpose::ResultAppropriation { year: 2024 },
            adopted_on: day(2025, 6, 1),
        }
    }

    fn euros(cents: u64) -> Euros {
        Euros::from_cents(cents)
    }

    #[test]
    fn the_common_denominator_of_dividend_rights_is_checked() {
        assert_eq!(lcm(4, 6), Some(12));
        assert_eq!(lcm(1, 5), Some(5));
        // Three primes near 2^64: their product does not fit 128 bits.
        let p = [
            18_446_744_073_709_551_557u128,
            18_446_744_073_709_551_533,
            18_446_744_073_709_551_521,
        ];
        assert!(lcm(p[0], p[1]).is_some());
        assert_eq!(lcm(p[0], p[1]).and_then(|l| lcm(l, p[2])), None);
    }

    /// Classes whose dividend rights have denominators with no common
    /// multiple in 128 bits: the declaration is refused, not a panic.
    #[test]
    fn a_dividend_over_rights_without_a_common_denominator_is_refused() {
        let primes = [
            18_446_744_073_709_551_557u64,
            18_446_744_073_709_551_533,
            18_446_744_073_709_551_521,
        ];
        let class = |i: usize| ShareClass {
            id: ShareClassId::new(format!("c{i}")).expect("a class id"),
            name: format!("c{i}"),
            nominal_value: euros(10_000),
            votes_per_share: 1,
            dividend_rights: Ratio::new(1, primes[i]).expect("a ratio"),
            authorised: ShareCount::new(1_000).expect("a count"),
        };
        let college = CollegeId::new("associes").expect("a college");
        let charter = Charter::with_french_defaults(
            vec![College {
                id: college.clone(),
                name: "Associés".to_owned(),
                weight: None,
                vote_basis: VoteBasis::PerShare,
                clubs: crate::charter::ClubVotes::Once,
            }],
            (0..3).map(class).collect(),
        );
        let roll = CapTableSnapshot {
            as_of: day(2025, 6, 10),
            charter,
            share_capital: euros(3_000_000),
            turbines: vec![],
            holders: vec![HolderPosition {
                holder: HolderId::new("h1").expect("a holder"),
                kind: HolderKind::Individual,
                college,
                commune: CommuneCode::new("42026").expect("a commune"),
                shares: (0..3)
                    .map(|i| {
                        (
                            ShareClassId::new(format!("c{i}")).expect("a class id"),
                            ShareCount::new(100).expect("a count"),
                        )
                    })
                    .collect(),
                members: None,
            }],
        };
        let declared = declare(
            resolution(),
            DividendAmount::Total {
                amount: euros(100_000),
            },
            day(2025, 6, 10),
            day(2025, 7, 1),
            (WithholdingRates::default(), &BTreeMap::new()),
            &roll,
            euros(100_000),
        );
        assert_eq!(declared, Err(Error::Overflow));
    }

    /// A result so large that 5 % of it overflowed a multiplication: the
    /// legal reserve is computed without it, capped by a tenth of the
    /// capital.
    #[test]
    fn the_legal_reserve_of_a_huge_result_is_computed_without_overflow() {
        // 5 x 10^16 euros: 5 x 10^18 cents, times 5 is above 2^63.
        let result = SignedEuros::from_cents(5_000_000_000_000_000_000);
        let appropriated = appropriate(
            resolution(),
            result,
            Balances::default(),
            euros(100_000_000), // 1,000,000 euros of capital
            Euros::ZERO,
            Euros::ZERO,
        );
        match appropriated {
            Ok(FinancialYearEvent::ResultAppropriated {
                legal_reserve,
                distributable,
                ..
            }) => {
                // A tenth of the capital: 100,000 euros.
                assert_eq!(legal_reserve, euros(10_000_000));
                assert_eq!(
                    distributable,
                    SignedEuros::from_cents(5_000_000_000_000_000_000 - 10_000_000)
                );
            }
            other => panic!("expected an appropriation, got {other:?}"),
        }
        // Statutory reserves whose new balance does not fit 64-bit cents:
        // refused, not wrapped.
        let opening = Balances {
            statutory_reserves: euros(9_000_000_000_000_000_000),
            ..Balances::default()
        };
        let appropriated = appropriate(
            resolution(),
            result,
            opening,
            euros(100_000_000),
            euros(300_000_000_000_000_000),
            Euros::ZERO,
        );
        assert_eq!(appropriated.err(), Some(Error::Overflow));
    }
}
