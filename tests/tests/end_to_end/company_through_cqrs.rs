//! The company aggregate run through `cqrs_es::CqrsFramework` on the real
//! store, on both backends: the first years of a small farm as its company
//! secretary records them, and what they must be able to rely on afterwards.
//! Each test is a function of a fresh database; the macro at the bottom runs
//! it on PostgreSQL and on SQLite.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use cqrs_es::{Aggregate, AggregateError, CqrsFramework, EventEnvelope, EventStore, Query};
use windledger_domain::charter::Charter;
use windledger_domain::company::{
    Company, CompanyCommand, CompanyError, CompanyServices, HolderKind,
};
use windledger_domain::resolution::{AdoptedResolution, KnownResolutions, ResolutionPurpose};
use windledger_domain::types::{HolderId, ShareClassId, ShareCount};
use windledger_fixtures::farm::{
    CIT, COLL, IND, ORD, admission, citizen_cap, class, day, eur, holder, kind, res, shares,
};
use windledger_fixtures::small_farm::{
    self, ELSEWHERE, LOCAL_A, LOCAL_B, formed, incorporation, initial_subscriptions, later,
    subscription,
};
use windledger_store::testing::TestDatabase;
use windledger_store::{
    HASH_KEY, LedgerEventStore, LedgerId, POSITION_KEY, RecordedEvent, Store, StreamId,
    Verification,
};

// --- The small farm of `windledger_fixtures::small_farm`. ---

const COMPANY_ID: &str = "taillard";
/// The small farm's charter, with ordinary shares only.
fn charter() -> Charter {
    small_farm::charter().build()
}

fn services() -> CompanyServices {
    CompanyServices::new(
        windledger_app::services::SystemClock,
        KnownResolutions::new([AdoptedResolution {
            id: res("r-increase"),
            decision_kind: kind("extraordinary"),
            purpose: ResolutionPurpose::CAPITAL_INCREASE,
            adopted_on: day(2016, 6, 30),
        }]),
    )
}

/// 2,000 shares of 100 EUR: half to the industrial partner, a quarter to
/// the SEM, a quarter to citizens.
fn initial_issuance() -> CompanyCommand {
    CompanyCommand::IssueShares {
        subscriptions: initial_subscriptions(),
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
        exemption: None,
    }
}

/// A capital increase of 100 shares to the SEM, on an adopted resolution.
fn capital_increase() -> CompanyCommand {
    CompanyCommand::IssueShares {
        subscriptions: vec![subscription("h-sem", ORD, 100, "100")],
        resolution: Some(res("r-increase")),
        effective_date: later(),
    }
}

/// The accepted history: (command id, command, event type it records).
fn history() -> Vec<(String, CompanyCommand, &'static str)> {
    // (name: holder `h-<name>` admitted by command `cmd-admit-<name>`, ...).
    let admissions = [
        ("ind", HolderKind::Company, IND, ELSEWHERE),
        ("sem", HolderKind::Sem, COLL, LOCAL_A),
        ("c1", HolderKind::Individual, CIT, LOCAL_A),
        ("c2", HolderKind::Individual, CIT, ELSEWHERE),
        ("club", HolderKind::InvestmentClub, CIT, LOCAL_B),
    ];
    let incorporate = CompanyCommand::Incorporate {
        company: incorporation(),
        charter: charter(),
    };
    let mut history = vec![(
        "cmd-incorporate".to_owned(),
        incorporate,
        "CompanyIncorporated",
    )];
    history.extend(admissions.map(|(name, kind, college, commune)| {
        let command = admission(format!("h-{name}"), kind, college, commune, formed());
        (format!("cmd-admit-{name}"), command, "ShareholderAdmitted")
    }));
    history.push((
        "cmd-initial-issuance".to_owned(),
        initial_issuance(),
        "SharesIssued",
    ));
    // h-c2 reaches exactly the citizens' cap of a tenth.
    history.push((
        "cmd-transfer-c1-c2".to_owned(),
        transfer("h-c1", "h-c2", 40),
        "SharesTransferred",
    ));
    history
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
            if let Err(e) = farm.execute(&command_id, command).await {
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
                Some(command_id.as_str()),
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

windledger_store::on_both_backends!(
    accepted_commands_land_in_the_company_stream_in_order,
    a_refused_command_writes_nothing_and_says_why,
    a_command_retried_with_its_command_id_takes_effect_once,
    a_fresh_connection_replays_the_company_built_live,
);
