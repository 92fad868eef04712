//! The secretary's page: register a holder, record a transfer, convene a
//! meeting, open its voting and close it. Each form's fields are checked
//! here (with French messages next to them), then the command goes to the
//! domain, whose refusals come back at the top of the form.

use std::collections::HashMap;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use serde_json::{Value, json};
use windledger_domain::company::CompanyCommand;
use windledger_domain::meeting::MeetingCommand;
use windledger_domain::money::Euros;
use windledger_domain::types::{
    CollegeId, CommuneCode, HolderId, MeetingId, ResolutionId, ShareClassId, ShareCount,
};
use windledger_projections::cap_table::AsOf;

use crate::layout::{
    Field, FormState, FormView, Message, errors_box, form_guard, html_response, page, select,
    state_of, textarea,
};
use crate::session::SessionView;
use crate::{
    Farm, Fields, PageResult, Params, Visitor, Web, WebError, already_answered, check_csrf, done,
    execute, farm, form_fields, format, projected, refusal,
};
use windledger_app::import::Command;

use windledger_api::auth::roles::SECRETARY;
const ADMIT_FORM: &str = "associe";
const TRANSFER_FORM: &str = "cession";
const CONVENE_FORM: &str = "convocation";
const MEETING_FORM: &str = "assemblee";
/// Resolutions on the convening form.
const AGENDA_ROWS: usize = 5;

const PURPOSES: [(&str, &str); 7] = [
    ("general", "Décision générale"),
    (
        "accounts_approval",
        "Approbation des comptes (précisez l'exercice)",
    ),
    (
        "result_appropriation",
        "Affectation du résultat (précisez l'exercice)",
    ),
    ("capital_increase", "Augmentation de capital"),
    ("capital_reduction", "Réduction de capital"),
    ("charter_amendment", "Modification des statuts"),
    (
        "transfer_approval",
        "Agrément d'un cessionnaire (précisez l'associé)",
    ),
];

const MEETING_KINDS: [(&str, &str); 4] = [
    ("ordinary_general_meeting", "Assemblée générale ordinaire"),
    (
        "extraordinary_general_meeting",
        "Assemblée générale extraordinaire",
    ),
    ("board", "Conseil d'administration"),
    ("strategic_committee", "Comité stratégique"),
];

struct Register {
    colleges: Vec<(String, String)>,
    classes: Vec<(String, String)>,
    decision_kinds: Vec<(String, String)>,
    /// Holders: id, shares now, exited.
    holders: Vec<(String, u64, bool)>,
    meetings: Vec<MeetingLine>,
}

struct MeetingLine {
    id: String,
    kind: &'static str,
    opens_at: chrono::DateTime<Utc>,
    closes_at: chrono::DateTime<Utc>,
    voting: bool,
    closed: bool,
    ballots: usize,
}

async fn read_register(farm: &Farm) -> Result<Register, WebError> {
    projected(&farm.runtime, |p| {
        let fold = p.cap_table.fold();
        let charter = fold.charter(AsOf::Latest);
        let colleges = charter
            .map(|c| {
                c.colleges
                    .iter()
                    .map(|c| (c.id.to_string(), c.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let classes = charter
            .map(|c| {
                c.share_classes
                    .iter()
                    .map(|c| (c.id.to_string(), c.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let decision_kinds = charter
            .map(|c| {
                c.decision_kinds
                    .iter()
                    .map(|k| (k.id.to_string(), format::decision_kind(k.id.as_str())))
                    .collect()
            })
            .unwrap_or_default();
        let holders = fold
            .holders()
            .map(|(id, h)| {
                let shares: u64 = fold.holdings_of(id, AsOf::Latest).values().sum();
                let exited = h.registrations.last().is_some_and(|r| r.value.exited);
                (id.to_string(), shares, exited)
            })
            .collect();
        let meetings = p
            .register
            .fold()
            .meetings()
            .map(|(id, m)| MeetingLine {
                id: id.clone(),
                kind: format::meeting_kind(m.convocation.kind),
                opens_at: m.convocation.opens_at,
                closes_at: m.convocation.closes_at,
                voting: m.roll.is_some(),
                closed: m.closed.is_some(),
                ballots: m.ballots.iter().filter(|b| b.in_force).count(),
            })
            .collect();
        Register {
            colleges,
            classes,
            decision_kinds,
            holders,
            meetings,
        }
    })
    .await
}

fn labels() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = [
        ("associe", "Identifiant de l'associé"),
        ("nature", "Nature"),
        ("college", "Collège"),
        ("commune", "Commune"),
        ("date_effet", "Date d'effet"),
        ("cedant", "Cédant"),
        ("cessionnaire", "Cessionnaire"),
        ("categorie", "Catégorie d'actions"),
        ("nombre", "Nombre d'actions"),
        ("prix", "Prix par action"),
        ("agrement", "Résolution d'agrément"),
        ("assemblee", "Identifiant de l'assemblée"),
        ("premiere", "Première convocation"),
        ("date_convocation", "Date de convocation"),
        ("date_enregistrement", "Date d'enregistrement"),
        ("ouverture", "Ouverture du vote"),
        ("cloture", "Clôture du vote"),
        ("membres", "Membres"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    for i in 1..=AGENDA_ROWS {
        out.push((format!("r{i}_texte"), format!("Résolution {i}")));
        out.push((
            format!("r{i}_precision"),
            format!("Résolution {i}, précision"),
        ));
    }
    out
}

async fn secretary_page(
    farm: &Farm,
    visitor: &Visitor,
    session: &SessionView,
    sent: Option<FormState>,
    status: StatusCode,
) -> PageResult {
    let r = read_register(farm).await?;
    let labels = labels();
    let label_refs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let top: Vec<Message> = sent
        .as_ref()
        .map(|s| s.all_messages(&label_refs))
        .unwrap_or_default();
    let admit = state_of(sent.as_ref(), ADMIT_FORM);
    let transfer = state_of(sent.as_ref(), TRANSFER_FORM);
    let convene = state_of(sent.as_ref(), CONVENE_FORM);
    let today = format::today();
    let kinds: Vec<(String, String)> = format::HOLDER_KINDS
        .iter()
        .map(|(k, n)| ((*n).to_owned(), format::holder_kind(*k).to_owned()))
        .collect();
    let holding: Vec<(String, String)> = r
        .holders
        .iter()
        .filter(|(_, n, _)| *n > 0)
        .map(|(id, n, _)| (id.clone(), format!("{id} ({} actions)", format::int(*n))))
        .collect();
    let meeting_kinds: Vec<(String, String)> = MEETING_KINDS
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    let purposes: Vec<(String, String)> = PURPOSES
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    let now = Utc::now();
    let body = html! {
        h1 { "Secrétariat" }
        (errors_box("Le formulaire n'a pas été enregistré", &top))
        p.lead { "Tenue du registre des associés et des assemblées. Les dates et heures sont celles de Paris." }
        nav aria-label="Sur cette page" {
            ul {
                li { a href="#assemblees" { "Assemblées : ouvrir le vote, clore" } }
                li { a href="#convoquer" { "Convoquer une assemblée" } }
                li { a href="#inscrire" { "Inscrire un associé" } }
                li { a href="#ceder" { "Enregistrer une cession d'actions" } }
            }
        }
        datalist #associes {
            @for (id, _, exited) in &r.holders { @if !exited { option value=(id) {} } }
        }
        section aria-labelledby="assemblees" {
            h2 #assemblees { "Assemblées" }
            @if r.meetings.is_empty() { p { "Aucune assemblée n'est convoquée." } }
            @else {
                div.table {
                    table {
                        caption { "Assemblées et actions possibles" }
                        thead { tr {
                            th scope="col" { "Assemblée" } th scope="col" { "Vote" }
                            th.num scope="col" { "Bulletins comptés" } th scope="col" { "Action" }
                        } }
                        tbody {
                            @for m in r.meetings.iter().rev() {
                                tr {
                                    th scope="row" {
                                        a href=(farm.path(&format!("/registre/{}", m.id))) { (m.id) }
                                        br; small { (m.kind) }
                                    }
                                    td { "du " (format::datetime(m.opens_at)) " au " (format::datetime(m.closes_at)) }
                                    td.num { (m.ballots) }
                                    td {
                                        @if m.closed { span.badge.ok { "close" } }
                                        @else if !m.voting {
                                            (meeting_action(farm, session, &m.id, "ouverture", "Ouvrir le vote (arrêter la liste d'émargement)"))
                                        } @else if now >= m.closes_at {
                                            (meeting_action(farm, session, &m.id, "cloture", "Clore et compter les voix"))
                                        } @else {
                                            span.badge.neutral { "vote ouvert" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        form.card method="post" action=(farm.path("/secretariat/assemblees")) {
            h2 #convoquer { "Convoquer une assemblée" }
            (form_guard(session))
            (Field::new(convene, CONVENE_FORM, "assemblee", "Identifiant de l'assemblée").required().hint("Par exemple ago-2026 : lettres, chiffres, - _ .").render())
            (select(convene, CONVENE_FORM, "nature", "Nature", &meeting_kinds, "ordinary_general_meeting", true))
            (Field::new(convene, CONVENE_FORM, "premiere", "Première convocation").hint("Pour une seconde convocation seulement : l'identifiant de l'assemblée qui n'a pas atteint son quorum.").render())
            (Field::new(convene, CONVENE_FORM, "date_convocation", "Date de convocation").kind("date").required().default_value(convene, &today.to_string()).render())
            (Field::new(convene, CONVENE_FORM, "date_enregistrement", "Date d'enregistrement").kind("date").required().hint("La liste d'émargement est la table de capitalisation à la fin de ce jour ; elle précède le jour d'ouverture du vote.").render())
            (Field::new(convene, CONVENE_FORM, "ouverture", "Ouverture du vote").kind("datetime-local").required().render())
            (Field::new(convene, CONVENE_FORM, "cloture", "Clôture du vote").kind("datetime-local").required().render())
            (textarea(convene, CONVENE_FORM, "membres", "Membres (conseil ou comité seulement)", Some("Un membre par ligne : identifiant puis collège, séparés par une espace.")))
            @for i in 1..=AGENDA_ROWS {
                (agenda_row(convene, i, &r.decision_kinds, &purposes))
            }
            button type="submit" { "Convoquer" }
        }
        form.card method="post" action=(farm.path("/secretariat/associes")) {
            h2 #inscrire { "Inscrire un associé" }
            (form_guard(session))
            (Field::new(admit, ADMIT_FORM, "associe", "Identifiant de l'associé").required().hint("Un pseudonyme (cit-142…) : jamais de nom ni d'adresse dans le registre.").render())
            (select(admit, ADMIT_FORM, "nature", "Nature", &kinds, "individual", true))
            (select(admit, ADMIT_FORM, "college", "Collège", &r.colleges, "", true))
            (Field::new(admit, ADMIT_FORM, "commune", "Commune de résidence (code INSEE)").required().hint("5 caractères, par exemple 42026.").render())
            (Field::new(admit, ADMIT_FORM, "date_effet", "Date d'effet").kind("date").required().default_value(admit, &today.to_string()).render())
            button type="submit" { "Inscrire" }
        }
        form.card method="post" action=(farm.path("/secretariat/cessions")) {
            h2 #ceder { "Enregistrer une cession d'actions" }
            (form_guard(session))
            (select(transfer, TRANSFER_FORM, "cedant", "Cédant", &holding, "", true))
            label for="cession-cessionnaire" { "Cessionnaire" }
            @if let Some(e) = transfer.error("cessionnaire") { span.field-error #cession-cessionnaire-erreur { (e) } }
            input type="text" #cession-cessionnaire name="cessionnaire" list="associes" required
                value=(transfer.value("cessionnaire", ""))
                aria-invalid=[transfer.error("cessionnaire").map(|_| "true")];
            (select(transfer, TRANSFER_FORM, "categorie", "Catégorie d'actions", &r.classes, r.classes.first().map(|c| c.0.as_str()).unwrap_or(""), true))
            (Field::new(transfer, TRANSFER_FORM, "nombre", "Nombre d'actions").required().hint("Un entier positif.").render())
            (Field::new(transfer, TRANSFER_FORM, "prix", "Prix par action (€)").decimal().hint("Vide pour une donation ou une succession.").render())
            (Field::new(transfer, TRANSFER_FORM, "agrement", "Résolution d'agrément").hint("Si le cessionnaire n'a pas encore d'actions : par exemple ago-2026.4.").render())
            (Field::new(transfer, TRANSFER_FORM, "date_effet", "Date d'effet").kind("date").required().default_value(transfer, &today.to_string()).render())
            button type="submit" { "Enregistrer la cession" }
        }
    };
    Ok(html_response(
        status,
        page(farm.chrome("Secrétariat", visitor), body),
    ))
}

fn meeting_action(
    farm: &Farm,
    session: &SessionView,
    meeting: &str,
    action: &str,
    label: &str,
) -> Markup {
    html! {
        form method="post" action=(farm.path(&format!("/secretariat/assemblees/{meeting}/{action}"))) {
            (form_guard(session))
            button.secondary type="submit" { (label) }
        }
    }
}

fn agenda_row(
    view: FormView<'_>,
    i: usize,
    decision_kinds: &[(String, String)],
    purposes: &[(String, String)],
) -> Markup {
    let required = i == 1;
    html! {
        fieldset {
            legend { "Résolution " (i) @if !required { " (facultative)" } }
            @let text = format!("r{i}_texte");
            @let field = Field::new(view, CONVENE_FORM, &text, "Texte");
            (if required { field.required() } else { field }.render())
            (select(view, CONVENE_FORM, &format!("r{i}_decision"), "Type de décision", decision_kinds, "ordinary", true))
            (select(view, CONVENE_FORM, &format!("r{i}_objet"), "Objet", purposes, "general", true))
            @let precision = format!("r{i}_precision");
            (Field::new(view, CONVENE_FORM, &precision, "Précision").hint("L'exercice (2025) ou l'associé agréé, selon l'objet.").render())
        }
    }
}

/// `GET /parcs/{ledger}/secretariat`.
pub async fn show(State(web): State<Web>, Params(params): Params, visitor: Visitor) -> PageResult {
    let farm = farm(&web, &params).await?;
    let session = super::require(&visitor, &farm, SECRETARY)?;
    secretary_page(&farm, &visitor, session, None, StatusCode::OK).await
}

async fn secretary_post(
    web: &Web,
    params: &HashMap<String, String>,
    visitor: &Visitor,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<(Farm, Fields), WebError> {
    let farm = farm(web, params).await?;
    let session = super::require(visitor, &farm, SECRETARY)?;
    let fields = form_fields(form)?;
    check_csrf(session, &fields)?;
    Ok((farm, fields))
}

fn text<'a>(fields: &'a Fields, name: &str) -> &'a str {
    fields.get(name).map(|v| v.trim()).unwrap_or("")
}

fn date(state: &mut FormState, fields: &Fields, name: &str) -> Option<NaiveDate> {
    let v = text(fields, name);
    let d = NaiveDate::parse_from_str(v, "%Y-%m-%d").ok();
    if d.is_none() {
        state.field_error(name, "Indiquez une date (AAAA-MM-JJ).");
    }
    d
}

fn holder(state: &mut FormState, fields: &Fields, name: &str) -> Option<HolderId> {
    let v = text(fields, name);
    let h = HolderId::new(v).ok();
    if h.is_none() {
        state.field_error(
            name,
            if v.is_empty() {
                "Ce champ est obligatoire."
            } else {
                "Identifiant invalide : 1 à 64 lettres, chiffres, - _ ."
            },
        );
    }
    h
}

/// Runs a command, then back to the page (or the page with the refusal).
async fn run(
    web: &Web,
    farm: &Farm,
    visitor: &Visitor,
    fields: &Fields,
    mut state: FormState,
    target: Option<(String, Command)>,
    success: String,
) -> PageResult {
    let session = visitor.session.as_ref().ok_or(WebError::SignIn)?;
    if let (Some((aggregate, command)), false) = (target, state.has_errors()) {
        match execute(farm, &session.principal, fields, "", &aggregate, command).await {
            Ok(receipts) => {
                let position = receipts.first().map_or(0, |r| r.position);
                return Ok(done(
                    web,
                    session,
                    fields,
                    &farm.path("/secretariat"),
                    &format!("{success} (position {}).", format::int(position)),
                ));
            }
            Err(p) => state.top.push(refusal(&p)),
        }
    }
    secretary_page(
        farm,
        visitor,
        session,
        Some(state),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// `POST /parcs/{ledger}/secretariat/associes`.
pub async fn admit(
    State(web): State<Web>,
    Params(params): Params,
    visitor: Visitor,
    form: Result<Form<Fields>, FormRejection>,
) -> PageResult {
    let (farm, fields) = secretary_post(&web, &params, &visitor, form).await?;
    if let Some(again) = visitor
        .session
        .as_ref()
        .and_then(|s| already_answered(&web, s, &fields))
    {
        return Ok(again);
    }
    let mut state = FormState::new(ADMIT_FORM, fields.clone());
    let id = holder(&mut state, &fields, "associe");
    let kind = format::HOLDER_KINDS
        .iter()
        .find(|(_, n)| *n == text(&fields, "nature"))
        .map(|(k, _)| *k);
    if kind.is_none() {
        state.field_error("nature", "Choisissez la nature de l'associé.");
    }
    let college = CollegeId::new(text(&fields, "college")).ok();
    if college.is_none() {
        state.field_error("college", "Choisissez un collège.");
    }
    let commune = CommuneCode::new(text(&fields, "commune")).ok();
    if commune.is_none() {
        state.field_error(
            "commune",
            "Un code INSEE compte 5 caractères : 5 chiffres, ou 2A/2B puis 3 chiffres.",
        );
    }
    let effective_date = date(&mut state, &fields, "date_effet");
    let target = match (id.clone(), kind, college, commune, effective_date) {
        (Some(holder), Some(kind), Some(college), Some(commune), Some(effective_date)) => Some((
            farm.runtime.company_id(),
            Command::Company(Box::new(CompanyCommand::AdmitShareholder {
                holder,
                kind,
                college,
                commune,
                effective_date,
            })),
        )),
        _ => None,
    };
    let success = format!(
        "L'associé {} est inscrit au registre",
        id.map(|h| h.to_string()).unwrap_or_default()
    );
    run(&web, &farm, &visitor, &fields, state, target, success).await
}

/// `POST /parcs/{ledger}/secretariat/cessions`.
pub async fn transfer(
    State(web): State<Web>,
    Params(params): Params,
    visitor: Visitor,
    form: Result<Form<Fields>, FormRejection>,
) -> PageResult {
    let (farm, fields) = secretary_post(&web, &params, &visitor, form).await?;
    if let Some(again) = visitor
        .session
        .as_ref()
        .and_then(|s| already_answered(&web, s, &fields))
    {
        return Ok(again);
    }
    let mut state = FormState::new(TRANSFER_FORM, fields.clone());
    let from = holder(&mut state, &fields, "cedant");
    let to = holder(&mut state, &fields, "cessionnaire");
    let class = ShareClassId::new(text(&fields, "categorie")).ok();
    if class.is_none() {
        state.field_error("categorie", "Choisissez une catégorie d'actions.");
    }
    let count = text(&fields, "nombre")
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .and_then(|n| ShareCount::new(n).ok());
    if count.is_none() {
        state.field_error("nombre", "Indiquez un nombre entier d'actions, au moins 1.");
    }
    let price = match text(&fields, "prix") {
        "" => Some(None),
        v => match format::parse_decimal(v).and_then(|d| Euros::new(d).ok()) {
            Some(e) => Some(Some(e)),
            None => {
                state.field_error("prix", "Indiquez un montant en euros, positif (12,50).");
                None
            }
        },
    };
    let approval = match text(&fields, "agrement") {
        "" => Some(None),
        v => match ResolutionId::new(v) {
            Ok(r) => Some(Some(r)),
            Err(_) => {
                state.field_error("agrement", "Identifiant de résolution invalide.");
                None
            }
        },
    };
    let effective_date = date(&mut state, &fields, "date_effet");
    let target = match (from, to, class, count, price, approval, effective_date) {
        (
            Some(from),
            Some(to),
            Some(class),
            Some(count),
            Some(price_per_share),
            Some(approval),
            Some(effective_date),
        ) => Some((
            farm.runtime.company_id(),
            Command::Company(Box::new(CompanyCommand::TransferShares {
                from,
                to,
                class,
                count,
                price_per_share,
                approval,
                effective_date,
            })),
        )),
        _ => None,
    };
    run(
        &web,
        &farm,
        &visitor,
        &fields,
        state,
        target,
        "La cession est enregistrée".into(),
    )
    .await
}

/// The agenda as the command takes it, from the rows filled in.
fn agenda(state: &mut FormState, fields: &Fields) -> Vec<Value> {
    let mut out = Vec::new();
    for i in 1..=AGENDA_ROWS {
        let body = text(fields, &format!("r{i}_texte"));
        if body.is_empty() {
            if i == 1 {
                state.field_error("r1_texte", "L'ordre du jour a au moins une résolution.");
            }
            continue;
        }
        if let Err(e) = windledger_domain::input::text(&format!("r{i}_texte"), body) {
            state.field_error(&format!("r{i}_texte"), super::errors::input_error(&e).text);
            continue;
        }
        let precision_name = format!("r{i}_precision");
        let precision = text(fields, &precision_name);
        let purpose = match text(fields, &format!("r{i}_objet")) {
            "accounts_approval" | "result_appropriation" => {
                match precision
                    .parse::<i32>()
                    .ok()
                    .filter(|y| (1000..=9999).contains(y))
                {
                    Some(year) => {
                        json!({"purpose": text(fields, &format!("r{i}_objet")), "year": year})
                    }
                    None => {
                        state.field_error(&precision_name, "Indiquez l'exercice (une année).");
                        continue;
                    }
                }
            }
            "transfer_approval" => match HolderId::new(precision) {
                Ok(h) => json!({"purpose": "transfer_approval", "transferee": h}),
                Err(_) => {
                    state.field_error(
                        &precision_name,
                        "Indiquez l'identifiant de l'associé agréé.",
                    );
                    continue;
                }
            },
            p @ ("general" | "capital_increase" | "capital_reduction" | "charter_amendment") => {
                json!({ "purpose": p })
            }
            _ => json!({ "purpose": "general" }),
        };
        out.push(json!({
            "decision_kind": text(fields, &format!("r{i}_decision")),
            "purpose": purpose,
            "text": body,
        }));
    }
    out
}

/// `POST /parcs/{ledger}/secretariat/assemblees`.
pub async fn convene(
    State(web): State<Web>,
    Params(params): Params,
    visitor: Visitor,
    form: Result<Form<Fields>, FormRejection>,
) -> PageResult {
    let (farm, fields) = secretary_post(&web, &params, &visitor, form).await?;
    if let Some(again) = visitor
        .session
        .as_ref()
        .and_then(|s| already_answered(&web, s, &fields))
    {
        return Ok(again);
    }
    let mut state = FormState::new(CONVENE_FORM, fields.clone());
    let id = MeetingId::new(text(&fields, "assemblee")).ok();
    if id.is_none() {
        state.field_error(
            "assemblee",
            "Identifiant invalide : 1 à 64 lettres, chiffres, - _ . (par exemple ago-2026).",
        );
    }
    let kind = MEETING_KINDS
        .iter()
        .map(|(k, _)| *k)
        .find(|k| *k == text(&fields, "nature"));
    if kind.is_none() {
        state.field_error("nature", "Choisissez la nature de l'assemblée.");
    }
    let call = match text(&fields, "premiere") {
        "" => Some(json!({"call": "first"})),
        first => match MeetingId::new(first) {
            Ok(f) => Some(json!({"call": "second", "first_call": f})),
            Err(_) => {
                state.field_error("premiere", "Identifiant d'assemblée invalide.");
                None
            }
        },
    };
    let convened_on = date(&mut state, &fields, "date_convocation");
    let record_date = date(&mut state, &fields, "date_enregistrement");
    let mut instant = |name: &str| {
        let at = format::parse_datetime_input(text(&fields, name));
        if at.is_none() {
            state.field_error(name, "Indiquez une date et une heure.");
        }
        at
    };
    let opens_at = instant("ouverture");
    let closes_at = instant("cloture");
    let mut members = Vec::new();
    for line in text(&fields, "membres").lines().map(str::trim) {
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        match (
            parts.next().map(HolderId::new),
            parts.next().map(CollegeId::new),
            parts.next(),
        ) {
            (Some(Ok(member)), Some(Ok(college)), None) => {
                members.push(json!({"member": member, "college": college}));
            }
            _ => {
                state.field_error(
                    "membres",
                    format!("Ligne « {line} » : attendu un identifiant puis un collège."),
                );
                break;
            }
        }
    }
    let agenda = agenda(&mut state, &fields);
    let target = match (
        id.clone(),
        kind,
        call,
        convened_on,
        record_date,
        opens_at,
        closes_at,
    ) {
        (
            Some(id),
            Some(kind),
            Some(call),
            Some(convened_on),
            Some(record_date),
            Some(opens_at),
            Some(closes_at),
        ) if !state.has_errors() => {
            let value = json!({
                "command": "convene",
                "meeting": id,
                "kind": kind,
                "call": call,
                "record_date": record_date,
                "opens_at": opens_at,
                "closes_at": closes_at,
                "agenda": agenda,
                "members": members,
                "convened_on": convened_on,
            });
            match serde_json::from_value::<MeetingCommand>(value) {
                Ok(c) => Some((id.to_string(), Command::Meeting(c))),
                Err(e) => {
                    state.top.push(Message {
                        text: "Ces champs ne forment pas une convocation valide.".into(),
                        detail: Some(e.to_string()),
                    });
                    None
                }
            }
        }
        _ => None,
    };
    let success = format!(
        "L'assemblée {} est convoquée",
        id.map(|m| m.to_string()).unwrap_or_default()
    );
    run(&web, &farm, &visitor, &fields, state, target, success).await
}

async fn meeting_command(
    web: Web,
    params: HashMap<String, String>,
    visitor: Visitor,
    form: Result<Form<Fields>, FormRejection>,
    command: MeetingCommand,
    success: &str,
) -> PageResult {
    let (farm, fields) = secretary_post(&web, &params, &visitor, form).await?;
    if let Some(again) = visitor
        .session
        .as_ref()
        .and_then(|s| already_answered(&web, s, &fields))
    {
        return Ok(again);
    }
    let id = params.get("meeting").cloned().unwrap_or_default();
    if MeetingId::new(id.as_str()).is_err() {
        return Err(WebError::NotFound);
    }
    let state = FormState::new(MEETING_FORM, fields.clone());
    run(
        &web,
        &farm,
        &visitor,
        &fields,
        state,
        Some((id.clone(), Command::Meeting(command))),
        format!("{success} : {id}"),
    )
    .await
}

/// `POST .../secretariat/assemblees/{meeting}/ouverture`.
pub async fn open_voting(
    State(web): State<Web>,
    Params(params): Params,
    visitor: Visitor,
    form: Result<Form<Fields>, FormRejection>,
) -> PageResult {
    meeting_command(
        web,
        params,
        visitor,
        form,
        MeetingCommand::OpenVoting { at: Utc::now() },
        "Le vote est ouvert, la liste d'émargement arrêtée",
    )
    .await
}

/// `POST .../secretariat/assemblees/{meeting}/cloture`.
pub async fn close(
    State(web): State<Web>,
    Params(params): Params,
    visitor: Visitor,
    form: Result<Form<Fields>, FormRejection>,
) -> PageResult {
    meeting_command(
        web,
        params,
        visitor,
        form,
        MeetingCommand::Close { at: Utc::now() },
        "L'assemblée est close et les voix comptées",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agenda_is_read_from_its_rows() {
        let fields: Fields = [
            ("r1_texte", "Approbation des comptes 2025"),
            ("r1_decision", "ordinary"),
            ("r1_objet", "accounts_approval"),
            ("r1_precision", "2025"),
            ("r2_texte", ""),
            ("r3_texte", "Agrément"),
            ("r3_decision", "ordinary"),
            ("r3_objet", "transfer_approval"),
            ("r3_precision", ""),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let mut state = FormState::new(CONVENE_FORM, fields.clone());
        let items = agenda(&mut state, &fields);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["purpose"]["year"], 2025);
        assert!(state.errors.contains_key("r3_precision"));
    }
}
