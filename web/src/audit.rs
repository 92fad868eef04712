//! What the municipality (and the secretary) audits: the decisions
//! register with each resolution's roll, ballots, tally and deciding rule;
//! the event log by position; the verification of the chain.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use maud::{Markup, html};

use crate::layout::{Col, cards, table};
use windledger_app::services::ledger_event;
use windledger_domain::charter::VoteBasis;
use windledger_domain::meeting::{Call, ResolutionResult, RollCollege};
use windledger_domain::types::CollegeId;
use windledger_french::events::{self, EVENT_TYPES, STREAM_KINDS};
use windledger_projections::cap_table::AsOf;
use windledger_projections::event::decode;
use windledger_projections::register::MeetingRecord;
use windledger_store::{Checkpoint, RecordedEvent, Verification};

use crate::extract::{Farm, FormPost, MeetingPath, Params, SignedIn, query_map};
use crate::layout::{
    FormState, Message, download, errors_box, form_guard, messages_of, state_of, textarea,
};
use crate::session::VerificationReport;
use crate::space::outcome_text;
use crate::{PageResult, Web, WebError, format, projected, votes};

/// Each college's name, by id, in the charter in force.
pub fn college_names(
    p: &windledger_projections::runner::Projections,
) -> HashMap<CollegeId, String> {
    p.cap_table
        .fold()
        .charter(AsOf::Latest)
        .map(|c| {
            c.colleges
                .iter()
                .map(|c| (c.id.clone(), c.name.clone()))
                .collect()
        })
        .unwrap_or_default()
}

fn status(m: &MeetingRecord) -> Markup {
    html! {
        @if m.closed.is_some() { span.badge.ok { "clôturée" } }
        @else if m.roll.is_some() { span.badge.neutral { "vote ouvert" } }
        @else { span.badge.neutral { "convoquée" } }
    }
}

/// `/parcs/{ledger}/registre`: every meeting.
pub async fn register(farm: Farm, me: SignedIn) -> PageResult {
    let meetings: Vec<(String, MeetingRecord)> = projected(&farm.runtime, |p| {
        p.register
            .fold()
            .meetings()
            .map(|(id, m)| (id.clone(), m.clone()))
            .collect()
    })
    .await?;
    let body = html! {
        h1 { "Registre des décisions" }
        p.lead {
            "Chaque assemblée avec sa convocation, sa liste d'émargement, ses pouvoirs, chaque bulletin avec son reçu, "
            "et le décompte de chaque résolution avec la règle qui l'a décidée."
        }
        p { a href=(farm.path("/registre.csv")) download { "Télécharger les décisions (fichier CSV, une ligne par résolution et par collège)" } }
        @if meetings.is_empty() { p { "Aucune assemblée n'a été convoquée." } }
        @else {
            (table(
                "Assemblées, de la plus récente à la plus ancienne",
                &[Col::Text("Assemblée"), Col::Text("Nature"), Col::Text("Date d'enregistrement"), Col::Num("Résolutions"), Col::Num("Bulletins"), Col::Text("Statut")],
                html! {
                    @for (id, m) in meetings.iter().rev() {
                        tr {
                            th scope="row" { a href=(farm.path(&format!("/registre/{id}"))) { (id) } }
                            td { (format::meeting_kind(m.convocation.kind)) }
                            td { (format::date(m.convocation.record_date)) }
                            td.num { (m.convocation.agenda.len()) }
                            td.num { (m.ballots.len()) }
                            td { (status(m)) }
                        }
                    }
                },
            ))
        }
    };
    farm.page(StatusCode::OK, "Registre des décisions", me.shown(), body)
}

/// Why a resolution was decided as it was: the rules, in the order the
/// tally applies them.
fn deciding_rule(
    r: &ResolutionResult,
    roll: &[RollCollege],
    colleges: &HashMap<CollegeId, String>,
) -> Markup {
    let name = |c: &CollegeId| votes::name(c, colleges);
    let basis = |c: &CollegeId| roll.iter().find(|k| &k.id == c).map(|k| k.vote_basis);
    let required: Vec<String> = r
        .colleges
        .iter()
        .filter(|c| c.majority_required)
        .map(|c| name(&c.college))
        .collect();
    let share = r.share_for.as_ref().map(|f| f.to_string());
    html! {
        ul {
            @if let Some(counted) = votes::quorum_counted(r, colleges) {
                li {
                    "Quorum " (counted) ", il en fallait " (r.quorum) " — "
                    @if r.quorum_reached { span.badge.ok { "atteint" } } @else { span.badge.bad { "non atteint" } }
                }
            } @else {
            li {
                @if votes::totals_add_up(roll) {
                    "Quorum : " (format::int(r.present)) " voix présentes ou représentées sur " (format::int(r.roll_total))
                } @else {
                    "Quorum : présents ou représentés, "
                    @for (i, t) in r.colleges.iter().enumerate() {
                        @if i > 0 { ", " }
                        @if let Some(b) = basis(&t.college) {
                            (name(&t.college)) " " (votes::count(b, t.present)) " sur " (format::int(t.roll_total))
                        }
                    }
                    " ; les statuts comptent le quorum sur la somme des poids de vote de tous les collèges : "
                    (format::int(r.present)) " sur " (format::int(r.roll_total))
                }
                ", il en fallait " (r.quorum) " — "
                @if r.quorum_reached { span.badge.ok { "atteint" } } @else { span.badge.bad { "non atteint" } }
            }
            }
            li {
                "Majorité : " (votes::majority(r.majority)) " ; part des voix pour "
                (votes::percent(r.share_for.as_ref()))
                @if let Some(s) = &share { " (" code { (s) } ")" }
                @if r.weighted { ", collèges pondérés" }
                " — "
                @if r.majority_reached { span.badge.ok { "atteinte" } } @else { span.badge.bad { "non atteinte" } }
            }
            @if !r.weight_shared_from.is_empty() {
                li {
                    "Sans voix exprimée, le poids de "
                    (r.weight_shared_from.iter().map(name).collect::<Vec<_>>().join(", "))
                    " a été réparti entre les autres collèges."
                }
            }
            @if !required.is_empty() {
                li {
                    "Majorité requise dans le collège : " (required.join(", "))
                    @if !r.veto.is_default() { " ; veto " (votes::veto_basis(r.veto)) }
                }
            }
            li { "Décision : " (outcome_text(&r.outcome, colleges)) }
        }
    }
}

/// `/parcs/{ledger}/registre/{meeting}`: one meeting in full.
pub async fn register_meeting(
    farm: Farm,
    me: SignedIn,
    Params(MeetingPath { meeting: id }): Params<MeetingPath>,
) -> PageResult {
    let (record, colleges) = projected(&farm.runtime, |p| {
        (p.register.fold().meeting(&id).cloned(), college_names(p))
    })
    .await?;
    let m = record.ok_or(WebError::NotFound)?;
    let c = &m.convocation;
    let name = |id: &CollegeId| votes::name(id, &colleges);
    let roll_colleges: &[RollCollege] = m.roll.as_ref().map_or(&[], |r| &r.roll.colleges);
    let adds_up = votes::totals_add_up(roll_colleges);
    let title = format!("{} {}", format::meeting_kind(c.kind), c.meeting);
    let body = html! {
        h1 { (title) }
        p { (status(&m)) }
        @if m.roll.is_some() {
            ul {
                li { a href=(farm.path(&format!("/registre/{id}/feuille-de-presence.pdf"))) { "Feuille de présence (PDF)" } }
                @if m.minutes.is_some() {
                    li { a href=(farm.path(&format!("/registre/{id}/proces-verbal.pdf"))) { "Procès-verbal (PDF)" } }
                }
            }
        }
        h2 { "Convocation" }
        dl {
            dt { "Convocation" } dd {
                @match &c.call {
                    Call::First => "première convocation",
                    Call::Second { first_call } => { "seconde convocation (première : " (first_call) ")" }
                }
            }
            dt { "Convoquée le" } dd { (format::date(c.convened_on)) }
            dt { "Date d'enregistrement" } dd { (format::date(c.record_date)) }
            dt { "Vote" } dd { "du " (format::datetime(c.opens_at)) " au " (format::datetime(c.closes_at)) }
            dt { "Événement" } dd { "position " (format::int(m.convened.position)) ", empreinte " code.hash { (m.convened.hash.to_hex()) } }
        }
        h3 { "Règles de décision (copiées des statuts à la convocation)" }
        ul {
            @for k in &c.decision_kinds {
                li {
                    strong { "Décision " (format::decision_kind(k.id.as_str())) } " : quorum " (k.quorum_first_call) " (seconde convocation : " (k.quorum_second_call) "), "
                    (votes::majority(k.majority))
                    @if !k.college_majorities_required.is_empty() {
                        ", majorité requise dans : "
                        (k.college_majorities_required.iter().map(name).collect::<Vec<_>>().join(", "))
                    }
                }
            }
        }
        h2 { "Ordre du jour" }
        ol { @for item in &c.agenda { li { (item.text) " — " small { (item.resolution) ", décision " (format::decision_kind(item.decision_kind.as_str())) } } } }
        h2 { "Liste d'émargement" }
        @match &m.roll {
            None => p { "La liste n'est pas encore arrêtée (le vote n'est pas ouvert)." },
            Some(roll) => {
                p {
                    "Arrêtée le " (format::datetime(roll.opened_at)) " (position " (format::int(roll.at.position)) ") : "
                    (roll.roll.voters.len()) " votants"
                    @if adds_up { ", " (format::int(roll.total)) " voix" }
                    "."
                }
                details {
                    summary { "Les " (roll.roll.voters.len()) " votants" }
                    (table(
                        html! { "Liste d'émargement (au " (format::date(roll.roll.record_date)) ")" },
                        &[Col::Text("Associé"), Col::Text("Collège"), Col::Num("Actions"), Col::Num("Voix")],
                        html! {
                            @for v in &roll.roll.voters {
                                tr {
                                    td { (v.holder) } td { (name(&v.college)) }
                                    td.num { (format::int(v.shares)) } td.num { (format::int(v.weight)) }
                                }
                            }
                        },
                    ))
                }
            }
        }
        h2 { "Pouvoirs" }
        @if m.proxies.is_empty() { p { "Aucun pouvoir." } }
        @else {
            div.table {
                table {
                    caption { "Pouvoirs donnés (positions des événements)" }
                    thead { tr { th scope="col" { "Mandant" } th scope="col" { "Mandataire" } th.num scope="col" { "Donné" } th.num scope="col" { "Révoqué" } } }
                    tbody {
                        @for p in &m.proxies {
                            tr {
                                td { (p.grantor) } td { (p.proxy) }
                                td.num { (format::int(p.granted.position)) }
                                td.num { @match &p.revoked { Some(r) => (format::int(r.position)), None => "—" } }
                            }
                        }
                    }
                }
            }
        }
        h2 { "Bulletins" }
        @if m.ballots.is_empty() { p { "Aucun bulletin." } }
        @else {
            details open[m.ballots.len() <= 30] {
                summary { (m.ballots.len()) " bulletins, avec leur reçu" }
                (cards(html! {
                    table {
                        caption { "Chaque bulletin déposé, remplacés et retirés compris" }
                        thead { tr {
                            th.num scope="col" { "Position" }
                            th scope="col" { "Empreinte" }
                            th scope="col" { "Votant" }
                            th scope="col" { "Déposé par" }
                            th scope="col" { "Date" }
                            @for item in &c.agenda { th scope="col" { "n°" (item.resolution.as_str().rsplit('.').next().unwrap_or("")) } }
                            th scope="col" { "Compté" }
                        } }
                        tbody {
                            @for b in &m.ballots {
                                tr {
                                    td.num { (format::int(b.receipt.position)) }
                                    td { code.hash title=(b.receipt.hash.to_hex()) { (format::short_hash(&b.receipt.hash.to_hex())) "…" } }
                                    td { (b.voter) }
                                    td { (b.cast_by) @if b.postal { " (vote par correspondance)" } }
                                    td { (format::datetime(b.cast_at)) @if b.postal { " (reçu)" } }
                                    @for choice in &b.choices { td { (format::choice(*choice)) } }
                                    td { @if b.in_force { "oui" } @else { "non" } }
                                }
                            }
                        }
                    }
                }))
            }
        }
        h2 { "Décompte" }
        @match &m.closed {
            None => p { "L'assemblée n'est pas close : le décompte sera enregistré à la clôture." },
            Some(closed) => {
                p { "Close le " (format::datetime(closed.closed_at)) " (position " (format::int(closed.at.position)) ", empreinte " code.hash { (closed.at.hash.to_hex()) } ")." }
                p { (votes::combination(roll_colleges, &colleges)) }
                @for (item, r) in c.agenda.iter().zip(&closed.results) {
                    section.card aria-labelledby={ "r-" (r.resolution) } {
                        h3 id={ "r-" (r.resolution) } { "Résolution " (r.resolution) " : " (item.text) }
                        (deciding_rule(r, roll_colleges, &colleges))
                        (cards(html! {
                            table {
                                caption { "Décompte par collège, chacun dans son unité" }
                                thead { tr {
                                    th scope="col" { "Collège" }
                                    th.num scope="col" { "Émargement" }
                                    th.num scope="col" { "Présents" }
                                    th.num scope="col" { "Pour" }
                                    th.num scope="col" { "Contre" }
                                    th.num scope="col" { "Abstentions" }
                                    th.num scope="col" { "Pondération" }
                                    th.num scope="col" { "Pondération appliquée" }
                                    th scope="col" { "Majorité pour" }
                                } }
                                tbody {
                                    @for t in &r.colleges {
                                        tr {
                                            th scope="row" {
                                                (name(&t.college)) @if t.majority_required { " (majorité requise)" }
                                                @match roll_colleges.iter().find(|k| k.id == t.college).map(|k| k.vote_basis) {
                                                    Some(VoteBasis::PerMember) => { br; small { "en associés : un associé, une voix" } }
                                                    Some(VoteBasis::PerShare) => { br; small { "en voix des actions" } }
                                                    None => {}
                                                }
                                            }
                                            td.num { (format::int(t.roll_total)) }
                                            td.num { (format::int(t.present)) }
                                            td.num { (format::int(t.votes_for)) }
                                            td.num { (format::int(t.votes_against)) }
                                            td.num { (format::int(t.abstentions)) }
                                            td.num { @match t.weight { Some(w) => (w.to_string()), None => "—" } }
                                            td.num { (votes::percent(t.applied_weight.as_ref())) }
                                            td { @if t.majority_for { "oui" } @else { "non" } }
                                        }
                                    }
                                }
                                @if adds_up { tfoot { tr {
                                    th scope="row" { "Total" }
                                    td.num { (format::int(r.roll_total)) }
                                    td.num { (format::int(r.present)) }
                                    td.num { (format::int(r.votes_for)) }
                                    td.num { (format::int(r.votes_against)) }
                                    td.num { (format::int(r.abstentions)) }
                                    td {} td {} td {}
                                } } }
                            }
                        }))
                    }
                }
            }
        }
    };
    farm.page(StatusCode::OK, &title, me.shown(), body)
}

/// `/parcs/{ledger}/registre.csv`: the decisions of every closed meeting
/// as a file (`;`-separated, UTF-8), a line per resolution and college,
/// each count in its college's own unit.
pub async fn register_csv(farm: Farm, _me: SignedIn) -> PageResult {
    let (meetings, colleges) = projected(&farm.runtime, |p| {
        let meetings: Vec<MeetingRecord> = p
            .register
            .fold()
            .meetings()
            .map(|(_, m)| m.clone())
            .collect();
        (meetings, college_names(p))
    })
    .await?;
    let mut file = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(Vec::new());
    let header = [
        "assemblee",
        "nature",
        "close_le",
        "resolution",
        "texte",
        "decision",
        "resultat",
        "part_des_voix_exprimees_pour",
        "college",
        "unite",
        "emargement",
        "presents",
        "pour",
        "contre",
        "abstentions",
        "ponderation",
        "majorite_pour_dans_le_college",
    ];
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    for m in &meetings {
        let (Some(closed), Some(roll)) = (&m.closed, &m.roll) else {
            continue;
        };
        let c = &m.convocation;
        for (item, r) in c.agenda.iter().zip(&closed.results) {
            for t in &r.colleges {
                let unit = match roll
                    .roll
                    .colleges
                    .iter()
                    .find(|k| k.id == t.college)
                    .map(|k| k.vote_basis)
                {
                    Some(VoteBasis::PerMember) => "associes",
                    _ => "voix",
                };
                rows.push(vec![
                    c.meeting.to_string(),
                    format::meeting_kind(c.kind).to_owned(),
                    format::to_paris(closed.closed_at)
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                    r.resolution.to_string(),
                    item.text.clone(),
                    format::decision_kind(r.decision_kind.as_str()),
                    votes::outcome(&r.outcome, &colleges),
                    r.share_for
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    votes::name(&t.college, &colleges),
                    unit.to_owned(),
                    t.roll_total.to_string(),
                    t.present.to_string(),
                    t.votes_for.to_string(),
                    t.votes_against.to_string(),
                    t.abstentions.to_string(),
                    t.weight.map(|w| w.to_string()).unwrap_or_default(),
                    if t.majority_for { "oui" } else { "non" }.to_owned(),
                ]);
            }
        }
    }
    for row in rows {
        file.write_record(&row).map_err(|_| WebError::Internal)?;
    }
    let bytes = file.into_inner().map_err(|_| WebError::Internal)?;
    Ok(download(
        bytes,
        "text/csv; charset=utf-8",
        &format!("{}-registre-des-decisions.csv", farm.id),
    ))
}

/// Events per page of the log.
const PAGE: u32 = 50;
/// Events read at a time when a filter passes most of them over.
const FILTERED_READ: u32 = 1_000;

/// `/parcs/{ledger}/journal`: the event log, newest first, each event in
/// French with its effective and recorded dates. `position` starts the
/// page there and goes back; `flux` keeps one kind of stream (`meeting`)
/// or one stream (`meeting/ago-2025`); `type` one event type.
pub async fn journal(
    farm: Farm,
    me: SignedIn,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> PageResult {
    let query = query_map(query);
    let given = |name: &str| query.get(name).map(|s| s.trim()).filter(|s| !s.is_empty());
    let top = given("position")
        .map(|s| {
            s.parse::<u64>().map_err(|_| {
                WebError::BadRequest("La position demandée n'est pas un nombre entier.".into())
            })
        })
        .transpose()?;
    let stream = given("flux").map(str::to_owned);
    let kind = given("type").map(str::to_owned);
    if kind
        .as_ref()
        .is_some_and(|k| !EVENT_TYPES.iter().any(|(t, _)| t == k))
    {
        return Err(WebError::BadRequest(
            "Ce type d'événement n'existe pas.".into(),
        ));
    }
    let streams = projected(&farm.runtime, |p| {
        let meetings = p
            .register
            .fold()
            .meetings()
            .map(|(id, _)| format!("meeting/{id}"));
        let years = p
            .finance
            .fold()
            .years()
            .map(|y| format!("financial-year/{}", y.year));
        meetings.chain(years).collect::<Vec<_>>()
    })
    .await?;
    let store = &farm.runtime.store;
    let head = store.head(&farm.runtime.id).await?;
    let top = top.unwrap_or(head.size).min(head.size);
    let wanted = |e: &RecordedEvent| {
        let id = e.stream_id.as_str();
        stream
            .as_deref()
            .is_none_or(|s| id == s || id.strip_prefix(s).is_some_and(|rest| rest.starts_with('/')))
            && kind.as_deref().is_none_or(|k| e.event_type == k)
    };
    let filtered = stream.is_some() || kind.is_some();
    let read_size = if filtered { FILTERED_READ } else { PAGE };
    let mut events = Vec::new();
    let mut end = top;
    while end > 0 && events.len() < PAGE as usize {
        let from = end.saturating_sub(u64::from(read_size));
        let read = store.read_ledger(&farm.runtime.id, from, read_size).await?;
        for e in read
            .into_iter()
            .rev()
            .filter(|e| e.position <= end && wanted(e))
        {
            if events.len() < PAGE as usize {
                events.push(e);
            }
        }
        end = from;
    }
    let older = events
        .last()
        .map(|e| e.position - 1)
        .filter(|p| *p > 0 && events.len() == PAGE as usize);
    let link = |position: Option<u64>| {
        let mut params: Vec<String> = Vec::new();
        if let Some(p) = position {
            params.push(format!("position={p}"));
        }
        if let Some(s) = &stream {
            params.push(format!("flux={s}"));
        }
        if let Some(k) = &kind {
            params.push(format!("type={k}"));
        }
        let path = farm.path("/journal");
        if params.is_empty() {
            path
        } else {
            format!("{path}?{}", params.join("&"))
        }
    };
    let body = html! {
        h1 { "Journal des événements" }
        p.lead {
            "Le registre complet, événement par événement, du plus récent au plus ancien ("
            (format::int(head.size)) " événements). Chaque événement porte l'empreinte du précédent ; "
            "sa date d'effet (celle d'une cession, d'un mois de production, d'une assemblée) peut précéder "
            "de longtemps la date où il a été enregistré."
        }
        form.filters method="get" action=(farm.path("/journal")) {
            label for="flux" { "Flux" }
            select #flux name="flux" {
                option value="" selected[stream.is_none()] { "Tous les flux" }
                optgroup label="Par nature" {
                    @for (prefix, name) in STREAM_KINDS {
                        option value=(prefix) selected[stream.as_deref() == Some(prefix)] { (name) }
                    }
                }
                optgroup label="Un flux" {
                    @for s in &streams {
                        option value=(s) selected[stream.as_deref() == Some(s.as_str())] { (s) }
                    }
                }
            }
            label for="type" { "Type d'événement" }
            select #type name="type" {
                option value="" selected[kind.is_none()] { "Tous les types" }
                @for (t, name) in EVENT_TYPES {
                    option value=(t) selected[kind.as_deref() == Some(t)] { (name) }
                }
            }
            label for="position" { "À partir de la position" }
            input type="number" #position name="position" min="1" max=(head.size.max(1)) inputmode="numeric"
                value=(top.max(1));
            button type="submit" { "Afficher" }
        }
        nav aria-label="Pages du journal" {
            p {
                @if top < head.size {
                    a href=(link(None)) { "← Les plus récents" } " "
                    @if !filtered {
                        a href=(link(Some((top + u64::from(PAGE)).min(head.size)))) { "Événements plus récents" } " "
                    }
                }
                @if let Some(p) = older { a href=(link(Some(p))) { "Événements plus anciens →" } }
            }
        }
        @if events.is_empty() {
            p { "Aucun événement "
                @if filtered { "de ce flux ou de ce type " }
                "jusqu'à la position " (format::int(top)) "." }
        } @else {
            (table(
                html! {
                    "Positions " (format::int(events[0].position)) " à " (format::int(events[events.len() - 1].position))
                    ", de la plus récente à la plus ancienne"
                    @if filtered { " (filtrées)" }
                },
                &[Col::Num("Position"), Col::Text("Événement"), Col::Text("Date d'effet"), Col::Text("Enregistré le"), Col::Text("Empreinte")],
                html! { @for e in &events { (journal_row(e)) } },
            ))
        }
    };
    farm.page(StatusCode::OK, "Journal des événements", me.shown(), body)
}

/// One event of the log: what it says in French, its dates, its content.
fn journal_row(e: &RecordedEvent) -> Markup {
    let event = ledger_event(e.clone());
    let described = decode(&event).map(|decoded| events::describe(&decoded));
    html! {
        tr {
            td.num { (format::int(e.position)) }
            td {
                strong { (events::type_name(&e.event_type)) } br;
                @match &described {
                    Ok(d) => (d.summary),
                    Err(_) => "Ce contenu ne se lit pas comme un événement du parc.",
                }
                br; small { "Flux " code { (e.stream_id.as_str()) } ", version " (e.stream_version) }
                details {
                    summary { "Contenu enregistré" }
                    pre { (serde_json::from_str::<serde_json::Value>(e.payload.get())
                        .and_then(|v| serde_json::to_string_pretty(&v))
                        .unwrap_or_else(|_| e.payload.get().to_owned())) }
                    @if let Some(actor) = &e.metadata.actor { p { small { "Auteur : " (actor) } } }
                }
            }
            td { @match described.as_ref().ok().and_then(|d| d.effective.as_ref()) { Some(d) => (d), None => "—" } }
            td { (format::datetime(e.recorded_at)) }
            td { code.hash title=(e.hash.to_hex()) { (format::short_hash(&e.hash.to_hex())) "…" } }
        }
    }
}

const VERIFY_FORM: &str = "verification";

async fn verification_page(
    web: &Web,
    farm: &Farm,
    me: &SignedIn,
    sent: Option<FormState>,
    status: StatusCode,
) -> PageResult {
    let session = &me.session;
    let head = farm.runtime.store.head(&farm.runtime.id).await?;
    let report = web
        .sessions
        .verification(&session.key)
        .filter(|r| r.ledger == farm.id);
    let view = state_of(sent.as_ref(), VERIFY_FORM);
    let top: Vec<Message> = messages_of(sent.as_ref(), &[("point", "Point de contrôle")]);
    let body = html! {
        h1 { "Vérifier la chaîne" }
        (errors_box("La vérification n'a pas pu être lancée", &top))
        p.lead {
            "La vérification recalcule l'empreinte de chaque événement depuis la position 1, vérifie que chacun "
            "contient l'empreinte du précédent, que les positions se suivent sans trou, et que la tête enregistrée "
            "est bien celle de la chaîne. Elle peut aussi confronter le registre à un point de contrôle signé "
            "que vous avez conservé : une histoire réécrite ou tronquée serait détectée."
        }
        p {
            "État actuel : " strong { (format::int(head.size)) " événements" } ", tête "
            code.hash { (head.hash.to_hex()) } "."
        }
        @if let Some(r) = &report {
            section.card aria-labelledby="resultat" role="status" {
                h2 #resultat { "Résultat de la vérification du " (format::datetime(r.at)) }
                @if r.intact {
                    p {
                        span.badge.ok { "Chaîne intacte" } " : "
                        (format::int(r.size)) " événements vérifiés, tête " code.hash { (r.head) }
                        @if r.checkpoints > 0 { " ; le point de contrôle fourni est bien un préfixe de cette histoire" }
                        "."
                    }
                } @else {
                    p {
                        span.badge.bad { "Chaîne rompue" }
                        @if let Some(p) = r.broken_at { " à la position " strong { (format::int(p)) } }
                        @if let Some(reason) = &r.reason { " : " span lang="en" { (reason) } }
                    }
                }
            }
        }
        form.card method="post" action=(farm.path("/verification")) {
            (form_guard(session))
            (textarea(view, VERIFY_FORM, "point", "Point de contrôle signé à confronter",
                Some("Collez ici le texte d'un point de contrôle téléchargé auparavant (il doit être signé par la clé de ce serveur).")))
            button type="submit" { "Vérifier la chaîne" }
        }
        p {
            a href=(farm.path("/point-de-controle")) { "Télécharger un point de contrôle signé de l'état actuel" }
            " — clé publique de vérification : " code.hash { (web.app.signer.verifier().to_string()) }
        }
    };
    farm.page(status, "Vérifier la chaîne", me.shown(), body)
}

/// `GET /parcs/{ledger}/verification`.
pub async fn verification(State(web): State<Web>, farm: Farm, me: SignedIn) -> PageResult {
    verification_page(&web, &farm, &me, None, StatusCode::OK).await
}

/// `POST /parcs/{ledger}/verification`: runs the audit, keeps its result
/// in the session, and shows it.
pub async fn verify(State(web): State<Web>, farm: Farm, form: FormPost) -> PageResult {
    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    let note = form.text("point");
    if !note.is_empty() {
        // Notes end with a newline; a paste may have lost it or gained \r.
        let note = format!("{}\n", note.replace("\r\n", "\n"));
        let refused = match web.app.signer.verifier().verify(&note) {
            Ok(c) if c.ledger == farm.runtime.id => {
                checkpoints.push(c);
                None
            }
            Ok(_) => Some("Ce point de contrôle concerne un autre registre."),
            Err(_) => {
                Some("Ce texte n'est pas un point de contrôle signé par la clé de ce serveur.")
            }
        };
        if let Some(refused) = refused {
            let mut state = FormState::new(VERIFY_FORM, form.fields.clone());
            state.field_error("point", refused);
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            return verification_page(&web, &farm, &form.me, Some(state), status).await;
        }
    }
    let outcome = farm
        .runtime
        .store
        .verify(
            &farm.runtime.id,
            &web.app.trusted_keys,
            &checkpoints,
            |_, _| {},
        )
        .await?;
    // A break found here stops the server from extending or signing that
    // history, as one found while following the ledger does.
    if let Verification::Broken(b) = &outcome {
        farm.runtime
            .integrity
            .fail(Some(b.position), b.reason.clone());
    }
    let report = match outcome {
        Verification::Intact {
            head,
            checkpoints_checked,
        } => VerificationReport {
            ledger: farm.id.clone(),
            at: Utc::now(),
            intact: true,
            size: head.size,
            head: head.hash.to_hex(),
            checkpoints: checkpoints_checked,
            broken_at: None,
            reason: None,
        },
        Verification::Broken(b) => VerificationReport {
            ledger: farm.id.clone(),
            at: Utc::now(),
            intact: false,
            size: 0,
            head: String::new(),
            checkpoints: 0,
            broken_at: Some(b.position),
            reason: Some(b.reason),
        },
    };
    web.sessions.set_verification(&form.me.session.key, report);
    Ok(form.done(&farm.path("/verification#resultat"), ""))
}
