//! The conformance suite: every backend must pass every test here. Each test
//! is a function of a fresh database; the macro at the bottom runs it on
//! PostgreSQL and on SQLite.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use futures::StreamExt;
use serde_json::json;
use uuid::Uuid;
use windledger_store::testing::{Backend, TestDatabase};
use windledger_store::{
    Checkpoint, CheckpointSigner, ExpectedVersion, LedgerId, Metadata, NewEvent, Store, StoreError,
    StreamAppend, StreamId, Verification, verify_jsonl,
};

fn ledger(name: &str) -> LedgerId {
    LedgerId::parse(name).unwrap()
}

fn stream(name: &str) -> StreamId {
    StreamId::parse(name).unwrap()
}

fn event(n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::new_v4(),
        event_type: "ShareIssued".into(),
        schema_version: 1,
        payload: json!({"holder": format!("h-{n}"), "shares": n, "price": "100.00"}),
        metadata: Metadata {
            actor: Some("secretary".into()),
            ..Metadata::default()
        },
    }
}

fn to(stream_name: &str, expected: ExpectedVersion, events: Vec<NewEvent>) -> StreamAppend {
    StreamAppend {
        stream_id: stream(stream_name),
        expected,
        events,
    }
}

async fn new_ledger(store: &Store, name: &str) -> LedgerId {
    let id = ledger(name);
    store.create_ledger(&id).await.unwrap();
    id
}

async fn all_events(store: &Store, ledger: &LedgerId) -> Vec<windledger_store::RecordedEvent> {
    store.read_ledger(ledger, 0, 1_000_000).await.unwrap()
}

/// The public key of the store's own seal key: what its seals verify with.
fn keys(store: &Store) -> Vec<windledger_store::CheckpointVerifier> {
    store.seal_verifier().cloned().into_iter().collect()
}

async fn assert_intact(store: &Store, ledger: &LedgerId) -> u64 {
    match store
        .verify(ledger, &keys(store), &[], |_, _| {})
        .await
        .unwrap()
    {
        Verification::Intact { head, .. } => head.size,
        Verification::Broken(b) => panic!("chain broken: {b}"),
    }
}

/// 32 tasks at once: 16 in pairs racing on 8 shared streams, 16 on streams
/// of their own. Every round of a pair has exactly one winner; positions are
/// 1..N with no gap or duplicate; the chain verifies.
async fn concurrent_appends_are_gapless_and_each_race_has_one_winner(db: TestDatabase) {
    const ROUNDS: u64 = 15;
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    let mut tasks = Vec::new();
    for task in 0..32u64 {
        let (store, ledger) = (store.clone(), ledger.clone());
        tasks.push(tokio::spawn(async move {
            let name = if task < 16 {
                format!("shared-{}", task / 2)
            } else {
                format!("own-{task}")
            };
            let mut wins = Vec::new();
            let mut version = 0;
            for round in 0..ROUNDS {
                // Racing tasks append one event a round and expect the
                // round's version; a task alone appends 1 to 3 and expects
                // its own count.
                let (expected, k) = if task < 16 {
                    (round, 1)
                } else {
                    (version, 1 + task % 3)
                };
                let events = (0..k)
                    .map(|i| event(task * 1000 + round * 10 + i))
                    .collect();
                match store
                    .append(
                        &ledger,
                        vec![to(&name, ExpectedVersion::Exact(expected), events)],
                    )
                    .await
                {
                    Ok(a) => {
                        version += k;
                        wins.push((round, a));
                    }
                    Err(StoreError::WrongExpectedVersion { .. }) => {}
                    Err(e) => panic!("task {task} round {round}: {e}"),
                }
            }
            (task, name, wins)
        }));
    }
    let mut winners: HashMap<(String, u64), Vec<u64>> = HashMap::new();
    let mut written = 0;
    for t in tasks {
        let (task, name, wins) = t.await.unwrap();
        if task >= 16 {
            assert_eq!(
                wins.len() as u64,
                ROUNDS,
                "a task alone on its stream never conflicts"
            );
        }
        for (round, appended) in wins {
            written += appended.events.len();
            winners.entry((name.clone(), round)).or_default().push(task);
        }
    }
    for pair in 0..8 {
        for round in 0..ROUNDS {
            let w = winners
                .get(&(format!("shared-{pair}"), round))
                .map_or(0, Vec::len);
            assert_eq!(
                w, 1,
                "shared-{pair} round {round} must have exactly one winner"
            );
        }
    }
    let events = all_events(&store, &ledger).await;
    assert_eq!(events.len(), written);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.position, i as u64 + 1, "positions are gapless");
    }
    assert_eq!(store.head(&ledger).await.unwrap().size, written as u64);
    assert_eq!(assert_intact(&store, &ledger).await, written as u64);
}

/// Two processes (two stores, each with its own writer and memory of the
/// head) append to one ledger at once: what one remembers goes stale with
/// every append of the other, and positions must still be gapless, races
/// still have one winner, and nothing be refused that `Any` allows.
async fn two_processes_on_one_ledger_stay_gapless(db: TestDatabase) {
    const ROUNDS: u64 = 12;
    let stores = [db.store().await, db.store().await];
    let ledger = new_ledger(&stores[0], "farm").await;
    let mut tasks = Vec::new();
    for task in 0..16u64 {
        let (store, ledger) = (stores[(task % 2) as usize].clone(), ledger.clone());
        tasks.push(tokio::spawn(async move {
            let mut wins = 0;
            for round in 0..ROUNDS {
                // Tasks 2k and 2k+1 (one per process) race on race-k.
                let race = to(
                    &format!("race-{}", task / 2),
                    ExpectedVersion::Exact(round),
                    vec![event(task * 100 + round)],
                );
                match store.append(&ledger, vec![race]).await {
                    Ok(_) => wins += 1,
                    Err(StoreError::WrongExpectedVersion { .. }) => {}
                    Err(e) => panic!("task {task}: {e}"),
                }
                let common = to(
                    "common",
                    ExpectedVersion::Any,
                    vec![event(task * 100 + 50 + round)],
                );
                store
                    .append(&ledger, vec![common])
                    .await
                    .expect("Any never conflicts");
            }
            wins
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += t.await.unwrap();
    }
    assert_eq!(wins, 8 * ROUNDS, "each race round has exactly one winner");
    let events = all_events(&stores[1], &ledger).await;
    assert_eq!(events.len() as u64, wins + 16 * ROUNDS);
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.position, i as u64 + 1, "positions are gapless");
    }
    assert_intact(&stores[0], &ledger).await;
}

async fn an_idempotent_retry_returns_the_original_positions_and_writes_nothing(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    store
        .append(&ledger, vec![to("a", ExpectedVersion::Any, vec![event(1)])])
        .await
        .unwrap();
    let batch = vec![
        to(
            "company/main",
            ExpectedVersion::NoStream,
            vec![event(2), event(3)],
        ),
        to(
            "meeting/agm-2024",
            ExpectedVersion::NoStream,
            vec![event(4)],
        ),
    ];
    let first = store.append(&ledger, batch.clone()).await.unwrap();
    assert!(!first.already_stored);
    assert_eq!(
        first.events.iter().map(|e| e.position).collect::<Vec<_>>(),
        vec![2, 3, 4]
    );
    // The retry still says NoStream: the idempotency check comes first.
    let again = store.append(&ledger, batch).await.unwrap();
    assert!(again.already_stored);
    assert_eq!(again.events, first.events);
    assert_eq!(store.head(&ledger).await.unwrap().size, 4);
}

async fn the_same_event_id_with_other_content_is_refused(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    let original = event(1);
    store
        .append(
            &ledger,
            vec![to("a", ExpectedVersion::Any, vec![original.clone()])],
        )
        .await
        .unwrap();
    let mut altered = original.clone();
    altered.payload = json!({"holder": "h-1", "shares": 1000, "price": "100.00"});
    let err = store
        .append(&ledger, vec![to("a", ExpectedVersion::Any, vec![altered])])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::EventIdConflict { event_id, .. } if event_id == original.event_id),
        "{err}"
    );
    // Same content on another stream is other content too.
    let err = store
        .append(
            &ledger,
            vec![to("b", ExpectedVersion::Any, vec![original.clone()])],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::EventIdConflict { .. }), "{err}");
    // A batch mixing a stored id with new ones is not a retry.
    let err = store
        .append(
            &ledger,
            vec![to("a", ExpectedVersion::Any, vec![original, event(2)])],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::EventIdConflict { .. }), "{err}");
    assert_eq!(store.head(&ledger).await.unwrap().size, 1);
}

async fn expected_versions_are_enforced(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    let append = |expected, n| {
        let (store, ledger) = (store.clone(), ledger.clone());
        async move {
            store
                .append(&ledger, vec![to("s", expected, vec![event(n)])])
                .await
        }
    };
    append(ExpectedVersion::NoStream, 1).await.unwrap();
    let err = append(ExpectedVersion::NoStream, 2).await.unwrap_err();
    assert!(
        matches!(
            &err,
            StoreError::WrongExpectedVersion {
                actual: 1,
                expected: ExpectedVersion::NoStream,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.is_retryable());
    append(ExpectedVersion::Exact(1), 3).await.unwrap();
    assert!(matches!(
        append(ExpectedVersion::Exact(1), 4).await,
        Err(StoreError::WrongExpectedVersion { actual: 2, .. })
    ));
    assert!(matches!(
        append(ExpectedVersion::Exact(5), 5).await,
        Err(StoreError::WrongExpectedVersion { actual: 2, .. })
    ));
    append(ExpectedVersion::Any, 6).await.unwrap();
    append(ExpectedVersion::Exact(3), 7).await.unwrap();
    let versions: Vec<u64> = store
        .read_stream(&ledger, &stream("s"), 0, 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(versions, vec![1, 2, 3, 4]);
    // An empty stream entry asserts a version without appending.
    let err = store
        .append(
            &ledger,
            vec![
                to("t", ExpectedVersion::Any, vec![event(8)]),
                to("s", ExpectedVersion::Exact(3), vec![]),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::WrongExpectedVersion { actual: 4, .. }),
        "{err}"
    );
    let err = store
        .append(&ledger, vec![to("s", ExpectedVersion::Any, vec![])])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidBatch(_)), "{err}");
    let err = store
        .append(
            &self::ledger("nowhere"),
            vec![to("s", ExpectedVersion::Any, vec![event(9)])],
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::LedgerNotFound(_)), "{err}");
}

async fn a_conflict_on_one_stream_writes_nothing_on_the_others(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    store
        .append(
            &ledger,
            vec![to("company/main", ExpectedVersion::Any, vec![event(1)])],
        )
        .await
        .unwrap();
    let err = store
        .append(
            &ledger,
            vec![
                to(
                    "meeting/agm",
                    ExpectedVersion::NoStream,
                    vec![event(2), event(3)],
                ),
                to("company/main", ExpectedVersion::NoStream, vec![event(4)]),
            ],
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::WrongExpectedVersion { ref stream, .. } if stream.as_str() == "company/main")
    );
    assert!(
        store
            .read_stream(&ledger, &stream("meeting/agm"), 0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.head(&ledger).await.unwrap().size, 1);
    assert_intact(&store, &ledger).await;
}

async fn the_database_refuses_to_rewrite_events(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    store
        .append(
            &ledger,
            vec![to("s", ExpectedVersion::Any, vec![event(1), event(2)])],
        )
        .await
        .unwrap();
    for sql in [
        "UPDATE events SET payload = '{\"shares\": 1000000}' WHERE position = 1",
        "UPDATE events SET event_type = 'Nothing'",
        "DELETE FROM events WHERE position = 2",
        "DELETE FROM events",
    ] {
        let err = db.execute_raw(sql).await.expect_err(sql);
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    if db.backend == Backend::Postgres {
        let err = db
            .execute_raw("TRUNCATE events")
            .await
            .expect_err("TRUNCATE");
        assert!(err.contains("append-only"), "{err}");
    }
    assert_eq!(all_events(&store, &ledger).await.len(), 2);
    assert_intact(&store, &ledger).await;
}

async fn verify_finds_a_payload_altered_behind_the_triggers_back(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    for n in 1..=10 {
        store
            .append(&ledger, vec![to("s", ExpectedVersion::Any, vec![event(n)])])
            .await
            .unwrap();
    }
    assert_eq!(assert_intact(&store, &ledger).await, 10);
    db.tamper_payload(
        &ledger,
        6,
        r#"{"holder":"h-6","price":"100.00","shares":600000}"#,
    )
    .await;
    match store
        .verify(&ledger, &keys(&store), &[], |_, _| {})
        .await
        .unwrap()
    {
        Verification::Broken(b) => {
            assert_eq!(b.position, 6, "{b}");
            assert!(b.reason.contains("altered"), "{b}");
        }
        other => panic!("tampering went unnoticed: {other:?}"),
    }
}

/// Writer `w`: `appends` appends to its stream `w<w>`, the `n`-th of
/// `events(n)`.
fn writer(
    store: &Store,
    ledger: &LedgerId,
    w: u64,
    appends: u64,
    events: impl Fn(u64) -> Vec<NewEvent> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    let (store, ledger) = (store.clone(), ledger.clone());
    tokio::spawn(async move {
        for n in 0..appends {
            store
                .append(
                    &ledger,
                    vec![to(&format!("w{w}"), ExpectedVersion::Any, events(n))],
                )
                .await
                .unwrap();
        }
    })
}

/// The first `n` events of a subscription, within a minute.
async fn within_a_minute(
    subscription: impl futures::Stream<Item = Result<windledger_store::RecordedEvent, StoreError>>,
    n: usize,
) -> Vec<windledger_store::RecordedEvent> {
    tokio::time::timeout(
        std::time::Duration::from_secs(60),
        subscription.take(n).map(|e| e.unwrap()).collect::<Vec<_>>(),
    )
    .await
    .expect("the subscription keeps up")
}

/// A subscription started mid-way, while 4 writers append, delivers every
/// event after its start exactly once, in position order.
async fn a_subscription_sees_each_event_once_in_order(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    for n in 0..50 {
        store
            .append(&ledger, vec![to("s", ExpectedVersion::Any, vec![event(n)])])
            .await
            .unwrap();
    }
    let subscription = store.subscribe(ledger.clone(), 20);
    let writers: Vec<_> = (0..4u64)
        .map(|w| writer(&store, &ledger, w, 50, move |n| vec![event(w * 100 + n)]))
        .collect();
    let received: Vec<u64> = within_a_minute(subscription, 230)
        .await
        .iter()
        .map(|e| e.position)
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(received, (21..=250).collect::<Vec<_>>());
}

/// A subscription that keeps up takes this process's commits from memory
/// (`news.rs`): what it delivers is, field for field, what a read of the
/// database gives, and so for the commits of another process on the same
/// ledger, which it reads (they are interleaved with this one's, so what
/// is kept in memory is cut short each time).
async fn a_subscription_delivers_what_a_read_gives(db: TestDatabase) {
    let stores = [db.store().await, db.store().await];
    let ledger = new_ledger(&stores[0], "farm").await;
    let subscription = stores[0].subscribe(ledger.clone(), 0);
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            writer(&stores[(w % 2) as usize], &ledger, w, 40, move |n| {
                let mut first = event(w * 1_000 + n);
                first.metadata.command_id = Some(format!("command-{w}-{n}"));
                first.metadata.extra.insert("réf".into(), "« é »".into());
                vec![first, event(w * 1_000 + 500 + n)]
            })
        })
        .collect();
    let received = within_a_minute(subscription, 320).await;
    for w in writers {
        w.await.unwrap();
    }
    let read = all_events(&stores[1], &ledger).await;
    assert_eq!(read.len(), 320);
    for (got, stored) in received.iter().zip(&read) {
        assert_eq!(got, stored);
        assert_eq!(got.payload.get(), stored.payload.get());
        assert_eq!(got.recorded_at, stored.recorded_at);
        assert_eq!(got.metadata, stored.metadata);
    }
}

async fn checkpoints_verify_against_later_states_and_fail_on_a_fork(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    for n in 0..10 {
        store
            .append(&ledger, vec![to("s", ExpectedVersion::Any, vec![event(n)])])
            .await
            .unwrap();
    }
    let signer = CheckpointSigner::generate("farm-signer").unwrap();
    let note = signer.sign(&Checkpoint::new(
        ledger.clone(),
        store.head(&ledger).await.unwrap(),
        chrono::Utc::now(),
    ));
    let checkpoint = signer.verifier().verify(&note).unwrap();
    for n in 10..15 {
        store
            .append(&ledger, vec![to("s", ExpectedVersion::Any, vec![event(n)])])
            .await
            .unwrap();
    }
    let cps = std::slice::from_ref(&checkpoint);
    assert!(matches!(
        store
            .verify(&ledger, &keys(&store), cps, |_, _| {})
            .await
            .unwrap(),
        Verification::Intact {
            checkpoints_checked: 1,
            ..
        }
    ));

    // Offline, on an export.
    let mut export = Vec::new();
    store
        .export_jsonl(&ledger, &mut export, |_, _| {})
        .await
        .unwrap();
    assert!(matches!(
        verify_jsonl(export.as_slice(), &keys(&store), cps, |_| {}).unwrap(),
        Verification::Intact { head, checkpoints_checked: 1 } if head.size == 15
    ));
    // An export cut short of the checkpoint is truncated history.
    let first_five: Vec<u8> = export
        .split_inclusive(|b| *b == b'\n')
        .take(5)
        .flatten()
        .copied()
        .collect();
    assert!(matches!(
        verify_jsonl(first_five.as_slice(), &keys(&store), cps, |_| {}).unwrap(),
        Verification::Broken(b) if b.position == 6
    ));

    // Another history of the same ledger (a fork) does not extend it.
    let fork = new_ledger(&store, "farm-fork").await;
    for n in 0..15 {
        let n = if n == 3 { 999 } else { n };
        store
            .append(&fork, vec![to("s", ExpectedVersion::Any, vec![event(n)])])
            .await
            .unwrap();
    }
    let mut forked = Vec::new();
    store
        .export_jsonl(&fork, &mut forked, |_, _| {})
        .await
        .unwrap();
    let forked = String::from_utf8(forked)
        .unwrap()
        .replace("\"ledger_id\":\"farm-fork\"", "\"ledger_id\":\"farm\"");
    // Re-chained under the checkpoint's ledger id, it is a valid chain...
    let rechained = rechain(&forked);
    match verify_jsonl(rechained.as_bytes(), &keys(&store), &[], |_| {}).unwrap() {
        // ...whose seals (made for another ledger) do not check...
        Verification::Broken(b) if b.is_unsealed() && b.position == 1 => {}
        other => panic!("a re-chained export verifies: {other:?}"),
    }
    // ...and not the one that was signed.
    assert!(matches!(
        verify_jsonl(rechained.as_bytes(), &keys(&store), cps, |_| {}).unwrap(),
        Verification::Broken(b) if b.position == 10 && b.reason.contains("rewritten")
    ));
}

/// Every commit is sealed, one seal per group covering its whole range; the
/// export carries the seals on the last line of each; a store without a
/// seal key appends nothing; seals by an unknown key, or none, are found.
async fn every_commit_is_sealed_and_only_a_trusted_key_verifies(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    store
        .append(
            &ledger,
            vec![to("a", ExpectedVersion::Any, vec![event(1), event(2)])],
        )
        .await
        .unwrap();
    // Concurrent appends share group commits: still every position sealed.
    let tasks: Vec<_> = (0..8u64)
        .map(|t| {
            let (store, ledger) = (store.clone(), ledger.clone());
            tokio::spawn(async move {
                for n in 0..5 {
                    store
                        .append(
                            &ledger,
                            vec![to(&format!("t{t}"), ExpectedVersion::Any, vec![event(n)])],
                        )
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(assert_intact(&store, &ledger).await, 42);
    let seals = store.seals(&ledger, 0, 42).await.unwrap();
    assert_eq!(seals[0].first, 1);
    assert_eq!(seals[0].last, 2);
    for pair in seals.windows(2) {
        assert_eq!(pair[1].first, pair[0].last + 1, "{seals:?}");
    }
    assert_eq!(seals.last().unwrap().last, 42);
    // Only the seals of the range asked for: the one that ends the range
    // (position 3 may share its commit with its neighbours: concurrent
    // appends are grouped).
    let third = seals
        .iter()
        .find(|s| s.first <= 3 && 3 <= s.last)
        .expect("a seal covers position 3");
    let some = store
        .seals(&ledger, third.first - 1, third.last)
        .await
        .unwrap();
    assert_eq!(some.len(), 1, "{some:?}");
    assert_eq!((some[0].first, some[0].last), (third.first, third.last));

    // Another key does not verify these seals.
    let stranger = vec![windledger_store::testing::test_signer("stranger").verifier()];
    match store
        .verify(&ledger, &stranger, &[], |_, _| {})
        .await
        .unwrap()
    {
        Verification::Broken(b) if b.is_unsealed() && b.position == 1 => {}
        other => panic!("seals verified with a stranger's key: {other:?}"),
    }
    // Nor does no key at all.
    match store.verify(&ledger, &[], &[], |_, _| {}).await.unwrap() {
        Verification::Broken(b) if b.is_unsealed() && b.position == 1 => {}
        other => panic!("seals verified with no key: {other:?}"),
    }
    // The old key and a new one, after a rotation: both trusted.
    let rotated = db
        .store_with(Some(windledger_store::testing::test_sealer()))
        .await;
    rotated
        .append(&ledger, vec![to("a", ExpectedVersion::Any, vec![event(3)])])
        .await
        .unwrap();
    let mut both = keys(&store);
    both.extend(keys(&rotated));
    assert!(matches!(
        store.verify(&ledger, &both, &[], |_, _| {}).await.unwrap(),
        Verification::Intact { head, .. } if head.size == 43
    ));
    match store
        .verify(&ledger, &keys(&store), &[], |_, _| {})
        .await
        .unwrap()
    {
        Verification::Broken(b) if b.is_unsealed() && b.position == 43 => {}
        other => panic!("a seal by an untrusted key verified: {other:?}"),
    }

    // The export carries each seal on its range's last line, and verifies
    // offline with the keys only.
    let mut export = Vec::new();
    store
        .export_jsonl(&ledger, &mut export, |_, _| {})
        .await
        .unwrap();
    let text = String::from_utf8(export).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].contains("\"ledger_id\"") && !lines[0].contains("\"seal\""));
    assert!(lines[1].contains("\"seal\":{\"first_position\":1,\"key_id\":"));
    assert_eq!(text.matches("\"seal\":").count(), seals.len() + 1);
    assert!(matches!(
        verify_jsonl(text.as_bytes(), &both, &[], |_| {}).unwrap(),
        Verification::Intact { head, .. } if head.size == 43
    ));
    // A seal's signature altered in the export: its range is unsealed.
    let e: windledger_store::RecordedEvent = serde_json::from_str(lines[1]).unwrap();
    let mut seal = e.seal.unwrap();
    seal.signature.0[0] ^= 1;
    let altered = serde_json::to_string(&windledger_store::RecordedEvent {
        seal: Some(seal),
        ..e
    })
    .unwrap();
    let tampered = text.replacen(lines[1], &altered, 1);
    match verify_jsonl(tampered.as_bytes(), &both, &[], |_| {}).unwrap() {
        Verification::Broken(b) if b.is_unsealed() && b.position == 1 => {}
        other => panic!("a forged seal verified: {other:?}"),
    }
    // Seals removed from the export: unsealed.
    let stripped: String = text
        .lines()
        .map(|l| {
            let mut e: windledger_store::RecordedEvent = serde_json::from_str(l).unwrap();
            e.seal = None;
            serde_json::to_string(&e).unwrap() + "\n"
        })
        .collect();
    match verify_jsonl(stripped.as_bytes(), &both, &[], |_| {}).unwrap() {
        Verification::Broken(b) if b.is_unsealed() && b.position == 1 => {}
        other => panic!("an export without seals verified: {other:?}"),
    }

    // A store without a seal key reads and verifies, and appends nothing.
    let reader = db.store_with(None).await;
    assert!(matches!(
        reader.verify(&ledger, &both, &[], |_, _| {}).await.unwrap(),
        Verification::Intact { .. }
    ));
    let refused = reader
        .append(&ledger, vec![to("a", ExpectedVersion::Any, vec![event(9)])])
        .await
        .unwrap_err();
    assert!(matches!(refused, StoreError::NoSealKey), "{refused}");
    assert!(refused.to_string().contains("seal key"), "{refused}");
    assert_eq!(store.head(&ledger).await.unwrap().size, 43);
}

/// An event inserted with database credentials only (chained well, hashes
/// recomputed) is reported unsealed at its position; a later sealed commit
/// on top of it does not cover it.
async fn an_event_written_without_the_seal_key_is_unsealed(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    for n in 1..=3 {
        store
            .append(&ledger, vec![to("s", ExpectedVersion::Any, vec![event(n)])])
            .await
            .unwrap();
    }
    let head = db.forge_event(&ledger, "s", 4).await;
    assert_eq!(head.size, 4);
    match store
        .verify(&ledger, &keys(&store), &[], |_, _| {})
        .await
        .unwrap()
    {
        Verification::Broken(b) if b.is_unsealed() && b.position == 4 => {
            assert!(b.to_string().contains("position 4 is unsealed"), "{b}");
        }
        other => panic!("a forged event verified: {other:?}"),
    }
    // The server, another process, appends on top (it sees the moved head):
    // the forged event stays unsealed.
    let other = db.store().await;
    other
        .append(&ledger, vec![to("s", ExpectedVersion::Any, vec![event(5)])])
        .await
        .unwrap();
    match store
        .verify(&ledger, &keys(&store), &[], |_, _| {})
        .await
        .unwrap()
    {
        Verification::Broken(b) if b.is_unsealed() && b.position == 4 => {}
        other => panic!("a forged event between two seals verified: {other:?}"),
    }
    // From a verified head before it, the incremental check finds it too.
    let third = store.read_ledger(&ledger, 2, 1).await.unwrap().remove(0);
    let from = windledger_store::Head {
        size: 3,
        hash: third.hash,
    };
    match store
        .verify_from(&ledger, from, &keys(&store), |_, _| {})
        .await
        .unwrap()
    {
        Verification::Broken(b) if b.is_unsealed() && b.position == 4 => {}
        other => panic!("the incremental check missed a forged event: {other:?}"),
    }
}

/// The incremental check resumes from a verified head and reads only what
/// follows it; a head that is not in the ledger does not chain.
async fn an_audit_resumes_from_a_verified_head(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    for n in 1..=5 {
        store
            .append(
                &ledger,
                vec![to(
                    &format!("s{}", n % 2),
                    ExpectedVersion::Any,
                    vec![event(n)],
                )],
            )
            .await
            .unwrap();
    }
    let mut audit = windledger_store::Audit::new(ledger.clone(), &keys(&store), &[]);
    let mut read = 0;
    assert!(matches!(
        store.audit_more(&ledger, &mut audit, |n, _| read = n).await.unwrap(),
        Verification::Intact { head, .. } if head.size == 5
    ));
    for n in 6..=8 {
        store
            .append(
                &ledger,
                vec![to("s0", ExpectedVersion::Any, vec![event(n)])],
            )
            .await
            .unwrap();
    }
    let mut pages = Vec::new();
    assert!(matches!(
        store.audit_more(&ledger, &mut audit, |n, size| pages.push((n, size))).await.unwrap(),
        Verification::Intact { head, .. } if head.size == 8
    ));
    // Only the three new events were read.
    assert_eq!(pages, vec![(8, 8)]);
    assert_eq!(audit.sealed(), 8);
    // Resumed from a head (size, hash) alone.
    let head5 = windledger_store::Head {
        size: 5,
        hash: store.read_ledger(&ledger, 4, 1).await.unwrap()[0].hash,
    };
    assert!(matches!(
        store.verify_from(&ledger, head5, &keys(&store), |_, _| {}).await.unwrap(),
        Verification::Intact { head, .. } if head.size == 8
    ));
    // A head that is not this ledger's at that size does not chain.
    let wrong = windledger_store::Head {
        size: 5,
        hash: windledger_store::Hash([7; 32]),
    };
    match store
        .verify_from(&ledger, wrong, &keys(&store), |_, _| {})
        .await
        .unwrap()
    {
        Verification::Broken(b) if !b.is_unsealed() && b.position == 6 => {}
        other => panic!("a wrong head was extended: {other:?}"),
    }
}

/// Someone with the database's owner rights cuts history (events and head
/// moved back): this writer refuses to append, writing nothing.
async fn a_head_moved_back_is_refused(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    for n in 1..=4 {
        store
            .append(&ledger, vec![to("s", ExpectedVersion::Any, vec![event(n)])])
            .await
            .unwrap();
    }
    db.cut_history(&ledger, 2).await;
    let refused = store
        .append(&ledger, vec![to("s", ExpectedVersion::Any, vec![event(5)])])
        .await
        .unwrap_err();
    match &refused {
        StoreError::HeadWentBack {
            found, committed, ..
        } => assert_eq!((*found, *committed), (2, 4)),
        other => panic!("appended on a cut history: {other}"),
    }
    assert!(
        refused.to_string().contains("behind the store's back"),
        "{refused}"
    );
    assert_eq!(store.head(&ledger).await.unwrap().size, 2);
    // Refused again: nothing is written until someone looks.
    assert!(
        store
            .append(&ledger, vec![to("s", ExpectedVersion::Any, vec![event(6)])])
            .await
            .is_err()
    );
    assert_eq!(all_events(&store, &ledger).await.len(), 2);
}

/// Signed checkpoints are recorded beside the ledger, appended only; the
/// latest is the largest; another head at a recorded size is refused.
async fn signed_checkpoints_are_recorded_and_never_rewritten(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    assert_eq!(store.latest_signed_checkpoint(&ledger).await.unwrap(), None);
    let signer = windledger_store::testing::test_signer("farm-signer");
    let mut notes = Vec::new();
    for n in 1..=3 {
        store
            .append(&ledger, vec![to("s", ExpectedVersion::Any, vec![event(n)])])
            .await
            .unwrap();
        let cp = Checkpoint::new(
            ledger.clone(),
            store.head(&ledger).await.unwrap(),
            chrono::Utc::now(),
        );
        let note = signer.sign(&cp);
        assert!(store.record_signed_checkpoint(&cp, &note).await.unwrap());
        // Again: already there.
        assert!(!store.record_signed_checkpoint(&cp, &note).await.unwrap());
        notes.push((cp, note));
    }
    let latest = store
        .latest_signed_checkpoint(&ledger)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((latest.size, latest.head), (3, notes[2].0.head));
    assert_eq!(signer.verifier().verify(&latest.note).unwrap(), notes[2].0);
    // Another head at size 2 is a fork: refused.
    let forked = Checkpoint {
        head: windledger_store::Hash([9; 32]),
        ..notes[1].0.clone()
    };
    let refused = store
        .record_signed_checkpoint(&forked, &signer.sign(&forked))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, StoreError::CheckpointConflict { size: 2, .. }),
        "{refused}"
    );
    for sql in [
        "UPDATE signed_checkpoints SET size = 9",
        "DELETE FROM signed_checkpoints",
        "UPDATE seals SET first_position = 1",
        "DELETE FROM seals",
    ] {
        let err = db.execute_raw(sql).await.expect_err(sql);
        assert!(err.contains("append-only"), "{sql}: {err}");
    }
    if db.backend == Backend::Postgres {
        for sql in ["TRUNCATE signed_checkpoints", "TRUNCATE seals"] {
            let err = db.execute_raw(sql).await.expect_err(sql);
            assert!(err.contains("append-only"), "{sql}: {err}");
        }
    }
}

/// Recomputes every hash of an export, as a forger with no signing key would.
fn rechain(jsonl: &str) -> String {
    let mut prev = windledger_store::Hash::GENESIS;
    let mut out = String::new();
    for line in jsonl.lines() {
        let mut e: windledger_store::RecordedEvent = serde_json::from_str(line).unwrap();
        e.prev_hash = prev;
        e.hash = windledger_store::recompute_hash(&e).unwrap();
        prev = e.hash;
        out.push_str(&serde_json::to_string(&e).unwrap());
        out.push('\n');
    }
    out
}

/// Random sequences of appends, conflicts and retries, one at a time: the
/// ledger holds exactly the accepted batches, in order, and verifies.
async fn random_histories_equal_their_accepted_batches(db: TestDatabase) {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    #[derive(Clone, Debug)]
    enum Op {
        /// (stream, expected: None = Any, Some(v) = Exact(v) with v maybe wrong, events)
        Append(Vec<(u8, Option<u64>, u8)>),
        Retry(usize),
    }
    let op = prop_oneof![
        4 => prop::collection::vec((0u8..4, prop::option::of(0u64..4), 0u8..3), 1..3).prop_map(Op::Append),
        1 => (0usize..100).prop_map(Op::Retry),
    ];
    let store = Arc::new(db.store().await);
    let case = std::sync::atomic::AtomicU32::new(0);
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    let result = runner.run(&prop::collection::vec(op, 1..25), |ops| {
        let store = store.clone();
        let ledger = ledger(&format!(
            "case-{}",
            case.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                store.create_ledger(&ledger).await.unwrap();
                let mut versions: BTreeMap<u8, u64> = BTreeMap::new();
                let mut sent: Vec<Vec<StreamAppend>> = Vec::new();
                // Positions of each accepted batch, by its first event id.
                let mut accepted: HashMap<Uuid, Vec<u64>> = HashMap::new();
                let mut expected_ids: Vec<Uuid> = Vec::new();
                let mut n = 0;
                for op in ops {
                    let (batch, original) = match op {
                        Op::Append(parts) => {
                            let mut seen = std::collections::HashSet::new();
                            let batch: Vec<StreamAppend> = parts
                                .into_iter()
                                .filter(|(s, _, _)| seen.insert(*s))
                                .map(|(s, v, k)| {
                                    let events = (0..k)
                                        .map(|_| {
                                            n += 1;
                                            event(n)
                                        })
                                        .collect();
                                    to(
                                        &format!("s{s}"),
                                        v.map_or(ExpectedVersion::Any, ExpectedVersion::Exact),
                                        events,
                                    )
                                })
                                .collect();
                            (batch, None)
                        }
                        Op::Retry(i) if !sent.is_empty() => {
                            let b = sent[i % sent.len()].clone();
                            let first = b.iter().flat_map(|s| &s.events).next().map(|e| e.event_id);
                            let positions = first.and_then(|id| accepted.get(&id).cloned());
                            (b, Some(positions))
                        }
                        Op::Retry(_) => continue,
                    };
                    let total: usize = batch.iter().map(|s| s.events.len()).sum();
                    let result = store.append(&ledger, batch.clone()).await;
                    let model_accepts = batch.iter().all(|s| match s.expected {
                        ExpectedVersion::Exact(v) => {
                            versions
                                .get(&stream_index(&s.stream_id))
                                .copied()
                                .unwrap_or(0)
                                == v
                        }
                        _ => true,
                    });
                    match (original, result) {
                        // A retry of an accepted batch: same positions, nothing new.
                        (Some(Some(positions)), Ok(a)) => {
                            prop_assert!(a.already_stored);
                            prop_assert_eq!(
                                a.events.iter().map(|e| e.position).collect::<Vec<_>>(),
                                positions
                            );
                        }
                        (Some(Some(_)), Err(e)) => {
                            prop_assert!(false, "retry of an accepted batch failed: {}", e)
                        }
                        (_, Ok(a)) => {
                            prop_assert!(
                                total > 0 && model_accepts,
                                "accepted what the model refuses"
                            );
                            prop_assert!(!a.already_stored);
                            for s in &batch {
                                *versions.entry(stream_index(&s.stream_id)).or_default() +=
                                    s.events.len() as u64;
                                expected_ids.extend(s.events.iter().map(|e| e.event_id));
                            }
                            accepted.insert(
                                a.events[0].event_id,
                                a.events.iter().map(|e| e.position).collect(),
                            );
                            sent.push(batch);
                        }
                        (_, Err(StoreError::WrongExpectedVersion { .. })) => {
                            prop_assert!(!model_accepts, "refused what the model accepts");
                            sent.push(batch);
                        }
                        (_, Err(StoreError::InvalidBatch(_))) => prop_assert_eq!(total, 0),
                        (_, Err(e)) => prop_assert!(false, "unexpected error {}", e),
                    }
                }
                let stored: Vec<Uuid> = all_events(&store, &ledger)
                    .await
                    .iter()
                    .map(|e| e.event_id)
                    .collect();
                prop_assert_eq!(stored, expected_ids);
                prop_assert_eq!(assert_intact(&store, &ledger).await, n_accepted(&versions));
                Ok(())
            })
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn stream_index(s: &StreamId) -> u8 {
    s.as_str()[1..].parse().unwrap()
}

fn n_accepted(versions: &BTreeMap<u8, u64>) -> u64 {
    versions.values().sum()
}

/// Every connection of the store is killed mid-catch-up; the
/// subscription resumes from its position with no gap and no duplicate.
async fn a_subscription_survives_dropped_connections(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    for chunk in 0..20u64 {
        let events = (0..500).map(|i| event(chunk * 500 + i)).collect();
        store
            .append(&ledger, vec![to("s", ExpectedVersion::Any, events)])
            .await
            .unwrap();
    }
    let mut subscription = Box::pin(store.subscribe(ledger.clone(), 0));
    let mut positions = Vec::new();
    while let Some(e) = subscription.next().await {
        positions.push(e.unwrap().position);
        if positions.len() == 2_500 {
            let killed = db
                .execute_raw(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .await
                .unwrap();
            assert!(killed > 0);
            // An append now, as a client would make it: retried (with the
            // same event id) until the store has a live connection again.
            let late = vec![to("s", ExpectedVersion::Any, vec![event(1)])];
            let mut tries = 0;
            while let Err(e) = store.append(&ledger, late.clone()).await {
                tries += 1;
                assert!(e.is_retryable() && tries < 50, "{e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
        if positions.len() as u64
            == store
                .head(&ledger)
                .await
                .map(|h| h.size)
                .unwrap_or(0)
                .max(10_001)
        {
            break;
        }
    }
    let n = positions.len() as u64;
    assert_eq!(positions, (1..=n).collect::<Vec<_>>());
    assert!(n >= 10_000);
}

windledger_store::on_both_backends!(
    worker_threads = 4;
    concurrent_appends_are_gapless_and_each_race_has_one_winner,
    two_processes_on_one_ledger_stay_gapless,
    an_idempotent_retry_returns_the_original_positions_and_writes_nothing,
    the_same_event_id_with_other_content_is_refused,
    expected_versions_are_enforced,
    a_conflict_on_one_stream_writes_nothing_on_the_others,
    the_database_refuses_to_rewrite_events,
    verify_finds_a_payload_altered_behind_the_triggers_back,
    a_subscription_sees_each_event_once_in_order,
    a_subscription_delivers_what_a_read_gives,
    checkpoints_verify_against_later_states_and_fail_on_a_fork,
    random_histories_equal_their_accepted_batches,
    every_commit_is_sealed_and_only_a_trusted_key_verifies,
    an_event_written_without_the_seal_key_is_unsealed,
    an_audit_resumes_from_a_verified_head,
    a_head_moved_back_is_refused,
    signed_checkpoints_are_recorded_and_never_rewritten,
    reads_after_any_position_find_nothing_rather_than_overflow,
    every_ledgers_size_is_read_at_once,
);

/// `ledger_sizes` gives each ledger's committed size, as `head` does, in
/// one read: an empty ledger at 0, and the ledgers in id order.
async fn every_ledgers_size_is_read_at_once(db: TestDatabase) {
    let store = db.store().await;
    assert!(store.ledger_sizes().await.unwrap().is_empty());
    let farms = [
        new_ledger(&store, "parc-b").await,
        new_ledger(&store, "parc-a").await,
    ];
    new_ledger(&store, "parc-c").await;
    for (farm, n) in farms.iter().zip([3, 1]) {
        for i in 1..=n {
            store
                .append(farm, vec![to("s", ExpectedVersion::Any, vec![event(i)])])
                .await
                .unwrap();
        }
    }
    let sizes: Vec<(String, u64)> = store
        .ledger_sizes()
        .await
        .unwrap()
        .into_iter()
        .map(|(id, size)| (id.as_str().to_owned(), size))
        .collect();
    assert_eq!(
        sizes,
        [
            ("parc-a".into(), 1),
            ("parc-b".into(), 3),
            ("parc-c".into(), 0)
        ]
    );
    for (id, size) in store.ledger_sizes().await.unwrap() {
        assert_eq!(store.head(&id).await.unwrap().size, size);
    }
}

/// A position or version a client chose, however large, reads an empty
/// page: never a database overflow, never a wrap to the first events.
async fn reads_after_any_position_find_nothing_rather_than_overflow(db: TestDatabase) {
    let store = db.store().await;
    let ledger = new_ledger(&store, "farm").await;
    store
        .append(
            &ledger,
            vec![to(
                "company/x",
                ExpectedVersion::NoStream,
                vec![event(1), event(2)],
            )],
        )
        .await
        .unwrap();
    for after in [
        windledger_store::MAX_POSITION - 1,
        windledger_store::MAX_POSITION,
        9_223_372_036_854_775_000,
        i64::MAX as u64,
        u64::MAX,
    ] {
        let page = store.read_ledger(&ledger, after, 1_000).await;
        assert!(
            page.as_ref().is_ok_and(Vec::is_empty),
            "after {after}: {page:?}"
        );
        let page = store
            .read_stream(&ledger, &stream("company/x"), after, 1_000)
            .await;
        assert!(
            page.as_ref().is_ok_and(Vec::is_empty),
            "version {after}: {page:?}"
        );
        let payloads = store
            .read_stream_payloads(&ledger, &stream("company/x"), after)
            .await;
        assert!(
            payloads.as_ref().is_ok_and(Vec::is_empty),
            "payloads {after}: {payloads:?}"
        );
    }
    assert_eq!(store.read_ledger(&ledger, 1, 1_000).await.unwrap().len(), 1);
}

/// PostgreSQL only: SQLite has no connection to drop.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_subscription_survives_dropped_connections() {
    let Some(db) = TestDatabase::new(Backend::Postgres).await else {
        return;
    };
    a_subscription_survives_dropped_connections(db).await;
}
