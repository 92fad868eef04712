//! The operator's pages: a month's production of a turbine, a month's
//! revenue, or a CSV file of both. A file is checked in full before
//! anything is written (`windledger_app::import::csv::check`): every line
//! read, and every line that reads decided in order on a copy of the
//! financial year (as the aggregate would decide it, nothing written), so
//! every bad line is listed at once; one error anywhere and nothing is
//! written. Only then are the lines written, in order, one upload at a time
//! per year.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::Multipart;
use axum::extract::multipart::MultipartRejection;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use maud::{Markup, html};
use rust_decimal::Decimal;
use windledger_domain::Rule;
use windledger_domain::finance::{FinancialYearCommand, FinancialYearError, YearMonth};
use windledger_domain::types::{ReportId, TurbineId};
use windledger_projections::finance::MonthTotals;

use crate::extract::{Farm, Fields, FormPost, OnFarm, Post, SignedIn, refusal, unreadable};
use crate::layout::{
    Col, Field, FormState, FormView, Message, errors_box, form_guard, message, messages_of, select,
    state_of, table,
};
use crate::{PageResult, WebError, format, projected};
use windledger_api::problem::Problem;
use windledger_app::command::Command;
use windledger_app::import::csv::{self, LineError, REVENUE_KINDS, Row, parse_decimal};
use windledger_french::events;
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
        // The year's turbines, and those commissioned since it opened.
        let current = p.cap_table.fold().current_turbines();
        p.finance
            .fold()
            .years()
            .filter(|y| y.accounts.is_none())
            .map(|y| OpenYear {
                year: y.year,
                turbines: y
                    .turbines
                    .iter()
                    .chain(&current)
                    .map(|t| t.id.to_string())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
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
    me: &SignedIn,
    sent: Option<FormState>,
    upload: Option<Upload>,
    status: StatusCode,
) -> PageResult {
    let session = &me.session;
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
    let top: Vec<Message> = messages_of(
        sent.as_ref(),
        &[
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
        ],
    );
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
                                        td { (e.message) }
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
                "une à une ou par fichier CSV, une fois le mois terminé (à partir du 1er du mois suivant). Une déclaration se corrige en envoyant une nouvelle déclaration "
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
    farm.page(status, "Production et recettes", me.shown(), body)
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
                Ok(months) => (table(
                    "Production et recettes en vigueur, par mois",
                    &[Col::Text("Mois"), Col::Num("Production"), Col::Num("Éoliennes déclarées"), Col::Num("Recettes")],
                    html! {
                        @for (m, t) in months {
                            tr {
                                th scope="row" { (format::month(*m)) }
                                td.num { (format::mwh(t.mwh, 3)) }
                                td.num { (t.turbines_reported) " / " (y.turbines.len()) }
                                td.num { (format::euros(t.revenue)) }
                            }
                        }
                    },
                )),
            }
        }
    }
}

/// `GET /parcs/{ledger}/exploitation`.
pub async fn show(farm: Farm, me: SignedIn) -> PageResult {
    operator_page(&farm, &me, None, None, StatusCode::OK).await
}

/// The year a form names, which must be open.
fn form_year(state: &mut FormState, years: &[OpenYear]) -> Option<i32> {
    state.read("exercice", "Choisissez un exercice ouvert.", |y| {
        y.parse()
            .ok()
            .filter(|y| years.iter().any(|o| o.year == *y))
    })
}

fn form_number(state: &mut FormState, name: &str) -> Option<Decimal> {
    let missing = "Ce champ est obligatoire.";
    state.read_required(name, missing, "Ce n'est pas un nombre.", parse_decimal)
}

/// The form's report id (or one made up from `base`, not taken yet in
/// `year`) and the report it corrects.
fn form_ids(
    state: &mut FormState,
    base: String,
    years: &[OpenYear],
    year: Option<i32>,
) -> (Option<ReportId>, Option<ReportId>) {
    let read = |state: &mut FormState, name: &str| -> Result<Option<ReportId>, ()> {
        match state.text(name) {
            "" => Ok(None),
            v => ReportId::new(v).map(Some).map_err(|_| {
                state.field_error(
                    name,
                    "Identifiant invalide : lettres, chiffres, - _ . ; 64 caractères au plus.",
                )
            }),
        }
    };
    let report = read(state, "rapport");
    let corrects = read(state, "corrige").ok().flatten();
    let none = BTreeSet::new();
    let taken = years.iter().find(|y| Some(y.year) == year);
    let report = match report {
        Ok(Some(r)) => Some(r),
        Ok(None) => ReportId::new(csv::fresh_id(&base, taken.map_or(&none, |y| &y.reports))).ok(),
        Err(()) => None,
    };
    (report, corrects)
}

/// Runs one report command, then back to the page.
async fn report(
    post: &Post,
    mut state: FormState,
    year: Option<i32>,
    command: Option<FinancialYearCommand>,
) -> PageResult {
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
    let summary = command.as_ref().map(events::report).unwrap_or_default();
    let command = year
        .zip(command)
        .map(|(year, c)| (year.to_string(), Command::FinancialYear(c)));
    post.run(
        state,
        command,
        |position| {
            (
                post.farm.path("/exploitation"),
                format!(
                    "Enregistré (position {}) : {summary}.",
                    format::int(position)
                ),
            )
        },
        async |sent| {
            operator_page(
                &post.farm,
                &post.me,
                Some(sent),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        },
    )
    .await
}

/// `POST /parcs/{ledger}/exploitation/production`.
pub async fn production(post: Post) -> PageResult {
    let years = open_years(&post.farm).await?;
    let mut state = FormState::new(PRODUCTION_FORM, post.fields.clone());
    let year = form_year(&mut state, &years);
    let turbine = state.read("eolienne", "Choisissez une éolienne.", |t| {
        TurbineId::new(t).ok()
    });
    let month = state.read("mois", "Indiquez un mois au format AAAA-MM.", |m| {
        m.parse::<YearMonth>().ok()
    });
    let mwh = form_number(&mut state, "mwh");
    let availability = form_number(&mut state, "disponibilite");
    let base = match (&month, &turbine) {
        (Some(m), Some(t)) => format!("p-{m}-{t}"),
        _ => "p".to_owned(),
    };
    let (id, corrects) = form_ids(&mut state, base, &years, year);
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
    report(&post, state, year, command).await
}

/// `POST /parcs/{ledger}/exploitation/recette`.
pub async fn revenue(post: Post) -> PageResult {
    let years = open_years(&post.farm).await?;
    let mut state = FormState::new(REVENUE_FORM, post.fields.clone());
    let year = form_year(&mut state, &years);
    let month = state.read("mois", "Indiquez un mois au format AAAA-MM.", |m| {
        m.parse::<YearMonth>().ok()
    });
    let kind = state.read(
        "nature",
        "Choisissez la nature de la recette.",
        csv::revenue_kind,
    );
    let volume = form_number(&mut state, "volume");
    let price = form_number(&mut state, "prix");
    let base = match (&month, kind) {
        (Some(m), Some(k)) => format!("r-{m}-{}", csv::revenue_kind_name(k)),
        _ => "r".to_owned(),
    };
    let (id, corrects) = form_ids(&mut state, base, &years, year);
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
    report(&post, state, year, command).await
}

/// Checks a file against the financial year as the ledger holds it now
/// (`csv::check`: every line read, every line that reads decided in order
/// on a copy of the year): the rows, or every error. Nothing is written.
async fn check_file(
    farm: &Farm,
    year: i32,
    text: &str,
    taken: &BTreeSet<String>,
) -> Result<Result<Vec<Row>, Vec<LineError>>, WebError> {
    let runtime = &farm.runtime;
    let aggregate = runtime
        .financial_year(&year.to_string())
        .await
        .map_err(WebError::from)?;
    let say = |e: &FinancialYearError| refusal(&Problem::refused(e.rule(), e.to_string())).text;
    Ok(csv::check(text, taken, aggregate, runtime.year_services(), say).await)
}

/// A file sent by a form (`enctype="multipart/form-data"`, its field
/// `fichier`), with its name.
pub struct UploadedFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// The fields of a multipart form (each at most 4 KiB; longer ones left
/// out) and its file, within the server's bound on a body.
pub async fn multipart_upload(
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(Fields, Option<UploadedFile>), WebError> {
    let mut multipart = multipart.map_err(|_| unreadable())?;
    let mut fields = Fields::new();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or("").to_owned();
        if name == "fichier" {
            let file_name = field.file_name().unwrap_or("envoyé").to_owned();
            let bytes = field.bytes().await.map_err(|_| unreadable())?;
            file = Some(UploadedFile {
                name: file_name,
                bytes: bytes.to_vec(),
            });
        } else {
            let text = field.text().await.map_err(|_| unreadable())?;
            if text.len() <= 4096 {
                fields.insert(name, text);
            }
        }
    }
    Ok((fields, file))
}

/// `POST /parcs/{ledger}/exploitation/import`: a CSV file, all or nothing.
pub async fn upload(
    OnFarm(web, farm, me): OnFarm,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    let (fields, file) = multipart_upload(multipart).await?;
    let too_large = file
        .as_ref()
        .is_some_and(|f| f.bytes.len() > MAX_FILE_BYTES);
    let file = file.map(|f| (f.name, f.bytes));
    let post = match Post::new(farm, FormPost::new(&web, me.session, fields)?) {
        Ok(post) => post,
        Err(answered) => return Ok(answered.into_response()),
    };
    let page = async |sent, upload, status| {
        operator_page(&post.farm, &post.me, sent, upload, status).await
    };
    let years = open_years(&post.farm).await?;
    let mut state = FormState::new(UPLOAD_FORM, post.fields.clone());
    let year = form_year(&mut state, &years);
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
        return page(Some(state), None, StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let file_name = file.map(|f| f.0).unwrap_or_default();
    let lock = web.upload_lock(&post.farm.id, year);
    let _one_at_a_time = lock.lock().await;
    // Read under the lock: another upload may just have added reports.
    let taken = open_years(&post.farm)
        .await?
        .into_iter()
        .find(|y| y.year == year)
        .map(|y| y.reports)
        .unwrap_or_default();
    let rows = match check_file(&post.farm, year, &text, &taken).await? {
        Ok(rows) => rows,
        Err(errors) => {
            let upload = Upload {
                name: file_name,
                errors,
            };
            return page(None, Some(upload), StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    // Every line holds: write them in order.
    let mut written = 0usize;
    for row in &rows {
        let command = Command::FinancialYear(row.command.clone());
        let suffix = format!(":{}", row.line);
        if let Err(p) = post.execute(&suffix, &year.to_string(), command).await {
            // Only a change made meanwhile outside this page (through the
            // API) can refuse a line checked a moment ago.
            let m = refusal(&p);
            let mut state = FormState::new(UPLOAD_FORM, post.fields.clone());
            state.top.push(Message {
                text: format!(
                    "Une modification faite au même moment a fait refuser la ligne {} : {} \
                     Les {written} lignes précédentes sont enregistrées ; les suivantes ne le sont pas.",
                    row.line, m.text
                ),
            });
            return page(Some(state), None, StatusCode::CONFLICT).await;
        }
        written += 1;
    }
    Ok(post.done(
        &post.farm.path("/exploitation"),
        &format!(
            "Fichier {file_name} enregistré : {written} {} pour l'exercice {year}.",
            if written == 1 { "ligne" } else { "lignes" }
        ),
    ))
}
