//! A second call through the server, on both backends: refused while its
//! first call is not held, and for a resolution the first call did not
//! fail; accepted once the first call closed without its quorum; and the
//! ledger still verifies offline, where the audit answers the first call
//! from what it decided again. The first call's bureau is recorded too.

use crate::server;

use crate::server::Server;
use serde_json::{Value, json};
use windledger_api::auth::Role;

windledger_store::on_both_backends!(a_second_call_follows_a_first_call_that_failed_its_quorum);

const TEXT: &str = "Approbation du plan de renouvellement des pales";

async fn a_second_call_follows_a_first_call_that_failed_its_quorum(
    db: windledger_store::testing::TestDatabase,
) {
    let server = Server::with_reference_farm(db).await;
    let secretary = server.token(server::LEDGER, Role::Secretary, None).await;
    let now = chrono::Utc::now();
    let opens_at = now - chrono::Duration::hours(1);
    let opening_day = opens_at.date_naive();
    let notice = |meeting: &str, call: Value, days_before: u64, closes_at, text: &str| {
        json!({
            "meeting": meeting, "kind": "ordinary_general_meeting", "call": call,
            "record_date": opening_day - chrono::Days::new(1),
            "opens_at": opens_at, "closes_at": closes_at,
            "agenda": [{"decision_kind": "ordinary", "purpose": {"purpose": "general"}, "text": text}],
            "members": [], "convened_on": opening_day - chrono::Days::new(days_before)
        })
    };
    let second = json!({"call": "second", "first_call": "ago-appel-1"});
    let later = now + chrono::Duration::days(20);

    // The first call: its window ends in a few seconds; no one votes.
    let closes_at = now + chrono::Duration::seconds(4);
    server
        .post(
            "/meetings",
            &secretary,
            notice("ago-appel-1", json!({"call": "first"}), 20, closes_at, TEXT),
        )
        .await
        .expect(201);
    server
        .post("/meetings/ago-appel-1/voting", &secretary, json!({}))
        .await
        .expect(201);

    // Its bureau, by id, dated by the server: a chair and a scrutineer on
    // the roll, and a secretary; one scrutineer at least.
    let refused = server
        .post(
            "/meetings/ago-appel-1/bureau",
            &secretary,
            json!({"chair": "ccmp", "scrutineers": [], "secretary": "greffe-1"}),
        )
        .await
        .problem(422, "refused");
    assert_eq!(refused.body["rule"], "ScrutineerCount", "{}", refused.body);
    server
        .post(
            "/meetings/ago-appel-1/bureau",
            &secretary,
            json!({"chair": "ccmp", "scrutineers": ["cit-001"], "secretary": "greffe-1"}),
        )
        .await
        .expect(201);
    let record = server
        .get("/meetings/ago-appel-1", Some(&secretary))
        .await
        .expect(200);
    assert_eq!(
        record.body["bureau"]["bureau"]["chair"], "ccmp",
        "{}",
        record.body
    );

    // Not held yet: no second call.
    let refused = server
        .post(
            "/meetings",
            &secretary,
            notice("ago-appel-2", second.clone(), 12, later, TEXT),
        )
        .await
        .problem(422, "refused");
    assert_eq!(refused.body["rule"], "FirstCallNotHeld", "{}", refused.body);

    let wait = (closes_at - chrono::Utc::now())
        .to_std()
        .unwrap_or_default();
    tokio::time::sleep(wait + std::time::Duration::from_millis(200)).await;
    let closed = server
        .post("/meetings/ago-appel-1/close", &secretary, json!({}))
        .await
        .expect(201);
    assert_eq!(closed.body["receipts"][0]["event_type"], "MeetingClosed");

    // The attendance sheet names the officers (ids: no identity recorded)
    // on their lines to sign; no one voted.
    let sheet = reqwest::Client::new()
        .get(server.api("/meetings/ago-appel-1/attendance.pdf"))
        .bearer_auth(&secretary)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(sheet.status(), reqwest::StatusCode::OK);
    let pdf = sheet.bytes().await.expect("a body");
    if let Some(text) = crate::meeting_documents::text_of(&pdf) {
        for said in [
            "Le président de séance, Actionnaire ccmp",
            "Scrutateur, Actionnaire cit-001",
            "Le secrétaire de séance, Actionnaire greffe-1",
            "Aucun associé n'a participé au vote.",
        ] {
            assert!(text.contains(said), "{said} in {text}");
        }
    }

    // Another resolution than the first call's: refused.
    let refused = server
        .post(
            "/meetings",
            &secretary,
            notice(
                "ago-appel-2",
                second.clone(),
                12,
                later,
                "Une autre résolution",
            ),
        )
        .await
        .problem(422, "refused");
    assert_eq!(
        refused.body["rule"], "NotOnTheFirstCall",
        "{}",
        refused.body
    );
    // The same resolution, 12 days' notice (a second call needs 10).
    server
        .post(
            "/meetings",
            &secretary,
            notice("ago-appel-2", second, 12, later, TEXT),
        )
        .await
        .expect(201);

    // Offline, every event decided again: the second call too.
    let mut export = Vec::new();
    let ledger = windledger_store::LedgerId::parse(server::LEDGER).expect("an id");
    server
        .store
        .export_jsonl(&ledger, &mut export, |_, _| {})
        .await
        .expect("the ledger exports");
    let key = server.signer.verifier().to_string();
    let report = windledger_app::audit::verify_export(std::io::Cursor::new(export), &[&key], None)
        .unwrap_or_else(|e| panic!("the ledger verifies: {e}"));
    // The reference farm's 7 meetings, and these two (the bureau decided
    // again with them).
    assert_eq!(report.recomputed.meetings_convened, 9, "{report:?}");
    server.stop().await;
}
