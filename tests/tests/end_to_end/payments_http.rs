//! The reference farm's last dividend (2024's, its payments left out of
//! the import) paid through the API, on both backends: where each holder
//! stands, the SEPA file (valid against the EPC's schema) with the holders
//! without an IBAN counted out, the bank's CSV statement with 3 transfers
//! rejected imported, and each refusal a problem+json.

use serde_json::{Value, json};
use windledger_api::auth::Role;
use windledger_sepa::testing::{Schema, validate};
use windledger_store::LedgerId;
use windledger_store::on_both_backends;
use windledger_store::testing::TestDatabase;

use crate::payments::iban;
use crate::server::{LEDGER, REFERENCE_FARM, Server};
use crate::web::{Browser, farm};

on_both_backends!(the_reference_farms_last_dividend_is_paid_through_the_api);

const COMPANY_IBAN: &str = "FR7630006000011234567890189";

fn person(holder: &str, kind: &str, n: usize) -> Value {
    let identity = if kind == "individual" {
        json!({"person": "natural", "family_name": format!("Nom-{holder}"),
               "given_names": "Camille", "birth": null})
    } else {
        json!({"person": "legal", "name": format!("Société {holder}"), "legal_form": "SAS",
               "siren": null, "representative": "Dominique Martin"})
    };
    json!({
        "identity": identity,
        "address": {"lines": ["1 place de la Mairie"], "postal_code": "42026",
                    "city": "Taillard", "country": "FR"},
        "email": null,
        "tax_residence": "FR",
        "bank_account": {"iban": iban(n), "bic": "CCBPFRPP"},
    })
}

async fn the_reference_farms_last_dividend_is_paid_through_the_api(db: TestDatabase) {
    let store = db.store().await;
    let file: String = REFERENCE_FARM
        .lines()
        .filter(|l| !l.contains("\"id\":\"fy2024-dividend-paid-"))
        .map(|l| format!("{l}\n"))
        .collect();
    let ledger = LedgerId::parse(LEDGER).expect("an id");
    windledger_app::import::import(store.clone(), ledger, file.as_bytes(), |_| {})
        .await
        .expect("the farm imports");
    let server = Server::start(db, store).await;
    let secretary_token = server.token(LEDGER, Role::Secretary, None).await;
    let secretary_token = secretary_token.as_str();
    let secretary = Some(secretary_token);

    // Owed to every holder on the roll; no one has a bank account yet.
    let payments = server
        .get("/financial-years/2024/dividend/payments", secretary)
        .await
        .expect(200)
        .body;
    let holders = payments["holders"].as_array().expect("holders").clone();
    assert!(holders.len() > 100, "{payments}");
    assert!(holders.iter().all(|h| h["status"] == "no_bank_account"));
    server
        .get(
            &format!(
                "/financial-years/2024/dividend/credit-transfers.xml?debtor_iban={COMPANY_IBAN}"
            ),
            secretary,
        )
        .await
        .problem(422, "refused")
        .detail_contains("no bank account");

    // Every holder's IBAN but two's.
    let kinds: Value = server.get("/holders", secretary).await.expect(200).body;
    let kind_of = |holder: &str| {
        kinds
            .as_array()
            .expect("holders")
            .iter()
            .find(|h| h["holder"] == holder)
            .and_then(|h| h["history"]["kind"].as_str())
            .expect("a kind")
            .to_owned()
    };
    for (n, h) in holders.iter().enumerate().skip(2) {
        let holder = h["holder"].as_str().expect("an id");
        server
            .post(
                &format!("/holders/{holder}/identity"),
                secretary_token,
                json!({"person": person(holder, &kind_of(holder), n)}),
            )
            .await
            .expect(201);
    }
    let net = |h: &Value| -> u64 {
        let text = h["net"].as_str().expect("an amount");
        let (euros, cents) = text.split_once('.').unwrap_or((text, "0"));
        euros.parse::<u64>().expect("euros") * 100
            + format!("{cents:0<2}").parse::<u64>().expect("cents")
    };
    let owed_without: u64 = holders[..2].iter().map(net).sum();
    let total: u64 = holders.iter().map(net).sum();

    // The file.
    let tomorrow = chrono::Utc::now().date_naive().succ_opt().expect("a date");
    let url = server.api(&format!(
        "/financial-years/2024/dividend/credit-transfers.xml?debtor_iban=FR76%203000%206000%200112%203456%207890%20189&debtor_bic=AGRIFRPP&execution_date={tomorrow}"
    ));
    let response = server
        .client
        .get(&url)
        .bearer_auth(secretary_token)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/xml");
    assert_eq!(headers["without-bank-account"], "2");
    let xml = response.text().await.expect("the file");
    if let Err(words) = validate(&xml, Schema::Pain001) {
        panic!("not valid against pain.001.001.09 (EPC): {words}");
    }
    let count: usize = headers["transfer-count"]
        .to_str()
        .expect("a count")
        .parse()
        .expect("a count");
    assert_eq!(count, holders.len() - 2);
    assert_eq!(xml.matches("<CdtTrfTxInf>").count(), count);
    let sum = format!(
        "{}.{:02}",
        (total - owed_without) / 100,
        (total - owed_without) % 100
    );
    assert_eq!(
        xml.matches(&format!("<CtrlSum>{sum}</CtrlSum>")).count(),
        2,
        "{sum}"
    );
    assert!(xml.contains(&format!("<ReqdExctnDt>\n        <Dt>{tomorrow}</Dt>")));

    // The bank's CSV statement: 3 rejected, the rest booked yesterday.
    let yesterday = chrono::Utc::now().date_naive().pred_opt().expect("a date");
    let mut csv = String::from("end_to_end_id;amount;booking_date;status;reason\n");
    for (i, h) in holders.iter().enumerate().skip(2) {
        let cents = net(h);
        let (status, reason) = if [2, 10, 20].contains(&i) {
            ("rejeté", "AC04")
        } else {
            ("comptabilisé", "")
        };
        csv.push_str(&format!(
            "{};{},{:02};{};{status};{reason}\n",
            h["end_to_end_id"].as_str().expect("an id"),
            cents / 100,
            cents % 100,
            yesterday.format("%d/%m/%Y"),
        ));
    }
    let settled = server
        .post(
            "/financial-years/2024/dividend/bank-statements",
            secretary_token,
            json!({"statement": csv}),
        )
        .await
        .expect(200)
        .body;
    let recorded = settled["recorded"].as_array().expect("recorded");
    assert_eq!(recorded.len(), holders.len() - 5, "{settled}");
    let unmatched = settled["unmatched"].as_array().expect("unmatched");
    assert_eq!(unmatched.len(), 3);
    for (u, i) in unmatched.iter().zip([2, 10, 20]) {
        assert_eq!(u["end_to_end_id"], holders[i]["end_to_end_id"]);
        assert_eq!(u["holder"], holders[i]["holder"]);
        assert_eq!(u["reason"], "returned");
        assert_eq!(u["code"], "AC04");
    }
    let after = server
        .get("/financial-years/2024/dividend/payments", secretary)
        .await
        .expect(200)
        .body;
    for (i, h) in after["holders"]
        .as_array()
        .expect("holders")
        .iter()
        .enumerate()
    {
        let expected = match i {
            0 | 1 => "no_bank_account",
            2 | 10 | 20 => "to_pay",
            _ => "paid",
        };
        assert_eq!(h["status"], expected, "{h}");
        if expected == "paid" {
            assert_eq!(h["paid_on"], yesterday.to_string());
        }
    }

    // Refusals, each a problem+json.
    let bad = [
        (
            "/financial-years/2024/dividend/credit-transfers.xml?debtor_iban=FR7630006000011234567890188"
                .to_owned(),
            "debtor_iban",
        ),
        (
            format!(
                "/financial-years/2024/dividend/credit-transfers.xml?debtor_iban={COMPANY_IBAN}&execution_date=2020-01-01"
            ),
            "past",
        ),
        (
            format!(
                "/financial-years/2024/dividend/credit-transfers.xml?debtor_iban={COMPANY_IBAN}&debtor_bic=bnp"
            ),
            "debtor_bic",
        ),
        (
            "/financial-years/2024/dividend/credit-transfers.xml".to_owned(),
            "debtor_iban",
        ),
    ];
    for (path, words) in bad {
        server
            .get(&path, secretary)
            .await
            .problem(422, "validation")
            .detail_contains(words);
    }
    server
        .get("/financial-years/2019/dividend/payments", secretary)
        .await
        .problem(404, "not-found");
    for statement in [
        "<Document/>",
        "end_to_end_id;amount\nDIV-2024-00001;1.00\n",
        "",
    ] {
        server
            .post(
                "/financial-years/2024/dividend/bank-statements",
                secretary_token,
                json!({"statement": statement}),
            )
            .await
            .problem(422, "validation")
            .detail_contains("not a statement");
    }
    server
        .post(
            "/financial-years/2019/dividend/bank-statements",
            secretary_token,
            json!({"statement": "end_to_end_id;amount;booking_date;status\n"}),
        )
        .await
        .problem(422, "refused")
        .detail_contains("no dividend");

    // The same through the secretary's pages: the 3 transfers returned
    // are paid again by a new file, settled by a CSV statement.
    let mut b = Browser::new(&server);
    b.sign_in(secretary_token)
        .await
        .redirects_to(&farm("/espace"));
    b.get(&farm("/secretariat"))
        .await
        .expect(200)
        .contains("Dividende de l'exercice 2024");
    let page_path = farm("/secretariat/dividendes/2024");
    let page = b
        .get(&page_path)
        .await
        .expect(200)
        .contains("3 virements à faire")
        .contains("2 associés sans coordonnées bancaires")
        .contains(holders[10]["end_to_end_id"].as_str().expect("an id"));
    let file = b
        .get(&farm(&format!(
            "/secretariat/dividendes/2024/virements.xml?iban=FR76+3000+6000+0112+3456+7890+189&bic=agrifrpp&execution={tomorrow}"
        )))
        .await
        .expect(200);
    assert_eq!(file.headers["content-type"], "application/xml");
    if let Err(words) = validate(&file.body, Schema::Pain001) {
        panic!("not valid against pain.001.001.09 (EPC): {words}");
    }
    assert_eq!(file.body.matches("<CdtTrfTxInf>").count(), 3);
    for (query, words) in [
        (
            "iban=FR7630006000011234567890188",
            "L'IBAN de la société n'est pas valide",
        ),
        (
            "iban=FR7630006000011234567890189&execution=2020-01-01",
            "La date d'exécution est passée",
        ),
        (
            "iban=FR7630006000011234567890189&bic=12",
            "Le BIC n'est pas valide",
        ),
    ] {
        b.get(&farm(&format!(
            "/secretariat/dividendes/2024/virements.xml?{query}"
        )))
        .await
        .expect(400)
        .contains(words);
    }
    let action = farm("/secretariat/dividendes/2024/releve");
    let fields = page.form(&action);
    b.post_file(&action, &fields, "releve.txt", "bonjour")
        .await
        .expect(422)
        .contains("n'est pas un relevé lisible");
    let mut csv = String::from("end_to_end_id,amount,booking_date,status\n");
    for i in [2, 10, 20] {
        let cents = net(&holders[i]);
        csv.push_str(&format!(
            "{},{}.{:02},{yesterday},booked\n",
            holders[i]["end_to_end_id"].as_str().expect("an id"),
            cents / 100,
            cents % 100
        ));
    }
    let fields = b.get(&page_path).await.expect(200).form(&action);
    b.post_file(&action, &fields, "releve.csv", &csv)
        .await
        .expect(200)
        .contains("3 versements enregistrés")
        .contains("0 ligne non enregistrée");
    b.get(&page_path)
        .await
        .expect(200)
        .contains("Aucun virement à faire")
        .lacks(">à verser<");
    server.stop().await;
}
