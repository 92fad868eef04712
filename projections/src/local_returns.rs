//! Local economic returns of a year: what the farm paid to its territory,
//! by beneficiary and kind, against what left it.
//!
//! Counting rules:
//! - Taxes (IFER shares, CFE, property tax) go to the commune, EPCI or
//!   département named, all local. Land rents go to the landowner, local if
//!   their commune is in the territory; community-fund payments are local.
//!   Other costs count only when they name a local beneficiary.
//! - The dividend of a financial year (declared after its close) counts
//!   gross, by holder: local authorities, communes, EPCIs and SEMs as
//!   holders are the public side; other holders are local when their
//!   commune of residence (on the record date) is in the territory;
//!   outside it, companies (the industrial partner among them) and funds
//!   are counted apart from the other holders. No company is called the
//!   industrial partner: its kind does not say so.
//! - Current-account interest of the calendar year counts like dividends,
//!   by the holder's registration at the end of that year.
//! - The local share is what stayed local over the year's revenue in force.
//!
//! Every sum is checked: a figure recorded before the input bounds makes
//! the year's returns a [`SumOverflow`], never a panic.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use windledger_domain::company::HolderKind;
use windledger_domain::finance::{Beneficiary, CostCategory, LocalTax};
use windledger_domain::money::{Euros, SignedEuros};
use windledger_domain::types::{CommuneCode, HolderId, PartyId, Siren};

use crate::finance::{ReportBody, SumOverflow, add};
use crate::runner::Projections;

/// Who in the territory received money.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "beneficiary", rename_all = "snake_case")]
pub enum LocalBeneficiary {
    Commune {
        commune: CommuneCode,
    },
    Epci {
        siren: Siren,
    },
    Departement {
        code: String,
    },
    Landowner {
        party: PartyId,
        commune: CommuneCode,
    },
    CommunityFund,
    /// Holders living in the territory (individuals, associations, clubs,
    /// cooperatives, local companies), together.
    LocalHolders,
    /// Local authorities, communes, EPCIs and SEMs as shareholders,
    /// together.
    PublicHolders,
}

/// Who outside the territory received money.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "party", rename_all = "snake_case")]
pub enum Leaving {
    /// Individuals, associations, clubs and cooperatives outside the
    /// territory.
    NonLocalHolders,
    /// Companies outside the territory (the industrial partner is one).
    NonLocalCompanies,
    /// Investment funds outside the territory (citizen funds included).
    NonLocalFunds,
    NonLocalLandowners,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReturnKind {
    Ifer,
    Cfe,
    PropertyTax,
    LandRent,
    CommunityFund,
    OtherPayments,
    Dividends,
    CurrentAccountInterest,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(rename = "{P}Line")
)]
pub struct Line<P> {
    pub party: P,
    pub amounts: BTreeMap<ReturnKind, Euros>,
    pub total: Euros,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct LocalReturns {
    pub year: i32,
    pub local: Vec<Line<LocalBeneficiary>>,
    pub local_total: Euros,
    pub leaving: Vec<Line<Leaving>>,
    pub leaving_total: Euros,
    pub revenue: SignedEuros,
    /// Local total over revenue, per cent, 2 decimals; `None` without
    /// revenue.
    #[cfg_attr(feature = "json-schema", schemars(with = "Option<String>", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
    pub local_share_pct: Option<Decimal>,
}

enum Party {
    Local(LocalBeneficiary),
    Away(Leaving),
}

/// Where a holder's dividends and interest count: the public side for a
/// public body wherever it sits, the local holders for anyone else in the
/// territory, and outside it companies, funds and the other holders
/// apart.
fn holder_party(kind: HolderKind, in_territory: bool) -> Party {
    match kind {
        HolderKind::LocalAuthority | HolderKind::Commune | HolderKind::Epci | HolderKind::Sem => {
            Party::Local(LocalBeneficiary::PublicHolders)
        }
        _ if in_territory => Party::Local(LocalBeneficiary::LocalHolders),
        HolderKind::Company => Party::Away(Leaving::NonLocalCompanies),
        HolderKind::Fund => Party::Away(Leaving::NonLocalFunds),
        HolderKind::Individual
        | HolderKind::Association
        | HolderKind::InvestmentClub
        | HolderKind::Cooperative => Party::Away(Leaving::NonLocalHolders),
    }
}

/// The local returns of financial year `year`; `None` if it was never
/// opened.
pub fn local_returns(
    projections: &Projections,
    year: i32,
) -> Result<Option<LocalReturns>, SumOverflow> {
    let cap_table = projections.cap_table.fold();
    let finance = projections.finance.fold();
    let Some(record) = finance.year(year) else {
        return Ok(None);
    };
    let territory = cap_table
        .incorporation()
        .map(|i| i.territory.clone())
        .unwrap_or_default();
    let local_commune = |c: &CommuneCode| territory.contains(c);

    let mut local: BTreeMap<LocalBeneficiary, BTreeMap<ReturnKind, Decimal>> = BTreeMap::new();
    let mut leaving: BTreeMap<Leaving, BTreeMap<ReturnKind, Decimal>> = BTreeMap::new();
    let mut count = |party: Party, kind: ReturnKind, amount: Euros, what: &dyn Fn() -> String| {
        let sums = match party {
            Party::Local(b) => local.entry(b).or_default(),
            Party::Away(l) => leaving.entry(l).or_default(),
        };
        add(sums.entry(kind).or_default(), amount.amount(), year, what)
    };
    let of_beneficiary = |b: &Beneficiary| match b {
        Beneficiary::Commune { commune } => Party::Local(LocalBeneficiary::Commune {
            commune: commune.clone(),
        }),
        Beneficiary::Epci { siren } => Party::Local(LocalBeneficiary::Epci {
            siren: siren.clone(),
        }),
        Beneficiary::Departement { code } => {
            Party::Local(LocalBeneficiary::Departement { code: code.clone() })
        }
        Beneficiary::Landowner { party, commune } if local_commune(commune) => {
            Party::Local(LocalBeneficiary::Landowner {
                party: party.clone(),
                commune: commune.clone(),
            })
        }
        Beneficiary::Landowner { .. } => Party::Away(Leaving::NonLocalLandowners),
        Beneficiary::CommunityFund => Party::Local(LocalBeneficiary::CommunityFund),
    };
    let of_holder = |kind: HolderKind, commune: Option<&CommuneCode>| {
        holder_party(kind, commune.is_some_and(local_commune))
    };

    for report in record.in_force() {
        let what = || format!("report {}", report.id);
        match &report.body {
            ReportBody::Ifer { lines, .. } => {
                for line in lines {
                    for (beneficiary, amount) in &line.shares {
                        count(
                            of_beneficiary(beneficiary),
                            ReturnKind::Ifer,
                            *amount,
                            &what,
                        )?;
                    }
                }
            }
            ReportBody::LocalTax {
                tax,
                beneficiary,
                amount,
            } => {
                let kind = match tax {
                    LocalTax::Cfe => ReturnKind::Cfe,
                    LocalTax::PropertyTax => ReturnKind::PropertyTax,
                };
                count(of_beneficiary(beneficiary), kind, *amount, &what)?;
            }
            ReportBody::Cost {
                category,
                amount,
                beneficiary: Some(beneficiary),
                ..
            } => {
                let kind = match category {
                    CostCategory::LandRent => ReturnKind::LandRent,
                    CostCategory::CommunityFund => ReturnKind::CommunityFund,
                    _ => ReturnKind::OtherPayments,
                };
                count(of_beneficiary(beneficiary), kind, *amount, &what)?;
            }
            _ => {}
        }
    }
    if let Some(dividend) = &record.dividend {
        for a in &dividend.allocations {
            count(
                of_holder(a.kind, Some(&a.commune)),
                ReturnKind::Dividends,
                a.gross,
                &|| format!("the dividend of {}", a.holder),
            )?;
        }
    }
    let Some(year_end) = NaiveDate::from_ymd_opt(year, 12, 31) else {
        return Ok(None);
    };
    for (id, advance) in finance.advances() {
        let Some(interest) = advance.interest.get(&year).map(|i| &i.gross) else {
            continue;
        };
        let Some(history) = cap_table.holder(&advance.holder) else {
            continue;
        };
        let commune = registration_commune(projections, &advance.holder, year_end);
        count(
            of_holder(history.kind, commune.as_ref()),
            ReturnKind::CurrentAccountInterest,
            *interest,
            &|| format!("the interest of advance {id}"),
        )?;
    }

    let local = lines(local, year)?;
    let leaving = lines(leaving, year)?;
    let local_total = total(&local, year, "what stays local")?;
    let leaving_total = total(&leaving, year, "what leaves the territory")?;
    let revenue = record.total_revenue()?;
    // Both sums fit, but a tiny revenue can make the share overflow.
    let local_share_pct = if revenue.amount() > Decimal::ZERO {
        Some(
            local_total
                .checked_mul(Decimal::ONE_HUNDRED)
                .and_then(|x| x.checked_div(revenue.amount()))
                .map(|x| x.round_dp(2))
                .ok_or_else(|| SumOverflow {
                    year,
                    what: "the local share of the revenue".to_owned(),
                })?,
        )
    } else {
        None
    };
    Ok(Some(LocalReturns {
        year,
        local,
        local_total: Euros::new(local_total).unwrap_or_default(),
        leaving,
        leaving_total: Euros::new(leaving_total).unwrap_or_default(),
        revenue,
        local_share_pct,
    }))
}

fn total<P>(lines: &[Line<P>], year: i32, what: &str) -> Result<Decimal, SumOverflow> {
    let mut sum = Decimal::ZERO;
    for l in lines {
        add(&mut sum, l.total.amount(), year, || what.to_owned())?;
    }
    Ok(sum)
}

fn lines<P: std::fmt::Debug>(
    sums: BTreeMap<P, BTreeMap<ReturnKind, Decimal>>,
    year: i32,
) -> Result<Vec<Line<P>>, SumOverflow> {
    sums.into_iter()
        .map(|(party, amounts)| {
            let mut total = Decimal::ZERO;
            for v in amounts.values() {
                add(&mut total, *v, year, || {
                    format!("the payments to {party:?}")
                })?;
            }
            Ok(Line {
                party,
                amounts: amounts
                    .into_iter()
                    .map(|(k, v)| (k, Euros::new(v).unwrap_or_default()))
                    .collect(),
                total: Euros::new(total).unwrap_or_default(),
            })
        })
        .collect()
}

fn registration_commune(
    projections: &Projections,
    holder: &HolderId,
    date: NaiveDate,
) -> Option<CommuneCode> {
    projections
        .cap_table
        .fold()
        .holder(holder)?
        .registrations
        .iter()
        .rev()
        .find(|r| r.date <= date)
        .map(|r| r.value.commune.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn party(kind: HolderKind, in_territory: bool) -> String {
        match holder_party(kind, in_territory) {
            Party::Local(b) => format!("local {b:?}"),
            Party::Away(l) => format!("away {l:?}"),
        }
    }

    /// A citizen fund outside the territory is a fund, not the industrial
    /// partner; a commune or an EPCI is the public side wherever its seat.
    #[test]
    fn a_holders_kind_and_seat_say_where_its_returns_count() {
        use HolderKind as K;
        assert_eq!(party(K::Fund, false), "away NonLocalFunds");
        assert_eq!(party(K::Fund, true), "local LocalHolders");
        assert_eq!(party(K::Company, false), "away NonLocalCompanies");
        assert_eq!(party(K::Company, true), "local LocalHolders");
        for public in [K::Commune, K::Epci, K::LocalAuthority, K::Sem] {
            assert_eq!(party(public, false), "local PublicHolders");
            assert_eq!(party(public, true), "local PublicHolders");
        }
        for other in [
            K::Individual,
            K::Association,
            K::InvestmentClub,
            K::Cooperative,
        ] {
            assert_eq!(party(other, false), "away NonLocalHolders");
            assert_eq!(party(other, true), "local LocalHolders");
        }
    }
}
