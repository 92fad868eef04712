//! Many farms on one server (docs/deploy.md, "Many farms"): each ledger
//! opened on first use, the idle ones released when the open ones are
//! charged more than the memory budget, rebuilt on their next request with
//! the same answers, and each ledger's requests, appends, openings and
//! releases in `/metrics`.

use crate::server::{self, Server, admission, copy_reference_farm};
use windledger_api::auth::Role;
use windledger_app::ledgers::{BYTES_PER_EVENT, LedgerFigures, READ_MODEL_BYTES_PER_EVENT};
use windledger_store::LedgerId;

windledger_store::on_both_backends!(
    idle_farms_are_released_over_the_budget_and_rebuilt_on_demand,
    an_idle_farms_governance_state_rests_first_and_is_rebuilt_for_its_next_write,
);

const SECOND: &str = "parc-du-plateau";

fn figures_of(server: &Server, ledger: &str) -> LedgerFigures {
    server
        .state
        .ledgers
        .figures()
        .into_iter()
        .find(|f| f.id.as_str() == ledger)
        .unwrap_or_else(|| panic!("the server holds {ledger}"))
}

fn open_ledgers(server: &Server) -> Vec<String> {
    let mut open: Vec<String> = server
        .state
        .ledgers
        .held()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    open.sort();
    open
}

async fn idle_farms_are_released_over_the_budget_and_rebuilt_on_demand(
    mut db: windledger_store::testing::TestDatabase,
) {
    copy_reference_farm(&mut db).await;
    let store = db.store().await;
    let second = LedgerId::parse(SECOND).expect("a ledger id");
    windledger_app::import::import_reference_farm(store.clone(), second.clone())
        .await
        .expect("the reference farm imports again, as another farm");
    let server = Server::start(db, store).await;
    let events = server.head().await;
    // Room for one reference farm and half the read models of another:
    // opening the second puts the first's governance state to rest, which
    // is not enough, and releases it.
    let budget = events * (BYTES_PER_EVENT + READ_MODEL_BYTES_PER_EVENT / 2);
    server.state.ledgers.set_budget(budget);
    let second_api = |suffix: &str| format!("/api/v1/ledgers/{SECOND}{suffix}");

    // The directory lists both farms without opening either.
    let directory = server
        .get_outside("/api/v1/ledgers", None)
        .await
        .expect(200)
        .body;
    let listed: Vec<&str> = directory
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|f| f["ledger"].as_str())
        .collect();
    assert_eq!(listed, [server::LEDGER, SECOND]);
    assert_eq!(server.state.ledgers.known(), 0, "listing opened no farm");
    // What it says of a farm is what the farm's own page says.
    let company = server.get("/company", None).await.expect(200).body;
    let in_service: Vec<&serde_json::Value> = company["turbines"]
        .as_array()
        .expect("turbines")
        .iter()
        .filter(|t| {
            t.get("decommissioned_on")
                .is_none_or(serde_json::Value::is_null)
        })
        .collect();
    let first_listed = &directory[0];
    assert_eq!(first_listed["legal_name"], company["company"]["legal_name"]);
    assert_eq!(first_listed["turbines"], in_service.len());
    assert_eq!(
        first_listed["rated_kw"],
        in_service
            .iter()
            .filter_map(|t| t["rated_power"].as_u64())
            .sum::<u64>()
    );
    assert!(in_service.len() > 1, "{company}");

    let first_answer = server.get("/parties", None).await.expect(200).body;
    assert_eq!(open_ledgers(&server), [server::LEDGER]);
    let second_answer = server
        .get_outside(&second_api("/parties"), None)
        .await
        .expect(200)
        .body;
    assert_eq!(
        first_answer, second_answer,
        "the same farm imported twice answers the same"
    );
    assert_eq!(
        open_ledgers(&server),
        [SECOND],
        "the first farm, idle, was released when the second opened"
    );
    let first = figures_of(&server, server::LEDGER);
    assert_eq!((first.openings, first.releases, first.rests), (1, 1, 1));
    assert_eq!(first.charged_bytes, None);

    // Asked again, the first farm is rebuilt and answers as before; the
    // second, idle now, is released in turn.
    let again = server.get("/parties", None).await.expect(200).body;
    assert_eq!(again, first_answer);
    assert_eq!(open_ledgers(&server), [server::LEDGER]);
    let first = figures_of(&server, server::LEDGER);
    assert_eq!((first.openings, first.releases), (2, 1));
    assert_eq!(first.charged_bytes, Some(events * BYTES_PER_EVENT));
    let second_figures = figures_of(&server, SECOND);
    assert_eq!((second_figures.openings, second_figures.releases), (1, 1));

    // A command on a rebuilt farm is decided on its whole history (the
    // holder it admits is new; admitting it twice is refused) and counted.
    let secretary = server.token(server::LEDGER, Role::Secretary, None).await;
    let admitted = server
        .post("/shareholders", &secretary, admission("cit-990"))
        .await
        .expect(201);
    let appended = admitted.body["receipts"].as_array().map_or(0, Vec::len) as u64;
    assert!(appended > 0, "{}", admitted.body);
    server
        .post("/shareholders", &secretary, admission("cit-990"))
        .await
        .expect(422);
    assert_eq!(figures_of(&server, server::LEDGER).appended, appended);

    // A farm a request holds is never released: opening the second farm
    // releases the first (idle), but reopening the first cannot release
    // the second while it is held, and both stay open, over the budget.
    let held = server.state.open(&second).await.expect("the second farm");
    assert_eq!(open_ledgers(&server), [SECOND]);
    let first_id = LedgerId::parse(server::LEDGER).expect("an id");
    let _first_held = server.state.open(&first_id).await.expect("the first farm");
    assert_eq!(
        open_ledgers(&server),
        [server::LEDGER, SECOND],
        "the farm just opened and the one held stay open"
    );
    drop(held);
    // Its appends survive its release.
    assert_eq!(figures_of(&server, server::LEDGER).appended, appended);

    let metrics = server.metrics().await;
    for line in [
        "windledger_ledgers_open 2".to_owned(),
        "windledger_ledgers_known 2".to_owned(),
        format!("windledger_ledger_budget_bytes {budget}"),
        format!(
            "windledger_ledger_openings_total{{ledger=\"{}\"}} 3",
            server::LEDGER
        ),
        format!("windledger_ledger_openings_total{{ledger=\"{SECOND}\"}} 2"),
        format!(
            "windledger_ledger_releases_total{{ledger=\"{}\"}} 2",
            server::LEDGER
        ),
        format!("windledger_ledger_releases_total{{ledger=\"{SECOND}\"}} 1"),
        format!(
            "windledger_ledger_events_appended_total{{ledger=\"{}\"}} {appended}",
            server::LEDGER
        ),
        format!("windledger_ledger_events_appended_total{{ledger=\"{SECOND}\"}} 0"),
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "/metrics says `{line}`:\n{metrics}"
        );
    }
    let requests = |ledger: &str| -> u64 {
        let prefix = format!("windledger_ledger_requests_total{{ledger=\"{ledger}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no request count for {ledger}:\n{metrics}"))
    };
    // Over HTTP: the first farm's company, its parties twice and two
    // admissions; the second's parties (the server's own openings above
    // are no requests).
    assert_eq!(requests(server::LEDGER), 5, "{metrics}");
    assert_eq!(requests(SECOND), 1, "{metrics}");
    server.stop().await;
}

/// A small farm beside the reference farm: room for both, but not for
/// both governance states.
const SMALL: &str = "petit-parc";

async fn an_idle_farms_governance_state_rests_first_and_is_rebuilt_for_its_next_write(
    mut db: windledger_store::testing::TestDatabase,
) {
    copy_reference_farm(&mut db).await;
    let store = db.store().await;
    let small = LedgerId::parse(SMALL).expect("a ledger id");
    let config = windledger_fixtures::synthetic::Synthetic::for_events(300, 12);
    windledger_app::import::synthetic::write_synthetic(&store, &small, &config, |_| {})
        .await
        .expect("a small synthetic farm");
    let small_events = store.head(&small).await.expect("its head").size;
    let server = Server::start(db, store).await;
    let events = server.head().await;
    let budget = (events + small_events) * BYTES_PER_EVENT - 1;
    server.state.ledgers.set_budget(budget);

    let first_answer = server.get("/parties", None).await.expect(200).body;
    server
        .get_outside(&format!("/api/v1/ledgers/{SMALL}/parties"), None)
        .await
        .expect(200);
    assert_eq!(
        open_ledgers(&server),
        [server::LEDGER, SMALL],
        "putting the first farm's governance state to rest was enough"
    );
    let first = figures_of(&server, server::LEDGER);
    assert!(first.resting);
    assert_eq!((first.rests, first.rebuilds, first.releases), (1, 0, 0));
    assert_eq!(
        first.charged_bytes,
        Some(events * READ_MODEL_BYTES_PER_EVENT)
    );
    assert!(!figures_of(&server, SMALL).resting);
    assert!(
        server
            .metrics()
            .await
            .lines()
            .any(|l| l == "windledger_ledgers_resting 1"),
        "one farm rests"
    );

    // Reads need no governance state: answered as before, still resting.
    let again = server.get("/parties", None).await.expect(200).body;
    assert_eq!(again, first_answer);
    assert!(figures_of(&server, server::LEDGER).resting);

    // A write has the state rebuilt to verify its events: they are
    // verified and shown, and the ledger holds.
    let secretary = server.token(server::LEDGER, Role::Secretary, None).await;
    server
        .post("/shareholders", &secretary, admission("cit-990"))
        .await
        .expect(201);
    let runtime = server
        .state
        .ledgers
        .held_one(&LedgerId::parse(server::LEDGER).expect("an id"))
        .expect("open");
    let head = server.head().await;
    assert!(head > events);
    assert_eq!(runtime.integrity.head().size, head, "verified");
    assert_eq!(runtime.projections.read(|p| p.position()), head, "shown");
    drop(runtime);
    server
        .post("/shareholders", &secretary, admission("cit-990"))
        .await
        .expect(422);
    let first = figures_of(&server, server::LEDGER);
    assert!(!first.resting);
    assert_eq!((first.rests, first.rebuilds), (1, 1));
    assert_eq!(
        Server::read(server.fetch("/readyz").await)
            .await
            .status
            .as_u16(),
        200
    );
    let metrics = server.metrics().await;
    for line in [
        "windledger_ledgers_resting 0".to_owned(),
        format!(
            "windledger_ledger_governance_rests_total{{ledger=\"{}\"}} 1",
            server::LEDGER
        ),
        format!(
            "windledger_ledger_governance_rebuilds_total{{ledger=\"{}\"}} 1",
            server::LEDGER
        ),
        format!("windledger_ledger_governance_rebuilds_total{{ledger=\"{SMALL}\"}} 0"),
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "/metrics says `{line}`:\n{metrics}"
        );
    }
    server.stop().await;
}
