//! The territory fund's public pages (docs/territory.md): the fund
//! reconciled, year by year with a chart and in all, its rounds; a round's
//! proposals with their votes and why each was or was not funded. No
//! resident is named: the residents are counted by commune, the proposals
//! carry no proposer.

use axum::http::StatusCode;
use chrono::Utc;
use maud::{Markup, html};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use windledger_api::auth::Role;
use windledger_app::command::Command;
use windledger_domain::budgeting::fund::{FundCommand, TerritoryFund};
use windledger_domain::budgeting::round::RoundCommand;
use windledger_domain::budgeting::{Decision, Method};
use windledger_domain::charter::FeedRule;
use windledger_domain::company::PlaceNames;
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_domain::types::{CommuneCode, ProposalId, ResidentId, RoundId};
use windledger_html::charts::{Bar, bar_chart};
use windledger_html::forms::{Field, FormState, errors_box, select, state_of};
use windledger_html::tables::section;
use windledger_html::tables::{Col, table};
use windledger_projections::territory::{FundView, Proposal, Round};

use crate::extract::{Farm, Params, Post, Shown, Visitor};
use crate::layout::form_guard;
use crate::session::SessionView;
use crate::{PageResult, WebError, format, projected};

/// `.../fonds-de-territoire/{round}`.
#[derive(serde::Deserialize)]
pub struct RoundPath {
    pub round: String,
}

fn euros(amount: Euros) -> String {
    format::euros(amount.amount())
}

fn method(method: Method) -> &'static str {
    match method {
        Method::GreedyApproval => {
            "projets retenus par nombre de voix, tant que l'enveloppe le permet"
        }
        Method::EqualShares => {
            "méthode des parts égales : l'enveloppe est partagée entre les votants, un projet est financé si ses soutiens peuvent le payer de leurs parts"
        }
    }
}

/// Why a proposal was or was not funded, in a sentence.
pub fn decision(decision: &Decision) -> String {
    match decision {
        Decision::Funded {
            rank,
            largest_share: Some(share),
        } => format!(
            "Financé (retenu en {rank}{}) ; chaque soutien y a consacré au plus {} de sa part",
            if *rank == 1 { "er" } else { "e" },
            euros(*share)
        ),
        Decision::Funded { rank, .. } => format!(
            "Financé (retenu en {rank}{})",
            if *rank == 1 { "er" } else { "e" }
        ),
        Decision::NoVotes => "Non financé : aucune voix".to_owned(),
        Decision::OverRemainingBudget { remaining } => format!(
            "Non financé : à son tour, il ne restait que {} de l'enveloppe",
            euros(*remaining)
        ),
        Decision::SupportersShort { their_shares } => format!(
            "Non financé : ses soutiens n'avaient plus que {} de leurs parts",
            euros(*their_shares)
        ),
    }
}

/// The fund: where its money came from, where it went, what is left.
pub async fn fund(farm: Farm, visitor: Visitor) -> PageResult {
    let (view, places) = projected(&farm.runtime, |p| {
        (
            p.territory.fold().fund(),
            p.cap_table.fold().place_names().clone(),
        )
    })
    .await?;
    let body = html! {
        h1 { "Fonds de territoire" }
        p.lead {
            "Une part de ce que gagne le parc finance des projets choisis par les habitants du territoire. "
            "Chaque euro est suivi depuis l'exercice qui l'a produit jusqu'au projet qu'il a payé."
        }
        div.grid {
            div.stat { "Entrées (exercices et subventions)" strong { (euros(view.came_in)) } }
            div.stat { "Versé aux projets" strong { (euros(view.paid)) } }
            div.stat { "Solde" strong { (euros(view.balance)) } }
            div.stat { "Engagé, pas encore versé" strong { (euros(view.outstanding)) } }
            div.stat { "Disponible" strong { (euros(view.available)) } }
        }
        @if visitor.session.as_ref().is_some_and(|s| matches!(s.principal.role, Role::Municipality | Role::Secretary)) {
            p { a href=(farm.path("/gestion-du-fonds")) { "Gestion du fonds : habitants, budgets participatifs, alimentation, subventions et paiements" } }
        }
        (years(&view))
        (feeds(&view))
        (rounds(&farm, &view))
        (residents(&view, &places))
    };
    farm.page(StatusCode::OK, "Fonds de territoire", visitor.shown(), body)
}

fn years(view: &FundView) -> Markup {
    let value = |e: Euros| e.amount().to_f64().unwrap_or(0.0);
    let bars: Vec<Bar> = view
        .years
        .iter()
        .map(|y| Bar {
            label: y.year.to_string(),
            name: format!("Année {}", y.year),
            segments: vec![
                (0, value(y.fed), euros(y.fed)),
                (1, value(y.grants), euros(y.grants)),
            ],
        })
        .collect();
    html! {
        (section("annees", "Année par année", view.years.is_empty(), "Le fonds n'a encore rien reçu.", || html! {
                (bar_chart(
                    "graphique-fonds",
                    "Entrées du fonds de territoire par année",
                    "Ce que le fonds a reçu chaque année, en euros : l'alimentation par les exercices du parc et les subventions.",
                    "€",
                    &["Exercices du parc".to_owned(), "Subventions".to_owned()],
                    &bars,
                ))
                (table(
                    "Le fonds par année (euros) : entrées, versements et solde en fin d'année",
                    &[Col::Text("Année"), Col::Num("Exercices du parc"), Col::Num("Subventions"), Col::Num("Versé aux projets"), Col::Num("Solde en fin d'année")],
                    html! {
                        @for y in &view.years {
                            tr {
                                th scope="row" { (y.year) }
                                td.num { (euros(y.fed)) }
                                td.num { (euros(y.grants)) }
                                td.num { (euros(y.paid)) }
                                td.num { (euros(y.balance)) }
                            }
                        }
                    },
                ))
        }))
    }
}

/// A share as a per cent, to the hundredth at most: `1 %`, `2,5 %`.
fn share(share: Ratio) -> String {
    let per_cent = Decimal::from(share.numerator()) * Decimal::ONE_HUNDRED
        / Decimal::from(share.denominator().max(1));
    let places = if per_cent.fract().is_zero() { 0 } else { 2 };
    format::percent(per_cent, places)
}

/// What the charter's clause took of a year, in French.
fn rule(rule: &FeedRule, base: Decimal) -> String {
    match rule {
        FeedRule::ShareOfRevenue { share: s } => format!(
            "{} du chiffre d'affaires de {}",
            share(*s),
            format::euros(base)
        ),
        FeedRule::PerMwh { amount } => format!(
            "{} par MWh produit, sur {}",
            euros(*amount),
            format::mwh(base, 3)
        ),
        FeedRule::ShareOfDividends { share: s } => {
            format!("{} des dividendes de {}", share(*s), format::euros(base))
        }
    }
}

/// Each financial year that fed the fund: what the charter took, on what.
fn feeds(view: &FundView) -> Markup {
    html! {
        (section("exercices", "Ce que chaque exercice du parc a versé", view.feeds.is_empty(), "Aucun exercice n'a encore alimenté le fonds.", || html! {
                (table(
                    "L'alimentation du fonds par les exercices approuvés, selon la clause des statuts",
                    &[Col::Text("Exercice"), Col::Text("Clause des statuts"), Col::Num("Montant"), Col::Num("Position au journal")],
                    html! {
                        @for f in &view.feeds {
                            tr {
                                th scope="row" { "Exercice " (f.year) }
                                td { (rule(&f.feed.rule, f.base)) }
                                td.num { (euros(f.amount)) }
                                td.num { (f.position) }
                            }
                        }
                    },
                ))
        }))
    }
}

fn rounds(farm: &Farm, view: &FundView) -> Markup {
    html! {
        (section("budgets", "Budgets participatifs", view.rounds.is_empty(), "Aucun budget participatif n'est encore convoqué.", || html! {
                ul {
                    @for r in &view.rounds {
                        li {
                            a href=(farm.path(&format!("/fonds-de-territoire/{}", r.round))) {
                                "Budget participatif " (r.round)
                            }
                            " : enveloppe " (euros(r.budget))
                            @if r.tallied { ", dépouillé" } @else { ", en cours" }
                        }
                    }
                }
        }))
    }
}

fn residents(view: &FundView, places: &PlaceNames) -> Markup {
    html! {
        (section("habitants", "Habitants inscrits", view.residents.is_empty(), "Aucun habitant n'est encore inscrit.", || html! {
                div.table {
                    table {
                        caption { "Habitants inscrits par commune (aucun n'est nommé)" }
                        thead { tr { th scope="col" { "Commune" } th.num scope="col" { "Habitants" } } }
                        tbody {
                            @for (commune, count) in &view.residents {
                                tr { th scope="row" { (format::commune(commune, places)) } td.num { (count) } }
                            }
                        }
                    }
                }
        }))
    }
}

/// A round: its rules, its proposals, and once counted, each one's votes
/// and why it was or was not funded.
pub async fn round(
    farm: Farm,
    visitor: Visitor,
    Params(RoundPath { round }): Params<RoundPath>,
) -> PageResult {
    round_page(&farm, visitor.shown(), &round, None, StatusCode::OK).await
}

/// The round's page, with a resident's forms when a resident is signed in
/// (`sent`: one of them sent back with its errors).
async fn round_page(
    farm: &Farm,
    shown: Shown<'_>,
    round: &str,
    sent: Option<FormState>,
    status: StatusCode,
) -> PageResult {
    let (view, places, committed) = projected(&farm.runtime, |p| {
        let territory = p.territory.fold();
        (
            territory.round(round).cloned(),
            p.cap_table.fold().place_names().clone(),
            territory
                .fund()
                .commitments
                .iter()
                .any(|c| c.round.as_str() == round),
        )
    })
    .await?;
    let view = view.ok_or(WebError::NotFound)?;
    let title = format!("Budget participatif {}", view.round);
    let municipality = shown.0.filter(|s| s.principal.role == Role::Municipality);
    let resident = shown.0.and_then(|s| {
        s.principal
            .resident
            .as_ref()
            .filter(|_| s.principal.role == Role::Resident)
            .map(|r| (s, r))
    });
    let body = html! {
        h1 { (title) }
        @if let Some(sent) = &sent {
            (errors_box("Le formulaire n'a pas été enregistré", &sent.all_messages(FIELD_LABELS)))
        }
        p.lead {
            "Enveloppe " (euros(view.budget)) " ; " (method(view.method)) "."
        }
        (rules(&view, &places))
        @if let Some((session, resident)) = resident {
            (resident_forms(farm, session, resident, &view, &places, sent.as_ref()))
        }
        @if let Some(session) = municipality {
            (municipality_forms(farm, session, &view, committed, sent.as_ref()))
        }
        (proposals(&view, &places))
        p {
            a href=(farm.path("/fonds-de-territoire")) { "Retour au fonds de territoire" }
        }
    };
    farm.page(status, &title, shown, body)
}

const PROPOSAL_FORM: &str = "projet";
const BALLOT_FORM: &str = "bulletin";
/// The fields of both forms, for the box of errors at the top.
const FIELD_LABELS: &[(&str, &str)] = &[
    ("titre", "Titre"),
    ("description", "Description"),
    ("cout", "Coût"),
    ("commune", "Commune"),
    ("choix", "Projets choisis"),
    ("projet", "Projet"),
    ("recevable", "Recevable"),
    ("motif", "Motif"),
];
const REVIEW_FORM: &str = "examen";
/// The name of a proposal's box on the ballot.
fn choice_name(proposal: &ProposalId) -> String {
    format!("choix-{proposal}")
}

/// What a signed-in resident may do in the round now: submit a proposal
/// while submissions are open, vote once while voting is open.
fn resident_forms(
    farm: &Farm,
    session: &SessionView,
    resident: &ResidentId,
    view: &Round,
    places: &PlaceNames,
    sent: Option<&FormState>,
) -> Markup {
    let now = Utc::now();
    let action = |suffix: &str| farm.path(&format!("/fonds-de-territoire/{}/{suffix}", view.round));
    let proposal_view = state_of(sent, PROPOSAL_FORM);
    let ballot_view = state_of(sent, BALLOT_FORM);
    let communes: Vec<(String, String)> = view
        .communes
        .iter()
        .map(|c| (c.to_string(), format::commune(c, places)))
        .collect();
    let eligible: Vec<&Proposal> = view
        .proposals
        .iter()
        .filter(|p| p.eligible == Some(true))
        .collect();
    html! {
        section aria-labelledby="ma-participation" {
            h2 #ma-participation { "Ma participation (habitant " (resident) ")" }
            @if now < view.submissions_open {
                p { "Le dépôt des projets ouvre le " (format::datetime(view.submissions_open)) "." }
            } @else if now < view.submissions_close {
                form.card method="post" action=(action("projet")) {
                    h3 { "Déposer un projet" }
                    (form_guard(session))
                    (Field::new(proposal_view, PROPOSAL_FORM, "titre", "Titre").required().render())
                    (Field::new(proposal_view, PROPOSAL_FORM, "description", "Description").hint("Ce que le projet fera, où, pour qui.").render())
                    (Field::new(proposal_view, PROPOSAL_FORM, "cout", "Coût, en euros").required().decimal().hint("Par exemple 12 000 ou 3 500,50.").render())
                    (select(proposal_view, PROPOSAL_FORM, "commune", "Commune du projet", &communes, "", true))
                    p.hint { "La collectivité examine chaque projet avant le vote et dit pourquoi s'il n'est pas recevable." }
                    button type="submit" { "Déposer le projet" }
                }
            }
            @if now >= view.submissions_close && now < view.voting_open {
                p { "Le vote ouvre le " (format::datetime(view.voting_open)) "." }
            }
            @if now >= view.voting_open && now < view.voting_close {
                @if view.voters.contains(resident) {
                    p { "Votre bulletin est enregistré. Chaque habitant vote une fois." }
                } @else if eligible.is_empty() {
                    p { "Aucun projet n'est recevable : il n'y a rien à choisir." }
                } @else {
                    @let error = ballot_view.error("choix");
                    form.card method="post" action=(action("vote")) {
                        h3 { "Voter" }
                        (form_guard(session))
                        fieldset.choices aria-describedby=[error.map(|_| "bulletin-choix-erreur")] {
                            legend {
                                "Cochez les projets que vous voulez voir financés"
                                @if let Some(max) = view.max_approvals { " (au plus " (max) ")" }
                            }
                            @if let Some(e) = error { span.field-error #bulletin-choix-erreur { (e) } }
                            @for p in &eligible {
                                @let name = choice_name(&p.proposal);
                                label {
                                    input type="checkbox" name=(name) value="oui"
                                        checked[ballot_view.value(&name, "") == "oui"]
                                        aria-invalid=[error.map(|_| "true")];
                                    " " (p.title) " — " (euros(p.cost)) ", " (format::commune(&p.commune, places))
                                }
                            }
                        }
                        p.hint { "Un seul bulletin par habitant : il ne peut plus être changé une fois enregistré." }
                        button type="submit" { "Enregistrer mon vote" }
                    }
                }
            }
            @if now >= view.voting_close {
                p {
                    "Le vote est clos."
                    @if view.voters.contains(resident) { " Votre bulletin a été compté." }
                }
            }
        }
    }
}

/// What the municipality does in the round now: review the proposals
/// until voting opens, count the ballots once it has closed, then commit
/// the fund to the projects funded.
fn municipality_forms(
    farm: &Farm,
    session: &SessionView,
    view: &Round,
    committed: bool,
    sent: Option<&FormState>,
) -> Markup {
    let now = Utc::now();
    let action = |suffix: &str| farm.path(&format!("/fonds-de-territoire/{}/{suffix}", view.round));
    let review_view = state_of(sent, REVIEW_FORM);
    let proposals: Vec<(String, String)> = view
        .proposals
        .iter()
        .map(|p| {
            (
                p.proposal.to_string(),
                format!("{} ({})", p.title, euros(p.cost)),
            )
        })
        .collect();
    let eligible_error = review_view.error("recevable");
    let eligible_value = review_view.value("recevable", "");
    html! {
        section aria-labelledby="collectivite" {
            h2 #collectivite { "La collectivité" }
            @if now < view.voting_open && !proposals.is_empty() {
                form.card method="post" action=(action("examen")) {
                    h3 { "Examiner un projet" }
                    (form_guard(session))
                    (select(review_view, REVIEW_FORM, "projet", "Projet", &proposals, "", true))
                    fieldset.choices aria-describedby=[eligible_error.map(|_| "examen-recevable-erreur")] {
                        legend { "Le projet est-il recevable ?" }
                        @if let Some(e) = eligible_error { span.field-error #examen-recevable-erreur { (e) } }
                        @for (value, text) in [("oui", "Recevable"), ("non", "Irrecevable")] {
                            label {
                                input type="radio" name="recevable" value=(value) required
                                    checked[eligible_value == value]
                                    aria-invalid=[eligible_error.map(|_| "true")];
                                " " (text)
                            }
                        }
                    }
                    (Field::new(review_view, REVIEW_FORM, "motif", "Motif, si le projet est irrecevable").required_by_choice().hint("Publié sur cette page avec le projet.").render())
                    p.hint { "Le dernier examen d'un projet compte, jusqu'à l'ouverture du vote." }
                    button type="submit" { "Enregistrer l'examen" }
                }
            } @else if now < view.voting_open {
                p { "Aucun projet n'est encore déposé." }
            } @else if now < view.voting_close {
                p { "Le vote est en cours jusqu'au " (format::datetime(view.voting_close)) " ; le dépouillement suivra." }
            } @else if view.spent.is_none() {
                form.card method="post" action=(action("depouillement")) {
                    h3 { "Dépouiller" }
                    (form_guard(session))
                    p { "Le vote est clos : " (view.ballots) " bulletin" @if view.ballots != 1 { "s" } ". Le résultat est calculé par la méthode du budget participatif, à partir de chaque bulletin." }
                    button type="submit" { "Dépouiller le vote" }
                }
            } @else if !committed {
                form.card method="post" action=(action("engagement")) {
                    h3 { "Engager le fonds" }
                    (form_guard(session))
                    p { "Les projets retenus deviennent des engagements du fonds de territoire, si ce qui est disponible les couvre." }
                    button type="submit" { "Engager les projets retenus" }
                }
            } @else {
                p { "Les projets retenus sont engagés : le secrétariat les paie." }
            }
        }
    }
}

/// `POST .../fonds-de-territoire/{round}/examen`: the municipality finds a
/// proposal eligible, or not with a reason.
pub async fn review(Params(RoundPath { round }): Params<RoundPath>, post: Post) -> PageResult {
    let mut state = FormState::new(REVIEW_FORM, post.fields.clone());
    let proposal = state.read_required(
        "projet",
        "Choisissez le projet examiné.",
        "Choisissez l'un des projets déposés.",
        |p| ProposalId::new(p).ok(),
    );
    let eligible = state.read_required(
        "recevable",
        "Dites si le projet est recevable.",
        "Choisissez recevable ou irrecevable.",
        |v| match v {
            "oui" => Some(true),
            "non" => Some(false),
            _ => None,
        },
    );
    let reason = state.text("motif").to_owned();
    match eligible {
        Some(false) if reason.is_empty() => {
            state.field_error("motif", "Donnez le motif : il est publié avec le projet.");
        }
        Some(true) if !reason.is_empty() => {
            state.field_error(
                "motif",
                "Un projet recevable n'a pas de motif : laissez ce champ vide.",
            );
        }
        _ => {}
    }
    let command = match (proposal, eligible, state.has_errors()) {
        (Some(proposal), Some(eligible), false) => Some(RoundCommand::Review {
            proposal,
            eligible,
            reason: (!eligible).then_some(reason),
            reviewed_at: Utc::now(),
        }),
        _ => None,
    };
    round_run(
        &post,
        &round,
        state,
        command,
        "L'examen du projet est enregistré.",
    )
    .await
}

/// `POST .../fonds-de-territoire/{round}/depouillement`: the tally.
pub async fn tally(Params(RoundPath { round }): Params<RoundPath>, post: Post) -> PageResult {
    let state = FormState::new(REVIEW_FORM, post.fields.clone());
    let command = RoundCommand::Tally {
        tallied_at: Utc::now(),
    };
    round_run(
        &post,
        &round,
        state,
        Some(command),
        "Le vote est dépouillé.",
    )
    .await
}

/// `POST .../fonds-de-territoire/{round}/engagement`: the round's funded
/// projects committed by the fund.
pub async fn commit(Params(RoundPath { round }): Params<RoundPath>, post: Post) -> PageResult {
    let state = FormState::new(REVIEW_FORM, post.fields.clone());
    let id = RoundId::new(round.clone()).map_err(|_| WebError::NotFound)?;
    let command = (
        TerritoryFund::ID.to_owned(),
        Command::Fund(FundCommand::Commit { round: id }),
    );
    settle_round(
        &post,
        &round,
        state,
        Some(command),
        "Les projets retenus sont engagés.",
    )
    .await
}

/// `POST .../fonds-de-territoire/{round}/projet`: a resident's proposal.
pub async fn submit(Params(RoundPath { round }): Params<RoundPath>, post: Post) -> PageResult {
    let resident = own_resident(&post)?;
    let mut state = FormState::new(PROPOSAL_FORM, post.fields.clone());
    let title = state.read_required("titre", "Donnez un titre au projet.", "", |t| {
        (!t.is_empty()).then(|| t.to_owned())
    });
    let description = state.text("description").to_owned();
    let cost = crate::amount_field(&mut state, "cout", "Indiquez le coût du projet.");
    let commune = state.read_required(
        "commune",
        "Choisissez la commune du projet.",
        "Choisissez l'une des communes du budget participatif.",
        |c| CommuneCode::new(c).ok(),
    );
    // A proposal's id is the server's: unique, and naming no one.
    let proposal = ProposalId::new(format!(
        "projet-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    ))
    .map_err(|_| WebError::Internal)?;
    let command = match (title, cost, commune) {
        (Some(title), Some(cost), Some(commune)) => Some(RoundCommand::Submit {
            proposal,
            resident,
            title,
            description,
            cost,
            commune,
            submitted_at: Utc::now(),
        }),
        _ => None,
    };
    round_run(
        &post,
        &round,
        state,
        command,
        "Votre projet est déposé. La collectivité l'examinera avant le vote.",
    )
    .await
}

/// `POST .../fonds-de-territoire/{round}/vote`: a resident's ballot.
pub async fn vote(Params(RoundPath { round }): Params<RoundPath>, post: Post) -> PageResult {
    let resident = own_resident(&post)?;
    let mut state = FormState::new(BALLOT_FORM, post.fields.clone());
    let view = projected(&post.farm.runtime, |p| {
        p.territory.fold().round(&round).cloned()
    })
    .await?
    .ok_or(WebError::NotFound)?;
    let approvals: Vec<ProposalId> = view
        .proposals
        .iter()
        .filter(|p| {
            post.fields
                .get(&choice_name(&p.proposal))
                .map(String::as_str)
                == Some("oui")
        })
        .map(|p| p.proposal.clone())
        .collect();
    if approvals.is_empty() {
        state.field_error("choix", "Cochez au moins un projet.");
    }
    let command = (!state.has_errors()).then(|| RoundCommand::Vote {
        resident,
        approvals,
        cast_at: Utc::now(),
    });
    round_run(&post, &round, state, command, "Votre vote est enregistré.").await
}

/// The resident the signed-in token acts for (the route lets only a
/// resident in).
fn own_resident(post: &Post) -> Result<ResidentId, WebError> {
    post.me
        .session
        .principal
        .resident
        .clone()
        .ok_or_else(|| WebError::Forbidden("Seul un habitant inscrit vote pour lui-même.".into()))
}

async fn round_run(
    post: &Post,
    round: &str,
    sent: FormState,
    command: Option<RoundCommand>,
    done: &str,
) -> PageResult {
    let command = command.map(|c| (round.to_owned(), Command::Round(c)));
    settle_round(post, round, sent, command, done).await
}

/// Runs `command` (on its aggregate) from a form of the round's page; back
/// to the page, with `done` or the form and its errors.
async fn settle_round(
    post: &Post,
    round: &str,
    sent: FormState,
    command: Option<(String, Command)>,
    done: &str,
) -> PageResult {
    post.run(
        sent,
        command,
        |_| {
            (
                post.farm.path(&format!("/fonds-de-territoire/{round}")),
                done.to_owned(),
            )
        },
        async |sent| {
            round_page(
                &post.farm,
                post.me.shown(),
                round,
                Some(sent),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        },
    )
    .await
}

fn rules(view: &Round, places: &PlaceNames) -> Markup {
    html! {
        ul {
            li {
                "Communes : "
                @for (i, c) in view.communes.iter().enumerate() {
                    @if i > 0 { ", " }
                    (format::commune(c, places))
                }
            }
            li { "Dépôt des projets du " (format::datetime(view.submissions_open)) " au " (format::datetime(view.submissions_close)) }
            li { "Vote du " (format::datetime(view.voting_open)) " au " (format::datetime(view.voting_close)) }
            @if let Some(max) = view.max_approvals { li { "Au plus " (max) " projets par bulletin" } }
            li { (view.ballots) " bulletin" @if view.ballots != 1 { "s" } " reçu" @if view.ballots != 1 { "s" } }
            @if let Some(spent) = view.spent { li { "Dépouillé : " (euros(spent)) " engagés pour les projets retenus" } }
        }
    }
}

fn proposals(view: &Round, places: &PlaceNames) -> Markup {
    html! {
        (section("projets", "Projets", view.proposals.is_empty(), "Aucun projet n'est encore déposé.", || html! {
                (table(
                    "Projets déposés, dans l'ordre de leur dépôt",
                    &[Col::Text("Projet"), Col::Text("Commune"), Col::Num("Coût"), Col::Num("Voix"), Col::Text("Décision")],
                    html! {
                        @for p in &view.proposals {
                            tr {
                                th scope="row" { (p.title) }
                                td { (format::commune(&p.commune, places)) }
                                td.num { (euros(p.cost)) }
                                td.num { @match p.votes { Some(v) => (v), None => "—" } }
                                td {
                                    @match (&p.eligible, &p.decision) {
                                        (Some(false), _) => {
                                            "Irrecevable"
                                            @if let Some(reason) = &p.reason { " : " (reason) }
                                        }
                                        (_, Some(d)) => (decision(d)),
                                        (Some(true), None) => "Recevable",
                                        (None, _) => "En cours d'examen",
                                    }
                                }
                            }
                        }
                    },
                ))
        }))
    }
}
