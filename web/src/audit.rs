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
use windledger_domain::charter::Majority;
use windledger_domain::meeting::{Call, ResolutionResult};
use windledger_domain::types::CollegeId;
use windledger_projections::cap_table::AsOf;
use windledger_projections::register::MeetingRecord;
use windledger_store::{Checkpoint, Verification};

use crate::extract::{Farm, FormPost, MeetingPath, Params, SignedIn, query_map};
use crate::layout::{FormState, Message, errors_box, form_guard, state_of, textarea};
use crate::public::fraction_value;
use crate::session::VerificationReport;
use crate::space::outcome_text;
use crate::{PageResult, Web, WebError, format, projected};

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

fn majority_text(m: Majority) -> String {
    match m {
        Majority::MoreThan(r) => format!("plus de {r} des voix exprimées"),
        Majority::AtLeast(r) => format!("au moins {r} des voix exprimées"),
    }
}

fn percent_of(fraction: Option<&str>) -> String {
    fraction
        .and_then(fraction_value)
        .and_then(|v| rust_decimal::Decimal::from_f64_retain(v * 100.0))
        .map(|d| format::percent(d, 2))
        .unwrap_or_else(|| "—".to_owned())
}

/// Why a resolution was decided as it was: the rules, in the order the
/// tally applies them.
fn deciding_rule(r: &ResolutionResult, colleges: &HashMap<CollegeId, String>) -> Markup {
    let name = |c: &CollegeId| colleges.get(c).cloned().unwrap_or_else(|| c.to_string());
    let required: Vec<String> = r
        .colleges
        .iter()
        .filter(|c| c.majority_required)
        .map(|c| name(&c.college))
        .collect();
    let share = r.share_for.as_ref().map(|f| f.to_string());
    html! {
        ul {
            li {
                "Quorum : " (format::int(r.present)) " voix présentes ou représentées sur "
                (format::int(r.roll_total)) ", il en fallait " (r.quorum) " — "
                @if r.quorum_reached { span.badge.ok { "atteint" } } @else { span.badge.bad { "non atteint" } }
            }
            li {
                "Majorité : " (majority_text(r.majority)) " ; part des voix pour "
                (percent_of(share.as_deref()))
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
                li { "Majorité requise dans le collège : " (required.join(", ")) }
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
    let name = |id: &CollegeId| colleges.get(id).cloned().unwrap_or_else(|| id.to_string());
    let title = format!("{} {}", format::meeting_kind(c.kind), c.meeting);
    let body = html! {
        h1 { (title) }
        p { (status(&m)) }
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
                    (majority_text(k.majority))
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
                    (roll.roll.voters.len()) " votants, " (format::int(roll.total)) " voix."
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
                @for (item, r) in c.agenda.iter().zip(&closed.results) {
                    section.card aria-labelledby={ "r-" (r.resolution) } {
                        h3 id={ "r-" (r.resolution) } { "Résolution " (r.resolution) " : " (item.text) }
                        (deciding_rule(r, &colleges))
                        (cards(html! {
                            table {
                                caption { "Décompte par collège (en voix)" }
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
                                            th scope="row" { (name(&t.college)) @if t.majority_required { " (majorité requise)" } }
                                            td.num { (format::int(t.roll_total)) }
                                            td.num { (format::int(t.present)) }
                                            td.num { (format::int(t.votes_for)) }
                                            td.num { (format::int(t.votes_against)) }
                                            td.num { (format::int(t.abstentions)) }
                                            td.num { @match t.weight { Some(w) => (w.to_string()), None => "—" } }
                                            td.num { (percent_of(t.applied_weight.as_ref().map(|f| f.to_string()).as_deref())) }
                                            td { @if t.majority_for { "oui" } @else { "non" } }
                                        }
                                    }
                                }
                                tfoot { tr {
                                    th scope="row" { "Total" }
                                    td.num { (format::int(r.roll_total)) }
                                    td.num { (format::int(r.present)) }
                                    td.num { (format::int(r.votes_for)) }
                                    td.num { (format::int(r.votes_against)) }
                                    td.num { (format::int(r.abstentions)) }
                                    td {} td {} td {}
                                } }
                            }
                        }))
                    }
                }
            }
        }
    };
    farm.page(StatusCode::OK, &title, me.shown(), body)
}

/// Events per page of the log.
const PAGE: u32 = 50;

/// `/parcs/{ledger}/journal?apres=N` (or `?position=N`): the event log.
pub async fn journal(
    farm: Farm,
    me: SignedIn,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> PageResult {
    let query = query_map(query);
    let number = |name: &str| -> Result<Option<u64>, WebError> {
        match query.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => s.parse::<u64>().map(Some).map_err(|_| {
                WebError::BadRequest("La position demandée n'est pas un nombre entier.".into())
            }),
        }
    };
    let after = match (number("position")?, number("apres")?) {
        (Some(p), _) => p.saturating_sub(1),
        (None, Some(a)) => a,
        (None, None) => 0,
    };
    let store = &farm.runtime.store;
    let head = store.head(&farm.runtime.id).await?;
    // Past the head there is nothing to read.
    let after = after.min(head.size);
    let events = store.read_ledger(&farm.runtime.id, after, PAGE).await?;
    let last = events.last().map(|e| e.position);
    let body = html! {
        h1 { "Journal des événements" }
        p.lead {
            "Le registre complet, événement par événement, dans l'ordre de ses positions ("
            (format::int(head.size)) " événements). Chaque événement porte l'empreinte du précédent."
        }
        form method="get" action=(farm.path("/journal")) {
            label for="position" { "Aller à la position" }
            input type="number" #position name="position" min="1" max=(head.size.max(1)) inputmode="numeric"
                value=(after.saturating_add(1).min(head.size.max(1)));
            button type="submit" { "Afficher" }
        }
        nav aria-label="Pages du journal" {
            p {
                @if after > 0 {
                    a href={ (farm.path("/journal")) "?apres=" (after.saturating_sub(u64::from(PAGE))) } { "← Événements précédents" }
                    " "
                }
                @if let Some(l) = last { @if l < head.size {
                    a href={ (farm.path("/journal")) "?apres=" (l) } { "Événements suivants →" }
                } }
            }
        }
        @if events.is_empty() { p { "Aucun événement après la position " (after) "." } }
        @else {
            (table(
                html! { "Positions " (format::int(after.saturating_add(1))) " à " (format::int(last.unwrap_or(after))) },
                &[Col::Num("Position"), Col::Text("Événement"), Col::Text("Flux"), Col::Text("Enregistré le"), Col::Text("Empreinte")],
                html! {
                    @for e in &events {
                        tr {
                            td.num { (format::int(e.position)) }
                            td {
                                (e.event_type)
                                details {
                                    summary { "Contenu" }
                                    pre { (serde_json::from_str::<serde_json::Value>(e.payload.get())
                                        .and_then(|v| serde_json::to_string_pretty(&v))
                                        .unwrap_or_else(|_| e.payload.get().to_owned())) }
                                    @if let Some(actor) = &e.metadata.actor { p { small { "Auteur : " (actor) } } }
                                }
                            }
                            td { code { (e.stream_id.as_str()) } " v" (e.stream_version) }
                            td { (format::datetime(e.recorded_at)) }
                            td { code.hash title=(e.hash.to_hex()) { (format::short_hash(&e.hash.to_hex())) "…" } }
                        }
                    }
                },
            ))
        }
    };
    farm.page(StatusCode::OK, "Journal des événements", me.shown(), body)
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
    let top: Vec<Message> = sent
        .as_ref()
        .map(|s| s.all_messages(&[("point", "Point de contrôle")]))
        .unwrap_or_default();
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
