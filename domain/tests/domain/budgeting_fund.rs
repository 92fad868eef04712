//! The territory fund (domain/src/budgeting/fund.rs): its residents, its
//! feed from the financial years by the charter's rule, grants, a round's
//! commitments and their payments, the balance reconciled to the cent.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use rust_decimal::Decimal;
use windledger_domain::budgeting::fund::{
    Commitment, FundCommand, FundError, FundEvent, FundServices, KnownSources, TerritoryFund,
    YearFigures,
};
use windledger_domain::charter::{FeedRule, FundFeed};
use windledger_domain::money::{Euros, SignedEuros};
use windledger_domain::ratio::Ratio;
use windledger_domain::types::{
    CommuneCode, IdentityCommitment, PartyId, ProposalId, ResidentId, RoundId,
};
use windledger_fixtures::farm::run;

use crate::common::{day, dec, eur, holder};

fn services(today: NaiveDate, sources: &KnownSources) -> FundServices {
    let noon = Utc.from_utc_datetime(&today.and_hms_opt(11, 0, 0).unwrap());
    FundServices::new(noon, sources.clone())
}

fn figures(revenue: &str, mwh: &str, dividends: &str, approved: bool) -> YearFigures {
    YearFigures {
        ends_on: day(2025, 12, 31),
        accounts_approved: approved,
        revenue: SignedEuros::new(dec(revenue)),
        production_mwh: dec(mwh),
        dividends: eur(dividends),
    }
}

fn sources(rule: FeedRule) -> KnownSources {
    KnownSources {
        feed: Some(FundFeed {
            rule,
            from_year: 2025,
        }),
        years: BTreeMap::from([
            (2024, figures("1000000", "60000", "30000", true)),
            (2025, figures("1234567.89", "66123.456", "40000", true)),
            (2026, figures("-5000", "0", "0", true)),
            (2027, figures("900000", "50000", "0", false)),
        ]),
        rounds: BTreeMap::new(),
    }
}

fn fed(
    fund: &mut TerritoryFund,
    year: i32,
    sources: &KnownSources,
) -> Result<FundEvent, FundError> {
    run(
        fund,
        FundCommand::Feed { year },
        &services(day(2026, 7, 1), sources),
    )
    .map(|mut events| events.remove(0))
}

fn amount_fed(event: FundEvent) -> (Decimal, Euros) {
    match event {
        FundEvent::FundFed { base, amount, .. } => (base, amount),
        other => panic!("not a feed: {other:?}"),
    }
}

#[test]
fn each_financial_year_feeds_the_fund_once_by_the_charters_rule() {
    let cases = [
        // 1 % of 1,234,567.89 is 12,345.6789: 12,345.68.
        (
            FeedRule::ShareOfRevenue {
                share: Ratio::percent(1),
            },
            "1234567.89",
            "12345.68",
        ),
        // 2.50 per MWh of 66,123.456 MWh is 165,308.64.
        (
            FeedRule::PerMwh {
                amount: eur("2.50"),
            },
            "66123.456",
            "165308.64",
        ),
        // A third of 40,000.00 is 13,333.33.
        (
            FeedRule::ShareOfDividends {
                share: Ratio::new(1, 3).unwrap(),
            },
            "40000",
            "13333.33",
        ),
    ];
    for (rule, base, amount) in cases {
        let sources = sources(rule);
        let mut fund = TerritoryFund::default();
        assert_eq!(
            amount_fed(fed(&mut fund, 2025, &sources).unwrap()),
            (dec(base), eur(amount))
        );
        assert_eq!(fund.balance_cents(), eur(amount).cents().unwrap());
        assert_eq!(
            fed(&mut fund, 2025, &sources).unwrap_err(),
            FundError::AlreadyFed(2025)
        );
    }
    let sources = sources(FeedRule::ShareOfRevenue {
        share: Ratio::percent(1),
    });
    let mut fund = TerritoryFund::default();
    assert_eq!(
        fed(&mut fund, 2024, &sources).unwrap_err(),
        FundError::YearBeforeFeed {
            year: 2024,
            from_year: 2025
        }
    );
    assert_eq!(
        fed(&mut fund, 2027, &sources).unwrap_err(),
        FundError::AccountsNotApproved(2027)
    );
    assert_eq!(
        fed(&mut fund, 2028, &sources).unwrap_err(),
        FundError::UnknownYear(2028)
    );
    // A loss feeds nothing.
    assert_eq!(
        amount_fed(fed(&mut fund, 2026, &sources).unwrap()),
        (Decimal::ZERO, eur("0"))
    );
    let without = KnownSources {
        feed: None,
        ..sources.clone()
    };
    assert_eq!(
        fed(&mut TerritoryFund::default(), 2025, &without).unwrap_err(),
        FundError::NoFeed
    );
}

fn resident(id: &str) -> ResidentId {
    ResidentId::new(id).unwrap()
}

fn commune(code: &str) -> CommuneCode {
    CommuneCode::new(code).unwrap()
}

#[test]
fn the_municipality_registers_residents_who_may_move_or_leave() {
    let sources = KnownSources::default();
    let today = services(day(2027, 1, 10), &sources);
    let mut fund = TerritoryFund::default();
    let register = |id: &str, code: &str| FundCommand::RegisterResident {
        resident: resident(id),
        commune: commune(code),
        holder: None,
        identity: None,
    };
    run(&mut fund, register("r1", "42026"), &today).unwrap();
    run(
        &mut fund,
        FundCommand::RegisterResident {
            resident: resident("r2"),
            commune: commune("42279"),
            holder: Some(holder("h-local-a")),
            identity: None,
        },
        &today,
    )
    .unwrap();
    assert_eq!(
        run(&mut fund, register("r1", "42279"), &today).unwrap_err(),
        FundError::AlreadyRegistered(resident("r1"))
    );
    assert_eq!(fund.commune_of(&resident("r1")), Some(&commune("42026")));
    let move_to = |id: &str, code: &str| FundCommand::MoveResident {
        resident: resident(id),
        commune: commune(code),
    };
    assert_eq!(
        run(&mut fund, move_to("r1", "42026"), &today).unwrap_err(),
        FundError::SameCommune {
            resident: resident("r1"),
            commune: commune("42026")
        }
    );
    run(&mut fund, move_to("r1", "42279"), &today).unwrap();
    assert_eq!(fund.commune_of(&resident("r1")), Some(&commune("42279")));
    let remove = |id: &str| FundCommand::RemoveResident {
        resident: resident(id),
    };
    run(&mut fund, remove("r1"), &today).unwrap();
    assert_eq!(fund.commune_of(&resident("r1")), None);
    for command in [remove("r1"), move_to("r1", "42026"), remove("nobody")] {
        assert!(matches!(
            run(&mut fund, command, &today).unwrap_err(),
            FundError::NotAResident(_)
        ));
    }
    // Removed, then registered again.
    run(&mut fund, register("r1", "42026"), &today).unwrap();
    let listed: Vec<_> = fund
        .residents()
        .map(|(id, c, h)| (id.as_str(), c.as_str(), h.is_some()))
        .collect();
    assert_eq!(listed, [("r1", "42026", false), ("r2", "42279", true)]);
}

/// A commitment to an identity: `digit` 64 times.
fn commitment_of(digit: char) -> IdentityCommitment {
    IdentityCommitment::new(digit.to_string().repeat(64)).unwrap()
}

#[test]
fn a_residents_identity_is_corrected_by_a_new_commitment() {
    let sources = KnownSources::default();
    let today = services(day(2027, 1, 10), &sources);
    let mut fund = TerritoryFund::default();
    let record = |id: &str, digit: char| FundCommand::RecordResidentIdentity {
        resident: resident(id),
        identity: commitment_of(digit),
    };
    assert_eq!(
        run(&mut fund, record("r1", 'a'), &today).unwrap_err(),
        FundError::NotAResident(resident("r1"))
    );
    run(
        &mut fund,
        FundCommand::RegisterResident {
            resident: resident("r1"),
            commune: commune("42026"),
            holder: None,
            identity: Some(commitment_of('a')),
        },
        &today,
    )
    .unwrap();
    assert_eq!(
        run(&mut fund, record("r1", 'a'), &today).unwrap_err(),
        FundError::SameIdentity(resident("r1")),
        "the version in force again records nothing"
    );
    assert_eq!(
        run(&mut fund, record("r1", 'b'), &today).unwrap(),
        [FundEvent::ResidentIdentityRecorded {
            resident: resident("r1"),
            identity: commitment_of('b'),
        }]
    );
    assert_eq!(fund.identity_of(&resident("r1")), Some(&commitment_of('b')));
    assert_eq!(
        fund.identities_recorded(&resident("r1")),
        [commitment_of('a'), commitment_of('b')]
    );
    // Removed: no identity in force, and none can be recorded; what was
    // recorded stays known (for the vault to forget it).
    run(
        &mut fund,
        FundCommand::RemoveResident {
            resident: resident("r1"),
        },
        &today,
    )
    .unwrap();
    assert_eq!(fund.identity_of(&resident("r1")), None);
    assert_eq!(
        run(&mut fund, record("r1", 'c'), &today).unwrap_err(),
        FundError::NotAResident(resident("r1"))
    );
    assert_eq!(fund.identities_recorded(&resident("r1")).len(), 2);
}

fn round(id: &str) -> RoundId {
    RoundId::new(id).unwrap()
}

fn commitment(proposal: &str, amount: &str) -> Commitment {
    Commitment {
        proposal: ProposalId::new(proposal).unwrap(),
        amount: eur(amount),
    }
}

fn pay(round_id: &str, proposal: &str, amount: &str, on: NaiveDate) -> FundCommand {
    FundCommand::Pay {
        round: round(round_id),
        proposal: ProposalId::new(proposal).unwrap(),
        amount: eur(amount),
        paid_on: on,
    }
}

#[test]
fn a_rounds_projects_are_committed_then_paid_and_the_balance_reconciles() {
    let mut sources = sources(FeedRule::ShareOfRevenue {
        share: Ratio::percent(1),
    });
    sources.rounds.insert(
        round("2027"),
        vec![commitment("bancs", "5000"), commitment("jardin", "8000")],
    );
    sources
        .rounds
        .insert(round("big"), vec![commitment("salle", "100000")]);
    let mut fund = TerritoryFund::default();
    fed(&mut fund, 2025, &sources).unwrap(); // 12,345.68
    let at = |date| services(date, &sources);
    let grant = |amount: &str, on| FundCommand::ReceiveGrant {
        grantor: PartyId::new("region-aura").unwrap(),
        amount: eur(amount),
        received_on: on,
    };
    assert_eq!(
        run(
            &mut fund,
            grant("1000", day(2026, 7, 3)),
            &at(day(2026, 7, 2))
        )
        .unwrap_err(),
        FundError::InTheFuture {
            date: day(2026, 7, 3),
            today: day(2026, 7, 2)
        }
    );
    assert!(matches!(
        run(&mut fund, grant("0", day(2026, 7, 2)), &at(day(2026, 7, 2))).unwrap_err(),
        FundError::InvalidAmount { .. }
    ));
    run(
        &mut fund,
        grant("1000", day(2026, 7, 2)),
        &at(day(2026, 7, 2)),
    )
    .unwrap();
    assert_eq!(fund.balance_cents(), 1_334_568);
    // Money movements are recorded in date order.
    assert_eq!(
        run(&mut fund, grant("1", day(2026, 7, 1)), &at(day(2026, 7, 2))).unwrap_err(),
        FundError::DateTooEarly {
            date: day(2026, 7, 1),
            latest: day(2026, 7, 2)
        }
    );
    let commit = |id: &str| FundCommand::Commit { round: round(id) };
    let later = at(day(2027, 6, 1));
    assert_eq!(
        run(&mut fund, commit("big"), &later).unwrap_err(),
        FundError::InsufficientFunds {
            round: round("big"),
            total: eur("100000"),
            available: eur("13345.68")
        }
    );
    assert_eq!(
        run(&mut fund, commit("unknown"), &later).unwrap_err(),
        FundError::RoundNotTallied(round("unknown"))
    );
    run(&mut fund, commit("2027"), &later).unwrap();
    assert_eq!(
        run(&mut fund, commit("2027"), &later).unwrap_err(),
        FundError::AlreadyCommitted(round("2027"))
    );
    // Committed, not paid: the balance is the same, less is available.
    assert_eq!(fund.balance_cents(), 1_334_568);
    assert_eq!(fund.outstanding_cents(), 1_300_000);
    assert_eq!(fund.available_cents(), 34_568);
    assert_eq!(
        run(
            &mut fund,
            pay("2027", "bancs", "5000.01", day(2027, 6, 1)),
            &later
        )
        .unwrap_err(),
        FundError::PaymentAboveOutstanding {
            amount: eur("5000.01"),
            outstanding: eur("5000")
        }
    );
    assert!(matches!(
        run(
            &mut fund,
            pay("2027", "salle", "1", day(2027, 6, 1)),
            &later
        )
        .unwrap_err(),
        FundError::UnknownCommitment { .. }
    ));
    let events = run(
        &mut fund,
        pay("2027", "bancs", "3000", day(2027, 6, 1)),
        &later,
    )
    .unwrap();
    assert!(matches!(
        &events[..],
        [FundEvent::ProjectPaid { outstanding, .. }] if *outstanding == eur("2000")
    ));
    run(
        &mut fund,
        pay("2027", "bancs", "2000", day(2027, 6, 1)),
        &later,
    )
    .unwrap();
    run(
        &mut fund,
        pay("2027", "jardin", "8000", day(2027, 6, 1)),
        &later,
    )
    .unwrap();
    assert_eq!(
        run(
            &mut fund,
            pay("2027", "jardin", "0.01", day(2027, 6, 1)),
            &later
        )
        .unwrap_err(),
        FundError::PaymentAboveOutstanding {
            amount: eur("0.01"),
            outstanding: eur("0")
        }
    );
    // In: 12,345.68 + 1,000; out: 13,000; nothing owed.
    assert_eq!(fund.balance_cents(), 34_568);
    assert_eq!(fund.outstanding_cents(), 0);
    assert_eq!(fund.available_cents(), 34_568);
}

#[test]
fn a_years_figures_count_each_report_in_force_once() {
    use windledger_domain::budgeting::fund::YearFiguresFold;
    use windledger_domain::finance::{FinancialYearEvent as E, RevenueKind, YearMonth};
    use windledger_domain::types::{ReportId, TurbineId};
    let report = |id: &str| ReportId::new(id).unwrap();
    let month = YearMonth::new(2025, 3).unwrap();
    let production = |id: &str, mwh: &str, corrects: Option<&str>| E::ProductionReported {
        report: report(id),
        turbine: TurbineId::new("T01").unwrap(),
        month,
        mwh: dec(mwh),
        availability: dec("98"),
        corrects: corrects.map(report),
    };
    let revenue = |id: &str, amount: &str, corrects: Option<&str>| E::RevenueRecorded {
        report: report(id),
        month,
        kind: RevenueKind::MarketSales,
        volume_mwh: dec("1"),
        price_per_mwh: dec(amount),
        amount: SignedEuros::new(dec(amount)),
        corrects: corrects.map(report),
    };
    let mut fold = YearFiguresFold::default();
    // Not opened: no figures.
    assert_eq!(fold.figures(), None);
    for event in [
        E::YearOpened {
            year: 2025,
            starts_on: day(2025, 1, 1),
            ends_on: day(2025, 12, 31),
            turbines: Default::default(),
            opening_balances: None,
        },
        production("p1", "100.5", None),
        production("p2", "50", None),
        // p1 corrected: 120 in its place.
        production("p3", "120", Some("p1")),
        revenue("v1", "1000", None),
        revenue("v2", "-200.25", None),
        revenue("v3", "900", Some("v1")),
    ] {
        fold.apply(&event);
    }
    assert_eq!(
        fold.figures(),
        Some(YearFigures {
            ends_on: day(2025, 12, 31),
            accounts_approved: false,
            revenue: SignedEuros::new(dec("699.75")),
            production_mwh: dec("170"),
            dividends: eur("0"),
        })
    );
}
