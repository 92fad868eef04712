//! The current-account advances paid by transfer (`windledger_papers::payments`,
//! docs/payments.md), on the secretary's page
//! `/parcs/{ledger}/secretariat/avances`: each advance with the principal
//! still owed and each year's interest (gross, withheld, net, paid or to
//! pay); the SEPA file of a year's interest and of a repayment to
//! download for the bank; and the bank's statement sent back, each of the
//! ledger's transfers it shows (dividends, interest, repayments) recorded
//! or said with why not.

use std::collections::HashMap;

use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Multipart, Query};
use axum::http::StatusCode;
use maud::html;
use windledger_domain::money::Euros;
use windledger_papers::payments::{self, RepaymentOrder};
use windledger_projections::finance::AdvanceRecord;

use crate::extract::{Farm, OnFarm, SignedIn, query_map};
use crate::layout::{Col, Field, FormState, errors_box, form_guard, messages_of, state_of, table};
use crate::payments::{Imported, Sent, given, imported_box, payer, settle_upload, transfer_file};
use crate::{PageResult, WebError, format, projected};

/// The advances page + `suffix`.
pub fn link(farm: &Farm, suffix: &str) -> String {
    farm.path(&format!("/secretariat/avances{suffix}"))
}

/// The company's advances in the order granted.
async fn advances(farm: &Farm) -> Result<Vec<(String, AdvanceRecord)>, WebError> {
    projected(&farm.runtime, payments::advances_in_order).await
}

/// The company's IBAN, BIC and execution date, the fields every transfer
/// form asks.
fn payer_fields(form: &'static str) -> maud::Markup {
    html! {
        (Field::new(state_of(None, form), form, "iban", "IBAN de la société").required().hint("Le compte d'où partent les virements, par exemple FR76 3000 6000 0112 3456 7890 189.").render())
        (Field::new(state_of(None, form), form, "bic", "BIC de sa banque").hint("Facultatif.").render())
        (Field::new(state_of(None, form), form, "execution", "Date d'exécution").kind("date").hint("Aujourd'hui ou plus tard ; aujourd'hui si vide.").render())
    }
}

async fn page(
    farm: &Farm,
    me: &SignedIn,
    sent: Option<FormState>,
    imported: Option<Imported>,
    status: StatusCode,
) -> PageResult {
    let session = &me.session;
    let advances = advances(farm).await?;
    let top = messages_of(sent.as_ref(), &[("fichier", "Relevé")]);
    let years: std::collections::BTreeSet<i32> = advances
        .iter()
        .flat_map(|(_, a)| a.interest.keys().copied())
        .collect();
    let title = "Avances en compte courant : intérêts et remboursements";
    let body = html! {
        h1 { (title) }
        (errors_box("Le relevé n'a pas été enregistré", &top))
        @if let Some(i) = &imported { (imported_box(i)) }
        p.lead {
            "Les intérêts d'une année et les remboursements se versent par virement ; un versement est enregistré quand le relevé de la banque le montre comptabilisé, à sa date de comptabilisation."
        }
        p { a href=(farm.path("/secretariat")) { "Retour au secrétariat" } }
        @if advances.is_empty() {
            p { "Aucune avance en compte courant n'est enregistrée." }
        }
        @for (id, a) in &advances {
            section aria-labelledby={ "avance-" (id) } {
                h2 id={ "avance-" (id) } { "Avance " (id) }
                p {
                    "Consentie par " (a.holder) " le " (format::date(a.granted_on)) " : "
                    (format::euros(a.amount.amount())) " au taux annuel de " (format::decimal(a.annual_rate, 2)) " %. Capital restant dû : "
                    strong { (format::euros(a.outstanding.amount())) } "."
                }
                @if !a.interest.is_empty() {
                    (table(
                        format!("Intérêts de l'avance {id}"),
                        &[Col::Text("Année"), Col::Num("Brut"), Col::Num("Retenu"), Col::Num("Net"), Col::Text("Versement")],
                        html! {
                            @for (year, i) in &a.interest {
                                @let (tax, social) = i.withheld();
                                tr {
                                    th scope="row" { (year) }
                                    td.num { (format::euros(i.gross.amount())) }
                                    td.num { (format::euros(Euros::from_cents(tax.cents().unwrap_or(0) + social.cents().unwrap_or(0)).amount())) }
                                    td.num { @match i.net() { Some(n) => (format::euros(n.amount())), None => "—" } }
                                    td {
                                        @match (&i.paid, i.awaits_decision()) {
                                            (Some(p), _) => { "versés le " (format::date(p.paid_on)) }
                                            (None, true) => "prêteur imposé hors de France : en attente de la retenue décidée",
                                            (None, false) => "à verser",
                                        }
                                    }
                                }
                            }
                        },
                    ))
                }
            }
        }
        @if !years.is_empty() {
            section aria-labelledby="interets" {
                h2 #interets { "Fichier de virements des intérêts" }
                p { "Un virement par avance dont les intérêts de l'année restent à verser : leur net, sur l'IBAN de la fiche d'identité du prêteur." }
                form.card method="get" action=(link(farm, "/interets.xml")) {
                    label for="interets-annee" { "Année des intérêts" }
                    select #interets-annee name="annee" required {
                        @for y in years.iter().rev() { option value=(y) { (y) } }
                    }
                    (payer_fields("interets"))
                    button type="submit" { "Télécharger le fichier des intérêts" }
                }
            }
        }
        @if advances.iter().any(|(_, a)| a.outstanding != Euros::ZERO) {
            section aria-labelledby="remboursement" {
                h2 #remboursement { "Fichier de virements des remboursements" }
                p { "Un virement par avance dont un montant est indiqué ; laissez vide une avance qui n'est pas remboursée. Un remboursement n'est enregistré qu'une fois son virement comptabilisé par la banque (relevé ci-dessous)." }
                form.card method="get" action=(link(farm, "/remboursement.xml")) {
                    @for (id, a) in &advances {
                        @if a.outstanding != Euros::ZERO {
                            @let name = format!("montant-{id}");
                            @let label = format!("Montant à rembourser sur l'avance {id} (euros)");
                            @let hint = format!("Au plus le capital restant dû, {}, par exemple 2500,00.", format::euros(a.outstanding.amount()));
                            (Field::new(state_of(None, "remboursement"), "remboursement", &name, &label).decimal().hint(&hint).render())
                        }
                    }
                    (payer_fields("remboursement"))
                    button type="submit" { "Télécharger le fichier des remboursements" }
                }
            }
        }
        section aria-labelledby="releve" {
            h2 #releve { "Relevé de la banque" }
            form.card method="post" action=(link(farm, "/releve")) enctype="multipart/form-data" {
                (form_guard(session))
                label for="releve-fichier" { "Relevé (camt.053 ou CSV)" }
                span.hint #releve-fichier-aide {
                    "Le relevé de compte au format camt.053 que donne la banque, ou un fichier CSV avec les colonnes "
                    code { "end_to_end_id;amount;booking_date;status" } ". Chaque virement de dividende, d'intérêts ou de remboursement comptabilisé est enregistré comme versé ; "
                    "les autres lignes sont listées avec leur motif, sans rien enregistrer."
                }
                input type="file" #releve-fichier name="fichier" accept=".xml,.csv,text/csv,application/xml" required aria-describedby="releve-fichier-aide";
                button type="submit" { "Enregistrer les versements du relevé" }
            }
        }
    };
    farm.page(status, title, me.shown(), body)
}

/// `GET /parcs/{ledger}/secretariat/avances`.
pub async fn show(farm: Farm, me: SignedIn) -> PageResult {
    page(&farm, &me, None, None, StatusCode::OK).await
}

/// `GET .../secretariat/avances/interets.xml?annee=&iban=&bic=&execution=`.
pub async fn interest(
    OnFarm(web, farm, me): OnFarm,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> PageResult {
    let query = query_map(query);
    let year = given(&query, "annee")
        .and_then(|y| y.parse::<i32>().ok())
        .ok_or_else(|| WebError::BadRequest("Choisissez l'année des intérêts.".into()))?;
    let payer = payer(&query, &web, &me)?;
    let run = payments::interest_transfers(&farm.runtime, year, &payer).await?;
    transfer_file(&farm, run)
}

/// `GET .../secretariat/avances/remboursement.xml?montant-<advance>=&...&iban=&bic=&execution=`:
/// one transfer per advance given an amount.
pub async fn repayment(
    OnFarm(web, farm, me): OnFarm,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> PageResult {
    let query = query_map(query);
    let mut orders = Vec::new();
    for name in query.keys() {
        let Some(advance) = name.strip_prefix("montant-") else {
            continue;
        };
        let Some(amount) = given(&query, name) else {
            continue;
        };
        let amount = crate::read_euros(&amount).ok_or_else(|| {
            WebError::BadRequest(format!(
                "Le montant pour l'avance {advance} n'est pas un montant en euros au centime près, au-dessus de zéro (par exemple 2500,00)."
            ))
        })?;
        orders.push(RepaymentOrder {
            advance: advance.to_owned(),
            amount,
        });
    }
    if orders.is_empty() {
        return Err(WebError::BadRequest(
            "Indiquez le montant à rembourser sur au moins une avance.".into(),
        ));
    }
    orders.sort_by(|a, b| a.advance.cmp(&b.advance));
    let payer = payer(&query, &web, &me)?;
    let run = payments::repayment_transfers(&farm.runtime, &orders, &payer).await?;
    transfer_file(&farm, run)
}

/// `POST .../secretariat/avances/releve`: the bank's statement, every
/// transfer of the ledger's it shows.
pub async fn statement(
    OnFarm(web, farm, me): OnFarm,
    multipart: Result<Multipart, MultipartRejection>,
) -> PageResult {
    match settle_upload(&web, farm, me, multipart, payments::Scope::Everything).await? {
        Sent::Answered(response) => Ok(response),
        Sent::Unread(post, state) => {
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            page(&post.farm, &post.me, Some(state), None, status).await
        }
        Sent::Settled(post, imported) => {
            page(&post.farm, &post.me, None, Some(imported), StatusCode::OK).await
        }
    }
}
