//! A dividend's payments (`windledger_papers::payments`, docs/payments.md),
//! on the secretary's page `/parcs/{ledger}/secretariat/dividendes/{year}`:
//! where each holder's dividend stands (paid on the bank's booking date,
//! to pay, owed without a bank account, nothing to pay), the SEPA credit
//! transfer file of those still owed to download for the bank, and the
//! bank's statement (camt.053 or CSV) sent back, each line recorded or
//! said with why not. Each holder's data is read from the vault, and each
//! read logged, only when the file is written or the page lists who has
//! a bank account.

use std::collections::HashMap;

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::Utc;
use maud::{Markup, html};
use windledger_api::identity::reader;
use windledger_documents::{Drawn, tax};
use windledger_domain::money::Euros;
use windledger_domain::paris::to_paris;
use windledger_papers::payments::{self, Debtor, Mismatch, Payer, Settlement, Standing};
use windledger_projections::finance::Dividend;

use crate::extract::{Farm, FormPost, OnFarm, Params, Post, SignedIn, query_map};
use crate::layout::{
    Col, Field, FormState, Message, download, errors_box, form_guard, messages_of, state_of, table,
};
use crate::operator::multipart_upload;
use crate::{PageResult, Web, WebError, format, projected};

const STATEMENT_FORM: &str = "releve";

/// `.../secretariat/dividendes/{year}`.
#[derive(serde::Deserialize)]
pub struct YearPath {
    pub year: i32,
}

/// The page of the dividend of `year` + `suffix`.
pub fn link(farm: &Farm, year: i32, suffix: &str) -> String {
    farm.path(&format!("/secretariat/dividendes/{year}{suffix}"))
}

async fn dividend(farm: &Farm, year: i32) -> Result<Dividend, WebError> {
    projected(&farm.runtime, |p| payments::declared_dividend(p, year))
        .await?
        .ok_or(WebError::NotFound)
}

/// What the page says of a statement just imported.
pub(crate) struct Imported {
    pub(crate) file: String,
    pub(crate) settlement: Settlement,
}

fn mismatch(m: &Mismatch) -> String {
    match m {
        Mismatch::Returned { code } => format!(
            "virement rejeté ou retourné par la banque{}",
            code.as_ref()
                .map(|c| format!(" (motif {c})"))
                .unwrap_or_default()
        ),
        Mismatch::Pending => "pas encore comptabilisé : envoyez un relevé plus récent".into(),
        Mismatch::UnknownId => "aucun versement dû ne porte cette référence".into(),
        Mismatch::Amount { expected, booked } => format!(
            "montant de {} au lieu de {}",
            format::euros(booked.amount()),
            format::euros(expected.amount())
        ),
        Mismatch::Currency { currency } => format!("en {currency}, pas en euros"),
        Mismatch::NoBookingDate => "comptabilisé sans date".into(),
        Mismatch::AlreadyPaid { paid_on } => {
            format!("déjà enregistré comme versé le {}", format::date(*paid_on))
        }
        Mismatch::Refused { detail, .. } => format!("refusé par le registre : {detail}"),
    }
}

async fn page(
    web: &Web,
    farm: &Farm,
    me: &SignedIn,
    year: i32,
    sent: Option<FormState>,
    imported: Option<Imported>,
    status: StatusCode,
) -> PageResult {
    let session = &me.session;
    let dividend = dividend(farm, year).await?;
    let standings = payments::standings(
        web.app.vault().ok(),
        &farm.runtime,
        &dividend,
        &reader(&session.principal, "payment"),
    )
    .await?;
    let paid: u64 = dividend
        .payments()
        .filter_map(|(_, p)| p.amount.cents())
        .sum();
    let count = |s: Standing| standings.iter().filter(|x| **x == s).count();
    let (to_pay, without) = (count(Standing::ToPay), count(Standing::NoBankAccount));
    let top = messages_of(
        sent.as_ref(),
        &[("iban", "IBAN de la société"), ("fichier", "Relevé")],
    );
    let title = format!("Versement du dividende de l'exercice {year}");
    let body = html! {
        h1 { (title) }
        (errors_box("Le relevé n'a pas été enregistré", &top))
        @if let Some(i) = &imported { (imported_box(i)) }
        p.lead {
            "Dividende net de " (format::euros(Euros::from_cents(dividend.allocations.iter().filter_map(|a| a.net.cents()).sum()).amount()))
            " pour " (dividend.allocations.len()) " associés, à verser à partir du "
            (format::date(dividend.payment_date)) ". Versé à ce jour : "
            (format::euros(Euros::from_cents(paid).amount())) " à "
            (dividend.paid()) " associés. Un versement est enregistré quand le relevé de la banque le montre comptabilisé, à sa date de comptabilisation."
        }
        p { a href=(farm.path("/secretariat")) { "Retour au secrétariat" } }
        section aria-labelledby="virements" {
            h2 #virements { "Fichier de virements" }
            @if to_pay == 0 {
                p { "Aucun virement à faire : chaque associé est payé, ou n'a pas de coordonnées bancaires." }
            } @else {
                p {
                    (to_pay) " virement" (format::plural(to_pay)) " à faire. Le fichier (SEPA, norme ISO 20022 pain.001) se dépose dans l'espace de la banque de la société ; "
                    "il verse à chaque associé son dividende net sur l'IBAN de sa fiche d'identité."
                }
                form.card method="get" action=(link(farm, year, "/virements.xml")) {
                    (Field::new(state_of(None, "virements"), "virements", "iban", "IBAN de la société").required().hint("Le compte d'où partent les virements, par exemple FR76 3000 6000 0112 3456 7890 189.").render())
                    (Field::new(state_of(None, "virements"), "virements", "bic", "BIC de sa banque").hint("Facultatif.").render())
                    (Field::new(state_of(None, "virements"), "virements", "execution", "Date d'exécution").kind("date").hint("Aujourd'hui ou plus tard ; aujourd'hui si vide.").render())
                    button type="submit" { "Télécharger le fichier de virements" }
                }
            }
            @if without > 0 {
                p {
                    strong { (without) " associé" (format::plural(without)) " sans coordonnées bancaires" }
                    " : leur dividende n'est pas dans le fichier. Saisissez leur IBAN sur leur fiche d'identité."
                }
            }
        }
        section aria-labelledby="releve" {
            h2 #releve { "Relevé de la banque" }
            form.card method="post" action=(link(farm, year, "/releve")) enctype="multipart/form-data" {
                (form_guard(session))
                label for="releve-fichier" { "Relevé (camt.053 ou CSV)" }
                span.hint #releve-fichier-aide {
                    "Le relevé de compte au format camt.053 que donne la banque, ou un fichier CSV avec les colonnes "
                    code { "end_to_end_id;amount;booking_date;status" } " (statut " code { "comptabilisé" } ", "
                    code { "en attente" } " ou " code { "rejeté" } "). Chaque virement comptabilisé est enregistré comme versé ; "
                    "les autres lignes sont listées avec leur motif, sans rien enregistrer."
                }
                input type="file" #releve-fichier name="fichier" accept=".xml,.csv,text/csv,application/xml" required aria-describedby="releve-fichier-aide";
                button type="submit" { "Enregistrer les versements du relevé" }
            }
        }
        section aria-labelledby="associes" {
            h2 #associes { "Associé par associé" }
            (table(
                "Dividende de chaque associé et son versement",
                &[Col::Text("Associé"), Col::Text("Référence du virement"), Col::Num("Net"), Col::Text("Versement")],
                html! {
                    @for ((place, a), standing) in dividend.allocations.iter().enumerate().zip(&standings) {
                        tr {
                            th scope="row" { (a.holder) }
                            td { code { (payments::end_to_end_id(year, place)) } }
                            td.num { (format::euros(a.net.amount())) }
                            td {
                                @match (standing, a.paid.as_ref()) {
                                    (_, Some(p)) => { "versé le " (format::date(p.paid_on)) }
                                    (Standing::AwaitingDecision, None) => "imposé hors de France : en attente de la retenue décidée",
                                    (Standing::NothingToPay, None) => "rien à verser",
                                    (Standing::ToPay, None) => "à verser",
                                    _ => "sans coordonnées bancaires",
                                }
                            }
                        }
                    }
                },
            ))
        }
    };
    farm.page(status, &title, me.shown(), body)
}

pub(crate) fn imported_box(i: &Imported) -> Markup {
    let s = &i.settlement;
    html! {
        div.card role="status" #resultat {
            h2 { "Relevé " (i.file) }
            p {
                (s.recorded.len()) " versement" (format::plural(s.recorded.len())) " enregistré" (format::plural(s.recorded.len()))
                "; " (s.already_recorded) " déjà enregistré" (format::plural(s.already_recorded))
                "; " (s.unmatched.len()) " ligne" (format::plural(s.unmatched.len())) " non enregistrée" (format::plural(s.unmatched.len()))
                "; " (s.other_lines) " autre" (format::plural(s.other_lines)) " mouvement" (format::plural(s.other_lines)) " du compte laissé" (format::plural(s.other_lines)) " de côté."
            }
            @if !s.unmatched.is_empty() {
                (table(
                    "Lignes du relevé non enregistrées",
                    &[Col::Text("Ligne"), Col::Text("Référence"), Col::Num("Montant"), Col::Text("Motif")],
                    html! {
                        @for u in &s.unmatched {
                            tr {
                                td { (u.place) }
                                th scope="row" { code { (u.end_to_end_id) } }
                                td.num { (format::euros(u.amount.amount())) }
                                td { (mismatch(&u.mismatch)) }
                            }
                        }
                    },
                ))
            }
        }
    }
}

/// `GET /parcs/{ledger}/espace/ifu/{year}`: the visitor's own IFU of a
/// calendar year, named from the vault (the read logged).
pub async fn own_ifu(
    OnFarm(web, farm, me): OnFarm,
    Params(YearPath { year }): Params<YearPath>,
) -> PageResult {
    let Some(holder) = me.session.principal.holder.clone() else {
        return Err(WebError::BadRequest(
            "Votre jeton n'agit pour aucun associé : il n'a pas d'imprimé fiscal unique.".into(),
        ));
    };
    let id = farm.id.clone();
    let (lines, drawn) = projected(&farm.runtime, |p| {
        Some((tax::ifu(p, year).ok()?, Drawn::of(p, &id, None)?))
    })
    .await?
    .ok_or(WebError::NotFound)?;
    let lines: Vec<_> = lines.into_iter().filter(|l| l.holder == holder).collect();
    if lines.is_empty() {
        return Err(WebError::BadRequest(format!(
            "Aucun revenu ne vous a été versé en {year} : pas d'imprimé fiscal unique pour cette année."
        )));
    }
    let names = match web.app.vault() {
        Ok(v) => v
            .read_many(
                &farm.runtime,
                [&holder],
                &reader(&me.session.principal, "ifu"),
            )
            .await?
            .into_iter()
            .map(|(h, f)| (h, windledger_papers::persons::beneficiary(&f.person)))
            .collect(),
        Err(_) => Default::default(),
    };
    let pdf = tokio::task::spawn_blocking(move || tax::ifu_pdf(&drawn, year, &lines, &names))
        .await
        .map_err(|_| WebError::Internal)?
        .map_err(|_| WebError::Internal)?;
    let name = format!("{}-ifu-{year}-{holder}.pdf", farm.id);
    Ok(download(pdf, "application/pdf", &name))
}

/// `GET /parcs/{ledger}/secretariat/dividendes/{year}`.
pub async fn show(
    OnFarm(web, farm, me): OnFarm,
    Params(YearPath { year }): Params<YearPath>,
) -> PageResult {
    page(&web, &farm, &me, year, None, None, StatusCode::OK).await
}

/// `GET .../secretariat/dividendes/{year}/virements.xml?iban=&bic=&execution=`:
/// the file; a bad IBAN, BIC or date is a page saying so.
pub async fn transfers(
    OnFarm(web, farm, me): OnFarm,
    Params(YearPath { year }): Params<YearPath>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> PageResult {
    let query = query_map(query);
    let payer = payer(&query, &web, &me)?;
    let run = payments::dividend_transfers(&farm.runtime, year, &payer).await?;
    transfer_file(&farm, run)
}

/// A form's field, trimmed; `None` when empty.
pub(crate) fn given(query: &HashMap<String, String>, name: &str) -> Option<String> {
    query
        .get(name)
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The company's account (`iban`, `bic`) and the execution date
/// (`execution`: today or later, Paris) of a transfer form, with the
/// server's clock and the vault read for the visitor; a bad one is a
/// sentence saying so.
pub(crate) fn payer<'a>(
    query: &HashMap<String, String>,
    web: &'a Web,
    me: &SignedIn,
) -> Result<Payer<'a>, WebError> {
    let bad = |text: &str| WebError::BadRequest(text.to_owned());
    let iban = windledger_vault::Iban::new(
        given(query, "iban").unwrap_or_default().replace(' ', ""),
    )
    .map_err(|_| {
        bad("L'IBAN de la société n'est pas valide : 2 lettres du pays, 2 chiffres de contrôle, puis le compte (la clé doit être juste).")
    })?;
    let bic = given(query, "bic")
        .map(|b| windledger_vault::Bic::new(b.replace(' ', "").to_uppercase()))
        .transpose()
        .map_err(|_| bad("Le BIC n'est pas valide : 8 ou 11 lettres et chiffres."))?;
    let now = to_paris(Utc::now());
    let execution = match given(query, "execution") {
        None => now.date(),
        Some(d) => chrono::NaiveDate::parse_from_str(&d, "%Y-%m-%d")
            .map_err(|_| bad("La date d'exécution n'est pas une date (AAAA-MM-JJ)."))?,
    };
    if execution < now.date() {
        return Err(bad(
            "La date d'exécution est passée : la banque exécute un virement au plus tôt aujourd'hui.",
        ));
    }
    Ok(Payer {
        vault: web.app.vault().ok(),
        debtor: Debtor { iban, bic },
        execution_date: execution,
        now,
        reader: reader(&me.session.principal, "payment"),
    })
}

/// The run's file to download, or a sentence saying why there is none.
pub(crate) fn transfer_file(farm: &Farm, run: payments::PaymentRun) -> PageResult {
    let Some(file) = run.file else {
        return Err(WebError::BadRequest(format!(
            "Aucun virement à faire : {} déjà versé{}, {} sans coordonnées bancaires, {} en attente de la retenue décidée.",
            run.already_paid,
            format::plural(run.already_paid),
            run.without_bank_account.len(),
            run.awaiting_decision.len()
        )));
    };
    let name = format!("{}-{}.xml", farm.id, run.message_id);
    Ok(download(file, "application/xml", &name))
}

/// The statement of an upload, read; or the sentence saying why not.
pub(crate) fn read_statement(
    file: Option<&crate::operator::UploadedFile>,
) -> Result<Vec<windledger_sepa::statement::StatementLine>, String> {
    match file {
        None => Err("Choisissez le fichier du relevé.".to_owned()),
        Some(file) => windledger_sepa::statement::read(&file.bytes).map_err(|e| {
            format!(
                "Le fichier {} n'est pas un relevé lisible (camt.053 ou CSV) : {e}.",
                file.name
            )
        }),
    }
}

/// `POST .../secretariat/dividendes/{year}/releve`: the bank's statement.
pub async fn statement(
    OnFarm(web, farm, me): OnFarm,
    Params(YearPath { year }): Params<YearPath>,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    dividend(&farm, year).await?;
    let scope = payments::Scope::Dividend(year);
    match settle_upload(&web, farm, me, multipart, scope).await? {
        Sent::Answered(response) => Ok(response),
        Sent::Unread(post, state) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(&web, &post.farm, &post.me, year, Some(state), None, status).await
        }
        Sent::Settled(post, imported) => {
            let status = StatusCode::OK;
            page(
                &web,
                &post.farm,
                &post.me,
                year,
                None,
                Some(imported),
                status,
            )
            .await
        }
    }
}

/// What became of a statement sent by a page's form.
pub(crate) enum Sent {
    /// The form was refused before it was read (its CSRF token): answered.
    Answered(axum::response::Response),
    /// The file is missing or not a statement: the form's state says why.
    Unread(Post, FormState),
    /// Its lines of `scope` settled.
    Settled(Post, Imported),
}

/// The statement of an upload (the form `releve`, its file `fichier`),
/// its lines of `scope` settled.
pub(crate) async fn settle_upload(
    web: &Web,
    farm: Farm,
    me: SignedIn,
    multipart: Result<Multipart, MultipartRejection>,
    scope: payments::Scope,
) -> Result<Sent, WebError> {
    let (fields, file) = multipart_upload(multipart).await?;
    let post = match Post::new(farm, FormPost::new(web, me.session, fields)?) {
        Ok(post) => post,
        Err(answered) => return Ok(Sent::Answered(answered.into_response())),
    };
    let read = read_statement(file.as_ref());
    let (Some(file), Ok(lines)) = (file, read.clone()) else {
        let mut state = FormState::new(STATEMENT_FORM, post.fields.clone());
        state.top.push(Message {
            text: read.err().unwrap_or_default(),
        });
        return Ok(Sent::Unread(post, state));
    };
    let settlement =
        payments::settle(&post.farm.runtime, scope, &lines, &post.metadata(":releve")).await?;
    let imported = Imported {
        file: file.name,
        settlement,
    };
    Ok(Sent::Settled(post, imported))
}
