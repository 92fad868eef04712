//! Turbines over the farm's life: added by resolution then commissioned,
//! repowered and decommissioned by resolution; IFER follows the power
//! installed on 1 January of each year, each installation split by its own
//! commissioning date; production is reported for the months a turbine was
//! in service.

use std::sync::Arc;

use chrono::NaiveDate;
use windledger_domain::cap_table::{CapTableService, CapTableSnapshot};
use windledger_domain::company::{
    Company, CompanyCommand, CompanyError, CompanyEvent, CompanyServices, Turbine,
};
use windledger_domain::finance::{
    FinancialYear, FinancialYearCommand, FinancialYearError, FinancialYearEvent,
    FinancialYearServices, IferSplit, KnownClosings, YearMonth,
};
use windledger_domain::resolution::{
    AdoptedResolution, BoxFuture, KnownResolutions, LookupError, ResolutionPurpose, TurbineWorks,
    Unbacked,
};
use windledger_domain::types::{Kilowatts, Siren, TurbineId};

use crate::common::*;

fn turbine(id: &str) -> TurbineId {
    TurbineId::new(id).expect("a turbine id")
}

fn kw(power: u32) -> Kilowatts {
    Kilowatts::new(power).expect("a power")
}

/// The resolution `r-<works>-<turbine>` deciding `works` on `turbine`.
fn works(id: &str, works: TurbineWorks) -> AdoptedResolution {
    adopted_resolution(
        &format!("r-{works}-{id}"),
        "extraordinary",
        ResolutionPurpose::TurbineWorks {
            turbine: turbine(id),
            works,
        },
        day(2020, 6, 30),
    )
}

fn company_services() -> CompanyServices {
    let known = [
        works("T03", TurbineWorks::Addition),
        works("T01", TurbineWorks::Repowering),
        works("T02", TurbineWorks::Decommissioning),
        works("T02", TurbineWorks::Repowering),
    ];
    CompanyServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        KnownResolutions::new(known),
    )
}

/// The small farm with T01 commissioned before 2019 (on 1 June 2015), T02
/// in 2019.
fn formed_with_an_older_turbine() -> Vec<CompanyEvent> {
    let mut events = capitalised();
    if let CompanyEvent::Incorporated { company, .. } = &mut events[0] {
        company.turbines[0].commissioned_on = day(2015, 6, 1);
    }
    events
}

fn add_t03() -> CompanyCommand {
    CompanyCommand::AddTurbine {
        turbine: turbine("T03"),
        commune: commune(LOCAL_B),
        rated_power: kw(2_000),
        resolution: res("r-addition-T03"),
        effective_date: day(2020, 9, 1),
    }
}

fn commission_t03() -> CompanyCommand {
    CompanyCommand::CommissionTurbine {
        turbine: turbine("T03"),
        effective_date: day(2021, 3, 1),
    }
}

fn repower_t01() -> CompanyCommand {
    CompanyCommand::RepowerTurbine {
        turbine: turbine("T01"),
        rated_power: kw(4_200),
        resolution: res("r-repowering-T01"),
        effective_date: day(2021, 6, 1),
    }
}

fn decommission_t02() -> CompanyCommand {
    CompanyCommand::DecommissionTurbine {
        turbine: turbine("T02"),
        resolution: res("r-decommissioning-T02"),
        effective_date: day(2022, 9, 30),
    }
}

/// The company after running `commands` on `given`: every event.
fn run(given: Vec<CompanyEvent>, commands: Vec<CompanyCommand>) -> Vec<CompanyEvent> {
    let mut company = fold(given.clone());
    let mut events = given;
    for command in commands {
        let new = windledger_fixtures::farm::run(&mut company, command, &company_services())
            .expect("the command is accepted");
        for e in &new {
            cqrs_es::Aggregate::apply(&mut company, e.clone());
        }
        events.extend(new);
    }
    events
}

fn refusal(given: Vec<CompanyEvent>, command: CompanyCommand) -> CompanyError {
    let mut company = fold(given);
    windledger_fixtures::farm::run(&mut company, command, &company_services())
        .expect_err("the command is refused")
}

/// The farm's life: T03 added in 2020 and commissioned on 1 March 2021,
/// T01 repowered from 3,000 to 4,200 kW on 1 June 2021, T02 decommissioned
/// on 30 September 2022.
fn life() -> Vec<CompanyEvent> {
    run(
        formed_with_an_older_turbine(),
        vec![
            add_t03(),
            commission_t03(),
            repower_t01(),
            decommission_t02(),
        ],
    )
}

fn turbines_on(events: &[CompanyEvent], on: NaiveDate) -> Vec<Turbine> {
    Company::as_of(events.iter().cloned(), on)
        .cap_table(on)
        .expect("incorporated")
        .turbines
}

fn installation(id: &str, power: u32, from: NaiveDate, to: Option<NaiveDate>) -> Turbine {
    Turbine {
        id: turbine(id),
        commune: commune(if id == "T01" { LOCAL_A } else { LOCAL_B }),
        rated_power: kw(power),
        commissioned_on: from,
        decommissioned_on: to,
    }
}

#[test]
fn a_turbine_added_by_resolution_is_in_service_once_commissioned() {
    let added = run(formed_with_an_older_turbine(), vec![add_t03()]);
    assert_eq!(
        added.last(),
        Some(&CompanyEvent::TurbineAdded {
            turbine: turbine("T03"),
            commune: commune(LOCAL_B),
            rated_power: kw(2_000),
            resolution: works("T03", TurbineWorks::Addition),
            effective_date: day(2020, 9, 1),
        })
    );
    // Decided, not in service: not among the cap table's turbines yet.
    assert_eq!(turbines_on(&added, day(2021, 1, 1)).len(), 2);
    let commissioned = run(added.clone(), vec![commission_t03()]);
    assert_eq!(
        turbines_on(&commissioned, day(2021, 3, 1))[2],
        installation("T03", 2_000, day(2021, 3, 1), None)
    );
    // Commissioned once; an id of the farm is not added again; a turbine
    // the farm never added is not commissioned.
    assert_eq!(
        refusal(commissioned.clone(), commission_t03()),
        CompanyError::TurbineAlreadyCommissioned(turbine("T03"))
    );
    assert_eq!(
        refusal(
            commissioned,
            CompanyCommand::AddTurbine {
                turbine: turbine("T03"),
                commune: commune(LOCAL_B),
                rated_power: kw(2_000),
                resolution: res("r-addition-T03"),
                effective_date: day(2021, 4, 1),
            }
        ),
        CompanyError::DuplicateTurbine(turbine("T03"))
    );
    assert_eq!(
        refusal(
            added,
            CompanyCommand::CommissionTurbine {
                turbine: turbine("T09"),
                effective_date: day(2021, 3, 1),
            }
        ),
        CompanyError::UnknownTurbine(turbine("T09"))
    );
}

#[test]
fn works_need_a_resolution_deciding_them_on_that_turbine_and_a_turbine_in_the_territory() {
    // The repowering of T01 does not decide T02's.
    assert_eq!(
        refusal(
            formed_with_an_older_turbine(),
            CompanyCommand::RepowerTurbine {
                turbine: turbine("T02"),
                rated_power: kw(4_200),
                resolution: res("r-repowering-T01"),
                effective_date: day(2021, 6, 1),
            }
        ),
        CompanyError::Unbacked(Unbacked::PurposeMismatch {
            resolution: res("r-repowering-T01"),
            expected: Box::new(ResolutionPurpose::TurbineWorks {
                turbine: turbine("T02"),
                works: TurbineWorks::Repowering,
            }),
            found: Box::new(ResolutionPurpose::TurbineWorks {
                turbine: turbine("T01"),
                works: TurbineWorks::Repowering,
            }),
        })
    );
    assert_eq!(
        refusal(
            formed_with_an_older_turbine(),
            CompanyCommand::AddTurbine {
                turbine: turbine("T03"),
                commune: commune(ELSEWHERE),
                rated_power: kw(2_000),
                resolution: res("r-addition-T03"),
                effective_date: day(2020, 9, 1),
            }
        ),
        CompanyError::TurbineOutsideTerritory {
            turbine: turbine("T03"),
            commune: commune(ELSEWHERE),
        }
    );
}

#[test]
fn repowering_replaces_the_installation_and_decommissioning_ends_it() {
    let life = life();
    assert_eq!(
        turbines_on(&life, day(2022, 12, 31)),
        vec![
            installation("T01", 3_000, day(2015, 6, 1), Some(day(2021, 6, 1))),
            installation("T02", 3_000, day(2019, 11, 15), Some(day(2022, 9, 30))),
            installation("T03", 2_000, day(2021, 3, 1), None),
            installation("T01", 4_200, day(2021, 6, 1), None),
        ]
    );
    // A turbine out of service is neither repowered nor decommissioned
    // again; nor is one on the day it was commissioned.
    let gone = CompanyError::TurbineNotInService {
        turbine: turbine("T02"),
        on: day(2022, 10, 1),
    };
    assert_eq!(
        refusal(
            life.clone(),
            CompanyCommand::RepowerTurbine {
                turbine: turbine("T02"),
                rated_power: kw(4_200),
                resolution: res("r-repowering-T02"),
                effective_date: day(2022, 10, 1),
            }
        ),
        gone
    );
    assert_eq!(
        refusal(
            life,
            CompanyCommand::DecommissionTurbine {
                turbine: turbine("T02"),
                resolution: res("r-decommissioning-T02"),
                effective_date: day(2022, 10, 1),
            }
        ),
        gone
    );
}

/// The company stream, as the financial year asks it.
struct CompanyOf(Arc<Vec<CompanyEvent>>);

impl CapTableService for CompanyOf {
    fn cap_table<'a>(
        &'a self,
        on: NaiveDate,
    ) -> BoxFuture<'a, Result<CapTableSnapshot, LookupError>> {
        let table = Company::as_of(self.0.iter().cloned(), on)
            .cap_table(on)
            .ok_or_else(|| LookupError(format!("the company did not exist on {on}")));
        Box::pin(std::future::ready(table))
    }
}

/// Financial year `year`, opened on 1 January, on the farm's life.
fn year(year: i32) -> (FinancialYear, FinancialYearServices) {
    let services = FinancialYearServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        KnownResolutions::default(),
        CompanyOf(Arc::new(life())),
        KnownClosings::default(),
    );
    let mut state = FinancialYear::default();
    let opened = windledger_fixtures::farm::run(
        &mut state,
        FinancialYearCommand::OpenYear {
            year,
            starts_on: day(year, 1, 1),
            ends_on: day(year, 12, 31),
            opening_balances: None,
        },
        &services,
    )
    .expect("the year opens");
    for e in opened {
        cqrs_es::Aggregate::apply(&mut state, e);
    }
    (state, services)
}

fn run_year(
    year_of: i32,
    command: FinancialYearCommand,
) -> Result<FinancialYearEvent, FinancialYearError> {
    let (mut state, services) = year(year_of);
    windledger_fixtures::farm::run(&mut state, command, &services).map(|mut e| e.remove(0))
}

/// IFER of `tax_year` under an EPCI with single business tax: each line's
/// turbine, power, commissioning date and split.
fn ifer(tax_year: i32) -> Vec<(String, u32, NaiveDate, IferSplit)> {
    let assessed = run_year(
        tax_year,
        FinancialYearCommand::AssessIfer {
            report: report(format!("ifer-{tax_year}")),
            tax_year,
            rate_per_kw: eur("8.51"),
            epci: Siren::new("244200770").expect("a SIREN"),
            epci_single_business_tax: true,
            corrects: None,
        },
    )
    .expect("IFER is assessed");
    let FinancialYearEvent::IferAssessed { lines, .. } = assessed else {
        panic!("not an assessment: {assessed:?}");
    };
    lines
        .into_iter()
        .map(|l| {
            (
                l.turbine.to_string(),
                l.rated_power.get(),
                l.commissioned_on,
                l.split,
            )
        })
        .collect()
}

#[test]
fn ifer_follows_the_power_installed_on_1_january_split_by_each_installation_s_commissioning() {
    use IferSplit::{Before2019SingleBusinessTax as Before2019, From2019};
    let t01_old = ("T01".to_owned(), 3_000, day(2015, 6, 1), Before2019);
    let t01_new = ("T01".to_owned(), 4_200, day(2021, 6, 1), From2019);
    let t02 = ("T02".to_owned(), 3_000, day(2019, 11, 15), From2019);
    let t03 = ("T03".to_owned(), 2_000, day(2021, 3, 1), From2019);
    // On 1 January 2021: T01 as built (0/70/30, commissioned before 2019)
    // and T02; T03 was not commissioned yet.
    assert_eq!(ifer(2021), vec![t01_old, t02.clone()]);
    // On 1 January 2022: T01 repowered (4,200 kW, commissioned in 2021:
    // 20/50/30), T02 and T03.
    assert_eq!(ifer(2022), vec![t02.clone(), t03.clone(), t01_new.clone()]);
    // On 1 January 2023: T02 decommissioned.
    assert_eq!(ifer(2023), vec![t03, t01_new]);
}

fn production(
    turbine_id: &str,
    year_of: i32,
    month: u32,
) -> Result<FinancialYearEvent, FinancialYearError> {
    run_year(
        year_of,
        FinancialYearCommand::ReportProduction {
            report: report(format!("p-{turbine_id}-{year_of}-{month}")),
            turbine: turbine(turbine_id),
            month: YearMonth::new(year_of, month).expect("a month"),
            mwh: dec("500"),
            availability: dec("97"),
            corrects: None,
        },
    )
}

#[test]
fn production_is_reported_for_the_months_a_turbine_was_in_service() {
    let month = |year: i32, month: u32| YearMonth::new(year, month).expect("a month");
    // T03, commissioned on 1 March 2021, added after the year opened.
    let before_commissioning = FinancialYearError::BeforeCommissioning {
        turbine: turbine("T03"),
        month: month(2021, 2),
        commissioned_on: day(2021, 3, 1),
    };
    assert!(production("T03", 2021, 3).is_ok());
    assert_eq!(production("T03", 2021, 2), Err(before_commissioning));
    // T01 in the month of its repowering; T02 in the month it left
    // service, not after.
    let after_decommissioning = FinancialYearError::AfterDecommissioning {
        turbine: turbine("T02"),
        month: month(2022, 10),
        decommissioned_on: day(2022, 9, 30),
    };
    assert!(production("T01", 2021, 6).is_ok());
    assert!(production("T02", 2022, 9).is_ok());
    assert_eq!(production("T02", 2022, 10), Err(after_decommissioning));
}
