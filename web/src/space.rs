//! Signing in and out, a signed-in visitor's space, meetings with the
//! ballot and proxy forms, and ballot receipts.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use maud::{Markup, html};
use windledger_html::tables::section;

use crate::layout::{Col, table};
use rust_decimal::Decimal;
use windledger_domain::charter::VoteBasis;
use windledger_domain::company::HolderKind;
use windledger_domain::meeting::{Choice, MeetingCommand, Outcome, RollCollege};
use windledger_domain::types::{CollegeId, HolderId, ResolutionId, ShareClassId};
use windledger_projections::cap_table::AsOf;
use windledger_projections::register::MeetingRecord;
use windledger_projections::statement::{Statement, statement};

use crate::audit::college_names;
use crate::extract::{
    ClientAddress, Farm, Fields, FormPost, MeetingPath, OnFarm, Params, Post, ReceiptPath,
    SignedIn, Visitor, form_fields,
};
use crate::layout::{
    Chrome, FormState, Message, errors_box, form_guard, grouped_select, html_response, page,
    select, state_of,
};
use crate::session::{
    CSRF_FIELD, LIFETIME, NoSession, SESSION_COOKIE, SIGN_IN_COOKIE, SIGN_IN_FORM_LIFETIME, cookie,
    set_cookie,
};
use crate::{PageResult, Web, WebError, format, paperwork, projected, votes};
use windledger_api::TokenRefusal;
use windledger_api::auth::roles::AUDITORS;
use windledger_api::auth::{Rejected, Role};
use windledger_app::command::Command;

// ---------------------------------------------------------------- sign-in

fn sign_in_page(web: &Web, status: StatusCode, visitor: &Visitor, error: Option<&str>) -> Response {
    let Some((cookie_value, token)) = web.sign_in_key.issue(Utc::now().timestamp()) else {
        return WebError::Internal.into_response();
    };
    let body = html! {
        h1 { "Se connecter" }
        @if let Some(e) = error {
            div.errors role="alert" {
                h2 { "Connexion impossible" }
                p { (e) }
            }
        }
        p {
            "Connectez-vous avec le jeton d'accès que le secrétariat de votre parc vous a remis. "
            "Il commence par " code { "wl_" } " et vous donne accès à votre espace : vos actions, "
            "vos votes, vos dividendes, ou les pages de votre rôle."
        }
        form.card method="post" action="/connexion" {
            input type="hidden" name=(CSRF_FIELD) value=(token);
            label for="jeton" { "Jeton d'accès" }
            span.hint #jeton-aide { "Collez le jeton en entier ; il n'est ni affiché ni conservé par le navigateur." }
            @if let Some(e) = error { span.field-error #jeton-erreur { (e) } }
            input type="password" #jeton name="jeton" required autocomplete="off" spellcheck="false"
                aria-describedby={ "jeton-aide" @if error.is_some() { " jeton-erreur" } }
                aria-invalid=[error.map(|_| "true")];
            button type="submit" { "Se connecter" }
        }
        p.hint {
            "La session dure au plus " (LIFETIME.as_secs() / 3600) " heures (deux heures sans activité) ; "
            "un redémarrage du serveur déconnecte tout le monde."
        }
    };
    let chrome = Chrome::new("Se connecter", (visitor.session.as_ref(), None));
    let mut response = html_response(status, page(chrome, body));
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            SIGN_IN_COOKIE,
            &cookie_value,
            "/connexion",
            SIGN_IN_FORM_LIFETIME,
        ),
    );
    response
}

/// `GET /connexion`.
pub async fn sign_in_form(State(web): State<Web>, visitor: Visitor) -> Response {
    if let Some(s) = &visitor.session {
        let body = html! {
            h1 { "Vous êtes connecté" }
            p {
                "Vous êtes connecté " (format::in_the_role_of(&super::layout::who(s))) ". "
                a href={ "/parcs/" (s.principal.ledger) "/espace" } { "Aller à mon espace" }
            }
        };
        let chrome = Chrome::new("Connexion", (Some(s), None));
        return html_response(StatusCode::OK, page(chrome, body));
    }
    sign_in_page(&web, StatusCode::OK, &visitor, None)
}

fn rejected_text(r: &Rejected) -> &'static str {
    match r {
        Rejected::Malformed => {
            "Ce n'est pas un jeton windledger : il commence par wl_ et compte 80 caractères."
        }
        Rejected::Unknown | Rejected::WrongSecret => "Ce jeton n'est pas valide.",
        Rejected::Expired => "Ce jeton a expiré : demandez-en un nouveau au secrétariat.",
        Rejected::Revoked => "Ce jeton a été révoqué : demandez-en un nouveau au secrétariat.",
    }
}

/// `POST /connexion`: checks the token, then starts a new session.
pub async fn sign_in(
    State(web): State<Web>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    visitor: Visitor,
    form: Result<Form<Fields>, FormRejection>,
) -> Response {
    let refuse = |status, text: &str| sign_in_page(&web, status, &visitor, Some(text));
    let Ok(fields) = form_fields(form) else {
        return refuse(StatusCode::BAD_REQUEST, "Le formulaire n'a pas pu être lu.");
    };
    let csrf_ok = match (fields.get(CSRF_FIELD), cookie(&headers, SIGN_IN_COOKIE)) {
        (Some(sent), Some(cookie)) => web.sign_in_key.check(&cookie, sent, Utc::now().timestamp()),
        _ => false,
    };
    if !csrf_ok {
        let text = "Le formulaire a expiré ou ne vient pas de cette page : recommencez.";
        return refuse(StatusCode::FORBIDDEN, text);
    }
    let token = fields.get("jeton").map(|t| t.trim()).unwrap_or("");
    if token.is_empty() {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Saisissez votre jeton d'accès.",
        );
    }
    let principal = match web.app.check_token(&client, token, false).await {
        Ok(p) => p,
        Err(TokenRefusal::Store(e)) => {
            tracing::error!(error = %e, "sign-in: the token store failed");
            return WebError::Unavailable.into_response();
        }
        Err(TokenRefusal::Rejected(rejected)) => {
            return refuse(StatusCode::UNAUTHORIZED, rejected_text(&rejected));
        }
        Err(TokenRefusal::Limited(wait)) => {
            let minutes = wait.as_secs().div_ceil(60).max(1);
            let text = format!(
                "Trop de jetons non valides ont été essayés depuis votre adresse : \
                 aucun jeton n'y sera vérifié pendant encore {minutes} minute{}. \
                 Vérifiez le jeton remis par le secrétariat, puis réessayez plus tard.",
                if minutes > 1 { "s" } else { "" }
            );
            let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, &text);
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(wait.as_secs().max(1)),
            );
            return response;
        }
    };
    // Never keep a session id from before the sign-in.
    if let Some(old) = &visitor.session {
        web.sessions.end(&old.key);
    }
    let ledger = principal.ledger.to_string();
    let id = match web.sessions.create(principal) {
        Ok(id) => id,
        Err(NoSession::Full) => {
            let text = "Trop de personnes sont connectées en ce moment : \
                        réessayez dans quelques minutes.";
            return refuse(StatusCode::SERVICE_UNAVAILABLE, text);
        }
        Err(NoSession::NoRandomness) => return WebError::Internal.into_response(),
    };
    let mut response = Redirect::to(&format!("/parcs/{ledger}/espace")).into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &id, "/", LIFETIME),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(SIGN_IN_COOKIE, "", "/connexion", Duration::ZERO),
    );
    response
}

/// `POST /deconnexion`.
pub async fn sign_out(
    State(web): State<Web>,
    visitor: Visitor,
    form: Result<Form<Fields>, FormRejection>,
) -> PageResult {
    let Some(session) = visitor.session else {
        return Ok(Redirect::to("/").into_response());
    };
    let form = FormPost::new(&web, session, form_fields(form)?)?;
    web.sessions.end(&form.me.session.key);
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", "/", Duration::ZERO),
    );
    Ok(response)
}

// ---------------------------------------------------------------- space

/// A holder's own figures.
struct Mine {
    holder: String,
    kind: HolderKind,
    college: Option<String>,
    shares: Vec<(String, u64)>,
    capital_pct: Decimal,
    votes_pct: Decimal,
    college_totals: Option<(usize, u64, Decimal, Decimal)>,
    /// Votes in a general meeting today, the college's in its unit, and
    /// everyone's when every college counts in the same unit unweighted.
    weight: Option<(u64, u64, Option<u64>, VoteBasis)>,
    statement: Statement,
    /// The titles of the resolutions the holder's ballots answer.
    titles: HashMap<ResolutionId, String>,
    class_names: HashMap<ShareClassId, String>,
}

struct MeetingLine {
    id: String,
    title: String,
    status: &'static str,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
}

fn read_mine(p: &windledger_projections::runner::Projections, holder: &HolderId) -> Option<Mine> {
    let statement = statement(p, holder)?;
    let fold = p.cap_table.fold();
    let charter = fold.charter(AsOf::Latest);
    let college_id = statement
        .registrations
        .last()
        .map(|r| r.value.college.clone());
    let college_name = |c: &CollegeId| {
        charter
            .and_then(|ch| ch.college(c))
            .map(|c| c.name.clone())
            .unwrap_or_else(|| c.to_string())
    };
    let class_name = |c: &windledger_domain::types::ShareClassId| {
        charter
            .and_then(|ch| ch.share_class(c))
            .map(|c| c.name.clone())
            .unwrap_or_else(|| c.to_string())
    };
    let view = fold.view(AsOf::Latest);
    let (mut capital_pct, mut votes_pct) = (Decimal::ZERO, Decimal::ZERO);
    let mut college_totals = None;
    if let Some(view) = &view {
        for row in view.rows.iter().filter(|r| r.holder == holder) {
            capital_pct += row.capital_pct;
            votes_pct += row.votes_pct;
        }
        if let Some(c) = &college_id {
            college_totals = view
                .by_college
                .get(c)
                .map(|t| (t.holders, t.shares, t.capital_pct, t.votes_pct));
        }
    }
    let weight = fold.vote_weights(windledger_app::today()).and_then(|w| {
        let mine = w.voters.iter().find(|v| &v.holder == holder)?;
        let colleges = votes::colleges_of(charter?);
        Some((
            mine.weight,
            w.by_college.get(&mine.college).copied().unwrap_or(0),
            votes::totals_add_up(&colleges).then_some(w.total),
            colleges.iter().find(|c| c.id == mine.college)?.vote_basis,
        ))
    });
    Some(Mine {
        holder: holder.to_string(),
        kind: statement.kind,
        college: college_id.as_ref().map(college_name),
        shares: statement
            .current
            .iter()
            .map(|(c, n)| (class_name(c), *n))
            .collect(),
        capital_pct,
        votes_pct,
        college_totals,
        weight,
        titles: titles_of(p, statement.ballots.iter().map(|b| &b.meeting)),
        class_names: charter
            .map(|ch| {
                ch.share_classes
                    .iter()
                    .map(|c| (c.id.clone(), c.name.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        statement,
    })
}

/// `/parcs/{ledger}/espace`: what the signed-in visitor has and may do.
pub async fn home(farm: Farm, me: SignedIn) -> PageResult {
    let session = &me.session;
    let holder = session.principal.holder.clone();
    let now = Utc::now();
    let (mine, meetings, rounds) = projected(&farm.runtime, |p| {
        let mine = holder.as_ref().and_then(|h| read_mine(p, h));
        let rounds = p.territory.fold().fund().rounds;
        let meetings: Vec<MeetingLine> = p
            .register
            .fold()
            .meetings()
            .filter(|(_, m)| m.closed.is_none())
            .map(|(id, m)| MeetingLine {
                id: id.clone(),
                title: format::meeting_kind(m.convocation.kind).to_owned(),
                status: format::meeting_status(m, now),
                opens_at: m.convocation.opens_at,
                closes_at: m.convocation.closes_at,
            })
            .collect();
        (mine, meetings, rounds)
    })
    .await?;
    let role = session.principal.role;
    let body = html! {
        h1 { "Mon espace" }
        p.lead { "Connecté " (format::in_the_role_of(&super::layout::who(session))) " pour " (farm.name) "." }
        nav aria-label="Pages de mon rôle" {
            ul {
                @if matches!(role, Role::Municipality | Role::Secretary) {
                    li { a href=(farm.path("/registre")) { "Registre des décisions" } }
                    li { a href=(farm.path("/journal")) { "Journal des événements" } }
                    li { a href=(farm.path("/verification")) { "Vérifier la chaîne" } }
                    li { a href=(farm.path("/gestion-du-fonds")) { "Gestion du fonds de territoire" } }
                }
                @if role == Role::Operator {
                    li { a href=(farm.path("/exploitation")) { "Production et recettes" } }
                }
                @if role == Role::Secretary {
                    li { a href=(farm.path("/secretariat")) { "Secrétariat : associés, cessions, assemblées" } }
                }
                @if let (Role::Resident, Some(r)) = (role, &session.principal.resident) {
                    li { a href=(crate::fund_desk::link(&farm, r)) { "Mon identité d'habitant : ce que le coffre garde de moi" } }
                }
                @if let (Role::Shareholder, Some(h)) = (role, &holder) {
                    li { a href=(crate::identity::link(&farm, h.as_str())) { "Mon identité : mes coordonnées, mon compte bancaire, mes consentements" } }
                }
                li { a href=(farm.path("/retombees")) { "Retombées économiques locales" } }
                li { a href=(farm.path("/fonds-de-territoire")) { "Fonds de territoire" } }
                li { a href=(farm.path("")) { "Page publique du parc" } }
            }
        }
        @if let Some(m) = &mine { (mine_sections(&farm, m)) }
        @if role == Role::Resident {
            (section("budgets", "Budgets participatifs", rounds.is_empty(), "Aucun budget participatif n'est encore convoqué.", || html! {
                    p { "Déposez un projet ou votez depuis la page de chaque budget participatif." }
                    ul {
                        @for r in &rounds {
                            li {
                                a href=(farm.path(&format!("/fonds-de-territoire/{}", r.round))) {
                                    "Budget participatif " (r.round)
                                }
                                @if r.tallied { " (dépouillé)" } @else { " (en cours)" }
                            }
                        }
                    }
            }))
        }
        @if !matches!(role, Role::Operator | Role::Resident) {
            (section("assemblees", "Assemblées en cours", meetings.is_empty(), "Aucune assemblée n'est en cours.", || html! {
                    ul {
                        @for m in &meetings {
                            li {
                                a href=(farm.path(&format!("/assemblees/{}", m.id))) { (m.title) " " (m.id) }
                                " — " (m.status) " ; vote du " (format::datetime(m.opens_at))
                                " au " (format::datetime(m.closes_at))
                            }
                        }
                    }
            }))
        }
    };
    farm.page(StatusCode::OK, "Mon espace", me.shown(), body)
}

/// A ballot's choices, each with its resolution's number and title.
fn choices_list(
    choices: &BTreeMap<ResolutionId, Choice>,
    titles: &HashMap<ResolutionId, String>,
) -> Markup {
    html! {
        ul.choices {
            @for (r, c) in choices {
                li {
                    "n°" (r.as_str().rsplit('.').next().unwrap_or(r.as_str()))
                    @if let Some(t) = titles.get(r) { " « " (t) " »" }
                    " : " strong { (format::choice(*c)) }
                }
            }
        }
    }
}

/// The titles of the resolutions on the agenda of `meetings`.
fn titles_of<'a>(
    p: &windledger_projections::runner::Projections,
    meetings: impl IntoIterator<Item = &'a String>,
) -> HashMap<ResolutionId, String> {
    let register = p.register.fold();
    meetings
        .into_iter()
        .filter_map(|m| register.meeting(m))
        .flat_map(|m| &m.convocation.agenda)
        .map(|item| (item.resolution.clone(), item.text.clone()))
        .collect()
}

/// The calendar years the holder was paid a dividend in or credited
/// interest for: those of their IFUs.
fn ifu_years(s: &windledger_projections::statement::Statement) -> Vec<i32> {
    let years: std::collections::BTreeSet<i32> = s
        .dividends
        .iter()
        .filter_map(|d| d.paid_on.map(|day| chrono::Datelike::year(&day)))
        .chain(s.interest.iter().map(|i| i.year))
        .collect();
    years.into_iter().rev().collect()
}

fn mine_sections(farm: &Farm, m: &Mine) -> Markup {
    let s = &m.statement;
    html! {
        section aria-labelledby="actions" {
            h2 #actions { "Mes actions et mes voix" }
            div.grid {
                div.stat {
                    "Actions détenues"
                    strong { (format::int(m.shares.iter().map(|(_, n)| *n).sum::<u64>())) }
                    @for (class, n) in &m.shares { small { (class) " : " (format::int(*n)) } }
                }
                div.stat { "Part du capital" strong { (format::percent(m.capital_pct, 4)) } }
                div.stat { "Part des voix en assemblée générale" strong { (format::percent(m.votes_pct, 4)) } }
                div.stat {
                    "Poids de vote"
                    @match m.weight {
                        Some((w, college, total, basis)) => {
                            strong { (format::int(w)) " voix" }
                            small {
                                @if basis == VoteBasis::PerMember { "un associé, une voix : " }
                                "sur " (votes::count(basis, college)) " dans mon collège"
                                @if let Some(total) = total { ", " (format::int(total)) " en tout" }
                            }
                        }
                        None => strong { "—" },
                    }
                }
            }
            p {
                "Associé " code { (m.holder) } " (" (format::holder_kind(m.kind)) ")"
                @if let Some(c) = &m.college { ", collège " strong { (c) } }
                "."
                @if let Some((holders, shares, capital, votes)) = m.college_totals {
                    " Mon collège : " (format::int(holders as u64)) " associés, " (format::int(shares)) " actions, "
                    (format::percent(capital, 2)) " du capital et " (format::percent(votes, 2)) " des voix."
                }
            }
        }
        (section("mouvements", "Mes mouvements d'actions", s.holdings.is_empty(), "Aucun mouvement n'est inscrit à votre compte.", || html! {
                (table(
                    "Chaque mouvement inscrit au registre, du plus récent au plus ancien, avec le solde qui en résulte",
                    &[Col::Text("Date"), Col::Text("Mouvement"), Col::Text("Catégorie"), Col::Num("Actions"), Col::Num("Solde"), Col::Num("Événement")],
                    html! {
                        @for h in s.holdings.iter().rev() {
                            tr {
                                td { (format::date(h.date)) }
                                td { (format::movement(&h.movement)) }
                                td { (m.class_names.get(&h.class).map_or(h.class.as_str(), String::as_str)) }
                                td.num { @if h.delta > 0 { "+" } (format::int(h.delta)) }
                                td.num { (format::int(h.balance)) }
                                td.num { a href=(farm.path(&format!("/recus/{}", h.at.position))) { "n°" (format::int(h.at.position)) } }
                            }
                        }
                    },
                ))
        }))
        (section("votes", "Mes votes et leurs reçus", s.ballots.is_empty(), "Vous n'avez pas encore voté.", || html! {
                p {
                    "Chaque bulletin est un événement du registre : sa position et son empreinte (SHA-256) "
                    "en sont le reçu, vérifiable sur tout point de contrôle signé ultérieur."
                }
                (table(
                    "Bulletins que j'ai déposés ou qui ont été déposés pour moi",
                    &[Col::Text("Assemblée"), Col::Text("Date"), Col::Text("Choix"), Col::Text("Reçu (position et empreinte)"), Col::Text("État")],
                    html! {
                        @for b in s.ballots.iter().rev() {
                            tr {
                                td {
                                    (b.meeting)
                                    @if b.voter != b.cast_by {
                                        br; small {
                                            @if b.voter.as_str() == m.holder { "par mon mandataire " (b.cast_by) }
                                            @else { "pour " (b.voter) ", dont j'ai le pouvoir" }
                                        }
                                    }
                                }
                                td { (format::datetime(b.cast_at)) }
                                td { (choices_list(&b.choices, &m.titles)) }
                                td {
                                    a href=(farm.path(&format!("/assemblees/{}/recus/{}", b.meeting, b.receipt.position))) {
                                        "n°" (format::int(b.receipt.position))
                                    }
                                    br; code.hash title=(b.receipt.hash.to_hex()) { (format::short_hash(&b.receipt.hash.to_hex())) "…" }
                                }
                                td {
                                    @if b.in_force { span.badge.ok { "compté" } }
                                    @else { span.badge.neutral { "remplacé ou retiré" } }
                                }
                            }
                        }
                    },
                ))
        }))
        section aria-labelledby="dividendes" {
            h2 #dividendes { "Mes dividendes" }
            @if s.dividends.is_empty() {
                p { "Aucun dividende ne vous a été attribué." }
            } @else {
                (table(
                    "Dividendes par exercice : brut, prélèvements retenus à la source, net et versement",
                    &[Col::Text("Exercice"), Col::Num("Brut"), Col::Num("Impôt sur le revenu retenu"), Col::Num("Prélèvements sociaux retenus"), Col::Num("Net"), Col::Text("Versé")],
                    html! {
                        @for d in s.dividends.iter().rev() {
                            tr {
                                th scope="row" { (d.year) }
                                td.num { (format::euros(d.gross)) }
                                td.num { (format::euros(d.income_tax)) }
                                td.num { (format::euros(d.social_contributions)) }
                                td.num { (format::euros(d.net)) }
                                td {
                                    @match d.paid_on {
                                        Some(day) => {
                                            "le " (format::date(day))
                                            @if let Some(paid) = &d.paid {
                                                " (" a href=(farm.path(&format!("/recus/{}", paid.position))) { "reçu n°" (format::int(paid.position)) } ")"
                                            }
                                        }
                                        None => span.badge.neutral { "pas encore versé" },
                                    }
                                }
                            }
                        }
                    },
                ))
            }
            @let ifu_years = ifu_years(s);
            @if !ifu_years.is_empty() {
                p {
                    "Imprimé fiscal unique (IFU), pour votre déclaration de revenus : "
                    @for (i, year) in ifu_years.iter().enumerate() {
                        @if i > 0 { ", " }
                        a href=(farm.path(&format!("/espace/ifu/{year}"))) { "revenus " (year) }
                    }
                    "."
                }
            }
            @if !s.interest.is_empty() {
                h3 { "Intérêts de mes comptes courants" }
                ul {
                    @for i in &s.interest {
                        li { (i.year) " : " (format::euros(i.interest)) " (avance " (i.advance) ")" }
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- meetings

/// What the meeting page shows, read from the register.
struct MeetingView {
    record: MeetingRecord,
    colleges: HashMap<CollegeId, String>,
}

async fn read_meeting(farm: &Farm, id: &str) -> Result<MeetingView, WebError> {
    let found = projected(&farm.runtime, |p| {
        let record = p.register.fold().meeting(id).cloned()?;
        let colleges = college_names(p);
        Some(MeetingView { record, colleges })
    })
    .await?;
    found.ok_or(WebError::NotFound)
}

/// A holder's situation in a meeting.
struct Situation {
    weight: Option<u64>,
    /// The proxy this holder gave and has not revoked.
    gave_to: Option<HolderId>,
    /// The holders whose proxy this holder holds.
    holds_for: Vec<HolderId>,
    /// Whom this holder may cast a ballot for.
    may_vote_for: Vec<HolderId>,
}

fn situation(record: &MeetingRecord, holder: &HolderId) -> Situation {
    let weight = record
        .roll
        .as_ref()
        .and_then(|r| r.roll.voters.iter().find(|v| &v.holder == holder))
        .map(|v| v.weight);
    let gave_to = record
        .proxies
        .iter()
        .rev()
        .find(|p| &p.grantor == holder && p.revoked.is_none())
        .map(|p| p.proxy.clone());
    let holds_for: Vec<HolderId> = record
        .proxies
        .iter()
        .filter(|p| &p.proxy == holder && p.revoked.is_none())
        .map(|p| p.grantor.clone())
        .collect();
    let mut may_vote_for = Vec::new();
    if weight.is_some() && gave_to.is_none() {
        may_vote_for.push(holder.clone());
    }
    may_vote_for.extend(holds_for.iter().cloned());
    Situation {
        weight,
        gave_to,
        holds_for,
        may_vote_for,
    }
}

const VOTE_FORM: &str = "vote";
const PROXY_FORM: &str = "pouvoir";

fn choice_value(c: Choice) -> &'static str {
    match c {
        Choice::For => "pour",
        Choice::Against => "contre",
        Choice::Abstain => "abstention",
    }
}

/// The outcome in words, with the rule that decided.
pub fn outcome_text(outcome: &Outcome, colleges: &HashMap<CollegeId, String>) -> Markup {
    html! {
        @match outcome {
            Outcome::Adopted => span.badge.ok { "Adoptée" },
            Outcome::Rejected { rules } => {
                span.badge.bad { "Rejetée" }
                @if let Some(first) = rules.first() {
                    " : " (votes::rejection(first, colleges))
                    @if rules.len() > 1 {
                        " (aussi : "
                        (rules[1..].iter().map(|r| votes::rejection(r, colleges)).collect::<Vec<_>>().join(", "))
                        ")"
                    }
                }
            }
        }
    }
}

async fn meeting_page(
    farm: &Farm,
    who: &SignedIn,
    id: &str,
    sent: Option<FormState>,
    status: StatusCode,
) -> PageResult {
    let session = &who.session;
    let view = read_meeting(farm, id).await?;
    let record = &view.record;
    let c = &record.convocation;
    let now = Utc::now();
    let holder = session.principal.holder.clone();
    let open =
        record.roll.is_some() && record.closed.is_none() && now >= c.opens_at && now < c.closes_at;
    let proxies_open = record.roll.is_some() && record.closed.is_none() && now < c.closes_at;
    let me = holder.as_ref().map(|h| situation(record, h));
    let postal_form = match &holder {
        Some(h) if record.closed.is_none() => paperwork::convened(farm, id, h).await,
        _ => false,
    };
    let my_ballot = holder.as_ref().and_then(|h| {
        record
            .ballots
            .iter()
            .rev()
            .find(|b| &b.voter == h && b.in_force)
    });
    let vote_view = state_of(sent.as_ref(), VOTE_FORM);
    let proxy_view = state_of(sent.as_ref(), PROXY_FORM);
    let top: Vec<Message> = sent
        .as_ref()
        .map(|s| {
            let labels: Vec<(String, String)> = c
                .agenda
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    (
                        format!("choix-{}", i + 1),
                        format!("Résolution {}", item.resolution),
                    )
                })
                .chain([
                    ("votant".to_owned(), "Votant".to_owned()),
                    ("mandataire".to_owned(), "Mandataire".to_owned()),
                ])
                .collect();
            let labels: Vec<(&str, &str)> = labels
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            s.all_messages(&labels)
        })
        .unwrap_or_default();
    let title = format!("{} {}", format::meeting_kind(c.kind), c.meeting);
    let voter_options: Vec<(String, String)> = me
        .as_ref()
        .map(|s| {
            s.may_vote_for
                .iter()
                .map(|h| {
                    let label = if Some(h) == holder.as_ref() {
                        format!("moi-même ({h})")
                    } else {
                        format!("{h}, qui m'a donné pouvoir")
                    };
                    (h.to_string(), label)
                })
                .collect()
        })
        .unwrap_or_default();
    // The roll's voters, college by college, each with their shares: a
    // long list reads by group.
    let proxy_options: Vec<(String, Vec<(String, String)>)> = record
        .roll
        .as_ref()
        .map(|r| {
            r.roll
                .colleges
                .iter()
                .map(|college| {
                    let voters =
                        r.roll.voters.iter().filter(|v| {
                            v.college == college.id && Some(&v.holder) != holder.as_ref()
                        });
                    let options = voters
                        .map(|v| {
                            let shares = format!(
                                "{} action{}",
                                format::int(v.shares),
                                format::plural(v.shares as usize)
                            );
                            (v.holder.to_string(), format!("{} ({shares})", v.holder))
                        })
                        .collect();
                    (votes::name(&college.id, &view.colleges), options)
                })
                .collect()
        })
        .unwrap_or_default();
    let proxy_groups: Vec<(&str, &[(String, String)])> = proxy_options
        .iter()
        .map(|(g, o)| (g.as_str(), o.as_slice()))
        .collect();
    let titles: HashMap<ResolutionId, String> = c
        .agenda
        .iter()
        .map(|item| (item.resolution.clone(), item.text.clone()))
        .collect();
    let body = html! {
        h1 { (title) }
        (errors_box("Le formulaire n'a pas été enregistré", &top))
        dl {
            dt { "Statut" } dd { (format::meeting_status(record, now)) }
            dt { "Date d'enregistrement" } dd { (format::date(c.record_date)) " (la liste d'émargement est la table de capitalisation à cette date)" }
            dt { "Vote" } dd { "du " (format::datetime(c.opens_at)) " au " (format::datetime(c.closes_at)) " (heure de Paris)" }
            dt { "Convoquée le" } dd { (format::date(c.convened_on)) }
        }
        h2 { "Ordre du jour" }
        ol {
            @for item in &c.agenda {
                li {
                    (item.text)
                    br; small { "Résolution " (item.resolution) ", décision " (format::decision_kind(item.decision_kind.as_str())) }
                }
            }
        }
        @if let (Some(h), Some(me)) = (&holder, &me) {
            h2 { "Ma participation" }
            p {
                @match me.weight {
                    Some(w) => { "Vous figurez sur la liste d'émargement avec " strong { (format::int(w)) " voix" } "." }
                    None => @if record.roll.is_some() {
                        "Vous ne figurez pas sur la liste d'émargement de cette assemblée."
                    } @else {
                        "La liste d'émargement n'est pas encore arrêtée."
                    },
                }
                @if let Some(p) = &me.gave_to { " Vous avez donné pouvoir à " strong { (p) } "." }
                @if let Some(roll) = &record.roll {
                    " La liste a été arrêtée à l'ouverture du vote : elle est l'événement n°" (format::int(roll.at.position))
                    " du registre (empreinte " code.hash { (roll.at.hash.to_hex()) } "), inscrit au journal de transparence. "
                    a href=(farm.path(&format!("/assemblees/{}/liste/recu.json", c.meeting))) download { "Télécharger la liste et son reçu (JSON)" }
                    " : vérifiez vous-même que votre ligne est celle que le dépouillement utilise, avec "
                    code { "windledger verify-receipt liste.json --key … --holder " (h) } "."
                }
                @if !me.holds_for.is_empty() {
                    " Vous détenez le pouvoir de : "
                    (me.holds_for.iter().map(|h| h.to_string()).collect::<Vec<_>>().join(", ")) "."
                }
            }
            @if postal_form {
                p {
                    a href=(farm.path(&format!("/assemblees/{}/formulaire.pdf", c.meeting))) { "Télécharger mon formulaire de vote par correspondance (PDF)" }
                    " : à remplir, signer et renvoyer à la société avant la date limite qu'il indique, si vous ne votez pas en ligne."
                }
            }
            @if let Some(b) = my_ballot {
                p {
                    "Votre bulletin en vigueur : " (choices_list(&record.choices(b), &titles))
                    a href=(farm.path(&format!("/assemblees/{}/recus/{}", c.meeting, b.receipt.position))) {
                        "Voir le reçu n°" (format::int(b.receipt.position))
                    }
                }
            }
            @if open && !me.may_vote_for.is_empty() {
                form.card method="post" action=(farm.path(&format!("/assemblees/{}/vote", c.meeting))) {
                    h3 { "Voter" }
                    (form_guard(session))
                    @if me.may_vote_for.len() > 1 {
                        (select(vote_view, VOTE_FORM, "votant", "Je vote pour", &voter_options, h.as_str(), true))
                    } @else {
                        input type="hidden" name="votant" value=(me.may_vote_for[0]);
                    }
                    @for (i, item) in c.agenda.iter().enumerate() {
                        @let name = format!("choix-{}", i + 1);
                        @let error = vote_view.error(&name);
                        @let current = vote_view.value(&name, "");
                        fieldset.choices aria-describedby=[error.map(|_| format!("{name}-erreur"))] {
                            legend { "Résolution " (item.resolution) " : " (item.text) }
                            @if let Some(e) = error { span.field-error id={ (name) "-erreur" } { (e) } }
                            @for choice in [Choice::For, Choice::Against, Choice::Abstain] {
                                @let value = choice_value(choice);
                                label {
                                    input type="radio" name=(name) value=(value) required checked[current == value]
                                        aria-invalid=[error.map(|_| "true")];
                                    " " (format::choice(choice))
                                }
                            }
                        }
                    }
                    p.hint { "Vous pouvez voter de nouveau jusqu'à la fin du vote : le dernier bulletin remplace le précédent." }
                    button type="submit" { "Enregistrer mon vote" }
                }
            } @else if open {
                p { "Vous ne pouvez pas voter vous-même : " @if me.gave_to.is_some() { "votre mandataire vote pour vous." } @else { "vous n'êtes pas sur la liste d'émargement." } }
            } @else if record.closed.is_none() {
                p { "Le formulaire de vote s'affichera pendant la période de vote." }
            }
            @if proxies_open && me.weight.is_some() {
                @match &me.gave_to {
                    Some(p) => {
                        form.card method="post" action=(farm.path(&format!("/assemblees/{}/revocation", c.meeting))) {
                            h3 { "Révoquer mon pouvoir" }
                            (form_guard(session))
                            p { "Vous avez donné pouvoir à " strong { (p) } ". En le révoquant, vous retrouvez votre vote (le bulletin que votre mandataire a déposé pour vous est retiré)." }
                            button.secondary type="submit" { "Révoquer le pouvoir" }
                        }
                    }
                    None => {
                        form.card method="post" action=(farm.path(&format!("/assemblees/{}/procuration", c.meeting))) {
                            h3 { "Donner pouvoir" }
                            (form_guard(session))
                            p.hint { "Un autre associé votera pour vous. Donner pouvoir retire votre propre bulletin." }
                            (grouped_select(proxy_view, (PROXY_FORM, "mandataire", "Mandataire, par collège"), &proxy_groups, "", true))
                            button.secondary type="submit" { "Donner pouvoir" }
                        }
                    }
                }
            }
        }
        @if let Some(closed) = &record.closed {
            h2 { "Résultats" }
            p { "Assemblée close le " (format::datetime(closed.closed_at)) "." }
            @let roll_colleges: &[RollCollege] = record.roll.as_ref().map_or(&[], |r| &r.roll.colleges);
            p { (votes::combination(roll_colleges, &view.colleges)) }
            (table(
                "Résultat de chaque résolution",
                &[Col::Text("Résolution"), Col::Text("Décompte par collège"), Col::Num("Part des voix exprimées pour"), Col::Text("Résultat")],
                html! {
                    @for r in &closed.results {
                        tr {
                            th scope="row" { (r.resolution) }
                            td { (votes::by_college(r, roll_colleges, &view.colleges)) }
                            td.num { (votes::percent(r.share_for.as_ref())) }
                            td { (outcome_text(&r.outcome, &view.colleges)) }
                        }
                    }
                },
            ))
        }
        @if matches!(session.principal.role, Role::Municipality | Role::Secretary) {
            p { a href=(farm.path(&format!("/registre/{}", c.meeting))) { "Le détail au registre : émargement, pouvoirs, bulletins et décompte" } }
        }
    };
    farm.page(status, &title, who.shown(), body)
}

/// `/parcs/{ledger}/assemblees/{meeting}`.
pub async fn meeting(
    farm: Farm,
    me: SignedIn,
    Params(MeetingPath { meeting }): Params<MeetingPath>,
) -> PageResult {
    meeting_page(&farm, &me, &meeting, None, StatusCode::OK).await
}

/// The holder a voter acts for (the routes' rule lets in no one else).
fn own_holder(post: &Post) -> Result<HolderId, WebError> {
    post.me
        .session
        .principal
        .holder
        .clone()
        .ok_or_else(|| WebError::Forbidden("Votre jeton n'agit pour aucun associé.".into()))
}

/// Runs a meeting command of a voter's form, then to `success`'s page, or
/// back to the meeting with the refusal.
async fn meeting_run(
    post: &Post,
    id: &str,
    sent: FormState,
    command: Option<MeetingCommand>,
    success: impl FnOnce(u64) -> (String, String),
) -> PageResult {
    let command = command.map(|c| (id.to_owned(), Command::Meeting(c)));
    post.run(sent, command, success, async |sent| {
        meeting_page(
            &post.farm,
            &post.me,
            id,
            Some(sent),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await
    })
    .await
}

/// `POST .../assemblees/{meeting}/vote`: a ballot for oneself or as a
/// proxy; then the receipt.
pub async fn vote(
    Params(MeetingPath { meeting: id }): Params<MeetingPath>,
    post: Post,
) -> PageResult {
    let holder = own_holder(&post)?;
    let view = read_meeting(&post.farm, &id).await?;
    let mut state = FormState::new(VOTE_FORM, post.fields.clone());
    let allowed = situation(&view.record, &holder).may_vote_for;
    let voter = post
        .fields
        .get("votant")
        .map(|v| v.trim().to_owned())
        .unwrap_or_else(|| holder.to_string());
    let voter = match HolderId::new(voter) {
        Ok(v) if allowed.contains(&v) => Some(v),
        _ => {
            state.field_error(
                "votant",
                "Vous ne pouvez voter que pour vous-même ou pour un associé qui vous a donné pouvoir.",
            );
            None
        }
    };
    let mut choices = BTreeMap::new();
    for (i, item) in view.record.convocation.agenda.iter().enumerate() {
        let name = format!("choix-{}", i + 1);
        let choice = match post.fields.get(&name).map(String::as_str) {
            Some("pour") => Choice::For,
            Some("contre") => Choice::Against,
            Some("abstention") => Choice::Abstain,
            _ => {
                state.field_error(&name, "Choisissez pour, contre ou abstention.");
                continue;
            }
        };
        choices.insert(item.resolution.clone(), choice);
    }
    let command = voter.map(|voter| MeetingCommand::CastBallot {
        voter,
        cast_by: holder,
        choices,
        at: Utc::now(),
    });
    meeting_run(&post, &id, state, command, |position| {
        (
            post.farm
                .path(&format!("/assemblees/{id}/recus/{position}")),
            "Votre vote est enregistré. Voici votre reçu.".to_owned(),
        )
    })
    .await
}

/// `POST .../assemblees/{meeting}/procuration`.
pub async fn grant_proxy(
    Params(MeetingPath { meeting: id }): Params<MeetingPath>,
    post: Post,
) -> PageResult {
    let grantor = own_holder(&post)?;
    let mut state = FormState::new(PROXY_FORM, post.fields.clone());
    let proxy = match post.text("mandataire") {
        "" => {
            state.field_error("mandataire", "Choisissez l'associé qui votera pour vous.");
            None
        }
        m => HolderId::new(m)
            .map_err(|_| {
                state.field_error("mandataire", "Cet identifiant d'associé n'est pas valide.")
            })
            .ok(),
    };
    let command = proxy.clone().map(|proxy| MeetingCommand::GrantProxy {
        grantor,
        proxy,
        at: Utc::now(),
    });
    meeting_run(&post, &id, state, command, |_| {
        (
            post.farm.path(&format!("/assemblees/{id}")),
            format!(
                "Votre pouvoir est donné à {}.",
                proxy.map(|p| p.to_string()).unwrap_or_default()
            ),
        )
    })
    .await
}

/// `POST .../assemblees/{meeting}/revocation`.
pub async fn revoke_proxy(
    Params(MeetingPath { meeting: id }): Params<MeetingPath>,
    post: Post,
) -> PageResult {
    let command = MeetingCommand::RevokeProxy {
        grantor: own_holder(&post)?,
        at: Utc::now(),
    };
    let state = FormState::new(PROXY_FORM, post.fields.clone());
    meeting_run(&post, &id, state, Some(command), |_| {
        (
            post.farm.path(&format!("/assemblees/{id}")),
            "Votre pouvoir est révoqué : vous pouvez voter vous-même.".to_owned(),
        )
    })
    .await
}

/// `/parcs/{ledger}/assemblees/{meeting}/recus/{position}`: a ballot's
/// receipt, for its voter, the proxy who cast it, and the auditors.
pub async fn receipt(
    OnFarm(web, farm, me): OnFarm,
    Params(ReceiptPath {
        meeting: id,
        position,
    }): Params<ReceiptPath>,
) -> PageResult {
    let view = read_meeting(&farm, &id).await?;
    let record = &view.record;
    let ballot = own_ballot(record, &me, position)?;
    // The receipt with its proof, checked here as `verify-receipt` does.
    let kept = windledger_api::tlog::make_receipt(&web.app, &farm.runtime, position).await;
    let proof = crate::receipts::proof_section(
        &web,
        &farm,
        kept.as_ref().ok(),
        "Votre bulletin",
        &format!("/assemblees/{id}/recus/{position}/recu.json"),
    )
    .await;
    let hash = ballot.receipt.hash.to_hex();
    let choices = record.choices(ballot);
    let body = html! {
        h1 { "Reçu de vote" }
        section.card aria-labelledby="recu" {
            h2 #recu { "Bulletin n°" (format::int(position)) " — " (format::meeting_kind(record.convocation.kind)) " " (id) }
            dl {
                dt { "Votant" } dd { (ballot.voter) }
                @if ballot.cast_by != ballot.voter { dt { "Déposé par (mandataire)" } dd { (ballot.cast_by) } }
                dt { "Déposé le" } dd { (format::datetime(ballot.cast_at)) }
                dt { "Position dans le registre" } dd { strong { (format::int(position)) } }
                dt { "Empreinte de l'événement (SHA-256)" } dd { code.hash #empreinte { (hash) } }
                dt { "État" } dd {
                    @if ballot.in_force { span.badge.ok { "en vigueur : il sera compté à la clôture" } }
                    @else { span.badge.neutral { "remplacé par un bulletin ultérieur, ou retiré par un pouvoir" } }
                }
            }
            h3 { "Vos choix" }
            ul {
                @for item in &record.convocation.agenda {
                    li {
                        strong { (choices.get(&item.resolution).map(|c| format::choice(*c)).unwrap_or("—")) }
                        " — " (item.resolution) " : " (item.text)
                    }
                }
            }
        }
        (proof)
        p { a href=(farm.path(&format!("/assemblees/{id}"))) { "Retour à l'assemblée" } " · " a href=(farm.path("/espace")) { "Mon espace" } }
    };
    farm.page(StatusCode::OK, "Reçu de vote", me.shown(), body)
}

/// The ballot at `position` of `record`, if it is the visitor's own (as
/// voter or proxy) or the visitor audits.
fn own_ballot<'a>(
    record: &'a MeetingRecord,
    me: &SignedIn,
    position: u64,
) -> Result<&'a windledger_projections::register::BallotRecord, WebError> {
    let ballot = record
        .ballots
        .iter()
        .find(|b| b.receipt.position == position)
        .ok_or(WebError::NotFound)?;
    let principal = &me.session.principal;
    let own = principal
        .holder
        .as_ref()
        .is_some_and(|h| *h == ballot.voter || *h == ballot.cast_by);
    if !own && !AUDITORS.contains(&principal.role) {
        return Err(WebError::Forbidden(
            "Ce reçu est celui d'un autre associé.".into(),
        ));
    }
    Ok(ballot)
}

/// `GET .../assemblees/{meeting}/recus/{position}/recu.json`: the receipt
/// with its proof, to keep and check offline (`windledger verify-receipt`).
pub async fn receipt_file(
    OnFarm(web, farm, me): OnFarm,
    Params(ReceiptPath {
        meeting: id,
        position,
    }): Params<ReceiptPath>,
) -> PageResult {
    let view = read_meeting(&farm, &id).await?;
    own_ballot(&view.record, &me, position)?;
    let kept = windledger_api::tlog::make_receipt(&web.app, &farm.runtime, position).await?;
    crate::receipts::download(&kept, &format!("recu-{}-{position}.json", farm.id))
}
