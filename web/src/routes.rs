//! Every page route in one table: its method, path, who may ask and its
//! handler. The router is built from [`routes`] alone, each handler behind
//! the [`authorize`] layer, which applies the route's rule before the
//! handler runs; the authorization test (`web/tests/authorization.rs`)
//! calls every route of the table with every kind of visitor. A page
//! cannot be served without an access rule, and no handler checks a role.
//!
//! The rules are the API's ([`Access`], naming the groups of
//! [`windledger_api::auth::roles`]); a refusal is the pages' own: a visitor
//! without a session is sent to sign in (303 to `/connexion`), a session
//! of another farm, or of a role the rule does not name, gets the French
//! 403 page.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::handler::Handler;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use windledger_api::AppState;
use windledger_api::auth::Caller;
use windledger_api::auth::roles::{
    ALL_ROLES, AUDITORS, MEMBERS, MUNICIPALITY, OPERATOR, RESIDENT, SECRETARY,
};
pub use windledger_api::routes::Access;

use crate::extract::{Farm, Params, Visitor};
use crate::layout::{self, error_page};
use crate::{
    Web, WebError, advances, audit, fund_desk, identity, operator, paperwork, payments, public,
    receipts, secretary, space, territory, turbines,
};

/// One page route.
pub struct PageRoute {
    pub method: Method,
    /// The axum path, `{param}` for parameters.
    pub path: &'static str,
    pub access: Access,
    pub handler: MethodRouter<Web>,
}

/// A shareholder, or the municipality, acting for the holder its token
/// names: who votes and gives proxies (for that holder only).
pub const OWN_HOLDER: Access = Access::RolesOrOwnHolder(&[]);

/// The farms' pages are below this; an unknown address there is a page
/// that does not exist (an HTML 404), elsewhere the API's.
const FARMS: &str = "/parcs";

/// `/parcs/{ledger}` + suffix, as a static string.
macro_rules! farm {
    ($suffix:literal) => {
        concat!("/parcs/{ledger}", $suffix)
    };
}

fn read<H: Handler<T, Web>, T: 'static>(
    path: &'static str,
    access: Access,
    handler: H,
) -> PageRoute {
    PageRoute {
        method: Method::GET,
        path,
        access,
        handler: get(handler),
    }
}

fn form<H: Handler<T, Web>, T: 'static>(
    path: &'static str,
    access: Access,
    handler: H,
) -> PageRoute {
    PageRoute {
        method: Method::POST,
        path,
        access,
        handler: post(handler),
    }
}

/// Every page route.
#[rustfmt::skip] // A table: a route a line.
pub fn routes() -> Vec<PageRoute> {
    use Access::{Public, Roles, RolesOrSelf, RolesOrSelfResident};
    vec![
        read("/", Public, public::index),
        read("/style.css", Public, layout::stylesheet),
        // A receipt checked in the visitor's own browser: the one page with
        // a script (docs/web.md, "The one script").
        read("/verifier-recu", Public, receipts::verifier),
        read("/verifier-recu.js", Public, receipts::verifier_script),
        read("/connexion", Public, space::sign_in_form),
        // The sign-in form carries a CSRF value of its own (no session yet).
        form("/connexion", Public, space::sign_in),
        // Without a session, back home; with one, its CSRF token is checked.
        form("/deconnexion", Public, space::sign_out),
        read(farm!(""), Public, public::show),
        read(farm!("/retombees"), Public, public::returns),
        read(farm!("/point-de-controle"), Public, public::checkpoint),
        read(farm!("/fonds-de-territoire"), Public, territory::fund),
        read(farm!("/fonds-de-territoire/{round}"), Public, territory::round),
        // A resident submits and votes for itself (its token names it).
        form(farm!("/fonds-de-territoire/{round}/projet"), Roles(RESIDENT), territory::submit),
        form(farm!("/fonds-de-territoire/{round}/vote"), Roles(RESIDENT), territory::vote),
        // The municipality runs the round: reviews, the tally, the commitment.
        form(farm!("/fonds-de-territoire/{round}/examen"), Roles(MUNICIPALITY), territory::review),
        form(farm!("/fonds-de-territoire/{round}/depouillement"), Roles(MUNICIPALITY), territory::tally),
        form(farm!("/fonds-de-territoire/{round}/engagement"), Roles(MUNICIPALITY), territory::commit),
        // The fund's desk: the municipality registers residents and
        // convenes rounds; the secretary feeds the fund, records grants and
        // pays projects.
        read(farm!("/gestion-du-fonds"), Roles(AUDITORS), fund_desk::show),
        form(farm!("/gestion-du-fonds/habitants"), Roles(MUNICIPALITY), fund_desk::register),
        form(farm!("/gestion-du-fonds/budgets"), Roles(MUNICIPALITY), fund_desk::convene),
        form(farm!("/gestion-du-fonds/alimentation"), Roles(SECRETARY), fund_desk::feed),
        form(farm!("/gestion-du-fonds/subventions"), Roles(SECRETARY), fund_desk::grant),
        form(farm!("/gestion-du-fonds/paiements"), Roles(SECRETARY), fund_desk::pay),
        // A resident's identity: the municipality's, or the resident's own.
        read(farm!("/habitants/{resident}"), RolesOrSelfResident(MUNICIPALITY), fund_desk::show_resident),
        read(farm!("/habitants/{resident}/identite.json"), RolesOrSelfResident(MUNICIPALITY), fund_desk::export_resident),
        form(farm!("/habitants/{resident}"), Roles(MUNICIPALITY), fund_desk::correct_resident),
        read(farm!("/espace"), Roles(ALL_ROLES), space::home),
        read(farm!("/assemblees/{meeting}"), Roles(MEMBERS), space::meeting),
        form(farm!("/assemblees/{meeting}/vote"), OWN_HOLDER, space::vote),
        form(farm!("/assemblees/{meeting}/procuration"), OWN_HOLDER, space::grant_proxy),
        form(farm!("/assemblees/{meeting}/revocation"), OWN_HOLDER, space::revoke_proxy),
        // A member other than an auditor reads only the receipts of the
        // ballots it cast or that were cast for it: the handler checks
        // (the ballot is known once read).
        read(farm!("/assemblees/{meeting}/recus/{position}"), Roles(MEMBERS), space::receipt),
        read(farm!("/assemblees/{meeting}/recus/{position}/recu.json"), Roles(MEMBERS), space::receipt_file),
        // The receipts of a holder's own movements, payments, interest,
        // ballots and proxies (the handler checks the event is theirs;
        // auditors read any event's).
        read(farm!("/recus/{position}"), Roles(MEMBERS), receipts::receipt),
        // A meeting's roll, with the receipt of the event that holds it.
        read(farm!("/assemblees/{meeting}/liste/recu.json"), Roles(MEMBERS), receipts::roll_receipt_file),
        read(farm!("/recus/{position}/recu.json"), Roles(MEMBERS), receipts::receipt_file),
        // The visitor's own postal voting form (the handler: their holder's).
        read(farm!("/assemblees/{meeting}/formulaire.pdf"), Roles(MEMBERS), paperwork::own_postal_form),
        // The visitor's own IFU (the handler: their holder's).
        read(farm!("/espace/ifu/{year}"), Roles(MEMBERS), payments::own_ifu),
        read(farm!("/registre"), Roles(AUDITORS), audit::register),
        read(farm!("/registre.csv"), Roles(AUDITORS), audit::register_csv),
        read(farm!("/registre/{meeting}"), Roles(AUDITORS), audit::register_meeting),
        read(farm!("/registre/{meeting}/feuille-de-presence.pdf"), Roles(AUDITORS), paperwork::attendance),
        read(farm!("/registre/{meeting}/proces-verbal.pdf"), Roles(AUDITORS), paperwork::minutes),
        read(farm!("/journal"), Roles(AUDITORS), audit::journal),
        read(farm!("/verification"), Roles(AUDITORS), audit::verification),
        form(farm!("/verification"), Roles(AUDITORS), audit::verify),
        read(farm!("/exploitation"), Roles(OPERATOR), operator::show),
        form(farm!("/exploitation/production"), Roles(OPERATOR), operator::production),
        form(farm!("/exploitation/recette"), Roles(OPERATOR), operator::revenue),
        form(farm!("/exploitation/import"), Roles(OPERATOR), operator::upload),
        // A holder's identity: the secretary's, or the shareholder's own.
        read(farm!("/associes/{holder}/identite"), RolesOrSelf(SECRETARY), identity::show),
        read(farm!("/associes/{holder}/identite.json"), RolesOrSelf(SECRETARY), identity::export),
        form(farm!("/associes/{holder}/identite"), RolesOrSelf(SECRETARY), identity::correct),
        read(farm!("/secretariat"), Roles(SECRETARY), secretary::show),
        form(farm!("/secretariat/associes"), Roles(SECRETARY), secretary::admit),
        form(farm!("/secretariat/cessions"), Roles(SECRETARY), secretary::transfer),
        read(farm!("/secretariat/eoliennes"), Roles(SECRETARY), turbines::show),
        form(farm!("/secretariat/eoliennes"), Roles(SECRETARY), turbines::record),
        form(farm!("/secretariat/assemblees"), Roles(SECRETARY), secretary::convene),
        form(farm!("/secretariat/assemblees/{meeting}/ouverture"), Roles(SECRETARY), secretary::open_voting),
        form(farm!("/secretariat/assemblees/{meeting}/cloture"), Roles(SECRETARY), secretary::close),
        // A meeting's paperwork.
        read(farm!("/secretariat/assemblees/{meeting}"), Roles(SECRETARY), paperwork::show),
        read(farm!("/secretariat/assemblees/{meeting}/convocations.pdf"), Roles(SECRETARY), paperwork::letters_file::<false>),
        read(farm!("/secretariat/assemblees/{meeting}/convocations.csv"), Roles(SECRETARY), paperwork::letters_file::<true>),
        read(farm!("/secretariat/assemblees/{meeting}/formulaires.pdf"), Roles(SECRETARY), paperwork::all_postal_forms),
        read(farm!("/secretariat/assemblees/{meeting}/feuille-de-presence.pdf"), Roles(SECRETARY), paperwork::attendance),
        read(farm!("/secretariat/assemblees/{meeting}/proces-verbal.pdf"), Roles(SECRETARY), paperwork::minutes),
        form(farm!("/secretariat/assemblees/{meeting}/convocations/courriels"), Roles(SECRETARY), paperwork::send_emails),
        form(farm!("/secretariat/assemblees/{meeting}/convocations/lettres"), Roles(SECRETARY), paperwork::letters_posted),
        form(farm!("/secretariat/assemblees/{meeting}/correspondance"), Roles(SECRETARY), paperwork::postal_ballot),
        form(farm!("/secretariat/assemblees/{meeting}/pouvoir-papier"), Roles(SECRETARY), paperwork::paper_proxy),
        form(farm!("/secretariat/assemblees/{meeting}/bureau"), Roles(SECRETARY), paperwork::bureau),
        form(farm!("/secretariat/assemblees/{meeting}/proces-verbal"), Roles(SECRETARY), paperwork::record_minutes),
        form(farm!("/secretariat/assemblees/{meeting}/signature"), Roles(SECRETARY), paperwork::sign),
        // A dividend's payments.
        read(farm!("/secretariat/dividendes/{year}"), Roles(SECRETARY), payments::show),
        read(farm!("/secretariat/dividendes/{year}/virements.xml"), Roles(SECRETARY), payments::transfers),
        form(farm!("/secretariat/dividendes/{year}/releve"), Roles(SECRETARY), payments::statement),
        // Current-account advances: interest and repayments.
        read(farm!("/secretariat/avances"), Roles(SECRETARY), advances::show),
        read(farm!("/secretariat/avances/interets.xml"), Roles(SECRETARY), advances::interest),
        read(farm!("/secretariat/avances/remboursement.xml"), Roles(SECRETARY), advances::repayment),
        form(farm!("/secretariat/avances/releve"), Roles(SECRETARY), advances::statement),
    ]
}

/// The pages' routes, to merge into the application's router.
pub fn router<S: Clone + Send + Sync + 'static>(state: AppState) -> Router<S> {
    let web = Web::new(state);
    let (mut pages, mut farms) = (Router::new(), Router::new());
    for route in routes() {
        let handler = route.handler.route_layer(middleware::from_fn_with_state(
            (web.clone(), route.access),
            authorize,
        ));
        match route.path.strip_prefix(FARMS) {
            Some(path) => farms = farms.route(path, handler),
            None => pages = pages.route(route.path, handler),
        }
    }
    let farms = farms
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    // The top fallback answers the unknown addresses the application
    // hands to the pages (those a browser asks for).
    pages
        .nest(FARMS, farms)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(web.clone(), read_only))
        .layer(middleware::map_response(secure_headers))
        .with_state(web)
}

/// On a read-only server (`serve --read-only`), every form is refused but
/// signing in and out (sessions live in the server's memory).
async fn read_only(State(web): State<Web>, request: Request, next: Next) -> Response {
    let signing = matches!(request.uri().path(), "/connexion" | "/deconnexion");
    if web.app.read_only() && request.method() == Method::POST && !signing {
        let writer = web.app.replication().writer_url;
        let elsewhere = match &writer {
            Some(url) => format!(" : faites-le sur le serveur principal, {url}"),
            None => " : faites-le sur le serveur principal".to_owned(),
        };
        return error_page(
            StatusCode::METHOD_NOT_ALLOWED,
            "Serveur en lecture seule",
            &format!(
                "Ce serveur ne fait que montrer le registre ; il n'enregistre rien{elsewhere}."
            ),
        );
    }
    next.run(request).await
}

/// Applies a route's access rule before its handler runs. What it found
/// (the farm, the visitor) is left in the request's extensions for the
/// handler's extractors.
async fn authorize(
    State((web, access)): State<(Web, Access)>,
    request: Request,
    next: Next,
) -> Response {
    if access == Access::Public {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    match admit(&web, access, &mut parts).await {
        Ok(()) => next.run(Request::from_parts(parts, body)).await,
        Err(refused) => refused.into_response(),
    }
}

/// The farm first (a farm that does not exist is a 404 for everyone),
/// then the session, its farm and its role.
async fn admit(web: &Web, access: Access, parts: &mut Parts) -> Result<(), WebError> {
    let Params(params) = Params::<HashMap<String, String>>::from_request_parts(parts, web).await?;
    let farm = match params.get("ledger") {
        Some(ledger) => Some(Farm::open(web, ledger).await?),
        None => None,
    };
    let Ok(visitor) = Visitor::from_request_parts(parts, web).await;
    let session = visitor.session.as_ref().ok_or(WebError::SignIn)?;
    let principal = &session.principal;
    if let Some(farm) = &farm
        && principal.ledger.as_str() != farm.id
    {
        return Err(WebError::Forbidden(
            "Vous êtes connecté pour un autre parc : déconnectez-vous puis connectez-vous avec un jeton de ce parc."
                .into(),
        ));
    }
    let caller = Caller::Token(principal.clone());
    if access.allows(&caller, &params).is_err() {
        let acts_for_none =
            matches!(access, Access::RolesOrOwnHolder(_)) && principal.holder.is_none();
        return Err(WebError::Forbidden(if acts_for_none {
            "Votre jeton n'agit pour aucun associé.".into()
        } else {
            "Votre rôle ne donne pas accès à cette page.".into()
        }));
    }
    if let Some(farm) = farm {
        parts.extensions.insert(farm);
    }
    Ok(())
}

async fn not_found() -> Response {
    WebError::NotFound.into_response()
}

async fn method_not_allowed() -> Response {
    error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Adresse de formulaire",
        "Cette adresse reçoit un formulaire envoyé depuis une page : revenez à la page précédente.",
    )
}

/// Headers of every page: no outside resource, no framing, no sniffing,
/// and nothing kept in shared caches.
async fn secure_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    let set = |headers: &mut axum::http::HeaderMap, name, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(
        headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(headers, header::REFERRER_POLICY, "same-origin");
    set(headers, header::X_FRAME_OPTIONS, "DENY");
    set(headers, header::CACHE_CONTROL, "no-store");
    response
}
