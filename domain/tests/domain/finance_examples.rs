//! Worked examples of the money side, one per test, with figures a
//! chartered accountant or a municipality's treasurer can check by hand.

use crate::finance_support::*;
use windledger_domain::company::{HolderKind, Turbine};
use windledger_domain::finance::{
    Allocation, Balances, Beneficiary, DividendAmount, FinancialYearCommand, FinancialYearEvent,
    IferSplit,
};
use windledger_domain::money::Euros;
use windledger_domain::types::{CommuneCode, ReportId, ResolutionId, Siren};

#[tokio::test]
async fn the_legal_reserve_stops_at_a_tenth_of_the_share_capital_within_the_year() {
    // Capital 8,000,000.00: the legal reserve stops at 800,000.00. It holds
    // 790,000.00; 5 % of the 1,000,000.00 profit would be 50,000.00, but
    // only 10,000.00 of room is left.
    let opening = Balances {
        legal_reserve: eur("790000.00"),
        statutory_reserves: eur("0.00"),
        retained_earnings: signed("25000.00"),
    };
    let mut year = Year::open(snapshot(eur("8000000.00"), vec![], &[]), opening).await;
    let appropriated = year
        .close("1000000.00", "100000.00", "500000.00")
        .await
        .expect("the result is appropriated");
    let FinancialYearEvent::ResultAppropriated {
        legal_reserve,
        distributable,
        closing,
        ..
    } = appropriated
    else {
        panic!("expected the appropriation, got {appropriated:?}");
    };
    assert_eq!(
        legal_reserve,
        eur("10000.00"),
        "capped by the ceiling, not 5 %"
    );
    // 1,000,000 + 25,000 retained - 10,000 legal - 100,000 statutory.
    assert_eq!(distributable, signed("915000.00"));
    assert_eq!(
        closing,
        Balances {
            legal_reserve: eur("800000.00"),
            statutory_reserves: eur("100000.00"),
            retained_earnings: signed("415000.00"),
        }
    );

    // The next year, the reserve is full: nothing more goes to it.
    let mut next = Year::open(snapshot(eur("8000000.00"), vec![], &[]), closing).await;
    let FinancialYearEvent::ResultAppropriated { legal_reserve, .. } = next
        .close("200000.00", "0.00", "0.00")
        .await
        .expect("appropriated")
    else {
        panic!("expected the appropriation");
    };
    assert_eq!(legal_reserve, eur("0.00"));
}

/// 80,000 shares: the industrial partner 40,000, the SEM 12,000, the
/// communauté de communes 8,000, and 125 citizens of 160 shares each;
/// `treasury` of the last citizen's shares are held by the company instead.
fn farm_holders(treasury: u64) -> Vec<Holding> {
    let mut holders = vec![
        ("h000".to_owned(), HolderKind::Company, 40_000, 0),
        ("h001".to_owned(), HolderKind::Sem, 12_000, 0),
        ("h002".to_owned(), HolderKind::LocalAuthority, 8_000, 0),
    ];
    for i in 3..128 {
        let shares = if i == 127 { 160 - treasury } else { 160 };
        holders.push((format!("h{i:03}"), HolderKind::Individual, shares, 0));
    }
    holders
}

async fn declare_million(holders: &[Holding]) -> Vec<Allocation> {
    let mut year = Year::open_with_reserve("8000000.00", "800000.00", holders).await;
    year.close("1200000.00", "0.00", "1000000.00")
        .await
        .expect("appropriated");
    let events = year
        .run(FinancialYearCommand::DeclareDividend {
            resolution: ResolutionId::new(APPROPRIATION).expect("an id"),
            amount: DividendAmount::Total {
                amount: eur("1000000.00"),
            },
            record_date: day(2025, 6, 25),
            payment_date: day(2025, 7, 1),
            withholding: None,
            withholding_statuses: Default::default(),
        })
        .await
        .expect("declared");
    let [
        FinancialYearEvent::DividendDeclared {
            allocations,
            total,
            undistributed,
            ..
        },
    ] = events.as_slice()
    else {
        panic!("expected the declaration, got {events:?}");
    };
    assert_eq!(*total, eur("1000000.00"), "exact to the cent");
    assert_eq!(*undistributed, eur("0.00"));
    assert_eq!(allocations.len(), 128);
    allocations.clone()
}

fn gross_of(allocations: &[Allocation], holder: &str) -> Euros {
    allocations
        .iter()
        .find(|a| a.holder.as_str() == holder)
        .map(|a| a.gross)
        .expect("the holder's allocation")
}

#[tokio::test]
async fn a_million_euro_dividend_over_80000_shares_and_128_holders_is_exact_to_the_cent() {
    // 12.50 a share, exactly.
    let allocations = declare_million(&farm_holders(0)).await;
    assert_eq!(gross_of(&allocations, "h000"), eur("500000.00"));
    assert_eq!(gross_of(&allocations, "h001"), eur("150000.00"));
    assert_eq!(gross_of(&allocations, "h002"), eur("100000.00"));
    for a in allocations.iter().skip(3) {
        assert_eq!(a.gross, eur("2000.00"));
        // A French resident individual: 12.8 % income tax, 17.2 % social
        // contributions withheld.
        assert_eq!(a.income_tax, eur("256.00"));
        assert_eq!(a.social_contributions, eur("344.00"));
        assert_eq!(a.net, eur("1400.00"));
    }
    let partner = &allocations[0];
    assert_eq!(
        (partner.income_tax, partner.net),
        (eur("0.00"), eur("500000.00")),
        "nothing is withheld from a legal person"
    );
}

#[tokio::test]
async fn with_three_shares_in_treasury_the_remainder_cents_go_by_largest_remainder_then_holder_id()
{
    // 79,997 shares carry the dividend: 100,000,000 cents x shares / 79,997.
    // Rounded down, 63 cents are left. The SEM's exact share
    // (15,000,562.52 cents) has the largest remainder; then the 124 citizens
    // of 160 shares all have the same one (200,007.50 cents each), so the
    // other 62 cents go to the first 62 of them by holder id.
    let allocations = declare_million(&farm_holders(3)).await;
    assert_eq!(gross_of(&allocations, "h000"), eur("500018.75"));
    assert_eq!(gross_of(&allocations, "h001"), eur("150005.63"));
    assert_eq!(gross_of(&allocations, "h002"), eur("100003.75"));
    for i in 3..=64 {
        assert_eq!(gross_of(&allocations, &format!("h{i:03}")), eur("2000.08"));
    }
    for i in 65..=126 {
        assert_eq!(gross_of(&allocations, &format!("h{i:03}")), eur("2000.07"));
    }
    assert_eq!(gross_of(&allocations, "h127"), eur("1962.57"));
}

#[tokio::test]
async fn ifer_of_ten_3_mw_turbines_is_shared_between_two_communes_the_epci_and_the_departement() {
    // Five turbines in each commune, 3,000 kW each, commissioned in 2020;
    // 8.51 EUR/kW: 25,530.00 a turbine, shared 20 / 50 / 30.
    let burdignes = CommuneCode::new("42026").expect("a commune");
    let saint_sauveur = CommuneCode::new("42282").expect("a commune");
    let turbines: Vec<Turbine> = (1..=10)
        .map(|i| {
            let commune = if i <= 5 { "42026" } else { "42282" };
            windledger_fixtures::farm::turbine(&format!("E{i:02}"), commune, 3_000, day(2020, 9, 1))
        })
        .collect();
    let mut year = Year::open(
        snapshot(eur("8000000.00"), turbines, &[]),
        Balances::default(),
    )
    .await;
    let epci = Siren::new("200011179").expect("a SIREN");
    let events = year
        .run(FinancialYearCommand::AssessIfer {
            report: ReportId::new("ifer-2024").expect("an id"),
            tax_year: YEAR,
            rate_per_kw: eur("8.51"),
            epci: epci.clone(),
            epci_single_business_tax: true,
            corrects: None,
        })
        .await
        .expect("assessed");
    let [FinancialYearEvent::IferAssessed { lines, total, .. }] = events.as_slice() else {
        panic!("expected the assessment, got {events:?}");
    };
    assert_eq!(*total, eur("255300.00"));
    assert_eq!(lines.len(), 10);
    let mut by_beneficiary = std::collections::BTreeMap::<Beneficiary, Euros>::new();
    for line in lines {
        assert_eq!(line.amount, eur("25530.00"));
        assert_eq!(
            line.split,
            IferSplit::From2019,
            "commissioned after 2019: 20 / 50 / 30 even under FPU"
        );
        for (beneficiary, amount) in &line.shares {
            let sum = by_beneficiary.entry(beneficiary.clone()).or_default();
            *sum = Euros::new(sum.amount() + amount.amount()).expect("positive");
        }
    }
    let expected = [
        (Beneficiary::Commune { commune: burdignes }, "25530.00"),
        (
            Beneficiary::Commune {
                commune: saint_sauveur,
            },
            "25530.00",
        ),
        (Beneficiary::Epci { siren: epci }, "127650.00"),
        (
            Beneficiary::Departement {
                code: "42".to_owned(),
            },
            "76590.00",
        ),
    ];
    assert_eq!(by_beneficiary.len(), expected.len());
    for (beneficiary, amount) in expected {
        assert_eq!(by_beneficiary[&beneficiary], eur(amount), "{beneficiary:?}");
    }
}
