//! The financial year run through `cqrs_es::CqrsFramework` on the real
//! store, on both backends, with the services read from the ledger: the
//! turbines and the dividend roll come from the company stream, the
//! accounts and the appropriation from a general meeting's resolutions, the
//! next year's opening from this year's close.

use cqrs_es::{AggregateError, EventStore};
use rust_decimal::Decimal;
use windledger_domain::resolution::Unbacked;
use windledger_fixtures::farm::{self, accounts_agenda, dec, report, res, signed};

use crate::support::*;
use windledger_app::services::YearClosings;
use windledger_domain::company::{HolderKind, Turbine};
use windledger_domain::finance::{
    Balances, ClosingBalances, DividendAmount, FinancialYearCommand, FinancialYearError,
    FinancialYearEvent, YearMonth,
};
use windledger_domain::types::{Siren, TurbineId};
use windledger_store::testing::TestDatabase;

fn turbine(id: &str) -> Turbine {
    farm::turbine(id, "42026", 3_000, day(2020, 9, 1))
}

async fn year(
    farm: &Farm,
    command: FinancialYearCommand,
) -> Result<(), AggregateError<FinancialYearError>> {
    farm.year_cqrs.execute("2024", command).await
}

/// From the production reports to the citizen's net dividend, and the next
/// year's opening balances.
async fn a_year_closes_through_its_general_meeting_and_pays_its_dividend(db: TestDatabase) {
    let holders = [
        ("partner".to_owned(), HolderKind::Company, 600),
        ("sem".to_owned(), HolderKind::Sem, 200),
        ("citizen".to_owned(), HolderKind::Individual, 200),
    ];
    let farm = Farm::with_holders(&db, &holders, vec![turbine("E01"), turbine("E02")]).await;
    year(
        &farm,
        FinancialYearCommand::OpenYear {
            year: 2024,
            starts_on: day(2024, 1, 1),
            ends_on: day(2024, 12, 31),
            opening_balances: Some(Balances {
                legal_reserve: eur("5000.00"),
                ..Balances::default()
            }),
        },
    )
    .await
    .expect("the year opens");

    // Production, with one report corrected.
    let january = YearMonth::new(2024, 1).expect("a month");
    for (id, turbine_id, mwh, corrects) in [
        ("p-e01-01", "E01", "612.400", None),
        ("p-e02-01", "E02", "598.100", None),
        ("p-e02-01-fix", "E02", "601.250", Some("p-e02-01")),
    ] {
        year(
            &farm,
            FinancialYearCommand::ReportProduction {
                report: report(id),
                turbine: TurbineId::new(turbine_id).expect("an id"),
                month: january,
                mwh: dec(mwh),
                availability: dec("97.5"),
                corrects: corrects.map(report),
            },
        )
        .await
        .expect("the report");
    }
    let unknown_turbine = year(
        &farm,
        FinancialYearCommand::ReportProduction {
            report: report("p-e03-01"),
            turbine: TurbineId::new("E03").expect("an id"),
            month: january,
            mwh: Decimal::ONE,
            availability: Decimal::ONE_HUNDRED,
            corrects: None,
        },
    )
    .await;
    assert!(matches!(
        unknown_turbine,
        Err(AggregateError::UserError(
            FinancialYearError::UnknownTurbine(_)
        ))
    ));
    year(
        &farm,
        FinancialYearCommand::AssessIfer {
            report: report("ifer-2024"),
            tax_year: 2024,
            rate_per_kw: eur("8.51"),
            epci: Siren::new("200011179").expect("a SIREN"),
            epci_single_business_tax: true,
            corrects: None,
        },
    )
    .await
    .expect("IFER");

    // Accounts approved before the meeting adopted them: refused.
    let approve = FinancialYearCommand::ApproveAccounts {
        resolution: res("ago-2025.1"),
        net_result: dec("50000.00"),
    };
    let early = year(&farm, approve.clone()).await;
    assert!(matches!(
        early,
        Err(AggregateError::UserError(FinancialYearError::Unbacked(
            Unbacked::NotAdopted(_)
        )))
    ));

    farm.open_meeting_in(
        "ago-2025",
        2025,
        accounts_agenda(
            2024,
            "Approbation des comptes de l'exercice 2024",
            "Affectation du résultat et dividende de 40 000 EUR",
        ),
    )
    .await;
    farm.vote_and_close("ago-2025", 2025, 2, &["partner", "sem"])
        .await;

    year(&farm, approve).await.expect("the accounts");
    year(
        &farm,
        FinancialYearCommand::AppropriateResult {
            resolution: res("ago-2025.2"),
            statutory_reserves: eur("0.00"),
            dividend: eur("40000.00"),
        },
    )
    .await
    .expect("the appropriation");
    year(
        &farm,
        FinancialYearCommand::DeclareDividend {
            resolution: res("ago-2025.2"),
            amount: DividendAmount::Total {
                amount: eur("40000.00"),
            },
            record_date: day(2025, 6, 30),
            payment_date: day(2025, 7, 15),
            withholding: None,
            withholding_statuses: Default::default(),
        },
    )
    .await
    .expect("the dividend");
    year(
        &farm,
        FinancialYearCommand::RecordDividendPayment {
            holder: holder("citizen"),
            paid_on: day(2025, 7, 15),
        },
    )
    .await
    .expect("the payment");

    let state = farm
        .years
        .load_aggregate("2024")
        .await
        .expect("the year")
        .aggregate
        .clone();
    assert_eq!(
        state.reports_in_force().count(),
        3,
        "two productions and IFER"
    );
    let citizen = state.allocation(&holder("citizen")).expect("an allocation");
    assert_eq!(citizen.gross, eur("8000.00"));
    assert_eq!(citizen.income_tax, eur("1024.00"));
    assert_eq!(citizen.social_contributions, eur("1376.00"));
    assert_eq!(citizen.net, eur("5600.00"));
    assert!(state.is_paid(&holder("citizen")));
    let partner = state.allocation(&holder("partner")).expect("an allocation");
    assert_eq!(
        (partner.gross, partner.net),
        (eur("24000.00"), eur("24000.00"))
    );

    // 5 % of 50,000 = 2,500 to the legal reserve (room: 10,000 - 5,000);
    // 50,000 - 2,500 - 40,000 carried forward.
    let closings = YearClosings {
        years: farm.years.clone(),
    };
    assert_eq!(
        closings.closing_balances(2024).await.expect("a lookup"),
        Some(Balances {
            legal_reserve: eur("7500.00"),
            statutory_reserves: eur("0.00"),
            retained_earnings: signed("7500.00"),
        })
    );
    assert_eq!(
        closings.closing_balances(2023).await.expect("a lookup"),
        None
    );

    // The stream holds what an auditor needs: the IFER lines, the roll.
    let events = farm.stream("financial-year/2024").await;
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(
        types,
        [
            "YearOpened",
            "ProductionReported",
            "ProductionReported",
            "ProductionReported",
            "IferAssessed",
            "AccountsApproved",
            "ResultAppropriated",
            "DividendDeclared",
            "DividendPaid"
        ]
    );
    let ifer: FinancialYearEvent = events[4].decode().expect("an event");
    let FinancialYearEvent::IferAssessed { total, lines, .. } = ifer else {
        panic!("expected IFER, got {ifer:?}");
    };
    assert_eq!(total, eur("51060.00"));
    assert_eq!(lines.len(), 2);
}

windledger_store::on_both_backends!(
    a_year_closes_through_its_general_meeting_and_pays_its_dividend,
);
