//! Importing a farm's history, on both backends: the reference farm
//! (`fixtures/ailes-de-taillard.jsonl`) imports cleanly and its projections
//! add up; a bad line stops the import there with nothing of it written;
//! an interrupted import continues without writing anything twice.

use std::collections::{BTreeMap, HashSet};

use rust_decimal::Decimal;
use windledger_app::import::synthetic::{Synthetic, SyntheticError, write_synthetic};
use windledger_app::import::{ImportError, Imported, import};
use windledger_app::services::ledger_event;
use windledger_domain::finance::Beneficiary;
use windledger_domain::meeting::{Outcome, RejectionRule};
use windledger_projections::cap_table::AsOf;
use windledger_projections::finance::ReportBody;
use windledger_projections::runner::Projections;
use windledger_store::testing::TestDatabase;
use windledger_store::{LedgerId, RecordedEvent, Store};

use windledger_fixtures::farm::day;

use crate::server::REFERENCE_FARM;

windledger_store::on_both_backends!(
    the_reference_farm_imports_cleanly_and_its_projections_add_up,
    a_refused_line_stops_the_import_there_with_nothing_of_it_written,
    a_line_that_is_not_a_command_is_found_before_it_runs,
    an_interrupted_import_resumes_without_writing_anything_twice,
    a_synthetic_farm_is_written_straight_to_an_empty_ledger,
);

fn ledger(id: &str) -> LedgerId {
    LedgerId::parse(id).expect("a ledger id")
}

/// Lines of the reference file that are commands (not comments).
fn command_lines() -> Vec<&'static str> {
    REFERENCE_FARM
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect()
}

fn id_of(line: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
    value["id"].as_str().expect("an id").to_owned()
}

async fn import_text(store: &Store, into: &LedgerId, text: &str) -> Result<Imported, ImportError> {
    import(store.clone(), into.clone(), text.as_bytes(), |_| {}).await
}

async fn events(store: &Store, of: &LedgerId) -> Vec<RecordedEvent> {
    let mut all = Vec::new();
    loop {
        let after = all.last().map_or(0, |e: &RecordedEvent| e.position);
        let page = store
            .read_ledger(of, after, 1_000)
            .await
            .expect("the ledger reads");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

async fn projections(store: &Store, of: &LedgerId) -> Projections {
    let mut projections = Projections::default();
    for e in events(store, of).await {
        projections.apply(&ledger_event(e));
    }
    if let Some(failure) = projections.failure() {
        panic!("a projection stopped: {failure}");
    }
    projections
}

fn cents(amount: Decimal) -> i64 {
    (amount * Decimal::ONE_HUNDRED)
        .try_into()
        .expect("whole cents")
}

async fn the_reference_farm_imports_cleanly_and_its_projections_add_up(db: TestDatabase) {
    let store = db.store().await;
    let farm = ledger("ailes-de-taillard");
    let started = std::time::Instant::now();
    let imported = import_text(&store, &farm, REFERENCE_FARM)
        .await
        .unwrap_or_else(|e| panic!("the reference farm is refused: {e}"));
    eprintln!(
        "{}: imported {} commands in {:.1} s ({:.0} commands/s)",
        store.backend_name(),
        imported.executed,
        started.elapsed().as_secs_f64(),
        imported.executed as f64 / started.elapsed().as_secs_f64()
    );
    let commands = command_lines().len();
    assert_eq!(imported.commands, commands);
    assert_eq!(imported.executed, commands);
    assert_eq!(imported.skipped, 0);
    // Every command of the reference farm records one event.
    assert_eq!(imported.events, commands as u64);
    assert_eq!(imported.head, store.head(&farm).await.expect("a head"));

    let projections = projections(&store, &farm).await;
    assert_eq!(projections.position(), imported.head.size);

    // Shares per college: 40,000 / 20,000 / 20,000 at the initial
    // subscription, and still at the end (transfers stay among citizens).
    let cap_table = projections.cap_table.fold();
    for date in [day(2013, 6, 28), day(2025, 12, 31)] {
        let view = cap_table
            .view(AsOf::Date { date })
            .expect("the company exists");
        let shares: BTreeMap<&str, u64> = view
            .by_college
            .iter()
            .map(|(college, totals)| (college.as_str(), totals.shares))
            .collect();
        assert_eq!(
            shares,
            BTreeMap::from([
                ("citoyens", 20_000),
                ("collectivites", 20_000),
                ("industriel", 40_000)
            ]),
            "on {date}"
        );
        assert_eq!(view.share_capital.amount(), Decimal::from(8_000_000));
    }
    let start = cap_table
        .view(AsOf::Date {
            date: day(2013, 6, 28),
        })
        .expect("the company exists");
    let holders = |college: &str| {
        start
            .by_college
            .iter()
            .find(|(c, _)| c.as_str() == college)
            .map_or(0, |(_, totals)| totals.holders)
    };
    assert_eq!(
        (
            holders("industriel"),
            holders("collectivites"),
            holders("citoyens")
        ),
        (1, 2, 128)
    );

    // Dividends: one for each year whose accounts were approved (2020 to
    // 2024), the allocations summing exactly to what was declared, each
    // paid its net once.
    let finance = projections.finance.fold();
    let mut declared_years = Vec::new();
    for year in finance.years() {
        let Some(dividend) = &year.dividend else {
            continue;
        };
        declared_years.push(year.year);
        let appropriated = year.appropriation.as_ref().expect("appropriated first");
        assert_eq!(dividend.total, appropriated.dividend, "{}", year.year);
        let gross: i64 = dividend
            .allocations
            .iter()
            .map(|a| cents(a.gross.amount()))
            .sum();
        assert_eq!(
            gross + cents(dividend.undistributed.amount()),
            cents(dividend.total.amount()),
            "the allocations of {} sum to the total declared",
            year.year
        );
        assert_eq!(dividend.undistributed.amount(), Decimal::ZERO);
        let net: i64 = dividend
            .allocations
            .iter()
            .map(|a| cents(a.net.amount()))
            .sum();
        let paid: i64 = dividend
            .payments()
            .map(|(_, p)| cents(p.amount.amount()))
            .sum();
        assert_eq!(dividend.paid(), dividend.allocations.len());
        assert_eq!(paid, net, "{}", year.year);
        // Individuals are paid net of the 30 % withheld, legal persons gross.
        assert!(net < gross);
    }
    assert_eq!(declared_years, [2020, 2021, 2022, 2023, 2024]);

    // IFER: due from 2021, shared commune 20 % / EPCI 50 % / département
    // 30 % (turbines commissioned in 2020), to the cent.
    let mut shares = [0i64; 3];
    let mut total = 0i64;
    let mut tax_years = Vec::new();
    for year in finance.years() {
        for report in year.in_force() {
            let ReportBody::Ifer {
                tax_year,
                lines,
                total: assessed,
            } = &report.body
            else {
                continue;
            };
            tax_years.push(*tax_year);
            assert_eq!(lines.len(), 10, "every turbine is in service");
            total += cents(assessed.amount());
            for line in lines {
                for (beneficiary, amount) in &line.shares {
                    let slot = match beneficiary {
                        Beneficiary::Commune { .. } => 0,
                        Beneficiary::Epci { .. } => 1,
                        Beneficiary::Departement { code } => {
                            assert_eq!(code, "42");
                            2
                        }
                        other => panic!("IFER to {other:?}"),
                    };
                    shares[slot] += cents(amount.amount());
                }
            }
        }
    }
    assert_eq!(tax_years, [2021, 2022, 2023, 2024, 2025]);
    assert_eq!(shares.iter().sum::<i64>(), total);
    assert_eq!(
        [shares[0] * 100, shares[1] * 100, shares[2] * 100],
        [total * 20, total * 50, total * 30]
    );

    // The reserved matter of 2024, adopted by most votes, vetoed by the
    // local authorities' college.
    let register = projections.register.fold();
    let results = &register
        .meeting("ago-2024")
        .and_then(|m| m.closed.as_ref())
        .expect("the 2024 meeting closed")
        .results;
    let vetoed: Vec<_> = results.iter().filter(|r| !r.outcome.is_adopted()).collect();
    assert_eq!(vetoed.len(), 1);
    assert!(vetoed[0].majority_reached);
    assert_eq!(
        vetoed[0].outcome,
        Outcome::Rejected {
            rules: vec![RejectionRule::Veto {
                college: "collectivites".parse().expect("a college id")
            }]
        }
    );

    // The production of T07 in March 2022, corrected.
    let year = finance.year(2022).expect("2022");
    let corrected = year
        .reports
        .values()
        .filter(|r| r.corrected_by.is_some())
        .map(|r| r.id.as_str())
        .collect::<Vec<_>>();
    assert_eq!(corrected, ["p-2022-03-T07"]);
}

async fn a_refused_line_stops_the_import_there_with_nothing_of_it_written(db: TestDatabase) {
    let store = db.store().await;
    let farm = ledger("refused");
    // The company and its founders, then a citizen selling more than they
    // hold, then a line that must not run.
    let lines = command_lines();
    let subscription = lines
        .iter()
        .position(|l| l.contains("\"company-subscription-2013\""))
        .expect("the initial subscription");
    let prefix = &lines[..=subscription];
    let bad = r#"{"id": "too-many", "stream": "company/ailes-de-taillard", "command": {"command": "transfer_shares", "from": "cit-001", "to": "cit-002", "class": "ordinaires", "count": 1000000, "price_per_share": "100", "approval": null, "effective_date": "2016-03-01"}}"#;
    let after = r#"{"id": "never-run", "stream": "company/ailes-de-taillard", "command": {"command": "record_exit", "holder": "cit-003", "effective_date": "2016-03-02"}}"#;
    let text = format!("# a comment\n\n{}\n{bad}\n{after}\n", prefix.join("\n"));
    let error = import_text(&store, &farm, &text)
        .await
        .expect_err("the import stops");
    let bad_line = 2 + prefix.len() + 1;
    match &error {
        ImportError::Refused { line, id, reason } => {
            assert_eq!(*line, bad_line);
            assert_eq!(id, "too-many");
            assert!(reason.contains("cit-001"), "{reason}");
        }
        other => panic!("not a refusal: {other}"),
    }
    assert!(
        error
            .to_string()
            .starts_with(&format!("line {bad_line} (too-many): refused: ")),
        "{error}"
    );
    // The head is where the line before left it: one event per line.
    let recorded = events(&store, &farm).await;
    assert_eq!(recorded.len(), prefix.len());
    let last = recorded.last().expect("events");
    assert_eq!(
        last.metadata.command_id.as_deref(),
        Some("company-subscription-2013")
    );
    assert_eq!(last.metadata.actor.as_deref(), Some("import"));
    assert_eq!(
        store.head(&farm).await.expect("a head").hash,
        last.hash,
        "nothing after the line before the refused one"
    );

    // Fixed, the import continues from the refused line: the transfer is
    // recorded, then the next line is refused in its turn (cit-003 still
    // holds shares and cannot leave).
    let fixed = text.replace("1000000", "1");
    match import_text(&store, &farm, &fixed).await {
        Err(ImportError::Refused { line, id, reason }) => {
            assert_eq!((line, id.as_str()), (bad_line + 1, "never-run"));
            assert!(reason.contains("still holds"), "{reason}");
        }
        other => panic!("the exit of a holder with shares: {other:?}"),
    }
    assert_eq!(events(&store, &farm).await.len(), prefix.len() + 1);
}

async fn a_line_that_is_not_a_command_is_found_before_it_runs(db: TestDatabase) {
    let store = db.store().await;
    let lines = command_lines();
    let first = lines[0];
    let cases = [
        ("not-json", "{\"id\": \"x\", ", None),
        (
            "unknown-stream",
            r#"{"id": "x1", "stream": "board/2024", "command": {"command": "close"}}"#,
            Some("x1"),
        ),
        (
            "unknown-command",
            r#"{"id": "x2", "stream": "company/ailes-de-taillard", "command": {"command": "merge", "with": "other"}}"#,
            Some("x2"),
        ),
        (
            "meeting-of-another-stream",
            r#"{"id": "x3", "stream": "meeting/ago-2099", "command": {"command": "convene", "meeting": "ago-2098", "kind": "ordinary_general_meeting", "call": {"call": "first"}, "record_date": "2099-06-05", "opens_at": "2099-06-08T08:00:00Z", "closes_at": "2099-06-22T18:00:00Z", "agenda": [], "convened_on": "2099-05-15"}}"#,
            Some("x3"),
        ),
        (
            "duplicate-id",
            // The first line again: its id is already used in the file.
            first,
            Some("company-incorporation"),
        ),
    ];
    for (name, bad, expected_id) in cases {
        let farm = ledger(name);
        let text = format!("{first}\n{bad}\n");
        match import_text(&store, &farm, &text).await {
            Err(ImportError::Invalid { line, id, reason }) => {
                assert_eq!(line, 2, "{name}: {reason}");
                assert_eq!(id.as_deref(), expected_id, "{name}: {reason}");
            }
            other => panic!("{name}: {other:?}"),
        }
        let recorded = events(&store, &farm).await;
        assert_eq!(recorded.len(), 1, "{name}: only the first line is recorded");
    }

    // A file whose ids name other streams than the ledger holds for them
    // is not the file that was imported.
    let farm = ledger("unknown-stream");
    let moved = first.replace(
        "\"stream\":\"company/ailes-de-taillard\"",
        "\"stream\":\"company/other\"",
    );
    match import_text(&store, &farm, &moved).await {
        Err(ImportError::Invalid {
            line: 1,
            id,
            reason,
        }) => {
            assert_eq!(id.as_deref(), Some("company-incorporation"));
            assert!(reason.contains("already holds this command id"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

async fn an_interrupted_import_resumes_without_writing_anything_twice(db: TestDatabase) {
    let store = db.store().await;
    let lines: Vec<&str> = REFERENCE_FARM.lines().collect();
    // Interrupted after 1,000 lines (comments included), then run again on
    // the whole file; and once more, which finds nothing left to do.
    let resumed = ledger("resumed");
    let first = import_text(&store, &resumed, &lines[..1_000].join("\n"))
        .await
        .expect("the first part imports");
    let second = import_text(&store, &resumed, REFERENCE_FARM)
        .await
        .expect("the rest imports");
    let commands = command_lines().len();
    assert_eq!(second.skipped, first.executed);
    assert_eq!(first.executed + second.executed, commands);
    let third = import_text(&store, &resumed, REFERENCE_FARM)
        .await
        .expect("nothing left");
    assert_eq!((third.executed, third.skipped), (0, commands));
    assert_eq!(third.head, second.head);

    // The same events as a clean import, in the same order, each command
    // id once, in the file's order.
    let clean = ledger("clean");
    import_text(&store, &clean, REFERENCE_FARM)
        .await
        .expect("a clean import");
    let resumed_events = events(&store, &resumed).await;
    let clean_events = events(&store, &clean).await;
    assert_eq!(resumed_events.len(), clean_events.len());
    for (r, c) in resumed_events.iter().zip(&clean_events) {
        assert_eq!(
            (
                &r.stream_id,
                r.stream_version,
                &r.event_type,
                r.payload.get()
            ),
            (
                &c.stream_id,
                c.stream_version,
                &c.event_type,
                c.payload.get()
            ),
            "position {}",
            r.position
        );
        assert_eq!(r.metadata, c.metadata, "position {}", r.position);
    }
    let ids: Vec<String> = resumed_events
        .iter()
        .map(|e| e.metadata.command_id.clone().expect("a command id"))
        .collect();
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "each command id once");
    let in_file: Vec<String> = command_lines().into_iter().map(id_of).collect();
    assert_eq!(ids, in_file);
}

async fn a_synthetic_farm_is_written_straight_to_an_empty_ledger(db: TestDatabase) {
    let store = db.store().await;
    let farm = ledger("synthetic");
    let config = Synthetic::new(40, 2, 7);
    let generated = config.generate().count() as u64;
    let mut reported = Vec::new();
    let written = write_synthetic(&store, &farm, &config, |n| reported.push(n))
        .await
        .expect("the synthetic farm is written");
    assert_eq!(written.events, generated);
    assert_eq!(written.head.size, generated);
    assert_eq!(reported.last(), Some(&generated));
    // The generator's order is the ledger's, and the projections take it.
    let projections = projections(&store, &farm).await;
    assert_eq!(projections.position(), generated);
    let recorded = events(&store, &farm).await;
    assert!(
        recorded
            .iter()
            .all(|e| e.metadata.actor.as_deref() == Some("synthetic"))
    );
    // Never into a ledger that holds anything.
    match write_synthetic(&store, &farm, &config, |_| {}).await {
        Err(SyntheticError::NotEmpty { size, .. }) => assert_eq!(size, generated),
        other => panic!("{other:?}"),
    }
}
