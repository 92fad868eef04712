//! The web pages through a real server with the reference farm, on both
//! backends: each page renders in French for whom it is meant (and for no
//! one else), the public pages name no holder, every form carries the
//! session's CSRF token, and a POST without it (or with a wrong one)
//! is refused and writes nothing.

use crate::web;

use std::collections::BTreeSet;

use crate::server::{LEDGER, Server};
use crate::web::{Browser, HOLDERS, farm, fr, set, with};
use serde_json::Value;
use windledger_api::auth::Role;
use windledger_store::CheckpointVerifier;

windledger_store::on_both_backends!(
    public_pages_name_no_holder,
    signing_in_and_out,
    a_shareholder_votes_and_gets_a_receipt,
    the_municipality_audits_the_register_and_the_chain,
    the_operator_reports_production_by_form_and_file,
    the_secretary_keeps_the_register,
    the_secretary_reads_and_records_the_turbines,
    identities_are_read_and_corrected_on_their_pages,
    every_page_checks_who_asks,
);

/// A person's data as the admission and identity forms take it.
const PERSON: [(&str, &str); 10] = [
    ("family_name", "Durand"),
    ("given_names", "Camille"),
    ("address_line_1", "12 route des Crêtes"),
    ("postal_code", "42220"),
    ("city", "Taillard"),
    ("country", "FR"),
    ("tax_residence", "FR"),
    ("iban", "FR76 3000 6000 0112 3456 7890 189"),
    ("bic", "AGRIFRPP"),
    ("electronic_convocation", "oui"),
];

/// The admission form's fields for `holder`, a citizen of `commune` from
/// `date`, with [`PERSON`]'s data.
fn admission<'a>(holder: &'a str, commune: &'a str, date: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut fields = vec![
        ("associe", holder),
        ("nature", "individual"),
        ("college", "citoyens"),
        ("commune", commune),
        ("date_effet", date),
    ];
    fields.extend(PERSON);
    fields
}

/// Every holder id of the ledger, from the API.
async fn all_holder_ids(server: &Server) -> BTreeSet<String> {
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let holders = server.get("/holders", Some(&secretary)).await.expect(200);
    holders
        .body
        .as_array()
        .expect("holders")
        .iter()
        .filter_map(|h| h["holder"].as_str().map(str::to_owned))
        .collect()
}

/// Whether `id` appears in `text` as a whole id (not inside a longer one).
fn names(text: &str, id: &str) -> bool {
    let is_id = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_');
    text.match_indices(id).any(|(i, _)| {
        let before = text[..i].chars().next_back();
        let after = text[i + id.len()..].chars().next();
        !before.is_some_and(is_id) && !after.is_some_and(is_id)
    })
}

async fn public_pages_name_no_holder(db: windledger_store::testing::TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let holders = all_holder_ids(&server).await;
    assert!(holders.len() > 100, "{} holders", holders.len());
    let ids: BTreeSet<&str> = HOLDERS
        .iter()
        .copied()
        .chain(holders.iter().map(String::as_str))
        .collect();
    let mut b = Browser::new(&server);

    let home = b
        .get("/")
        .await
        .expect(200)
        .contains("lang=\"fr\"")
        .contains("Parcs éoliens citoyens")
        .contains("Les Ailes de Taillard SAS");
    assert!(
        home.headers["content-security-policy"]
            .to_str()
            .expect("ASCII")
            .contains("default-src 'none'"),
        "no outside resource may load"
    );
    let public = b
        .get(&farm(""))
        .await
        .expect(200)
        .contains("lang=\"fr\"")
        .contains("Les parties : capital et voix")
        .contains("Citoyens")
        .contains("Collectivités")
        .contains("Partenaire industriel")
        .contains("Production mensuelle")
        .contains("role=\"img\"")
        .contains("<title id=\"graphique-production-titre\">")
        .contains("Tableau des données de production")
        .contains("Décisions adoptées")
        .contains("Approbation des comptes de l'exercice 2024")
        .contains("Agrément de l'associé [associé]")
        .contains("Retombées économiques locales")
        .contains("<title id=\"graphique-retombees-titre\">")
        .contains("Burdignes")
        .contains("Part des recettes restée sur le territoire")
        .contains("point-de-controle")
        .contains("fonds-de-territoire")
        .lacks("<script");
    let other_year = b
        .get(&farm("?annee=2021"))
        .await
        .expect(200)
        .contains("Production d'électricité par mois en 2021");
    let returns = b
        .get(&farm("/retombees"))
        .await
        .expect(200)
        .contains("Exercice 2024")
        .contains("Quittent le territoire")
        .contains("Sociétés hors du territoire (dont le partenaire industriel)")
        .contains("Dividendes");
    let fund = b
        .get(&farm("/fonds-de-territoire"))
        .await
        .expect(200)
        .contains("Fonds de territoire")
        .contains("Aucun budget participatif n'est encore convoqué.");
    b.get(&farm("/fonds-de-territoire/inconnu"))
        .await
        .expect(404);
    let sign_in = b.get("/connexion").await.expect(200);
    for page in [&home, &public, &other_year, &returns, &fund, &sign_in] {
        for id in &ids {
            assert!(!names(&page.body, id), "a public page names holder {id}");
        }
    }
    // Nor does any public route of the API, called anonymously (the
    // transferee an approval names, its agenda text, ...), while a member
    // reading the same route sees the ids.
    let public_routes: Vec<String> = windledger_api::routes::routes()
        .iter()
        .filter(|r| {
            r.method == reqwest::Method::GET
                && matches!(r.access, windledger_api::routes::Access::Public)
        })
        .map(|r| {
            r.path
                .strip_prefix("/api/v1/ledgers/{ledger}")
                .unwrap_or(r.path)
                // The transparency log's parameters: a tile, an event.
                .replace("{*path}", "0/000")
                .replace("{position}", "7")
        })
        // The reference farm holds no budgeting round (territory_fund.rs
        // reads one, and its proposals name no proposer).
        .filter(|path| !path.contains("{round}"))
        .collect();
    assert!(
        public_routes.iter().any(|r| r == "/meetings"),
        "{public_routes:?}"
    );
    for route in &public_routes {
        for query in ["", "?year=2021"] {
            // A route outside every ledger (the directory) is named whole.
            let answer = if route.starts_with("/api/") {
                server.get_outside(&format!("{route}{query}"), None).await
            } else {
                server.get(&format!("{route}{query}"), None).await
            };
            if answer.status.as_u16() == 422 {
                continue; // a route that takes no year
            }
            let text = answer.expect(200).body.to_string();
            for id in &ids {
                assert!(
                    !names(&text, id),
                    "GET {route}{query} names holder {id} anonymously"
                );
            }
        }
    }
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let meetings = server.get("/meetings", Some(&secretary)).await.expect(200);
    assert!(
        names(&meetings.body.to_string(), "cit-121"),
        "a member reads the transferee: {}",
        meetings.body
    );
    let anonymous = server.get("/meetings", None).await.expect(200);
    assert!(
        anonymous
            .body
            .to_string()
            .contains("Agrément de l'associé [associé]"),
        "{}",
        anonymous.body
    );
    // A value that is an id keeps the ids' format (the answer its schema).
    assert!(
        anonymous
            .body
            .to_string()
            .contains(r#""transferee":"anonyme""#),
        "{}",
        anonymous.body
    );

    // The checkpoint is signed by the server's key and covers the head.
    let note = b.get(&farm("/point-de-controle")).await.expect(200);
    assert!(
        note.headers["content-disposition"]
            .to_str()
            .expect("ASCII")
            .contains(".checkpoint")
    );
    let verifier = CheckpointVerifier::parse(&server.signer.verifier().to_string()).expect("a key");
    let checkpoint = verifier.verify(&note.body).expect("a signed checkpoint");
    assert_eq!(checkpoint.size, server.head().await);

    // Bad input is answered in French, never with a 500.
    for (path, status, says) in [
        (
            farm("?annee=deux-mille"),
            400,
            "L'année demandée n'est pas valide",
        ),
        ("/parcs/aucun-parc".to_owned(), 404, "Page introuvable"),
        (farm("/nulle-part"), 404, "Page introuvable"),
    ] {
        b.get(&path).await.expect(status).contains(says);
    }
    b.get(&farm("/assemblees/ago-2025/recus/abc"))
        .await
        .redirects_to("/connexion");
    b.get("/style.css")
        .await
        .expect(200)
        .contains(":focus-visible");
    server.stop().await;
}

async fn signing_in_and_out(db: windledger_store::testing::TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let token = server.shareholder_token("cit-001").await;
    let mut b = Browser::new(&server);

    // The sign-in form carries a token that must match its cookie.
    let form = b.get("/connexion").await.expect(200);
    let hidden = form.form("/connexion");
    assert!(hidden.iter().any(|(n, v)| n == "_csrf" && v.len() == 64));
    let cookie = form
        .set_cookies
        .iter()
        .find(|c| c.starts_with("wl_connexion="))
        .expect("a sign-in cookie");
    for part in ["HttpOnly", "Secure", "SameSite=Strict"] {
        assert!(cookie.contains(part), "{cookie}");
    }
    let without = set(&hidden, "_csrf", None);
    b.post("/connexion", &with(&without, &[("jeton", &token)]))
        .await
        .expect(403)
        .contains("Le formulaire a expiré");
    assert!(
        !b.cookies.contains_key("wl_session"),
        "no session without the token"
    );
    let wrong = set(&hidden, "_csrf", Some("0".repeat(64).as_str()));
    b.post("/connexion", &with(&wrong, &[("jeton", &token)]))
        .await
        .expect(403);
    // A bad token.
    b.sign_in("wl_000000000000_nope")
        .await
        .expect(401)
        .contains("Ce n'est pas un jeton windledger");
    let forged = format!(
        "{}{}",
        &token[..token.len() - 1],
        if token.ends_with('0') { "1" } else { "0" }
    );
    b.sign_in(&forged)
        .await
        .expect(401)
        .contains("Ce jeton n'est pas valide");
    assert!(!b.cookies.contains_key("wl_session"));

    // The right one: a new session in a strict cookie.
    let signed = b.sign_in(&token).await.redirects_to(&farm("/espace"));
    let session = signed
        .set_cookies
        .iter()
        .find(|c| c.starts_with("wl_session="))
        .expect("a session cookie")
        .clone();
    for part in [
        "HttpOnly",
        "Secure",
        "SameSite=Strict",
        "Path=/",
        "Max-Age=",
    ] {
        assert!(session.contains(part), "{session}");
    }
    assert!(
        !session.contains(&token),
        "the cookie holds a session id, not the token"
    );
    let space = b
        .get(&farm("/espace"))
        .await
        .expect(200)
        .contains("Mon espace")
        .contains("associé (cit-001)")
        .contains("Se déconnecter");
    assert_eq!(
        space.headers["cache-control"], "no-store",
        "a signed-in page is kept by no cache"
    );

    // Signing out needs the token too.
    let sign_out = space.form("/deconnexion");
    b.post("/deconnexion", &set(&sign_out, "_csrf", None))
        .await
        .expect(403);
    b.get(&farm("/espace")).await.expect(200);
    b.post("/deconnexion", &sign_out).await.redirects_to("/");
    assert!(!b.cookies.contains_key("wl_session"));
    b.get(&farm("/espace")).await.redirects_to("/connexion");

    // A session ends when its token is revoked.
    b.sign_in(&token).await.redirects_to(&farm("/espace"));
    b.get(&farm("/espace")).await.expect(200);
    let token_id = token.split('_').nth(1).expect("a token id");
    assert!(
        server
            .store
            .revoke_token(token_id, chrono::Utc::now())
            .await
            .expect("revoked")
    );
    b.get(&farm("/espace")).await.redirects_to("/connexion");
    b.sign_in(&token)
        .await
        .expect(401)
        .contains("Ce jeton a été révoqué");
    server.stop().await;
}

/// The receipt file of the receipt's page at `path` (`{path}/recu.json`),
/// JSON whose proof checks against its checkpoint, signed by the server:
/// `what` is in the log.
async fn kept_receipt(b: &mut Browser<'_>, path: &str, what: &str) -> windledger_tlog::Receipt {
    let file = b.get(&format!("{path}/recu.json")).await.expect(200);
    assert_eq!(file.headers["content-type"], "application/json");
    let kept: windledger_tlog::Receipt = serde_json::from_str(&file.body).expect("a receipt");
    let text = b
        .server
        .signer
        .verifier()
        .open(&kept.checkpoint)
        .expect("signed by the server")
        .to_owned();
    kept.verify(&text)
        .unwrap_or_else(|e| panic!("{what} is not in the log: {e}"));
    kept
}

async fn a_shareholder_votes_and_gets_a_receipt(db: windledger_store::testing::TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    web::open_meeting(&server, "ago-web").await;
    let cit1 = server.shareholder_token("cit-001").await;
    let cit2 = server.shareholder_token("cit-002").await;
    let mut b = Browser::signed_in(&server, &cit1).await;
    b.get(&farm("/espace"))
        .await
        .expect(200)
        .contains("Mes actions et mes voix")
        .contains("Part du capital")
        .contains("Poids de vote")
        .contains("Mes votes et leurs reçus")
        .contains("ago-2025")
        .contains("Mes dividendes")
        .contains("Impôt sur le revenu retenu")
        .contains("Prélèvements sociaux retenus")
        .contains("Net")
        .contains("le 15 juillet")
        .contains("Assemblées en cours")
        .contains("ago-web");
    let action = farm("/assemblees/ago-web/vote");
    let page = b
        .get(&farm("/assemblees/ago-web"))
        .await
        .expect(200)
        .contains("Ordre du jour")
        .contains("Adhésion du parc à une coopérative")
        .contains("Vous figurez sur la liste d'émargement")
        .contains("Enregistrer mon vote")
        .contains("value=\"pour\"")
        .contains("value=\"contre\"")
        .contains("value=\"abstention\"")
        .contains("Donner pouvoir");
    let hidden = page.form(&action);
    assert!(hidden.iter().any(|(n, _)| n == "_csrf"));
    assert!(hidden.iter().any(|(n, _)| n == "_formulaire"));
    let choices = [("choix-1", "pour"), ("choix-2", "abstention")];

    // Without the CSRF token, or with another, nothing is written.
    let head = server.head().await;
    b.post(&action, &with(&set(&hidden, "_csrf", None), &choices))
        .await
        .expect(403)
        .contains("Rien n'a été enregistré");
    b.post(
        &action,
        &with(
            &set(&hidden, "_csrf", Some("f".repeat(64).as_str())),
            &choices,
        ),
    )
    .await
    .expect(403);
    // A choice missing: the form comes back with the error beside it.
    b.post(&action, &with(&hidden, &[("choix-1", "pour")]))
        .await
        .expect(422)
        .contains("Choisissez pour, contre ou abstention")
        .contains("aria-invalid=\"true\"")
        .contains("value=\"pour\" required checked");
    // Not anyone's ballot.
    b.post(
        &action,
        &with(&set(&hidden, "votant", Some("cit-002")), &choices),
    )
    .await
    .expect(422)
    .contains("Vous ne pouvez voter que pour vous-même");
    assert_eq!(server.head().await, head, "nothing was written");

    // The ballot, then its receipt.
    let voted = b.post(&action, &with(&hidden, &choices)).await;
    let voted = voted.redirects_to(&farm("/assemblees/ago-web/recus/"));
    let receipt_path = voted.location.clone().expect("a location");
    let position: u64 = receipt_path
        .rsplit('/')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a position");
    assert_eq!(server.head().await, head + 1);
    let event = server.event_at(position).await;
    assert_eq!(event.event_type, "BallotCast");
    b.get(&receipt_path)
        .await
        .expect(200)
        .contains("Votre vote est enregistré")
        .contains("Reçu de vote")
        .contains(&event.hash.to_hex())
        .contains("Pour</strong> — ago-web.1")
        .contains("Abstention</strong> — ago-web.2")
        .contains("vérifié</span> Votre bulletin")
        .contains("windledger verify-receipt recu.json --key ");
    // The receipt to keep: its proof checks against its checkpoint.
    let kept = kept_receipt(&mut b, &receipt_path, "the ballot").await;
    assert_eq!(
        (kept.position, kept.hash.clone()),
        (position, event.hash.to_hex())
    );
    // Sent twice (a double click), the form is answered once.
    b.post(&action, &with(&hidden, &choices))
        .await
        .redirects_to(&receipt_path);
    assert_eq!(server.head().await, head + 1);
    // The meeting's roll with its receipt: cit-001 checks offline that
    // its line is on the roll the tally uses.
    b.get(&farm("/assemblees/ago-web"))
        .await
        .expect(200)
        .contains("Télécharger la liste et son reçu");
    let roll = b
        .get(&farm("/assemblees/ago-web/liste/recu.json"))
        .await
        .expect(200);
    let roll: serde_json::Value = serde_json::from_str(&roll.body).expect("a receipt");
    let dir = tempfile::tempdir().expect("a folder");
    let check = |receipt: &serde_json::Value, holder: &str| {
        let path = dir.path().join("liste.json");
        std::fs::write(&path, receipt.to_string()).expect("written");
        let mut out = Vec::new();
        windledger::verify_receipt::run(
            &windledger::verify_receipt::VerifyReceiptOptions {
                receipt: path,
                keys: vec![server.signer.verifier().to_string()],
                witnesses: Default::default(),
                holder: Some(holder.to_owned()),
            },
            &mut out,
        )
        .map(|()| String::from_utf8(out).expect("text"))
        .map_err(|e| format!("{e:#}"))
    };
    let said = check(&roll, "cit-001").expect("cit-001 is on the roll");
    assert!(said.contains("cit-001 is on it"), "{said}");
    let absent = check(&roll, "cit-999").expect_err("not on the roll");
    assert!(absent.contains("is not on this roll"), "{absent}");
    let mut altered = roll.clone();
    let payload = altered["event"]["payload"].to_string();
    let changed = payload.replacen("\"shares\":", "\"shares\":9", 1);
    assert_ne!(payload, changed);
    altered["event"]["payload"] = serde_json::from_str(&changed).expect("JSON");
    let refused = check(&altered, "cit-001").expect_err("altered");
    assert!(refused.contains("it was altered"), "{refused}");
    let space = b.get(&farm("/espace")).await.expect(200);
    let space = space.contains(&format!("recus/{position}"));
    // A share movement's receipt, linked from the space: its own page,
    // checked, and its file; not another holder's to read.
    let movement = {
        let start = space
            .body
            .find(&format!("href=\"{}", farm("/recus/")))
            .expect("a movement's receipt link")
            + "href=\"".len();
        let end = start + space.body[start..].find('"').expect("the link's end");
        space.body[start..end].to_owned()
    };
    b.get(&movement)
        .await
        .expect(200)
        .contains("Mouvement d'actions du")
        .contains("vérifié</span> Cet événement");
    kept_receipt(&mut b, &movement, "the movement").await;

    // cit-002 cannot read cit-001's receipt, gives its proxy to cit-001,
    // who then votes for it, and takes it back.
    let mut b2 = Browser::signed_in(&server, &cit2).await;
    b2.get(&receipt_path).await.expect(403);
    b2.get(&format!("{receipt_path}/recu.json"))
        .await
        .expect(403);
    // (The movement above may be cit-002's too: an issuance subscribed by
    // many holders is one event. cit-001's ballot is cit-001's only.)
    let _ = &movement;
    b2.get(&farm(&format!("/recus/{position}")))
        .await
        .expect(403);
    b2.get(&farm(&format!("/recus/{position}/recu.json")))
        .await
        .expect(403);
    let page2 = b2.get(&farm("/assemblees/ago-web")).await.expect(200);
    let proxy_action = farm("/assemblees/ago-web/procuration");
    let proxy_form = page2.form(&proxy_action);
    b2.post(&proxy_action, &set(&proxy_form, "_csrf", None))
        .await
        .expect(403);
    b2.post(
        &proxy_action,
        &with(&proxy_form, &[("mandataire", "cit-002")]),
    )
    .await
    .expect(422)
    .contains("On ne peut pas se donner pouvoir à soi-même");
    b2.post(
        &proxy_action,
        &with(&proxy_form, &[("mandataire", "cit-001")]),
    )
    .await
    .redirects_to(&farm("/assemblees/ago-web"));
    b2.get(&farm("/assemblees/ago-web"))
        .await
        .expect(200)
        .contains("Votre pouvoir est donné à cit-001")
        .contains("Révoquer le pouvoir");
    let page = b
        .get(&farm("/assemblees/ago-web"))
        .await
        .expect(200)
        .contains("cit-002, qui m'a donné pouvoir");
    let hidden = page.form(&action);
    b.post(
        &action,
        &with(
            &hidden,
            &[
                ("votant", "cit-002"),
                ("choix-1", "contre"),
                ("choix-2", "contre"),
            ],
        ),
    )
    .await
    .redirects_to(&farm("/assemblees/ago-web/recus/"));
    let revoke_action = farm("/assemblees/ago-web/revocation");
    let revoke = b2
        .get(&farm("/assemblees/ago-web"))
        .await
        .expect(200)
        .form(&revoke_action);
    b2.post(&revoke_action, &revoke)
        .await
        .redirects_to(&farm("/assemblees/ago-web"));
    b2.get(&farm("/assemblees/ago-web"))
        .await
        .expect(200)
        .contains("Votre pouvoir est révoqué")
        .contains("Enregistrer mon vote");

    // The register shows both ballots with their receipts.
    let mut m = Browser::signed_in_as(&server, Role::Municipality, Some("ccmp")).await;
    m.get(&farm("/registre/ago-web"))
        .await
        .expect(200)
        .contains("Liste d'émargement")
        .contains("Bulletins")
        .contains(&format!("{}…", &event.hash.to_hex()[..12]))
        .contains("L'assemblée n'est pas close");
    // The municipality may read the receipt too.
    m.get(&receipt_path).await.expect(200);
    server.stop().await;
}

/// Posts `fields` to `action`: refused without the form's CSRF token
/// (403), then sent with it.
async fn refused_without_csrf(
    b: &mut Browser<'_>,
    action: &str,
    fields: &[(String, String)],
) -> web::Page {
    b.post(action, &set(fields, "_csrf", None))
        .await
        .expect(403);
    b.post(action, fields).await
}

async fn the_municipality_audits_the_register_and_the_chain(
    db: windledger_store::testing::TestDatabase,
) {
    let server = Server::with_reference_farm(db).await;
    let mut b = Browser::signed_in_as(&server, Role::Municipality, Some("ccmp")).await;
    b.get(&farm("/espace"))
        .await
        .expect(200)
        .contains("Registre des décisions")
        .contains("Journal des événements")
        .contains("Vérifier la chaîne")
        .contains("Mes actions et mes voix");
    b.get(&farm("/registre"))
        .await
        .expect(200)
        .contains("Registre des décisions")
        .contains("ago-2025")
        .contains("age-2022");
    b.get(&farm("/registre/ago-2025"))
        .await
        .expect(200)
        .contains("Convocation")
        .contains("Liste d'émargement")
        .contains("Pouvoirs")
        .contains("Bulletins")
        .contains("Décompte")
        .contains("Quorum")
        .contains("atteint")
        .contains("Majorité")
        .contains("Décompte par collège")
        .contains("Adoptée")
        .contains("cit-001");
    b.get(&farm("/registre/nope")).await.expect(404);

    // The event log, newest first (tests/tests/end_to_end/web_reading.rs
    // reads it in full).
    let head = server.head().await;
    b.get(&farm("/journal"))
        .await
        .expect(200)
        .contains("Journal des événements")
        .contains(&format!("Positions {} à {}", fr(head), fr(head - 49)))
        .contains("Événements plus anciens");
    b.get(&farm("/journal?position=1"))
        .await
        .expect(200)
        .contains("Positions 1 à 1")
        .contains("Constitution de la société")
        .contains("Événements plus récents")
        .lacks("Événements plus anciens");
    b.get(&farm("/journal?position=abc"))
        .await
        .expect(400)
        .contains("nombre entier");

    // Verifying the chain: a form with the CSRF token, a result.
    let page = b
        .get(&farm("/verification"))
        .await
        .expect(200)
        .contains("Vérifier la chaîne")
        .lacks("Chaîne intacte");
    let action = farm("/verification");
    refused_without_csrf(&mut b, &action, &page.form(&action))
        .await
        .redirects_to(&action);
    let grouped = fr(head);
    b.get(&farm("/verification"))
        .await
        .expect(200)
        .contains("Chaîne intacte")
        .contains(&format!("{grouped} événements vérifiés"));
    // Against a checkpoint kept earlier.
    let note = b.get(&farm("/point-de-controle")).await.expect(200).body;
    b.send_form(&action, &action, &[("point", note.as_str())])
        .await
        .redirects_to(&action);
    b.get(&action)
        .await
        .expect(200)
        .contains("le point de contrôle fourni est bien un préfixe");
    b.send_form(&action, &action, &[("point", "pas un point de contrôle")])
        .await
        .expect(422)
        .contains("n'est pas un point de contrôle signé");
    b.get(&farm("/retombees")).await.expect(200);
    server.stop().await;
}

/// The figure in force for a turbine's month, from the API.
async fn production_of(server: &Server, turbine: &str, month: &str) -> Value {
    let production = server.get("/production?year=2025", None).await.expect(200);
    production.body[0]["production"]
        .as_array()
        .expect("production")
        .iter()
        .find(|p| p["turbine"] == turbine && p["month"] == month)
        .map(|p| p["mwh"].clone())
        .unwrap_or(Value::Null)
}

async fn the_operator_reports_production_by_form_and_file(
    db: windledger_store::testing::TestDatabase,
) {
    let server = Server::with_reference_farm(db).await;
    let mut b = Browser::signed_in_as(&server, Role::Operator, None).await;
    let page = b
        .get(&farm("/exploitation"))
        .await
        .expect(200)
        .contains("Production d'une éolienne pour un mois")
        .contains("Recette d'un mois")
        .contains("Envoyer un fichier CSV")
        .contains("enctype=\"multipart/form-data\"")
        .contains("Exercice 2025")
        .contains("Déjà déclaré pour l'exercice 2025");
    let production_action = farm("/exploitation/production");
    let upload_action = farm("/exploitation/import");
    let production = page.form(&production_action);
    let upload = with(&page.form(&upload_action), &[("exercice", "2025")]);
    for action in [
        &production_action,
        &upload_action,
        &farm("/exploitation/recette"),
    ] {
        assert!(
            page.form(action).iter().any(|(n, _)| n == "_csrf"),
            "{action} carries the CSRF token"
        );
    }
    let head = server.head().await;

    // One month by the form: a bad figure comes back beside its field.
    let fields = [
        ("exercice", "2025"),
        ("eolienne", "T01"),
        ("mois", "2025-12"),
        ("mwh", "huit cents"),
        ("disponibilite", "96"),
        ("corrige", "p-2025-12-T01"),
    ];
    b.post(&production_action, &with(&production, &fields))
        .await
        .expect(422)
        .contains("Ce n'est pas un nombre");
    // Without its correction, the domain refuses a second figure.
    let without = set(&with(&production, &fields), "mwh", Some("812,5"));
    b.post(&production_action, &set(&without, "corrige", None))
        .await
        .expect(422)
        .contains("déjà déclarée");
    b.post(&production_action, &set(&without, "_csrf", None))
        .await
        .expect(403);
    assert_eq!(server.head().await, head);
    b.post(&production_action, &without)
        .await
        .redirects_to(&farm("/exploitation"));
    assert_eq!(server.head().await, head + 1);
    assert_eq!(production_of(&server, "T01", "2025-12").await, "812.5");
    b.get(&farm("/exploitation"))
        .await
        .expect(200)
        .contains("production de T01 en décembre 2025");
    let head = server.head().await;

    // A file with one bad line: every error shown, nothing written.
    let bad = "type,month,turbine,mwh,availability,kind,volume_mwh,price_per_mwh,corrects\n\
               production,2025-11,T02,700.5,97,,,,p-2025-11-T02\n\
               production,2025-11,T99,700.5,97,,,,\n\
               revenue,2025-11,,,,market_sales,1000,55.5,\n";
    b.post_file(
        &upload_action,
        &set(&upload, "_csrf", None),
        "releve.csv",
        bad,
    )
    .await
    .expect(403);
    b.post_file(&upload_action, &upload, "releve.csv", bad)
        .await
        .expect(422)
        .contains("Le fichier releve.csv contient 1 erreur : rien n'a été enregistré.")
        .contains("<td class=\"num\">3</td>")
        .contains("Cette éolienne n'est pas une éolienne du parc.");
    assert_eq!(server.head().await, head, "nothing written from a bad file");
    // Lines are checked in order: the same report corrected twice fails
    // on the second; a parse error is shown with its column.
    let twice = "type;month;turbine;mwh;availability;corrects\n\
                 production;2025-11;T02;700,5;97;p-2025-11-T02\n\
                 production;2025-11;T02;701;97;p-2025-11-T02\n";
    b.post_file(&upload_action, &upload, "deux.csv", twice)
        .await
        .expect(422)
        .contains("<td class=\"num\">3</td>")
        .contains("Ce rapport a déjà été corrigé");
    let unreadable = "type,month,turbine,mwh,availability\nproduction,2025-13,T02,abc,97\n";
    b.post_file(&upload_action, &upload, "illisible.csv", unreadable)
        .await
        .expect(422)
        .contains("contient 2 erreurs")
        .contains("<code>month</code>")
        .contains("<code>mwh</code>");
    assert_eq!(server.head().await, head);

    // The good file: every line written.
    let good = "type,month,turbine,mwh,availability,kind,volume_mwh,price_per_mwh,corrects\n\
                production,2025-11,T02,700.5,97,,,,p-2025-11-T02\n\
                revenue,2025-11,,,,market_sales,1000,55.5,\n";
    b.post_file(&upload_action, &upload, "releve.csv", good)
        .await
        .redirects_to(&farm("/exploitation"));
    assert_eq!(server.head().await, head + 2);
    assert_eq!(production_of(&server, "T02", "2025-11").await, "700.5");
    b.get(&farm("/exploitation"))
        .await
        .expect(200)
        .contains("Fichier releve.csv enregistré : 2 lignes pour l'exercice 2025.");
    // The same form sent again writes nothing more.
    b.post_file(&upload_action, &upload, "releve.csv", good)
        .await
        .redirects_to(&farm("/exploitation"));
    assert_eq!(server.head().await, head + 2);
    // Not a multipart body at all: a French 400, nothing written.
    b.post(&upload_action, &upload).await.expect(400);
    server.stop().await;
}

async fn the_secretary_keeps_the_register(db: windledger_store::testing::TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let mut b = Browser::signed_in_as(&server, Role::Secretary, None).await;
    let page = b
        .get(&farm("/secretariat"))
        .await
        .expect(200)
        .contains("Secrétariat")
        .contains("Convoquer une assemblée")
        .contains("Inscrire un associé")
        .contains("Enregistrer une cession d'actions")
        .contains("au moins 15 jours après (une seconde convocation, 10 jours)");
    let admit_action = farm("/secretariat/associes");
    let transfer_action = farm("/secretariat/cessions");
    let convene_action = farm("/secretariat/assemblees");
    let head = server.head().await;

    // A new holder, with their identity: each field's mistake said next
    // to it, nothing written until all are right.
    let admit = page.form(&admit_action);
    let today = chrono::Utc::now().date_naive().to_string();
    let fields = admission("cit-950", "4202", &today);
    b.post(&admit_action, &with(&set(&admit, "_csrf", None), &fields))
        .await
        .expect(403);
    let fields = set(
        &with(&admit, &fields),
        "iban",
        Some("FR76 3000 6000 0112 3456 7890 188"),
    );
    b.post(&admit_action, &set(&fields, "given_names", None))
        .await
        .expect(422)
        .contains("Un code INSEE compte 5 caractères")
        .contains("IBAN : Un IBAN : 2 lettres du pays")
        .contains("Prénoms : Ce champ est obligatoire.");
    assert_eq!(server.head().await, head);
    let fields = set(&fields, "iban", Some("FR7630006000011234567890189"));
    b.post(&admit_action, &set(&fields, "commune", Some("42026")))
        .await
        .redirects_to(&farm("/secretariat"));
    b.get(&farm("/secretariat"))
        .await
        .expect(200)
        .contains("L'associé cit-950 est inscrit au registre, avec son identité");
    // The admission and its identity's commitment: one append, two events.
    assert_eq!(server.head().await, head + 2);
    let head = head + 1;

    // A transfer between two holders.
    let transfer = b
        .get(&farm("/secretariat"))
        .await
        .expect(200)
        .form(&transfer_action);
    let fields = [
        ("cedant", "cit-001"),
        ("cessionnaire", "cit-002"),
        ("categorie", "ordinaires"),
        ("nombre", "0"),
        ("prix", "100"),
        ("date_effet", &chrono::Utc::now().date_naive().to_string()),
    ];
    b.post(&transfer_action, &with(&transfer, &fields))
        .await
        .expect(422)
        .contains("Indiquez un nombre entier d'actions");
    let fields = set(&with(&transfer, &fields), "nombre", Some("1"));
    b.post(&transfer_action, &fields)
        .await
        .redirects_to(&farm("/secretariat"));
    assert_eq!(server.head().await, head + 2);

    // A meeting convened, its voting opened, its close refused too early.
    let convene = b
        .get(&farm("/secretariat"))
        .await
        .expect(200)
        .form(&convene_action);
    let today = chrono::Utc::now().date_naive();
    let yesterday = (today - chrono::Duration::days(1)).to_string();
    let opens = format!("{today}T02:00");
    let closes = format!("{}T18:00", today + chrono::Duration::days(10));
    let fields = [
        ("assemblee", "ago-formulaire"),
        ("nature", "ordinary_general_meeting"),
        ("date_convocation", yesterday.as_str()),
        ("date_enregistrement", yesterday.as_str()),
        ("ouverture", opens.as_str()),
        ("cloture", closes.as_str()),
        ("r1_texte", ""),
        ("r1_decision", "ordinary"),
        ("r1_objet", "general"),
    ];
    b.post(&convene_action, &with(&convene, &fields))
        .await
        .expect(422)
        .contains("L'ordre du jour a au moins une résolution");
    let fields = set(
        &with(&convene, &fields),
        "r1_texte",
        Some("Installation de panneaux d'information au pied des éoliennes"),
    );
    // Convened yesterday, its vote cannot open today: the charter's notice
    // (15 days by default) is said with the first day it could open.
    let earliest = windledger_french::format::date(today + chrono::Duration::days(14));
    b.post(&convene_action, &fields)
        .await
        .expect(422)
        .contains(&format!(
            "Le délai de convocation des statuts n'est pas respecté : convoquée à cette date, \
             l'assemblée peut ouvrir son vote le {earliest} au plus tôt."
        ));
    let convened = (today - chrono::Duration::days(20)).to_string();
    let fields = set(&fields, "date_convocation", Some(&convened));
    b.post(&convene_action, &fields)
        .await
        .redirects_to(&farm("/secretariat"));
    let page = b
        .get(&farm("/secretariat"))
        .await
        .expect(200)
        .contains("L'assemblée ago-formulaire est convoquée")
        .contains("Ouvrir le vote");
    assert_eq!(server.head().await, head + 3);
    let open_action = farm("/secretariat/assemblees/ago-formulaire/ouverture");
    refused_without_csrf(&mut b, &open_action, &page.form(&open_action))
        .await
        .redirects_to(&farm("/secretariat"));
    assert_eq!(server.head().await, head + 4);
    b.get(&farm("/assemblees/ago-formulaire"))
        .await
        .expect(200)
        .contains("Installation de panneaux");
    // Closing before the window ends is refused, in French.
    let close_action = farm("/secretariat/assemblees/ago-formulaire/cloture");
    let close = set(
        &page.form(&open_action),
        "_formulaire",
        Some("un-autre-formulaire"),
    );
    b.post(&close_action, &close)
        .await
        .expect(422)
        .contains("La période de vote n'est pas terminée");
    assert_eq!(server.head().await, head + 4);
    server.stop().await;
}

async fn the_secretary_reads_and_records_the_turbines(db: windledger_store::testing::TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let mut b = Browser::signed_in_as(&server, Role::Secretary, None).await;
    b.get(&farm("/secretariat"))
        .await
        .expect(200)
        .contains("Les éoliennes du parc");
    // The reference farm's ten turbines, all in service.
    let page = b
        .get(&farm("/secretariat/eoliennes"))
        .await
        .expect(200)
        .contains("Éoliennes du parc et leurs mises en service")
        .contains(">T10</th>")
        .contains("en service")
        .lacks("Décidées, pas encore en service");
    let action = farm("/secretariat/eoliennes");
    let form = page.form(&action);
    let head = server.head().await;
    let today = chrono::Utc::now().date_naive().to_string();
    let today = today.as_str();
    // Each refused, in French, with what is said of it.
    let refused = [
        // An addition needs its commune, power and resolution, each said.
        (
            vec![
                ("operation", "ajout"),
                ("eolienne", "T11"),
                ("date_effet", today),
            ],
            vec![
                "Commune : Ce champ est obligatoire pour cette opération.",
                "Résolution : Ce champ est obligatoire pour cette opération.",
            ],
        ),
        // The commissioning of a turbine the farm never added: refused by
        // the company, in French; nothing is written.
        (
            vec![
                ("operation", "mise_en_service"),
                ("eolienne", "T11"),
                ("date_effet", today),
            ],
            vec!["Cette éolienne n'est pas une éolienne du parc"],
        ),
        // A repowering citing a resolution on no agenda.
        (
            vec![
                ("operation", "renouvellement"),
                ("eolienne", "T01"),
                ("puissance", "4200"),
                ("resolution", "age-2099.1"),
                ("date_effet", today),
            ],
            vec!["La résolution citée ne figure à l'ordre du jour d'aucune assemblée."],
        ),
    ];
    for (fields, said) in refused {
        let mut answer = b.post(&action, &with(&form, &fields)).await.expect(422);
        for words in said {
            answer = answer.contains(words);
        }
    }
    assert_eq!(server.head().await, head);
    server.stop().await;
}

async fn identities_are_read_and_corrected_on_their_pages(
    db: windledger_store::testing::TestDatabase,
) {
    let server = Server::with_reference_farm(db).await;
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    let mut b = Browser::signed_in(&server, &secretary).await;
    let today = chrono::Utc::now().date_naive().to_string();
    let fields = admission("cit-951", "42026", &today);
    b.send_form(
        &farm("/secretariat"),
        &farm("/secretariat/associes"),
        &fields,
    )
    .await
    .redirects_to(&farm("/secretariat"));

    // The secretary's list links to each holder's page, which shows the
    // data in force.
    let identity = farm("/associes/cit-951/identite");
    b.get(&farm("/secretariat"))
        .await
        .expect(200)
        .contains(&format!("href=\"{identity}\""));
    let page = b
        .get(&identity)
        .await
        .expect(200)
        .contains("Identité de cit-951")
        .contains("Durand")
        .contains("Camille")
        .contains("FR7630006000011234567890189")
        .contains("acceptée le");
    // A correction: a mistake said in French and nothing written, then
    // the new version recorded (its commitment: one event).
    let head = server.head().await;
    let form = page.form(&identity);
    let moved = set(&with(&form, &PERSON), "city", Some("Bourg-Argental"));
    b.post(&identity, &set(&moved, "email", Some("pas une adresse")))
        .await
        .expect(422)
        .contains("Une adresse électronique : un nom, @");
    assert_eq!(server.head().await, head);
    b.post(&identity, &set(&moved, "email", Some("camille@example.fr")))
        .await
        .redirects_to(&identity);
    assert_eq!(server.head().await, head + 1);
    b.get(&identity)
        .await
        .expect(200)
        .contains("Bourg-Argental")
        .contains("camille@example.fr")
        .contains("La nouvelle version est enregistrée");

    // The holder, from their space: their own page; they withdraw their
    // consent to electronic convocation (the box left empty).
    let mut holder = Browser::signed_in_as(&server, Role::Shareholder, Some("cit-951")).await;
    holder
        .get(&farm("/espace"))
        .await
        .expect(200)
        .contains(&format!("href=\"{identity}\""));
    let page = holder
        .get(&identity)
        .await
        .expect(200)
        .contains("Mon identité")
        .contains("Bourg-Argental");
    let kept = set(&moved, "email", Some("camille@example.fr"));
    let withdrawn = set(
        &with(&page.form(&identity), &[]),
        "electronic_convocation",
        None,
    );
    let mut fields = withdrawn.clone();
    fields.extend(
        kept.into_iter()
            .filter(|(n, _)| n != "electronic_convocation" && !n.starts_with('_')),
    );
    holder
        .post(&identity, &fields)
        .await
        .redirects_to(&identity);
    holder
        .get(&identity)
        .await
        .expect(200)
        .contains("retirée le");

    // Nobody else: another shareholder, the municipality, the operator.
    for (role, acts_for) in [
        (Role::Shareholder, Some("cit-001")),
        (Role::Municipality, Some("ccmp")),
        (Role::Operator, None),
    ] {
        let mut other = Browser::signed_in_as(&server, role, acts_for).await;
        other.get(&identity).await.expect(403);
        other.get(&format!("{identity}.json")).await.expect(403);
    }

    // Everything kept, for the holder to download: every version, and
    // every read, the secretary's and the holder's own, logged.
    let export = holder.get(&format!("{identity}.json")).await.expect(200);
    let export: Value = serde_json::from_str(&export.body).expect("JSON");
    assert_eq!(export["versions"].as_array().map(Vec::len), Some(3));
    let purposes: BTreeSet<&str> = export["reads"]
        .as_array()
        .expect("reads")
        .iter()
        .filter_map(|r| r["purpose"].as_str())
        .collect();
    for purpose in [
        "the secretary's identity page",
        "the holder's own identity page",
        "a correction through the pages",
    ] {
        assert!(purposes.contains(purpose), "{purpose}: {purposes:?}");
    }
    // The ledger holds the commitments only: its last events (the
    // admission, the identity's, the corrections) name no value.
    let after = server.head().await - 10;
    let events = server
        .get(&format!("/events?after={after}"), Some(&secretary))
        .await
        .expect(200);
    let text = events.body.to_string();
    assert!(text.contains("IdentityRecorded"), "{text}");
    assert!(!text.contains("Durand") && !text.contains("Bourg-Argental"));
    server.stop().await;
}

async fn every_page_checks_who_asks(db: windledger_store::testing::TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let pages = [
        ("/espace", [true, true, true, true]),
        ("/assemblees/ago-2025", [true, true, false, true]),
        ("/registre", [true, true, false, false]),
        ("/registre/ago-2025", [true, true, false, false]),
        ("/journal", [true, true, false, false]),
        ("/verification", [true, true, false, false]),
        ("/exploitation", [false, false, true, false]),
        ("/secretariat", [true, false, false, false]),
    ];
    let roles = [
        (Role::Secretary, None),
        (Role::Municipality, Some("ccmp")),
        (Role::Operator, None),
        (Role::Shareholder, Some("cit-001")),
    ];
    let mut anonymous = Browser::new(&server);
    for (page, _) in &pages {
        anonymous.get(&farm(page)).await.redirects_to("/connexion");
    }
    for (i, (role, holder)) in roles.iter().enumerate() {
        let mut b = Browser::signed_in_as(&server, *role, *holder).await;
        for (page, allowed) in &pages {
            let answer = b.get(&farm(page)).await;
            let expected = if allowed[i] { 200 } else { 403 };
            assert_eq!(answer.status, expected, "{role} on {page}");
            if !allowed[i] {
                assert!(answer.body.contains("Accès refusé"));
            }
        }
    }
    // A POST without a session writes nothing and asks to sign in.
    let head = server.head().await;
    anonymous
        .post(
            &farm("/assemblees/ago-2025/vote"),
            &[("choix-1".to_owned(), "pour".to_owned())],
        )
        .await
        .redirects_to("/connexion");
    assert_eq!(server.head().await, head);
    // A token of another ledger sees this farm's pages as forbidden.
    let other = server.token("autre-parc", Role::Secretary, None).await;
    let mut b = Browser::new(&server);
    b.sign_in(&other)
        .await
        .redirects_to("/parcs/autre-parc/espace");
    b.get(&farm("/secretariat"))
        .await
        .expect(403)
        .contains("un autre parc");
    // That other ledger has no company yet: its pages still render.
    b.get("/parcs/autre-parc/espace").await.expect(200);
    b.get("/parcs/autre-parc/secretariat").await.expect(200);
    b.get("/parcs/autre-parc")
        .await
        .expect(200)
        .contains("Aucun associé n'est encore inscrit")
        .contains("Aucune production n'est encore publiée");
    b.get("/")
        .await
        .expect(200)
        .lacks("href=\"/parcs/autre-parc\"");
    server.stop().await;
}
