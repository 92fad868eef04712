//! The farm's turbines as the cap table keeps them: every installation as
//! of a date or a position, the turbines decided and not yet commissioned,
//! the same as the company stream's own fold.

use cqrs_es::Aggregate;
use windledger_domain::company::{Company, CompanyEvent, Turbine};
use windledger_domain::resolution::{AdoptedResolution, ResolutionPurpose, TurbineWorks};
use windledger_domain::types::{Kilowatts, TurbineId};
use windledger_fixtures::farm::{commune, day, kind, res};
use windledger_fixtures::small_farm::{LOCAL_A, LOCAL_B, charter, incorporation};
use windledger_projections::cap_table::AsOf;

use crate::company_projected as projected;

fn turbine(id: &str) -> TurbineId {
    TurbineId::new(id).expect("a turbine id")
}

fn kw(power: u32) -> Kilowatts {
    Kilowatts::new(power).expect("a power")
}

fn works(id: &str, works: TurbineWorks) -> AdoptedResolution {
    AdoptedResolution {
        id: res(format!("ag-2020.{id}")),
        decision_kind: kind("extraordinary"),
        purpose: ResolutionPurpose::TurbineWorks {
            turbine: turbine(id),
            works,
        },
        adopted_on: day(2020, 6, 30),
    }
}

/// The small farm (T01, T02 of 3,000 kW, commissioned on 15 November
/// 2019); T03 added in 2020, commissioned on 1 March 2021; T01 repowered to
/// 4,200 kW on 1 June 2021; T02 decommissioned on 30 September 2022.
fn life() -> Vec<CompanyEvent> {
    vec![
        CompanyEvent::Incorporated {
            company: incorporation(),
            charter: charter().build(),
        },
        CompanyEvent::TurbineAdded {
            turbine: turbine("T03"),
            commune: commune(LOCAL_B),
            rated_power: kw(2_000),
            resolution: works("T03", TurbineWorks::Addition),
            effective_date: day(2020, 9, 1),
        },
        CompanyEvent::TurbineCommissioned {
            turbine: turbine("T03"),
            effective_date: day(2021, 3, 1),
        },
        CompanyEvent::TurbineRepowered {
            turbine: turbine("T01"),
            rated_power: kw(4_200),
            resolution: works("T01", TurbineWorks::Repowering),
            effective_date: day(2021, 6, 1),
        },
        CompanyEvent::TurbineDecommissioned {
            turbine: turbine("T02"),
            resolution: works("T02", TurbineWorks::Decommissioning),
            effective_date: day(2022, 9, 30),
        },
    ]
}

fn installation(
    id: &str,
    power: u32,
    from: (i32, u32, u32),
    to: Option<(i32, u32, u32)>,
) -> Turbine {
    Turbine {
        id: turbine(id),
        commune: commune(if id == "T01" { LOCAL_A } else { LOCAL_B }),
        rated_power: kw(power),
        commissioned_on: day(from.0, from.1, from.2),
        decommissioned_on: to.map(|(y, m, d)| day(y, m, d)),
    }
}

#[test]
fn the_turbines_are_read_as_of_a_date_or_a_position_as_the_company_folds_them() {
    let events = life();
    let projections = projected(&events);
    let fold = projections.cap_table.fold();
    let t01 = installation("T01", 3_000, (2019, 11, 15), None);
    let t02 = installation("T02", 3_000, (2019, 11, 15), None);
    // At the end of 2020: T03 decided, not in service.
    let end_of_2020 = AsOf::Date {
        date: day(2020, 12, 31),
    };
    assert_eq!(fold.turbines(end_of_2020), vec![t01.clone(), t02.clone()]);
    assert_eq!(
        fold.fleet(end_of_2020).planned().keys().collect::<Vec<_>>(),
        vec![&turbine("T03")]
    );
    // After the third event: T03 in service, T01 not yet repowered.
    assert_eq!(
        fold.turbines(AsOf::Position { position: 3 }),
        vec![t01, t02, installation("T03", 2_000, (2021, 3, 1), None),]
    );
    // Everything: the same installations as the company stream's own fold,
    // in the snapshot the domain's services read too.
    let mut company = Company::default();
    for e in &events {
        company.apply(e.clone());
    }
    let all = fold.turbines(AsOf::Latest);
    assert_eq!(all, company.fleet().installations());
    assert_eq!(
        all,
        vec![
            installation("T01", 3_000, (2019, 11, 15), Some((2021, 6, 1))),
            installation("T02", 3_000, (2019, 11, 15), Some((2022, 9, 30))),
            installation("T03", 2_000, (2021, 3, 1), None),
            installation("T01", 4_200, (2021, 6, 1), None),
        ]
    );
    let day_after = day(2022, 10, 1);
    let snapshot = fold
        .snapshot(AsOf::Date { date: day_after }, day_after)
        .expect("incorporated");
    assert_eq!(snapshot.turbines, all);
    // Now: the turbines not decommissioned, as the public pages count them.
    assert_eq!(
        fold.current_turbines(),
        vec![
            installation("T03", 2_000, (2021, 3, 1), None),
            installation("T01", 4_200, (2021, 6, 1), None),
        ]
    );
}
