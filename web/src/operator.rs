//! The operator's pages: a month's production of a turbine, a month's
//! revenue, or a CSV file of both. A file is checked in full before
//! anything is written: every line read, then every command decided in
//! order on a copy of the financial year (as the aggregate would decide
//! it, nothing written); one error anywhere and nothing is written. Only
//! then are the lines written, in order, one upload at a time per year.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Multipart, State};
use axum::http::StatusCode;
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use maud::{Markup, html};
use rust_decimal::Decimal;
use windledger_domain::finance::{FinancialYearCommand, YearMonth};
use windledger_domain::types::{ReportId, TurbineId};
use windledger_projections::finance::MonthTotals;

use crate::layout::{
    Field, FormState, FormView, Message, errors_box, form_guard, html_response, message, page,
    select, state_of,
};
use crate::session::SessionView;
use crate::{
    Farm, Fields, PageResult, Params, Visitor, Web, WebError, already_answered, check_csrf, done,
    execute, farm, form_fields, format, projected, refusal,
};
use windledger_api::problem::Problem;
use windledger_app::import::Command;
use windledger_app::import::csv::{self, LineError, REVENUE_KINDS, Row};

use windledger_api::auth::roles::OPERATOR;
const PRODUCTION_FORM: &str = "production";
const REVENUE_FORM: &str = "recette";
const UPLOAD_FORM: &str = "import";
/// Largest CSV file accepted.
const MAX_FILE_BYTES: usize = 512 * 1024;

/// A financial year still taking reports.
struct OpenYear {
    year: i32,
    turbines: Vec<String>,
    /// Every report id of the year.
    reports: BTreeSet<String>,
    /// Per month: MWh in force, turbines reported, revenue in force; or
    /// why they do not add up (figures recorded before the input bounds).
    months: Result<BTreeMap<YearMonth, MonthTotals>, Message>,
}

async fn open_years(farm: &Farm) -> Result<Vec<OpenYear>, WebError> {
    projected(&farm.runtime, |p| {
        p.finance
            .fold()
            .years()
            .filter(|y| y.accounts.is_none())
            .map(|y| OpenYear {
                year: y.year,
                turbines: y.turbines.iter().map(|t| t.id.to_string()).collect(),
                reports: y.reports.keys().map(|k| k.to_string()).collect(),
                months: y.monthly().map_err(|e| super::errors::out_of_range(&e)),
            })
            .collect()
    })
    .await
}

/// What the page shows besides the forms after an upload with errors.
#[derive(Default)]
struct Upload {
    name: String,
    errors: Vec<LineError>,
}

async fn operator_page(
    farm: &Farm,
    visitor: &Visitor,
    session: &SessionView,
    sent: Option<FormState>,
    upload: Option<Upload>,
    status: StatusCode,
) -> PageResult {
    let years = open_years(farm).await?;
    let year_options: Vec<(String, String)> = years
        .iter()
        .rev()
        .map(|y| (y.year.to_string(), format!("Exercice {}", y.year)))
        .collect();
    let default_year = years.last().map(|y| y.year.to_string()).unwrap_or_default();
    let turbines: Vec<(String, String)> = years
        .last()
        .map(|y| y.turbines.iter().map(|t| (t.clone(), t.clone())).collect())
        .unwrap_or_default();
    let production = state_of(sent.as_ref(), PRODUCTION_FORM);
    let revenue = state_of(sent.as_ref(), REVENUE_FORM);
    let import = state_of(sent.as_ref(), UPLOAD_FORM);
    let top: Vec<Message> = sent
        .as_ref()
        .map(|s| {
            s.all_messages(&[
                ("exercice", "Exercice"),
                ("eolienne", "Éolienne"),
                ("mois", "Mois"),
                ("mwh", "Production"),
                ("disponibilite", "Disponibilité"),
                ("nature", "Nature"),
                ("volume", "Volume"),
                ("prix", "Prix"),
                ("rapport", "Identifiant du rapport"),
                ("corrige", "Rapport corrigé"),
                ("fichier", "Fichier"),
            ])
        })
        .unwrap_or_default();
    let kinds: Vec<(String, String)> = REVENUE_KINDS
        .iter()
        .map(|(k, n)| ((*n).to_owned(), format::revenue_kind(*k).to_owned()))
        .collect();
    let body = html! {
        h1 { "Production et recettes" }
        @if let Some(u) = &upload {
            @if !u.errors.is_empty() {
                div.errors role="alert" tabindex="-1" #erreurs {
                    h2 {
                        "Le fichier " (u.name) " contient " (u.errors.len())
                        @if u.errors.len() == 1 { " erreur" } @else { " erreurs" }
                        " : rien n'a été enregistré."
                    }
                    p { "Corrigez les lignes ci-dessous et envoyez de nouveau le fichier entier." }
                    div.table {
                        table {
                            caption { "Erreurs par ligne du fichier" }
                            thead { tr { th.num scope="col" { "Ligne" } th scope="col" { "Colonne" } th scope="col" { "Erreur" } } }
                            tbody {
                                @for e in &u.errors {
                                    tr {
                                        td.num { (e.line) }
                                        td { @match &e.column { Some(c) => code { (c) }, None => "—" } }
                                        td { (message(&Message { text: e.message.clone(), detail: e.detail.clone() })) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (errors_box("Le formulaire n'a pas été enregistré", &top))
        @if years.is_empty() {
            p { "Aucun exercice n'est ouvert : le secrétariat doit ouvrir l'exercice avant toute déclaration." }
        } @else {
            p.lead {
                "Déclarez la production mensuelle de chaque éolienne et les recettes du mois, "
                "une à une ou par fichier CSV. Une déclaration se corrige en envoyant une nouvelle déclaration "
                "qui nomme celle qu'elle remplace ; une fois les comptes approuvés, l'exercice n'en accepte plus."
            }
            form.card method="post" action=(farm.path("/exploitation/production")) {
                h2 { "Production d'une éolienne pour un mois" }
                (form_guard(session))
                (select(production, PRODUCTION_FORM, "exercice", "Exercice", &year_options, &default_year, true))
                (select(production, PRODUCTION_FORM, "eolienne", "Éolienne", &turbines, "", true))
                (Field::new(production, PRODUCTION_FORM, "mois", "Mois").kind("month").required().hint("Format AAAA-MM, par exemple 2026-01.").render())
                (Field::new(production, PRODUCTION_FORM, "mwh", "Production (MWh)").required().decimal().hint("Énergie livrée, au kWh près : 512,345").render())
                (Field::new(production, PRODUCTION_FORM, "disponibilite", "Disponibilité (%)").required().decimal().hint("Entre 0 et 100.").render())
                (ids_fields(production, PRODUCTION_FORM))
                button type="submit" { "Enregistrer la production" }
            }
            form.card method="post" action=(farm.path("/exploitation/recette")) {
                h2 { "Recette d'un mois" }
                (form_guard(session))
                (select(revenue, REVENUE_FORM, "exercice", "Exercice", &year_options, &default_year, true))
                (Field::new(revenue, REVENUE_FORM, "mois", "Mois").kind("month").required().hint("Format AAAA-MM.").render())
                (select(revenue, REVENUE_FORM, "nature", "Nature", &kinds, "market_sales", true))
                (Field::new(revenue, REVENUE_FORM, "volume", "Volume (MWh)").required().decimal().render())
                (Field::new(revenue, REVENUE_FORM, "prix", "Prix (€/MWh)").required().decimal().hint("Négatif pour un complément de rémunération reversé.").render())
                (ids_fields(revenue, REVENUE_FORM))
                button type="submit" { "Enregistrer la recette" }
            }
            form.card method="post" action=(farm.path("/exploitation/import")) enctype="multipart/form-data" {
                h2 { "Envoyer un fichier CSV" }
                (form_guard(session))
                (select(import, UPLOAD_FORM, "exercice", "Exercice", &year_options, &default_year, true))
                label for="import-fichier" { "Fichier CSV" }
                span.hint #import-fichier-aide {
                    "Première ligne : les noms des colonnes, par exemple "
                    code { "type,month,turbine,mwh,availability,kind,volume_mwh,price_per_mwh" }
                    ". Une ligne par déclaration : " code { "production,2026-01,T01,512.3,97.5,,," } " ou "
                    code { "revenue,2026-01,,,,market_sales,5123.4,61.20" } ". Séparateur virgule ou point-virgule. "
                    "Le fichier entier est vérifié avant tout enregistrement : une seule erreur, et rien n'est écrit."
                }
                input type="file" #import-fichier name="fichier" accept=".csv,text/csv" required aria-describedby="import-fichier-aide";
                button type="submit" { "Vérifier et enregistrer le fichier" }
            }
            @for y in years.iter().rev() {
                (year_summary(y))
            }
        }
    };
    Ok(html_response(
        status,
        page(farm.chrome("Production et recettes", visitor), body),
    ))
}

fn ids_fields(view: FormView<'_>, form: &'static str) -> Markup {
    html! {
        details open[!view.value("rapport", "").is_empty() || !view.value("corrige", "").is_empty()] {
            summary { "Identifiant, correction" }
            (Field::new(view, form, "rapport", "Identifiant du rapport").hint("Laissé vide, il est formé du mois et de l'éolienne (ou de la nature).").render())
            (Field::new(view, form, "corrige", "Rapport corrigé").hint("L'identifiant de la déclaration que celle-ci remplace.").render())
        }
    }
}

fn year_summary(y: &OpenYear) -> Markup {
    html! {
        section aria-labelledby={ "exercice-" (y.year) } {
            h2 id={ "exercice-" (y.year) } { "Déjà déclaré pour l'exercice " (y.year) }
            @match &y.months {
                Err(m) => p { (message(m)) },
                Ok(months) if months.is_empty() => p { "Rien n'est encore déclaré." },
                Ok(months) => {
                div.table {
                    table {
                        caption { "Production et recettes en vigueur, par mois" }
                        thead { tr {
                            th scope="col" { "Mois" }
                            th.num scope="col" { "Production" }
                            th.num scope="col" { "Éoliennes déclarées" }
                            th.num scope="col" { "Recettes" }
                        } }
                        tbody {
                            @for (m, t) in months {
                                tr {
                                    th scope="row" { (format::month(*m)) }
                                    td.num { (format::mwh(t.mwh, 3)) }
                                    td.num { (t.turbines_reported) " / " (y.turbines.len()) }
                                    td.num { (format::euros(t.revenue)) }
                                }
                            }
                        }
                    }
                }
                }
            }
        }
    }
}

/// `GET /parcs/{ledger}/exploitation`.
pub async fn show(State(web): State<Web>, Params(params): Params, visitor: Visitor) -> PageResult {
    let farm = farm(&web, &params).await?;
    let session = super::require(&visitor, &farm, OPERATOR)?;
    operator_page(&farm, &visitor, session, None, None, StatusCode::OK).await
}

/// The year a form names, which must be open.
fn form_year(state: &mut FormState, fields: &Fields, years: &[OpenYear]) -> Option<i32> {
    let year = fields
        .get("exercice")
        .and_then(|y| y.trim().parse::<i32>().ok())
        .filter(|y| years.iter().any(|o| o.year == *y));
    if year.is_none() {
        state.field_error("exercice", "Choisissez un exercice ouvert.");
    }
    year
}

fn form_month(state: &mut FormState, fields: &Fields) -> Option<YearMonth> {
    let value = fields.get("mois").map(|m| m.trim()).unwrap_or("");
    let month = value.parse::<YearMonth>().ok();
    if month.is_none() {
        state.field_error("mois", "Indiquez un mois au format AAAA-MM.");
    }
    month
}

fn form_number(state: &mut FormState, fields: &Fields, name: &str) -> Option<Decimal> {
    let value = fields.get(name).map(|m| m.trim()).unwrap_or("");
    let number = format::parse_decimal(value);
    if number.is_none() {
        state.field_error(
            name,
            if value.is_empty() {
                "Ce champ est obligatoire."
            } else {
                "Ce n'est pas un nombre."
            },
        );
    }
    number
}

/// The form's report id (or one made up from `base`) and the report it
/// corrects.
fn form_ids(
    state: &mut FormState,
    fields: &Fields,
    base: String,
    taken: &BTreeSet<String>,
) -> (Option<ReportId>, Option<ReportId>) {
    let read = |state: &mut FormState, name: &str| -> Result<Option<ReportId>, ()> {
        match fields.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => ReportId::new(v).map(Some).map_err(|_| {
                state.field_error(
                    name,
                    "Identifiant invalide : lettres, chiffres, - _ . ; 64 caractères au plus.",
                )
            }),
        }
    };
    let report = read(state, "rapport");
    let corrects = read(state, "corrige").ok().flatten();
    let report = match report {
        Ok(Some(r)) => Some(r),
        Ok(None) => ReportId::new(csv::fresh_id(&base, taken)).ok(),
        Err(()) => None,
    };
    (report, corrects)
}

/// Runs one report command, then back to the page.
async fn report(
    web: &Web,
    farm: &Farm,
    visitor: &Visitor,
    fields: &Fields,
    mut state: FormState,
    year: Option<i32>,
    command: Option<FinancialYearCommand>,
) -> PageResult {
    let session = visitor.session.as_ref().ok_or(WebError::SignIn)?;
    // The input bounds, said at the field that breaks them.
    if let Some(Err(e)) = command.as_ref().map(FinancialYearCommand::check_input) {
        let m = super::errors::input_error(&e);
        let field = match &e {
            windledger_domain::types::ParseError::OutOfBounds { what, .. } => match what.as_str() {
                "mwh" => Some("mwh"),
                "volume_mwh" => Some("volume"),
                "price_per_mwh" => Some("prix"),
                _ => None,
            },
            _ => None,
        };
        match field {
            Some(f) => state.field_error(f, m.text),
            None => state.top.push(m),
        }
    }
    if let (Some(year), Some(command), false) = (year, command, state.has_errors()) {
        let summary = describe(&command);
        match execute(
            farm,
            &session.principal,
            fields,
            "",
            &year.to_string(),
            Command::FinancialYear(command),
        )
        .await
        {
            Ok(receipts) => {
                let position = receipts.first().map_or(0, |r| r.position);
                return Ok(done(
                    web,
                    session,
                    fields,
                    &farm.path("/exploitation"),
                    &format!(
                        "Enregistré (position {}) : {summary}.",
                        format::int(position)
                    ),
                ));
            }
            Err(p) => state.top.push(refusal(&p)),
        }
    }
    operator_page(
        farm,
        visitor,
        session,
        Some(state),
        None,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// A report in words, for the confirmation.
fn describe(command: &FinancialYearCommand) -> String {
    match command {
        FinancialYearCommand::ReportProduction {
            turbine,
            month,
            mwh,
            ..
        } => format!(
            "production de {turbine} en {} : {}",
            format::month(*month),
            format::mwh(*mwh, 3)
        ),
        FinancialYearCommand::RecordRevenue {
            month,
            kind,
            volume_mwh,
            price_per_mwh,
            ..
        } => format!(
            "{} en {} : {} à {} €/MWh",
            format::revenue_kind(*kind),
            format::month(*month),
            format::mwh(*volume_mwh, 3),
            format::decimal(*price_per_mwh, 2)
        ),
        _ => String::new(),
    }
}

/// The start of every POST: the farm, the session, the form's CSRF token.
async fn operator_post(
    web: &Web,
    params: &HashMap<String, String>,
    visitor: &Visitor,
    form: Result<Form<Fields>, FormRejection>,
) -> Result<(Farm, Fields), WebError> {
    let farm = farm(web, params).await?;
    let session = super::require(visitor, &farm, OPERATOR)?;
    let fields = form_fields(form)?;
    check_csrf(session, &fields)?;
    Ok((farm, fields))
}

/// `POST /parcs/{ledger}/exploitation/production`.
pub async fn production(
    State(web): State<Web>,
    Params(params): Params,
    visitor: Visitor,
    form: Result<Form<Fields>, FormRejection>,
) -> PageResult {
    let (farm, fields) = operator_post(&web, &params, &visitor, form).await?;
    let session = visitor.session.as_ref().ok_or(WebError::SignIn)?;
    if let Some(again) = already_answered(&web, session, &fields) {
        return Ok(again);
    }
    let years = open_years(&farm).await?;
    let mut state = FormState::new(PRODUCTION_FORM, fields.clone());
    let year = form_year(&mut state, &fields, &years);
    let turbine = fields
        .get("eolienne")
        .and_then(|t| TurbineId::new(t.trim()).ok());
    if turbine.is_none() {
        state.field_error("eolienne", "Choisissez une éolienne.");
    }
    let month = form_month(&mut state, &fields);
    let mwh = form_number(&mut state, &fields, "mwh");
    let availability = form_number(&mut state, &fields, "disponibilite");
    let taken = years
        .iter()
        .find(|y| Some(y.year) == year)
        .map(|y| y.reports.clone())
        .unwrap_or_default();
    let base = match (&month, &turbine) {
        (Some(m), Some(t)) => format!("p-{m}-{t}"),
        _ => "p".to_owned(),
    };
    let (id, corrects) = form_ids(&mut state, &fields, base, &taken);
    let command = match (id, turbine, month, mwh, availability) {
        (Some(report), Some(turbine), Some(month), Some(mwh), Some(availability)) => {
            Some(FinancialYearCommand::ReportProduction {
                report,
                turbine,
                month,
                mwh,
                availability,
                corrects,
            })
        }
        _ => None,
    };
    report(&web, &farm, &visitor, &fields, state, year, command).await
}

/// `POST /parcs/{ledger}/exploitation/recette`.
pub async fn revenue(
    State(web): State<Web>,
    Params(params): Params,
    visitor: Visitor,
    form: Result<Form<Fields>, FormRejection>,
) -> PageResult {
    let (farm, fields) = operator_post(&web, &params, &visitor, form).await?;
    let session = visitor.session.as_ref().ok_or(WebError::SignIn)?;
    if let Some(again) = already_answered(&web, session, &fields) {
        return Ok(again);
    }
    let years = open_years(&farm).await?;
    let mut state = FormState::new(REVENUE_FORM, fields.clone());
    let year = form_year(&mut state, &fields, &years);
    let month = form_month(&mut state, &fields);
    let kind = fields
        .get("nature")
        .and_then(|k| csv::revenue_kind(k.trim()));
    if kind.is_none() {
        state.field_error("nature", "Choisissez la nature de la recette.");
    }
    let volume = form_number(&mut state, &fields, "volume");
    let price = form_number(&mut state, &fields, "prix");
    let taken = years
        .iter()
        .find(|y| Some(y.year) == year)
        .map(|y| y.reports.clone())
        .unwrap_or_default();
    let base = match (&month, kind) {
        (Some(m), Some(k)) => format!("r-{m}-{}", csv::revenue_kind_name(k)),
        _ => "r".to_owned(),
    };
    let (id, corrects) = form_ids(&mut state, &fields, base, &taken);
    let command = match (id, month, kind, volume, price) {
        (Some(report), Some(month), Some(kind), Some(volume_mwh), Some(price_per_mwh)) => {
            Some(FinancialYearCommand::RecordRevenue {
                report,
                month,
                kind,
                volume_mwh,
                price_per_mwh,
                corrects,
            })
        }
        _ => None,
    };
    report(&web, &farm, &visitor, &fields, state, year, command).await
}

/// The domain error's variant name, as the API's problems give it.
fn rule_name(e: &impl std::fmt::Debug) -> String {
    let debug = format!("{e:?}");
    debug
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .next()
        .unwrap_or("refused")
        .to_owned()
}

/// Decides every line, in order, on a copy of the financial year as the
/// ledger holds it now: the errors of the lines the aggregate refuses.
/// Nothing is written.
async fn check_against_year(
    farm: &Farm,
    year: i32,
    rows: &[Row],
) -> Result<Vec<LineError>, WebError> {
    let runtime = &farm.runtime;
    let mut aggregate = runtime
        .financial_year(&year.to_string())
        .await
        .map_err(WebError::from)?;
    let services = runtime.year_services();
    let mut errors = Vec::new();
    for row in rows {
        // A refused command leaves the aggregate as it was; an accepted one
        // applies its event, so the next line is decided after it.
        let sink = EventSink::default();
        if let Err(e) = aggregate.handle(row.command.clone(), services, &sink).await {
            let m = refusal(&Problem::refused(rule_name(&e), e.to_string()));
            errors.push(LineError {
                line: row.line,
                column: None,
                message: m.text,
                detail: m.detail,
            });
        }
    }
    Ok(errors)
}

/// `POST /parcs/{ledger}/exploitation/import`: a CSV file, all or nothing.
pub async fn upload(
    State(web): State<Web>,
    Params(params): Params,
    visitor: Visitor,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let farm = farm(&web, &params).await?;
    let session = super::require(&visitor, &farm, OPERATOR)?;
    let unreadable = || WebError::BadRequest("Le formulaire envoyé n'a pas pu être lu.".into());
    let mut multipart = multipart.map_err(|_| unreadable())?;
    let mut fields = Fields::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut too_large = false;
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "fichier" {
            let file_name = field.file_name().unwrap_or("envoyé").to_owned();
            let bytes = field.bytes().await.map_err(|_| unreadable())?;
            too_large = bytes.len() > MAX_FILE_BYTES;
            file = Some((file_name, bytes.to_vec()));
        } else {
            let text = field.text().await.map_err(|_| unreadable())?;
            if text.len() <= 4096 {
                fields.insert(name, text);
            }
        }
    }
    check_csrf(session, &fields)?;
    if let Some(again) = already_answered(&web, session, &fields) {
        return Ok(again);
    }
    let years = open_years(&farm).await?;
    let mut state = FormState::new(UPLOAD_FORM, fields.clone());
    let year = form_year(&mut state, &fields, &years);
    let text = match &file {
        None => {
            state.field_error("fichier", "Choisissez un fichier CSV.");
            None
        }
        Some(_) if too_large => {
            state.field_error(
                "fichier",
                format!(
                    "Le fichier dépasse {} Kio : découpez-le.",
                    MAX_FILE_BYTES / 1024
                ),
            );
            None
        }
        Some((_, bytes)) => match std::str::from_utf8(bytes) {
            Ok(t) => Some(t.to_owned()),
            Err(_) => {
                state.field_error(
                    "fichier",
                    "Le fichier n'est pas en UTF-8 : enregistrez-le en « CSV UTF-8 ».",
                );
                None
            }
        },
    };
    let (Some(year), Some(text)) = (year, text) else {
        return operator_page(
            &farm,
            &visitor,
            session,
            Some(state),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let file_name = file.map(|f| f.0).unwrap_or_default();
    let lock = web.upload_lock(&farm.id, year);
    let _one_at_a_time = lock.lock().await;
    // Read under the lock: another upload may just have added reports.
    let taken = open_years(&farm)
        .await?
        .into_iter()
        .find(|y| y.year == year)
        .map(|y| y.reports)
        .unwrap_or_default();
    let (rows, mut errors) = csv::parse(&text, &taken);
    if errors.is_empty() {
        errors = check_against_year(&farm, year, &rows).await?;
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line);
        return operator_page(
            &farm,
            &visitor,
            session,
            None,
            Some(Upload {
                name: file_name,
                errors,
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    // Every line holds: write them in order.
    let mut written = 0usize;
    for row in &rows {
        let result = execute(
            &farm,
            &session.principal,
            &fields,
            &format!(":{}", row.line),
            &year.to_string(),
            Command::FinancialYear(row.command.clone()),
        )
        .await;
        if let Err(p) = result {
            // Only a change made meanwhile outside this page (through the
            // API) can refuse a line checked a moment ago.
            let m = refusal(&p);
            let mut state = FormState::new(UPLOAD_FORM, fields.clone());
            state.top.push(Message {
                text: format!(
                    "Une modification faite au même moment a fait refuser la ligne {} : {} \
                     Les {written} lignes précédentes sont enregistrées ; les suivantes ne le sont pas.",
                    row.line, m.text
                ),
                detail: m.detail,
            });
            return operator_page(
                &farm,
                &visitor,
                session,
                Some(state),
                None,
                StatusCode::CONFLICT,
            )
            .await;
        }
        written += 1;
    }
    Ok(done(
        &web,
        session,
        &fields,
        &farm.path("/exploitation"),
        &format!(
            "Fichier {file_name} enregistré : {written} {} pour l'exercice {year}.",
            if written == 1 { "ligne" } else { "lignes" }
        ),
    ))
}
