//! The server verifies what it serves and signs (issue 16): an event
//! written behind its back that breaks the rules, a truncated ledger, an
//! event changed after it was verified. Each stops writes and signatures
//! (503 with the reason), makes `/readyz` fail and is counted in
//! `/metrics`.

use crate::server;

use crate::server::Server;
use serde_json::json;
use windledger_api::auth::Role;
use windledger_store::testing::{Backend, TestDatabase};
use windledger_store::{LedgerId, RecordedEvent, StreamId, recompute_hash};

windledger_store::on_both_backends!(
    a_forged_well_chained_event_stops_writes_and_signatures,
    a_ledger_cut_back_behind_the_servers_back_is_not_signed,
    an_event_changed_after_it_was_verified_is_not_signed,
);

fn hex_literal(backend: Backend, bytes: &[u8]) -> String {
    match backend {
        Backend::Postgres => format!("'\\x{}'::bytea", hex::encode(bytes)),
        Backend::Sqlite => format!("X'{}'", hex::encode(bytes)),
    }
}

fn text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Appends `payload` to the company stream as a writer holding only the
/// database's credentials would: a well-chained row (its hash computed as
/// the store computes it), and the ledger's head moved to it.
async fn forge(server: &Server, event_type: &str, payload: serde_json::Value) -> u64 {
    let ledger = LedgerId::parse(server::LEDGER).expect("a ledger id");
    let head = server.store.head(&ledger).await.expect("a head");
    let company = server
        .store
        .read_stream(
            &ledger,
            &StreamId::parse("company/ailes-de-taillard").expect("a stream"),
            0,
            100_000,
        )
        .await
        .expect("the company stream");
    let version = company.last().map_or(0, |e| e.stream_version) + 1;
    let line = json!({
        "ledger_id": server::LEDGER, "position": head.size + 1,
        "stream_id": "company/ailes-de-taillard", "stream_version": version,
        "event_id": uuid::Uuid::new_v4(), "event_type": event_type, "schema_version": 1,
        "payload": payload, "metadata": {"actor": "secretary"},
        "recorded_at": windledger_store::timestamp::format(&chrono::Utc::now()),
        "prev_hash": head.hash.to_hex(), "hash": head.hash.to_hex(),
    });
    let mut forged: RecordedEvent = serde_json::from_value(line).expect("an event");
    forged.hash = recompute_hash(&forged).expect("a hash");
    let b = server.db.backend;
    // PostgreSQL's uuid and timestamptz columns take typed literals.
    let (uuid, time) = match b {
        Backend::Postgres => ("::uuid", "::timestamptz"),
        Backend::Sqlite => ("", ""),
    };
    let insert = format!(
        "INSERT INTO events (ledger_id, position, stream_id, stream_version, event_id, event_type, \
         schema_version, payload, metadata, recorded_at, prev_hash, hash) VALUES \
         ({}, {}, {}, {}, {}{uuid}, {}, 1, {}, {}, {}{time}, {}, {})",
        text(server::LEDGER),
        forged.position,
        text(forged.stream_id.as_str()),
        forged.stream_version,
        text(&forged.event_id.to_string()),
        text(event_type),
        text(forged.payload.get()),
        text(&serde_json::to_string(&forged.metadata).expect("metadata")),
        text(&windledger_store::timestamp::format(&forged.recorded_at)),
        hex_literal(b, &forged.prev_hash.0),
        hex_literal(b, &forged.hash.0),
    );
    server
        .db
        .execute_raw(&insert)
        .await
        .expect("the database takes a well-formed row");
    server
        .db
        .execute_raw(&format!(
            "UPDATE ledgers SET head_position = {}, head_hash = {} WHERE ledger_id = {}",
            forged.position,
            hex_literal(b, &forged.hash.0),
            text(server::LEDGER)
        ))
        .await
        .expect("the head row moves");
    forged.position
}

/// Waits until `/readyz` answers 503 with a reason containing `why`, and
/// returns its reasons.
async fn not_ready(server: &Server, why: &str) -> String {
    for _ in 0..100 {
        let r = Server::read(server.fetch("/readyz").await).await;
        let reasons = r.body["reasons"].to_string();
        if r.status.as_u16() == 503 && reasons.contains(why) {
            return reasons;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("/readyz never gave the reason {why:?}");
}

/// The size of the checkpoint the server signs now.
async fn signed_size(server: &Server) -> u64 {
    let checkpoint = server.get("/checkpoint", None).await.expect(200);
    checkpoint.body["size"].as_u64().expect("a size")
}

/// Asserts that `/checkpoint` is refused (503) for a reason containing `why`.
async fn checkpoint_refused(server: &Server, why: &str) {
    server
        .get("/checkpoint", None)
        .await
        .problem(503, "unavailable")
        .detail_contains(why);
}

async fn a_forged_well_chained_event_stops_writes_and_signatures(db: TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let secretary = server.token(server::LEDGER, Role::Secretary, None).await;
    server.get("/checkpoint", None).await.expect(200);

    // 30,000 shares from the partner to a citizen at 1 cent, without
    // approval: over the citizen's cap of a tenth of the capital.
    let position = forge(
        &server,
        "SharesTransferred",
        json!({"SharesTransferred": {"from": "partenaire-industriel", "to": "cit-001",
            "class": "ordinaires", "count": 30000, "price_per_share": "0.01",
            "approval": null, "effective_date": "2026-01-15"}}),
    )
    .await;

    let reasons = not_ready(&server, "does not verify").await;
    assert!(
        reasons.contains(&format!("position {position}")) && reasons.contains("cap"),
        "{reasons}"
    );
    checkpoint_refused(&server, &format!("position {position}")).await;
    server
        .post("/shareholders", &secretary, server::admission("cit-901"))
        .await
        .problem(503, "unavailable");
    let text = server.metrics().await;
    assert!(
        text.contains(&format!(
            "windledger_ledger_intact{{ledger=\"{}\"}} 0",
            server::LEDGER
        )),
        "{text}"
    );
    // The projections never applied it: the citizen's holding is as it was.
    server.stop().await;
}

async fn a_ledger_cut_back_behind_the_servers_back_is_not_signed(db: TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let size = signed_size(&server).await;
    // A superuser removes the last event and moves the head row back.
    let b = server.db.backend;
    let previous = server.event_at(size - 1).await.hash;
    // Past the trigger that refuses deletes, as a superuser can.
    let past_the_triggers = match b {
        Backend::Postgres => "SET LOCAL session_replication_role = replica;",
        Backend::Sqlite => "DROP TRIGGER events_refuse_delete;",
    };
    let script = format!(
        "BEGIN; {past_the_triggers} \
         DELETE FROM events WHERE ledger_id = {l} AND position = {size}; \
         UPDATE ledgers SET head_position = {p}, head_hash = {h} WHERE ledger_id = {l}; COMMIT;",
        l = text(server::LEDGER),
        p = size - 1,
        h = hex_literal(b, &previous.0),
    );
    server.db.execute_raw(&script).await.expect("as superuser");
    checkpoint_refused(&server, "went back").await;
    let reasons = not_ready(&server, "truncated").await;
    assert!(reasons.contains("went back"), "{reasons}");
    server.stop().await;
}

async fn an_event_changed_after_it_was_verified_is_not_signed(db: TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let size = signed_size(&server).await;
    // A superuser rewrites the last event's payload behind the triggers.
    let ledger = LedgerId::parse(server::LEDGER).expect("a ledger id");
    let last = server.event_at(size).await;
    let payload = last.payload.get().to_owned();
    let altered = payload.replacen('1', "2", 1);
    assert_ne!(altered, payload, "the payload has a digit to change");
    server.db.tamper_payload(&ledger, size, &altered).await;
    checkpoint_refused(&server, "changed after it was verified").await;
    let reasons = not_ready(&server, "changed after it was verified").await;
    assert!(reasons.contains(&format!("position {size}")), "{reasons}");
    server.stop().await;
}
