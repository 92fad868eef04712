//! A small farm's year, recorded through the domain's aggregates and fed to
//! the projections: the figures below are computed by hand.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use cqrs_es::{Aggregate, DomainEvent};
use rust_decimal::Decimal;
use serde::Serialize;
use windledger_domain::cap_table::KnownCapTables;
use windledger_domain::charter::Charter;
use windledger_domain::company::{
    Company, CompanyCommand, CompanyServices, HolderKind, Incorporation, Subscription, Turbine,
};
use windledger_domain::finance::{
    AdvanceCommand, AdvanceServices, Balances, Beneficiary, CostCategory, CurrentAccountAdvance,
    DividendAmount, FinancialYear, FinancialYearCommand, FinancialYearEvent, FinancialYearServices,
    KnownClosings, LocalTax, RevenueKind, YearMonth,
};
use windledger_domain::meeting::{
    Call, Choice, Meeting, MeetingCommand, MeetingKind, MeetingServices,
};
use windledger_domain::money::{Euros, SignedEuros};
use windledger_domain::resolution::KnownResolutions;
use windledger_domain::types::{AdvanceId, CommuneCode, PartyId, Siren, TurbineId};
use windledger_fixtures::farm::{
    self, CharterBuilder, at, commune, day, dec, eur, holder, ordinary_shares, report, res,
};
use windledger_projections::cap_table::AsOf;
use windledger_projections::event::LedgerEvent;
use windledger_projections::finance::SumOverflow;
use windledger_projections::local_returns::{Leaving, LocalBeneficiary, ReturnKind, local_returns};
use windledger_projections::runner::Projections;
use windledger_projections::statement::statement;

/// The ledger being written: each aggregate's events, in the order run.
#[derive(Default)]
struct Ledger {
    events: Vec<LedgerEvent>,
}

impl Ledger {
    /// Runs `command` on the company, with no resolution known.
    async fn company(&mut self, company: &mut Company, command: CompanyCommand) {
        let services = CompanyServices::new(
            windledger_fixtures::farm::history_clock(),
            KnownResolutions::default(),
        );
        self.run("company/farm", company, &services, command).await;
    }

    async fn run<A>(
        &mut self,
        stream: &str,
        state: &mut A,
        services: &A::Services,
        command: A::Command,
    ) where
        A: Aggregate,
        A::Event: Serialize,
        A::Error: std::fmt::Debug,
    {
        let events = farm::run(state, command, services)
            .unwrap_or_else(|e| panic!("refused on {stream}: {e:?}"));
        for event in events {
            let position = self.events.len() as u64 + 1;
            self.events.push(LedgerEvent::unrecorded(
                position,
                stream.to_owned(),
                event.event_type(),
                serde_json::to_string(&event).expect("serialises"),
                at(2030, 1, 1, 0),
            ));
        }
    }
}

const TERRITORY: [&str; 2] = ["42026", "42282"];

fn charter() -> Charter {
    CharterBuilder::one_college()
        .class(ordinary_shares(10_000))
        .build()
}

/// The company, formed on `formed` with `capital` EUR of share capital.
fn parc_des_crets(
    formed: NaiveDate,
    capital: &str,
    territory: BTreeSet<CommuneCode>,
    turbines: Vec<Turbine>,
) -> Incorporation {
    farm::sas(
        "Parc des Crêts SAS",
        formed,
        eur(capital),
        territory,
        turbines,
    )
}

/// Partner (outside the territory) 500, the communauté de communes 200,
/// Alice (in the territory) 200, Bob (outside) 100.
async fn history() -> Vec<LedgerEvent> {
    let mut ledger = Ledger::default();
    let formed = day(2019, 1, 10);
    let mut company = Company::default();
    let turbine = |id: &str, c: &str| farm::turbine(id, c, 2_000, day(2020, 3, 1));
    ledger
        .company(
            &mut company,
            CompanyCommand::Incorporate {
                company: parc_des_crets(
                    formed,
                    "100000",
                    TERRITORY.iter().map(commune).collect(),
                    vec![turbine("T1", "42026"), turbine("T2", "42282")],
                ),
                charter: charter(),
            },
        )
        .await;
    let holders = [
        ("partner", HolderKind::Company, "92026", 500),
        ("ccmp", HolderKind::LocalAuthority, "42026", 200),
        ("alice", HolderKind::Individual, "42026", 200),
        ("bob", HolderKind::Individual, "69123", 100),
    ];
    for (id, kind, c, _) in holders {
        ledger
            .company(
                &mut company,
                farm::admission(id, kind, "associes", c, formed),
            )
            .await;
    }
    let subscriptions = holders
        .iter()
        .map(|(id, _, _, n)| Subscription {
            holder: holder(id),
            class: farm::class("ordinaires"),
            count: farm::shares(*n),
            price_per_share: eur("100"),
        })
        .collect();
    ledger
        .company(
            &mut company,
            CompanyCommand::IssueShares {
                subscriptions,
                resolution: None,
                effective_date: formed,
            },
        )
        .await;
    let cap_tables = || KnownCapTables::new(company.cap_table(formed));

    // Alice lends 10,000.00 at 2 % for 2021: 200.00 of interest.
    let mut advance = CurrentAccountAdvance::default();
    let advance_services =
        AdvanceServices::new(windledger_fixtures::farm::history_clock(), cap_tables());
    for command in [
        AdvanceCommand::Grant {
            advance: AdvanceId::new("cca-alice").expect("an id"),
            holder: holder("alice"),
            amount: eur("10000.00"),
            annual_rate: dec("2"),
            granted_on: day(2021, 1, 1),
        },
        AdvanceCommand::AccrueInterest {
            year: 2021,
            rate_ceiling: dec("5"),
            accrued_on: day(2022, 1, 5),
            withholding: None,
            withholding_status: None,
        },
    ] {
        ledger
            .run(
                "current-account-advance/cca-alice",
                &mut advance,
                &advance_services,
                command,
            )
            .await;
    }

    // The 2022 general meeting adopts the 2021 accounts and appropriation.
    let mut meeting = Meeting::default();
    let meeting_services =
        MeetingServices::new(windledger_fixtures::farm::history_clock(), cap_tables());
    let agenda = farm::accounts_agenda(
        2021,
        "Approbation des comptes 2021",
        "Affectation du résultat 2021",
    );
    let ballot = |voter: &str| MeetingCommand::CastBallot {
        voter: holder(voter),
        cast_by: holder(voter),
        choices: BTreeMap::from([
            (res("ago-2022.1"), Choice::For),
            (res("ago-2022.2"), Choice::For),
        ]),
        at: at(2022, 6, 20, 9),
    };
    for command in [
        MeetingCommand::Convene {
            meeting: farm::meeting_id("ago-2022"),
            kind: MeetingKind::OrdinaryGeneralMeeting,
            call: Call::First,
            record_date: day(2022, 6, 10),
            opens_at: at(2022, 6, 15, 8),
            closes_at: at(2022, 6, 25, 18),
            agenda,
            members: vec![],
            convened_on: day(2022, 5, 20),
        },
        MeetingCommand::OpenVoting {
            at: at(2022, 6, 15, 8),
        },
        ballot("partner"),
        ballot("ccmp"),
        MeetingCommand::Close {
            at: at(2022, 6, 25, 18),
        },
    ] {
        ledger
            .run("meeting/ago-2022", &mut meeting, &meeting_services, command)
            .await;
    }
    let adopted =
        ["ago-2022.1", "ago-2022.2"].map(|id| meeting.adopted(&res(id)).expect("adopted"));

    // The 2021 financial year.
    let mut year = FinancialYear::default();
    let year_services = FinancialYearServices::new(
        windledger_fixtures::farm::history_clock(),
        KnownResolutions::new(adopted),
        cap_tables(),
        KnownClosings::default(),
    );
    let month = |m| YearMonth::new(2021, m).expect("a month");
    let epci = Siren::new("200011179").expect("a SIREN");
    let cost = |id: &str, category, amount: &str, beneficiary| FinancialYearCommand::RecordCost {
        report: report(id),
        month: month(6),
        category,
        amount: eur(amount),
        beneficiary,
        corrects: None,
    };
    let landowner = |party: &str, c: &str| {
        Some(Beneficiary::Landowner {
            party: PartyId::new(party).expect("an id"),
            commune: commune(c),
        })
    };
    for command in [
        FinancialYearCommand::OpenYear {
            year: 2021,
            starts_on: day(2021, 1, 1),
            ends_on: day(2021, 12, 31),
            opening_balances: Some(Balances {
                legal_reserve: eur("10000.00"),
                ..Balances::default()
            }),
        },
        FinancialYearCommand::ReportProduction {
            report: report("p-t1-01"),
            turbine: TurbineId::new("T1").expect("an id"),
            month: month(1),
            mwh: dec("510.000"),
            availability: dec("98"),
            corrects: None,
        },
        FinancialYearCommand::ReportProduction {
            report: report("p-t1-01-fix"),
            turbine: TurbineId::new("T1").expect("an id"),
            month: month(1),
            mwh: dec("500.000"),
            availability: dec("98"),
            corrects: Some(report("p-t1-01")),
        },
        FinancialYearCommand::RecordRevenue {
            report: report("r-01"),
            month: month(1),
            kind: RevenueKind::MarketSales,
            volume_mwh: dec("1000"),
            price_per_mwh: dec("80"),
            corrects: None,
        },
        FinancialYearCommand::RecordRevenue {
            report: report("r-02"),
            month: month(2),
            kind: RevenueKind::MarketSales,
            volume_mwh: dec("900"),
            price_per_mwh: dec("85"),
            corrects: None,
        },
        FinancialYearCommand::AssessIfer {
            report: report("ifer-2021"),
            tax_year: 2021,
            rate_per_kw: eur("8.00"),
            epci: epci.clone(),
            epci_single_business_tax: true,
            corrects: None,
        },
        FinancialYearCommand::RecordLocalTax {
            report: report("cfe-2021"),
            tax: LocalTax::Cfe,
            beneficiary: Beneficiary::Commune {
                commune: commune("42026"),
            },
            amount: eur("1500.00"),
            corrects: None,
        },
        cost(
            "rent-1",
            CostCategory::LandRent,
            "4000.00",
            landowner("owner-1", "42282"),
        ),
        cost(
            "rent-2",
            CostCategory::LandRent,
            "1000.00",
            landowner("owner-2", "69123"),
        ),
        cost(
            "fund",
            CostCategory::CommunityFund,
            "2000.00",
            Some(Beneficiary::CommunityFund),
        ),
        cost("maintenance", CostCategory::Maintenance, "30000.00", None),
        FinancialYearCommand::ApproveAccounts {
            resolution: res("ago-2022.1"),
            net_result: dec("50000.00"),
        },
        FinancialYearCommand::AppropriateResult {
            resolution: res("ago-2022.2"),
            statutory_reserves: eur("0.00"),
            dividend: eur("20000.00"),
        },
        FinancialYearCommand::DeclareDividend {
            resolution: res("ago-2022.2"),
            amount: DividendAmount::Total {
                amount: eur("20000.00"),
            },
            record_date: day(2022, 6, 30),
            payment_date: day(2022, 7, 15),
            withholding: None,
            withholding_statuses: Default::default(),
        },
        FinancialYearCommand::RecordDividendPayment {
            holder: holder("alice"),
            paid_on: day(2022, 7, 15),
        },
    ] {
        ledger
            .run("financial-year/2021", &mut year, &year_services, command)
            .await;
    }
    ledger.events
}

async fn projected() -> Projections {
    let mut projections = Projections::default();
    for e in history().await {
        projections.apply(&e);
    }
    assert_eq!(projections.failure(), None);
    projections
}

fn amounts(pairs: &[(ReturnKind, &str)]) -> BTreeMap<ReturnKind, Euros> {
    pairs.iter().map(|(k, a)| (*k, eur(a))).collect()
}

#[tokio::test]
async fn local_returns_of_the_year_by_beneficiary() {
    let projections = projected().await;
    let returns = local_returns(&projections, 2021)
        .expect("the sums fit")
        .expect("the year");
    let local: BTreeMap<_, _> = returns
        .local
        .iter()
        .map(|l| (l.party.clone(), l.amounts.clone()))
        .collect();
    use ReturnKind::*;
    // IFER: 2,000 kW x 8.00 = 16,000.00 a turbine, 20 / 50 / 30.
    let expected = BTreeMap::from([
        (
            LocalBeneficiary::Commune {
                commune: commune("42026"),
            },
            amounts(&[(Ifer, "3200.00"), (Cfe, "1500.00")]),
        ),
        (
            LocalBeneficiary::Commune {
                commune: commune("42282"),
            },
            amounts(&[(Ifer, "3200.00")]),
        ),
        (
            LocalBeneficiary::Epci {
                siren: Siren::new("200011179").expect("a SIREN"),
            },
            amounts(&[(Ifer, "16000.00")]),
        ),
        (
            LocalBeneficiary::Departement {
                code: "42".to_owned(),
            },
            amounts(&[(Ifer, "9600.00")]),
        ),
        (
            LocalBeneficiary::Landowner {
                party: PartyId::new("owner-1").expect("an id"),
                commune: commune("42282"),
            },
            amounts(&[(LandRent, "4000.00")]),
        ),
        (
            LocalBeneficiary::CommunityFund,
            amounts(&[(CommunityFund, "2000.00")]),
        ),
        // The dividend of 20,000.00 by shares: Alice 4,000.00 (and her
        // current-account interest), the communauté de communes 4,000.00.
        (
            LocalBeneficiary::LocalHolders,
            amounts(&[(Dividends, "4000.00"), (CurrentAccountInterest, "200.00")]),
        ),
        (
            LocalBeneficiary::PublicHolders,
            amounts(&[(Dividends, "4000.00")]),
        ),
    ]);
    assert_eq!(local, expected);
    assert_eq!(returns.local_total, eur("47700.00"));

    let leaving: BTreeMap<_, _> = returns
        .leaving
        .iter()
        .map(|l| (l.party.clone(), l.total))
        .collect();
    assert_eq!(
        leaving,
        BTreeMap::from([
            (Leaving::NonLocalHolders, eur("2000.00")),
            (Leaving::NonLocalCompanies, eur("10000.00")),
            (Leaving::NonLocalLandowners, eur("1000.00")),
        ])
    );
    assert_eq!(returns.leaving_total, eur("13000.00"));
    // Revenue 80,000.00 + 76,500.00; 47,700 / 156,500 = 30.48 %.
    assert_eq!(returns.revenue.amount(), dec("156500.00"));
    assert_eq!(returns.local_share_pct, Some(dec("30.48")));
}

#[tokio::test]
async fn cap_table_vote_weights_register_and_statement() {
    let projections = projected().await;
    let cap_table = projections.cap_table.fold();
    let view = cap_table.view(AsOf::Latest).expect("incorporated");
    let partner = view
        .rows
        .iter()
        .find(|r| r.holder == &holder("partner"))
        .expect("a row");
    assert_eq!(
        (partner.shares, partner.capital_pct, partner.votes_pct),
        (500, dec("50"), dec("50"))
    );
    assert_eq!(view.share_capital, eur("100000"));
    let before = cap_table.view(AsOf::Date {
        date: day(2019, 1, 9),
    });
    assert!(before.is_none(), "nothing before the formation date");

    let weights = cap_table.vote_weights(day(2022, 6, 10)).expect("a roll");
    assert_eq!(weights.total, 1_000);
    assert_eq!(weights.by_college.values().sum::<u64>(), weights.total);

    let register = projections.register.fold();
    let meeting = register.meeting("ago-2022").expect("the meeting");
    assert_eq!(meeting.roll.as_ref().map(|r| r.total), Some(1_000));
    assert_eq!(meeting.ballots.len(), 2);
    let closed = meeting.closed.as_ref().expect("closed");
    assert!(closed.results.iter().all(|r| r.outcome.is_adopted()));
    // Receipts are the ballots' positions in the ledger.
    assert!(meeting.ballots[0].receipt.position < meeting.ballots[1].receipt.position);
    assert!(meeting.ballots[1].receipt.position < closed.at.position);

    let alice = statement(&projections, &holder("alice")).expect("a statement");
    assert_eq!(alice.holdings.len(), 1);
    assert_eq!(alice.holdings[0].balance, 200);
    assert_eq!(alice.dividends.len(), 1);
    let dividend = &alice.dividends[0];
    assert_eq!(
        (
            dividend.gross,
            dividend.income_tax,
            dividend.social_contributions,
            dividend.net
        ),
        (eur("4000.00"), eur("512.00"), eur("688.00"), eur("2800.00"))
    );
    assert_eq!(dividend.paid_on, Some(day(2022, 7, 15)));
    assert_eq!(alice.interest.len(), 1);
    let partner = statement(&projections, &holder("partner")).expect("a statement");
    assert_eq!(
        partner.ballots.len(),
        1,
        "the partner's ballot with its receipt"
    );

    let year = projections.finance.fold().year(2021).expect("the year");
    let production = year.production();
    assert_eq!(
        production.len(),
        1,
        "the correction replaced the first report"
    );
    assert_eq!(
        production.values().next().map(|v| v.0),
        Some(dec("500.000"))
    );
}

#[tokio::test]
async fn a_bad_event_stops_the_projections_that_read_it_at_its_position() {
    let mut events = history().await;
    let broken = 10;
    events[broken - 1].payload = "{\"SharesIssued\":{}}".to_owned();
    let mut projections = Projections::default();
    for e in &events {
        projections.apply(e);
    }
    let failure = projections.failure().expect("a failure");
    assert_eq!(failure.position, broken as u64);
    assert!(failure.to_string().contains("position 10"), "{failure}");
    // Stopped there: nothing after it was applied.
    assert_eq!(projections.position(), broken as u64 - 1);
}

/// Two revenue lines of 7 x 10^28 EUR in one month, as a ledger recorded
/// before commands were bounded may hold (each fits an exact decimal, their
/// sum does not): the fold applies them, and every sum over that year is
/// refused naming the report, instead of panicking.
#[tokio::test]
async fn figures_recorded_before_the_bounds_are_kept_and_their_sums_refused() {
    let mut events = history().await;
    for i in 1..=2 {
        let huge = dec("70000000000000000000000000000");
        let event = FinancialYearEvent::RevenueRecorded {
            report: report(format!("huge-{i}")),
            month: YearMonth::new(2021, 3).expect("a month"),
            kind: RevenueKind::MarketSales,
            volume_mwh: huge,
            price_per_mwh: Decimal::ONE,
            amount: SignedEuros::new(huge),
            corrects: None,
        };
        let position = events.len() as u64 + 1;
        events.push(LedgerEvent {
            position,
            stream_id: "financial-year/2021".to_owned(),
            stream_version: 0,
            event_type: event.event_type(),
            payload: serde_json::to_string(&event).expect("serialises"),
            recorded_at: at(2030, 1, 1, 0),
            hash: windledger_projections::event::EventHash([7; 32]),
        });
    }
    let mut projections = Projections::default();
    for e in &events {
        projections.apply(e);
    }
    assert_eq!(projections.failure(), None, "the fold applies every figure");
    let year = projections.finance.fold().year(2021).expect("the year");
    let refused = SumOverflow {
        year: 2021,
        what: "report huge-2".to_owned(),
    };
    assert_eq!(year.revenue(), Err(refused.clone()));
    assert_eq!(year.total_revenue(), Err(refused.clone()));
    assert_eq!(year.monthly(), Err(refused.clone()));
    assert_eq!(local_returns(&projections, 2021), Err(refused));
    // What does not add those figures still reads.
    assert_eq!(year.production().len(), 1);
    assert!(statement(&projections, &holder("alice")).is_some());
}

/// A charter recorded before the bounds with a nominal value of 10^25 EUR
/// and 100 votes a share: the cap table still reads (its products
/// saturate rather than overflow), with each holder's exact share.
#[tokio::test]
async fn a_cap_table_of_nominal_values_beyond_the_bounds_reads() {
    let mut ledger = Ledger::default();
    let formed = day(2019, 1, 10);
    let mut company = Company::default();
    let mut charter = charter();
    charter.share_classes[0].nominal_value = eur("10000000000000000000000000");
    charter.share_classes[0].votes_per_share = 100;
    let mut commands = vec![CompanyCommand::Incorporate {
        company: parc_des_crets(
            formed,
            "40000000000000000000000000",
            BTreeSet::from([commune("42026")]),
            vec![],
        ),
        charter,
    }];
    for id in ["alice", "bob"] {
        commands.push(farm::admission(
            id,
            HolderKind::Individual,
            "associes",
            "42026",
            formed,
        ));
    }
    commands.push(CompanyCommand::IssueShares {
        subscriptions: [("alice", 3), ("bob", 1)]
            .iter()
            .map(|(id, n)| Subscription {
                holder: holder(id),
                class: farm::class("ordinaires"),
                count: farm::shares(*n),
                price_per_share: eur("10000000000000000000000000"),
            })
            .collect(),
        resolution: None,
        effective_date: formed,
    });
    for command in commands {
        ledger.company(&mut company, command).await;
    }
    let mut projections = Projections::default();
    for e in &ledger.events {
        projections.apply(e);
    }
    let view = projections
        .cap_table
        .fold()
        .view(AsOf::Latest)
        .expect("a cap table");
    let alice = view
        .rows
        .iter()
        .find(|r| r.holder == &holder("alice"))
        .expect("alice's row");
    assert_eq!(alice.capital_pct, dec("75"));
    assert_eq!(alice.votes_pct, dec("75"));
}
