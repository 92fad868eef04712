//! What a citizen reads (issue 19): vote counts in each college's own unit
//! (never shares added to members), ballots with their resolutions' titles,
//! proxies offered college by college, the holder's share movements, the
//! decisions register as a CSV file, and the event log in French, newest
//! first, with filters and both dates. Expectations are computed here from
//! the JSON API, not from the pages' code.

use std::collections::BTreeMap;

use crate::server::{LEDGER, Server};
use crate::web::{Browser, farm, fr};
use serde_json::Value;
use windledger_api::auth::Role;
use windledger_store::LedgerId;
use windledger_store::testing::TestDatabase;

async fn server() -> Server {
    Server::with_reference_farm(TestDatabase::sqlite()).await
}

/// A count in its college's unit, as the issue asks: votes carried by
/// shares are "voix", members are "associé(s)".
fn in_unit(basis: &str, n: u64) -> String {
    match basis {
        "per_share" => format!("{} voix", fr(n)),
        "per_member" => format!("{} associé{}", fr(n), if n > 1 { "s" } else { "" }),
        other => panic!("unknown vote basis {other}"),
    }
}

/// Asserts that `page` shows every one of `lines`.
fn shows_all(page: &str, lines: &[String], which: &str) {
    for line in lines {
        assert!(page.contains(line), "{which} lacks {line:?}");
    }
}

/// An API read that must answer 200.
async fn read(server: &Server, path: &str, token: &str) -> Value {
    server.get(path, Some(token)).await.expect(200).body
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("a count: {v}"))
}

/// College id -> (name, vote basis) of a meeting's roll.
async fn colleges(
    server: &Server,
    token: &str,
    meeting: &Value,
) -> BTreeMap<String, (String, String)> {
    let company = read(server, "/company", token).await;
    let names: BTreeMap<String, String> = company["charter"]["colleges"]
        .as_array()
        .expect("the charter's colleges")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().expect("id").to_owned(),
                c["name"].as_str().expect("name").to_owned(),
            )
        })
        .collect();
    meeting["roll"]["roll"]["colleges"]
        .as_array()
        .expect("the roll's colleges")
        .iter()
        .map(|c| {
            let id = c["id"].as_str().expect("id").to_owned();
            let basis = c["vote_basis"].as_str().expect("basis").to_owned();
            (id.clone(), (names[&id].clone(), basis))
        })
        .collect()
}

/// Each college's line of a resolution's count, as the pages must write it.
fn college_lines(result: &Value, colleges: &BTreeMap<String, (String, String)>) -> Vec<String> {
    result["colleges"]
        .as_array()
        .expect("the colleges' counts")
        .iter()
        .map(|t| {
            let (name, basis) = &colleges[t["college"].as_str().expect("college")];
            let abstentions = u(&t["abstentions"]);
            format!(
                "<strong>{name}</strong> : {} pour, {} contre, {} abstention{}",
                in_unit(basis, u(&t["votes_for"])),
                fr(u(&t["votes_against"])),
                fr(abstentions),
                if abstentions > 1 { "s" } else { "" }
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vote_counts_keep_each_college_in_its_own_unit() {
    let server = server().await;
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let meeting = read(&server, "/meetings/ago-2025", &secretary).await;
    let colleges = colleges(&server, &secretary, &meeting).await;
    assert!(
        colleges.values().any(|(_, b)| b == "per_member")
            && colleges.values().any(|(_, b)| b == "per_share"),
        "the reference farm mixes units: {colleges:?}"
    );
    let results = meeting["closed"]["results"]
        .as_array()
        .expect("closed")
        .clone();

    // The public page: each adopted resolution's count by college, the
    // charter's weights in one sentence, no column adding units.
    let mut b = Browser::new(&server);
    let public = b.get(&farm("")).await.expect(200);
    for r in results
        .iter()
        .filter(|r| r["outcome"]["outcome"] == "adopted")
    {
        shows_all(
            &public.body,
            &college_lines(r, &colleges),
            "the public page",
        );
    }
    public
        .contains("Chaque collège compte dans son unité")
        .contains("Citoyens (un associé, une voix)")
        .contains("les statuts pondèrent ensuite la part « pour » de chaque collège")
        .lacks("Voix pour")
        .lacks("Voix contre");

    // The meeting's page for a shareholder and the register's record for
    // the municipality: the same lines, and no total that adds units.
    let mut s = Browser::signed_in_as(&server, Role::Shareholder, Some("cit-001")).await;
    let page = s.get(&farm("/assemblees/ago-2025")).await.expect(200);
    let mut m = Browser::signed_in_as(&server, Role::Municipality, Some("ccmp")).await;
    let record = m.get(&farm("/registre/ago-2025")).await.expect(200);
    for r in &results {
        shows_all(&page.body, &college_lines(r, &colleges), "the meeting page");
        // The record's per-college table: each college's presence in its unit.
        for t in r["colleges"].as_array().expect("colleges") {
            let (name, basis) = &colleges[t["college"].as_str().expect("college")];
            let present = format!(
                "{name} {} sur {}",
                in_unit(basis, u(&t["present"])),
                fr(u(&t["roll_total"]))
            );
            assert!(
                record.body.contains(&present),
                "the record lacks {present:?}"
            );
        }
    }
    record
        .contains("Décompte par collège, chacun dans son unité")
        .contains("en associés : un associé, une voix")
        .lacks("<th scope=\"row\">Total</th>");
    page.lacks("Présents ou représentés");

    // The shareholder's card: votes in the college's unit, no sum over
    // colleges that count differently.
    let space = s.get(&farm("/espace")).await.expect(200);
    space
        .contains("un associé, une voix : sur ")
        .contains("associés dans mon collège")
        .lacks(" en tout");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shareholder_reads_titles_movements_and_proxies_by_college() {
    let server = server().await;
    crate::web::open_meeting(&server, "ago-lecture").await;
    let holder = "cit-001";
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let statement = read(&server, &format!("/holders/{holder}/statement"), &secretary).await;
    let mut b = Browser::signed_in_as(&server, Role::Shareholder, Some(holder)).await;
    let space = b.get(&farm("/espace")).await.expect(200);

    // Every ballot names its resolutions' titles.
    let ballots = statement["ballots"].as_array().expect("ballots");
    assert!(
        !ballots.is_empty(),
        "{holder} has voted in the reference farm"
    );
    for ballot in ballots {
        let id = ballot["meeting"].as_str().expect("meeting");
        let meeting = read(&server, &format!("/meetings/{id}"), &secretary).await;
        for item in meeting["convocation"]["agenda"].as_array().expect("agenda") {
            if ballot["choices"]
                .get(item["resolution"].as_str().expect("id"))
                .is_some()
            {
                let title = format!("« {} »", item["text"].as_str().expect("text"));
                assert!(space.body.contains(&title), "the ballot lacks {title:?}");
            }
        }
    }

    // The share movements, newest first, each with its balance.
    let holdings = statement["holdings"].as_array().expect("holdings");
    assert!(!holdings.is_empty());
    assert!(space.body.contains("Mes mouvements d'actions"));
    let section = &space.body[space.body.find("id=\"mouvements\"").expect("the section")..];
    let section = &section[..section.find("</section>").expect("its end")];
    assert_eq!(
        section.matches("<tr>").count() - 1,
        holdings.len(),
        "a row per movement"
    );
    let at = |h: &Value| {
        let cell = format!("<td class=\"num\">n°{}</td>", fr(u(&h["at"]["position"])));
        section
            .find(&cell)
            .unwrap_or_else(|| panic!("no row for {cell}"))
    };
    let (oldest, newest) = (&holdings[0], holdings.last().expect("a movement"));
    if holdings.len() > 1 {
        assert!(at(newest) < at(oldest), "the newest movement comes first");
    }

    // The proxy list: grouped by college, each voter with their shares.
    let meeting = b.get(&farm("/assemblees/ago-lecture")).await.expect(200);
    meeting
        .contains("Mandataire, par collège")
        .contains("<optgroup label=\"Citoyens\">")
        .contains("<optgroup label=\"Partenaire industriel\">")
        .lacks(&format!("<option value=\"{holder}\""));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_register_downloads_as_csv() {
    let server = server().await;
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let meetings = read(&server, "/meetings", &secretary).await;
    let mut expected_rows = 0;
    for m in meetings.as_array().expect("meetings") {
        let id = m["meeting"]
            .as_str()
            .or_else(|| m["id"].as_str())
            .expect("a meeting id");
        let record = read(&server, &format!("/meetings/{id}"), &secretary).await;
        if let Some(results) = record["closed"]["results"].as_array() {
            expected_rows += results
                .iter()
                .map(|r| r["colleges"].as_array().expect("colleges").len())
                .sum::<usize>();
        }
    }
    let mut b = Browser::signed_in_as(&server, Role::Municipality, Some("ccmp")).await;
    b.get(&farm("/registre"))
        .await
        .expect(200)
        .contains("/registre.csv");
    let file = b.get(&farm("/registre.csv")).await.expect(200);
    assert_eq!(file.headers["content-type"], "text/csv; charset=utf-8");
    assert!(
        file.headers["content-disposition"]
            .to_str()
            .expect("ASCII")
            .contains("ailes-de-taillard-registre-des-decisions.csv")
    );
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(file.body.as_bytes());
    let header = reader.headers().expect("a header").clone();
    assert_eq!(&header[0], "assemblee");
    assert_eq!(&header[9], "unite");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a row")).collect();
    assert_eq!(
        rows.len(),
        expected_rows,
        "a row per resolution and college"
    );
    assert!(rows.iter().any(|r| &r[9] == "associes") && rows.iter().any(|r| &r[9] == "voix"));
    assert!(
        rows.iter()
            .any(|r| r[6].starts_with("rejetée : veto du collège")),
        "the 2024 veto"
    );

    // A shareholder may not download it.
    let mut s = Browser::signed_in_as(&server, Role::Shareholder, Some("cit-001")).await;
    s.get(&farm("/registre.csv")).await.expect(403);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_event_log_reads_in_french_newest_first_with_filters() {
    let server = server().await;
    let head = server.head().await;
    let mut b = Browser::signed_in_as(&server, Role::Municipality, Some("ccmp")).await;

    // Newest first: the page starts at the head.
    let page = b.get(&farm("/journal")).await.expect(200);
    let body = page.body.clone();
    page.contains(&format!(
        "Positions {} à {}, de la plus récente",
        fr(head),
        fr(head - 49)
    ))
    .contains("Événements plus anciens")
    .lacks("Événements plus récents")
    .contains("Date d'effet")
    .contains("Enregistré le");
    let first = body.find(&format!(">{}</td>", fr(head))).expect("the head");
    let second = body
        .find(&format!(">{}</td>", fr(head - 1)))
        .expect("the one before");
    assert!(first < second, "the head comes first");

    // Every event type in the ledger has its French name and summary.
    let store = &server.store;
    let ledger = LedgerId::parse(LEDGER).expect("an id");
    let events = store
        .read_ledger(&ledger, 0, 10_000)
        .await
        .expect("the ledger");
    let mut types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    types.sort_unstable();
    types.dedup();
    for t in &types {
        let name = windledger_french::events::type_name(t);
        assert_ne!(name, *t, "{t} has no French name");
    }

    // The incorporation, at position 1: its summary and its effective date
    // (the company's formation), years before it was recorded (today).
    let oldest = b.get(&farm("/journal?position=1")).await.expect(200);
    oldest
        .contains("Constitution de la société")
        .contains("Constitution de Les Ailes de Taillard SAS")
        .contains("Événements plus récents")
        .lacks("Événements plus anciens")
        .lacks("{\"CompanyIncorporated\"");
    let incorporated = &events[0];
    assert_eq!(incorporated.event_type, "CompanyIncorporated");
    let formed: Value = serde_json::from_str(incorporated.payload.get()).expect("JSON");
    let formation = formed["CompanyIncorporated"]["company"]["formation_date"]
        .as_str()
        .expect("a date");
    assert!(
        formation < "2020-01-01",
        "formed long before it was recorded: {formation}"
    );

    // Filters: one type, one stream; every row then is of that type or
    // stream, newest first.
    let ballots = b.get(&farm("/journal?type=BallotCast")).await.expect(200);
    let rows = ballots.body.matches("<strong>").count();
    let ballot_rows = ballots
        .body
        .matches("<strong>Bulletin de vote</strong>")
        .count();
    let cast = events
        .iter()
        .filter(|e| e.event_type == "BallotCast")
        .count();
    assert_eq!(ballot_rows, cast.min(50), "only ballots: {rows} rows");
    ballots
        .contains("(filtrées)")
        .lacks("<strong>Clôture d'une assemblée</strong>");

    let stream = b
        .get(&farm("/journal?flux=meeting/ago-2024"))
        .await
        .expect(200);
    let in_stream = events
        .iter()
        .filter(|e| e.stream_id.as_str() == "meeting/ago-2024")
        .count();
    assert!(in_stream > 0);
    assert_eq!(
        stream
            .body
            .matches("Flux <code>meeting/ago-2024</code>")
            .count(),
        in_stream.min(50)
    );
    assert_eq!(
        stream.body.matches("Flux <code>").count(),
        in_stream.min(50),
        "no other stream"
    );
    let kinds = b
        .get(&farm("/journal?flux=financial-year&type=DividendPaid"))
        .await
        .expect(200);
    assert!(
        kinds
            .body
            .matches("<strong>Dividende versé</strong>")
            .count()
            > 0
    );

    // Bad filters are refused in French.
    b.get(&farm("/journal?type=Nope"))
        .await
        .expect(400)
        .contains("Ce type d'événement n'existe pas");
    b.get(&farm("/journal?position=abc"))
        .await
        .expect(400)
        .contains("nombre entier");
    server.stop().await;
}
