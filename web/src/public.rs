//! What anyone may read: the list of farms, a farm's public page (its
//! parties, production, adopted decisions and local returns), the detail
//! of its local returns, and a signed checkpoint of its ledger. No holder
//! is ever named: parties are colleges, returns go to beneficiaries by
//! kind, and holder ids are taken out of resolution texts.

use std::collections::{BTreeMap, HashMap};

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use windledger_html::tables::section;

use crate::layout::{Col, cards, contents, table};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use windledger_domain::company::PlaceNames;
use windledger_domain::finance::YearMonth;
use windledger_domain::meeting::MeetingKind;
use windledger_domain::money::Euros;
use windledger_projections::cap_table::AsOf;
use windledger_projections::local_returns::{Line, LocalReturns, local_returns};
use windledger_projections::runner::Projections;
use windledger_store::Checkpoint;

use windledger_app::redaction::Names;

use crate::audit::college_names;
use crate::errors::out_of_range;
use crate::extract::{Farm, LedgerPath, Params, Visitor, query_map, runtime};
use crate::layout::{Chrome, Message, download, html_response, message, page};
use crate::{PageResult, Web, WebError, format, projected, votes};
use windledger_html::charts::{Bar, bar_chart};

/// `/`: the farms of this server.
pub async fn index(State(web): State<Web>, visitor: Visitor) -> PageResult {
    // The directory reads each farm's company stream: listing many farms
    // opens none of them.
    let farms = web.app.directory().await?;
    let body = html! {
        h1 { "Parcs éoliens citoyens" }
        p.lead {
            "Chaque parc tient un registre de gouvernance public et vérifiable : "
            "répartition du capital et des voix, décisions, production et retombées locales."
        }
        @if farms.is_empty() {
            p { "Aucun parc n'est encore enregistré sur ce serveur." }
        } @else {
            ul {
                @for farm in farms.iter() {
                    li {
                        a href={ "/parcs/" (farm.ledger) } { (farm.legal_name) }
                        " — " (farm.turbines) " éoliennes, "
                        (format::decimal(Decimal::from(farm.rated_kw) / Decimal::from(1000), 1)) (format::NBSP) "MW"
                    }
                }
            }
        }
    };
    let chrome = Chrome::new("Accueil", visitor.shown());
    Ok(html_response(StatusCode::OK, page(chrome, body)))
}

/// One college's line on the public page.
struct CollegeLine {
    name: String,
    weight: Option<String>,
    holders: usize,
    shares: u64,
    capital_pct: Decimal,
    votes_pct: Decimal,
}

struct Decision {
    date: NaiveDate,
    kind: MeetingKind,
    resolution: String,
    text: String,
    /// Each college's count, in its own unit.
    counts: Markup,
    share_for: String,
}

struct FarmPage {
    formation: Option<NaiveDate>,
    turbines: usize,
    power_kw: u64,
    /// The communes the turbines stand in: code, and name if recorded.
    communes: Vec<(String, Option<String>)>,
    share_capital: Option<Decimal>,
    colleges: Vec<CollegeLine>,
    production_years: Vec<i32>,
    year: Option<i32>,
    production: Vec<(YearMonth, Decimal)>,
    production_total: Decimal,
    decisions: Vec<Decision>,
    rejected: usize,
    /// How the charter in force combines its colleges' votes.
    combination: Option<String>,
    returns: Vec<LocalReturns>,
    /// The names of places, to name the returns' beneficiaries.
    places: PlaceNames,
    /// Sums that do not fit (figures recorded before the input bounds):
    /// said in their section instead of the figures.
    production_out_of_range: Option<Message>,
    returns_out_of_range: Vec<Message>,
}

fn read_farm(p: &Projections, wanted: Option<i32>) -> FarmPage {
    let fold = p.cap_table.fold();
    let incorporation = fold.incorporation();
    let charter = fold.charter(AsOf::Latest);
    let view = fold.view(AsOf::Latest);
    let colleges = match (charter, &view) {
        (Some(charter), Some(view)) => charter
            .colleges
            .iter()
            .map(|c| {
                let totals = view.by_college.get(&c.id);
                CollegeLine {
                    name: c.name.clone(),
                    weight: c.weight.map(|w| w.to_string()),
                    holders: totals.map_or(0, |t| t.holders),
                    shares: totals.map_or(0, |t| t.shares),
                    capital_pct: totals.map_or(Decimal::ZERO, |t| t.capital_pct),
                    votes_pct: totals.map_or(Decimal::ZERO, |t| t.votes_pct),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let finance = p.finance.fold();
    let production_years: Vec<i32> = finance
        .years()
        .filter(|y| !y.production().is_empty())
        .map(|y| y.year)
        .collect();
    let year = wanted.or_else(|| production_years.last().copied());
    let mut production: BTreeMap<YearMonth, Decimal> = BTreeMap::new();
    let mut production_total = Decimal::ZERO;
    let mut production_out_of_range = None;
    if let Some(record) = year.and_then(|y| finance.year(y)) {
        let summed = record.monthly().and_then(|months| {
            for (month, totals) in months.into_iter().filter(|(_, t)| t.turbines_reported > 0) {
                windledger_projections::finance::add(
                    &mut production_total,
                    totals.mwh,
                    record.year,
                    || format!("the production of {month}"),
                )?;
                production.insert(month, totals.mwh);
            }
            Ok(())
        });
        if let Err(e) = summed {
            production.clear();
            production_total = Decimal::ZERO;
            production_out_of_range = Some(out_of_range(&e));
        }
    }
    let names = Names::of(p);
    let college_names = college_names(p);
    let mut decisions = Vec::new();
    let mut rejected = 0;
    for (_, m) in p.register.fold().meetings() {
        let (Some(closed), Some(roll)) = (&m.closed, &m.roll) else {
            continue;
        };
        for (item, result) in m.convocation.agenda.iter().zip(&closed.results) {
            if !result.outcome.is_adopted() {
                rejected += 1;
                continue;
            }
            decisions.push(Decision {
                date: format::to_paris(closed.closed_at).date(),
                kind: m.convocation.kind,
                resolution: result.resolution.to_string(),
                text: names.text(&item.text),
                counts: votes::by_college(result, &roll.roll.colleges, &college_names),
                share_for: votes::percent(result.share_for.as_ref()),
            });
        }
    }
    decisions.sort_by(|a, b| b.date.cmp(&a.date).then(a.resolution.cmp(&b.resolution)));
    let (returns, returns_out_of_range) = years_of_returns(p);
    let returns = returns
        .into_iter()
        .filter(|r| !r.local.is_empty() || !r.leaving.is_empty())
        .collect();
    let places = fold.place_names().clone();
    let turbines = fold.current_turbines();
    let mut communes: Vec<(String, Option<String>)> = turbines
        .iter()
        .map(|t| {
            let name = places.commune(&t.commune).map(str::to_owned);
            (t.commune.to_string(), name)
        })
        .collect();
    communes.sort();
    communes.dedup();
    FarmPage {
        formation: incorporation.map(|i| i.formation_date),
        turbines: turbines.len(),
        power_kw: turbines
            .iter()
            .map(|t| u64::from(t.rated_power.get()))
            .sum(),
        communes,
        share_capital: view.as_ref().map(|v| v.share_capital.amount()),
        colleges,
        production_years,
        year,
        production: production.into_iter().collect(),
        production_total,
        decisions,
        rejected,
        combination: charter.map(|ch| votes::combination(&votes::colleges_of(ch), &college_names)),
        returns,
        places,
        production_out_of_range,
        returns_out_of_range,
    }
}

/// Each year's local returns, in year order, and what could not be added.
fn years_of_returns(p: &Projections) -> (Vec<LocalReturns>, Vec<Message>) {
    let years: Vec<i32> = p.finance.fold().years().map(|y| y.year).collect();
    let mut returns = Vec::new();
    let mut out = Vec::new();
    for y in years {
        match local_returns(p, y) {
            Ok(Some(r)) => returns.push(r),
            Ok(None) => {}
            Err(e) => out.push(out_of_range(&e)),
        }
    }
    (returns, out)
}

fn f64_of(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

/// The year asked for in `?annee=`, if any.
fn year_query(query: &HashMap<String, String>) -> Result<Option<i32>, WebError> {
    match query
        .get("annee")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => Ok(None),
        Some(s) => s
            .parse::<i32>()
            .ok()
            .filter(|y| (1000..=9999).contains(y))
            .map(Some)
            .ok_or_else(|| WebError::BadRequest("L'année demandée n'est pas valide.".into())),
    }
}

/// `/parcs/{ledger}`: the public page of a farm.
pub async fn show(
    State(web): State<Web>,
    farm: Farm,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    visitor: Visitor,
) -> PageResult {
    let wanted = year_query(&query_map(query))?;
    let data = projected(&farm.runtime, |p| read_farm(p, wanted)).await?;
    let body = html! {
        h1 { (farm.name) }
        p.lead {
            "Parc éolien citoyen"
            @if data.turbines > 0 {
                " : " (data.turbines) " éoliennes, "
                (format::decimal(Decimal::from(data.power_kw) / Decimal::from(1000), 1)) (format::NBSP) "MW"
                @if !data.communes.is_empty() {
                    ", sur les communes "
                    @for (i, (code, name)) in data.communes.iter().enumerate() {
                        @if i > 0 { ", " }
                        @match name {
                            Some(name) => span title={ "Code INSEE " (code) } { (name) },
                            None => (code),
                        }
                    }
                    @if data.communes.iter().any(|(_, name)| name.is_none()) { " (codes INSEE)" }
                }
            }
            @if let Some(d) = data.formation { ". Société immatriculée le " (format::date(d)) }
            "."
        }
        (contents(&[
            ("parties", "Les parties : capital et voix"),
            ("production", "Production mensuelle"),
            ("decisions", "Décisions adoptées"),
            ("retombees", "Retombées économiques locales"),
        ]))
        (parties_section(&data))
        (production_section(&farm.path(""), &data))
        (decisions_section(&data))
        (returns_section(&farm.path(""), &data.returns, &data.places, &data.returns_out_of_range))
        section aria-labelledby="fonds" {
            h2 #fonds { "Fonds de territoire" }
            p {
                "Une part de ce que gagne le parc finance des projets choisis par les habitants du territoire : "
                a href=(farm.path("/fonds-de-territoire")) { "le fonds de territoire et ses budgets participatifs" }
                "."
            }
        }
        section aria-labelledby="verifier" {
            h2 #verifier { "Vérifier le registre" }
            p {
                "Le registre est une chaîne d'événements dont chacun contient l'empreinte du précédent. "
                "Un point de contrôle signé atteste de son état à un instant donné : "
                a href=(farm.path("/point-de-controle")) { "télécharger le point de contrôle signé" }
                " (clé publique : " code.hash { (web.app.signer.verifier().to_string()) } ")."
            }
        }
    };
    farm.page(StatusCode::OK, "Page publique", visitor.shown(), body)
}

fn parties_section(data: &FarmPage) -> Markup {
    html! {
        section aria-labelledby="parties" {
            h2 #parties { "Les parties : capital et voix" }
            p {
                "Les associés sont réunis en collèges. Chaque collège détient une part du capital "
                "et une part des voix en assemblée générale (après pondération des collèges prévue par les statuts)."
                @if let Some(c) = data.share_capital {
                    " Capital social : " (format::euros(c)) "."
                }
            }
            @if data.colleges.is_empty() {
                p { "Aucun associé n'est encore inscrit." }
            } @else {
                (table(
                    "Répartition du capital et des voix par collège",
                    &[Col::Text("Collège"), Col::Num("Associés"), Col::Num("Actions"), Col::Num("Part du capital"), Col::Num("Part des voix"), Col::Num("Pondération statutaire")],
                    html! {
                        @for c in &data.colleges {
                            tr {
                                th scope="row" { (c.name) }
                                td.num { (format::int(c.holders as u64)) }
                                td.num { (format::int(c.shares)) }
                                td.num { (format::percent(c.capital_pct, 2)) }
                                td.num { (format::percent(c.votes_pct, 2)) }
                                td.num { (c.weight.clone().unwrap_or_else(|| "—".into())) }
                            }
                        }
                    },
                ))
            }
        }
    }
}

fn production_section(base: &str, data: &FarmPage) -> Markup {
    let bars: Vec<Bar> = data
        .production
        .iter()
        .map(|(m, v)| {
            Bar::single(
                format::short_month(*m).to_owned(),
                format::month(*m),
                f64_of(*v),
                format::mwh(*v, 1),
            )
        })
        .collect();
    let total = data.production_total;
    html! {
        section aria-labelledby="production" {
            h2 #production { "Production mensuelle" }
            @match data.year {
                None => p { "Aucune production n'est encore publiée." },
                Some(year) => {
                    @if data.production_years.len() > 1 {
                        p {
                            "Année : "
                            @for (i, y) in data.production_years.iter().enumerate() {
                                @if i > 0 { " · " }
                                @if *y == year {
                                    strong aria-current="page" { (y) }
                                } @else {
                                    a href={ (base) "?annee=" (y) "#production" } { (y) }
                                }
                            }
                        }
                    }
                    @if let Some(m) = &data.production_out_of_range {
                        p { (message(m)) }
                    } @else if bars.is_empty() {
                        p { "Aucune production n'est publiée pour " (year) "." }
                    } @else {
                        (bar_chart(
                            "graphique-production",
                            &format!("Production d'électricité par mois en {year}"),
                            &format!(
                                "Énergie livrée au réseau par l'ensemble des éoliennes, en MWh, mois par mois ; total {} en {year}.",
                                format::mwh(total, 0)
                            ),
                            "MWh",
                            &[],
                            &bars,
                        ))
                        details {
                            summary { "Tableau des données de production " (year) }
                            div.table {
                                table {
                                    caption { "Production par mois en " (year) " (MWh, corrections appliquées)" }
                                    thead { tr { th scope="col" { "Mois" } th.num scope="col" { "Production" } } }
                                    tbody {
                                        @for (m, v) in &data.production {
                                            tr { th scope="row" { (format::month(*m)) } td.num { (format::mwh(*v, 3)) } }
                                        }
                                    }
                                    tfoot { tr { th scope="row" { "Total" } td.num { (format::mwh(total, 3)) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Decisions shown before the rest is folded away.
const RECENT_DECISIONS: usize = 8;

fn decisions_table(decisions: &[Decision], caption: &str) -> Markup {
    html! {
        (cards(html! {
            table {
                caption { (caption) }
                thead { tr {
                    th scope="col" { "Date" }
                    th scope="col" { "Résolution" }
                    th scope="col" { "Décompte par collège" }
                    th.num scope="col" { "Part des voix exprimées pour" }
                } }
                tbody {
                    @for d in decisions {
                        tr {
                            td { (format::date(d.date)) }
                            td {
                                (d.text)
                                br;
                                small { (format::meeting_kind(d.kind)) ", résolution " (d.resolution) }
                            }
                            td { (d.counts) }
                            td.num { (d.share_for) }
                        }
                    }
                }
            }
        }))
    }
}

/// The summary of the folded older decisions: "La résolution adoptée la
/// plus ancienne", "Les 3 résolutions adoptées plus anciennes".
fn older_decisions(n: usize) -> String {
    if n == 1 {
        "La résolution adoptée la plus ancienne".to_owned()
    } else {
        format!("Les {n} résolutions adoptées plus anciennes")
    }
}

fn decisions_section(data: &FarmPage) -> Markup {
    let split = data.decisions.len().min(RECENT_DECISIONS);
    let (recent, older) = data.decisions.split_at(split);
    html! {
        (section("decisions", "Décisions adoptées", data.decisions.is_empty(), "Aucune décision n'a encore été adoptée.", || html! {
                p {
                    @let (adopted, rejected) = (data.decisions.len(), data.rejected);
                    (adopted) " résolution" (format::plural(adopted)) " adoptée" (format::plural(adopted))
                    @if rejected > 0 { ", " (rejected) " rejetée" (format::plural(rejected)) }
                    "."
                    @if let Some(how) = &data.combination { " " (how) }
                }
                (decisions_table(recent, "Les résolutions adoptées les plus récentes"))
                @if !older.is_empty() {
                    details {
                        summary { (older_decisions(older.len())) }
                        (decisions_table(older, "Résolutions adoptées plus anciennes"))
                    }
                }
        }))
    }
}

/// The beneficiaries of the years' local returns, in order, and each
/// year's amounts by beneficiary.
fn returns_series(
    returns: &[LocalReturns],
    places: &PlaceNames,
) -> (Vec<String>, Vec<BTreeMap<usize, Decimal>>) {
    let mut series: Vec<String> = Vec::new();
    let mut per_year = Vec::new();
    for r in returns {
        let mut amounts: BTreeMap<usize, Decimal> = BTreeMap::new();
        for line in &r.local {
            let name = format::local_beneficiary(&line.party, places);
            let index = match series.iter().position(|s| *s == name) {
                Some(i) => i,
                None => {
                    series.push(name);
                    series.len() - 1
                }
            };
            *amounts.entry(index).or_default() += line.total.amount();
        }
        per_year.push(amounts);
    }
    (series, per_year)
}

fn returns_section(
    base: &str,
    returns: &[LocalReturns],
    places: &PlaceNames,
    out_of_range: &[Message],
) -> Markup {
    let (series, per_year) = returns_series(returns, places);
    let bars: Vec<Bar> = returns
        .iter()
        .zip(&per_year)
        .map(|(r, amounts)| Bar {
            label: r.year.to_string(),
            name: format!("Exercice {}", r.year),
            segments: amounts
                .iter()
                .map(|(i, v)| (*i, f64_of(*v), format::euros(*v)))
                .collect(),
        })
        .collect();
    html! {
        section aria-labelledby="retombees" {
            h2 #retombees { "Retombées économiques locales" }
            @for m in out_of_range { p { (message(m)) } }
            @if returns.is_empty() {
                p { "Aucune retombée n'est encore enregistrée." }
            } @else {
                p {
                    "Ce que le parc verse chaque année à son territoire : impôts locaux (IFER, CFE, taxe foncière), "
                    "loyers, fonds de territoire, dividendes et intérêts versés aux associés du territoire."
                }
                (bar_chart(
                    "graphique-retombees",
                    "Retombées économiques locales par exercice et par bénéficiaire",
                    "Montants versés dans le territoire chaque exercice, en euros, par bénéficiaire.",
                    "€",
                    &series,
                    &bars,
                ))
                (cards(html! {
                    table {
                        caption { "Retombées locales par bénéficiaire et par exercice (euros)" }
                        thead { tr {
                            th scope="col" { "Bénéficiaire" }
                            @for r in returns { th.num scope="col" { (r.year) } }
                        } }
                        tbody {
                            @for (i, name) in series.iter().enumerate() {
                                tr {
                                    th scope="row" { (name) }
                                    @for amounts in &per_year {
                                        td.num {
                                            @match amounts.get(&i) {
                                                Some(v) => (format::euros(*v)),
                                                None => "—",
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        tfoot {
                            tr {
                                th scope="row" { "Total local" }
                                @for r in returns { td.num { (format::euros(r.local_total)) } }
                            }
                            tr {
                                th scope="row" { "Part des recettes restée sur le territoire" }
                                @for r in returns {
                                    td.num {
                                        @match r.local_share_pct {
                                            Some(p) => (format::percent(p, 2)),
                                            None => "—",
                                        }
                                    }
                                }
                            }
                        }
                    }
                }))
                p { a href={ (base) "/retombees" } { "Le détail des retombées par nature et ce qui quitte le territoire" } }
            }
        }
    }
}

/// `/parcs/{ledger}/retombees`: local returns in detail.
pub async fn returns(farm: Farm, visitor: Visitor) -> PageResult {
    let (mut returns, out_of_range, places) = projected(&farm.runtime, |p| {
        let (returns, out_of_range) = years_of_returns(p);
        (
            returns,
            out_of_range,
            p.cap_table.fold().place_names().clone(),
        )
    })
    .await?;
    returns.reverse();
    let body = html! {
        h1 { "Retombées économiques locales" }
        p.lead {
            "Par exercice : ce qui reste dans le territoire du parc, par bénéficiaire et par nature, "
            "et ce qui le quitte. Les dividendes et intérêts sont comptés bruts ; les associés ne sont pas nommés."
        }
        @for m in &out_of_range { p { (message(m)) } }
        @if returns.is_empty() && out_of_range.is_empty() { p { "Aucun exercice n'est encore enregistré." } }
        @for r in &returns {
            section aria-labelledby={ "exercice-" (r.year) } {
                h2 id={ "exercice-" (r.year) } { "Exercice " (r.year) }
                div.grid {
                    div.stat { "Recettes de l'exercice" strong { (format::euros(r.revenue.amount())) } }
                    div.stat { "Resté sur le territoire" strong { (format::euros(r.local_total)) } }
                    div.stat { "Quitte le territoire" strong { (format::euros(r.leaving_total)) } }
                    div.stat {
                        "Part locale des recettes"
                        strong { @match r.local_share_pct { Some(p) => (format::percent(p, 2)), None => "—" } }
                    }
                }
                (returns_table(&format!("Restent sur le territoire ({})", r.year), "Bénéficiaire", &r.local, |b| format::local_beneficiary(b, &places), r.local_total))
                @if !r.leaving.is_empty() {
                    (returns_table(&format!("Quittent le territoire ({})", r.year), "Destinataire", &r.leaving, |p| format::leaving(p).to_owned(), r.leaving_total))
                }
            }
        }
    };
    farm.page(StatusCode::OK, "Retombées locales", visitor.shown(), body)
}

/// Returns by party (named by `party`) and kind, with their total.
fn returns_table<P>(
    caption: &str,
    party_header: &str,
    lines: &[Line<P>],
    party: impl Fn(&P) -> String,
    total: Euros,
) -> Markup {
    html! {
        div.table {
            table {
                caption { (caption) }
                thead { tr { th scope="col" { (party_header) } th scope="col" { "Nature" } th.num scope="col" { "Montant" } } }
                tbody {
                    @for line in lines {
                        @for (kind, amount) in &line.amounts {
                            tr {
                                th scope="row" { (party(&line.party)) }
                                td { (format::return_kind(*kind)) }
                                td.num { (format::euros(*amount)) }
                            }
                        }
                    }
                }
                tfoot { tr { th scope="row" colspan="2" { "Total" } td.num { (format::euros(total)) } } }
            }
        }
    }
}

/// `/parcs/{ledger}/point-de-controle`: the head signed now, as the API's
/// `/checkpoint` signs it, as a file.
pub async fn checkpoint(
    State(web): State<Web>,
    Params(LedgerPath { ledger }): Params<LedgerPath>,
) -> PageResult {
    let runtime = runtime(&web, &ledger).await?;
    let head = runtime.store.head(&runtime.id).await?;
    let note = web
        .app
        .signer
        .sign(&Checkpoint::new(runtime.id.clone(), head, Utc::now()));
    Ok(download(
        note,
        "text/plain; charset=utf-8",
        &format!("{}-{}.checkpoint", runtime.id, head.size),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_older_decision_is_singular() {
        assert_eq!(
            super::older_decisions(1),
            "La résolution adoptée la plus ancienne"
        );
        assert_eq!(
            super::older_decisions(21),
            "Les 21 résolutions adoptées plus anciennes"
        );
    }
}
