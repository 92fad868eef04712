//! The company aggregate run through `cqrs_es::CqrsFramework` on the real
//! store, on both backends: the first years of a small farm as its company
//! secretary records them, and what they must be able to rely on afterwards.
//! Each test is a function of a fresh database; the macro at the bottom runs
//! it on PostgreSQL and on SQLite.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::NaiveDate;
use cqrs_es::{Aggregate, AggregateError, CqrsFramework, EventEnvelope, EventStore, Query};
use rust_decimal::Decimal;
use windledger_domain::charter::{Charter, College, OwnershipCap, ShareClass, VoteBasis};
use windledger_domain::company::{
    Company, CompanyCommand, CompanyError, CompanyServices, HolderKind, Incorporation, LegalForm,
    Subscription, Turbine,
};
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_domain::resolution::{AdoptedResolution, KnownResolutions, ResolutionPurpose};
use windledger_domain::types::{
    CollegeId, CommuneCode, DecisionKindId, HolderId, Kilowatts, LegalName, ResolutionId,
    ShareClassId, ShareCount, Siren, TurbineId,
};
use windledger_store::testing::TestDatabase;
use windledger_store::{
    HASH_KEY, LedgerEventStore, LedgerId, POSITION_KEY, RecordedEvent, Store, StreamId,
    Verification,
};

// --- The farm (a small copy of domain/tests/common's reference farm). ---

const COMPANY_ID: &str = "taillard";
const IND: &str = "industriel";
const COLL: &str = "collectivites";
const CIT: &str = "citoyens";
const ORD: &str = "ordinaires";
const LOCAL_A: &str = "42026";
const LOCAL_B: &str = "42282";
const ELSEWHERE: &str = "69123";

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid test date")
}

fn formed() -> NaiveDate {
    date(2013, 5, 2)
}

/// After the lock-up, and on or after the capital increase's adoption.
fn later() -> NaiveDate {
    date(2016, 7, 1)
}

fn holder(id: &str) -> HolderId {
    HolderId::new(id).expect("a valid holder id")
}

fn college(id: &str) -> CollegeId {
    CollegeId::new(id).expect("a valid college id")
}

fn class(id: &str) -> ShareClassId {
    ShareClassId::new(id).expect("a valid class id")
}

fn commune(code: &str) -> CommuneCode {
    CommuneCode::new(code).expect("a valid commune code")
}

fn eur(amount: &str) -> Euros {
    Euros::new(Decimal::from_str(amount).expect("a decimal")).expect("a non-negative amount")
}

fn shares(n: u64) -> ShareCount {
    ShareCount::new(n).expect("a share count in range")
}

fn ratio(n: u64, d: u64) -> Ratio {
    Ratio::new(n, d).expect("a non-zero denominator")
}

/// Three weighted colleges; the industrial partner at most half the capital,
/// the local side at least half, each citizen at most a tenth; transfers to
/// newcomers approved by an ordinary decision; a lock-up until 2015.
fn charter() -> Charter {
    let college_of = |id: &str, name: &str, weight, vote_basis| College {
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
        vec![ShareClass {
            id: class(ORD),
            name: "Actions ordinaires".to_owned(),
            nominal_value: eur("100"),
            votes_per_share: 1,
            dividend_rights: Ratio::ONE,
            authorised: shares(3_000),
        }],
    );
    charter.transfers.approval_of_new_holders =
        Some(DecisionKindId::new("ordinary").expect("a decision kind id"));
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
        citizen_cap(),
    ];
    charter
}

fn citizen_cap() -> OwnershipCap {
    OwnershipCap::HolderAtMost {
        college: Some(college(CIT)),
        limit: ratio(1, 10),
    }
}

fn incorporation() -> Incorporation {
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

fn services() -> CompanyServices {
    CompanyServices::new(
        windledger_app::services::SystemClock,
        KnownResolutions::new([AdoptedResolution {
            id: ResolutionId::new("r-increase").expect("a resolution id"),
            decision_kind: DecisionKindId::new("extraordinary").expect("a decision kind id"),
            purpose: ResolutionPurpose::CapitalIncrease,
            adopted_on: date(2016, 6, 30),
        }]),
    )
}

fn admit(id: &str, kind: HolderKind, college_id: &str, at: &str) -> CompanyCommand {
    CompanyCommand::AdmitShareholder {
        holder: holder(id),
        kind,
        college: college(college_id),
        commune: commune(at),
        effective_date: formed(),
    }
}

fn subscription(id: &str, count: u64) -> Subscription {
    Subscription {
        holder: holder(id),
        class: class(ORD),
        count: shares(count),
        price_per_share: eur("100"),
    }
}

/// 2,000 shares of 100 EUR: half to the industrial partner, a quarter to
/// the SEM, a quarter to citizens.
fn initial_issuance() -> CompanyCommand {
    CompanyCommand::IssueShares {
        subscriptions: vec![
            subscription("h-ind", 1_000),
            subscription("h-sem", 500),
            subscription("h-c1", 190),
            subscription("h-c2", 160),
            subscription("h-club", 150),
        ],
        resolution: None,
        effective_date: formed(),
    }
}

fn transfer(from: &str, to: &str, count: u64) -> CompanyCommand {
    CompanyCommand::TransferShares {
        from: holder(from),
        to: holder(to),
        class: class(ORD),
        count: shares(count),
        price_per_share: Some(eur("105")),
        approval: None,
        effective_date: later(),
    }
}

/// A capital increase of 100 shares to the SEM, on an adopted resolution.
fn capital_increase() -> CompanyCommand {
    CompanyCommand::IssueShares {
        subscriptions: vec![subscription("h-sem", 100)],
        resolution: Some(ResolutionId::new("r-increase").expect("a resolution id")),
        effective_date: later(),
    }
}

/// The accepted history: (command id, command, event type it records).
fn history() -> Vec<(&'static str, CompanyCommand, &'static str)> {
    vec![
        (
            "cmd-incorporate",
            CompanyCommand::Incorporate {
                company: incorporation(),
                charter: charter(),
            },
            "CompanyIncorporated",
        ),
        (
            "cmd-admit-ind",
            admit("h-ind", HolderKind::Company, IND, ELSEWHERE),
            "ShareholderAdmitted",
        ),
        (
            "cmd-admit-sem",
            admit("h-sem", HolderKind::Sem, COLL, LOCAL_A),
            "ShareholderAdmitted",
        ),
        (
            "cmd-admit-c1",
            admit("h-c1", HolderKind::Individual, CIT, LOCAL_A),
            "ShareholderAdmitted",
        ),
        (
            "cmd-admit-c2",
            admit("h-c2", HolderKind::Individual, CIT, ELSEWHERE),
            "ShareholderAdmitted",
        ),
        (
            "cmd-admit-club",
            admit("h-club", HolderKind::InvestmentClub, CIT, LOCAL_B),
            "ShareholderAdmitted",
        ),
        ("cmd-initial-issuance", initial_issuance(), "SharesIssued"),
        // h-c2 reaches exactly the citizens' cap of a tenth.
        (
            "cmd-transfer-c1-c2",
            transfer("h-c1", "h-c2", 40),
            "SharesTransferred",
        ),
    ]
}

/// Holdings after [`history`].
fn holdings_after_history() -> Vec<(HolderId, ShareClassId, ShareCount)> {
    [
        ("h-c1", 150),
        ("h-c2", 200),
        ("h-club", 150),
        ("h-ind", 1_000),
        ("h-sem", 500),
    ]
    .into_iter()
    .map(|(h, n)| (holder(h), class(ORD), shares(n)))
    .collect()
}

// --- The shell around the framework. ---

/// The company as a projection builds it live, from the envelopes the
/// framework dispatches after each commit. Like any projection it keeps its
/// position and skips what it has already folded.
#[derive(Default)]
struct LiveState {
    company: Company,
    position: u64,
    /// (position, hash) of every envelope dispatched.
    dispatched: Vec<(u64, String)>,
}

#[derive(Clone, Default)]
struct Live(Arc<Mutex<LiveState>>);

impl Live {
    fn company(&self) -> Company {
        self.0.lock().expect("the live state").company.clone()
    }

    fn dispatched(&self) -> Vec<(u64, String)> {
        self.0.lock().expect("the live state").dispatched.clone()
    }
}

#[async_trait]
impl Query<Company> for Live {
    async fn dispatch(&self, _aggregate_id: &str, events: &[EventEnvelope<Company>]) {
        let mut state = self.0.lock().expect("the live state");
        for envelope in events {
            let position: u64 = envelope.metadata[POSITION_KEY]
                .parse()
                .expect("an integer position");
            let hash = envelope.metadata[HASH_KEY].clone();
            state.dispatched.push((position, hash));
            if position > state.position {
                state.position = position;
                state.company.apply(envelope.payload.clone());
            }
        }
    }
}

/// The store, one ledger and a company secretary working on it.
struct Farm {
    store: Store,
    ledger: LedgerId,
    cqrs: CqrsFramework<Company, LedgerEventStore<Company>>,
    live: Live,
}

impl Farm {
    async fn new(db: &TestDatabase) -> Self {
        let store = db.store().await;
        let ledger = LedgerId::parse("taillard-test").expect("a valid ledger id");
        store
            .create_ledger(&ledger)
            .await
            .expect("the ledger is created");
        let live = Live::default();
        let cqrs = CqrsFramework::new(
            LedgerEventStore::new(store.clone(), ledger.clone()),
            vec![Box::new(live.clone())],
            services(),
        );
        Self {
            store,
            ledger,
            cqrs,
            live,
        }
    }

    /// A farm whose secretary has recorded [`history`].
    async fn with_history(db: &TestDatabase) -> Self {
        let farm = Self::new(db).await;
        for (command_id, command, _) in history() {
            if let Err(e) = farm.execute(command_id, command).await {
                panic!("{command_id} is refused: {e}");
            }
        }
        farm
    }

    /// What the API will do for a POST: the command with its command id.
    async fn execute(
        &self,
        command_id: &str,
        command: CompanyCommand,
    ) -> Result<(), AggregateError<CompanyError>> {
        let metadata = HashMap::from([
            ("actor".to_owned(), "secretary".to_owned()),
            ("command_id".to_owned(), command_id.to_owned()),
        ]);
        self.cqrs
            .execute_with_metadata(COMPANY_ID, command, metadata)
            .await
    }

    async fn size(&self) -> u64 {
        self.store
            .head(&self.ledger)
            .await
            .expect("the ledger's head")
            .size
    }

    async fn stream(&self) -> Vec<RecordedEvent> {
        let stream = StreamId::parse(format!("company/{COMPANY_ID}")).expect("a stream id");
        self.store
            .read_stream(&self.ledger, &stream, 0, 1_000)
            .await
            .expect("the company stream")
    }

    async fn ledger_events(&self) -> Vec<RecordedEvent> {
        self.store
            .read_ledger(&self.ledger, 0, 1_000)
            .await
            .expect("the ledger")
    }

    /// The company replayed from the ledger through a new connection.
    async fn replayed(&self, db: &TestDatabase) -> (Company, u64) {
        let fresh = LedgerEventStore::<Company>::new(db.store().await, self.ledger.clone());
        let context = fresh
            .load_aggregate(COMPANY_ID)
            .await
            .expect("the company replays");
        (context.aggregate.clone(), context.version)
    }
}

fn holdings(company: &Company) -> Vec<(HolderId, ShareClassId, ShareCount)> {
    company
        .holdings()
        .map(|(h, c, n)| (h.clone(), c.clone(), n))
        .collect()
}

/// The domain's own reason for a refusal, or a failure naming what came.
fn refusal(outcome: Result<(), AggregateError<CompanyError>>) -> CompanyError {
    match outcome {
        Err(AggregateError::UserError(e)) => e,
        Err(other) => panic!("refused by the shell, not the domain: {other:?}"),
        Ok(()) => panic!("accepted, but the domain should have refused it"),
    }
}

// --- The tests. ---

/// Positions 1..n in the order of the commands, with the command ids, and
/// the envelopes the framework dispatched carry the same positions and
/// hashes as the ledger; the chain verifies.
async fn accepted_commands_land_in_the_company_stream_in_order(db: TestDatabase) {
    let farm = Farm::with_history(&db).await;
    let history = history();
    let n = history.len() as u64;

    let stream = farm.stream().await;
    let seen: Vec<_> = stream
        .iter()
        .map(|e| {
            (
                e.position,
                e.stream_version,
                e.stream_id.as_str(),
                e.event_type.as_str(),
                e.metadata.command_id.as_deref(),
                e.metadata.actor.as_deref(),
            )
        })
        .collect();
    let expected: Vec<_> = (1..=n)
        .zip(&history)
        .map(|(i, (command_id, _, event_type))| {
            (
                i,
                i,
                "company/taillard",
                *event_type,
                Some(*command_id),
                Some("secretary"),
            )
        })
        .collect();
    assert_eq!(seen, expected);
    assert_eq!(
        farm.ledger_events().await,
        stream,
        "nothing else was written"
    );

    let from_ledger: Vec<_> = stream
        .iter()
        .map(|e| (e.position, e.hash.to_hex()))
        .collect();
    assert_eq!(farm.live.dispatched(), from_ledger);

    let keys = windledger_store::testing::keys_of(&farm.store);
    match farm.store.verify(&farm.ledger, &keys, &[], |_, _| {}).await {
        Ok(Verification::Intact { head, .. }) => {
            assert_eq!(head.size, n);
            assert_eq!(Some(head.hash), stream.last().map(|e| e.hash));
        }
        other => panic!("the chain should be intact: {other:?}"),
    }
}

/// A transfer beyond holdings and one that breaches the citizens' cap are
/// refused with the domain's reason, and leave the ledger as it was.
async fn a_refused_command_writes_nothing_and_says_why(db: TestDatabase) {
    let farm = Farm::with_history(&db).await;
    let before = farm.ledger_events().await;

    assert_eq!(
        refusal(
            farm.execute("cmd-too-many", transfer("h-c1", "h-c2", 500))
                .await
        ),
        CompanyError::InsufficientShares {
            holder: holder("h-c1"),
            class: class(ORD),
            held: shares(150),
            requested: shares(500),
        }
    );
    assert_eq!(
        refusal(
            farm.execute("cmd-over-cap", transfer("h-club", "h-c2", 10))
                .await
        ),
        CompanyError::CapBreached(citizen_cap())
    );

    assert_eq!(farm.ledger_events().await, before);
    let (replayed, _) = farm.replayed(&db).await;
    assert_eq!(holdings(&replayed), holdings_after_history());
    assert_eq!(farm.live.company(), replayed);
}

/// Retrying a command under its command id (after a timeout, a double
/// click) never doubles its effect. The retry is decided again against the
/// state that already holds the first attempt: where the domain decides the
/// same event, the store answers from the ledger; where it decides otherwise
/// it refuses (see [`once`]). Reusing a command id for another command is refused too.
async fn a_command_retried_with_its_command_id_takes_effect_once(db: TestDatabase) {
    let farm = Farm::with_history(&db).await;
    let n = history().len() as u64;

    // A transfer that leaves room under the caps, and its retry.
    for attempt in 1..=2 {
        farm.execute("cmd-transfer-club-c1", transfer("h-club", "h-c1", 10))
            .await
            .unwrap_or_else(|e| panic!("attempt {attempt} of the transfer: {e}"));
    }
    assert_eq!(farm.size().await, n + 1);

    // A capital increase on its resolution, and its retry.
    for attempt in 1..=2 {
        farm.execute("cmd-increase-2016", capital_increase())
            .await
            .unwrap_or_else(|e| panic!("attempt {attempt} of the capital increase: {e}"));
    }
    assert_eq!(farm.size().await, n + 2);

    // Retries the domain decides otherwise: the history's transfer (h-c2 is
    // now at the citizens' cap) and the initial issuance.
    once(&farm, "cmd-transfer-c1-c2", transfer("h-c1", "h-c2", 40)).await;
    once(&farm, "cmd-initial-issuance", initial_issuance()).await;

    // Another command under a used id: the domain accepts it, the store
    // refuses to record it under the id of the first.
    match farm
        .execute("cmd-transfer-club-c1", transfer("h-club", "h-c1", 5))
        .await
    {
        Err(AggregateError::UnexpectedError(_)) => {}
        other => panic!("a reused command id should be refused: {other:?}"),
    }
    assert_eq!(farm.size().await, n + 2);

    // What a command id recorded is found by it (the server looks before
    // retrying a command whose commit lost the database), and nothing for an
    // id never used.
    let companies = LedgerEventStore::<Company>::new(farm.store.clone(), farm.ledger.clone());
    let recorded = companies
        .recorded_for_command(COMPANY_ID, "cmd-increase-2016")
        .await
        .expect("the lookup reads");
    let stream = farm.stream().await;
    let increase: Vec<_> = stream
        .iter()
        .filter(|e| e.metadata.command_id.as_deref() == Some("cmd-increase-2016"))
        .collect();
    assert!(!increase.is_empty());
    assert_eq!(
        recorded.iter().map(|e| e.position).collect::<Vec<_>>(),
        increase.iter().map(|e| e.position).collect::<Vec<_>>()
    );
    assert!(
        companies
            .recorded_for_command(COMPANY_ID, "cmd-never-sent")
            .await
            .expect("the lookup reads")
            .is_empty()
    );

    let (replayed, version) = farm.replayed(&db).await;
    assert_eq!(version, n + 2);
    assert_eq!(replayed.issued(&class(ORD)), shares(2_100));
    let mut expected = holdings_after_history();
    for (h, _, count) in &mut expected {
        match h.as_str() {
            "h-c1" => *count = shares(160),
            "h-club" => *count = shares(140),
            "h-sem" => *count = shares(600),
            _ => {}
        }
    }
    assert_eq!(holdings(&replayed), expected);
    // A projection fed by the framework does not double either: an answered
    // retry dispatches nothing.
    assert_eq!(farm.live.company(), replayed);
    let positions: Vec<u64> = farm.live.dispatched().iter().map(|(p, _)| *p).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "re-dispatched: {positions:?}"
    );
}

/// A retry of an accepted command that the domain now decides otherwise.
/// Today it is refused for a reason about the state (the transfer: a cap
/// breach; the initial issuance: an effective date before the latest one),
/// which misleads the secretary; answering it as done would be kinder. What
/// must never happen is a second effect, or a failure of the shell.
async fn once(farm: &Farm, command_id: &str, command: CompanyCommand) {
    let before = farm.size().await;
    match farm.execute(command_id, command).await {
        Ok(()) | Err(AggregateError::UserError(_)) => {}
        Err(other) => panic!("the retry of {command_id} failed in the shell: {other:?}"),
    }
    assert_eq!(farm.size().await, before, "{command_id} took effect twice");
}

/// A new connection replays the stream into the company the secretary built
/// live: register, holdings, issued shares, charter.
async fn a_fresh_connection_replays_the_company_built_live(db: TestDatabase) {
    let farm = Farm::with_history(&db).await;
    let n = history().len() as u64;

    let (replayed, version) = farm.replayed(&db).await;
    assert_eq!(version, n);
    assert_eq!(replayed, farm.live.company());
    assert_eq!(holdings(&replayed), holdings_after_history());
    assert_eq!(replayed.issued(&class(ORD)), shares(2_000));
    assert_eq!(replayed.charter(), Some(&charter()));
    assert_eq!(replayed.incorporation(), Some(&incorporation()));
    let register: Vec<_> = replayed
        .register()
        .map(|(h, entry)| (h.as_str().to_owned(), entry.college.as_str().to_owned()))
        .collect();
    assert_eq!(
        register,
        [
            ("h-c1", CIT),
            ("h-c2", CIT),
            ("h-club", CIT),
            ("h-ind", IND),
            ("h-sem", COLL),
        ]
        .map(|(h, c)| (h.to_owned(), c.to_owned()))
    );

    // The envelopes a fresh store loads carry the ledger's positions and hashes.
    let fresh = LedgerEventStore::<Company>::new(db.store().await, farm.ledger.clone());
    let envelopes = fresh
        .load_events(COMPANY_ID)
        .await
        .expect("the company's events");
    let loaded: Vec<_> = envelopes
        .iter()
        .map(|e| {
            (
                e.sequence as u64,
                e.metadata[POSITION_KEY].clone(),
                e.metadata[HASH_KEY].clone(),
            )
        })
        .collect();
    let stored: Vec<_> = farm
        .stream()
        .await
        .iter()
        .map(|e| (e.stream_version, e.position.to_string(), e.hash.to_hex()))
        .collect();
    assert_eq!(loaded, stored);
}

windledger_tests::on_both_backends!(
    accepted_commands_land_in_the_company_stream_in_order,
    a_refused_command_writes_nothing_and_says_why,
    a_command_retried_with_its_command_id_takes_effect_once,
    a_fresh_connection_replays_the_company_built_live,
);
