//! What the operator meets first (issue 19): a month's production and
//! revenue wait until the month is over, on the server's clock (here a
//! fixed instant); a year not opened says who opens it.

use chrono::{DateTime, Utc};
use cqrs_es::test::TestFramework;
use windledger_domain::cap_table::{CapTableService, CapTableSnapshot};
use windledger_domain::company::Turbine;
use windledger_domain::finance::{
    CostCategory, FinancialYear, FinancialYearCommand, FinancialYearError, FinancialYearEvent,
    FinancialYearServices, KnownClosings, RevenueKind, YearMonth,
};
use windledger_domain::resolution::{BoxFuture, KnownResolutions, LookupError};
use windledger_domain::types::TurbineId;
use windledger_fixtures::farm::{at, day, dec, eur, report, signed};
use windledger_fixtures::small_farm::incorporation;

/// The small farm's company, as far as its year asks here: its turbines.
struct SmallFarmTurbines;

impl CapTableService for SmallFarmTurbines {
    fn cap_table<'a>(
        &'a self,
        on: chrono::NaiveDate,
    ) -> BoxFuture<'a, Result<CapTableSnapshot, LookupError>> {
        Box::pin(std::future::ready(Err(LookupError(format!(
            "no cap table is known on {on}"
        )))))
    }

    fn turbines<'a>(
        &'a self,
        _on: chrono::NaiveDate,
    ) -> BoxFuture<'a, Result<Vec<Turbine>, LookupError>> {
        Box::pin(std::future::ready(Ok(incorporation().turbines)))
    }
}

/// The year 2026 of the small farm (T01 and T02, commissioned in 2019),
/// decided at `now`.
fn year_at(now: DateTime<Utc>) -> cqrs_es::test::AggregateTestExecutor<FinancialYear> {
    TestFramework::<FinancialYear>::with(FinancialYearServices::new(
        now,
        KnownResolutions::default(),
        SmallFarmTurbines,
        KnownClosings::default(),
    ))
    .given(vec![FinancialYearEvent::YearOpened {
        year: 2026,
        starts_on: day(2026, 1, 1),
        ends_on: day(2026, 12, 31),
        turbines: incorporation().turbines,
        opening_balances: None,
    }])
}

fn november() -> YearMonth {
    YearMonth::new(2026, 11).expect("a month")
}

fn production(month: YearMonth) -> FinancialYearCommand {
    FinancialYearCommand::ReportProduction {
        report: report("p-1"),
        turbine: TurbineId::new("T01").expect("a turbine id"),
        month,
        mwh: dec("612.345"),
        availability: dec("97.5"),
        corrects: None,
    }
}

fn revenue(month: YearMonth) -> FinancialYearCommand {
    FinancialYearCommand::RecordRevenue {
        report: report("r-1"),
        month,
        kind: RevenueKind::MarketSales,
        volume_mwh: dec("1000"),
        price_per_mwh: dec("61.20"),
        corrects: None,
    }
}

fn cost(month: YearMonth) -> FinancialYearCommand {
    FinancialYearCommand::RecordCost {
        report: report("c-1"),
        month,
        category: CostCategory::Maintenance,
        amount: eur("1200"),
        beneficiary: None,
        corrects: None,
    }
}

fn not_over(what: &'static str, today: (i32, u32, u32)) -> FinancialYearError {
    FinancialYearError::MonthNotOver {
        month: november(),
        what,
        today: day(today.0, today.1, today.2),
    }
}

/// `command` for November 2026 is refused on the month's first and last
/// days, and accepted from 1 December at midnight with `event`.
fn waits_for_november_to_be_over(
    command: fn(YearMonth) -> FinancialYearCommand,
    what: &'static str,
    event: FinancialYearEvent,
) {
    // Days are Paris's: 22:00 UTC is 23:00 in Paris in November, and
    // 23:00 UTC on the 30th is already 1 December there.
    for today in [(2026, 11, 1), (2026, 11, 30)] {
        year_at(at(today.0, today.1, today.2, 22))
            .when(command(november()))
            .then_expect_error(not_over(what, today));
    }
    year_at(at(2026, 11, 30, 23))
        .when(command(november()))
        .then_expect_events(vec![event]);
}

#[test]
fn a_months_production_is_refused_on_its_last_day_and_accepted_the_day_after() {
    waits_for_november_to_be_over(
        production,
        "production",
        FinancialYearEvent::ProductionReported {
            report: report("p-1"),
            turbine: TurbineId::new("T01").expect("a turbine id"),
            month: november(),
            mwh: dec("612.345"),
            availability: dec("97.5"),
            corrects: None,
        },
    );
}

#[test]
fn a_months_revenue_waits_for_the_month_to_be_over_too() {
    waits_for_november_to_be_over(
        revenue,
        "revenue",
        FinancialYearEvent::RevenueRecorded {
            report: report("r-1"),
            month: november(),
            kind: RevenueKind::MarketSales,
            volume_mwh: dec("1000"),
            price_per_mwh: dec("61.20"),
            amount: signed("61200"),
            corrects: None,
        },
    );
}

#[test]
fn a_month_not_begun_is_not_over_either_for_production_and_revenue() {
    // Saying "not begun" would send the operator back on the 1st, to be
    // refused again.
    let december = YearMonth::new(2026, 12).expect("a month");
    year_at(at(2026, 11, 30, 9))
        .when(production(december))
        .then_expect_error(FinancialYearError::MonthNotOver {
            month: december,
            what: "production",
            today: day(2026, 11, 30),
        });
}

#[test]
fn a_cost_keeps_the_rule_of_a_month_that_has_begun() {
    // Moved from `finance.rs` ("a month not yet begun cannot be reported
    // and the current one can"), which production no longer follows: a
    // cost still does.
    year_at(at(2026, 10, 31, 9))
        .when(cost(november()))
        .then_expect_error(FinancialYearError::NotYetBegun {
            date: day(2026, 11, 1),
            today: day(2026, 10, 31),
        });
    year_at(at(2026, 11, 1, 9))
        .when(cost(november()))
        .then_expect_events(vec![FinancialYearEvent::CostRecorded {
            report: report("c-1"),
            month: november(),
            category: CostCategory::Maintenance,
            amount: eur("1200"),
            beneficiary: None,
            corrects: None,
        }]);
}

#[test]
fn the_refusal_says_from_which_day_the_month_is_reported() {
    let refusal = not_over("production", (2026, 11, 30)).to_string();
    assert_eq!(
        refusal,
        "2026-11 is not over yet (today is 2026-11-30): its production is reported once the month is over, from 2026-12-01"
    );
    let december = FinancialYearError::MonthNotOver {
        month: YearMonth::new(2026, 12).expect("a month"),
        what: "revenue",
        today: day(2026, 12, 31),
    };
    assert!(
        december.to_string().ends_with("from 2027-01-01"),
        "{december}"
    );
}

#[test]
fn a_report_to_a_year_not_opened_says_the_secretary_opens_it() {
    let error = TestFramework::<FinancialYear>::with(FinancialYearServices::new(
        at(2026, 12, 5, 9),
        KnownResolutions::default(),
        SmallFarmTurbines,
        KnownClosings::default(),
    ))
    .given_no_previous_events()
    .when(production(november()));
    error.then_expect_error(FinancialYearError::NotOpened);
    let said = FinancialYearError::NotOpened.to_string();
    assert!(said.contains("the company's secretary opens it"), "{said}");
}
