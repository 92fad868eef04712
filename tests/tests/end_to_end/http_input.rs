//! Idempotency keys and bad input through the real server: every bad
//! request is a problem+json 4xx and leaves the ledger unchanged.

use crate::server;

use crate::server::{Response, Server, admission};
use reqwest::Method;
use serde_json::{Value, json};
use windledger_api::auth::Role;

windledger_store::on_both_backends!(
    an_idempotency_key_gives_one_effect_even_after_a_restart,
    bad_input_is_a_problem_and_writes_nothing,
    a_revoked_token_stops_working_within_the_cache_time,
    repeated_failed_token_checks_are_slowed_down,
    a_client_gone_mid_command_leaves_no_hold_and_its_key_answers,
    made_up_ledgers_are_not_remembered,
);

/// Polls `f` until it holds, for at most 20 s.
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !f() {
        assert!(std::time::Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// A client that sends a keyed command and goes away while it waits on the
/// database: the command goes on, commits once, and its key's hold ends
/// with it (a drop guard), not before: a retry with the key gets the
/// answer (on SQLite the retry may come while the commit still waits for
/// the lock: it waits too, rather than deciding again on a state holding
/// the first).
async fn a_client_gone_mid_command_leaves_no_hold_and_its_key_answers(
    db: windledger_store::testing::TestDatabase,
) {
    use tokio::io::AsyncWriteExt;
    let server = Server::with_reference_farm(db).await;
    let secretary = server.token(server::LEDGER, Role::Secretary, None).await;
    let ledger = windledger_store::LedgerId::parse(server::LEDGER).expect("an id");
    let runtime = server.state.open(&ledger).await.expect("the ledger");
    let head = server.head().await;

    let held = server.db.hold_writes(&ledger).await;
    let body = admission("cit-904").to_string();
    let mut stream = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("a connection");
    let request = format!(
        "POST /api/v1/ledgers/{}/shareholders HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {secretary}\r\nIdempotency-Key: admit-904\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        server::LEDGER,
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("the request is sent");
    eventually("the command holds its key", || runtime.in_flight() == 1).await;
    drop(stream);
    // The client is gone; the server sees it before the database answers.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    held.release().await;
    eventually("the key's hold is gone", || runtime.in_flight() == 0).await;

    let retried = server
        .call(
            Method::POST,
            &server.api("/shareholders"),
            Some(&secretary),
            Some(&admission("cit-904")),
            Some("admit-904"),
        )
        .await
        .expect(201);
    assert_eq!(
        server.head().await,
        head + 2,
        "one admission (admitted, then their identity): {}",
        retried.body
    );
    assert_eq!(runtime.in_flight(), 0);
    server.stop().await;
}

/// Requests naming ledgers that do not exist are answered 404 and leave
/// nothing behind: the server remembers only ledgers it opened.
async fn made_up_ledgers_are_not_remembered(db: windledger_store::testing::TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    server.get("/company", None).await.expect(200);
    for n in 0..200 {
        server
            .call(
                Method::GET,
                &server.url(&format!("/api/v1/ledgers/made-up-{n}/company")),
                None,
                None,
                None,
            )
            .await
            .problem(404, "not-found");
    }
    assert_eq!(server.state.ledgers.known(), 1);
    server.stop().await;
}

/// Past the free failures, each bad token from an address waits longer
/// (lower bounds only: a loaded machine may be slower, never faster); a good
/// token ends the slow-down.
async fn repeated_failed_token_checks_are_slowed_down(db: windledger_store::testing::TestDatabase) {
    use std::time::{Duration, Instant};
    use windledger_api::throttle::{FREE_FAILURES, STEP};

    let server = Server::with_reference_farm(db).await;
    let good = server.shareholder_token("cit-001").await;
    let forged = format!("wl_{}_{}", "0".repeat(12), "f".repeat(64));
    for _ in 0..FREE_FAILURES {
        server
            .get("/holders/cit-001/statement", Some(&forged))
            .await
            .problem(401, "unauthenticated");
    }
    for k in 1..=3u32 {
        let start = Instant::now();
        server
            .get("/holders/cit-001/statement", Some(&forged))
            .await
            .problem(401, "unauthenticated");
        let took = start.elapsed();
        assert!(
            took >= STEP * k,
            "failure {} past the free ones took {took:?}, less than {:?}",
            k,
            STEP * k
        );
    }
    // A good token also waits its turn, then ends the slow-down.
    let start = Instant::now();
    server
        .get("/holders/cit-001/statement", Some(&good))
        .await
        .expect(200);
    assert!(start.elapsed() >= STEP * 4);
    let throttle = &server.state.throttle;
    assert_eq!(throttle.delay("127.0.0.1"), Duration::ZERO);
    server.stop().await;
}

async fn a_revoked_token_stops_working_within_the_cache_time(
    db: windledger_store::testing::TestDatabase,
) {
    let server = Server::with_reference_farm(db).await;
    let token = server.shareholder_token("cit-001").await;
    server
        .get("/holders/cit-001/statement", Some(&token))
        .await
        .expect(200);
    // Used past the cache's TTL, so that the server trusts it on the
    // strength of its revocation poll, then revoked by another process (a
    // store of its own, as `windledger token revoke` would).
    tokio::time::sleep(windledger_api::TOKEN_CACHE_TTL + std::time::Duration::from_millis(500))
        .await;
    server
        .get("/holders/cit-001/statement", Some(&token))
        .await
        .expect(200);
    let id = token.split('_').nth(1).expect("a token id");
    let elsewhere = server.db.store().await;
    assert!(
        elsewhere
            .revoke_token(id, chrono::Utc::now())
            .await
            .expect("revoked")
    );
    tokio::time::sleep(windledger_api::TOKEN_CACHE_TTL + std::time::Duration::from_millis(100))
        .await;
    server
        .get("/holders/cit-001/statement", Some(&token))
        .await
        .problem(401, "unauthenticated");
    server.stop().await;
}

async fn an_idempotency_key_gives_one_effect_even_after_a_restart(
    db: windledger_store::testing::TestDatabase,
) {
    let server = Server::with_reference_farm(db).await;
    let secretary = server.token(server::LEDGER, Role::Secretary, None).await;
    async fn post_with_key(server: &Server, token: &str, body: Value, key: &str) -> Response {
        server
            .call(
                Method::POST,
                &server.api("/shareholders"),
                Some(token),
                Some(&body),
                Some(key),
            )
            .await
    }
    let first = post_with_key(&server, &secretary, admission("cit-901"), "admit-901")
        .await
        .expect(201);
    let head = server.head().await;
    let again = post_with_key(&server, &secretary, admission("cit-901"), "admit-901")
        .await
        .expect(201);
    assert_eq!(again.body, first.body, "the first response, again");
    assert_eq!(
        again
            .headers
            .get("idempotent-replayed")
            .map(|v| v.as_bytes()),
        Some(&b"true"[..])
    );
    assert_eq!(server.head().await, head, "nothing more written");
    post_with_key(&server, &secretary, admission("cit-902"), "admit-901")
        .await
        .problem(422, "idempotency-key-reused");
    assert_eq!(server.head().await, head);

    // The key is remembered by the ledger itself: a restarted server
    // answers the same.
    let server = server.restart().await;
    let replayed = post_with_key(&server, &secretary, admission("cit-901"), "admit-901")
        .await
        .expect(201);
    assert_eq!(replayed.body, first.body);
    assert_eq!(server.head().await, head);
    // Without a key, the same admission is a second command, which the
    // domain refuses (the holder is already admitted).
    server
        .call(
            Method::POST,
            &server.api("/shareholders"),
            Some(&secretary),
            Some(&admission("cit-901")),
            None,
        )
        .await
        .problem(422, "refused");
    // Concurrent requests with one key: one effect.
    let attempts =
        (0..8).map(|_| post_with_key(&server, &secretary, admission("cit-903"), "admit-903"));
    let responses: Vec<Response> = futures::future::join_all(attempts).await;
    let bodies: Vec<&Value> = responses
        .iter()
        .map(|r| {
            assert_eq!(r.status.as_u16(), 201, "{}", r.body);
            &r.body
        })
        .collect();
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    // One admission: the holder admitted, then their identity.
    assert_eq!(server.head().await, head + 2);
    server.stop().await;
}

async fn bad_input_is_a_problem_and_writes_nothing(db: windledger_store::testing::TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let secretary = server.token(server::LEDGER, Role::Secretary, None).await;
    let head = server.head().await;
    let post_raw = |path: &str, body: Vec<u8>, content_type: &str| {
        server
            .client
            .post(server.api(path))
            .bearer_auth(&secretary)
            .header("content-type", content_type)
            .body(body)
    };

    // Not JSON, not an object, wrong types, unknown fields, the command
    // named in the body.
    for (body, what) in [
        (b"{\"holder\": ".to_vec(), "malformed JSON"),
        (b"[1, 2]".to_vec(), "an array"),
        (br#"{"holder": 7, "kind": "individual", "college": "citoyens", "commune": "42026", "effective_date": "2026-02-01"}"#.to_vec(), "a number for an id"),
        (br#"{"holder": "cit-950", "kind": "individual", "college": "citoyens", "commune": "42026", "effective_date": "2026-02-30"}"#.to_vec(), "an impossible date"),
        (br#"{"holder": "cit-950", "kind": "individual", "college": "citoyens", "commune": "42026", "effective_date": "2026-02-01", "nickname": "x"}"#.to_vec(), "an unknown field"),
        (br#"{"command": "record_exit", "holder": "cit-001", "effective_date": "2026-02-01"}"#.to_vec(), "the command in the body"),
    ] {
        let r = server.raw(post_raw("/shareholders", body, "application/json")).await;
        assert_eq!(r.status.as_u16(), 422, "{what}: {}", r.body);
        assert_eq!(r.body["type"], "https://windledger.org/problems/validation", "{what}");
        assert_eq!(r.content_type, "application/problem+json", "{what}");
    }
    // Share counts: negative, fractional, zero, too large.
    for count in [json!(-5), json!(2.5), json!("10"), json!(0), json!(1e30)] {
        let body = json!({"from": "cit-001", "to": "cit-002", "class": "ordinaires", "count": count,
                          "price_per_share": null, "approval": null, "effective_date": "2026-02-01"});
        let r = server
            .raw(post_raw(
                "/share-transfers",
                serde_json::to_vec(&body).expect("json"),
                "application/json",
            ))
            .await;
        assert_eq!(r.status.as_u16(), 422, "count {count}: {}", r.body);
        assert_eq!(r.content_type, "application/problem+json");
    }
    // Unknown ids: the domain refuses them.
    let body = json!({"from": "nobody", "to": "cit-002", "class": "ordinaires", "count": 1,
                      "price_per_share": null, "approval": null, "effective_date": "2026-02-01"});
    server
        .post("/share-transfers", &secretary, body)
        .await
        .problem(422, "refused");
    server
        .post("/meetings/no-such-meeting/close", &secretary, json!({}))
        .await
        .problem(422, "refused");
    // The server's clock dates opening, proxies, ballots and closing: a
    // body that says when is refused before anything is decided.
    for (path, body) in [
        ("voting", json!({"at": "2025-06-01T08:00:00Z"})),
        (
            "proxies",
            json!({"grantor": "cit-002", "proxy": "cit-001", "at": "2025-06-01T08:00:00Z"}),
        ),
        (
            "proxy-revocations",
            json!({"grantor": "cit-002", "at": "2025-06-01T08:00:00Z"}),
        ),
        (
            "ballots",
            json!({"voter": "cit-001", "cast_by": "cit-001",
                           "choices": {"ago-2025.1": "for"}, "at": "2025-06-01T08:00:00Z"}),
        ),
        ("close", json!({"at": "2025-06-30T18:00:00Z"})),
    ] {
        server
            .post(&format!("/meetings/ago-2025/{path}"), &secretary, body)
            .await
            .problem(422, "validation")
            .detail_contains("server's clock");
    }
    server
        .call(
            Method::GET,
            &server.url("/api/v1/ledgers/no-such-ledger/company"),
            None,
            None,
            None,
        )
        .await
        .problem(404, "not-found");
    for (path, status, slug) in [
        ("/meetings/no-such-meeting", 404, "not-found"),
        ("/cap-table?as_of=yesterday", 422, "validation"),
        ("/events?limit=100000", 422, "validation"),
    ] {
        server
            .get(path, Some(&secretary))
            .await
            .problem(status, slug);
    }
    // Positions past the largest a ledger can reach: refused, never an
    // overflow in the database (PostgreSQL's bigint) nor a wrap to the
    // first page; the largest is a page with nothing in it.
    for after in [
        "9007199254740992",
        "9223372036854775000",
        "9223372036854775807",
        "18446744073709551615",
        "18446744073709551616",
        "-1",
    ] {
        server
            .get(&format!("/events?after={after}"), Some(&secretary))
            .await
            .problem(422, "validation");
    }
    let last = server
        .get("/events?after=9007199254740991", Some(&secretary))
        .await
        .expect(200);
    assert_eq!(last.body["events"], json!([]), "{}", last.body);
    // Not JSON at all, and too large.
    let r = server
        .raw(post_raw(
            "/shareholders",
            b"holder=x".to_vec(),
            "application/x-www-form-urlencoded",
        ))
        .await;
    assert_eq!(r.status.as_u16(), 415, "{}", r.body);
    // Too large: the server answers from the Content-Length alone, before
    // the body (a client still writing it may see the connection close, so
    // this one sends the headers and reads the answer).
    {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(server.addr)
            .await
            .expect("a connection");
        let head = format!(
            "POST /api/v1/ledgers/{}/shareholders HTTP/1.1\r\nHost: test\r\n\
             Authorization: Bearer {secretary}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            server::LEDGER,
            2 * 1024 * 1024
        );
        stream
            .write_all(head.as_bytes())
            .await
            .expect("the headers");
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer).await;
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(
            answer
                .to_ascii_lowercase()
                .contains("content-type: application/problem+json"),
            "{answer}"
        );
        assert!(answer.contains("payload-too-large"), "{answer}");
    }
    // A bad Idempotency-Key.
    let r = server
        .raw(
            server
                .client
                .post(server.api("/shareholders"))
                .bearer_auth(&secretary)
                .header("idempotency-key", "")
                .json(&admission("cit-960")),
        )
        .await;
    assert_eq!(r.status.as_u16(), 422, "{}", r.body);
    // No route, wrong method.
    server
        .call(Method::GET, &server.url("/nowhere"), None, None, None)
        .await
        .problem(404, "not-found");
    server
        .call(Method::DELETE, &server.api("/company"), None, None, None)
        .await
        .problem(405, "method-not-allowed");

    assert_eq!(server.head().await, head, "no bad request wrote anything");
    server.stop().await;
}
