//! A meeting's paperwork on the secretary's pages, on both backends: a
//! meeting set up through the API, then, signed in as the secretary, the
//! convocation by e-mail of the holder who consented to it (sent to a real
//! SMTP server on 127.0.0.1 when aiosmtpd is installed, refused in French
//! before the server has a relay), the letters of the others recorded as
//! posted, a postal voting form received
//! in time and one after the deadline (kept, not counted), a proxy on
//! paper, the close, the bureau, the minutes and a handwritten signature,
//! each through its form; every document downloads as a PDF (or CSV), the
//! attendance sheet and the minutes with the same bytes as the API's; a
//! shareholder gets their own postal voting form and none of the
//! secretary's pages.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use windledger_api::auth::Role;
use windledger_french::format;

use crate::server::{LEDGER, Server};
use crate::web::{Browser, Convening, convene_and_open, farm, set};
use windledger_mail::testing::SmtpSink;
use windledger_mail::{Mailer, SmtpSettings};

windledger_store::on_both_backends!(the_secretary_keeps_a_meetings_paperwork_on_its_page);

const MEETING: &str = "ag-papiers";

/// An instant as a `datetime-local` field takes it (Paris time).
fn local(at: DateTime<Utc>) -> String {
    format::to_paris(at).format("%Y-%m-%dT%H:%M").to_string()
}

/// A file: its status, type, `Document-Sha256` and bytes.
struct File {
    status: u16,
    kind: String,
    sha256: Option<String>,
    bytes: Vec<u8>,
}

async fn file(request: reqwest::RequestBuilder) -> File {
    let response = request.send().await.expect("the server answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (kind, sha256) = (
        header("content-type").unwrap_or_default(),
        header("document-sha256"),
    );
    File {
        status: response.status().as_u16(),
        kind,
        sha256,
        bytes: response.bytes().await.expect("a body").to_vec(),
    }
}

/// A file of the pages, in `b`'s session.
async fn page_file(b: &Browser<'_>, path: &str) -> File {
    let cookies: Vec<String> = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let request = reqwest::Client::new()
        .get(b.server.url(path))
        .header("cookie", cookies.join("; "));
    file(request).await
}

/// A file of the API, with `token`.
async fn api_file(server: &Server, token: &str, path: &str) -> File {
    file(
        reqwest::Client::new()
            .get(server.api(path))
            .bearer_auth(token),
    )
    .await
}

#[track_caller]
fn is_pdf(f: &File, what: &str) {
    assert_eq!(
        f.status,
        200,
        "{what}: {}",
        String::from_utf8_lossy(&f.bytes)
    );
    assert_eq!(f.kind, "application/pdf", "{what}");
    assert!(f.bytes.starts_with(b"%PDF"), "{what}");
}

async fn the_secretary_keeps_a_meetings_paperwork_on_its_page(
    db: windledger_store::testing::TestDatabase,
) {
    let server = Server::with_reference_farm(db).await;
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    // The meeting, through the API: convened 25 days before its vote, which
    // opened a moment ago and closes in a few seconds.
    let now = Utc::now();
    let opens_at = now - Duration::seconds(30);
    let closes_at = now + Duration::seconds(5);
    let convened_on = opens_at.date_naive() - Duration::days(25);
    convene_and_open(
        &server,
        &secretary,
        MEETING,
        Convening {
            record_date: opens_at.date_naive() - Duration::days(2),
            opens_at,
            closes_at,
            convened_on,
            resolutions: [
                "Remplacement des pales de l'éolienne T03",
                "Adhésion à une coopérative locale d'électricité",
            ],
        },
    )
    .await;
    let record = server
        .get(&format!("/meetings/{MEETING}"), Some(&secretary))
        .await
        .expect(200);
    let citizens: Vec<String> = record.body["roll"]["roll"]["voters"]
        .as_array()
        .expect("the roll")
        .iter()
        .filter_map(|v| v["holder"].as_str())
        .filter(|h| h.starts_with("cit-"))
        .take(4)
        .map(str::to_owned)
        .collect();
    let [in_time, late, grantor, proxy] = &citizens[..] else {
        panic!("four citizens on the roll: {citizens:?}");
    };
    // The first consented to be convened by e-mail long ago.
    let person = serde_json::from_value(json!({
        "identity": {"person": "natural", "family_name": "Martin", "given_names": "Léa"},
        "address": {"lines": ["3 chemin des Ailes"], "postal_code": "42220", "city": "Taillard", "country": "FR"},
        "email": "lea.martin@example.org", "tax_residence": "FR",
        "consents": {"electronic_convocation": {"given_on": "2024-01-10", "withdrawn_on": null}},
    }))
    .expect("a person");
    let runtime = server
        .state
        .open(&windledger_store::LedgerId::parse(LEDGER).expect("an id"))
        .await
        .expect("the ledger");
    let vault = server.state.vault().expect("the vault");
    let holder = windledger_domain::types::HolderId::new(in_time.as_str()).expect("an id");
    let metadata = std::collections::HashMap::new();
    vault
        .record(&runtime, &holder, person, None, metadata)
        .await
        .expect("an identity");

    // A convened shareholder's meeting page links to their postal form.
    let shareholder = server.shareholder_token(in_time).await;
    let mut s = Browser::signed_in(&server, &shareholder).await;
    let own = farm(&format!("/assemblees/{MEETING}/formulaire.pdf"));
    s.get(&farm(&format!("/assemblees/{MEETING}")))
        .await
        .expect(200)
        .contains(&format!("href=\"{own}\""))
        .contains("Télécharger mon formulaire de vote par correspondance (PDF)");

    let mut b = Browser::signed_in(&server, &secretary).await;
    let page = farm(&format!("/secretariat/assemblees/{MEETING}"));
    let at = |suffix: &str| format!("{page}{suffix}");
    // The secretariat links to the page.
    b.get(&farm("/secretariat"))
        .await
        .expect(200)
        .contains(&format!("href=\"{page}\""))
        .contains("Documents et formalités");
    let shown = b
        .get(&page)
        .await
        .expect(200)
        .contains("lang=\"fr\"")
        .contains(&format!("Documents et formalités — {MEETING}"))
        .contains("Sur cette page")
        .contains("Lettres de convocation à poster (PDF)")
        .contains("Formulaire de vote par correspondance reçu")
        .contains("est conservé mais n'est pas compté")
        .contains("Remplacement des pales de l'éolienne T03")
        .contains("Reçu par voie électronique")
        .contains("Pouvoir reçu sur papier")
        .contains("Constituer le bureau")
        .contains("Le procès-verbal s'enregistre après la clôture")
        .contains("Ce serveur n'a pas de relais de messagerie (SMTP)")
        .lacks("Envoyer les convocations par courriel");

    // No SMTP relay on this server yet: sending is refused in French,
    // nothing written.
    let head = server.head().await;
    let letters = shown.form(&at("/convocations/lettres"));
    let emails = set(&letters, "_formulaire", Some("courriels-sans-relais"));
    b.post(&at("/convocations/courriels"), &emails)
        .await
        .expect(422)
        .contains("aucune convocation ne peut partir par courriel");
    assert_eq!(server.head().await, head);
    // With one, the e-mail goes and is recorded; its link is the holder's
    // own postal voting form.
    match SmtpSink::start() {
        Some(sink) => {
            let from = "Parc éolien <secretariat@parc.example.fr>";
            let settings = SmtpSettings::parse(&sink.url(), from).expect("settings");
            server.state.hold_mailer(Mailer::new(&settings));
            b.send_form(&page, &at("/convocations/courriels"), &[])
                .await
                .redirects_to(&page);
            b.get(&page)
                .await
                .expect(200)
                .contains("1 convocation est partie par courriel ; elle est enregistrée.");
            let mails = sink.wait_for(1, std::time::Duration::from_secs(10)).await;
            assert_eq!(mails[0].envelope_to, ["lea.martin@example.org"]);
            let link = format!("/parcs/{LEDGER}/assemblees/{MEETING}/formulaire.pdf");
            assert!(mails[0].text.contains(&link), "{}", mails[0].text);
        }
        None => eprintln!("the e-mail of a convocation is not checked: no aiosmtpd"),
    }

    // The letters to post, as PDF and CSV, then recorded as posted.
    is_pdf(
        &page_file(&b, &at("/convocations.pdf")).await,
        "the letters",
    );
    let csv = page_file(&b, &at("/convocations.csv")).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.kind, "text/csv; charset=utf-8");
    assert!(String::from_utf8_lossy(&csv.bytes).contains(late.as_str()));
    is_pdf(
        &page_file(&b, &at("/formulaires.pdf")).await,
        "the postal forms",
    );
    let sent_on = (convened_on + Duration::days(1)).to_string();
    b.send_form(&page, &at("/convocations/lettres"), &[("envoi", &sent_on)])
        .await
        .redirects_to(&page);
    b.get(&page)
        .await
        .expect(200)
        .contains("lettres de convocation sont enregistrées comme remises à la poste le")
        .contains("Tous les associés convoqués ont reçu leur convocation.");

    // A postal form: a choice missing is said beside it; received before
    // the convocation, refused in French; in time, counted; after the
    // deadline, kept and listed.
    let in_time_at = local(opens_at - Duration::days(20));
    let postal = [
        ("votant", in_time.as_str()),
        ("recu_le", &in_time_at),
        ("r1", "pour"),
    ];
    b.send_form(&page, &at("/correspondance"), &postal)
        .await
        .expect(422)
        .contains("Cochez pour, contre ou abstention")
        .contains("aria-invalid=\"true\"");
    let too_early = local(opens_at - Duration::days(40));
    let early = [
        ("votant", in_time.as_str()),
        ("recu_le", &too_early),
        ("r1", "pour"),
        ("r2", "contre"),
    ];
    b.send_form(&page, &at("/correspondance"), &early)
        .await
        .expect(422)
        .contains("doit avoir été reçu entre la convocation et la fin du vote");
    let head = server.head().await;
    b.send_form(
        &page,
        &at("/correspondance"),
        &[postal.as_slice(), &[("r2", "contre")]].concat(),
    )
    .await
    .redirects_to(&page);
    assert_eq!(server.head().await, head + 1, "one form recorded");
    let after_deadline = local(now - Duration::minutes(2));
    let late_form = [
        ("votant", late.as_str()),
        ("recu_le", &after_deadline),
        ("electronique", "oui"),
        ("r1", "contre"),
        ("r2", "abstention"),
    ];
    b.send_form(&page, &at("/correspondance"), &late_form)
        .await
        .redirects_to(&page);
    let received = local(now - Duration::minutes(1));
    let paper_proxy = [
        ("mandant", grantor.as_str()),
        ("mandataire", proxy),
        ("recu_le", &received),
    ];
    b.send_form(&page, &at("/pouvoir-papier"), &paper_proxy)
        .await
        .redirects_to(&page);
    b.get(&page)
        .await
        .expect(200)
        .contains("Le pouvoir reçu sur papier est enregistré")
        .contains("Formulaires conservés mais non comptés")
        .contains(&format!(">{late}</th><td data-label=\"Reçu le\">"));

    // The close, once the window is over, from the secretariat.
    let wait = (closes_at - Utc::now()).num_milliseconds() + 500;
    if wait > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
    }
    let secretariat = farm("/secretariat");
    let close = format!("{secretariat}/assemblees/{MEETING}/cloture");
    b.send_form(&secretariat, &close, &[])
        .await
        .redirects_to(&secretariat);
    let record = server
        .get(&format!("/meetings/{MEETING}"), Some(&secretary))
        .await
        .expect(200);
    let ballots = record.body["ballots"].as_array().expect("ballots");
    assert!(
        ballots.iter().any(|b| b["voter"] == in_time.as_str()
            && b["postal"] == true
            && b["in_force"] == true),
        "{ballots:?}"
    );
    assert!(
        !ballots.iter().any(|b| b["voter"] == late.as_str()),
        "the late form is not counted"
    );
    assert_eq!(record.body["late_forms"][0]["voter"], late.as_str());
    let proxies = record.body["proxies"].as_array().expect("proxies");
    assert!(
        proxies
            .iter()
            .any(|p| p["grantor"] == grantor.as_str() && p["paper"] == true)
    );

    // The bureau, the minutes (refused empty), a signature.
    let bureau = [
        ("president", "ccmp"),
        ("scrutateur1", in_time),
        ("scrutateur2", ""),
        ("secretaire", "greffe-1"),
    ];
    b.send_form(&page, &at("/bureau"), &bureau)
        .await
        .redirects_to(&page);
    b.send_form(&page, &at("/proces-verbal"), &[("debats", " ")])
        .await
        .expect(422)
        .contains("Résumez les débats");
    let debates = "Le président présente le devis du remplacement des pales.\r\nLes associés posent leurs questions.";
    let documents = "Devis du fabricant\r\n\r\nRapport du gestionnaire\r\n";
    b.send_form(
        &page,
        &at("/proces-verbal"),
        &[("debats", debates), ("documents", documents)],
    )
    .await
    .redirects_to(&page);
    // (The page first: a GET in the session takes the message left for it.)
    let shown = b
        .get(&page)
        .await
        .expect(200)
        .contains("Le procès-verbal est enregistré")
        .contains("pas encore signé");
    let minutes = page_file(&b, &at("/proces-verbal.pdf")).await;
    is_pdf(&minutes, "the minutes");
    let sha256 = minutes.sha256.clone().expect("the minutes' SHA-256");
    assert!(
        shown.body.contains(&sha256),
        "the page shows the hash signed"
    );
    b.send_form(&page, &at("/signature"), &[("signataire", "ccmp")])
        .await
        .redirects_to(&page);
    b.get(&page)
        .await
        .expect(200)
        .contains("La signature manuscrite est enregistrée")
        .contains("attesté par le secrétariat");
    let record = server
        .get(&format!("/meetings/{MEETING}"), Some(&secretary))
        .await
        .expect(200);
    let signature = &record.body["signatures"][0];
    assert_eq!(signature["officer"], "ccmp", "{}", record.body);
    assert_eq!(
        signature["document_sha256"],
        sha256.as_str(),
        "the server's hash, signed"
    );
    let words = &record.body["minutes"]["minutes"];
    assert_eq!(words["debates"], debates.replace("\r\n", "\n"));
    assert_eq!(
        words["documents_presented"],
        json!(["Devis du fabricant", "Rapport du gestionnaire"])
    );

    // The documents: the same bytes as the API's, for the same reader.
    let attendance = page_file(&b, &at("/feuille-de-presence.pdf")).await;
    is_pdf(&attendance, "the attendance sheet");
    let api = async |token: &str, file: &str| {
        api_file(&server, token, &format!("/meetings/{MEETING}/{file}")).await
    };
    assert_eq!(
        attendance.bytes,
        api(&secretary, "attendance.pdf").await.bytes,
        "the API's sheet"
    );
    assert_eq!(
        minutes.bytes,
        api(&secretary, "minutes.pdf").await.bytes,
        "the API's minutes"
    );
    let registre = farm(&format!("/registre/{MEETING}"));
    b.get(&registre)
        .await
        .expect(200)
        .contains(&format!("href=\"{registre}/feuille-de-presence.pdf\""))
        .contains(&format!("href=\"{registre}/proces-verbal.pdf\""));
    let from_register = page_file(&b, &format!("{registre}/proces-verbal.pdf")).await;
    assert_eq!(from_register.bytes, minutes.bytes);

    // The municipality, from the register: ids on the sheet, as the API's;
    // the minutes the officers signed.
    let municipality = server.token(LEDGER, Role::Municipality, Some("ccmp")).await;
    let m = Browser::signed_in(&server, &municipality).await;
    let theirs = page_file(&m, &format!("{registre}/feuille-de-presence.pdf")).await;
    is_pdf(&theirs, "the municipality's sheet");
    assert_eq!(
        theirs.bytes,
        api(&municipality, "attendance.pdf").await.bytes
    );
    let their_minutes = page_file(&m, &format!("{registre}/proces-verbal.pdf")).await;
    assert_eq!(
        their_minutes.bytes, minutes.bytes,
        "one document for every reader"
    );
    assert_eq!(page_file(&m, &at("/proces-verbal.pdf")).await.status, 403);

    // The shareholder: their own postal form, none of the secretary's pages.
    is_pdf(&page_file(&s, &own).await, "the shareholder's own form");
    s.get(&page).await.expect(403).contains("Accès refusé");
    assert_eq!(page_file(&s, &at("/formulaires.pdf")).await.status, 403);
    // A token acting for no holder has no form.
    let mut n = Browser::signed_in_as(&server, Role::Municipality, None).await;
    n.get(&own)
        .await
        .expect(404)
        .contains("n'agit pour aucun associé");
    // Nor is there a page for an unknown meeting.
    b.get(&farm("/secretariat/assemblees/ag-inconnue"))
        .await
        .expect(404);
    server.stop().await;
}
