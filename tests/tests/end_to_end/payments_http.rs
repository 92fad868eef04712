//! The reference farm's last dividend (2024's, its payments left out of
//! the import) paid through the API, on both backends: where each holder
//! stands, the SEPA file (valid against the EPC's schema) with the holders
//! without an IBAN counted out, the bank's CSV statement with 3 transfers
//! rejected imported, and each refusal a problem+json.

use chrono::Datelike;
use serde_json::{Value, json};
use windledger_api::auth::Role;
use windledger_domain::finance::{
    AdvanceEvent, FinancialYearEvent, InterestWithholding, WithholdingStatus,
};
use windledger_domain::money::Euros;
use windledger_sepa::testing::{Schema, validate};
use windledger_store::on_both_backends;
use windledger_store::testing::TestDatabase;
use windledger_store::{LedgerId, StreamId};

use crate::payments::iban;
use crate::server::{LEDGER, REFERENCE_FARM, Response, Server};
use crate::support::dividend_declared;
use crate::web::{Browser, Page, farm};

on_both_backends!(
    the_reference_farms_last_dividend_is_paid_through_the_api,
    a_dividend_is_withheld_as_each_holders_identity_says,
    interest_and_repayments_of_advances_are_paid_by_transfer,
);

const COMPANY_IBAN: &str = "FR7630006000011234567890189";
/// Where the bank's statement of the 2024 dividend's transfers is sent.
const DIVIDEND_STATEMENTS: &str = "/financial-years/2024/dividend/bank-statements";

/// The bank's `statement` sent to `path`.
async fn send_statement(server: &Server, path: &str, token: &str, statement: &str) -> Response {
    server
        .post(path, token, json!({ "statement": statement }))
        .await
}

/// The answer to a GET of `url` (the whole address) with `token`, as sent.
async fn fetched(client: &reqwest::Client, url: &str, token: &str) -> reqwest::Response {
    let request = client.get(url).bearer_auth(token);
    request.send().await.expect("an answer")
}

/// The ids of the individuals among `holders` (the API's list).
fn individuals(holders: &Value) -> impl Iterator<Item = String> + '_ {
    holders
        .as_array()
        .expect("holders")
        .iter()
        .filter(|h| h["history"]["kind"] == "individual")
        .filter_map(|h| h["holder"].as_str().map(str::to_owned))
}

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

/// The reference farm imported but for its commands whose ids start with
/// one of `left_out`, served; with a secretary's token.
async fn reference_farm_without(db: TestDatabase, left_out: &[&str]) -> (Server, String) {
    let store = db.store().await;
    let file: String = REFERENCE_FARM
        .lines()
        .filter(|l| {
            !left_out
                .iter()
                .any(|id| l.contains(&format!("\"id\":\"{id}")))
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let ledger = LedgerId::parse(LEDGER).expect("an id");
    windledger_app::import::import(store.clone(), ledger, file.as_bytes(), |_| {})
        .await
        .expect("the farm imports");
    let server = Server::start(db, store).await;
    let token = server.token(LEDGER, Role::Secretary, None).await;
    (server, token)
}

/// Records `holder`'s identity (`person`'s, with `change`'s fields).
async fn record_identity(
    server: &Server,
    secretary: &str,
    holder: &str,
    kind: &str,
    n: usize,
    change: Value,
) {
    let mut person = person(holder, kind, n);
    for (k, v) in change.as_object().expect("fields") {
        person[k] = v.clone();
    }
    server
        .post(
            &format!("/holders/{holder}/identity"),
            secretary,
            json!({"person": person}),
        )
        .await
        .expect(201);
}

/// Panics unless `xml` is valid against the EPC's pain.001.001.09 schema.
fn assert_pain001(xml: &str) {
    if let Err(words) = validate(xml, Schema::Pain001) {
        panic!("not valid against pain.001.001.09 (EPC): {words}");
    }
}

/// The transfer file the farm's page `path` gives `browser`, valid against
/// pain.001.
async fn transfer_file(browser: &mut Browser<'_>, path: &str) -> Page {
    let file = browser.get(&farm(path)).await.expect(200);
    assert_pain001(&file.body);
    file
}

async fn the_reference_farms_last_dividend_is_paid_through_the_api(db: TestDatabase) {
    let (server, secretary_token) = reference_farm_without(db, &["fy2024-dividend-paid-"]).await;
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
    let response = fetched(&server.client, &url, secretary_token).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "application/xml");
    assert_eq!(headers["without-bank-account"], "2");
    let xml = response.text().await.expect("the file");
    assert_pain001(&xml);
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
    let settled = send_statement(&server, DIVIDEND_STATEMENTS, secretary_token, &csv)
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
        send_statement(&server, DIVIDEND_STATEMENTS, secretary_token, statement)
            .await
            .problem(422, "validation")
            .detail_contains("not a statement");
    }
    let header_only = "end_to_end_id;amount;booking_date;status\n";
    let path = "/financial-years/2019/dividend/bank-statements";
    send_statement(&server, path, secretary_token, header_only)
        .await
        .problem(422, "refused")
        .detail_contains("no dividend");

    // The same through the secretary's pages: the 3 transfers returned
    // are paid again by a new file, settled by a CSV statement.
    let mut b = Browser::signed_in(&server, secretary_token).await;
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
    let file = transfer_file(
        &mut b,
        &format!(
            "/secretariat/dividendes/2024/virements.xml?iban=FR76+3000+6000+0112+3456+7890+189&bic=agrifrpp&execution={tomorrow}"
        ),
    )
    .await;
    assert_eq!(file.headers["content-type"], "application/xml");
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

    // A shareholder paid this year finds their IFU in their space, and
    // through the API; not another holder's.
    let year = yesterday.year();
    let paid = holders[5]["holder"].as_str().expect("an id");
    let other = holders[6]["holder"].as_str().expect("an id");
    let token = server.shareholder_token(paid).await;
    let mut s = Browser::signed_in(&server, &token).await;
    s.get(&farm("/espace"))
        .await
        .expect(200)
        .contains("Imprimé fiscal unique")
        .contains(&format!("/espace/ifu/{year}"));
    let ifu = s
        .get(&farm(&format!("/espace/ifu/{year}")))
        .await
        .expect(200);
    assert_eq!(ifu.headers["content-type"], "application/pdf");
    s.get(&farm(&format!("/espace/ifu/{}", year - 30)))
        .await
        .expect(400)
        .contains("Aucun revenu ne vous a été versé");
    let own = server
        .get(
            &format!("/holders/{paid}/ifu.pdf?year={year}"),
            Some(&token),
        )
        .await;
    assert_eq!(own.status, 200);
    assert_eq!(own.content_type, "application/pdf");
    server
        .get(
            &format!("/holders/{other}/ifu.pdf?year={year}"),
            Some(&token),
        )
        .await
        .expect(403);
    let ifu = server.api(&format!("/tax/ifu.csv?year={year}"));
    let csv = fetched(&server.client, &ifu, secretary_token)
        .await
        .text()
        .await
        .expect("the CSV");
    let line = csv
        .lines()
        .find(|l| l.starts_with(&format!("{paid};")))
        .expect("the paid holder's IFU line");
    assert!(
        line.contains(&format!("Nom-{paid}")) || line.contains(&format!("Société {paid}")),
        "named from the vault: {line}"
    );
    server.stop().await;
}

/// `gross` x `rate` per cent, to the cent (half away from zero), in cents.
fn withheld(gross: Euros, rate: &str) -> u64 {
    let rate: rust_decimal::Decimal = rate.parse().expect("a rate");
    let tax = (gross.amount() * rate / rust_decimal::Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    Euros::new(tax).expect("euros").cents().expect("cents")
}

/// The reference farm's 2024 dividend declared through the API: the
/// server reads each individual's identity and withholds accordingly. An
/// exemption received on 30 November 2024 exempts the payments of 2025
/// from income tax (social contributions still withheld); one received on
/// 1 December does not; a holder taxed in Belgium has nothing withheld and
/// is not paid until the secretary records the treaty's withholding.
async fn a_dividend_is_withheld_as_each_holders_identity_says(db: TestDatabase) {
    let (server, token) =
        reference_farm_without(db, &["fy2024-dividend-paid-", "fy2024-dividend-declared\""]).await;
    let secretary = token.as_str();
    let ledger = LedgerId::parse(LEDGER).expect("an id");

    let holders: Value = server
        .get("/holders", Some(secretary))
        .await
        .expect(200)
        .body;
    let three: Vec<String> = individuals(&holders).take(3).collect();
    let [exempt, late, abroad] = [0, 1, 2].map(|i| three[i].clone());
    for (n, (holder, change)) in [
        (&exempt, json!({"statements": [{"kind": "withholding_exemption", "dated": "2024-11-30", "year": 2025}]})),
        (&late, json!({"statements": [{"kind": "withholding_exemption", "dated": "2024-12-01", "year": 2025}]})),
        (&abroad, json!({"tax_residence": "BE", "address": {"lines": ["Rue Haute 12"], "postal_code": "1000", "city": "Bruxelles", "country": "BE"}})),
    ]
    .into_iter()
    .enumerate()
    {
        record_identity(&server, secretary, holder, "individual", 900 + n, change).await;
    }

    // The first club asked the company to withhold for its members.
    let asked = json!({"statements": [{"kind": "members_withholding", "dated": "2025-01-10", "year": 2025}]});
    record_identity(
        &server,
        secretary,
        "cigales-01",
        "investment_club",
        950,
        asked,
    )
    .await;
    record_identity(
        &server,
        secretary,
        "cigales-02",
        "investment_club",
        951,
        json!({}),
    )
    .await;

    let declaration = json!({"resolution": "ago-2025.2",
        "amount": {"basis": "total", "amount": "567000.00"},
        "record_date": "2025-07-01", "payment_date": "2025-07-15", "withholding": null});
    let mut given = declaration.clone();
    given["withholding_statuses"] = json!({exempt.clone(): "exempt"});
    server
        .post("/financial-years/2024/dividends", secretary, given)
        .await
        .problem(422, "validation")
        .detail_contains("withholding_statuses is the server's");
    server
        .post("/financial-years/2024/dividends", secretary, declaration)
        .await
        .expect(201);

    let event = dividend_declared(&server.store, &ledger, 2024).await;
    let FinancialYearEvent::DividendDeclared { allocations, .. } = event else {
        panic!("not a declaration");
    };
    let of = |h: &str| {
        allocations
            .iter()
            .find(|a| a.holder.as_str() == h)
            .expect("allocated")
            .clone()
    };
    let cents = |e: Euros| e.cents().expect("cents");
    let a = of(&exempt);
    assert_eq!(a.status, Some(WithholdingStatus::Exempt));
    assert_eq!(cents(a.income_tax), 0);
    assert_eq!(cents(a.social_contributions), withheld(a.gross, "17.2"));
    assert_eq!(cents(a.net), cents(a.gross) - withheld(a.gross, "17.2"));
    let b = of(&late);
    assert_eq!(b.status, None, "received on 1 December: too late for 2025");
    assert_eq!(cents(b.income_tax), withheld(b.gross, "12.8"));
    assert_eq!(cents(b.social_contributions), withheld(b.gross, "17.2"));
    let c = of(&abroad);
    assert_eq!(c.status, Some(WithholdingStatus::NonResident));
    assert_eq!((cents(c.income_tax), cents(c.social_contributions)), (0, 0));
    assert_eq!(c.net, c.gross);
    let d = of("cigales-01");
    assert_eq!(d.status, Some(WithholdingStatus::MembersWithheld));
    assert_eq!(cents(d.income_tax), withheld(d.gross, "12.8"));
    assert_eq!(cents(d.social_contributions), withheld(d.gross, "17.2"));
    let e = of("cigales-02");
    assert_eq!(
        (e.status, e.net),
        (None, e.gross),
        "a club is paid gross by default"
    );
    let club = "cigales-01".to_owned();
    let others = allocations
        .iter()
        .filter(|x| ![&exempt, &late, &abroad, &club].contains(&&x.holder.to_string()));
    for x in others {
        assert_eq!(x.status, None, "{}: no identity, the default", x.holder);
    }

    // The non-resident waits for the secretary's decision.
    let status_of = |payments: &Value, h: &str| {
        payments["holders"]
            .as_array()
            .expect("holders")
            .iter()
            .find(|p| p["holder"] == h)
            .expect("listed")
            .clone()
    };
    let payments = server
        .get("/financial-years/2024/dividend/payments", Some(secretary))
        .await
        .expect(200)
        .body;
    assert_eq!(status_of(&payments, &abroad)["status"], "awaiting_decision");
    assert_eq!(status_of(&payments, &exempt)["status"], "to_pay");
    server
        .post(
            "/financial-years/2024/dividend-payments",
            secretary,
            json!({"holder": abroad, "paid_on": "2025-07-15"}),
        )
        .await
        .problem(422, "refused")
        .detail_contains("taxed outside France");
    let treaty = withheld(c.gross, "12.8");
    server
        .post(
            "/financial-years/2024/withholding-decisions",
            secretary,
            json!({"holder": abroad, "income_tax": Euros::from_cents(treaty).amount().to_string(),
                   "social_contributions": "0"}),
        )
        .await
        .expect(201);
    let payments = server
        .get("/financial-years/2024/dividend/payments", Some(secretary))
        .await
        .expect(200)
        .body;
    let after = status_of(&payments, &abroad);
    assert_eq!(after["status"], "to_pay");
    assert_eq!(
        after["net"],
        Euros::from_cents(cents(c.gross) - treaty)
            .amount()
            .to_string()
    );
    server.stop().await;
}

/// Current-account advances paid by transfer through the API: three
/// citizens lend on 1 July 2025 (one withheld as a French resident, one
/// exempt by a request received on 30 November 2025, one taxed in
/// Belgium); their interest of 2025, accrued through the API, is withheld
/// as each identity says; the non-resident's waits for the secretary's
/// decision. The interest file and a repayment file validate against the
/// EPC's schema; the bank's statement records the booked transfers, none
/// of the returned or unknown ones, and nothing twice; the form 2777 and
/// the IFU of the year of payment carry the interest and its withholding.
async fn interest_and_repayments_of_advances_are_paid_by_transfer(db: TestDatabase) {
    let (server, token) = reference_farm_without(db, &[]).await;
    let secretary = token.as_str();

    // Three individuals on the 2024 dividend's roll (1 July 2025).
    let holders: Value = server
        .get("/holders", Some(secretary))
        .await
        .expect(200)
        .body;
    let roll: Value = server
        .get("/financial-years/2024/dividend/payments", Some(secretary))
        .await
        .expect(200)
        .body;
    let on_roll = |h: &str| {
        roll["holders"]
            .as_array()
            .expect("holders")
            .iter()
            .any(|r| r["holder"] == h)
    };
    let lenders: Vec<String> = individuals(&holders)
        .filter(|h| on_roll(h))
        .take(3)
        .collect();
    let statuses = [
        json!({}),
        json!({"statements": [{"kind": "withholding_exemption", "dated": "2025-11-30", "year": 2026}]}),
        json!({"tax_residence": "BE", "address": {"lines": ["Rue Haute 12"], "postal_code": "1000", "city": "Bruxelles", "country": "BE"}}),
    ];
    let advances = ["cca-cit-a", "cca-cit-b", "cca-cit-c"];
    for (n, ((holder, change), advance)) in lenders.iter().zip(&statuses).zip(advances).enumerate()
    {
        record_identity(
            &server,
            secretary,
            holder,
            "individual",
            700 + n,
            change.clone(),
        )
        .await;
        server
            .post(
                "/advances",
                secretary,
                json!({"advance": advance, "holder": holder, "amount": "10000.00",
                       "annual_rate": "4", "granted_on": "2025-07-01"}),
            )
            .await
            .expect(201);
        let accrual = json!({"year": 2025, "rate_ceiling": "5.5", "accrued_on": "2026-01-10"});
        let mut given = accrual.clone();
        given["withholding_status"] = json!("exempt");
        server
            .post(&format!("/advances/{advance}/interest"), secretary, given)
            .await
            .problem(422, "validation")
            .detail_contains("withholding_status is the server's");
        server
            .post(&format!("/advances/{advance}/interest"), secretary, accrual)
            .await
            .expect(201);
    }

    // Each accrual withholds as its lender's identity says.
    let accrued = async |advance: &str| -> (Euros, InterestWithholding) {
        let event: AdvanceEvent = advance_events(&server, advance)
            .await
            .into_iter()
            .find(|e| e.event_type == "InterestAccrued")
            .expect("accrued")
            .decode()
            .expect("an event");
        let AdvanceEvent::InterestAccrued {
            interest,
            withholding,
            ..
        } = event
        else {
            panic!("not an accrual");
        };
        (interest, withholding.expect("withheld"))
    };
    let cents = |e: Euros| e.cents().expect("cents");
    // 10,000.00 x 4 % x 184 days / 365.
    let gross = Euros::from_cents(20_164);
    let (a_gross, a) = accrued(advances[0]).await;
    assert_eq!(a_gross, gross);
    assert_eq!(a.status, None);
    assert_eq!(cents(a.income_tax), withheld(gross, "12.8"));
    assert_eq!(cents(a.social_contributions), withheld(gross, "17.2"));
    assert_eq!(
        cents(a.net),
        cents(gross) - withheld(gross, "12.8") - withheld(gross, "17.2")
    );
    let (_, b) = accrued(advances[1]).await;
    assert_eq!(b.status, Some(WithholdingStatus::Exempt));
    assert_eq!(cents(b.income_tax), 0);
    assert_eq!(cents(b.net), cents(gross) - withheld(gross, "17.2"));
    let (_, c) = accrued(advances[2]).await;
    assert_eq!(c.status, Some(WithholdingStatus::NonResident));
    assert_eq!(cents(c.net), cents(gross));

    // The interest file leaves the non-resident out until decided.
    let tomorrow = chrono::Utc::now().date_naive().succ_opt().expect("a date");
    let interest_file = format!(
        "/advance-interest/2025/credit-transfers.xml?debtor_iban={COMPANY_IBAN}&execution_date={tomorrow}"
    );
    let file = |server: &Server, path: String| {
        let url = server.api(&path);
        let client = server.client.clone();
        let token = secretary.to_owned();
        async move {
            let response = fetched(&client, &url, &token).await;
            assert_eq!(response.status(), 200);
            let count = response.headers()["transfer-count"]
                .to_str()
                .expect("a count")
                .to_owned();
            let xml = response.text().await.expect("the file");
            assert_pain001(&xml);
            (count, xml)
        }
    };
    let (count, xml) = file(&server, interest_file.clone()).await;
    assert_eq!(count, "2", "{xml}");
    assert!(xml.contains("<EndToEndId>INT-2025-00002</EndToEndId>"));
    assert!(xml.contains("<EndToEndId>INT-2025-00003</EndToEndId>"));
    assert!(xml.contains("<Cd>INTE</Cd>"));
    let plain = |c: u64| format!("{}.{:02}", c / 100, c % 100);
    assert!(xml.contains(&format!(
        "<InstdAmt Ccy=\"EUR\">{}</InstdAmt>",
        plain(cents(a.net))
    )));
    server
        .post(
            &format!("/advances/{}/interest-payments", advances[2]),
            secretary,
            json!({"year": 2025, "paid_on": "2026-02-01"}),
        )
        .await
        .problem(422, "refused")
        .detail_contains("taxed outside France");
    server
        .post(
            &format!("/advances/{}/withholding-decisions", advances[0]),
            secretary,
            json!({"year": 2025, "income_tax": "1.00", "social_contributions": "0"}),
        )
        .await
        .problem(422, "refused");
    let treaty = withheld(gross, "10");
    server
        .post(
            &format!("/advances/{}/withholding-decisions", advances[2]),
            secretary,
            json!({"year": 2025, "income_tax": Euros::from_cents(treaty).amount().to_string(),
                   "social_contributions": "0"}),
        )
        .await
        .expect(201);
    let (count, xml) = file(&server, interest_file).await;
    assert_eq!(count, "3", "{xml}");
    let c_net = Euros::from_cents(cents(gross) - treaty);
    assert!(xml.contains(&format!(
        "<InstdAmt Ccy=\"EUR\">{}</InstdAmt>",
        plain(cents(c_net))
    )));

    // A repayment: at most what is owed.
    let repayment = |amount: &str| {
        json!({"debtor_iban": COMPANY_IBAN, "execution_date": tomorrow,
               "repayments": [{"advance": advances[0], "amount": amount}]})
    };
    server
        .post(
            "/advance-repayments/credit-transfers.xml",
            secretary,
            repayment("10000.01"),
        )
        .await
        .problem(422, "refused")
        .detail_contains("above");
    let response = server
        .client
        .post(server.api("/advance-repayments/credit-transfers.xml"))
        .bearer_auth(secretary)
        .json(&repayment("2500.00"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status(), 200);
    let xml = response.text().await.expect("the file");
    assert_pain001(&xml);
    assert!(xml.contains("<EndToEndId>RMB-00002-001</EndToEndId>"));
    assert!(xml.contains("<Cd>LOAR</Cd>"));

    // The same files from the secretary's page of the advances.
    let mut browser = Browser::signed_in(&server, secretary).await;
    browser
        .get(&farm("/secretariat"))
        .await
        .expect(200)
        .contains("Intérêts et remboursements des avances");
    let advances_page = farm("/secretariat/avances");
    browser
        .get(&advances_page)
        .await
        .expect(200)
        .contains("Avance cca-cit-a")
        .contains("à verser")
        .contains("Télécharger le fichier des intérêts")
        .contains("Montant à rembourser sur l'avance cca-cit-c (euros)");
    let interest = format!(
        "/secretariat/avances/interets.xml?annee=2025&iban=FR76+3000+6000+0112+3456+7890+189&execution={tomorrow}"
    );
    let page_file = transfer_file(&mut browser, &interest).await;
    assert_eq!(page_file.body.matches("<CdtTrfTxInf>").count(), 3);
    let repayment = format!(
        "/secretariat/avances/remboursement.xml?montant-cca-cit-a=2+500%2C00&montant-cca-cit-b=1000&montant-cca-cit-c=&iban={COMPANY_IBAN}&execution={tomorrow}"
    );
    let page_file = transfer_file(&mut browser, &repayment).await;
    // Two advances repaid by one file; the one left blank is not.
    assert_eq!(page_file.body.matches("<CdtTrfTxInf>").count(), 2);
    for (id, amount) in [("RMB-00002-001", "2500.00"), ("RMB-00003-001", "1000.00")] {
        let transfer = page_file
            .body
            .split("<CdtTrfTxInf>")
            .find(|t| t.contains(&format!("<EndToEndId>{id}</EndToEndId>")))
            .unwrap_or_else(|| panic!("{id} in {}", page_file.body));
        assert!(transfer.contains(&format!("<InstdAmt Ccy=\"EUR\">{amount}</InstdAmt>")));
    }
    // Each refusal a page in French (400).
    for (query, words) in [
        ("montant-cca-cit-a=20000", "dépasse le capital restant dû"),
        ("montant-cca-cit-a=douze", "n'est pas un montant en euros"),
        ("montant-cca-inconnue=10", "n'existe pas"),
        (
            "montant-cca-cit-a=&montant-cca-cit-b=",
            "au moins une avance",
        ),
    ] {
        browser
            .get(&farm(&format!(
                "/secretariat/avances/remboursement.xml?{query}&iban={COMPANY_IBAN}"
            )))
            .await
            .expect(400)
            .contains(words);
    }

    // The bank's statement: A's and B's interest and A's repayment booked,
    // C's interest returned, an id that names nothing.
    let yesterday = chrono::Utc::now().date_naive().pred_opt().expect("a date");
    let amount = |e: Euros| {
        let c = cents(e);
        format!("{},{:02}", c / 100, c % 100)
    };
    let day = yesterday.format("%d/%m/%Y");
    let statement = format!(
        "end_to_end_id;amount;booking_date;status;reason\n\
         INT-2025-00002;{};{day};comptabilisé;\n\
         INT-2025-00003;{};{day};comptabilisé;\n\
         INT-2025-00004;{};{day};rejeté;AC04\n\
         RMB-00002-001;2500,00;{day};comptabilisé;\n\
         INT-2025-00099;1,00;{day};comptabilisé;\n",
        amount(a.net),
        amount(b.net),
        amount(c_net),
    );
    let settled = send_statement(&server, "/bank-statements", secretary, &statement)
        .await
        .expect(200)
        .body;
    let recorded: Vec<&str> = settled["recorded"]
        .as_array()
        .expect("recorded")
        .iter()
        .filter_map(|r| r["end_to_end_id"].as_str())
        .collect();
    assert_eq!(
        recorded,
        ["INT-2025-00002", "INT-2025-00003", "RMB-00002-001"],
        "{settled}"
    );
    let unmatched: Vec<(&str, &str)> = settled["unmatched"]
        .as_array()
        .expect("unmatched")
        .iter()
        .map(|u| {
            (
                u["end_to_end_id"].as_str().unwrap_or(""),
                u["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        unmatched,
        [
            ("INT-2025-00004", "returned"),
            ("INT-2025-00099", "unknown_id")
        ]
    );
    let again = send_statement(&server, "/bank-statements", secretary, &statement)
        .await
        .expect(200)
        .body;
    assert_eq!(again["recorded"], json!([]), "{again}");
    assert_eq!(again["already_recorded"], 3, "{again}");
    let action = farm("/secretariat/avances/releve");
    let page = browser.get(&advances_page).await.expect(200);
    let fields = page.contains("versés le").form(&action);
    browser
        .post_file(&action, &fields, "releve.csv", &statement)
        .await
        .expect(200)
        .contains("0 versement enregistré")
        .contains("3 déjà enregistrés")
        .contains("aucun versement dû ne porte cette référence");
    let kinds = async |advance: &str| -> Vec<String> {
        advance_events(&server, advance)
            .await
            .into_iter()
            .map(|e| e.event_type)
            .collect()
    };
    assert_eq!(
        kinds(advances[0]).await,
        [
            "AdvanceGranted",
            "InterestAccrued",
            "InterestPaid",
            "AdvanceRepaid"
        ]
    );
    assert_eq!(
        kinds(advances[1]).await,
        ["AdvanceGranted", "InterestAccrued", "InterestPaid"]
    );
    assert_eq!(
        kinds(advances[2]).await,
        [
            "AdvanceGranted",
            "InterestAccrued",
            "InterestWithholdingDecided"
        ]
    );

    // The tax paperwork of the year of payment.
    let year = yesterday.year();
    let returns = server
        .get_text(
            &format!("/tax/withholding-returns.csv?year={year}"),
            secretary,
        )
        .await;
    let month = yesterday.format("%Y-%m").to_string();
    let row = returns
        .lines()
        .find(|l| l.starts_with(&format!("{month};interest;")))
        .unwrap_or_else(|| panic!("an interest row for {month}: {returns}"));
    let expected = format!(
        "{month};interest;2;{};{};{};{}",
        plain(cents(gross)),
        plain(cents(a.income_tax)),
        plain(2 * cents(gross)),
        plain(cents(a.social_contributions) + cents(b.social_contributions)),
    );
    assert!(row.starts_with(&expected), "{row}\nexpected {expected}");
    let ifu = server
        .get_text(&format!("/tax/ifu.csv?year={year}"), secretary)
        .await;
    for (holder, w) in lenders.iter().zip([&a, &b]) {
        let line = ifu
            .lines()
            .find(|l| l.starts_with(&format!("{holder};")))
            .unwrap_or_else(|| panic!("{holder}'s IFU line: {ifu}"));
        let fields: Vec<&str> = line.split(';').collect();
        assert_eq!(
            &fields[6..9],
            [
                plain(cents(gross)),
                plain(cents(w.income_tax)),
                plain(cents(w.social_contributions))
            ],
            "{line}"
        );
    }
    server.stop().await;
}

/// The events of the advance `advance` of the test ledger.
async fn advance_events(server: &Server, advance: &str) -> Vec<windledger_store::RecordedEvent> {
    let ledger = LedgerId::parse(LEDGER).expect("an id");
    let stream = StreamId::parse(format!("current-account-advance/{advance}")).expect("a stream");
    server
        .store
        .read_stream_to_end(&ledger, &stream)
        .await
        .expect("the advance")
}
