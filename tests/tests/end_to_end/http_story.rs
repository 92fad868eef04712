//! The three users' stories through the real server, on both backends: the
//! secretary registers a holder, convenes a meeting and issues shares it
//! approved; shareholders vote (one by proxy); the municipality reads the
//! decisions register and verifies a checkpoint; the operator publishes
//! production; a shareholder reads its dividends.

use crate::server;

use crate::server::Server;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use windledger_api::auth::Role;
use windledger_store::CheckpointVerifier;

windledger_store::on_both_backends!(the_three_users_stories_through_http);

async fn the_three_users_stories_through_http(db: windledger_store::testing::TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let secretary = server.token(server::LEDGER, Role::Secretary, None).await;
    let municipality = server
        .token(server::LEDGER, Role::Municipality, Some("ccmp"))
        .await;
    let operator = server.token(server::LEDGER, Role::Operator, None).await;
    let cit1 = server.shareholder_token("cit-001").await;
    let cit2 = server.shareholder_token("cit-002").await;

    // The secretary registers a newcomer and convenes an extraordinary
    // meeting to let them subscribe.
    let admitted = server
        .post("/shareholders", &secretary, server::admission("cit-900"))
        .await
        .expect(201);
    let receipt = &admitted.body["receipts"][0];
    assert_eq!(receipt["event_type"], "ShareholderAdmitted");
    assert_eq!(receipt["hash"].as_str().map(str::len), Some(64));
    // The server's clock decides the window: it opened an hour ago and
    // closes in a few seconds, so the story can see it end.
    let now = chrono::Utc::now();
    let opens_at = now - chrono::Duration::hours(1);
    // The roll is final before the day voting opens: in the first hour of
    // a UTC day, that day is yesterday.
    let opening_day = opens_at.date_naive();
    let closes_at = now + chrono::Duration::seconds(8);
    let convened = server
        .post(
            "/meetings",
            &secretary,
            json!({
                "meeting": "age-2026", "kind": "extraordinary_general_meeting",
                "call": {"call": "first"}, "record_date": opening_day - chrono::Days::new(1),
                "opens_at": opens_at, "closes_at": closes_at,
                "agenda": [{"decision_kind": "extraordinary", "purpose": {"purpose": "capital_increase"},
                            "text": "Augmentation de capital réservée à cit-900"},
                           {"decision_kind": "extraordinary",
                            "purpose": {"purpose": "turbine_works", "turbine": "T11", "works": "addition"},
                            "text": "Ajout d'une onzième éolienne, T11, de 4 200 kW"}],
                "members": [], "convened_on": opening_day - chrono::Days::new(20)
            }),
        )
        .await
        .expect(201);
    assert_eq!(convened.body["stream"], "meeting/age-2026");
    // No client chooses when a thing happens.
    server
        .post(
            "/meetings/age-2026/voting",
            &secretary,
            json!({"at": (now - chrono::Duration::hours(1))}),
        )
        .await
        .problem(422, "validation");
    server
        .post("/meetings/age-2026/voting", &secretary, json!({}))
        .await
        .expect(201);

    // cit-002 gives its proxy to cit-001, who votes for both; the
    // municipality votes its holding; the secretary records the industrial
    // partner's paper ballot.
    server
        .post(
            "/meetings/age-2026/proxies",
            &cit2,
            json!({"proxy": "cit-001"}),
        )
        .await
        .expect(201);
    let cast = async |token: &str, ballot: Value| {
        server
            .post("/meetings/age-2026/ballots", token, ballot)
            .await
    };
    let choices = json!({"age-2026.1": "for", "age-2026.2": "for"});
    let own = cast(&cit1, json!({"voter": "cit-001", "choices": choices}))
        .await
        .expect(201);
    let own_receipt = own.body["receipts"][0].clone();
    cast(&cit1, json!({"voter": "cit-002", "choices": choices}))
        .await
        .expect(201);
    // cit-002 cannot cast a ballot as cit-001.
    cast(
        &cit2,
        json!({"voter": "cit-001", "cast_by": "cit-001", "choices": choices}),
    )
    .await
    .problem(403, "forbidden");
    cast(&municipality, json!({"voter": "ccmp", "choices": choices}))
        .await
        .expect(201);
    // The window ends; a shareholder's ballot is then refused, whatever
    // its body, and the meeting cannot close before the end.
    server
        .post("/meetings/age-2026/close", &secretary, json!({}))
        .await
        .problem(422, "refused");
    let wait = (closes_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait + std::time::Duration::from_millis(200)).await;
    cast(
        &cit1,
        json!({"voter": "cit-001", "choices": {"age-2026.1": "against", "age-2026.2": "against"}}),
    )
    .await
    .problem(422, "refused");
    cast(
        &cit1,
        json!({"voter": "cit-001", "choices": {"age-2026.1": "against", "age-2026.2": "against"},
               "at": now - chrono::Duration::minutes(5)}),
    )
    .await
    .problem(422, "validation");
    // The industrial partner's postal form, received four days before the
    // vote opened (in time: the charter's deadline is three days before),
    // is entered by the secretary after the window ended (before the
    // close); one received after the end is refused, and no one else may
    // enter one.
    let enter_postal = async |token: &str, voter: &str, received_at: DateTime<Utc>| {
        server
            .post(
                "/meetings/age-2026/postal-ballots",
                token,
                json!({"voter": voter, "choices": choices, "received_at": received_at}),
            )
            .await
    };
    let inside = opens_at - chrono::Duration::days(4);
    let postal = enter_postal(&secretary, "partenaire-industriel", inside)
        .await
        .expect(201);
    let postal_receipt = postal.body["receipts"][0].clone();
    let after_the_end = closes_at + chrono::Duration::milliseconds(1);
    enter_postal(&secretary, "cit-002", after_the_end)
        .await
        .problem(422, "refused");
    enter_postal(&cit1, "cit-001", inside)
        .await
        .problem(403, "forbidden");
    let closed = server
        .post("/meetings/age-2026/close", &secretary, json!({}))
        .await
        .expect(201);
    assert_eq!(closed.body["receipts"][0]["event_type"], "MeetingClosed");

    // The meeting adopted the increase: the secretary issues the shares.
    server
        .post(
            "/share-issuances",
            &secretary,
            json!({"subscriptions": [{"holder": "cit-900", "class": "ordinaires", "count": 100, "price_per_share": "100.00"}],
                   "resolution": "age-2026.1", "effective_date": chrono::Utc::now().date_naive()}),
        )
        .await
        .expect(201);
    let cap_table = server.get("/cap-table", Some(&secretary)).await.expect(200);
    let row = cap_table.body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["holder"] == "cit-900")
        .expect("the newcomer holds shares")
        .clone();
    assert_eq!(row["shares"], 100);

    // It adopted the eleventh turbine too: the secretary records its
    // addition, then its commissioning; the company shows it in service.
    let today = chrono::Utc::now().date_naive();
    server
        .post(
            "/turbines",
            &secretary,
            json!({"turbine": "T11", "commune": "42026", "rated_power": 4200,
                   "resolution": "age-2026.2", "effective_date": today}),
        )
        .await
        .expect(201);
    let company = server.get("/company", None).await.expect(200);
    assert_eq!(company.body["planned_turbines"]["T11"]["rated_power"], 4200);
    let commissioning = json!({"turbine": "T11", "effective_date": today});
    server
        .post("/turbine-commissionings", &secretary, commissioning.clone())
        .await
        .expect(201);
    server
        .post("/turbine-commissionings", &secretary, commissioning)
        .await
        .problem(422, "refused");
    let company = server.get("/company", None).await.expect(200);
    let turbines = company.body["turbines"].as_array().expect("turbines");
    assert_eq!(turbines.len(), 11);
    assert_eq!(
        turbines[10],
        json!({"id": "T11", "commune": "42026", "rated_power": 4200,
               "commissioned_on": today.to_string()})
    );
    assert_eq!(company.body["planned_turbines"], json!({}));
    // The decommissioning of a turbine no resolution decided is refused.
    server
        .post(
            "/turbine-decommissionings",
            &secretary,
            json!({"turbine": "T01", "resolution": "age-2026.1", "effective_date": today}),
        )
        .await
        .problem(422, "refused");

    // The municipality audits: the register shows every ballot with its
    // receipt and the outcome, and a signed checkpoint matches the log.
    let register = server
        .get("/meetings/age-2026", Some(&municipality))
        .await
        .expect(200);
    let ballots = register.body["ballots"].as_array().expect("ballots");
    assert_eq!(ballots.len(), 4);
    let paper = ballots
        .iter()
        .find(|b| b["voter"] == "partenaire-industriel")
        .expect("the postal ballot");
    assert_eq!(paper["postal"], true, "shown as a postal form: {paper}");
    assert_eq!(paper["receipt"]["position"], postal_receipt["position"]);
    assert!(
        ballots
            .iter()
            .filter(|b| b["voter"] != "partenaire-industriel")
            .all(|b| b["postal"] == false)
    );
    assert!(
        ballots
            .iter()
            .any(|b| b["voter"] == "cit-002" && b["cast_by"] == "cit-001")
    );
    assert!(
        ballots
            .iter()
            .any(|b| b["receipt"]["position"] == own_receipt["position"]
                && b["receipt"]["hash"] == own_receipt["hash"])
    );
    assert_eq!(
        register.body["closed"]["results"][0]["outcome"]["outcome"], "adopted",
        "{}",
        register.body["closed"]
    );
    let decisions = server.get("/decisions", None).await.expect(200);
    assert!(
        decisions
            .body
            .as_array()
            .expect("decisions")
            .iter()
            .any(|d| d["resolution"] == "age-2026.1")
    );
    let checkpoint = server.get("/checkpoint", None).await.expect(200);
    let verifier =
        CheckpointVerifier::parse(checkpoint.body["public_key"].as_str().expect("a key"))
            .expect("a public key");
    let signed = verifier
        .verify(checkpoint.body["checkpoint"].as_str().expect("a note"))
        .expect("the checkpoint's signature holds");
    assert_eq!(signed.ledger.as_str(), server::LEDGER);
    let head = server.head().await;
    assert_eq!(signed.size, head);
    let last = server
        .get(
            &format!("/events?after={}&limit=1", head - 1),
            Some(&municipality),
        )
        .await
        .expect(200);
    assert_eq!(last.body["events"][0]["hash"], signed.head.to_hex());
    let verified = server
        .store
        .verify(
            &signed.ledger,
            &windledger_store::testing::keys_of(&server.store),
            std::slice::from_ref(&signed),
            |_, _| {},
        )
        .await
        .expect("verification runs");
    assert!(
        matches!(verified, windledger_store::Verification::Intact { .. }),
        "{verified:?}"
    );

    // The operator publishes a correction of December's production; the
    // public series shows the corrected figure.
    server
        .post(
            "/financial-years/2025/production-reports",
            &operator,
            json!({"report": "p-2025-12-T01-fix", "turbine": "T01", "month": "2025-12",
                   "mwh": "820.000", "availability": "96.0", "corrects": "p-2025-12-T01"}),
        )
        .await
        .expect(201);
    let production = server.get("/production?year=2025", None).await.expect(200);
    let december = production.body[0]["production"]
        .as_array()
        .expect("production")
        .iter()
        .find(|p| p["turbine"] == "T01" && p["month"] == "2025-12")
        .expect("December for T01")
        .clone();
    assert_eq!(december["mwh"], "820.000");
    // The operator may not convene meetings.
    server
        .post("/meetings/age-2026/close", &operator, json!({}))
        .await
        .problem(403, "forbidden");

    // A shareholder reads its dividends, and not another's statement.
    let statement = server
        .get("/holders/cit-001/statement", Some(&cit1))
        .await
        .expect(200);
    let dividends = statement.body["dividends"].as_array().expect("dividends");
    assert!(!dividends.is_empty(), "{}", statement.body);
    for d in dividends {
        let cents = |field: &str| -> i64 {
            let text = d[field]
                .as_str()
                .unwrap_or_else(|| panic!("{field} in {d}"));
            let (units, fraction) = text.split_once('.').unwrap_or((text, "0"));
            units.parse::<i64>().expect("euros") * 100
                + format!("{fraction:0<2}")[..2]
                    .parse::<i64>()
                    .expect("cents")
        };
        assert!(cents("gross") > 0, "{d}");
        assert_eq!(
            cents("gross"),
            cents("income_tax") + cents("social_contributions") + cents("net"),
            "{d}"
        );
    }
    assert!(
        dividends.iter().any(|d| !d["paid_on"].is_null()),
        "a dividend was paid"
    );
    assert!(
        statement.body["ballots"]
            .as_array()
            .expect("ballots")
            .iter()
            .any(|b| b["meeting"] == "age-2026")
    );
    server
        .get("/holders/cit-002/statement", Some(&cit1))
        .await
        .problem(403, "forbidden");
    // The public reads no personal data.
    server
        .get("/holders", None)
        .await
        .problem(401, "unauthenticated");
    server.stop().await;
}
