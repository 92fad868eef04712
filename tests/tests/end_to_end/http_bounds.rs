//! No accepted command can make a read route answer 5xx (issue 17, item 4).
//!
//! Commands carrying figures past the input bounds
//! (`windledger_domain::input`) are refused as invalid and never recorded;
//! what is accepted, up to the bounds and many times over, adds up. A
//! ledger recorded before the bounds, with figures no farm reaches, still
//! verifies and is served: the reads that cannot add its figures answer a
//! problem naming the year, the pages say so, and nothing panics.
//!
//! The property test runs on SQLite (a few dozen cases on one server, its
//! seed printed by proptest on failure); the fixed cases run on both
//! backends.

use windledger_fixtures::farm::report;

use crate::web;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::sync::Arc;

use crate::server::{LEDGER, Server, copy_reference_farm};
use crate::web::{Browser, farm};
use chrono::{Duration, Utc};
use cqrs_es::CqrsFramework;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use windledger_api::auth::Role;
use windledger_api::routes::routes;
use windledger_app::services::{CompanyCapTables, MeetingResolutions, SystemClock, YearClosings};
use windledger_domain::finance::{
    FinancialYear, FinancialYearCommand, FinancialYearServices, RevenueKind, YearMonth,
};
use windledger_domain::meeting::Meeting;
use windledger_store::LedgerEventStore;
use windledger_store::testing::{Backend, TestDatabase};

windledger_store::on_both_backends!(
    figures_past_the_bounds_are_refused_and_every_read_still_answers,
    a_ledger_recorded_before_the_bounds_verifies_and_reads,
);

/// `7 x 10^28`: one fits an exact decimal, two do not add up.
const HUGE: &str = "70000000000000000000000000000";

/// The callers of the reads: every role's token, and a signed-in browser
/// for the pages of the secretary and the operator.
struct Readers<'a> {
    server: &'a Server,
    secretary: String,
    operator: String,
    shareholder: String,
    secretary_pages: Browser<'a>,
    operator_pages: Browser<'a>,
    public_pages: Browser<'a>,
}

impl<'a> Readers<'a> {
    async fn new(server: &'a Server) -> Self {
        let secretary = server.token(LEDGER, Role::Secretary, None).await;
        let operator = server.token(LEDGER, Role::Operator, None).await;
        let shareholder = server.shareholder_token("cit-001").await;
        let mut secretary_pages = Browser::new(server);
        secretary_pages.sign_in(&secretary).await;
        let mut operator_pages = Browser::new(server);
        operator_pages.sign_in(&operator).await;
        Self {
            server,
            secretary,
            operator,
            shareholder,
            secretary_pages,
            operator_pages,
            public_pages: Browser::new(server),
        }
    }

    /// Every read route of the API (from the router's own table, by a
    /// caller it allows) and every page: none answers 5xx. The reads that
    /// add figures answer `adding` (200 when every figure is accepted
    /// input).
    async fn check_every_read(&mut self, adding: u16) {
        const PREFIX: &str = "/api/v1/ledgers/{ledger}";
        for route in routes().iter().filter(|r| r.method == Method::GET) {
            let Some(suffix) = route.path.strip_prefix(PREFIX) else {
                continue;
            };
            let path = suffix
                .replace("{holder}", "cit-001")
                .replace("{meeting}", "ago-2025");
            let paths = match suffix {
                "/production" | "/local-returns" => {
                    vec![path.clone(), format!("{path}?year=2025")]
                }
                "/events" => vec![format!("{path}?limit=1000")],
                _ => vec![path],
            };
            for path in paths {
                for token in [None, Some(&self.shareholder), Some(&self.secretary)] {
                    let r = self.server.get(&path, token.map(String::as_str)).await;
                    let status = r.status.as_u16();
                    assert!(status < 500, "GET {path}: {status} {}", r.body);
                    if matches!(suffix, "/production" | "/local-returns") {
                        assert_eq!(status, adding, "GET {path}: {}", r.body);
                    }
                }
            }
        }
        let public = ["", "/retombees", "/point-de-controle"];
        for suffix in public {
            let page = self.public_pages.get(&farm(suffix)).await;
            assert!(page.status < 500, "{suffix}: {}", page.status);
            assert_eq!(page.status, 200, "{suffix}");
        }
        let index = self.public_pages.get("/").await;
        assert_eq!(index.status, 200);
        let secretary = [
            "/espace",
            "/registre",
            "/registre/ago-2025",
            "/journal",
            "/verification",
            "/secretariat",
            "/assemblees/ago-2025",
        ];
        for suffix in secretary {
            let page = self.secretary_pages.get(&farm(suffix)).await;
            assert_eq!(page.status, 200, "{suffix}: {}", web::excerpt(&page.body));
        }
        let page = self.operator_pages.get(&farm("/exploitation")).await;
        assert_eq!(page.status, 200, "{}", web::excerpt(&page.body));
    }
}

fn revenue(report: &str, month: &str, volume: &str, price: &str) -> Value {
    json!({"report": report, "month": month, "kind": "market_sales",
           "volume_mwh": volume, "price_per_mwh": price, "corrects": null})
}

/// The case, and the bounds around it: two revenue lines of
/// 7 x 10^28 MWh in one month are refused (and so is a NUL in an agenda);
/// fifty lines at the bounds in one month are accepted, and every read
/// still answers, with the sums.
async fn figures_past_the_bounds_are_refused_and_every_read_still_answers(db: TestDatabase) {
    let server = Server::with_reference_farm(db).await;
    let mut readers = Readers::new(&server).await;
    let head = server.head().await;
    for i in 0..2 {
        server
            .post(
                "/financial-years/2025/revenue",
                &readers.operator,
                revenue(&format!("huge-{i}"), "2025-03", HUGE, "1"),
            )
            .await
            .problem(422, "validation");
    }
    server
        .post(
            "/meetings",
            &readers.secretary,
            json!({
                "meeting": "ago-2027", "kind": "ordinary_general_meeting",
                "call": {"call": "first"}, "record_date": "2026-12-01",
                "opens_at": "2026-12-02T08:00:00Z", "closes_at": "2026-12-03T08:00:00Z",
                "agenda": [{"decision_kind": "ordinary", "purpose": {"purpose": "general"},
                            "text": "Budget\u{0} =HYPERLINK(\"http://x\")"}],
                "members": [], "convened_on": "2026-11-10"
            }),
        )
        .await
        .problem(422, "validation")
        .detail_contains("agenda[0].text")
        .detail_contains("U+0000");
    assert_eq!(server.head().await, head, "nothing refused is recorded");

    // The pages say it in French, at the field or the column.
    let page = readers
        .operator_pages
        .get(&farm("/exploitation"))
        .await
        .expect(200);
    let revenue_form = web::with(
        &page.form(&farm("/exploitation/recette")),
        &[
            ("exercice", "2025"),
            ("mois", "2025-03"),
            ("nature", "market_sales"),
            ("volume", HUGE),
            ("prix", "1"),
        ],
    );
    readers
        .operator_pages
        .post(&farm("/exploitation/recette"), &revenue_form)
        .await
        .expect(422)
        .contains("Une déclaration compte au plus 10 000 000 MWh.");
    let upload = web::with(
        &page.form(&farm("/exploitation/import")),
        &[("exercice", "2025")],
    );
    let file = format!(
        "type,month,kind,volume_mwh,price_per_mwh,report\n\
         revenue,2025-03,market_sales,{HUGE},1,\n\
         revenue,2025-03,market_sales,1,1,r-\u{202e}1\n"
    );
    readers
        .operator_pages
        .post_file(&farm("/exploitation/import"), &upload, "releve.csv", &file)
        .await
        .expect(422)
        .contains("contient 2 erreurs")
        .contains("<code>volume_mwh</code>")
        .contains("caractère de contrôle");
    let convene = readers
        .secretary_pages
        .get(&farm("/secretariat"))
        .await
        .expect(200)
        .form(&farm("/secretariat/assemblees"));
    let today = Utc::now().date_naive();
    let yesterday = (today - Duration::days(1)).to_string();
    // The charter's notice: 15 days from the convocation to the opening.
    let convened = (today - Duration::days(20)).to_string();
    let fields = [
        ("assemblee", "ago-bidi"),
        ("nature", "ordinary_general_meeting"),
        ("date_convocation", convened.as_str()),
        ("date_enregistrement", yesterday.as_str()),
        ("ouverture", &format!("{today}T02:00")),
        ("cloture", &format!("{}T18:00", today + Duration::days(10))),
        ("r1_texte", "Vote pour\u{202e}erutluc"),
        ("r1_decision", "ordinary"),
        ("r1_objet", "general"),
    ];
    readers
        .secretary_pages
        .post(
            &farm("/secretariat/assemblees"),
            &web::with(&convene, &fields),
        )
        .await
        .expect(422)
        .contains("mise en forme bidirectionnelle");
    assert_eq!(server.head().await, head, "nothing refused is recorded");

    for i in 0..50 {
        server
            .post(
                "/financial-years/2025/revenue",
                &readers.operator,
                revenue(&format!("bound-{i}"), "2025-03", "10000000", "100000"),
            )
            .await
            .expect(201);
    }
    readers.check_every_read(200).await;
    let production = server.get("/production?year=2025", None).await.expect(200);
    let march = production.body[0]["revenue"]
        .as_array()
        .and_then(|r| r.iter().find(|l| l["month"] == "2025-03"))
        .cloned()
        .unwrap_or_default();
    // 50 x 10^12 EUR, plus what the farm made that month.
    let amount: Decimal = march["amount"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .unwrap_or_default();
    assert!(amount > Decimal::from(50_000_000_000_000i64), "{march}");
    server.stop().await;
}

/// Events a ledger may hold from before the bounds: two revenue lines of
/// 7 x 10^28 EUR in one month (each fits, their sum does not), recorded by
/// the domain itself as the server did then. The server verifies them
/// (the bounds are not rules of the history), serves every read without a
/// 5xx, answers a figures-out-of-range problem where it would add them,
/// says so on the pages, and takes the correction that mends it.
async fn a_ledger_recorded_before_the_bounds_verifies_and_reads(mut db: TestDatabase) {
    let ledger = copy_reference_farm(&mut db).await;
    let store = db.store().await;
    let meetings = LedgerEventStore::<Meeting>::new(store.clone(), ledger.clone());
    let years = LedgerEventStore::<FinancialYear>::new(store.clone(), ledger.clone());
    let year_cqrs = CqrsFramework::new(
        years.clone(),
        vec![],
        FinancialYearServices::new(
            SystemClock,
            MeetingResolutions { meetings },
            CompanyCapTables {
                store: store.clone(),
                ledger: ledger.clone(),
                company: LEDGER.to_owned(),
            },
            YearClosings { years },
        ),
    );
    for i in 1..=2 {
        year_cqrs
            .execute(
                "2025",
                FinancialYearCommand::RecordRevenue {
                    report: report(format!("old-huge-{i}")),
                    month: YearMonth::new(2025, 3).expect("a month"),
                    kind: RevenueKind::MarketSales,
                    volume_mwh: HUGE.parse().expect("a decimal"),
                    price_per_mwh: Decimal::ONE,
                    corrects: None,
                },
            )
            .await
            .expect("the domain recorded it before the bounds");
    }
    let server = Server::start(db, store).await;
    let mut readers = Readers::new(&server).await;
    readers.check_every_read(422).await;
    let problem = server
        .get("/production?year=2025", None)
        .await
        .problem(422, "figures-out-of-range");
    let detail = problem.body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("2025") && detail.contains("report old-huge-2"),
        "{detail}"
    );
    // The other years still read.
    server.get("/production?year=2024", None).await.expect(200);
    let ready = server
        .call(Method::GET, &server.url("/readyz"), None, None, None)
        .await;
    assert_eq!(ready.status.as_u16(), 200, "verified: {}", ready.body);
    for (pages, page) in [
        (&mut readers.public_pages, farm("")),
        (&mut readers.operator_pages, farm("/exploitation")),
    ] {
        pages
            .get(&page)
            .await
            .expect(200)
            .contains("ne peuvent pas être additionnés");
    }

    // A correction, within the bounds, mends the sums.
    server
        .post(
            "/financial-years/2025/revenue",
            &readers.operator,
            json!({"report": "old-huge-2-fixed", "month": "2025-03", "kind": "market_sales",
                   "volume_mwh": "1", "price_per_mwh": "1", "corrects": "old-huge-2"}),
        )
        .await
        .expect(201);
    readers.check_every_read(200).await;
    server.stop().await;
}

// ------------------------------------------------------------- property

/// Figures around the bounds and far past them, in the spellings a client
/// may send; `valid` most of the time, so that commands are also accepted
/// (up to their bound) and the reads add them.
fn figure(valid: impl Strategy<Value = String>) -> impl Strategy<Value = String> {
    prop_oneof![
        3 => valid,
        1 => prop::sample::select(vec![
            "0",
            "0.001",
            "10000000",
            "10000000.001",
            "100000",
            "-100000",
            "100000.01",
            "1000000000000",
            "-1000000000000",
            "1000000000000.01",
            HUGE,
            "-70000000000000000000000000000",
            "79228162514264337593543950335",
            "0.0000000000000000000000000001",
            "9.9999999999999999999999999999",
            "1e27",
            "-1e-28",
            "100.1",
        ])
        .prop_map(str::to_owned),
        1 => (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Decimal::new(m, s).to_string()),
    ]
}

/// `0..=max` with `decimals` decimals, up to the bound.
fn up_to(max: i64, decimals: u32) -> impl Strategy<Value = String> {
    let scale = 10i64.pow(decimals);
    (0..=max * scale).prop_map(move |m| Decimal::new(m, decimals).to_string())
}

fn mwh() -> impl Strategy<Value = String> {
    figure(up_to(10_000_000, 3))
}

fn price() -> impl Strategy<Value = String> {
    figure((-10_000_000i64..=10_000_000).prop_map(|m| Decimal::new(m, 2).to_string()))
}

fn euros() -> impl Strategy<Value = String> {
    figure(up_to(1_000_000_000_000, 2))
}

fn percent() -> impl Strategy<Value = String> {
    figure(up_to(100, 1))
}

/// One command a client may send with figures in it.
#[derive(Debug, Clone)]
enum Op {
    Revenue {
        year: i32,
        month: u32,
        volume: String,
        price: String,
    },
    Production {
        turbine: u8,
        month: u32,
        mwh: String,
        availability: String,
    },
    Cost {
        month: u32,
        amount: String,
        departement: bool,
    },
    LocalTax {
        amount: String,
    },
    Ifer {
        rate: String,
    },
    Advance {
        amount: String,
        rate: String,
        repaid: String,
        ceiling: String,
    },
    ApproveAccounts {
        net_result: String,
    },
    AppropriateResult {
        statutory: String,
        dividend: String,
    },
    DeclareDividend {
        per_share: bool,
        amount: String,
        income_tax: String,
        social: String,
    },
    Pay,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (prop_oneof![1 => Just(2025), 3 => Just(2026)], 1u32..=12, mwh(), price())
            .prop_map(|(year, month, volume, price)| Op::Revenue { year, month, volume, price }),
        2 => (1u8..=5, 1u32..=12, mwh(), percent()).prop_map(|(turbine, month, mwh, availability)| {
            Op::Production { turbine, month, mwh, availability }
        }),
        2 => (1u32..=12, euros(), any::<bool>())
            .prop_map(|(month, amount, departement)| Op::Cost { month, amount, departement }),
        1 => euros().prop_map(|amount| Op::LocalTax { amount }),
        1 => figure(up_to(10_000, 2)).prop_map(|rate| Op::Ifer { rate }),
        2 => (euros(), percent(), euros(), percent()).prop_map(|(amount, rate, repaid, ceiling)| {
            Op::Advance { amount, rate, repaid, ceiling }
        }),
        // The accounts are approved with a result at the bound before the
        // cases: this one is refused, past the bounds or as a second
        // approval.
        1 => euros().prop_map(|net_result| Op::ApproveAccounts { net_result }),
        1 => (
            prop_oneof![Just("0".to_owned()), euros()],
            figure(prop_oneof![Just("900000000000".to_owned()), up_to(1_000_000_000, 2)]),
        )
            .prop_map(|(statutory, dividend)| Op::AppropriateResult { statutory, dividend }),
        1 => (any::<bool>(), figure(up_to(1_000_000, 2)), percent(), percent()).prop_map(
            |(per_share, amount, income_tax, social)| Op::DeclareDividend {
                per_share,
                amount,
                income_tax,
                social,
            }
        ),
        1 => Just(Op::Pay),
    ]
}

/// Sends one operation; none may answer 5xx, and a figure past the bounds
/// is never recorded. Counts the answers by route and status.
async fn send(
    server: &Server,
    readers: &Readers<'_>,
    n: usize,
    op: &Op,
    answers: &RefCell<BTreeMap<(String, u16), usize>>,
) -> Result<(), String> {
    let id = format!("p{n}");
    let month = |year: i32, m: u32| format!("{year}-{m:02}");
    let (token, calls): (&str, Vec<(String, Value)>) = match op {
        Op::Revenue {
            year,
            month: m,
            volume,
            price,
        } => (
            &readers.operator,
            vec![(
                format!("/financial-years/{year}/revenue"),
                revenue(&id, &month(*year, *m), volume, price),
            )],
        ),
        Op::Production {
            turbine,
            month: m,
            mwh,
            availability,
        } => (
            &readers.operator,
            vec![(
                "/financial-years/2026/production-reports".to_owned(),
                json!({"report": id, "turbine": format!("T{turbine:02}"), "month": month(2026, *m),
                       "mwh": mwh, "availability": availability, "corrects": null}),
            )],
        ),
        Op::Cost {
            month: m,
            amount,
            departement,
        } => {
            let beneficiary = if *departement {
                json!({"beneficiary": "departement", "code": "42"})
            } else {
                json!({"beneficiary": "commune", "commune": "42026"})
            };
            (
                &readers.operator,
                vec![(
                    "/financial-years/2026/costs".to_owned(),
                    json!({"report": id, "month": month(2026, *m), "category": "land_rent",
                           "amount": amount, "beneficiary": beneficiary, "corrects": null}),
                )],
            )
        }
        Op::LocalTax { amount } => (
            &readers.operator,
            vec![(
                "/financial-years/2026/local-taxes".to_owned(),
                json!({"report": id, "tax": "cfe",
                       "beneficiary": {"beneficiary": "commune", "commune": "42026"},
                       "amount": amount, "corrects": null}),
            )],
        ),
        Op::Ifer { rate } => (
            &readers.operator,
            vec![(
                "/financial-years/2026/ifer".to_owned(),
                json!({"report": id, "tax_year": 2026, "rate_per_kw": rate, "epci": "732829320",
                       "epci_single_business_tax": true, "corrects": null}),
            )],
        ),
        Op::Advance {
            amount,
            rate,
            repaid,
            ceiling,
        } => (
            &readers.secretary,
            vec![
                (
                    "/advances".to_owned(),
                    json!({"advance": id, "holder": "cit-001", "amount": amount,
                           "annual_rate": rate, "granted_on": "2025-01-01"}),
                ),
                (
                    format!("/advances/{id}/interest"),
                    json!({"year": 2025, "rate_ceiling": ceiling, "accrued_on": "2026-01-05"}),
                ),
                (
                    format!("/advances/{id}/repayments"),
                    json!({"amount": repaid, "repaid_on": "2026-02-01"}),
                ),
            ],
        ),
        Op::ApproveAccounts { net_result } => (
            &readers.secretary,
            vec![(
                "/financial-years/2025/accounts-approval".to_owned(),
                json!({"resolution": "ago-2026.1", "net_result": net_result}),
            )],
        ),
        Op::AppropriateResult {
            statutory,
            dividend,
        } => (
            &readers.secretary,
            vec![(
                "/financial-years/2025/result-appropriation".to_owned(),
                json!({"resolution": "ago-2026.2", "statutory_reserves": statutory,
                       "dividend": dividend}),
            )],
        ),
        Op::Pay => (
            &readers.secretary,
            vec![(
                "/financial-years/2025/dividend-payments".to_owned(),
                json!({"holder": "cit-001", "paid_on": Utc::now().date_naive()}),
            )],
        ),
        Op::DeclareDividend {
            per_share,
            amount,
            income_tax,
            social,
        } => {
            let today = Utc::now().date_naive();
            (
                &readers.secretary,
                vec![(
                    "/financial-years/2025/dividends".to_owned(),
                    json!({"resolution": "ago-2026.2",
                           "amount": {"basis": if *per_share { "per_share" } else { "total" }, "amount": amount},
                           "record_date": today, "payment_date": today + Duration::days(30),
                           "withholding": {"income_tax": income_tax, "social_contributions": social}}),
                )],
            )
        }
    };
    for (path, body) in calls {
        let before = server.head().await;
        let r = server.post(&path, token, body.clone()).await;
        let status = r.status.as_u16();
        let route = path.rsplit('/').next().unwrap_or_default().to_owned();
        *answers.borrow_mut().entry((route, status)).or_default() += 1;
        if status >= 500 {
            return Err(format!("POST {path} {body}: {status} {}", r.body));
        }
        if status == 201 {
            let command = accepted_command(&path, &body);
            if let Err(e) = command {
                return Err(format!(
                    "POST {path} {body} was accepted past the bounds: {e}"
                ));
            }
        } else if server.head().await != before {
            return Err(format!(
                "POST {path} {body} was refused ({status}) but wrote"
            ));
        }
    }
    Ok(())
}

/// The command an accepted POST carried, checked against the bounds the
/// server claims to hold (`Err` if it was past them).
fn accepted_command(path: &str, body: &Value) -> Result<(), String> {
    let (tag, stream) = match path.rsplit('/').next().unwrap_or("") {
        "revenue" => ("record_revenue", "year"),
        "production-reports" => ("report_production", "year"),
        "costs" => ("record_cost", "year"),
        "local-taxes" => ("record_local_tax", "year"),
        "ifer" => ("assess_ifer", "year"),
        "accounts-approval" => ("approve_accounts", "year"),
        "result-appropriation" => ("appropriate_result", "year"),
        "dividends" => ("declare_dividend", "year"),
        "dividend-payments" => ("record_dividend_payment", "year"),
        "advances" => ("grant", "advance"),
        "interest" => ("accrue_interest", "advance"),
        "repayments" => ("repay", "advance"),
        other => return Err(format!("no command for {other}")),
    };
    let mut value = body.clone();
    value["command"] = json!(tag);
    if stream == "year" {
        serde_json::from_value::<FinancialYearCommand>(value)
            .map_err(|e| e.to_string())
            .and_then(|c| c.check_input().map_err(|e| e.to_string()))
    } else {
        serde_json::from_value::<windledger_domain::finance::AdvanceCommand>(value)
            .map_err(|e| e.to_string())
            .and_then(|c| c.check_input().map_err(|e| e.to_string()))
    }
}

/// Convenes `ago-2026` to approve the 2025 accounts and appropriate the
/// result (an ordinary meeting whose window ends in a few seconds), votes
/// for with holders of more than half of the votes, and closes it: the
/// money side of 2025 can then be closed.
async fn adopt_the_2025_accounts(server: &Server, secretary: &str) {
    let now = Utc::now();
    let today = now.date_naive();
    let closes_at = now + Duration::seconds(4);
    server
        .post(
            "/meetings",
            secretary,
            json!({
                "meeting": "ago-2026", "kind": "ordinary_general_meeting",
                "call": {"call": "first"}, "record_date": today - Duration::days(1),
                "opens_at": today.and_hms_opt(0, 0, 0).expect("midnight").and_utc(),
                "closes_at": closes_at,
                "agenda": [
                    {"decision_kind": "ordinary", "purpose": {"purpose": "accounts_approval", "year": 2025},
                     "text": "Approbation des comptes 2025"},
                    {"decision_kind": "ordinary", "purpose": {"purpose": "result_appropriation", "year": 2025},
                     "text": "Affectation du résultat 2025"}
                ],
                "members": [], "convened_on": today - Duration::days(15)
            }),
        )
        .await
        .expect(201);
    server
        .post("/meetings/ago-2026/voting", secretary, json!({}))
        .await
        .expect(201);
    let meeting = server
        .get("/meetings/ago-2026", Some(secretary))
        .await
        .expect(200);
    let mut voters: Vec<(String, u64)> = meeting.body["roll"]["roll"]["voters"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|v| {
                    (
                        v["holder"].as_str().unwrap_or_default().to_owned(),
                        v["weight"].as_u64().unwrap_or_default(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let total: u64 = voters.iter().map(|v| v.1).sum();
    assert!(total > 0, "a roll: {}", meeting.body);
    voters.sort_by_key(|v| std::cmp::Reverse(v.1));
    let mut present = 0;
    for (holder, weight) in voters {
        if present * 2 > total {
            break;
        }
        server
            .post(
                "/meetings/ago-2026/ballots",
                secretary,
                json!({"voter": holder, "cast_by": holder,
                       "choices": {"ago-2026.1": "for", "ago-2026.2": "for"}}),
            )
            .await
            .expect(201);
        present += weight;
    }
    let wait = (closes_at - Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + std::time::Duration::from_millis(200)).await;
    server
        .post("/meetings/ago-2026/close", secretary, json!({}))
        .await
        .expect(201);
}

/// Some thirty random batches of commands with figures near and past the
/// bounds, on one server (the ledger grows from one batch to the next):
/// after each, every read route and page answers, and the routes that add
/// figures answer 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_accepted_command_makes_a_read_answer_5xx() {
    let db = TestDatabase::new(Backend::Sqlite)
        .await
        .expect("SQLite is always available");
    let server = Arc::new(Server::with_reference_farm(db).await);
    let secretary = server.token(LEDGER, Role::Secretary, None).await;
    server
        .post(
            "/financial-years",
            &secretary,
            json!({"year": 2026, "starts_on": "2026-01-01", "ends_on": "2026-12-31",
                   "opening_balances": null}),
        )
        .await
        .expect(201);
    adopt_the_2025_accounts(&server, &secretary).await;
    // A result at the bound: the dividend path is then open to the cases.
    server
        .post(
            "/financial-years/2025/accounts-approval",
            &secretary,
            json!({"resolution": "ago-2026.1", "net_result": "1000000000000"}),
        )
        .await
        .expect(201);
    let mut readers = Readers::new(&server).await;
    readers.check_every_read(200).await;

    // The seed is printed, and WINDLEDGER_BOUNDS_SEED replays it.
    let seed: u64 = std::env::var("WINDLEDGER_BOUNDS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand_seed);
    println!("http_bounds seed: {seed} (WINDLEDGER_BOUNDS_SEED={seed} replays it)");
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 30,
            // Cases share one server: shrinking replays a batch on a ledger
            // that already holds the earlier ones, where it must hold too.
            max_shrink_iters: 20,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    );
    let handle = tokio::runtime::Handle::current();
    let counter = Cell::new(0usize);
    let answers = RefCell::new(BTreeMap::new());
    let readers = tokio::sync::Mutex::new(readers);
    let result = tokio::task::block_in_place(|| {
        runner.run(&prop::collection::vec(op(), 1..=6), |ops| {
            handle.block_on(async {
                let mut readers = readers.lock().await;
                for op in &ops {
                    counter.set(counter.get() + 1);
                    send(&server, &readers, counter.get(), op, &answers)
                        .await
                        .map_err(TestCaseError::fail)?;
                }
                readers.check_every_read(200).await;
                Ok(())
            })
        })
    });
    if let Err(e) = result {
        panic!("seed {seed}: {e}");
    }
    let answers = answers.into_inner();
    println!("answers by route and status: {answers:?}");
    // Not vacuous: figures within the bounds were recorded, and added up
    // by the reads after them.
    let accepted = |route: &str| answers.get(&(route.to_owned(), 201)).copied().unwrap_or(0);
    assert!(
        accepted("revenue") > 0 && accepted("advances") > 0,
        "{answers:?}"
    );
    drop(readers);
    if let Ok(server) = Arc::try_unwrap(server) {
        server.stop().await;
    }
}

/// A seed from the clock: each run tries other cases.
fn rand_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    nanos as u64
}
