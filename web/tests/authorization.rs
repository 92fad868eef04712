//! Every page route of the table (`windledger_web::routes::routes`), GET
//! and POST, asked by every kind of visitor, against the access rule this
//! test expects of it. The pages' router is built from that table and
//! nothing else, and the test fails if a route of the table is missing
//! from the expectations below: a page cannot be added without deciding
//! who may see it, and a rule other than the one expected (or none: a
//! public rule) lets in someone it should not, which fails here.
//!
//! In process (no socket): the API's and the pages' routers over a SQLite
//! test database with the reference farm imported; sessions are made by
//! posting the sign-in form, as a browser does.

use std::collections::BTreeSet;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tower::ServiceExt;
use windledger_api::AppState;
use windledger_api::auth::{self, Role};
use windledger_app::import::import_reference_ledger;
use windledger_app::people::Vault;
use windledger_domain::types::HolderId;
use windledger_store::testing::TestDatabase;
use windledger_store::{CheckpointSigner, LedgerId};
use windledger_vault::MasterKey;
use windledger_web::routes::routes;

use windledger_fixtures::reference::LEDGER;
const OTHER_LEDGER: &str = "autre-parc";
/// A meeting of the reference farm, closed, in which `VOTER` voted.
const MEETING: &str = "ago-2025";
const VOTER: &str = "cit-001";
/// The resident the matrix's resident token acts for.
const RESIDENT: &str = "hab-001";

/// Who may ask for a page, as this test expects it.
#[derive(Debug, Clone, Copy)]
enum Rule {
    Public,
    Only(&'static [Role]),
    /// A shareholder or the municipality whose token acts for a holder.
    OwnHolder,
    /// The secretary, the municipality, or the ballot's own voter.
    AuditorsOrVoter,
    /// The secretary, or the shareholder the path's `{holder}` is.
    SecretaryOrSelf,
    /// The municipality, or the resident the path's `{resident}` is.
    MunicipalityOrSelf,
}

use Role::{Municipality, Operator, Resident, Secretary, Shareholder};

const AUDITORS: Rule = Rule::Only(&[Secretary, Municipality]);
const MEMBERS: Rule = Rule::Only(&[Secretary, Municipality, Shareholder]);

/// The page routes under each rule: (method, rule, paths).
const EXPECTED: &[(&str, Rule, &[&str])] = &[
    (
        "GET",
        Rule::Public,
        &[
            "/",
            "/style.css",
            "/verifier-recu",
            "/verifier-recu.js",
            "/connexion",
            "/parcs/{ledger}",
            "/parcs/{ledger}/retombees",
            "/parcs/{ledger}/point-de-controle",
            "/parcs/{ledger}/fonds-de-territoire",
            "/parcs/{ledger}/fonds-de-territoire/{round}",
        ],
    ),
    ("POST", Rule::Public, &["/connexion", "/deconnexion"]),
    (
        "GET",
        Rule::Only(&[Secretary, Municipality, Operator, Shareholder, Resident]),
        &["/parcs/{ledger}/espace"],
    ),
    (
        "POST",
        Rule::Only(&[Resident]),
        &[
            "/parcs/{ledger}/fonds-de-territoire/{round}/projet",
            "/parcs/{ledger}/fonds-de-territoire/{round}/vote",
        ],
    ),
    (
        "POST",
        Rule::Only(&[Municipality]),
        &[
            "/parcs/{ledger}/fonds-de-territoire/{round}/examen",
            "/parcs/{ledger}/fonds-de-territoire/{round}/depouillement",
            "/parcs/{ledger}/fonds-de-territoire/{round}/engagement",
            "/parcs/{ledger}/gestion-du-fonds/habitants",
            "/parcs/{ledger}/gestion-du-fonds/budgets",
            "/parcs/{ledger}/habitants/{resident}",
        ],
    ),
    (
        "GET",
        Rule::MunicipalityOrSelf,
        &[
            "/parcs/{ledger}/habitants/{resident}",
            "/parcs/{ledger}/habitants/{resident}/identite.json",
        ],
    ),
    (
        "GET",
        MEMBERS,
        &[
            "/parcs/{ledger}/assemblees/{meeting}",
            // The handler answers the visitor's own form, or a 404.
            "/parcs/{ledger}/assemblees/{meeting}/formulaire.pdf",
            // The roll and its receipt (404 before the vote opens).
            "/parcs/{ledger}/assemblees/{meeting}/liste/recu.json",
            // Likewise the visitor's own IFU.
            "/parcs/{ledger}/espace/ifu/{year}",
        ],
    ),
    (
        "POST",
        Rule::OwnHolder,
        &[
            "/parcs/{ledger}/assemblees/{meeting}/vote",
            "/parcs/{ledger}/assemblees/{meeting}/procuration",
            "/parcs/{ledger}/assemblees/{meeting}/revocation",
        ],
    ),
    (
        "GET",
        Rule::AuditorsOrVoter,
        &[
            "/parcs/{ledger}/assemblees/{meeting}/recus/{position}",
            "/parcs/{ledger}/assemblees/{meeting}/recus/{position}/recu.json",
            "/parcs/{ledger}/recus/{position}",
            "/parcs/{ledger}/recus/{position}/recu.json",
        ],
    ),
    (
        "GET",
        AUDITORS,
        &[
            "/parcs/{ledger}/registre",
            "/parcs/{ledger}/registre.csv",
            "/parcs/{ledger}/registre/{meeting}",
            "/parcs/{ledger}/registre/{meeting}/feuille-de-presence.pdf",
            "/parcs/{ledger}/registre/{meeting}/proces-verbal.pdf",
            "/parcs/{ledger}/journal",
            "/parcs/{ledger}/verification",
            "/parcs/{ledger}/gestion-du-fonds",
        ],
    ),
    ("POST", AUDITORS, &["/parcs/{ledger}/verification"]),
    (
        "GET",
        Rule::Only(&[Operator]),
        &["/parcs/{ledger}/exploitation"],
    ),
    (
        "POST",
        Rule::Only(&[Operator]),
        &[
            "/parcs/{ledger}/exploitation/production",
            "/parcs/{ledger}/exploitation/recette",
            "/parcs/{ledger}/exploitation/import",
        ],
    ),
    (
        "GET",
        Rule::SecretaryOrSelf,
        &[
            "/parcs/{ledger}/associes/{holder}/identite",
            "/parcs/{ledger}/associes/{holder}/identite.json",
        ],
    ),
    (
        "POST",
        Rule::SecretaryOrSelf,
        &["/parcs/{ledger}/associes/{holder}/identite"],
    ),
    (
        "GET",
        Rule::Only(&[Secretary]),
        &[
            "/parcs/{ledger}/secretariat",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/convocations.pdf",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/convocations.csv",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/formulaires.pdf",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/feuille-de-presence.pdf",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/proces-verbal.pdf",
            "/parcs/{ledger}/secretariat/dividendes/{year}",
            "/parcs/{ledger}/secretariat/dividendes/{year}/virements.xml",
            "/parcs/{ledger}/secretariat/avances",
            "/parcs/{ledger}/secretariat/avances/interets.xml",
            "/parcs/{ledger}/secretariat/avances/remboursement.xml",
            "/parcs/{ledger}/secretariat/eoliennes",
        ],
    ),
    (
        "POST",
        Rule::Only(&[Secretary]),
        &[
            "/parcs/{ledger}/secretariat/associes",
            "/parcs/{ledger}/secretariat/cessions",
            "/parcs/{ledger}/secretariat/eoliennes",
            "/parcs/{ledger}/secretariat/assemblees",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/ouverture",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/cloture",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/convocations/courriels",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/convocations/lettres",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/correspondance",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/pouvoir-papier",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/bureau",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/proces-verbal",
            "/parcs/{ledger}/secretariat/assemblees/{meeting}/signature",
            "/parcs/{ledger}/secretariat/dividendes/{year}/releve",
            "/parcs/{ledger}/secretariat/avances/releve",
            "/parcs/{ledger}/gestion-du-fonds/alimentation",
            "/parcs/{ledger}/gestion-du-fonds/subventions",
            "/parcs/{ledger}/gestion-du-fonds/paiements",
        ],
    ),
];

/// Each route of [`EXPECTED`] with its rule: (method, path, rule).
fn expected_routes() -> impl Iterator<Item = (&'static str, &'static str, Rule)> {
    EXPECTED
        .iter()
        .flat_map(|&(method, rule, paths)| paths.iter().map(move |&path| (method, path, rule)))
}

/// A visitor of the matrix: nobody, or a session of a token.
#[derive(Debug, Clone, Copy)]
struct Who {
    /// The token's role, ledger and holder; `None`: no session.
    token: Option<(Role, &'static str, Option<&'static str>)>,
}

impl Who {
    const ANONYMOUS: Who = Who { token: None };

    const fn of(role: Role, holder: Option<&'static str>) -> Who {
        Who {
            token: Some((role, LEDGER, holder)),
        }
    }
}

/// What a visitor should get.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// Past the rule: whatever the handler answers, but no refusal.
    Allowed,
    /// 303 to the sign-in page.
    SignIn,
    /// The French 403 page, saying this.
    Refused(&'static str),
}

fn expected(rule: Rule, who: Who) -> Outcome {
    let Some((role, ledger, holder)) = who.token else {
        return match rule {
            Rule::Public => Outcome::Allowed,
            _ => Outcome::SignIn,
        };
    };
    let allowed = match rule {
        Rule::Public => return Outcome::Allowed,
        _ if ledger != LEDGER => return Outcome::Refused("un autre parc"),
        Rule::Only(roles) => roles.contains(&role),
        Rule::OwnHolder => matches!(role, Shareholder | Municipality) && holder.is_some(),
        Rule::AuditorsOrVoter => matches!(role, Secretary | Municipality) || holder == Some(VOTER),
        Rule::SecretaryOrSelf => {
            role == Secretary || (role == Shareholder && holder == Some(VOTER))
        }
        Rule::MunicipalityOrSelf => {
            role == Municipality || (role == Resident && holder == Some(RESIDENT))
        }
    };
    if allowed {
        Outcome::Allowed
    } else {
        Outcome::Refused("Accès refusé")
    }
}

/// An answer, read.
struct Answer {
    status: StatusCode,
    location: Option<String>,
    cookies: Vec<String>,
    body: String,
}

impl Answer {
    /// The cookie `name` it sets, as `name=value`.
    fn cookie(&self, name: &str) -> String {
        let prefix = format!("{name}=");
        let found = self.cookies.iter().find(|c| c.starts_with(&prefix));
        found
            .unwrap_or_else(|| panic!("no cookie {name}: {}", self.body))
            .clone()
    }
}

async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("an answer");
    let header_text = |name| {
        response
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or("").to_owned())
            .collect::<Vec<String>>()
    };
    let location = header_text(header::LOCATION).pop();
    let cookies = header_text(header::SET_COOKIE);
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    Answer {
        status,
        location,
        cookies,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn get(path: &str, cookie: &str) -> Request<Body> {
    Request::get(path)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("a request")
}

fn post(path: &str, cookie: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body = fields
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect::<Vec<_>>()
        .join("&");
    Request::post(path)
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .expect("a request")
}

/// The value of the first hidden `_csrf` field of a page.
fn csrf_of(page: &str) -> String {
    let key = "name=\"_csrf\" value=\"";
    let start = page.find(key).expect("a form with a CSRF field") + key.len();
    let end = page[start..].find('"').expect("a closing quote") + start;
    page[start..end].to_owned()
}

/// The sign-in form's pair: its cookie and its CSRF value.
async fn sign_in_form(app: &Router) -> (String, String) {
    let page = send(app, get("/connexion", "")).await;
    (page.cookie("wl_connexion"), csrf_of(&page.body))
}

/// A new session with `token`: its cookie and its CSRF token.
async fn session(app: &Router, token: &str) -> (String, String) {
    let (cookie, csrf) = sign_in_form(app).await;
    let signed = send(
        app,
        post("/connexion", &cookie, &[("_csrf", &csrf), ("jeton", token)]),
    )
    .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let session = signed.cookie("wl_session");
    // The header of every page signs out with the session's CSRF token.
    let home = send(app, get("/", &session)).await;
    (session, csrf_of(&home.body))
}

#[tokio::test]
async fn every_page_route_answers_every_visitor_by_its_rule() {
    let db = TestDatabase::sqlite();
    let store = db.store().await;
    let (ledger, _) = import_reference_ledger(store.clone())
        .await
        .expect("the reference farm imports");
    let signer = db.checkpoint_signer();
    let state = AppState::new(
        store.clone(),
        CheckpointSigner::from_secret_key(&signer.to_secret_key()).expect("the same key"),
    );
    state.hold_vault(Vault::new(MasterKey::generate().expect("a master key")));
    let app = windledger_api::router(state.clone(), windledger_web::router(state.clone()));

    // The expectations cover exactly the table's routes.
    let served: BTreeSet<(String, String)> = routes()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_owned()))
        .collect();
    let listed: BTreeSet<(String, String)> = expected_routes()
        .map(|(m, p, _)| (m.to_owned(), p.to_owned()))
        .collect();
    assert_eq!(
        served.difference(&listed).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "page routes without an expected rule: add them to EXPECTED"
    );
    assert_eq!(
        listed.difference(&served).collect::<Vec<_>>(),
        Vec::<&(String, String)>::new(),
        "expected page routes the table does not have"
    );

    // The receipt of the voter's ballot.
    let runtime = state.open(&ledger).await.expect("the ledger");
    let head = store.head(&ledger).await.expect("the head");
    runtime
        .projections
        .caught_up(head.size)
        .await
        .expect("the projections");
    let position = runtime
        .projections
        .read(|p| {
            let meeting = p.register.fold().meeting(MEETING)?;
            let voter = HolderId::new(VOTER).ok()?;
            let ballot = meeting.ballots.iter().find(|b| b.voter == voter)?;
            Some(ballot.receipt.position)
        })
        .expect("the voter's ballot");

    let visitors = [
        Who::ANONYMOUS,
        Who::of(Secretary, None),
        Who::of(Municipality, Some("ccmp")),
        // The municipality's token need not act for a holder.
        Who::of(Municipality, None),
        Who::of(Operator, None),
        Who::of(Shareholder, Some(VOTER)),
        // Another holder: the voter's receipt is not theirs.
        Who::of(Shareholder, Some("cit-002")),
        Who::of(Resident, Some(RESIDENT)),
        // Another resident: the path's resident is not theirs.
        Who::of(Resident, Some("hab-002")),
        Who {
            token: Some((Secretary, OTHER_LEDGER, None)),
        },
    ];
    let mut tokens = Vec::new();
    for who in visitors {
        let token = match who.token {
            None => None,
            Some((role, ledger, holder)) => Some(
                auth::issue(
                    &store,
                    &LedgerId::parse(ledger).expect("a ledger id"),
                    role,
                    holder.map(|h| auth::ActsFor::parse(role, h).expect("whom it acts for")),
                    "authorization matrix",
                    None,
                )
                .await
                .expect("a token")
                .token,
            ),
        };
        tokens.push((who, token));
    }

    let head = store.head(&ledger).await.expect("the head");
    let mut checked = 0;
    for (method, template, rule) in expected_routes() {
        let path = template
            .replace("{ledger}", LEDGER)
            .replace("{meeting}", MEETING)
            .replace("{year}", "2024")
            .replace("{holder}", VOTER)
            .replace("{position}", &position.to_string())
            .replace("{round}", "fonds-2026")
            .replace("{resident}", RESIDENT);
        for (n, (who, token)) in tokens.iter().enumerate() {
            // A new session for each call: signing out ends one.
            let (session, csrf) = match token {
                Some(token) => session(&app, token).await,
                None => (String::new(), String::new()),
            };
            let request = if method == "GET" {
                get(&path, &session)
            } else {
                // The sign-in form carries its own CSRF value (there is no
                // session yet); every other form, the session's.
                let (sign_in_cookie, sign_in_csrf) = sign_in_form(&app).await;
                let csrf = if path == "/connexion" {
                    sign_in_csrf
                } else {
                    csrf
                };
                let form_id = format!("matrice-{checked}-{n}");
                let cookie = format!("{session}; {sign_in_cookie}");
                post(
                    &path,
                    &cookie,
                    &[("_csrf", &csrf), ("_formulaire", &form_id)],
                )
            };
            let answer = send(&app, request).await;
            let context = format!(
                "{method} {path} by {who:?}: got {} (location {:?}) {}",
                answer.status,
                answer.location,
                answer.body.chars().take(600).collect::<String>()
            );
            let signing_in = answer.status == StatusCode::SEE_OTHER
                && answer.location.as_deref() == Some("/connexion");
            match expected(rule, *who) {
                Outcome::Allowed => {
                    assert!(
                        !signing_in
                            && answer.status != StatusCode::UNAUTHORIZED
                            && answer.status != StatusCode::FORBIDDEN
                            && !answer.status.is_server_error(),
                        "{context}"
                    );
                }
                Outcome::SignIn => assert!(signing_in, "{context}"),
                Outcome::Refused(text) => {
                    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{context}");
                    assert!(answer.body.contains(text), "{context}");
                    // Only a signed-in visitor is refused: signing in is no way out.
                    assert!(!answer.body.contains(">Se connecter<"), "{context}");
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, expected_routes().count() * tokens.len());
    assert_eq!(
        store.head(&ledger).await.expect("the head"),
        head,
        "none of these calls wrote anything"
    );

    // An unknown address: a page in French for a browser, the API's
    // problem for an API client.
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for (accept, expected) in [
        (Some(browser), "Page introuvable"),
        (Some("application/json"), "no such route"),
        (None, "no such route"),
    ] {
        let mut request = Request::get("/nulle-part");
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        let answer = send(&app, request.body(Body::empty()).expect("a request")).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{accept:?}");
        assert!(
            answer.body.contains(expected),
            "{accept:?}: {}",
            answer.body
        );
    }
}
