//! Every route of the router, called by every kind of caller, against the
//! access rule this test expects of it. The routes come from the router's
//! own table (`windledger_api::routes::routes`), and the test fails if one
//! of them is missing from the expectations below: a new route cannot be
//! added without deciding who may call it.

use std::collections::BTreeSet;

use crate::server::{LEDGER, Server};
use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};
use windledger_api::auth::Role;
use windledger_api::routes::routes;
use windledger_store::StoredToken;

windledger_store::on_both_backends!(every_route_answers_every_caller_by_its_rule);

/// Who may call a route, as this test expects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Public,
    Only(&'static [Role]),
    /// These roles, or a shareholder token for the path's holder.
    OrSelf(&'static [Role]),
    /// These roles, or a shareholder or municipality token with a holder.
    OrOwnHolder(&'static [Role]),
    /// These roles, or a resident token (acting for itself).
    OrOwnResident(&'static [Role]),
    /// These roles, or a resident token for the path's resident.
    OrSelfResident(&'static [Role]),
}

use Role::{Municipality, Operator, Secretary, Shareholder};

/// A caller of each role, with whom it acts for where the role needs one.
const ROLES: [(Role, Option<&str>); 5] = [
    (Secretary, None),
    (Municipality, Some("ccmp")),
    (Operator, None),
    (Shareholder, Some("cit-001")),
    (Role::Resident, Some("hab-001")),
];

/// The routes under each rule: (method, rule, path suffixes).
const EXPECTED: &[(&str, Rule, &[&str])] = &[
    (
        "GET",
        Rule::Public,
        &[
            // Outside every ledger: the farms served.
            "/api/v1/ledgers",
            "/company",
            "/parties",
            "/meetings",
            "/decisions",
            "/production",
            "/local-returns",
            "/checkpoint",
            "/tlog/checkpoint",
            "/tlog/witnesses",
            "/tlog/tile/{*path}",
            "/proofs/inclusion",
            "/receipts/{position}",
            "/proofs/consistency",
            "/territory-fund",
            "/budgeting-rounds/{round}",
        ],
    ),
    (
        "GET",
        Rule::Only(&[Secretary, Municipality, Shareholder]),
        &["/cap-table", "/meetings/{meeting}"],
    ),
    (
        "GET",
        Rule::Only(&[Secretary, Municipality]),
        &[
            "/holders",
            "/decisions-register",
            "/events",
            "/ocf",
            "/share-register.pdf",
            "/share-register.csv",
            "/meetings/{meeting}/attendance.pdf",
            "/meetings/{meeting}/minutes.pdf",
        ],
    ),
    (
        "GET",
        Rule::OrSelf(&[Secretary, Municipality]),
        &["/holders/{holder}", "/holders/{holder}/statement"],
    ),
    (
        "GET",
        Rule::OrSelf(&[Secretary]),
        &[
            "/holders/{holder}/account.pdf",
            "/holders/{holder}/certificate.pdf",
            "/holders/{holder}/identity",
            "/holders/{holder}/identity/export",
            "/meetings/{meeting}/holders/{holder}/postal-form.pdf",
            "/holders/{holder}/ifu.pdf",
        ],
    ),
    (
        "GET",
        Rule::Only(&[Secretary]),
        &[
            "/meetings/{meeting}/postal-forms.pdf",
            "/meetings/{meeting}/convocations/letters.pdf",
            "/meetings/{meeting}/convocations/letters.csv",
            "/financial-years/{year}/dividend/payments",
            "/financial-years/{year}/dividend/credit-transfers.xml",
            "/advance-interest/{year}/credit-transfers.xml",
            "/tax/withholding-returns.csv",
            "/tax/withholding-returns.pdf",
            "/tax/ifu.csv",
            "/tax/ifu.pdf",
        ],
    ),
    (
        "POST",
        Rule::OrSelf(&[Secretary]),
        &["/holders/{holder}/identity"],
    ),
    (
        "POST",
        Rule::Only(&[Secretary]),
        &[
            "/company",
            "/charter-amendments",
            "/shareholders",
            "/shareholders/{holder}/college-changes",
            "/shareholders/{holder}/residence-changes",
            "/shareholders/{holder}/club-members",
            "/shareholders/{holder}/exit",
            "/share-issuances",
            "/share-transfers",
            "/share-repurchases",
            "/share-cancellations",
            "/turbines",
            "/turbine-commissionings",
            "/turbine-repowerings",
            "/turbine-decommissionings",
            "/place-names",
            "/holders/{holder}/identity/erasure",
            "/meetings",
            "/meetings/{meeting}/voting",
            "/meetings/{meeting}/postal-ballots",
            "/meetings/{meeting}/paper-proxies",
            "/meetings/{meeting}/convocations",
            "/meetings/{meeting}/convocations/emails",
            "/meetings/{meeting}/convocations/letters-posted",
            "/meetings/{meeting}/minutes",
            "/meetings/{meeting}/bureau",
            "/meetings/{meeting}/close",
            "/financial-years",
            "/financial-years/{year}/accounts-approval",
            "/financial-years/{year}/result-appropriation",
            "/financial-years/{year}/dividends",
            "/financial-years/{year}/dividend-payments",
            "/financial-years/{year}/withholding-decisions",
            "/financial-years/{year}/dividend/bank-statements",
            "/advances",
            "/advances/{advance}/repayments",
            "/advances/{advance}/interest",
            "/advances/{advance}/withholding-decisions",
            "/advances/{advance}/interest-payments",
            "/advance-repayments/credit-transfers.xml",
            "/bank-statements",
            "/territory-fund/feeds",
            "/territory-fund/grants",
            "/territory-fund/payments",
        ],
    ),
    (
        "POST",
        Rule::Only(&[Municipality]),
        &[
            "/territory-fund/residents",
            "/territory-fund/resident-moves",
            "/territory-fund/resident-removals",
            "/territory-fund/commitments",
            "/budgeting-rounds",
            "/budgeting-rounds/{round}/reviews",
            "/budgeting-rounds/{round}/tally",
        ],
    ),
    (
        "GET",
        Rule::OrSelfResident(&[Municipality]),
        &[
            "/territory-fund/residents/{resident}/identity",
            "/territory-fund/residents/{resident}/identity/export",
        ],
    ),
    (
        "POST",
        Rule::Only(&[Municipality]),
        &["/territory-fund/residents/{resident}/identity"],
    ),
    (
        "POST",
        Rule::OrOwnResident(&[Municipality]),
        &[
            "/budgeting-rounds/{round}/proposals",
            "/budgeting-rounds/{round}/ballots",
        ],
    ),
    (
        "POST",
        Rule::OrOwnHolder(&[Secretary]),
        &[
            "/meetings/{meeting}/proxies",
            "/meetings/{meeting}/proxy-revocations",
            "/meetings/{meeting}/ballots",
            "/meetings/{meeting}/minutes/signatures",
        ],
    ),
    (
        "POST",
        Rule::Only(&[Operator]),
        &[
            "/financial-years/{year}/production-reports",
            "/financial-years/{year}/revenue",
            "/financial-years/{year}/costs",
            "/financial-years/{year}/ifer",
            "/financial-years/{year}/local-taxes",
        ],
    ),
];

const PREFIX: &str = "/api/v1/ledgers/{ledger}";

/// A caller of the matrix.
#[derive(Debug, Clone)]
enum Who {
    Anonymous,
    Role(Role, String),
    /// Expired, revoked, forged, or of another ledger: the status expected
    /// on every route.
    Bad(&'static str, String, u16),
}

impl Who {
    fn describe(&self) -> String {
        match self {
            Who::Anonymous => "anonymous".to_owned(),
            Who::Role(role, _) => format!("a {role} token"),
            Who::Bad(what, _, _) => format!("an {what} token"),
        }
    }
}

/// A token stored as expired (the CLI refuses to issue one).
async fn expired_token(server: &Server) -> String {
    let (id, secret) = ("0123456789ab", "cd".repeat(32));
    let now = Utc::now();
    server
        .store
        .insert_token(&StoredToken {
            token_id: id.to_owned(),
            secret_hash: Sha256::digest(secret.as_bytes()).into(),
            ledger: LEDGER.to_owned(),
            role: "secretary".to_owned(),
            holder: None,
            label: "expired".to_owned(),
            created_at: now - Duration::days(2),
            expires_at: Some(now - Duration::days(1)),
            revoked_at: None,
        })
        .await
        .expect("a stored token");
    format!("wl_{id}_{secret}")
}

async fn every_route_answers_every_caller_by_its_rule(db: windledger_store::testing::TestDatabase) {
    let server = Server::with_reference_farm(db).await;

    // The table covers exactly the router's routes.
    let served: BTreeSet<(String, String)> = routes()
        .iter()
        .map(|r| {
            let suffix = r.path.strip_prefix(PREFIX).unwrap_or(r.path);
            (r.method.to_string(), suffix.to_owned())
        })
        .collect();
    let expected: BTreeSet<(String, String)> = EXPECTED
        .iter()
        .flat_map(|(m, _, paths)| paths.iter().map(|p| ((*m).to_owned(), (*p).to_owned())))
        .collect();
    assert_eq!(
        served.difference(&expected).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "routes without an expected rule: add them to EXPECTED"
    );
    assert_eq!(
        expected.difference(&served).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "expected routes the router does not serve"
    );

    let revoked = server.token(LEDGER, Role::Secretary, None).await;
    let revoked_id = revoked.split('_').nth(1).expect("an id").to_owned();
    assert!(
        server
            .store
            .revoke_token(&revoked_id, Utc::now())
            .await
            .expect("revocation")
    );
    let mut callers = vec![
        Who::Anonymous,
        Who::Bad("expired", expired_token(&server).await, 401),
        Who::Bad("revoked", revoked, 401),
        Who::Bad(
            "another ledger's",
            server.token("another-farm", Role::Secretary, None).await,
            403,
        ),
        Who::Bad("malformed", "wl_not-a-token".to_owned(), 401),
        Who::Bad(
            "forged",
            format!("wl_{}_{}", revoked_id, "00".repeat(32)),
            401,
        ),
    ];
    for (role, holder) in ROLES {
        callers.push(Who::Role(role, server.token(LEDGER, role, holder).await));
    }

    let head = server.head().await;
    let mut checked = 0;
    let expected = EXPECTED
        .iter()
        .flat_map(|(method, rule, paths)| paths.iter().map(move |suffix| (method, suffix, rule)));
    for (method, suffix, rule) in expected {
        // The holder of the path: the shareholder's own, then another.
        let holders: &[&str] = if suffix.contains("{holder}") {
            &["cit-001", "cit-002"]
        } else if suffix.contains("{resident}") {
            &["hab-001", "hab-002"]
        } else {
            &["-"]
        };
        for holder in holders {
            let path = suffix
                .replace("{holder}", holder)
                .replace("{meeting}", "ago-2025")
                .replace("{year}", "2025")
                .replace("{advance}", "cca-partenaire-2020")
                .replace("{round}", "fonds-2026")
                .replace("{resident}", holder);
            // A route outside every ledger is named whole.
            let outside = suffix.starts_with("/api/");
            let url = if outside {
                server.url(&path)
            } else {
                server.api(&path)
            };
            let method: Method = method.parse().expect("a method");
            for who in &callers {
                let (token, expected): (Option<&str>, Box<dyn Fn(u16) -> bool>) = match who {
                    Who::Anonymous => match rule {
                        Rule::Public => (None, Box::new(|s| s != 401 && s != 403)),
                        _ => (None, Box::new(|s| s == 401)),
                    },
                    // Another ledger's token is valid outside every ledger.
                    Who::Bad("another ledger's", token, _) if outside => {
                        (Some(token.as_str()), Box::new(|s| s != 401 && s != 403))
                    }
                    Who::Bad(_, token, status) => {
                        let status = *status;
                        (Some(token.as_str()), Box::new(move |s| s == status))
                    }
                    Who::Role(role, token) => {
                        let allowed = match rule {
                            Rule::Public => true,
                            Rule::Only(roles) => roles.contains(role),
                            Rule::OrSelf(roles) => {
                                roles.contains(role)
                                    || (*role == Role::Shareholder && *holder == "cit-001")
                            }
                            Rule::OrOwnHolder(roles) => {
                                roles.contains(role)
                                    || matches!(role, Role::Shareholder | Role::Municipality)
                            }
                            Rule::OrOwnResident(roles) => {
                                roles.contains(role) || *role == Role::Resident
                            }
                            Rule::OrSelfResident(roles) => {
                                roles.contains(role)
                                    || (*role == Role::Resident && *holder == "hab-001")
                            }
                        };
                        if allowed {
                            (Some(token.as_str()), Box::new(|s| s != 401 && s != 403))
                        } else {
                            (Some(token.as_str()), Box::new(|s| s == 403))
                        }
                    }
                };
                let body = (method == Method::POST).then(|| json!({}));
                let response = server
                    .call(method.clone(), &url, token, body.as_ref(), None)
                    .await;
                let status = response.status.as_u16();
                assert!(
                    expected(status),
                    "{method} {path} by {}: got {status} {}",
                    who.describe(),
                    response.body
                );
                assert!(status < 500, "{method} {path}: {status} {}", response.body);
                if status >= 400 {
                    assert_eq!(
                        response.content_type,
                        "application/problem+json",
                        "{method} {path} by {}",
                        who.describe()
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 400, "{checked} calls checked");
    assert_eq!(
        server.head().await,
        head,
        "none of these calls wrote anything"
    );
    server.stop().await;
}
