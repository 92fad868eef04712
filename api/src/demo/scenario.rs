//! The demo's scripted history: an illustrative company shaped like the
//! reference case (DESIGN.md 1), with invented figures. Holders appear by
//! pseudonymous id only, as in any ledger.
//!
//! Everything here is a constant, so a value the domain refuses is a bug in
//! this file; it is still reported as an error, not a panic.

use std::collections::BTreeSet;

use anyhow::Context;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use windledger_domain::charter::{Charter, College, OwnershipCap, ShareClass, VoteBasis};
use windledger_domain::company::{
    CompanyCommand, HolderKind, Incorporation, LegalForm, Subscription, Turbine,
};
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_domain::types::{
    CollegeId, CommuneCode, DecisionKindId, HolderId, Kilowatts, LegalName, ShareClassId,
    ShareCount, Siren, TurbineId,
};

/// One step of the history: what the secretary records, and how the demo
/// names it.
pub struct Step {
    /// Part of the command id, so that a retried step is recognised.
    pub key: &'static str,
    pub label: String,
    pub command: CompanyCommand,
}

const COLLECTIVITES: &str = "collectivites";
const CITOYENS: &str = "citoyens";
const INDUSTRIEL: &str = "industriel";
const ORDINARY_SHARES: &str = "ordinaires";
/// INSEE codes of Burdignes and Saint-Sauveur-en-Rue, where the turbines stand.
const BURDIGNES: &str = "42026";
const SAINT_SAUVEUR: &str = "42282";
const SAINT_ETIENNE: &str = "42218";
const LYON: &str = "69123";

/// Holders: (pseudonymous id, kind, college, commune, shares subscribed).
/// 80,000 shares: half to the industrial partner, a quarter to the public
/// side, a quarter to citizens.
const HOLDERS: [(&str, HolderKind, &str, &str, u64); 8] = [
    ("ind-001", HolderKind::Company, INDUSTRIEL, LYON, 40_000),
    (
        "col-001",
        HolderKind::LocalAuthority,
        COLLECTIVITES,
        BURDIGNES,
        5_000,
    ),
    (
        "col-002",
        HolderKind::Sem,
        COLLECTIVITES,
        SAINT_ETIENNE,
        15_000,
    ),
    (
        "cit-001",
        HolderKind::Cooperative,
        CITOYENS,
        SAINT_SAUVEUR,
        8_000,
    ),
    (
        "cit-002",
        HolderKind::InvestmentClub,
        CITOYENS,
        BURDIGNES,
        6_000,
    ),
    (
        "cit-003",
        HolderKind::Association,
        CITOYENS,
        SAINT_SAUVEUR,
        2_000,
    ),
    (
        "cit-004",
        HolderKind::Individual,
        CITOYENS,
        BURDIGNES,
        2_500,
    ),
    (
        "cit-005",
        HolderKind::Individual,
        CITOYENS,
        SAINT_SAUVEUR,
        1_500,
    ),
];
const NOMINAL_EUR: i64 = 100;
const TRANSFER: (&str, &str, u64) = ("cit-004", "cit-005", 500);

pub const LEGAL_NAME: &str = "SAS Les Ailes de Taillard";

pub fn steps() -> anyhow::Result<Vec<Step>> {
    let formed = date(2013, 5, 2)?;
    let mut steps = vec![Step {
        key: "incorporate",
        label: format!(
            "incorporation of {LEGAL_NAME}, capital {}, with a 3-college charter",
            share_capital()?
        ),
        command: CompanyCommand::Incorporate {
            company: incorporation(formed)?,
            charter: charter()?,
        },
    }];
    for (id, kind, college_id, commune_code, _) in HOLDERS {
        steps.push(Step {
            key: "admit",
            label: format!("admission of {id} to the college {college_id}"),
            command: CompanyCommand::AdmitShareholder {
                holder: holder(id)?,
                kind,
                college: college(college_id)?,
                commune: commune(commune_code)?,
                effective_date: formed,
            },
        });
    }
    let total: u64 = HOLDERS.iter().map(|h| h.4).sum();
    steps.push(Step {
        key: "issue",
        label: format!("initial issuance of {total} shares of {NOMINAL_EUR} EUR"),
        command: CompanyCommand::IssueShares {
            subscriptions: HOLDERS
                .iter()
                .map(|(id, _, _, _, count)| {
                    Ok(Subscription {
                        holder: holder(id)?,
                        class: ordinary()?,
                        count: shares(*count)?,
                        price_per_share: nominal()?,
                    })
                })
                .collect::<anyhow::Result<_>>()?,
            resolution: None,
            effective_date: formed,
        },
    });
    let (from, to, count) = TRANSFER;
    steps.push(Step {
        key: "transfer",
        label: format!("transfer of {count} shares from {from} to {to}"),
        command: CompanyCommand::TransferShares {
            from: holder(from)?,
            to: holder(to)?,
            class: ordinary()?,
            count: shares(count)?,
            price_per_share: Some(nominal()?),
            approval: None,
            effective_date: date(2016, 7, 1)?,
        },
    });
    Ok(steps)
}

fn share_capital() -> anyhow::Result<Euros> {
    let total: u64 = HOLDERS.iter().map(|h| h.4).sum();
    euros(Decimal::from(total) * Decimal::from(NOMINAL_EUR))
}

fn incorporation(formed: NaiveDate) -> anyhow::Result<Incorporation> {
    let commissioned = date(2020, 11, 16)?;
    let turbines = (1..=10)
        .map(|n| {
            Ok(Turbine {
                id: TurbineId::new(format!("T{n:02}"))?,
                commune: commune(if n <= 5 { BURDIGNES } else { SAINT_SAUVEUR })?,
                rated_power: Kilowatts::new(3_000)?,
                commissioned_on: commissioned,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Incorporation {
        legal_name: LegalName::new(LEGAL_NAME)?,
        legal_form: LegalForm::Sas,
        // Invented, and visibly so: no company has this number.
        registration_number: Siren::new("000000000")?,
        formation_date: formed,
        share_capital: share_capital()?,
        territory: BTreeSet::from([commune(BURDIGNES)?, commune(SAINT_SAUVEUR)?]),
        turbines,
    })
}

/// Three weighted colleges; the industrial partner at most half the
/// capital, the local side at least half, one citizen holder at most a
/// tenth; transfers to newcomers approved by an ordinary decision; shares
/// locked up until 2015.
fn charter() -> anyhow::Result<Charter> {
    let college_of = |id: &str, name: &str, weight: u64, vote_basis| -> anyhow::Result<College> {
        Ok(College {
            id: college(id)?,
            name: name.to_owned(),
            weight: Some(Ratio::percent(weight)),
            vote_basis,
        })
    };
    let mut charter = Charter::with_french_defaults(
        vec![
            college_of(COLLECTIVITES, "Collectivités", 25, VoteBasis::PerShare)?,
            college_of(CITOYENS, "Citoyens", 25, VoteBasis::PerMember)?,
            college_of(INDUSTRIEL, "Partenaire industriel", 50, VoteBasis::PerShare)?,
        ],
        vec![ShareClass {
            id: ordinary()?,
            name: "Actions ordinaires".to_owned(),
            nominal_value: nominal()?,
            votes_per_share: 1,
            dividend_rights: Ratio::ONE,
            authorised: shares(100_000)?,
        }],
    );
    charter.transfers.approval_of_new_holders = Some(DecisionKindId::new("ordinary")?);
    charter.transfers.locked_until = Some(date(2015, 1, 1)?);
    charter.transfers.caps = vec![
        OwnershipCap::CollegesAtMost {
            colleges: BTreeSet::from([college(INDUSTRIEL)?]),
            limit: Ratio::percent(50),
        },
        OwnershipCap::CollegesAtLeast {
            colleges: BTreeSet::from([college(COLLECTIVITES)?, college(CITOYENS)?]),
            limit: Ratio::percent(50),
        },
        OwnershipCap::HolderAtMost {
            college: Some(college(CITOYENS)?),
            limit: Ratio::percent(10),
        },
    ];
    Ok(charter)
}

fn date(y: i32, m: u32, d: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).with_context(|| format!("{y}-{m}-{d} is not a date"))
}

fn holder(id: &str) -> anyhow::Result<HolderId> {
    Ok(HolderId::new(id)?)
}

fn college(id: &str) -> anyhow::Result<CollegeId> {
    Ok(CollegeId::new(id)?)
}

fn commune(code: &str) -> anyhow::Result<CommuneCode> {
    Ok(CommuneCode::new(code)?)
}

fn ordinary() -> anyhow::Result<ShareClassId> {
    Ok(ShareClassId::new(ORDINARY_SHARES)?)
}

fn shares(n: u64) -> anyhow::Result<ShareCount> {
    Ok(ShareCount::new(n)?)
}

fn euros(amount: Decimal) -> anyhow::Result<Euros> {
    Ok(Euros::new(amount)?)
}

fn nominal() -> anyhow::Result<Euros> {
    euros(Decimal::from(NOMINAL_EUR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuance_splits_half_industrial_and_a_quarter_each_to_public_side_and_citizens() {
        let by_college =
            |college: &str| -> u64 { HOLDERS.iter().filter(|h| h.2 == college).map(|h| h.4).sum() };
        assert_eq!(by_college(INDUSTRIEL), 40_000);
        assert_eq!(by_college(COLLECTIVITES), 20_000);
        assert_eq!(by_college(CITOYENS), 20_000);
        assert_eq!(
            share_capital().ok(),
            Some(euros(Decimal::from(8_000_000)).expect("positive"))
        );
        assert!(steps().is_ok());
    }
}
