//! What the operator meets first (issue 19), through the pages of a real
//! server with the reference farm, on both backends: a CSV file with
//! several bad lines lists every one of them at once, whether a line does
//! not read or the financial year refuses it, and writes nothing; a month
//! not over yet is refused in French with the day its production can be
//! sent.

use chrono::{Datelike, Months, Utc};
use serde_json::json;
use windledger_api::auth::Role;
use windledger_store::testing::TestDatabase;

use crate::server::{LEDGER, Server};
use crate::web::{Browser, farm, with};

windledger_store::on_both_backends!(
    a_file_with_several_bad_lines_lists_every_one_at_once,
    a_month_not_over_is_refused_with_the_day_it_can_be_reported,
);

/// The operator, signed in, with the upload form of year `year`.
async fn operator(server: &Server, year: i32) -> (Browser<'_>, Vec<(String, String)>) {
    let token = server.token(LEDGER, Role::Operator, None).await;
    let mut b = Browser::new(server);
    b.sign_in(&token).await.redirects_to(&farm("/espace"));
    let page = b.get(&farm("/exploitation")).await.expect(200);
    let year = year.to_string();
    let upload = with(
        &page.form(&farm("/exploitation/import")),
        &[("exercice", year.as_str())],
    );
    (b, upload)
}

async fn a_file_with_several_bad_lines_lists_every_one_at_once(db: TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let (mut b, upload) = operator(&server, 2025).await;
    let action = farm("/exploitation/import");
    let head = server.head().await;

    // A figure that does not read, and a turbine the farm does not have:
    // the second used to show only once the first was fixed.
    let two = "type,month,turbine,mwh,availability\n\
               production,2025-11,T02,abc,97\n\
               production,2025-11,T99,700.5,97\n";
    b.post_file(&action, &upload, "deux.csv", two)
        .await
        .expect(422)
        .contains("Le fichier deux.csv contient 2 erreurs : rien n'a été enregistré.")
        .contains("<td class=\"num\">2</td>")
        .contains("<code>mwh</code>")
        .contains("<td class=\"num\">3</td>")
        .contains("Cette éolienne n'est pas une éolienne du parc.");
    assert_eq!(server.head().await, head, "nothing written");

    // Three bad lines among good ones, each judged after the good lines
    // before it: a report corrected a second time (line 3, after line 2
    // corrected it), a price that does not read (line 4), a correction of a
    // report that does not exist (line 5).
    let three = "type,month,turbine,mwh,availability,kind,volume_mwh,price_per_mwh,corrects\n\
                 production,2025-11,T02,700.5,97,,,,p-2025-11-T02\n\
                 production,2025-11,T02,701,97,,,,p-2025-11-T02\n\
                 revenue,2025-11,,,,market_sales,1000,cinquante,\n\
                 production,2025-10,T01,650,97,,,,p-jamais\n\
                 revenue,2025-11,,,,market_sales,1000,55.5,\n";
    let page = b
        .post_file(&action, &upload, "trois.csv", three)
        .await
        .expect(422)
        .contains("Le fichier trois.csv contient 3 erreurs : rien n'a été enregistré.")
        .contains("Ce rapport a déjà été corrigé")
        .contains("<code>price_per_mwh</code>")
        .contains("Le rapport à corriger n'existe pas dans cet exercice.");
    let line = |n: u32| page.body.contains(&format!("<td class=\"num\">{n}</td>"));
    assert_eq!(
        (2..=6).filter(|n| line(*n)).collect::<Vec<_>>(),
        [3, 4, 5],
        "every bad line is listed, and only they"
    );
    assert_eq!(server.head().await, head, "nothing written");
    server.stop().await;
}

async fn a_month_not_over_is_refused_with_the_day_it_can_be_reported(db: TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    // The current month, on the server's clock (the test runs beside it).
    let today = Utc::now().date_naive();
    let (year, month) = (today.year(), today.month());
    let next = today
        .with_day(1)
        .and_then(|d| d.checked_add_months(Months::new(1)))
        .expect("next month");
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    server
        .post(
            "/financial-years",
            &secretary,
            json!({"year": year, "starts_on": format!("{year}-01-01"),
                   "ends_on": format!("{year}-12-31"), "opening_balances": null}),
        )
        .await
        .expect(201);
    // The sentence in full, month names and all, is `web::errors`' test;
    // here: from "Le mois de" to its full stop, the month's year, and the
    // first of the next month (and its year).
    let said = |body: &str| {
        let start = body.find("Le mois de ")?;
        let sentence = body[start..].split('.').next()?.to_owned();
        let holds = sentence.contains(&format!(
            " {year} n'est pas terminé : sa production se déclare à partir du 1er "
        )) && sentence.ends_with(&format!(" {}", next.year()));
        holds.then_some(sentence)
    };
    let (mut b, upload) = operator(&server, year).await;
    let head = server.head().await;
    let page = b.get(&farm("/exploitation")).await.expect(200);
    let this_month = format!("{year}-{month:02}");
    let fields = with(
        &page.form(&farm("/exploitation/production")),
        &[
            ("exercice", &year.to_string()),
            ("eolienne", "T01"),
            ("mois", &this_month),
            ("mwh", "512,5"),
            ("disponibilite", "97"),
        ],
    );
    let form = b
        .post(&farm("/exploitation/production"), &fields)
        .await
        .expect(422);
    assert!(said(&form.body).is_some(), "{}", form.body);
    let file =
        format!("type,month,turbine,mwh,availability\nproduction,{this_month},T01,512.5,97\n");
    let upload = b
        .post_file(&farm("/exploitation/import"), &upload, "ce-mois.csv", &file)
        .await
        .expect(422)
        .contains("contient 1 erreur : rien n'a été enregistré.");
    assert_eq!(said(&upload.body), said(&form.body), "the same sentence");
    assert_eq!(server.head().await, head, "nothing written");
    server.stop().await;
}
