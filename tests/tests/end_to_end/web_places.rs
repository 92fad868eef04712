//! Communes and authorities by name (issue 19): the reference farm names
//! its places right after incorporation, so the public page and the
//! returns page say "Burdignes" and "Communauté de communes des Monts du
//! Pilat", not "Commune 42026"; the secretary renames a place through the
//! API and the pages follow; a place the company does not know is refused
//! and nothing is written.

use serde_json::{Value, json};
use windledger_api::auth::Role;

use crate::server::{LEDGER, Response, Server};
use crate::web::{Browser, farm};

windledger_store::on_both_backends!(
    the_pages_name_the_communes_and_the_authorities,
    the_secretary_renames_a_place_and_the_pages_follow,
);

async fn the_pages_name_the_communes_and_the_authorities(
    db: windledger_store::testing::TestDatabase,
) {
    let server = Server::with_reference_farm(db).await;
    let mut b = Browser::new(&server);
    b.get(&farm(""))
        .await
        .expect(200)
        .contains("sur les communes <span title=\"Code INSEE 42026\">Burdignes</span>")
        .contains("<span title=\"Code INSEE 42282\">Saint-Sauveur-en-Rue</span>")
        .lacks("(codes INSEE)")
        // The returns' table and chart name their beneficiaries.
        .contains("Communauté de communes des Monts du Pilat")
        .contains("Département de la Loire")
        .lacks("Commune 42026")
        .lacks("Intercommunalité (SIREN")
        .lacks("Département 42");
    b.get(&farm("/retombees"))
        .await
        .expect(200)
        .contains("<th scope=\"row\">Burdignes</th>")
        .contains("Saint-Sauveur-en-Rue")
        .contains("Communauté de communes des Monts du Pilat")
        .contains("Département de la Loire")
        .lacks("Commune 42026")
        .lacks("Commune 42282")
        .lacks("Intercommunalité (SIREN")
        .lacks("Département 42");
}

/// A `POST /place-names` by `token`: `places` named from today.
async fn name_places(server: &Server, token: &str, places: Value) -> Response {
    let today = chrono::Utc::now().date_naive().to_string();
    let body = json!({"places": places, "effective_date": today});
    server.post("/place-names", token, body).await
}

async fn the_secretary_renames_a_place_and_the_pages_follow(
    db: windledger_store::testing::TestDatabase,
) {
    let server = Server::with_reference_farm(db).await;
    let secretary = server.token(LEDGER, Role::Secretary, None).await;

    // A commune of neither the territory nor a holder: refused, nothing
    // written.
    let head = server.head().await;
    for (places, problem) in [
        (json!({"communes": {"13055": "Marseille"}}), "refused"),
        // A name with a control character, or no name at all: invalid.
        (
            json!({"communes": {"42026": "Bur\u{7}dignes"}}),
            "validation",
        ),
        (json!({}), "refused"),
    ] {
        name_places(&server, &secretary, places)
            .await
            .problem(422, problem);
    }
    assert_eq!(server.head().await, head, "a refused naming writes nothing");

    // Only the secretary names places.
    let municipality = server.token(LEDGER, Role::Municipality, None).await;
    name_places(
        &server,
        &municipality,
        json!({"communes": {"42026": "Burdignes"}}),
    )
    .await
    .problem(403, "forbidden");

    // The latest name wins; the other names stay.
    name_places(
        &server,
        &secretary,
        json!({"communes": {"42026": "Burdignes (Loire)"}}),
    )
    .await
    .expect(201);
    assert_eq!(server.head().await, head + 1);
    let mut b = Browser::new(&server);
    b.get(&farm(""))
        .await
        .expect(200)
        .contains("<span title=\"Code INSEE 42026\">Burdignes (Loire)</span>")
        .contains("<span title=\"Code INSEE 42282\">Saint-Sauveur-en-Rue</span>");
    b.get(&farm("/retombees"))
        .await
        .expect(200)
        .contains("<th scope=\"row\">Burdignes (Loire)</th>")
        .contains("Communauté de communes des Monts du Pilat");
}
