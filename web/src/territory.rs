//! The territory fund's public pages (docs/territory.md): the fund
//! reconciled, year by year with a chart and in all, its rounds; a round's
//! proposals with their votes and why each was or was not funded. No
//! resident is named: the residents are counted by commune, the proposals
//! carry no proposer.

use axum::http::StatusCode;
use maud::{Markup, html};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use windledger_domain::budgeting::{Decision, Method};
use windledger_domain::charter::FeedRule;
use windledger_domain::company::PlaceNames;
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_html::charts::{Bar, bar_chart};
use windledger_html::tables::cards;
use windledger_projections::territory::{FundView, Round};

use crate::extract::{Farm, Params, Visitor};
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
        section aria-labelledby="annees" {
            h2 #annees { "Année par année" }
            @if view.years.is_empty() {
                p { "Le fonds n'a encore rien reçu." }
            } @else {
                (bar_chart(
                    "graphique-fonds",
                    "Entrées du fonds de territoire par année",
                    "Ce que le fonds a reçu chaque année, en euros : l'alimentation par les exercices du parc et les subventions.",
                    "€",
                    &["Exercices du parc".to_owned(), "Subventions".to_owned()],
                    &bars,
                ))
                (cards(html! {
                    table {
                        caption { "Le fonds par année (euros) : entrées, versements et solde en fin d'année" }
                        thead { tr {
                            th scope="col" { "Année" }
                            th.num scope="col" { "Exercices du parc" }
                            th.num scope="col" { "Subventions" }
                            th.num scope="col" { "Versé aux projets" }
                            th.num scope="col" { "Solde en fin d'année" }
                        } }
                        tbody {
                            @for y in &view.years {
                                tr {
                                    th scope="row" { (y.year) }
                                    td.num { (euros(y.fed)) }
                                    td.num { (euros(y.grants)) }
                                    td.num { (euros(y.paid)) }
                                    td.num { (euros(y.balance)) }
                                }
                            }
                        }
                    }
                }))
            }
        }
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
        section aria-labelledby="exercices" {
            h2 #exercices { "Ce que chaque exercice du parc a versé" }
            @if view.feeds.is_empty() {
                p { "Aucun exercice n'a encore alimenté le fonds." }
            } @else {
                (cards(html! {
                    table {
                        caption { "L'alimentation du fonds par les exercices approuvés, selon la clause des statuts" }
                        thead { tr {
                            th scope="col" { "Exercice" }
                            th scope="col" { "Clause des statuts" }
                            th.num scope="col" { "Montant" }
                            th.num scope="col" { "Position au journal" }
                        } }
                        tbody {
                            @for f in &view.feeds {
                                tr {
                                    th scope="row" { "Exercice " (f.year) }
                                    td { (rule(&f.feed.rule, f.base)) }
                                    td.num { (euros(f.amount)) }
                                    td.num { (f.position) }
                                }
                            }
                        }
                    }
                }))
            }
        }
    }
}

fn rounds(farm: &Farm, view: &FundView) -> Markup {
    html! {
        section aria-labelledby="budgets" {
            h2 #budgets { "Budgets participatifs" }
            @if view.rounds.is_empty() {
                p { "Aucun budget participatif n'est encore convoqué." }
            } @else {
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
            }
        }
    }
}

fn residents(view: &FundView, places: &PlaceNames) -> Markup {
    html! {
        section aria-labelledby="habitants" {
            h2 #habitants { "Habitants inscrits" }
            @if view.residents.is_empty() {
                p { "Aucun habitant n'est encore inscrit." }
            } @else {
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
            }
        }
    }
}

/// A round: its rules, its proposals, and once counted, each one's votes
/// and why it was or was not funded.
pub async fn round(
    farm: Farm,
    visitor: Visitor,
    Params(RoundPath { round }): Params<RoundPath>,
) -> PageResult {
    let (view, places) = projected(&farm.runtime, |p| {
        (
            p.territory.fold().round(&round).cloned(),
            p.cap_table.fold().place_names().clone(),
        )
    })
    .await?;
    let view = view.ok_or(WebError::NotFound)?;
    let title = format!("Budget participatif {}", view.round);
    let body = html! {
        h1 { (title) }
        p.lead {
            "Enveloppe " (euros(view.budget)) " ; " (method(view.method)) "."
        }
        (rules(&view, &places))
        (proposals(&view, &places))
        p {
            a href=(farm.path("/fonds-de-territoire")) { "Retour au fonds de territoire" }
        }
    };
    farm.page(StatusCode::OK, &title, visitor.shown(), body)
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
        section aria-labelledby="projets" {
            h2 #projets { "Projets" }
            @if view.proposals.is_empty() {
                p { "Aucun projet n'est encore déposé." }
            } @else {
                (cards(html! {
                    table {
                        caption { "Projets déposés, dans l'ordre de leur dépôt" }
                        thead { tr {
                            th scope="col" { "Projet" }
                            th scope="col" { "Commune" }
                            th.num scope="col" { "Coût" }
                            th.num scope="col" { "Voix" }
                            th scope="col" { "Décision" }
                        } }
                        tbody {
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
                        }
                    }
                }))
            }
        }
    }
}
