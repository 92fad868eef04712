//! The territory fund's desk on the pages (docs/territory.md): the
//! municipality registers a resident with their identity and convenes a
//! round; the secretary feeds the fund and records a grant; each form's
//! mistakes come back in French with nothing written. A resident's
//! identity is corrected (pages and API), read by the resident, and
//! exported whole (a GDPR access request), by the municipality or the
//! resident only.

use chrono::{Duration, Utc};
use windledger_api::auth::Role;
use windledger_store::testing::TestDatabase;

use crate::server::{LEDGER, Server, person};
use crate::web::{Browser, farm, with};

/// The reference farm's host communes: Burdignes and Saint-Sauveur-en-Rue.
const COMMUNES: [&str; 2] = ["42026", "42282"];

/// A natural person's fields, as the form names them.
fn person_fields(city: &str) -> Vec<(&'static str, String)> {
    vec![
        ("family_name", "Martin".to_owned()),
        ("given_names", "Léa".to_owned()),
        ("address_line_1", "3 rue du Moulin".to_owned()),
        ("postal_code", "42220".to_owned()),
        ("city", city.to_owned()),
        ("country", "FR".to_owned()),
        ("tax_residence", "FR".to_owned()),
    ]
}

fn fields<'a>(pairs: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The resident id a page names after "L'habitant ".
fn resident_named(body: &str) -> String {
    let at = body
        .find("habitant hab-")
        .unwrap_or_else(|| panic!("no resident named: {body}"))
        + "habitant ".len();
    body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// A `datetime-local` field's value `hours` from now in UTC, which the
/// server reads as Paris time: an hour or two earlier, still ahead.
fn local_in(hours: i64) -> String {
    (Utc::now() + Duration::hours(hours))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[tokio::test]
async fn the_municipality_and_the_secretary_keep_the_fund_on_the_pages() {
    let server = Server::with_reference_farm(TestDatabase::sqlite()).await;
    let municipality = server.token(LEDGER, Role::Municipality, Some("ccmp")).await;
    let desk = farm("/gestion-du-fonds");

    // The municipality's desk: residents and rounds, not the money.
    let mut town = Browser::signed_in(&server, &municipality).await;
    let register = farm("/gestion-du-fonds/habitants");
    let page = town
        .get(&desk)
        .await
        .expect(200)
        .contains("Inscrire un habitant")
        .contains("Convoquer un budget participatif")
        .lacks("Alimenter le fonds");
    let hidden = page.form(&register);
    let head = server.head().await;
    town.post(&register, &with(&hidden, &[("commune", "4202")]))
        .await
        .expect(422)
        .contains("Commune de l'habitant : Un code INSEE compte 5 caractères")
        .contains("Nom : Ce champ est obligatoire.");
    assert_eq!(server.head().await, head, "nothing written");
    let burdignes = person_fields("Burdignes");
    let mut sent = fields(&burdignes);
    sent.push(("commune", COMMUNES[0]));
    town.send_form(&desk, &register, &sent)
        .await
        .redirects_to(&desk);
    let page = town
        .get(&desk)
        .await
        .expect(200)
        .contains("est inscrit, avec son identité");
    let resident = resident_named(&page.body);
    let identity = format!("/territory-fund/residents/{resident}/identity");
    let read = server.get(&identity, Some(&municipality)).await.expect(200);
    assert_eq!(
        read.body["person"]["identity"]["family_name"], "Martin",
        "{}",
        read.body
    );
    let fund = server.get("/territory-fund", None).await.expect(200).body;
    assert_eq!(fund["residents"][COMMUNES[0]], 1, "{fund}");

    // Its page: the identity in force, corrected by the municipality.
    let own_page = farm(&format!("/habitants/{resident}"));
    let hidden = town
        .get(&own_page)
        .await
        .expect(200)
        .contains("Martin")
        .contains("Burdignes")
        .lacks("Compte bancaire")
        .form(&own_page);
    town.post(
        &own_page,
        &with(&hidden, &fields(&person_fields("Saint-Sauveur-en-Rue"))),
    )
    .await
    .redirects_to(&own_page);
    town.get(&own_page)
        .await
        .contains("La nouvelle version est enregistrée")
        .contains("Saint-Sauveur-en-Rue");

    // Through the API: a legal person is refused, a natural one recorded;
    // a resident not registered is refused, and nothing is kept of them.
    let mut legal = person("asso");
    legal["identity"] = serde_json::json!({"person": "legal", "name": "Association du Pilat",
        "legal_form": "association", "siren": null, "representative": "Camille Durand"});
    server
        .post(
            &identity,
            &municipality,
            serde_json::json!({ "person": legal }),
        )
        .await
        .expect(422)
        .detail_contains("a resident is a natural person");
    server
        .post(
            "/territory-fund/residents/hab-inconnu/identity",
            &municipality,
            serde_json::json!({ "person": person("hab-inconnu") }),
        )
        .await
        .expect(422);
    server
        .post(
            &identity,
            &municipality,
            serde_json::json!({ "person": person(&resident) }),
        )
        .await
        .expect(201);

    // The resident reads their own identity and everything kept, on the
    // pages and through the API; not another's, and the secretary neither.
    let own_token = server.token(LEDGER, Role::Resident, Some(&resident)).await;
    let mut them = Browser::signed_in(&server, &own_token).await;
    them.get(&farm("/espace"))
        .await
        .expect(200)
        .contains("Mon identité d'habitant");
    them.get(&own_page)
        .await
        .expect(200)
        .contains("Mon identité d'habitant")
        .contains(&format!("Nom-{resident}"))
        .lacks("Enregistrer la nouvelle version");
    them.get(&farm("/habitants/hab-autre")).await.expect(403);
    let file = them
        .get(&format!("{own_page}/identite.json"))
        .await
        .expect(200);
    let export: serde_json::Value = serde_json::from_str(&file.body).expect("JSON");
    assert_eq!(export["resident"], resident.as_str(), "{export}");
    assert_eq!(
        export["versions"].as_array().map(Vec::len),
        Some(3),
        "the registration and two corrections: {export}"
    );
    assert!(export.get("holder").is_none(), "{export}");
    let export = server
        .get(&format!("{identity}/export"), Some(&own_token))
        .await
        .expect(200)
        .body;
    assert_eq!(
        export["in_force"],
        read_commitment(&server, &identity, &municipality).await
    );
    assert!(
        export["reads"].as_array().map_or(0, Vec::len) >= 4,
        "every read is in the export: {export}"
    );
    let other = server
        .token(LEDGER, Role::Resident, Some("hab-autre"))
        .await;
    server
        .get(&format!("{identity}/export"), Some(&other))
        .await
        .expect(403);
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    server.get(&identity, Some(&secretary)).await.expect(403);

    // The municipality convenes a round on its desk.
    let convene = farm("/gestion-du-fonds/budgets");
    let head = server.head().await;
    town.send_form(
        &desk,
        &convene,
        &[
            ("budget", "bp-guichet"),
            ("methode", "equal_shares"),
            ("enveloppe", "beaucoup"),
            ("communes", "42026 4228"),
        ],
    )
    .await
    .expect(422)
    .contains("Enveloppe : Écrivez un montant en euros")
    .contains("Communes : Des codes INSEE")
    .contains("Clôture du vote : Indiquez une date et une heure.");
    assert_eq!(server.head().await, head, "nothing written");
    let times = [
        ("depot_ouverture", local_in(3)),
        ("depot_cloture", local_in(24)),
        ("vote_ouverture", local_in(25)),
        ("vote_cloture", local_in(48)),
    ];
    let mut sent: Vec<(&str, &str)> = vec![
        ("budget", "bp-guichet"),
        ("methode", "equal_shares"),
        ("enveloppe", "20 000"),
        ("communes", "42026 42282"),
        ("choix_max", "3"),
    ];
    sent.extend(times.iter().map(|(k, v)| (*k, v.as_str())));
    town.send_form(&desk, &convene, &sent)
        .await
        .redirects_to(&desk);
    town.get(&desk)
        .await
        .contains("Le budget participatif est convoqué");
    let round = server
        .get("/budgeting-rounds/bp-guichet", None)
        .await
        .expect(200)
        .body;
    assert_eq!(round["method"], "equal_shares", "{round}");
    assert_eq!(round["budget"], "20000", "{round}");
    assert_eq!(round["communes"], serde_json::json!(COMMUNES), "{round}");
    assert_eq!(round["max_approvals"], 3, "{round}");

    // The secretary's desk: the money, not the residents.
    let mut office = Browser::signed_in(&server, &secretary).await;
    let feed = farm("/gestion-du-fonds/alimentation");
    let hidden = office
        .get(&desk)
        .await
        .expect(200)
        .contains("Exercice 2023")
        .contains("Exercice 2024")
        .lacks("Exercice 2022")
        .lacks("Inscrire un habitant")
        .contains("Aucun projet engagé n'attend de paiement.")
        .form(&feed);
    office
        .post(&feed, &with(&hidden, &[("exercice", "2023")]))
        .await
        .redirects_to(&desk);
    office
        .get(&desk)
        .await
        .contains("Le fonds est alimenté")
        .lacks("Exercice 2023<");
    let grant = farm("/gestion-du-fonds/subventions");
    office
        .send_form(
            &desk,
            &grant,
            &[("donateur", "region-ara"), ("montant", "-5")],
        )
        .await
        .expect(422)
        .contains("Montant : Écrivez un montant en euros");
    let today = Utc::now().date_naive().to_string();
    office
        .send_form(
            &desk,
            &grant,
            &[
                ("donateur", "region-ara"),
                ("montant", "1 000,50"),
                ("date", &today),
            ],
        )
        .await
        .redirects_to(&desk);
    let fund = server.get("/territory-fund", None).await.expect(200).body;
    assert_eq!(
        fund["came_in"], "49183.71",
        "48,183.21 fed + 1,000.50: {fund}"
    );
    assert_eq!(fund["grants"][0]["grantor"], "region-ara", "{fund}");
    server.stop().await;
}

async fn read_commitment(server: &Server, identity: &str, token: &str) -> serde_json::Value {
    server.get(identity, Some(token)).await.expect(200).body["commitment"].clone()
}
