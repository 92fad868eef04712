//! A farm shaped like the reference case (DESIGN.md 1): three weighted
//! colleges, the industrial partner at most half the capital, the local side
//! at least half, each citizen at most a tenth, transfers to newcomers
//! approved by an ordinary decision, shares locked up until 2015.
#![allow(dead_code)] // Each test binary uses part of the fixture.

use std::collections::BTreeSet;
use std::str::FromStr;

use chrono::NaiveDate;
use cqrs_es::test::TestFramework;
use rust_decimal::Decimal;
use windledger_domain::charter::{Charter, College, OwnershipCap, ShareClass, VoteBasis};
use windledger_domain::company::{
    Company, CompanyEvent, CompanyServices, HolderKind, Incorporation, LegalForm, Subscription,
    Turbine,
};
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_domain::resolution::{AdoptedResolution, KnownResolutions, ResolutionPurpose};
use windledger_domain::types::{
    CollegeId, CommuneCode, DecisionKindId, HolderId, Kilowatts, LegalName, ResolutionId,
    ShareClassId, ShareCount, Siren, TurbineId,
};

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid test date")
}

pub fn holder(id: &str) -> HolderId {
    HolderId::new(id).expect("a valid holder id")
}

pub fn college(id: &str) -> CollegeId {
    CollegeId::new(id).expect("a valid college id")
}

pub fn class(id: &str) -> ShareClassId {
    ShareClassId::new(id).expect("a valid class id")
}

pub fn kind(id: &str) -> DecisionKindId {
    DecisionKindId::new(id).expect("a valid decision kind id")
}

pub fn res(id: &str) -> ResolutionId {
    ResolutionId::new(id).expect("a valid resolution id")
}

pub fn commune(code: &str) -> CommuneCode {
    CommuneCode::new(code).expect("a valid commune code")
}

pub fn eur(amount: &str) -> Euros {
    Euros::new(Decimal::from_str(amount).expect("a decimal")).expect("a non-negative amount")
}

pub fn shares(n: u64) -> ShareCount {
    ShareCount::new(n).expect("a share count in range")
}

pub fn ratio(n: u64, d: u64) -> Ratio {
    Ratio::new(n, d).expect("a non-zero denominator")
}

pub const FORMED: (i32, u32, u32) = (2013, 5, 2);
pub fn formed() -> NaiveDate {
    date(FORMED.0, FORMED.1, FORMED.2)
}
/// After the lock-up and after the resolutions below were adopted.
pub fn later() -> NaiveDate {
    date(2016, 7, 1)
}

pub const LOCAL_A: &str = "42026";
pub const LOCAL_B: &str = "42282";
pub const ELSEWHERE: &str = "69123";

pub const IND: &str = "industriel";
pub const COLL: &str = "collectivites";
pub const CIT: &str = "citoyens";
pub const ORD: &str = "ordinaires";
pub const PREF: &str = "preference";

pub fn charter() -> Charter {
    let college_of = |id: &str, name: &str, weight: Ratio, vote_basis| College {
        id: college(id),
        name: name.to_owned(),
        weight: Some(weight),
        vote_basis,
    };
    let mut charter = Charter::with_french_defaults(
        vec![
            college_of(
                IND,
                "Partenaire industriel",
                ratio(1, 2),
                VoteBasis::PerShare,
            ),
            college_of(COLL, "Collectivités", ratio(1, 4), VoteBasis::PerShare),
            college_of(CIT, "Citoyens", ratio(1, 4), VoteBasis::PerMember),
        ],
        vec![
            ShareClass {
                id: class(ORD),
                name: "Actions ordinaires".to_owned(),
                nominal_value: eur("100"),
                votes_per_share: 1,
                dividend_rights: Ratio::ONE,
                authorised: shares(3_000),
            },
            ShareClass {
                id: class(PREF),
                name: "Actions de préférence".to_owned(),
                nominal_value: eur("50"),
                votes_per_share: 0,
                dividend_rights: ratio(6, 5),
                authorised: shares(1_000),
            },
        ],
    );
    charter.transfers.approval_of_new_holders = Some(kind("ordinary"));
    charter.transfers.locked_until = Some(date(2015, 1, 1));
    charter.transfers.caps = vec![
        OwnershipCap::CollegesAtMost {
            colleges: BTreeSet::from([college(IND)]),
            limit: ratio(1, 2),
        },
        OwnershipCap::CollegesAtLeast {
            colleges: BTreeSet::from([college(COLL), college(CIT)]),
            limit: ratio(1, 2),
        },
        OwnershipCap::HolderAtMost {
            college: Some(college(CIT)),
            limit: ratio(1, 10),
        },
    ];
    charter
}

pub fn incorporation() -> Incorporation {
    let turbine = |id: &str, at: &str| Turbine {
        id: TurbineId::new(id).expect("a valid turbine id"),
        commune: commune(at),
        rated_power: Kilowatts::new(3_000).expect("non-zero power"),
        commissioned_on: date(2019, 11, 15),
    };
    Incorporation {
        legal_name: LegalName::new("Ailes de Taillard SAS").expect("a legal name"),
        legal_form: LegalForm::Sas,
        registration_number: Siren::new("732829320").expect("a valid SIREN"),
        formation_date: formed(),
        share_capital: eur("200000"),
        territory: BTreeSet::from([commune(LOCAL_A), commune(LOCAL_B)]),
        turbines: vec![turbine("T01", LOCAL_A), turbine("T02", LOCAL_B)],
    }
}

fn adopted(
    id: &str,
    kind_id: &str,
    purpose: ResolutionPurpose,
    on: NaiveDate,
) -> AdoptedResolution {
    AdoptedResolution {
        id: res(id),
        decision_kind: kind(kind_id),
        purpose,
        adopted_on: on,
    }
}

pub const NEWCOMER: &str = "h-new";

/// The resolutions the fake meeting stream knows, by id.
pub fn resolutions() -> Vec<AdoptedResolution> {
    let june = date(2016, 6, 30);
    vec![
        adopted(
            "r-amend",
            "extraordinary",
            ResolutionPurpose::CharterAmendment,
            june,
        ),
        adopted(
            "r-amend-ord",
            "ordinary",
            ResolutionPurpose::CharterAmendment,
            june,
        ),
        adopted(
            "r-increase",
            "extraordinary",
            ResolutionPurpose::CapitalIncrease,
            june,
        ),
        adopted(
            "r-increase-ord",
            "ordinary",
            ResolutionPurpose::CapitalIncrease,
            june,
        ),
        adopted(
            "r-increase-2030",
            "extraordinary",
            ResolutionPurpose::CapitalIncrease,
            date(2030, 1, 1),
        ),
        adopted(
            "r-reduction",
            "extraordinary",
            ResolutionPurpose::CapitalReduction,
            june,
        ),
        adopted(
            "r-approve-new",
            "ordinary",
            ResolutionPurpose::TransferApproval {
                transferee: holder(NEWCOMER),
            },
            june,
        ),
    ]
}

pub fn resolution(id: &str) -> AdoptedResolution {
    resolutions()
        .into_iter()
        .find(|r| r.id.as_str() == id)
        .expect("a resolution of the fixture")
}

pub fn services() -> CompanyServices {
    CompanyServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        KnownResolutions::new(resolutions()),
    )
}

pub fn framework() -> TestFramework<Company> {
    TestFramework::with(services())
}

pub fn admitted(id: &str, holder_kind: HolderKind, college_id: &str, at: &str) -> CompanyEvent {
    CompanyEvent::ShareholderAdmitted {
        holder: holder(id),
        kind: holder_kind,
        college: college(college_id),
        commune: commune(at),
        effective_date: formed(),
    }
}

pub fn subscription(id: &str, class_id: &str, count: u64, price: &str) -> Subscription {
    Subscription {
        holder: holder(id),
        class: class(class_id),
        count: shares(count),
        price_per_share: eur(price),
    }
}

/// Incorporated, with the founders and the newcomer registered.
pub fn incorporated() -> Vec<CompanyEvent> {
    vec![
        CompanyEvent::Incorporated {
            company: incorporation(),
            charter: charter(),
        },
        admitted("h-ind", HolderKind::Company, IND, ELSEWHERE),
        admitted("h-sem", HolderKind::Sem, COLL, LOCAL_A),
        admitted("h-c1", HolderKind::Individual, CIT, LOCAL_A),
        admitted("h-c2", HolderKind::Individual, CIT, ELSEWHERE),
        admitted("h-club", HolderKind::InvestmentClub, CIT, LOCAL_B),
        admitted(NEWCOMER, HolderKind::Individual, CIT, LOCAL_B),
    ]
}

/// The initial subscription: 2,000 ordinary shares of 100 EUR, half to the
/// industrial partner, a quarter to the SEM, a quarter to citizens.
pub fn initial_subscriptions() -> Vec<Subscription> {
    vec![
        subscription("h-ind", ORD, 1_000, "100"),
        subscription("h-sem", ORD, 500, "100"),
        subscription("h-c1", ORD, 190, "100"),
        subscription("h-c2", ORD, 160, "100"),
        subscription("h-club", ORD, 150, "100"),
    ]
}

/// Incorporated and capitalised.
pub fn capitalised() -> Vec<CompanyEvent> {
    let mut events = incorporated();
    events.push(CompanyEvent::SharesIssued {
        subscriptions: initial_subscriptions(),
        resolution: None,
        effective_date: formed(),
    });
    events
}

/// The state after folding `events`.
pub fn fold(events: impl IntoIterator<Item = CompanyEvent>) -> Company {
    let mut company = Company::default();
    for event in events {
        cqrs_es::Aggregate::apply(&mut company, event);
    }
    company
}
