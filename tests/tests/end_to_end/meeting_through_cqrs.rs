//! The meeting aggregate run through `cqrs_es::CqrsFramework` on the real
//! store, on both backends: a general meeting of a thousand shareholders
//! voting at once, and a capital increase that the company stream relies on
//! once the meeting adopted it. The services here are the real thing, read
//! from the ledger: the roll comes from the company stream folded to the
//! record date, the resolution from the meeting stream.

use std::sync::Arc;

use windledger_fixtures::farm::{admission, kind, res};

use crate::support::*;
use cqrs_es::{AggregateError, CqrsFramework, EventStore};
use windledger_domain::cap_table::KnownCapTables;
use windledger_domain::company::{CompanyCommand, CompanyEvent, HolderKind, Subscription};
use windledger_domain::meeting::{
    Choice, Meeting, MeetingCommand, MeetingError, MeetingEvent, MeetingServices, Outcome,
    ProposedResolution,
};
use windledger_domain::resolution::ResolutionPurpose;
use windledger_store::testing::TestDatabase;
use windledger_store::{LedgerEventStore, Verification};

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
                let voter = holder(format!("h{i:05}"));
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
    assert_eq!(
        ballots_in_stream(&farm, "ag-2021").await,
        VOTERS + VOTERS / 10
    );
    let verification = farm
        .store
        .verify(
            &farm.ledger,
            &windledger_store::testing::keys_of(&farm.store),
            &[],
            |_, _| {},
        )
        .await
        .expect("the ledger verifies");
    assert!(matches!(verification, Verification::Intact { .. }));
}

/// Ballots pipelined by this process (each queued before the one before it
/// commits) race ballots of another process on the same meeting: the
/// foreign commits fail the pipelined states built before them, which are
/// dropped, and their ballots, retried, land once each. What this process
/// keeps in memory after its last commit is what a fresh replay gives.
async fn pipelined_ballots_racing_another_process_land_once(db: TestDatabase) {
    const VOTERS: usize = 240;
    let farm = Farm::incorporated(&db, VOTERS, 1).await;
    farm.open_meeting("ag-2021", vec![general("Approbation")])
        .await;
    let farm = Arc::new(farm);
    let elsewhere = Arc::new(CqrsFramework::new(
        LedgerEventStore::<Meeting>::new(farm.store.clone(), farm.ledger.clone()),
        vec![],
        MeetingServices::new(
            windledger_app::services::SystemClock,
            KnownCapTables::default(),
        ),
    ));
    let ballot_of = |i: usize| {
        let voter = holder(format!("h{i:05}"));
        MeetingCommand::CastBallot {
            voter: voter.clone(),
            cast_by: voter,
            choices: ballot("ag-2021", 1, Choice::For),
            at: at(2021, 6, 20, 9),
        }
    };
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..17 {
        let (farm, elsewhere) = (Arc::clone(&farm), Arc::clone(&elsewhere));
        tasks.spawn(async move {
            let mut conflicts = 0;
            for i in (worker..VOTERS).step_by(17) {
                loop {
                    // The last worker is the other process.
                    let outcome = if worker == 16 {
                        elsewhere.execute("ag-2021", ballot_of(i)).await
                    } else {
                        farm.meeting("ag-2021", ballot_of(i)).await
                    };
                    match outcome {
                        Ok(()) => break,
                        Err(AggregateError::AggregateConflict) => conflicts += 1,
                        Err(e) => panic!("ballot {i}: {e}"),
                    }
                }
            }
            conflicts
        });
    }
    let mut conflicts = 0;
    while let Some(done) = tasks.join_next().await {
        conflicts += done.expect("the task ran");
    }
    eprintln!("{conflicts} version conflicts retried");

    // This process's state misses the other's last ballots until its next
    // commit finds it stale; the meeting's close does, and reloads.
    let close = || MeetingCommand::Close {
        at: at(2021, 6, 25, 18),
    };
    if let Err(AggregateError::AggregateConflict) = farm.meeting("ag-2021", close()).await {
        farm.meeting("ag-2021", close())
            .await
            .expect("the retry reloads and closes");
    }
    let kept = farm.current("ag-2021").await;
    assert_eq!(kept.ballots_in_force(), VOTERS);
    let fresh = LedgerEventStore::<Meeting>::new(farm.store.clone(), farm.ledger.clone())
        .load_aggregate("ag-2021")
        .await
        .expect("the meeting replays");
    assert_eq!(
        serde_json::to_value(&kept).expect("serialises"),
        serde_json::to_value(&fresh.aggregate).expect("serialises"),
        "the state kept in memory is the stream's"
    );
    assert_eq!(
        ballots_in_stream(&farm, "ag-2021").await,
        VOTERS,
        "each ballot once"
    );
}

/// The ballots a meeting's stream holds, after checking that its versions
/// run 1, 2, 3... with no gap.
async fn ballots_in_stream(farm: &Farm, meeting: &str) -> usize {
    let events = farm.stream(&format!("meeting/{meeting}")).await;
    let versions: Vec<u64> = events.iter().map(|e| e.stream_version).collect();
    assert_eq!(versions, (1..=events.len() as u64).collect::<Vec<_>>());
    events
        .iter()
        .filter(|e| e.event_type == "BallotCast")
        .count()
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
        MeetingServices::new(
            windledger_app::services::SystemClock,
            KnownCapTables::default(),
        ),
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

/// Three holders of 100 shares, an association admitted after the record
/// date (so not on the roll), and meeting `age-2021` open on one capital
/// increase reserved to it, worded `text`.
async fn increase_for_a_late_association(db: &TestDatabase, text: &str) -> Farm {
    let farm = Farm::incorporated(db, 3, 100).await;
    farm.company(admission(
        "late",
        HolderKind::Association,
        COLLEGE,
        "42026",
        day(2021, 6, 12),
    ))
    .await;
    let increase = ProposedResolution {
        decision_kind: kind("extraordinary"),
        purpose: ResolutionPurpose::CAPITAL_INCREASE,
        text: text.to_owned(),
    };
    farm.open_meeting("age-2021", vec![increase]).await;
    farm
}

/// The association's 100 shares at 100 EUR, backed by resolution
/// `age-2021.1`.
fn issuance_to_the_association() -> CompanyCommand {
    CompanyCommand::IssueShares {
        subscriptions: vec![Subscription {
            holder: holder("late"),
            class: class(ORD),
            count: shares(100),
            price_per_share: eur("100"),
        }],
        resolution: Some(res("age-2021.1")),
        effective_date: day(2021, 7, 1),
    }
}

/// The roll is the company stream at the record date, and an adopted capital
/// increase is what the company stream then relies on to issue shares.
async fn a_capital_increase_adopted_in_a_meeting_backs_the_issuance(db: TestDatabase) {
    let farm = increase_for_a_late_association(
        &db,
        "Augmentation de capital de 10 000 EUR réservée à l'association",
    )
    .await;
    let meeting = farm.current("age-2021").await;
    let roll = meeting.roll().expect("the roll is frozen");
    assert_eq!(roll.voters.len(), 3);
    assert_eq!(roll.total_weight(), 300);

    let issue = issuance_to_the_association();
    let before_close = farm.company_cqrs.execute(COMPANY_ID, issue.clone()).await;
    assert!(
        matches!(before_close, Err(AggregateError::UserError(_))),
        "not adopted yet: {before_close:?}"
    );

    farm.vote_and_close("age-2021", 2021, 1, &["h00000", "h00001"])
        .await;

    farm.company(issue).await;
    let issued: CompanyEvent = farm.last_event(&format!("company/{COMPANY_ID}")).await;
    let CompanyEvent::SharesIssued {
        resolution: Some(resolution),
        ..
    } = issued
    else {
        panic!("expected the issuance, got {issued:?}");
    };
    assert_eq!(resolution.id.as_str(), "age-2021.1");
    assert_eq!(resolution.adopted_on, day(2021, 6, 25));
    assert_eq!(resolution.purpose, ResolutionPurpose::CAPITAL_INCREASE);

    // The meeting's own events name the rule it applied.
    let closed: MeetingEvent = farm.last_event("meeting/age-2021").await;
    assert!(
        matches!(closed, MeetingEvent::MeetingClosed { ref results, .. } if results[0].outcome == Outcome::Adopted)
    );
}

windledger_store::on_both_backends!(
    concurrent_ballots_neither_conflict_nor_reload_the_meeting,
    pipelined_ballots_racing_another_process_land_once,
    refused_commands_keep_the_state_and_a_foreign_commit_is_detected,
    a_capital_increase_adopted_in_a_meeting_backs_the_issuance,
    an_issuance_never_relies_on_a_close_that_did_not_commit,
);

/// A meeting's close is decided on the state this process keeps, and its
/// append may still fail (here: another process cast a ballot this one had
/// not seen, so the close's expected version is stale). A company command
/// asking meanwhile whether the resolution was adopted must not rely on
/// that close: it reads the meeting as committed, is refused, and nothing
/// is issued.
async fn an_issuance_never_relies_on_a_close_that_did_not_commit(db: TestDatabase) {
    let farm =
        increase_for_a_late_association(&db, "Augmentation de capital réservée à l'association")
            .await;
    let ballot_of = |voter: &str| MeetingCommand::CastBallot {
        voter: holder(voter),
        cast_by: holder(voter),
        choices: ballot("age-2021", 1, Choice::For),
        at: at(2021, 6, 20, 9),
    };
    for voter in ["h00000", "h00001"] {
        farm.meeting("age-2021", ballot_of(voter))
            .await
            .expect("the ballot");
    }
    // Another process casts the third ballot: this one's state is stale.
    let elsewhere = CqrsFramework::new(
        LedgerEventStore::<Meeting>::new(db.store().await, farm.ledger.clone()),
        vec![],
        MeetingServices::new(
            windledger_app::services::SystemClock,
            KnownCapTables::default(),
        ),
    );
    elsewhere
        .execute("age-2021", ballot_of("h00002"))
        .await
        .expect("the other process's ballot");

    let farm = Arc::new(farm);
    let held = db.hold_writes(&farm.ledger).await;
    // The close is decided on the stale state (adopted) and waits to commit.
    let closing = {
        let farm = Arc::clone(&farm);
        tokio::spawn(async move {
            farm.meeting(
                "age-2021",
                MeetingCommand::Close {
                    at: at(2021, 6, 25, 18),
                },
            )
            .await
        })
    };
    // Setup only (no timing is asserted): let the close decide and queue.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let issuing = {
        let farm = Arc::clone(&farm);
        tokio::spawn(async move {
            farm.company_cqrs
                .execute(COMPANY_ID, issuance_to_the_association())
                .await
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    held.release().await;

    let closed = closing.await.expect("the close ran");
    assert!(
        matches!(closed, Err(AggregateError::AggregateConflict)),
        "the close decided on a stale state fails to commit: {closed:?}"
    );
    let issued = issuing.await.expect("the issuance ran");
    assert!(
        matches!(issued, Err(AggregateError::UserError(_))),
        "no issuance on a close that never committed: {issued:?}"
    );
    let last: CompanyEvent = farm.last_event(&format!("company/{COMPANY_ID}")).await;
    assert!(
        !matches!(last, CompanyEvent::SharesIssued { .. }),
        "nothing issued: {last:?}"
    );
    // Closed again, on the state as committed: now the issuance goes.
    farm.meeting(
        "age-2021",
        MeetingCommand::Close {
            at: at(2021, 6, 25, 18),
        },
    )
    .await
    .expect("the close, decided again");
}
