//! Avances en compte courant d'associé: money a shareholder lends the
//! company, each advance a stream of its own (`current-account-advance/<id>`),
//! with interest accrued per calendar year.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use cqrs_es::DomainEvent;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::types::{WithholdingRates, WithholdingStatus, withheld};
use crate::aggregate::aggregate;
use crate::cap_table::CapTableServices;
use crate::clock::{Clock, not_after};
use crate::company::HolderKind;
use crate::money::{Euros, round_to_cent};
use crate::resolution::LookupError;
use crate::types::{AdvanceId, HolderId};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdvanceCommand {
    Grant {
        advance: AdvanceId,
        holder: HolderId,
        amount: Euros,
        /// Per cent a year, e.g. 3.5.
        #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
        annual_rate: Decimal,
        granted_on: NaiveDate,
    },
    Repay {
        amount: Euros,
        repaid_on: NaiveDate,
    },
    /// Interest of a calendar year, at the agreed rate capped by
    /// `rate_ceiling` (per cent; e.g. the year's legal ceiling on deductible
    /// interest), once the year has ended.
    AccrueInterest {
        year: i32,
        #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
        rate_ceiling: Decimal,
        accrued_on: NaiveDate,
        /// The rates withheld from the interest when paid to an individual
        /// resident in France (12.8 % and 17.2 % by default). Through the
        /// API and the pages the server fills it in; left out (an import
        /// of a ledger kept before the withholding was), nothing is
        /// withheld.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        withholding: Option<WithholdingRates>,
        /// The lender's status when not withheld as a French resident
        /// (exempt, non-resident), as of the accrual date: the server's to
        /// fill in from the identity vault.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        withholding_status: Option<WithholdingStatus>,
    },
    /// What is withheld from a non-resident's interest of `year`, as the
    /// operator decided it (the tax treaty's rate): the interest is paid
    /// net of it.
    DecideWithholding {
        year: i32,
        income_tax: Euros,
        social_contributions: Euros,
    },
    /// The net interest of `year`, paid to the lender.
    PayInterest {
        year: i32,
        paid_on: NaiveDate,
    },
}

impl AdvanceCommand {
    /// The date the command records a fact on; `None` for a decision,
    /// which records no dated fact.
    pub fn date(&self) -> Option<NaiveDate> {
        match self {
            Self::Grant { granted_on, .. } => Some(*granted_on),
            Self::Repay { repaid_on, .. } => Some(*repaid_on),
            Self::AccrueInterest { accrued_on, .. } => Some(*accrued_on),
            Self::PayInterest { paid_on, .. } => Some(*paid_on),
            Self::DecideWithholding { .. } => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdvanceEvent {
    AdvanceGranted {
        advance: AdvanceId,
        holder: HolderId,
        amount: Euros,
        annual_rate: Decimal,
        granted_on: NaiveDate,
    },
    AdvanceRepaid {
        amount: Euros,
        repaid_on: NaiveDate,
        /// Principal still owed after this repayment.
        outstanding: Euros,
    },
    InterestAccrued {
        year: i32,
        rate_applied: Decimal,
        rate_ceiling: Decimal,
        days_in_year: u32,
        periods: Vec<InterestPeriod>,
        /// Sum over the periods of principal x rate x days / days in the
        /// year, rounded once to the cent (half away from zero).
        interest: Euros,
        accrued_on: NaiveDate,
        /// What is withheld when the interest is paid; absent from an
        /// accrual recorded without rates (nothing withheld).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        withholding: Option<InterestWithholding>,
    },
    /// A non-resident's withholding, as the operator decided it.
    WithholdingDecided {
        year: i32,
        income_tax: Euros,
        social_contributions: Euros,
        /// The interest paid: the gross minus what is withheld.
        net: Euros,
    },
    InterestPaid {
        year: i32,
        /// The net paid.
        amount: Euros,
        paid_on: NaiveDate,
    },
}

/// What is withheld from a year's interest, decided with its accrual from
/// the lender's kind and status (see [`crate::finance::withheld`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestWithholding {
    pub rates: WithholdingRates,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WithholdingStatus>,
    pub income_tax: Euros,
    pub social_contributions: Euros,
    /// Gross minus what is withheld.
    pub net: Euros,
}

/// Days of a year during which the principal was constant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestPeriod {
    pub from: NaiveDate,
    /// Inclusive.
    pub to: NaiveDate,
    pub principal: Euros,
    pub days: u32,
}

/// The command an event is the outcome of (see the company's): a grant or
/// a repayment as asked (the principal left is the aggregate's), an accrual
/// with its year, ceiling and date (the rate applied, the periods and the
/// interest are the aggregate's).
impl From<&AdvanceEvent> for AdvanceCommand {
    fn from(event: &AdvanceEvent) -> Self {
        match event {
            AdvanceEvent::AdvanceGranted {
                advance,
                holder,
                amount,
                annual_rate,
                granted_on,
            } => Self::Grant {
                advance: advance.clone(),
                holder: holder.clone(),
                amount: *amount,
                annual_rate: *annual_rate,
                granted_on: *granted_on,
            },
            AdvanceEvent::AdvanceRepaid {
                amount, repaid_on, ..
            } => Self::Repay {
                amount: *amount,
                repaid_on: *repaid_on,
            },
            AdvanceEvent::InterestAccrued {
                year,
                rate_ceiling,
                accrued_on,
                withholding,
                ..
            } => Self::AccrueInterest {
                year: *year,
                rate_ceiling: *rate_ceiling,
                accrued_on: *accrued_on,
                withholding: withholding.as_ref().map(|w| w.rates),
                withholding_status: withholding.as_ref().and_then(|w| w.status),
            },
            AdvanceEvent::WithholdingDecided {
                year,
                income_tax,
                social_contributions,
                ..
            } => Self::DecideWithholding {
                year: *year,
                income_tax: *income_tax,
                social_contributions: *social_contributions,
            },
            AdvanceEvent::InterestPaid { year, paid_on, .. } => Self::PayInterest {
                year: *year,
                paid_on: *paid_on,
            },
        }
    }
}

impl DomainEvent for AdvanceEvent {
    fn event_type(&self) -> String {
        match self {
            Self::AdvanceGranted { .. } => "AdvanceGranted",
            Self::AdvanceRepaid { .. } => "AdvanceRepaid",
            Self::InterestAccrued { .. } => "InterestAccrued",
            Self::WithholdingDecided { .. } => "InterestWithholdingDecided",
            Self::InterestPaid { .. } => "InterestPaid",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        "1".to_owned()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error, strum::IntoStaticStr)]
pub enum AdvanceError {
    #[error("{date} is in the future (today is {today}): record a movement once it has happened")]
    InTheFuture { date: NaiveDate, today: NaiveDate },
    #[error("the advance is already granted")]
    AlreadyGranted,
    #[error("the advance is not granted yet")]
    NotGranted,
    #[error("{0} held no share on {1}: only shareholders lend on current account")]
    NotAShareholder(HolderId, NaiveDate),
    #[error("{what} is {amount}: amounts are kept to the cent and must be above zero")]
    InvalidAmount { what: &'static str, amount: Euros },
    #[error("a rate of {0} % is not between 0 and 100")]
    InvalidRate(Decimal),
    #[error(
        "{date} is before {latest}, the latest date already recorded: record facts in date order"
    )]
    DateTooEarly { date: NaiveDate, latest: NaiveDate },
    #[error("a repayment of {amount} is above the {outstanding} still owed")]
    RepaymentAboveOutstanding { amount: Euros, outstanding: Euros },
    #[error("interest of {0} is already accrued")]
    AlreadyAccrued(i32),
    #[error("the advance was granted on {granted_on}, after the year {year}")]
    YearBeforeGrant { year: i32, granted_on: NaiveDate },
    #[error("interest of {year} can be accrued from 1 January {next}, not on {accrued_on}", next = i64::from(*year) + 1)]
    YearNotEnded { year: i32, accrued_on: NaiveDate },
    #[error("an amount overflowed: check the figures")]
    Overflow,
    #[error("no interest of {0} is accrued: accrue it before it is paid or withheld")]
    InterestNotAccrued(i32),
    #[error("the interest of {0} is already paid")]
    InterestAlreadyPaid(i32),
    #[error("the interest of {0} is nothing to pay: its net is zero")]
    NoInterestToPay(i32),
    #[error(
        "the lender is taxed outside France: record what is withheld from the interest of {0} (decide_withholding) before it is paid"
    )]
    InterestWithholdingUndecided(i32),
    #[error(
        "the interest of {0} is not a non-resident's: only a non-resident's withholding is decided"
    )]
    InterestNotNonResident(i32),
    #[error("what is withheld from the interest of {0} is already decided")]
    InterestWithholdingAlreadyDecided(i32),
    #[error("{withheld} withheld from the interest of {year} is above its gross of {gross}")]
    InterestWithheldAboveGross {
        year: i32,
        withheld: Euros,
        gross: Euros,
    },
    #[error("a withholding status is given without rates: give the rates (withholding) with it")]
    StatusWithoutRates,
    #[error(
        "the lender's withholding status does not fit its kind: exempt and non-resident are an individual's, members_withheld an investment club's"
    )]
    WithholdingStatusMisfit,
    #[error(transparent)]
    Lookup(#[from] LookupError),
}

/// What the advance needs from outside its stream: the register, to check
/// that the lender is a shareholder.
pub type AdvanceServices = CapTableServices;

/// One current-account advance.
///
/// Rules chosen where the issue is silent: the lender holds shares on the
/// day of the advance; dates never go back; interest runs from the day the
/// money is lent to the day before it is repaid, actual days over the days
/// of the calendar year (365 or 366), at the agreed rate or the ceiling
/// given for that year, whichever is lower, rounded once per year; each
/// year is accrued once, after it ended, and is not capitalised.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentAccountAdvance {
    granted: Option<Granted>,
    /// (date, principal from that date), in date order.
    principal: Vec<(NaiveDate, u64)>,
    /// Interest accrued, by year.
    accrued: BTreeMap<i32, Accrued>,
    latest: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Accrued {
    gross: Euros,
    withholding: Option<InterestWithholding>,
    /// A non-resident's net, once decided.
    decided: Option<Euros>,
    paid: bool,
}

impl Accrued {
    /// The net to pay: the gross less what is withheld; `None` while a
    /// non-resident's withholding is undecided.
    fn net(&self) -> Option<Euros> {
        match &self.withholding {
            None => Some(self.gross),
            Some(w) if w.status == Some(WithholdingStatus::NonResident) => self.decided,
            Some(w) => Some(w.net),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Granted {
    holder: HolderId,
    annual_rate: Decimal,
    granted_on: NaiveDate,
}

aggregate!(
    CurrentAccountAdvance: "current-account-advance",
    AdvanceCommand => AdvanceEvent, AdvanceError, AdvanceServices
);

impl CurrentAccountAdvance {
    fn check_clock(command: &AdvanceCommand, clock: &dyn Clock) -> Result<(), AdvanceError> {
        match command.date() {
            Some(date) => not_after(date, clock.today(), |date, today| {
                AdvanceError::InTheFuture { date, today }
            }),
            None => Ok(()),
        }
    }

    async fn decision(
        &self,
        command: AdvanceCommand,
        services: &AdvanceServices,
    ) -> Result<AdvanceEvent, AdvanceError> {
        if let AdvanceCommand::Grant {
            holder, granted_on, ..
        } = &command
        {
            if self.granted.is_some() {
                return Err(AdvanceError::AlreadyGranted);
            }
            let table = services.cap_tables.cap_table(*granted_on).await?;
            if !table.holders.iter().any(|p| &p.holder == holder) {
                return Err(AdvanceError::NotAShareholder(holder.clone(), *granted_on));
            }
        }
        // The lender's kind (fixed at registration) decides the
        // withholding: read on the day of the advance, when they held
        // shares.
        let mut kind = HolderKind::Individual;
        if let (
            AdvanceCommand::AccrueInterest {
                withholding: Some(_),
                ..
            },
            Some(granted),
        ) = (&command, &self.granted)
        {
            let table = services.cap_tables.cap_table(granted.granted_on).await?;
            if let Some(p) = table.holders.iter().find(|p| p.holder == granted.holder) {
                kind = p.kind;
            }
        }
        self.decide(command, kind)
    }

    fn evolve(&mut self, event: AdvanceEvent) {
        match event {
            AdvanceEvent::AdvanceGranted {
                holder,
                amount,
                annual_rate,
                granted_on,
                ..
            } => {
                self.granted = Some(Granted {
                    holder,
                    annual_rate,
                    granted_on,
                });
                self.principal
                    .push((granted_on, amount.cents().unwrap_or_default()));
                self.latest = Some(granted_on);
            }
            AdvanceEvent::AdvanceRepaid {
                repaid_on,
                outstanding,
                ..
            } => {
                self.principal
                    .push((repaid_on, outstanding.cents().unwrap_or_default()));
                self.latest = self.latest.max(Some(repaid_on));
            }
            AdvanceEvent::InterestAccrued {
                year,
                accrued_on,
                interest,
                withholding,
                ..
            } => {
                self.accrued.insert(
                    year,
                    Accrued {
                        gross: interest,
                        withholding,
                        decided: None,
                        paid: false,
                    },
                );
                self.latest = self.latest.max(Some(accrued_on));
            }
            AdvanceEvent::WithholdingDecided { year, net, .. } => {
                if let Some(a) = self.accrued.get_mut(&year) {
                    a.decided = Some(net);
                }
            }
            AdvanceEvent::InterestPaid { year, paid_on, .. } => {
                if let Some(a) = self.accrued.get_mut(&year) {
                    a.paid = true;
                }
                self.latest = self.latest.max(Some(paid_on));
            }
        }
    }
}

impl CurrentAccountAdvance {
    pub fn holder(&self) -> Option<&HolderId> {
        self.granted.as_ref().map(|g| &g.holder)
    }

    /// Principal still owed.
    pub fn outstanding(&self) -> Euros {
        Euros::from_cents(self.principal.last().map_or(0, |p| p.1))
    }

    fn check_date(&self, date: NaiveDate) -> Result<(), AdvanceError> {
        match self.latest {
            Some(latest) if date < latest => Err(AdvanceError::DateTooEarly { date, latest }),
            _ => Ok(()),
        }
    }

    fn decide(
        &self,
        command: AdvanceCommand,
        kind: HolderKind,
    ) -> Result<AdvanceEvent, AdvanceError> {
        match command {
            AdvanceCommand::Grant {
                advance,
                holder,
                amount,
                annual_rate,
                granted_on,
            } => {
                if self.granted.is_some() {
                    return Err(AdvanceError::AlreadyGranted);
                }
                positive_cents("the advance", amount)?;
                rate(annual_rate)?;
                Ok(AdvanceEvent::AdvanceGranted {
                    advance,
                    holder,
                    amount,
                    annual_rate,
                    granted_on,
                })
            }
            AdvanceCommand::Repay { amount, repaid_on } => {
                self.granted.as_ref().ok_or(AdvanceError::NotGranted)?;
                self.check_date(repaid_on)?;
                let cents = positive_cents("the repayment", amount)?;
                let outstanding = self.outstanding();
                let left = outstanding
                    .cents()
                    .and_then(|o| o.checked_sub(cents))
                    .ok_or(AdvanceError::RepaymentAboveOutstanding {
                        amount,
                        outstanding,
                    })?;
                Ok(AdvanceEvent::AdvanceRepaid {
                    amount,
                    repaid_on,
                    outstanding: Euros::from_cents(left),
                })
            }
            AdvanceCommand::AccrueInterest {
                year,
                rate_ceiling,
                accrued_on,
                withholding,
                withholding_status,
            } => {
                let granted = self.granted.as_ref().ok_or(AdvanceError::NotGranted)?;
                rate(rate_ceiling)?;
                if withholding.is_none() && withholding_status.is_some() {
                    return Err(AdvanceError::StatusWithoutRates);
                }
                if let Some(w) = &withholding {
                    rate(w.income_tax)?;
                    rate(w.social_contributions)?;
                }
                let fits = match withholding_status {
                    None => true,
                    Some(WithholdingStatus::MembersWithheld) => kind == HolderKind::InvestmentClub,
                    Some(_) => kind == HolderKind::Individual,
                };
                if !fits {
                    return Err(AdvanceError::WithholdingStatusMisfit);
                }
                if self.accrued.contains_key(&year) {
                    return Err(AdvanceError::AlreadyAccrued(year));
                }
                if year < granted.granted_on.year() {
                    return Err(AdvanceError::YearBeforeGrant {
                        year,
                        granted_on: granted.granted_on,
                    });
                }
                let (start, next) =
                    year_bounds(year).ok_or(AdvanceError::YearNotEnded { year, accrued_on })?;
                if accrued_on < next {
                    return Err(AdvanceError::YearNotEnded { year, accrued_on });
                }
                self.check_date(accrued_on)?;
                let rate_applied = granted.annual_rate.min(rate_ceiling);
                let days_in_year = u32::try_from((next - start).num_days()).unwrap_or(365);
                let periods = self.periods(start, next);
                // Principal (64-bit cents) x rate (at most 100) x days (at
                // most 366) fits a decimal many times over; checked anyway,
                // so that no figure can make this panic.
                let sum = periods.iter().try_fold(Decimal::ZERO, |sum, p| {
                    p.principal
                        .amount()
                        .checked_mul(rate_applied)?
                        .checked_mul(Decimal::from(p.days))
                        .and_then(|v| sum.checked_add(v))
                });
                let interest = sum
                    .map(|s| round_to_cent(s / Decimal::ONE_HUNDRED / Decimal::from(days_in_year)))
                    .and_then(|i| Euros::new(i).ok())
                    .ok_or(AdvanceError::Overflow)?;
                let withholding = match withholding {
                    None => None,
                    Some(rates) => {
                        let gross = interest.cents().ok_or(AdvanceError::Overflow)?;
                        let (income_tax, social, net) =
                            withheld(gross, kind, withholding_status, rates)
                                .ok_or(AdvanceError::Overflow)?;
                        Some(InterestWithholding {
                            rates,
                            status: withholding_status,
                            income_tax: Euros::from_cents(income_tax),
                            social_contributions: Euros::from_cents(social),
                            net: Euros::from_cents(net),
                        })
                    }
                };
                Ok(AdvanceEvent::InterestAccrued {
                    year,
                    rate_applied,
                    rate_ceiling,
                    days_in_year,
                    periods,
                    interest,
                    accrued_on,
                    withholding,
                })
            }
            AdvanceCommand::DecideWithholding {
                year,
                income_tax,
                social_contributions,
            } => {
                self.granted.as_ref().ok_or(AdvanceError::NotGranted)?;
                let accrued = self
                    .accrued
                    .get(&year)
                    .ok_or(AdvanceError::InterestNotAccrued(year))?;
                let non_resident = accrued
                    .withholding
                    .as_ref()
                    .is_some_and(|w| w.status == Some(WithholdingStatus::NonResident));
                if !non_resident {
                    return Err(AdvanceError::InterestNotNonResident(year));
                }
                if accrued.paid {
                    return Err(AdvanceError::InterestAlreadyPaid(year));
                }
                if accrued.decided.is_some() {
                    return Err(AdvanceError::InterestWithholdingAlreadyDecided(year));
                }
                let (Some(gross), Some(tax), Some(social)) = (
                    accrued.gross.cents(),
                    income_tax.cents(),
                    social_contributions.cents(),
                ) else {
                    return Err(AdvanceError::Overflow);
                };
                let withheld = tax.checked_add(social).ok_or(AdvanceError::Overflow)?;
                let net = gross.checked_sub(withheld).ok_or(
                    AdvanceError::InterestWithheldAboveGross {
                        year,
                        withheld: Euros::from_cents(withheld),
                        gross: accrued.gross,
                    },
                )?;
                Ok(AdvanceEvent::WithholdingDecided {
                    year,
                    income_tax,
                    social_contributions,
                    net: Euros::from_cents(net),
                })
            }
            AdvanceCommand::PayInterest { year, paid_on } => {
                self.granted.as_ref().ok_or(AdvanceError::NotGranted)?;
                let accrued = self
                    .accrued
                    .get(&year)
                    .ok_or(AdvanceError::InterestNotAccrued(year))?;
                if accrued.paid {
                    return Err(AdvanceError::InterestAlreadyPaid(year));
                }
                let amount = accrued
                    .net()
                    .ok_or(AdvanceError::InterestWithholdingUndecided(year))?;
                if amount == Euros::ZERO {
                    return Err(AdvanceError::NoInterestToPay(year));
                }
                self.check_date(paid_on)?;
                Ok(AdvanceEvent::InterestPaid {
                    year,
                    amount,
                    paid_on,
                })
            }
        }
    }

    /// The principal's constant stretches within [start, next).
    fn periods(&self, start: NaiveDate, next: NaiveDate) -> Vec<InterestPeriod> {
        let mut periods = Vec::new();
        for (i, &(from, principal)) in self.principal.iter().enumerate() {
            let until = self.principal.get(i + 1).map_or(next, |p| p.0).min(next);
            let from = from.max(start);
            if until <= from || principal == 0 {
                continue;
            }
            let days = u32::try_from((until - from).num_days()).unwrap_or(0);
            periods.push(InterestPeriod {
                from,
                to: until.pred_opt().unwrap_or(until),
                principal: Euros::from_cents(principal),
                days,
            });
        }
        periods
    }
}

fn year_bounds(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((
        NaiveDate::from_ymd_opt(year, 1, 1)?,
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?,
    ))
}

fn positive_cents(what: &'static str, amount: Euros) -> Result<u64, AdvanceError> {
    match amount.cents() {
        Some(c) if c > 0 => Ok(c),
        _ => Err(AdvanceError::InvalidAmount { what, amount }),
    }
}

fn rate(r: Decimal) -> Result<(), AdvanceError> {
    if r.is_sign_negative() || r > Decimal::ONE_HUNDRED {
        Err(AdvanceError::InvalidRate(r))
    } else {
        Ok(())
    }
}

impl crate::Rule for AdvanceError {
    fn rule(&self) -> &'static str {
        self.into()
    }
}
