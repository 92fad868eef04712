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
}

use Role::{Municipality, Operator, Secretary, Shareholder};

const EXPECTED: &[(&str, &str, Rule)] = &[
    ("GET", "/company", Rule::Public),
    ("GET", "/parties", Rule::Public),
    (
        "GET",
        "/cap-table",
        Rule::Only(&[Secretary, Municipality, Shareholder]),
    ),
    ("GET", "/holders", Rule::Only(&[Secretary, Municipality])),
    (
        "GET",
        "/holders/{holder}",
        Rule::OrSelf(&[Secretary, Municipality]),
    ),
    (
        "GET",
        "/holders/{holder}/statement",
        Rule::OrSelf(&[Secretary, Municipality]),
    ),
    (
        "GET",
        "/holders/{holder}/identity",
        Rule::OrSelf(&[Secretary]),
    ),
    (
        "GET",
        "/holders/{holder}/identity/export",
        Rule::OrSelf(&[Secretary]),
    ),
    (
        "POST",
        "/holders/{holder}/identity",
        Rule::OrSelf(&[Secretary]),
    ),
    (
        "POST",
        "/holders/{holder}/identity/erasure",
        Rule::Only(&[Secretary]),
    ),
    ("GET", "/meetings", Rule::Public),
    (
        "GET",
        "/meetings/{meeting}",
        Rule::Only(&[Secretary, Municipality, Shareholder]),
    ),
    ("GET", "/decisions", Rule::Public),
    (
        "GET",
        "/decisions-register",
        Rule::Only(&[Secretary, Municipality]),
    ),
    ("GET", "/production", Rule::Public),
    ("GET", "/local-returns", Rule::Public),
    ("GET", "/events", Rule::Only(&[Secretary, Municipality])),
    ("GET", "/checkpoint", Rule::Public),
    ("GET", "/ocf", Rule::Only(&[Secretary, Municipality])),
    ("POST", "/company", Rule::Only(&[Secretary])),
    ("POST", "/charter-amendments", Rule::Only(&[Secretary])),
    ("POST", "/shareholders", Rule::Only(&[Secretary])),
    (
        "POST",
        "/shareholders/{holder}/college-changes",
        Rule::Only(&[Secretary]),
    ),
    (
        "POST",
        "/shareholders/{holder}/residence-changes",
        Rule::Only(&[Secretary]),
    ),
    (
        "POST",
        "/shareholders/{holder}/exit",
        Rule::Only(&[Secretary]),
    ),
    ("POST", "/share-issuances", Rule::Only(&[Secretary])),
    ("POST", "/share-transfers", Rule::Only(&[Secretary])),
    ("POST", "/share-repurchases", Rule::Only(&[Secretary])),
    ("POST", "/share-cancellations", Rule::Only(&[Secretary])),
    ("POST", "/place-names", Rule::Only(&[Secretary])),
    ("POST", "/meetings", Rule::Only(&[Secretary])),
    (
        "POST",
        "/meetings/{meeting}/voting",
        Rule::Only(&[Secretary]),
    ),
    (
        "POST",
        "/meetings/{meeting}/proxies",
        Rule::OrOwnHolder(&[Secretary]),
    ),
    (
        "POST",
        "/meetings/{meeting}/proxy-revocations",
        Rule::OrOwnHolder(&[Secretary]),
    ),
    (
        "POST",
        "/meetings/{meeting}/ballots",
        Rule::OrOwnHolder(&[Secretary]),
    ),
    (
        "POST",
        "/meetings/{meeting}/postal-ballots",
        Rule::Only(&[Secretary]),
    ),
    (
        "POST",
        "/meetings/{meeting}/close",
        Rule::Only(&[Secretary]),
    ),
    ("POST", "/financial-years", Rule::Only(&[Secretary])),
    (
        "POST",
        "/financial-years/{year}/production-reports",
        Rule::Only(&[Operator]),
    ),
    (
        "POST",
        "/financial-years/{year}/revenue",
        Rule::Only(&[Operator]),
    ),
    (
        "POST",
        "/financial-years/{year}/costs",
        Rule::Only(&[Operator]),
    ),
    (
        "POST",
        "/financial-years/{year}/ifer",
        Rule::Only(&[Operator]),
    ),
    (
        "POST",
        "/financial-years/{year}/local-taxes",
        Rule::Only(&[Operator]),
    ),
    (
        "POST",
        "/financial-years/{year}/accounts-approval",
        Rule::Only(&[Secretary]),
    ),
    (
        "POST",
        "/financial-years/{year}/result-appropriation",
        Rule::Only(&[Secretary]),
    ),
    (
        "POST",
        "/financial-years/{year}/dividends",
        Rule::Only(&[Secretary]),
    ),
    (
        "POST",
        "/financial-years/{year}/dividend-payments",
        Rule::Only(&[Secretary]),
    ),
    ("POST", "/advances", Rule::Only(&[Secretary])),
    (
        "POST",
        "/advances/{advance}/repayments",
        Rule::Only(&[Secretary]),
    ),
    (
        "POST",
        "/advances/{advance}/interest",
        Rule::Only(&[Secretary]),
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
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
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
    for (role, holder) in [
        (Role::Secretary, None),
        (Role::Municipality, Some("ccmp")),
        (Role::Operator, None),
        (Role::Shareholder, Some("cit-001")),
    ] {
        callers.push(Who::Role(role, server.token(LEDGER, role, holder).await));
    }

    let head = server.head().await;
    let mut checked = 0;
    for (method, suffix, rule) in EXPECTED {
        // The holder of the path: the shareholder's own, then another.
        let holders: &[&str] = if suffix.contains("{holder}") {
            &["cit-001", "cit-002"]
        } else {
            &["-"]
        };
        for holder in holders {
            let path = suffix
                .replace("{holder}", holder)
                .replace("{meeting}", "ago-2025")
                .replace("{year}", "2025")
                .replace("{advance}", "cca-partenaire-2020");
            let url = server.api(&path);
            let method: Method = method.parse().expect("a method");
            for who in &callers {
                let (token, expected): (Option<&str>, Box<dyn Fn(u16) -> bool>) = match who {
                    Who::Anonymous => match rule {
                        Rule::Public => (None, Box::new(|s| s != 401 && s != 403)),
                        _ => (None, Box::new(|s| s == 401)),
                    },
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
