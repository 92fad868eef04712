//! The territory fund through the application layer on the real store: 300
//! residents of 2 communes registered, a grant, a budgeting round of 12
//! proposals (2 found ineligible) decided by Equal Shares from 300 ballots,
//! its funded projects committed and 3 of them paid; the balance reconciled
//! to the cent from the events; `verify` deciding every event again (the
//! round counted again from its ballots); the round exported in Pabulib's
//! format, read back to the same outcome, and counted the same by pabutools.
//! Then the story through the API, the pages and Chromium on the
//! reference farm: the fund fed by two years of its revenue.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use cqrs_es::EventStore;
use serde_json::Value;
use windledger_app::audit::Replay;
use windledger_app::command::{Aggregates, Command};
use windledger_domain::budgeting::fund::{FundCommand, FundEvent, TerritoryFund};
use windledger_domain::budgeting::pabulib;
use windledger_domain::budgeting::round::{BudgetingRound, RoundCommand, RoundEvent};
use windledger_domain::budgeting::{Decision, Method, Outcome};
use windledger_domain::cap_table::KnownCapTables;
use windledger_domain::types::{CommuneCode, PartyId, ProposalId, ResidentId, RoundId};
use windledger_fixtures::budgeting::pabutools;
use windledger_fixtures::farm::{at, eur};
use windledger_fixtures::rng::Rng;
use windledger_store::testing::TestDatabase;
use windledger_store::{LedgerId, RecordedEvent, Store};

const ROUND: &str = "fonds-2026";
/// The reference farm's host communes: Burdignes and Saint-Sauveur-en-Rue.
const COMMUNES: [&str; 2] = ["42026", "42282"];

fn resident(n: usize) -> ResidentId {
    ResidentId::new(format!("hab-{n:03}")).unwrap()
}

/// The commune of resident `n`: two thirds in the first.
fn commune_of(n: usize) -> &'static str {
    if n % 3 == 2 { COMMUNES[1] } else { COMMUNES[0] }
}

fn proposal(n: usize) -> ProposalId {
    ProposalId::new(format!("projet-{n:02}")).unwrap()
}

/// Resident `n` registered in its commune.
fn registration(n: usize) -> FundCommand {
    FundCommand::RegisterResident {
        resident: resident(n),
        commune: CommuneCode::new(commune_of(n)).unwrap(),
        holder: None,
        identity: None,
    }
}

/// A store on `db` with a new ledger `name` in it.
async fn store_with_ledger(db: &TestDatabase, name: &str) -> (Store, LedgerId) {
    let store = db.store().await;
    let ledger = LedgerId::parse(name).unwrap();
    store.create_ledger(&ledger).await.expect("a new ledger");
    (store, ledger)
}

async fn run(aggregates: &Aggregates, id: &str, command: Command) {
    let description = format!("{command:?}");
    aggregates
        .run(id, command, HashMap::new())
        .await
        .unwrap_or_else(|e| panic!("{description}: {e}"));
}

async fn batch(aggregates: &Aggregates, id: &str, commands: Vec<Command>) {
    for outcome in aggregates
        .run_batch(id, commands, HashMap::new())
        .await
        .expect("the batch is recorded")
    {
        outcome.expect("each command of the batch is accepted");
    }
}

/// The roll of residents a round asks once a ballot is the fund's stream
/// folded once and then as it grows: each committed event is read once,
/// and what another writer committed meanwhile is seen.
#[tokio::test]
async fn the_roll_of_residents_reads_each_event_once() {
    let db = TestDatabase::sqlite();
    let (store, ledger) = store_with_ledger(&db, "fonds-roll").await;
    let register =
        |range: std::ops::Range<usize>| range.map(|n| Command::Fund(registration(n))).collect();
    let writer = Aggregates::new(&store, &ledger, KnownCapTables::default);
    batch(&writer, TerritoryFund::ID, register(0..3)).await;
    let roll =
        windledger_store::LedgerEventStore::<TerritoryFund>::new(store.clone(), ledger.clone());
    let commune = |n: usize| {
        let roll = roll.clone();
        async move {
            roll.read_committed(TerritoryFund::ID, |fund| {
                fund.commune_of(&resident(n)).map(|c| c.as_str().to_owned())
            })
            .await
            .expect("the roll reads")
        }
    };
    for _ in 0..3 {
        assert_eq!(commune(2).await.as_deref(), Some(COMMUNES[1]));
    }
    assert_eq!(roll.committed_reads(), 3, "three events, read once");
    // Another writer (another process) registers two more.
    let other = Aggregates::new(&store, &ledger, KnownCapTables::default);
    batch(&other, TerritoryFund::ID, register(3..5)).await;
    assert_eq!(commune(4).await.as_deref(), Some(COMMUNES[0]));
    assert_eq!(commune(9).await, None);
    assert_eq!(roll.committed_reads(), 5, "only the two new events read");
    let whole = roll.load_committed(TerritoryFund::ID).await.unwrap();
    let folded = roll
        .read_committed(TerritoryFund::ID, |fund| fund.clone())
        .await
        .unwrap();
    assert_eq!(folded, whole, "the same fold as a read from zero");
}

#[tokio::test]
async fn a_round_of_the_territory_fund_from_registration_to_payment() {
    let db = TestDatabase::sqlite();
    let (store, ledger) = store_with_ledger(&db, "fonds-test").await;
    let aggregates = Aggregates::new(&store, &ledger, KnownCapTables::default);
    let fund = |c: FundCommand| Command::Fund(c);
    let round = |c: RoundCommand| Command::Round(c);

    // The municipality registers 300 residents.
    let registrations = (0..300).map(|n| fund(registration(n))).collect();
    batch(&aggregates, TerritoryFund::ID, registrations).await;
    run(
        &aggregates,
        TerritoryFund::ID,
        fund(FundCommand::ReceiveGrant {
            grantor: PartyId::new("region").unwrap(),
            amount: eur("60000"),
            received_on: at(2026, 1, 5, 9).date_naive(),
        }),
    )
    .await;

    // A round, its windows in the past (the commands carry the instants
    // the server gave them then).
    run(
        &aggregates,
        ROUND,
        round(RoundCommand::Convene {
            round: RoundId::new(ROUND).unwrap(),
            method: Method::EqualShares,
            budget: eur("50000"),
            communes: COMMUNES.map(|c| CommuneCode::new(c).unwrap()).to_vec(),
            submissions_open: at(2026, 1, 1, 0),
            submissions_close: at(2026, 2, 1, 0),
            voting_open: at(2026, 2, 15, 0),
            voting_close: at(2026, 3, 1, 0),
            max_approvals: Some(4),
        }),
    )
    .await;
    let costs = [
        "12000", "8000", "15000", "5000", "20000", "3000", "9500", "7000", "11000", "4500",
        "30000", "6000",
    ];
    let submitted: DateTime<Utc> = at(2026, 1, 10, 9);
    for (n, cost) in costs.iter().enumerate() {
        run(
            &aggregates,
            ROUND,
            round(RoundCommand::Submit {
                proposal: proposal(n),
                resident: resident(n * 7),
                title: format!("Projet n° {n} pour le territoire"),
                description: "Un banc, un arbre, une salle : ce que le fonds peut payer.".into(),
                cost: eur(cost),
                commune: CommuneCode::new(commune_of(n)).unwrap(),
                submitted_at: submitted + Duration::hours(n as i64),
            }),
        )
        .await;
    }
    // Two found ineligible.
    for n in 0..costs.len() {
        let ineligible = n == 4 || n == 10;
        run(
            &aggregates,
            ROUND,
            round(RoundCommand::Review {
                proposal: proposal(n),
                eligible: !ineligible,
                reason: ineligible.then(|| "Hors du champ du fonds.".to_owned()),
                reviewed_at: at(2026, 2, 10, 9),
            }),
        )
        .await;
    }
    // 300 ballots: each resident approves 1 to 4 eligible projects, those of
    // their own commune more often.
    let mut rng = Rng::xoshiro(2026);
    let eligible: Vec<usize> = (0..costs.len()).filter(|&n| n != 4 && n != 10).collect();
    let ballots = (0..300)
        .map(|n| {
            let mut approvals = Vec::new();
            for &p in &eligible {
                let near = commune_of(p) == commune_of(n);
                if approvals.len() < 4 && rng.chance(if near { 350_000 } else { 120_000 }) {
                    approvals.push(proposal(p));
                }
            }
            if approvals.is_empty() {
                approvals.push(proposal(*rng.pick(&eligible)));
            }
            round(RoundCommand::Vote {
                resident: resident(n),
                approvals,
                cast_at: at(2026, 2, 20, 9) + Duration::seconds(n as i64),
            })
        })
        .collect();
    batch(&aggregates, ROUND, ballots).await;
    run(
        &aggregates,
        ROUND,
        round(RoundCommand::Tally {
            tallied_at: at(2026, 3, 1, 0),
        }),
    )
    .await;

    let events = aggregates_events::<BudgetingRound>(&store, &ledger, ROUND).await;
    let Some(RoundEvent::RoundTallied {
        proposals,
        ballots,
        outcome,
        ..
    }) = events.last()
    else {
        panic!("the round is tallied");
    };
    assert_eq!(*ballots, 300);
    assert_eq!(proposals.len(), 10, "the ineligible are not on the ballot");
    assert!(outcome.funded.len() >= 3, "{outcome:?}");
    assert!(outcome.spent <= eur("50000"));

    // The fund commits the funded projects and pays three of them.
    run(
        &aggregates,
        TerritoryFund::ID,
        fund(FundCommand::Commit {
            round: RoundId::new(ROUND).unwrap(),
        }),
    )
    .await;
    for &funded in &outcome.funded[..3] {
        run(
            &aggregates,
            TerritoryFund::ID,
            fund(FundCommand::Pay {
                round: RoundId::new(ROUND).unwrap(),
                proposal: proposals[funded].clone(),
                amount: eur(costs[proposal_number(&proposals[funded])]),
                paid_on: at(2026, 4, 1, 9).date_naive(),
            }),
        )
        .await;
    }
    reconcile(&store, &ledger, outcome).await;

    // verify: every event decided again, the round counted again.
    let mut export = Vec::new();
    store
        .export_jsonl(&ledger, &mut export, |_, _| {})
        .await
        .expect("the ledger exports");
    let key = db.signer.verifier().to_string();
    let report =
        windledger_app::audit::verify_export(std::io::Cursor::new(export.clone()), &[&key], None)
            .unwrap_or_else(|e| panic!("the ledger verifies: {e}"));
    forgeries_are_refused_where_they_stand(&export);
    the_public_reads_the_same(&export, outcome);
    assert_eq!(report.recomputed.rounds_tallied, 1);
    assert_eq!(report.recomputed.round_events, 1 + 12 + 12 + 300 + 1);
    assert_eq!(report.recomputed.fund_events, 300 + 1 + 1 + 3);

    // Pabulib's format: read back to the same outcome, and pabutools
    // counts it the same.
    let text = windledger_app::budgeting::pabulib(&store, &ledger, ROUND)
        .await
        .expect("the ledger reads")
        .expect("the round exports");
    let parsed = pabulib::parse(&text).expect("the export reads back");
    assert_eq!(parsed.election.outcome(Method::EqualShares), *outcome);
    assert_eq!(parsed.voters.len(), 300);
    assert!(text.contains("rule;equalshares"));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("round.pb");
    std::fs::write(&file, &text).unwrap();
    if let Some(theirs) = pabutools(std::slice::from_ref(&file)) {
        let ours: Vec<String> = outcome
            .funded
            .iter()
            .map(|&i| proposals[i].to_string())
            .collect();
        assert_eq!(ours, theirs["round.pb"][&Method::EqualShares]);
    }
    assert!(
        windledger_app::budgeting::pabulib(&store, &ledger, "unknown")
            .await
            .unwrap()
            .is_none()
    );
}

/// The projection the public reads (`GET /territory-fund`,
/// `/budgeting-rounds/{round}`) says what the aggregates decided.
fn the_public_reads_the_same(export: &[u8], outcome: &Outcome) {
    let mut projections = windledger_projections::runner::Projections::default();
    for line in export.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let recorded: RecordedEvent = serde_json::from_slice(line).unwrap();
        projections.apply(&windledger_app::services::ledger_event(recorded));
    }
    assert_eq!(projections.failure(), None);
    let territory = projections.territory.fold();
    let fund = territory.fund();
    let paid: u64 = fund
        .payments
        .iter()
        .map(|p| p.amount.cents().unwrap())
        .sum();
    assert_eq!(fund.came_in, eur("60000"));
    assert_eq!(fund.paid.cents().unwrap(), paid);
    assert_eq!(fund.balance.cents().unwrap(), 6_000_000 - paid);
    assert_eq!(
        fund.outstanding.cents().unwrap(),
        outcome.spent.cents().unwrap() - paid
    );
    assert_eq!(
        fund.available.cents().unwrap(),
        6_000_000 - outcome.spent.cents().unwrap()
    );
    // By year: the grant in January, the payments in April, of 2026.
    assert_eq!(fund.years.len(), 1);
    assert_eq!(fund.years[0].balance, fund.balance);
    assert_eq!(fund.residents.values().sum::<u64>(), 300);
    assert_eq!(fund.residents[&CommuneCode::new(COMMUNES[1]).unwrap()], 100);
    let round = territory.round(ROUND).expect("the round");
    assert_eq!(round.proposals.len(), 12);
    assert_eq!(round.ballots, 300);
    assert_eq!(round.spent, Some(outcome.spent));
    let funded = round
        .proposals
        .iter()
        .filter(|p| matches!(p.decision, Some(Decision::Funded { .. })))
        .count();
    assert_eq!(funded, outcome.funded.len());
    assert!(
        round
            .proposals
            .iter()
            .filter(|p| p.eligible == Some(false))
            .all(|p| p.reason.is_some() && p.votes.is_none())
    );
}

/// The events of the export as `verify` decides them again, one forged at
/// a time: each refused at its own position, with the domain's reason.
fn forgeries_are_refused_where_they_stand(export: &[u8]) {
    let lines: Vec<Value> = export
        .split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| serde_json::from_slice(line).expect("an exported event"))
        .collect();
    let find = |event_type: &str| {
        lines
            .iter()
            .position(|e| e["event_type"] == event_type)
            .unwrap_or_else(|| panic!("a {event_type}"))
    };
    let forge = |at: usize, change: &dyn Fn(&mut Value)| {
        let mut forged = lines.clone();
        change(&mut forged[at]["payload"]);
        let mut replay = Replay::new();
        for (i, line) in forged.into_iter().enumerate() {
            let event: RecordedEvent = serde_json::from_value(line).expect("a recorded event");
            if let Err(reason) = replay.apply(&event) {
                return (i, reason);
            }
        }
        panic!("the forgery at {at} passed")
    };
    // The outcome of the tally, its funded projects in another order.
    let tally = find("RoundTallied");
    let (at, reason) = forge(tally, &|p| {
        let funded = &mut p["RoundTallied"]["outcome"]["funded"];
        let mut list = funded.as_array().unwrap().clone();
        list.reverse();
        *funded = Value::Array(list);
    });
    assert_eq!(at, tally);
    assert!(
        reason.contains("counted again from every ballot"),
        "{reason}"
    );
    // A ballot from someone the municipality never registered.
    let ballot = find("BudgetBallotCast");
    let (at, reason) = forge(ballot, &|p| {
        p["BallotCast"]["resident"] = Value::String("hab-999".into());
    });
    assert_eq!(at, ballot);
    assert!(reason.contains("not a registered resident"), "{reason}");
    // A payment beyond what the project is owed.
    let payment = find("ProjectPaid");
    let (at, reason) = forge(payment, &|p| {
        p["ProjectPaid"]["amount"] = Value::String("1000000.00".into());
    });
    assert_eq!(at, payment);
    assert!(reason.contains("above the"), "{reason}");
}

fn proposal_number(id: &ProposalId) -> usize {
    id.as_str()["projet-".len()..].parse().unwrap()
}

async fn aggregates_events<A>(
    store: &windledger_store::Store,
    ledger: &LedgerId,
    id: &str,
) -> Vec<A::Event>
where
    A: cqrs_es::Aggregate,
    windledger_store::LedgerEventStore<A>: EventStore<A>,
{
    windledger_store::LedgerEventStore::<A>::new(store.clone(), ledger.clone())
        .load_events(id)
        .await
        .expect("the stream reads")
        .into_iter()
        .map(|e| e.payload)
        .collect()
}

/// What came in less what went out, from the fund's events, equals the
/// fund's balance to the cent; what is owed is what was committed less
/// what was paid.
async fn reconcile(store: &windledger_store::Store, ledger: &LedgerId, outcome: &Outcome) {
    let events = aggregates_events::<TerritoryFund>(store, ledger, TerritoryFund::ID).await;
    let (mut came_in, mut paid, mut committed) = (0u64, 0u64, 0u64);
    for event in &events {
        match event {
            FundEvent::GrantReceived { amount, .. } | FundEvent::FundFed { amount, .. } => {
                came_in += amount.cents().unwrap();
            }
            FundEvent::RoundCommitted { total, .. } => committed += total.cents().unwrap(),
            FundEvent::ProjectPaid { amount, .. } => paid += amount.cents().unwrap(),
            _ => {}
        }
    }
    let fund =
        windledger_store::LedgerEventStore::<TerritoryFund>::new(store.clone(), ledger.clone())
            .load_committed(TerritoryFund::ID)
            .await
            .expect("the fund reads");
    assert_eq!(
        fund.balance_cents(),
        came_in - paid,
        "0.00 EUR of difference"
    );
    assert_eq!(fund.outstanding_cents(), committed - paid);
    assert_eq!(committed, outcome.spent.cents().unwrap());
    assert_eq!(fund.available_cents(), came_in - committed);
    // Every funded project was funded by the method, none of the others.
    for (index, project) in outcome.projects.iter().enumerate() {
        assert_eq!(
            matches!(project.decision, Decision::Funded { .. }),
            outcome.funded.contains(&index)
        );
    }
}

/// The costs of the API story's twelve proposals, in euros.
const COSTS: [u64; 12] = [
    12_000, 8_000, 25_000, 5_000, 15_000, 3_500, 9_000, 20_000, 6_000, 4_000, 11_000, 7_500,
];
/// The proposals the municipality finds ineligible.
const INELIGIBLE: [usize; 2] = [2, 7];

/// What resident `n` approves: the eligible proposals of their commune
/// that `n` and the proposal's number do not rule out, and one more.
fn approvals_of(n: usize) -> Vec<usize> {
    let mut approvals: Vec<usize> = (0..COSTS.len())
        .filter(|p| commune_of(*p) == commune_of(n) && !(n + p).is_multiple_of(3))
        .chain([n % COSTS.len()])
        .filter(|p| !INELIGIBLE.contains(p))
        .collect();
    approvals.sort_unstable();
    approvals.dedup();
    approvals
}

/// The story through the API on the reference farm, with the
/// server's clock: the fund fed by two years of the farm's revenue (the
/// charter's clause, adopted by the extraordinary meeting of 2022, gives it
/// 1 % from 2023), 300 residents of the farm's 2 communes, 12 proposals (2
/// ineligible), a round under Equal Shares, its funded projects committed
/// and 3 of them paid; the fund reconciled to 0.00 EUR of difference; the
/// pages in French, and in Chromium audited by axe-core when it is here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_story_through_the_api_and_the_pages() {
    use windledger_api::auth::Role;
    use windledger_domain::budgeting::{Election, Project};
    use windledger_domain::money::round_to_cent;
    use windledger_fixtures::reference::{self, FUND_FROM_YEAR, LAST_YEAR};

    use crate::server::{LEDGER, Server};

    let server = Server::with_reference_farm(TestDatabase::sqlite()).await;
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let municipality = server.token(LEDGER, Role::Municipality, Some("ccmp")).await;
    let feed = |year: i32| serde_json::json!({ "year": year });

    // The fund is fed once a year, from 2023, once the year's accounts
    // are approved: 2022 is before the clause, 2025's accounts are not
    // approved yet.
    server
        .post(
            "/territory-fund/feeds",
            &secretary,
            feed(FUND_FROM_YEAR - 1),
        )
        .await
        .problem(422, "refused")
        .detail_contains("from 2023");
    server
        .post("/territory-fund/feeds", &secretary, feed(LAST_YEAR))
        .await
        .problem(422, "refused")
        .detail_contains("not approved");
    // 1 % of every revenue the year recorded, rounded once to the cent.
    let farm = reference::build();
    let mut expected_in = 0u64;
    for year in [FUND_FROM_YEAR, FUND_FROM_YEAR + 1] {
        server
            .post("/territory-fund/feeds", &secretary, feed(year))
            .await
            .expect(201);
        let due = round_to_cent(farm.revenue[&year].amount() / rust_decimal::Decimal::ONE_HUNDRED);
        expected_in += eur(&due.to_string()).cents().unwrap();
    }
    server
        .post("/territory-fund/feeds", &secretary, feed(FUND_FROM_YEAR))
        .await
        .problem(422, "refused")
        .detail_contains("already");
    let fund = server.get("/territory-fund", None).await.expect(200).body;
    let cents_of = |v: &Value| eur(v.as_str().unwrap()).cents().unwrap();
    assert_eq!(cents_of(&fund["came_in"]), expected_in, "{fund}");
    assert!(
        expected_in > 6_000_000,
        "two years of 1 % of the revenue: {expected_in}"
    );
    let years: Vec<i64> = fund["years"]
        .as_array()
        .unwrap()
        .iter()
        .map(|y| y["year"].as_i64().unwrap())
        .collect();
    assert!(!years.is_empty(), "{fund}");

    // 300 residents of the farm's two communes, each with their identity,
    // which the vault keeps and the ledger never holds.
    for n in 0..300 {
        let resident = format!("hab-{n:03}");
        server
            .post(
                "/territory-fund/residents",
                &municipality,
                serde_json::json!({"resident": resident, "commune": commune_of(n),
                                   "person": crate::server::person(&resident)}),
            )
            .await
            .expect(201);
    }
    let identity = server
        .get(
            "/territory-fund/residents/hab-007/identity",
            Some(&municipality),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        identity["person"]["identity"]["family_name"], "Nom-hab-007",
        "{identity}"
    );
    server
        .get(
            "/territory-fund/residents/hab-007/identity",
            Some(&secretary),
        )
        .await
        .problem(403, "forbidden");
    server
        .get("/territory-fund/residents/hab-007/identity", None)
        .await
        .expect(401);
    let fund_stream = windledger_store::StreamId::parse("territory-fund/fund").unwrap();
    let payloads = server
        .store
        .read_stream_payloads(&LedgerId::parse(LEDGER).unwrap(), &fund_stream, 0)
        .await
        .expect("the fund's events");
    let registration = &payloads
        .iter()
        .find(|(_, p)| p.contains("\"hab-007\""))
        .expect("hab-007's registration")
        .1;
    assert!(
        registration.contains(identity["commitment"].as_str().unwrap()),
        "the event holds the commitment: {registration}"
    );
    assert!(
        payloads
            .iter()
            .all(|(_, p)| !p.contains("Nom-hab") && !p.contains("example.org")),
        "no person in the ledger"
    );
    // A registration refused leaves no version in the vault; a resident's
    // identity is a natural person's.
    server
        .post(
            "/territory-fund/residents",
            &municipality,
            serde_json::json!({"resident": "hab-007", "commune": COMMUNES[0],
                               "person": crate::server::person("autre")}),
        )
        .await
        .problem(422, "refused")
        .detail_contains("already registered");
    let versions = server
        .store
        .vault_versions(LEDGER, "habitant:hab-007")
        .await
        .expect("the vault");
    assert_eq!(
        versions.len(),
        1,
        "the refused registration's version is gone"
    );
    let mut legal = crate::server::person("asso");
    legal["identity"] = serde_json::json!({"person": "legal", "name": "Association du Pilat",
        "legal_form": "association", "siren": null, "representative": "Dominique Martin"});
    server
        .post(
            "/territory-fund/residents",
            &municipality,
            serde_json::json!({"resident": "hab-900", "commune": COMMUNES[0], "person": legal}),
        )
        .await
        .detail_contains("a resident is a natural person");
    let fund = server.get("/territory-fund", None).await.expect(200).body;
    assert_eq!(fund["residents"][COMMUNES[0]], 200, "{fund}");
    assert_eq!(fund["residents"][COMMUNES[1]], 100, "{fund}");

    // Residents act for themselves with their own tokens: hab-077 submits
    // a proposal, hab-299 votes in Chromium (through the API without it).
    let proposer = server.token(LEDGER, Role::Resident, Some("hab-077")).await;
    let voter = server.token(LEDGER, Role::Resident, Some("hab-299")).await;
    let mut browser = crate::web_browser::Browser::open(&server).await;
    if let Some(browser) = &browser {
        browser.sign_in(&voter).await;
    }

    // Submissions are open until voting opens, in a few seconds; the
    // ballots are taken while the window lasts (300 take about 2 s here,
    // the browser's a few more).
    let now = Utc::now();
    let voting = now + Duration::seconds(8);
    let close = voting + Duration::seconds(25);
    let budget = 60_000u64;
    server
        .post(
            "/budgeting-rounds",
            &municipality,
            serde_json::json!({
                "round": ROUND, "method": "equal_shares", "budget": budget.to_string(),
                "communes": COMMUNES, "submissions_open": now - Duration::hours(1),
                "submissions_close": voting, "voting_open": voting, "voting_close": close,
            }),
        )
        .await
        .expect(201);
    let path = |suffix: &str| format!("/budgeting-rounds/{ROUND}/{suffix}");
    let ballot = async |token: &str, body: Value| server.post(&path("ballots"), token, body).await;
    let proposal_body = |n: usize| {
        serde_json::json!({
            "proposal": format!("projet-{n:02}"),
            "title": format!("Projet n° {n}"), "description": "Un projet du territoire.",
            "cost": COSTS[n].to_string(), "commune": commune_of(n),
        })
    };
    // The municipality records the proposals it received on paper...
    for n in 0..COSTS.len() - 1 {
        let mut body = proposal_body(n);
        body["resident"] = Value::String(format!("hab-{:03}", n * 7));
        server
            .post(&path("proposals"), &municipality, body)
            .await
            .expect(201);
    }
    // ... and a resident submits its own: for itself only.
    let last = COSTS.len() - 1;
    let mut body = proposal_body(last);
    body["resident"] = Value::String("hab-001".into());
    server
        .post(&path("proposals"), &proposer, body)
        .await
        .problem(403, "forbidden")
        .detail_contains("acts for resident hab-077");
    server
        .post(&path("proposals"), &proposer, proposal_body(last))
        .await
        .expect(201);
    // A resident does not review.
    server
        .post(
            &path("reviews"),
            &proposer,
            serde_json::json!({"proposal": "projet-00", "eligible": true}),
        )
        .await
        .problem(403, "forbidden");
    // The server's clock dates each step: a body may not.
    server
        .post(
            &path("reviews"),
            &municipality,
            serde_json::json!({"proposal": "projet-00", "eligible": true, "reviewed_at": now}),
        )
        .await
        .problem(422, "validation");
    for n in 0..COSTS.len() {
        let body = if INELIGIBLE.contains(&n) {
            serde_json::json!({"proposal": format!("projet-{n:02}"), "eligible": false, "reason": "Voirie communale : hors du fonds."})
        } else {
            serde_json::json!({"proposal": format!("projet-{n:02}"), "eligible": true})
        };
        server
            .post(&path("reviews"), &municipality, body)
            .await
            .expect(201);
    }
    assert!(
        Utc::now() < voting,
        "the proposals and reviews took longer than the submission window"
    );
    // Too early to vote.
    let early = serde_json::json!({"resident": "hab-000", "approvals": ["projet-00"]});
    ballot(&municipality, early)
        .await
        .problem(422, "refused")
        .detail_contains("ballots are taken from");
    tokio::time::sleep((voting - Utc::now()).to_std().unwrap_or_default()).await;
    let ballots: Vec<Vec<usize>> = (0..300).map(approvals_of).collect();
    for (n, approvals) in ballots.iter().enumerate().take(299) {
        let approvals: Vec<String> = approvals.iter().map(|p| format!("projet-{p:02}")).collect();
        let body = serde_json::json!({"resident": format!("hab-{n:03}"), "approvals": approvals});
        ballot(&municipality, body).await.expect(201);
    }
    // hab-299 votes itself: in Chromium, on the round's page (a ballot
    // without a box ticked is sent back, in French), else through the API.
    let own: Vec<String> = ballots[299]
        .iter()
        .map(|p| format!("projet-{p:02}"))
        .collect();
    match &mut browser {
        Some(browser) => {
            browser
                .visit(
                    &format!("/fonds-de-territoire/{ROUND}"),
                    "Budget participatif",
                    "fonds-habitant-bulletin",
                )
                .await;
            browser
                .click("form[action$=\"/vote\"] button[type=submit]")
                .await;
            browser.wait_text("Cochez au moins un projet.").await;
            browser.check("fonds-habitant-bulletin-erreur").await;
            for proposal in &own {
                browser
                    .click(&format!("input[name=\"choix-{proposal}\"]"))
                    .await;
            }
            browser
                .click("form[action$=\"/vote\"] button[type=submit]")
                .await;
            browser.wait_text("Votre vote est enregistré.").await;
            let page = browser.source().await;
            assert!(page.contains("Votre bulletin est enregistré."), "{page}");
            browser.check("fonds-habitant-a-vote").await;
        }
        None => {
            ballot(&voter, serde_json::json!({ "approvals": own }))
                .await
                .expect(201);
        }
    }
    // A second ballot of the same resident is refused, whoever sends it.
    ballot(&voter, serde_json::json!({"approvals": ["projet-01"]}))
        .await
        .problem(422, "refused")
        .detail_contains("has already voted");
    let again = serde_json::json!({"resident": "hab-000", "approvals": ["projet-01"]});
    ballot(&municipality, again).await.problem(422, "refused");
    assert!(
        Utc::now() < close,
        "the 300 ballots took longer than the voting window"
    );
    tokio::time::sleep((close - Utc::now()).to_std().unwrap_or_default()).await;
    server
        .post(&path("tally"), &municipality, serde_json::json!({}))
        .await
        .expect(201);
    server
        .post(
            "/territory-fund/commitments",
            &municipality,
            serde_json::json!({"round": ROUND}),
        )
        .await
        .expect(201);

    // The outcome is Equal Shares' on the ballots sent (the eligible
    // proposals, in the order they were submitted).
    let eligible: Vec<usize> = (0..COSTS.len())
        .filter(|p| !INELIGIBLE.contains(p))
        .collect();
    let election = Election::new(
        eur(&budget.to_string()),
        eligible
            .iter()
            .map(|p| Project {
                id: format!("projet-{p:02}"),
                cost: eur(&COSTS[*p].to_string()),
            })
            .collect(),
        ballots
            .iter()
            .map(|b| {
                b.iter()
                    .map(|p| eligible.iter().position(|e| e == p).unwrap())
                    .collect()
            })
            .collect(),
    )
    .expect("a valid election");
    let expected: Vec<String> = election
        .outcome(Method::EqualShares)
        .funded
        .iter()
        .map(|i| format!("projet-{:02}", eligible[*i]))
        .collect();
    let round = server
        .get(&format!("/budgeting-rounds/{ROUND}"), None)
        .await
        .expect(200)
        .body;
    let proposals = round["proposals"].as_array().unwrap();
    for n in INELIGIBLE {
        assert_eq!(proposals[n]["eligible"], false, "{round}");
    }
    let mut funded: Vec<(u64, String)> = proposals
        .iter()
        .filter(|p| p["decision"]["decision"] == "funded")
        .map(|p| {
            (
                p["decision"]["rank"].as_u64().unwrap(),
                p["proposal"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    funded.sort();
    let funded: Vec<String> = funded.into_iter().map(|(_, p)| p).collect();
    assert_eq!(funded, expected, "{round}");
    assert!(
        funded.len() > 3,
        "more projects funded than paid: {funded:?}"
    );
    assert_eq!(round["ballots"], 300);

    // The first three are paid in full, the others stay owed.
    for proposal in &funded[..3] {
        let n: usize = proposal["projet-".len()..].parse().unwrap();
        server
            .post(
                "/territory-fund/payments",
                &secretary,
                serde_json::json!({"round": ROUND, "proposal": proposal, "amount": COSTS[n].to_string(), "paid_on": Utc::now().date_naive()}),
            )
            .await
            .expect(201);
    }
    let cost_cents = |p: &String| COSTS[p["projet-".len()..].parse::<usize>().unwrap()] * 100;
    let committed: u64 = funded.iter().map(cost_cents).sum();
    let paid: u64 = funded[..3].iter().map(cost_cents).sum();
    let fund = server.get("/territory-fund", None).await.expect(200).body;
    // Every movement added up from the lists equals the totals shown.
    let sum = |key: &str, field: &str| -> u64 {
        fund[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| cents_of(&m[field]))
            .sum()
    };
    let came_in = sum("feeds", "amount") + sum("grants", "amount");
    assert_eq!(came_in, expected_in);
    assert_eq!(sum("payments", "amount"), paid);
    assert_eq!(sum("commitments", "amount"), committed);
    let difference = i128::from(cents_of(&fund["balance"])) - i128::from(came_in - paid);
    assert_eq!(difference, 0, "0.00 EUR of difference: {fund}");
    assert_eq!(cents_of(&fund["outstanding"]), committed - paid, "{fund}");
    assert_eq!(cents_of(&fund["available"]), came_in - committed, "{fund}");
    // Year by year, the balances end where the whole does.
    let last = fund["years"].as_array().unwrap().last().unwrap();
    assert_eq!(cents_of(&last["balance"]), came_in - paid, "{fund}");

    // A resident who leaves is removed from the roll, and the vault
    // forgets them: the id stays in the log, the person is gone.
    server
        .post(
            "/territory-fund/resident-removals",
            &municipality,
            serde_json::json!({"resident": "hab-007"}),
        )
        .await
        .expect(201);
    server
        .get(
            "/territory-fund/residents/hab-007/identity",
            Some(&municipality),
        )
        .await
        .problem(404, "not-found");
    let versions = server
        .store
        .vault_versions(LEDGER, "habitant:hab-007")
        .await
        .expect("the vault");
    assert!(versions.is_empty(), "the vault forgot hab-007");
    assert!(
        server
            .store
            .vault_key(LEDGER, "habitant:hab-007")
            .await
            .expect("the vault")
            .is_none(),
        "and its key"
    );
    server
        .get(
            "/territory-fund/residents/hab-008/identity",
            Some(&municipality),
        )
        .await
        .expect(200);

    // The pages, in French.
    let fund_page = format!("/parcs/{LEDGER}/fonds-de-territoire");
    let page_text = async |path: &str| server.fetch(path).await.text().await.unwrap();
    let page = page_text(&fund_page).await;
    assert!(page.contains("Fonds de territoire") && page.contains("graphique-fonds"));
    assert!(page.contains("Exercice 2023"), "{page}");
    let page = page_text(&format!("{fund_page}/{ROUND}")).await;
    assert!(
        page.contains("Irrecevable : Voirie communale : hors du fonds."),
        "{page}"
    );
    assert!(page.contains("Financé (retenu en 1er)"), "{page}");
    let missing = server.fetch(&format!("{fund_page}/inconnu")).await;
    assert_eq!(missing.status(), 404);
    if let Some(mut browser) = browser {
        let round = format!("/fonds-de-territoire/{ROUND}");
        let history = [
            (
                "/fonds-de-territoire",
                "Fonds de territoire",
                "fonds-histoire",
            ),
            (round.as_str(), "Budget participatif", "fonds-histoire-tour"),
        ];
        for (path, title, name) in history {
            browser.visit(path, title, name).await;
        }
        let page = browser.source().await;
        assert!(page.contains("Votre bulletin a été compté."), "{page}");
        // The identity pages and the fund's desk, for each who has them.
        browser
            .visit(
                "/habitants/hab-299",
                "Mon identité d'habitant",
                "fonds-habitant-identite",
            )
            .await;
        let desk = "/gestion-du-fonds";
        let by_role = [
            (
                &municipality,
                vec![
                    (desk, "Gestion du fonds", "fonds-gestion-collectivite"),
                    (
                        "/habitants/hab-010",
                        "Habitant hab-010",
                        "fonds-gestion-habitant",
                    ),
                ],
            ),
            (
                &secretary,
                vec![(desk, "Gestion du fonds", "fonds-gestion-secretariat")],
            ),
        ];
        for (token, pages) in by_role {
            browser.sign_out().await;
            browser.sign_in(token).await;
            for (path, title, name) in pages {
                browser.visit(path, title, name).await;
            }
        }
        browser.close().await;
    }
    server.stop().await;
}

/// `fields` sent to `action` by `browser`, sent back to `round_page`: that
/// page, read again.
async fn sent_back(
    browser: &mut crate::web::Browser<'_>,
    action: &str,
    fields: &[(String, String)],
    round_page: &str,
) -> crate::web::Page {
    browser.post(action, fields).await.redirects_to(round_page);
    browser.get(round_page).await
}

/// A resident's forms on the round's page: a proposal with a missing title
/// and a cost that is no amount is sent back in French, field by field,
/// and nothing is written; the proposal sent again is recorded under the
/// server's id, for the resident signed in; the municipality sees no
/// resident's form; once the proposals are reviewed and voting is open, a
/// resident's ballot is taken once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_submits_and_votes_on_the_pages() {
    use windledger_api::auth::Role;

    use crate::server::{LEDGER, Server};
    use crate::web::{Browser, farm, with};

    let server = Server::with_reference_farm(TestDatabase::sqlite()).await;
    let municipality = server.token(LEDGER, Role::Municipality, Some("ccmp")).await;
    for n in [10, 11] {
        server
            .post(
                "/territory-fund/residents",
                &municipality,
                serde_json::json!({"resident": format!("hab-{n:03}"), "commune": commune_of(n)}),
            )
            .await
            .expect(201);
    }
    let now = Utc::now();
    let voting = now + Duration::seconds(10);
    server
        .post(
            "/budgeting-rounds",
            &municipality,
            serde_json::json!({
                "round": ROUND, "method": "greedy_approval", "budget": "20000",
                "communes": COMMUNES, "submissions_open": now - Duration::hours(1),
                "submissions_close": voting, "voting_open": voting,
                "voting_close": voting + Duration::seconds(10), "max_approvals": 1,
            }),
        )
        .await
        .expect(201);
    let round_page = farm(&format!("/fonds-de-territoire/{ROUND}"));
    let action = format!("{round_page}/projet");

    let mut resident = Browser::new(&server);
    resident
        .sign_in(&server.token(LEDGER, Role::Resident, Some("hab-010")).await)
        .await
        .redirects_to(&farm("/espace"));
    resident
        .get(&farm("/espace"))
        .await
        .expect(200)
        .contains("en tant qu'habitant (hab-010)")
        .contains(&format!("Budget participatif {ROUND}"));
    let page = resident
        .get(&round_page)
        .await
        .expect(200)
        .contains("Déposer un projet");
    let hidden = page.form(&action);
    let head = server.head().await;
    resident
        .post(
            &action,
            &with(
                &hidden,
                &[
                    ("titre", " "),
                    ("cout", "douze mille"),
                    ("commune", COMMUNES[0]),
                ],
            ),
        )
        .await
        .expect(422)
        .contains("Titre : Donnez un titre au projet.")
        .contains("Coût : Écrivez un montant en euros");
    assert_eq!(server.head().await, head, "nothing written");
    let hidden = resident.get(&round_page).await.form(&action);
    let submitted = with(
        &hidden,
        &[
            ("titre", "Bancs au bord du Ternay"),
            ("description", "Six bancs le long du sentier."),
            ("cout", "3 500,50"),
            ("commune", COMMUNES[0]),
        ],
    );
    let page = sent_back(&mut resident, &action, &submitted, &round_page).await;
    page.expect(200)
        .contains("Votre projet est déposé.")
        .contains("Bancs au bord du Ternay")
        .contains("En cours d'examen");
    let round = server
        .get(&format!("/budgeting-rounds/{ROUND}"), None)
        .await
        .expect(200)
        .body;
    let proposal = round["proposals"][0]["proposal"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(round["proposals"][0]["cost"], "3500.50", "{round}");
    // The municipality reviews it on the page, without a resident's form:
    // found ineligible without a reason, it is sent back.
    let mut town = Browser::new(&server);
    town.sign_in(&municipality).await;
    let review = format!("{round_page}/examen");
    let page = town.get(&round_page).await.expect(200);
    let hidden = page
        .lacks("Déposer un projet")
        .contains("Examiner un projet")
        .form(&review);
    town.post(
        &review,
        &with(&hidden, &[("projet", &proposal), ("recevable", "non")]),
    )
    .await
    .expect(422)
    .contains("Motif : Donnez le motif");
    let hidden = town.get(&round_page).await.form(&review);
    let eligible = with(&hidden, &[("projet", &proposal), ("recevable", "oui")]);
    sent_back(&mut town, &review, &eligible, &round_page)
        .await
        .contains("L'examen du projet est enregistré.")
        .contains("Recevable");
    assert!(
        Utc::now() < voting,
        "the proposal and its review took longer than the submission window"
    );
    tokio::time::sleep((voting - Utc::now()).to_std().unwrap_or_default()).await;
    let page = resident
        .get(&round_page)
        .await
        .expect(200)
        .contains("Enregistrer mon vote")
        .lacks("Déposer un projet");
    let vote = format!("{round_page}/vote");
    let hidden = page.form(&vote);
    let ballot = with(&hidden, &[(&format!("choix-{proposal}"), "oui")]);
    let page = sent_back(&mut resident, &vote, &ballot, &round_page).await;
    page.expect(200)
        .contains("Votre vote est enregistré.")
        .contains("Votre bulletin est enregistré.")
        .lacks("Enregistrer mon vote");
    // The same ballot sent again is refused by the rules, in French.
    let hidden = with(
        &set_form_id(&hidden),
        &[(&format!("choix-{proposal}"), "oui")],
    );
    resident
        .post(&vote, &hidden)
        .await
        .expect(422)
        .contains("a déjà voté");

    // Once voting has closed, the municipality counts the ballots and
    // commits the fund (fed by 2023) to the project funded.
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    server
        .post(
            "/territory-fund/feeds",
            &secretary,
            serde_json::json!({"year": 2023}),
        )
        .await
        .expect(201);
    let close = voting + Duration::seconds(10);
    assert!(
        Utc::now() < close,
        "the ballots took longer than the voting window"
    );
    tokio::time::sleep((close - Utc::now()).to_std().unwrap_or_default()).await;
    let tally = format!("{round_page}/depouillement");
    let hidden = town
        .get(&round_page)
        .await
        .expect(200)
        .contains("Dépouiller le vote")
        .form(&tally);
    town.post(&tally, &hidden).await.redirects_to(&round_page);
    let commit = format!("{round_page}/engagement");
    let hidden = town
        .get(&round_page)
        .await
        .contains("Le vote est dépouillé.")
        .contains("Financé (retenu en 1er)")
        .form(&commit);
    town.post(&commit, &hidden).await.redirects_to(&round_page);
    town.get(&round_page)
        .await
        .contains("Les projets retenus sont engagés.")
        .lacks("Engager les projets retenus");
    let fund = server.get("/territory-fund", None).await.expect(200).body;
    assert_eq!(fund["outstanding"], "3500.50", "{fund}");

    // The secretary pays the project on the fund's desk: more than is owed
    // is refused in French, then what is owed closes it.
    let mut office = Browser::new(&server);
    office.sign_in(&secretary).await;
    let desk = farm("/gestion-du-fonds");
    let pay = farm("/gestion-du-fonds/paiements");
    let owed = format!("{ROUND}/{proposal}");
    let today = Utc::now().date_naive().to_string();
    office
        .get(&desk)
        .await
        .expect(200)
        .contains("Bancs au bord du Ternay (budget fonds-2026) : reste dû 3");
    let head = server.head().await;
    for (amount, refused) in [("3 600", true), ("3 500,50", false)] {
        let hidden = office.get(&desk).await.form(&pay);
        let fields = [
            ("engagement", owed.as_str()),
            ("montant", amount),
            ("date", &today),
        ];
        let answer = office.post(&pay, &with(&hidden, &fields)).await;
        if refused {
            answer
                .expect(422)
                .contains("Ce paiement dépasse ce qui reste dû au projet.");
            assert_eq!(server.head().await, head, "nothing written");
        } else {
            answer.redirects_to(&desk);
        }
    }
    office
        .get(&desk)
        .await
        .contains("Le paiement est enregistré")
        .contains("Aucun projet engagé n'attend de paiement.");
    let fund = server.get("/territory-fund", None).await.expect(200).body;
    assert_eq!(fund["outstanding"], "0.00", "{fund}");
    assert_eq!(fund["paid"], "3500.50", "{fund}");
    server.stop().await;
}

/// The hidden fields with a new form id: a form sent twice under one id is
/// answered once (the second gets the first's answer).
fn set_form_id(hidden: &[(String, String)]) -> Vec<(String, String)> {
    crate::web::set(
        hidden,
        "_formulaire",
        Some(&uuid::Uuid::new_v4().to_string()),
    )
}
