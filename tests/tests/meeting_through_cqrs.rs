//! The meeting aggregate run through `cqrs_es::CqrsFramework` on the real
//! store, on both backends: a general meeting of a thousand shareholders
//! voting at once, and a capital increase that the company stream relies on
//! once the meeting adopted it. The services here are the real thing, read
//! from the ledger: the roll comes from the company stream folded to the
//! record date, the resolution from the meeting stream.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use cqrs_es::{AggregateError, CqrsFramework, EventStore};
use rust_decimal::Decimal;
use windledger_domain::cap_table::{CapTableService, CapTableSnapshot, KnownCapTables};
use windledger_domain::charter::{Charter, College, ShareClass, VoteBasis};
use windledger_domain::company::{
    Company, CompanyCommand, CompanyEvent, CompanyServices, HolderKind, Incorporation, LegalForm,
    Subscription,
};
use windledger_domain::meeting::{
    Call, Choice, Meeting, MeetingCommand, MeetingError, MeetingEvent, MeetingKind,
    MeetingServices, Outcome, ProposedResolution, split_resolution_id,
};
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_domain::resolution::{
    AdoptedResolution, BoxFuture, LookupError, ResolutionPurpose, ResolutionService,
};
use windledger_domain::types::{
    CollegeId, CommuneCode, DecisionKindId, HolderId, LegalName, MeetingId, ResolutionId,
    ShareClassId, ShareCount, Siren,
};
use windledger_store::testing::TestDatabase;
use windledger_store::{LedgerEventStore, LedgerId, Store, StreamId, Verification};

const COMPANY_ID: &str = "farm";
const COLLEGE: &str = "associes";
const CLASS: &str = "ordinaires";

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

fn at(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("a valid time")
}

fn holder(id: &str) -> HolderId {
    HolderId::new(id).expect("a holder id")
}

fn class() -> ShareClassId {
    ShareClassId::new(CLASS).expect("a class id")
}

fn count(n: u64) -> ShareCount {
    ShareCount::new(n).expect("a share count")
}

fn eur(amount: &str) -> Euros {
    Euros::new(Decimal::from_str(amount).expect("a decimal")).expect("an amount")
}

fn charter() -> Charter {
    let mut charter = Charter::with_french_defaults(
        vec![College {
            id: CollegeId::new(COLLEGE).expect("a college id"),
            name: "Associés".to_owned(),
            weight: None,
            vote_basis: VoteBasis::PerShare,
        }],
        vec![ShareClass {
            id: class(),
            name: "Actions ordinaires".to_owned(),
            nominal_value: eur("100"),
            votes_per_share: 1,
            dividend_rights: Ratio::ONE,
            authorised: count(10_000),
        }],
    );
    charter.proxies.max_held_per_holder = Some(5);
    charter
}

/// What the shell reads for the meeting: the company stream, folded to the
/// date asked.
struct CompanyCapTables {
    store: Store,
    ledger: LedgerId,
}

impl CapTableService for CompanyCapTables {
    fn cap_table<'a>(
        &'a self,
        on: NaiveDate,
    ) -> BoxFuture<'a, Result<CapTableSnapshot, LookupError>> {
        Box::pin(async move {
            let stream = StreamId::parse(format!("company/{COMPANY_ID}"))
                .map_err(|e| LookupError(e.to_string()))?;
            let recorded = self
                .store
                .read_stream_to_end(&self.ledger, &stream)
                .await
                .map_err(|e| LookupError(e.to_string()))?;
            let events = recorded
                .iter()
                .map(|e| e.decode::<CompanyEvent>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| LookupError(e.to_string()))?;
            Company::as_of(events, on)
                .cap_table(on)
                .ok_or_else(|| LookupError(format!("the company did not exist on {on}")))
        })
    }
}

/// What the shell reads for the company: the meeting stream of the
/// resolution, through the same event store as the meeting commands.
struct MeetingResolutions {
    meetings: LedgerEventStore<Meeting>,
}

impl ResolutionService for MeetingResolutions {
    fn adopted<'a>(
        &'a self,
        id: &'a ResolutionId,
    ) -> BoxFuture<'a, Result<Option<AdoptedResolution>, LookupError>> {
        Box::pin(async move {
            let Some((meeting, _)) = split_resolution_id(id) else {
                return Ok(None);
            };
            let context = self
                .meetings
                .load_aggregate(meeting.as_str())
                .await
                .map_err(|e| LookupError(e.to_string()))?;
            Ok(context.aggregate.adopted(id))
        })
    }
}

struct Farm {
    store: Store,
    ledger: LedgerId,
    meetings: LedgerEventStore<Meeting>,
    meeting_cqrs: Arc<CqrsFramework<Meeting, LedgerEventStore<Meeting>>>,
    company_cqrs: CqrsFramework<Company, LedgerEventStore<Company>>,
}

impl Farm {
    async fn new(db: &TestDatabase) -> Self {
        let store = db.store().await;
        let ledger = LedgerId::parse("farm-test").expect("a ledger id");
        store.create_ledger(&ledger).await.expect("a new ledger");
        let meetings = LedgerEventStore::<Meeting>::new(store.clone(), ledger.clone());
        let meeting_cqrs = Arc::new(CqrsFramework::new(
            meetings.clone(),
            vec![],
            MeetingServices::new(CompanyCapTables {
                store: store.clone(),
                ledger: ledger.clone(),
            }),
        ));
        let company_cqrs = CqrsFramework::new(
            LedgerEventStore::new(store.clone(), ledger.clone()),
            vec![],
            CompanyServices::new(MeetingResolutions {
                meetings: meetings.clone(),
            }),
        );
        Self {
            store,
            ledger,
            meetings,
            meeting_cqrs,
            company_cqrs,
        }
    }

    /// Incorporated on 2020-01-15 with `holders` each holding `shares`.
    async fn incorporated(db: &TestDatabase, holders: usize, shares: u64) -> Self {
        let farm = Self::new(db).await;
        let formed = day(2020, 1, 15);
        let capital = Decimal::from(100 * shares * holders as u64);
        farm.company(CompanyCommand::Incorporate {
            company: Incorporation {
                legal_name: LegalName::new("Parc éolien citoyen SAS").expect("a name"),
                legal_form: LegalForm::Sas,
                registration_number: Siren::new("732829320").expect("a SIREN"),
                formation_date: formed,
                share_capital: Euros::new(capital).expect("an amount"),
                territory: BTreeSet::from([CommuneCode::new("42026").expect("a commune")]),
                turbines: vec![],
            },
            charter: charter(),
        })
        .await;
        let mut subscriptions = Vec::new();
        for i in 0..holders {
            let id = format!("h{i:05}");
            farm.company(CompanyCommand::AdmitShareholder {
                holder: holder(&id),
                kind: HolderKind::Individual,
                college: CollegeId::new(COLLEGE).expect("a college id"),
                commune: CommuneCode::new("42026").expect("a commune"),
                effective_date: formed,
            })
            .await;
            subscriptions.push(Subscription {
                holder: holder(&id),
                class: class(),
                count: count(shares),
                price_per_share: eur("100"),
            });
        }
        farm.company(CompanyCommand::IssueShares {
            subscriptions,
            resolution: None,
            effective_date: formed,
        })
        .await;
        farm
    }

    async fn company(&self, command: CompanyCommand) {
        if let Err(e) = self.company_cqrs.execute(COMPANY_ID, command).await {
            panic!("the company command is refused: {e}");
        }
    }

    async fn meeting(
        &self,
        id: &str,
        command: MeetingCommand,
    ) -> Result<(), AggregateError<MeetingError>> {
        let metadata = HashMap::from([("actor".to_owned(), "test".to_owned())]);
        self.meeting_cqrs
            .execute_with_metadata(id, command, metadata)
            .await
    }

    /// Convened on 2021-05-20 for 2021-06-15..25, record date 2021-06-10,
    /// voting open.
    async fn open_meeting(&self, id: &str, agenda: Vec<ProposedResolution>) {
        self.meeting(
            id,
            MeetingCommand::Convene {
                meeting: MeetingId::new(id).expect("a meeting id"),
                kind: MeetingKind::ExtraordinaryGeneralMeeting,
                call: Call::First,
                record_date: day(2021, 6, 10),
                opens_at: at(2021, 6, 15, 8),
                closes_at: at(2021, 6, 25, 18),
                agenda,
                members: vec![],
                convened_on: day(2021, 5, 20),
            },
        )
        .await
        .expect("the meeting is convened");
        self.meeting(
            id,
            MeetingCommand::OpenVoting {
                at: at(2021, 6, 15, 8),
            },
        )
        .await
        .expect("voting opens");
    }

    async fn current(&self, id: &str) -> Meeting {
        let context = self
            .meetings
            .load_aggregate(id)
            .await
            .expect("the meeting loads");
        // Serialised and read back: the state as a fresh process would see
        // it is compared through its public reads below.
        serde_json::from_value(serde_json::to_value(&context.aggregate).expect("serialises"))
            .expect("deserialises")
    }
}

fn ballot(meeting: &str, resolutions: usize, choice: Choice) -> BTreeMap<ResolutionId, Choice> {
    (1..=resolutions)
        .map(|n| {
            (
                ResolutionId::new(format!("{meeting}.{n}")).expect("a resolution id"),
                choice,
            )
        })
        .collect()
}

fn general(text: &str) -> ProposedResolution {
    ProposedResolution {
        decision_kind: DecisionKindId::new("ordinary").expect("a kind"),
        purpose: ResolutionPurpose::General,
        text: text.to_owned(),
    }
}

/// A thousand shareholders vote at once, 32 at a time, some twice: no ballot
/// fails another with a version conflict, and the meeting is read from the
/// store once, not once per ballot.
async fn concurrent_ballots_neither_conflict_nor_reload_the_meeting(db: TestDatabase) {
    const VOTERS: usize = 1_000;
    let farm = Farm::incorporated(&db, VOTERS, 3).await;
    farm.open_meeting("ag-2021", vec![general("Approbation"), general("Quitus")])
        .await;
    let loads_before = farm.meetings.stream_loads();

    let farm = Arc::new(farm);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..32 {
        let farm = Arc::clone(&farm);
        tasks.spawn(async move {
            let mut refused = Vec::new();
            for i in (worker..VOTERS).step_by(32) {
                let voter = holder(&format!("h{i:05}"));
                // Every tenth voter first votes against, then changes their mind.
                let votes = if i % 10 == 0 {
                    vec![Choice::Against, Choice::For]
                } else {
                    vec![if i % 3 == 0 {
                        Choice::Abstain
                    } else {
                        Choice::For
                    }]
                };
                for choice in votes {
                    let command = MeetingCommand::CastBallot {
                        voter: voter.clone(),
                        cast_by: voter.clone(),
                        choices: ballot("ag-2021", 2, choice),
                        at: at(2021, 6, 25, 17),
                    };
                    if let Err(e) = farm.meeting("ag-2021", command).await {
                        refused.push(format!("{voter}: {e}"));
                    }
                }
            }
            refused
        });
    }
    let mut refused = Vec::new();
    while let Some(done) = tasks.join_next().await {
        refused.extend(done.expect("the task ran"));
    }
    assert_eq!(refused, Vec::<String>::new(), "no ballot is refused");
    assert_eq!(
        farm.meetings.stream_loads(),
        loads_before,
        "no ballot reloaded the meeting"
    );

    farm.meeting(
        "ag-2021",
        MeetingCommand::Close {
            at: at(2021, 6, 25, 18),
        },
    )
    .await
    .expect("the meeting closes");
    let meeting = farm.current("ag-2021").await;
    assert_eq!(meeting.ballots_in_force(), VOTERS);
    let result = &meeting.results().expect("closed")[0];
    let abstaining = (0..VOTERS).filter(|i| i % 3 == 0 && i % 10 != 0).count() as u64;
    assert_eq!(result.roll_total, 3 * VOTERS as u64);
    assert_eq!(result.present, 3 * VOTERS as u64);
    assert_eq!(result.abstentions, 3 * abstaining);
    assert_eq!(result.votes_for, 3 * (VOTERS as u64 - abstaining));
    assert_eq!(result.votes_against, 0, "every ballot against was replaced");
    assert_eq!(result.outcome, Outcome::Adopted);

    // Every ballot is in the ledger once, in commit order, and the chain
    // verifies: each ballot's position and hash are its receipt.
    let stream = StreamId::parse("meeting/ag-2021").expect("a stream id");
    let events = farm
        .store
        .read_stream_to_end(&farm.ledger, &stream)
        .await
        .expect("the meeting stream");
    let ballots = events
        .iter()
        .filter(|e| e.event_type == "BallotCast")
        .count();
    assert_eq!(ballots, VOTERS + VOTERS / 10);
    let versions: Vec<u64> = events.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, (1..=events.len() as u64).collect::<Vec<_>>());
    let verification = farm
        .store
        .verify(&farm.ledger, &[], |_, _| {})
        .await
        .expect("the ledger verifies");
    assert!(matches!(verification, Verification::Intact { .. }));
}

/// A refused command leaves the meeting in memory (no reload); a commit made
/// elsewhere (another process, here another event store on the same ledger)
/// is detected as a conflict, and the retry reloads and succeeds.
async fn refused_commands_keep_the_state_and_a_foreign_commit_is_detected(db: TestDatabase) {
    let farm = Farm::incorporated(&db, 3, 10).await;
    farm.open_meeting("ag-2021", vec![general("Approbation")])
        .await;
    let loads = farm.meetings.stream_loads();

    let outside_window = MeetingCommand::CastBallot {
        voter: holder("h00000"),
        cast_by: holder("h00000"),
        choices: ballot("ag-2021", 1, Choice::For),
        at: at(2021, 6, 26, 9),
    };
    let refused = farm.meeting("ag-2021", outside_window).await;
    assert!(matches!(
        refused,
        Err(AggregateError::UserError(
            MeetingError::OutsideVotingWindow { .. }
        ))
    ));
    assert_eq!(farm.meetings.stream_loads(), loads, "kept in memory");

    // Another process casts a ballot.
    let elsewhere = CqrsFramework::new(
        LedgerEventStore::<Meeting>::new(farm.store.clone(), farm.ledger.clone()),
        vec![],
        MeetingServices::new(KnownCapTables::default()),
    );
    let ballot_of = |voter: &str| MeetingCommand::CastBallot {
        voter: holder(voter),
        cast_by: holder(voter),
        choices: ballot("ag-2021", 1, Choice::For),
        at: at(2021, 6, 20, 9),
    };
    elsewhere
        .execute("ag-2021", ballot_of("h00001"))
        .await
        .expect("the other process's ballot");

    let stale = farm.meeting("ag-2021", ballot_of("h00002")).await;
    assert!(
        matches!(stale, Err(AggregateError::AggregateConflict)),
        "the stale state is caught at commit: {stale:?}"
    );
    farm.meeting("ag-2021", ballot_of("h00002"))
        .await
        .expect("the retry reloads and succeeds");
    assert_eq!(farm.meetings.stream_loads(), loads + 1);
    let meeting = farm.current("ag-2021").await;
    assert!(meeting.ballot(&holder("h00001")).is_some());
    assert!(meeting.ballot(&holder("h00002")).is_some());
}

/// The roll is the company stream at the record date, and an adopted capital
/// increase is what the company stream then relies on to issue shares.
async fn a_capital_increase_adopted_in_a_meeting_backs_the_issuance(db: TestDatabase) {
    let farm = Farm::incorporated(&db, 3, 100).await;
    // After the record date: not on the roll.
    farm.company(CompanyCommand::AdmitShareholder {
        holder: holder("late"),
        kind: HolderKind::Association,
        college: CollegeId::new(COLLEGE).expect("a college id"),
        commune: CommuneCode::new("42026").expect("a commune"),
        effective_date: day(2021, 6, 12),
    })
    .await;
    let increase = ProposedResolution {
        decision_kind: DecisionKindId::new("extraordinary").expect("a kind"),
        purpose: ResolutionPurpose::CapitalIncrease,
        text: "Augmentation de capital de 10 000 EUR réservée à l'association".to_owned(),
    };
    farm.open_meeting("age-2021", vec![increase]).await;
    let meeting = farm.current("age-2021").await;
    let roll = meeting.roll().expect("the roll is frozen");
    assert_eq!(roll.voters.len(), 3);
    assert_eq!(roll.total_weight(), 300);

    let issue = CompanyCommand::IssueShares {
        subscriptions: vec![Subscription {
            holder: holder("late"),
            class: class(),
            count: count(100),
            price_per_share: eur("100"),
        }],
        resolution: Some(ResolutionId::new("age-2021.1").expect("an id")),
        effective_date: day(2021, 7, 1),
    };
    let before_close = farm.company_cqrs.execute(COMPANY_ID, issue.clone()).await;
    assert!(
        matches!(before_close, Err(AggregateError::UserError(_))),
        "not adopted yet: {before_close:?}"
    );

    for voter in ["h00000", "h00001"] {
        farm.meeting(
            "age-2021",
            MeetingCommand::CastBallot {
                voter: holder(voter),
                cast_by: holder(voter),
                choices: ballot("age-2021", 1, Choice::For),
                at: at(2021, 6, 20, 9),
            },
        )
        .await
        .expect("the ballot");
    }
    farm.meeting(
        "age-2021",
        MeetingCommand::Close {
            at: at(2021, 6, 25, 18),
        },
    )
    .await
    .expect("closed");

    farm.company(issue).await;
    let stream = StreamId::parse(format!("company/{COMPANY_ID}")).expect("a stream id");
    let events = farm
        .store
        .read_stream_to_end(&farm.ledger, &stream)
        .await
        .expect("the company stream");
    let issued: CompanyEvent = events
        .last()
        .expect("an event")
        .decode()
        .expect("a company event");
    let CompanyEvent::SharesIssued {
        resolution: Some(resolution),
        ..
    } = issued
    else {
        panic!("expected the issuance, got {issued:?}");
    };
    assert_eq!(resolution.id.as_str(), "age-2021.1");
    assert_eq!(resolution.adopted_on, day(2021, 6, 25));
    assert_eq!(resolution.purpose, ResolutionPurpose::CapitalIncrease);

    // The meeting's own events name the rule it applied.
    let meeting_stream = StreamId::parse("meeting/age-2021").expect("a stream id");
    let closed: MeetingEvent = farm
        .store
        .read_stream_to_end(&farm.ledger, &meeting_stream)
        .await
        .expect("the meeting stream")
        .last()
        .expect("an event")
        .decode()
        .expect("a meeting event");
    assert!(
        matches!(closed, MeetingEvent::MeetingClosed { ref results, .. } if results[0].outcome == Outcome::Adopted)
    );
}

windledger_tests::on_both_backends!(
    concurrent_ballots_neither_conflict_nor_reload_the_meeting,
    refused_commands_keep_the_state_and_a_foreign_commit_is_detected,
    a_capital_increase_adopted_in_a_meeting_backs_the_issuance,
);
