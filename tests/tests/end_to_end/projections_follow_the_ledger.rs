//! The projections fed by the store's subscription, on both backends: they
//! follow appends live, answer the cap table on any date exactly as folding
//! the company stream does, serve the meeting's roll, and show every ballot
//! with the position and hash the store gave it.

use std::sync::Arc;

use crate::support::*;
use futures::StreamExt;
use windledger_app::services::{CompanyCapTables, StoreHead, ledger_event};
use windledger_domain::cap_table::CapTableService;
use windledger_domain::company::{CompanyCommand, HolderKind};
use windledger_domain::meeting::Choice;
use windledger_projections::cap_table::{AsOf, ProjectedCapTables};
use windledger_projections::runner::Shared;
use windledger_store::testing::TestDatabase;

async fn projections_agree_with_the_ledger_and_follow_it_live(db: TestDatabase) {
    let holders = [
        ("h00000".to_owned(), HolderKind::Company, 500),
        ("h00001".to_owned(), HolderKind::LocalAuthority, 300),
        ("h00002".to_owned(), HolderKind::Individual, 200),
    ];
    let farm = Farm::with_holders(&db, &holders, vec![]).await;
    let transfer = |count: u64, on| CompanyCommand::TransferShares {
        from: holder("h00000"),
        to: holder("h00002"),
        class: class(ORD),
        count: shares(count),
        price_per_share: Some(eur("110")),
        approval: None,
        effective_date: on,
        exemption: None,
    };
    farm.company(transfer(50, day(2021, 3, 1))).await;
    farm.open_meeting("ag-2021", vec![general("Quitus")]).await;
    for voter in ["h00000", "h00002"] {
        farm.meeting(
            "ag-2021",
            windledger_domain::meeting::MeetingCommand::CastBallot {
                voter: holder(voter),
                cast_by: holder(voter),
                choices: ballot("ag-2021", 1, Choice::For),
                at: at(2021, 6, 20, 9),
            },
        )
        .await
        .expect("a ballot");
    }

    // The projections follow the ledger from position 0, live.
    let shared = Arc::new(Shared::default());
    let feed = {
        let shared = Arc::clone(&shared);
        let events = farm
            .store
            .subscribe(farm.ledger.clone(), 0)
            .map(|r| r.map(ledger_event));
        tokio::spawn(async move { shared.follow(events).await })
    };
    let projected = ProjectedCapTables {
        shared: Arc::clone(&shared),
        head: StoreHead {
            store: farm.store.clone(),
            ledger: farm.ledger.clone(),
        },
    };
    let folded = CompanyCapTables {
        store: farm.store.clone(),
        ledger: farm.ledger.clone(),
        company: COMPANY_ID.to_owned(),
    };
    for date in [
        day(2020, 1, 15),
        day(2021, 2, 28),
        day(2021, 3, 1),
        day(2021, 6, 10),
    ] {
        assert_eq!(
            projected.cap_table(date).await.expect("projected"),
            folded.cap_table(date).await.expect("folded"),
            "the cap table on {date}"
        );
    }
    assert!(
        projected.cap_table(day(2020, 1, 14)).await.is_err(),
        "before the formation"
    );

    // A movement appended now is seen by the next question: the service
    // waits for the projections to reach the ledger's head.
    farm.company(transfer(25, day(2021, 7, 1))).await;
    let after = projected
        .cap_table(day(2021, 7, 1))
        .await
        .expect("projected");
    assert_eq!(
        after,
        folded.cap_table(day(2021, 7, 1)).await.expect("folded")
    );
    let citizen = after
        .holders
        .iter()
        .find(|p| p.holder == holder("h00002"))
        .expect("the citizen");
    assert_eq!(citizen.shares.values().map(|n| n.get()).sum::<u64>(), 275);

    // The meeting's frozen roll is the projection's roll for its record date.
    let meeting = farm.current("ag-2021").await;
    let roll = meeting.roll().expect("frozen");
    let weights = shared
        .read(|p| p.cap_table.fold().vote_weights(roll.record_date))
        .expect("a roll");
    assert_eq!(weights.voters, roll.voters);
    assert_eq!(weights.total, roll.total_weight());
    assert_eq!(weights.by_college.values().sum::<u64>(), weights.total);

    // Each ballot's receipt is the position and hash the store recorded.
    let stored: Vec<(u64, String)> = farm
        .stream("meeting/ag-2021")
        .await
        .into_iter()
        .filter(|e| e.event_type == "BallotCast")
        .map(|e| (e.position, e.hash.to_hex()))
        .collect();
    let receipts: Vec<(u64, String)> = shared.read(|p| {
        p.register
            .fold()
            .meeting("ag-2021")
            .expect("registered")
            .ballots
            .iter()
            .map(|b| (b.receipt.position, b.receipt.hash.to_hex()))
            .collect()
    });
    assert_eq!(receipts, stored);

    // Rebuilt from zero, the projections equal the live ones.
    let head = farm.store.head(&farm.ledger).await.expect("a head").size;
    shared.caught_up(head).await.expect("caught up");
    let rebuilt = Shared::default();
    let events = farm
        .store
        .read_ledger(&farm.ledger, 0, 10_000)
        .await
        .expect("the ledger");
    rebuilt.apply(&events.into_iter().map(ledger_event).collect::<Vec<_>>());
    assert!(shared.read(|live| rebuilt.read(|fresh| live == fresh)));
    let rows = |s: &Shared| {
        s.read(|p| {
            p.cap_table
                .fold()
                .view(AsOf::Latest)
                .map(|v| serde_json::to_string(&v).expect("serialises"))
        })
    };
    assert_eq!(rows(&shared), rows(&rebuilt));
    feed.abort();
}

windledger_store::on_both_backends!(projections_agree_with_the_ledger_and_follow_it_live);
