//! A meeting's paperwork (`windledger_papers::meeting_papers`), on the
//! secretary's page `/parcs/{ledger}/secretariat/assemblees/{meeting}`:
//! the documents to download (the letters of convocation still to post, as
//! PDF and as CSV for a mailing service, every convened holder's postal
//! voting form, the attendance sheet, the minutes with the SHA-256 their
//! officers sign), the convocations sent by channel and those still to
//! send (e-mails through the server's SMTP relay, letters recorded as
//! posted), and the forms of what the company receives and records: a
//! postal voting form, a proxy on paper, the bureau, the minutes' own
//! words and the officers' handwritten signatures.
//!
//! Also the files other pages link to: a holder's own postal voting form
//! (the link of their convocation), and the attendance sheet and the
//! minutes from the register's page of the meeting. Names come from the
//! identity vault as the API's documents take them, each read logged.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use axum::http::{HeaderValue, StatusCode};
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use windledger_api::auth::{Principal, Role};
use windledger_api::identity::reader;
use windledger_api::problem::Problem;
use windledger_app::command::{Command, Receipt};
use windledger_documents::convocation::{letters_csv, letters_pdf};
use windledger_documents::meeting::{attendance_pdf, named_on_sheet};
use windledger_documents::postal_form::postal_forms_pdf;
use windledger_documents::{DocumentError, Person};
use windledger_domain::meeting::{
    Bureau, Choice, ConvocationChannel, MeetingCommand, OfficerSignature,
};
use windledger_domain::paris::paris_date;
use windledger_domain::types::HolderId;
use windledger_html::tables::section;
use windledger_papers::meeting_papers::{self, Emailed, MeetingPapers, Plan, SignableMinutes};

use crate::extract::{Farm, MeetingPath, OnFarm, Params, Post, SignedIn};
use crate::layout::{
    Col, Field, FormState, FormView, Message, contents, download, error_page, errors_box,
    form_guard, messages_of, select, state_of, table, textarea,
};
use crate::secretary::{date, holder};
use crate::{PageResult, Web, WebError, format, projected};

const POSTAL_FORM: &str = "correspondance";
const PROXY_FORM: &str = "pouvoir";
const BUREAU_FORM: &str = "bureau";
const MINUTES_FORM: &str = "proces-verbal";
const SIGNATURE_FORM: &str = "signature";
const EMAILS_FORM: &str = "courriels";
const LETTERS_FORM: &str = "lettres";

const PDF: &str = "application/pdf";
/// A resolution's text in a legend is cut after this many characters.
const LEGEND_CHARS: usize = 140;
/// Failed e-mails named in the message after sending; the others counted.
const FAILURES_NAMED: usize = 10;

/// A postal form's boxes: the value sent, and the choice.
const CHOICES: [(&str, Choice); 3] = [
    ("pour", Choice::For),
    ("contre", Choice::Against),
    ("abstention", Choice::Abstain),
];

/// The paperwork page of `meeting` + `suffix`.
pub fn link(farm: &Farm, meeting: &str, suffix: &str) -> String {
    farm.path(&format!("/secretariat/assemblees/{meeting}{suffix}"))
}

/// The papers of the path's meeting; 404 if the farm has none.
async fn papers(farm: &Farm, meeting: &str) -> Result<MeetingPapers, WebError> {
    projected(&farm.runtime, |p| MeetingPapers::of(p, &farm.id, meeting))
        .await?
        .ok_or(WebError::NotFound)
}

/// Whether `holder` is convened to `meeting` (has a postal voting form).
pub async fn convened(farm: &Farm, meeting: &str, holder: &HolderId) -> bool {
    papers(farm, meeting)
        .await
        .is_ok_and(|p| p.convenable.contains(holder))
}

/// Who the convocations still go to, each holder's data read from the
/// vault (each read logged), as the API's paperwork.
async fn plan(
    web: &Web,
    farm: &Farm,
    principal: &Principal,
    papers: &MeetingPapers,
) -> Result<Plan, WebError> {
    let reader = reader(principal, "convocation");
    let vault = web.app.vault().ok();
    Ok(meeting_papers::plan(vault, &farm.runtime, papers, web.app.public_url(), &reader).await?)
}

/// The minutes as the officers sign them, officers named from the vault
/// for every reader (the document signed is one and the same).
async fn signable(
    web: &Web,
    farm: &Farm,
    principal: &Principal,
    papers: &MeetingPapers,
) -> Result<Option<SignableMinutes>, WebError> {
    let reader = reader(principal, "minutes");
    let vault = web.app.vault().ok();
    Ok(meeting_papers::minutes(vault, &farm.runtime, papers, &reader).await?)
}

/// Who `holders` are, from the vault (each read logged); without the
/// vault, nobody (the documents show ids).
async fn names(
    web: &Web,
    farm: &Farm,
    principal: &Principal,
    holders: Vec<HolderId>,
    purpose: &str,
) -> Result<BTreeMap<HolderId, Person>, WebError> {
    match web.app.vault() {
        Ok(vault) => Ok(windledger_papers::persons::names(
            vault,
            &farm.runtime,
            holders,
            &reader(principal, purpose),
        )
        .await?),
        Err(_) => Ok(BTreeMap::new()),
    }
}

/// A document drawn off the server's threads.
async fn drawn<T: Send + 'static>(
    draw: impl FnOnce() -> Result<T, DocumentError> + Send + 'static,
) -> Result<T, WebError> {
    let drawn = tokio::task::spawn_blocking(draw).await.map_err(|e| {
        tracing::error!(error = %e, "drawing a document stopped");
        WebError::Internal
    })?;
    drawn.map_err(|e| {
        tracing::error!(error = %e, "a document could not be drawn");
        WebError::Internal
    })
}

/// A 404 in French saying why.
fn missing(title: &str, text: &str) -> PageResult {
    Ok(error_page(StatusCode::NOT_FOUND, title, text))
}

// ---------------------------------------------------------------- files

/// `GET .../secretariat/assemblees/{meeting}/convocations.pdf` and, `CSV`,
/// `.../convocations.csv`: the letters still to post.
pub async fn letters_file<const CSV: bool>(
    OnFarm(web, farm, me): OnFarm,
    Params(MeetingPath { meeting }): Params<MeetingPath>,
) -> PageResult {
    let papers = papers(&farm, &meeting).await?;
    let letters = plan(&web, &farm, &me.session.principal, &papers)
        .await?
        .letters();
    if CSV {
        let name = format!("{}-{meeting}-convocations.csv", farm.id);
        return Ok(download(
            letters_csv(&letters),
            "text/csv; charset=utf-8",
            &name,
        ));
    }
    let bytes = drawn(move || letters_pdf(&papers.drawn, &letters)).await?;
    Ok(download(
        bytes,
        PDF,
        &format!("{}-{meeting}-convocations.pdf", farm.id),
    ))
}

/// The postal voting forms of `holders`, named from the vault.
async fn postal_forms(
    web: &Web,
    farm: &Farm,
    me: &SignedIn,
    papers: MeetingPapers,
    holders: Vec<HolderId>,
    name: &str,
) -> PageResult {
    let principal = &me.session.principal;
    let names = names(web, farm, principal, holders.clone(), "postal voting forms").await?;
    let MeetingPapers {
        drawn: at,
        record,
        deadlines,
        ..
    } = papers;
    let bytes = drawn(move || postal_forms_pdf(&at, &record, &holders, &deadlines, &names)).await?;
    Ok(download(bytes, PDF, name))
}

/// `GET .../secretariat/assemblees/{meeting}/formulaires.pdf`: a form for
/// every holder the meeting convenes, to print.
pub async fn all_postal_forms(
    OnFarm(web, farm, me): OnFarm,
    Params(MeetingPath { meeting }): Params<MeetingPath>,
) -> PageResult {
    let papers = papers(&farm, &meeting).await?;
    let holders = papers.convenable.clone();
    let name = format!("{}-{meeting}-formulaires.pdf", farm.id);
    postal_forms(&web, &farm, &me, papers, holders, &name).await
}

/// `GET /parcs/{ledger}/assemblees/{meeting}/formulaire.pdf`: the
/// visitor's own postal voting form (the link of their convocation).
pub async fn own_postal_form(
    OnFarm(web, farm, me): OnFarm,
    Params(MeetingPath { meeting }): Params<MeetingPath>,
) -> PageResult {
    let title = "Formulaire introuvable";
    let Some(holder) = me.session.principal.holder.clone() else {
        return missing(
            title,
            "Votre jeton n'agit pour aucun associé : il n'a pas de formulaire de vote par correspondance.",
        );
    };
    let papers = papers(&farm, &meeting).await?;
    if !papers.convenable.contains(&holder) {
        return missing(
            title,
            "Vous n'êtes pas convoqué à cette assemblée : seuls les associés qui détenaient une action \
             à la date de convocation (ou les membres du conseil) reçoivent un formulaire.",
        );
    }
    let name = format!("{}-{meeting}-formulaire-{holder}.pdf", farm.id);
    postal_forms(&web, &farm, &me, papers, vec![holder], &name).await
}

/// `GET .../registre/{meeting}/feuille-de-presence.pdf` (and the
/// secretary's paperwork's): the attendance sheet once the vote is open;
/// names and domiciles for the secretary, ids for the municipality, as the
/// API's.
pub async fn attendance(
    OnFarm(web, farm, me): OnFarm,
    Params(MeetingPath { meeting }): Params<MeetingPath>,
) -> PageResult {
    let MeetingPapers {
        drawn: at, record, ..
    } = papers(&farm, &meeting).await?;
    let holders = named_on_sheet(&record);
    let principal = &me.session.principal;
    let allowed = match principal.role {
        Role::Secretary => true,
        Role::Shareholder => holders.iter().all(|h| principal.holder.as_ref() == Some(h)),
        _ => false,
    };
    let names = match allowed {
        true => names(&web, &farm, principal, holders, "printed on a document").await?,
        false => BTreeMap::new(),
    };
    let name = format!("{}-feuille-de-presence-{meeting}.pdf", farm.id);
    match drawn(move || attendance_pdf(&at, &record, &names)).await? {
        Some(bytes) => Ok(download(bytes, PDF, &name)),
        None => missing(
            "Feuille de présence introuvable",
            "Le vote de cette assemblée n'est pas encore ouvert : la feuille de présence dit qui y a pris part.",
        ),
    }
}

/// `GET .../registre/{meeting}/proces-verbal.pdf` (and the secretary's
/// paperwork's): the minutes once recorded, with their SHA-256 in
/// `Document-Sha256`, as the API's.
pub async fn minutes(
    OnFarm(web, farm, me): OnFarm,
    Params(MeetingPath { meeting }): Params<MeetingPath>,
) -> PageResult {
    let papers = papers(&farm, &meeting).await?;
    let Some(minutes) = signable(&web, &farm, &me.session.principal, &papers).await? else {
        return missing(
            "Procès-verbal introuvable",
            "Le procès-verbal de cette assemblée n'est pas encore enregistré : il l'est après la clôture, par le secrétariat.",
        );
    };
    let name = format!("{}-{meeting}-proces-verbal.pdf", farm.id);
    let mut response = download(minutes.pdf, PDF, &name);
    if let Ok(v) = HeaderValue::from_str(&minutes.sha256) {
        response.headers_mut().insert("document-sha256", v);
    }
    Ok(response)
}

// ---------------------------------------------------------------- the page

/// The bureau's officers, each with their office.
fn officers(b: &Bureau) -> Vec<(&HolderId, &'static str)> {
    std::iter::once((&b.chair, "Président"))
        .chain(b.scrutineers.iter().map(|s| (s, "Scrutateur")))
        .chain([(&b.secretary, "Secrétaire")])
        .collect()
}

/// A resolution's text, cut if long.
fn abbreviated(text: &str) -> String {
    match text.char_indices().nth(LEGEND_CHARS) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text.to_owned(),
    }
}

/// The fields' labels, for the box of errors at the top.
fn labels(resolutions: usize) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = [
        ("votant", "Associé"),
        ("recu_le", "Reçu le"),
        ("mandant", "Mandant"),
        ("mandataire", "Mandataire"),
        ("president", "Président"),
        ("scrutateur1", "Scrutateur"),
        ("scrutateur2", "Second scrutateur"),
        ("secretaire", "Secrétaire"),
        ("debats", "Résumé des débats"),
        ("documents", "Documents présentés"),
        ("signataire", "Membre du bureau"),
        ("envoi", "Lettres remises à la poste le"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_owned(), b.to_owned()))
    .collect();
    out.extend((1..=resolutions).map(|i| (format!("r{i}"), format!("Résolution {i}"))));
    out
}

async fn paperwork_page(
    web: &Web,
    farm: &Farm,
    me: &SignedIn,
    meeting: &str,
    sent: Option<FormState>,
    status: StatusCode,
) -> PageResult {
    let session = &me.session;
    let papers = papers(farm, meeting).await?;
    let record = &papers.record;
    let c = &record.convocation;
    let now = Utc::now();
    // Convocations are recorded until the day the vote opens.
    let sending = record.closed.is_none() && paris_date(now) <= paris_date(c.opens_at);
    // Who is still to convene, counted without reading the vault (each
    // holder's channel is read, and logged, when the convocations go out).
    let remaining = sending.then(|| {
        let done: std::collections::BTreeSet<&HolderId> =
            record.convocations.iter().map(|c| &c.holder).collect();
        papers
            .convenable
            .iter()
            .filter(|h| !done.contains(h))
            .count()
    });
    let minutes = signable(web, farm, &session.principal, &papers).await?;
    let open = record.roll.is_some() && record.closed.is_none();
    let labels = labels(c.agenda.len());
    let label_refs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let top = messages_of(sent.as_ref(), &label_refs);
    let view = |form| state_of(sent.as_ref(), form);
    let by = |channel| {
        record
            .convocations
            .iter()
            .filter(|c| c.channel == channel)
            .count()
    };
    let deadline = |electronic| format::datetime(papers.deadlines.deadline(c.opens_at, electronic));
    let title = format!("Documents et formalités — {}", c.meeting);
    let body = html! {
        h1 { (title) }
        (errors_box("Le formulaire n'a pas été enregistré", &top))
        p.lead {
            (format::meeting_kind(c.kind)) ", convoquée le " (format::date(c.convened_on))
            ", vote du " (format::datetime(c.opens_at)) " au " (format::datetime(c.closes_at))
            " (heure de Paris) : " (format::meeting_status(record, now)) "."
        }
        p {
            a href=(farm.path("/secretariat")) { "Retour au secrétariat" } " · "
            a href=(farm.path(&format!("/registre/{meeting}"))) { "L'assemblée au registre" }
        }
        (contents(&[
            ("documents", "Documents"),
            ("convocations", "Convocations"),
            ("correspondance", "Formulaire de vote par correspondance reçu"),
            ("pouvoir", "Pouvoir reçu sur papier"),
            ("bureau", "Bureau de l'assemblée"),
            ("proces-verbal", "Procès-verbal"),
            ("signatures", "Signatures"),
            ("hors-delai", "Formulaires reçus hors délai"),
        ]))
        section aria-labelledby="documents" {
            h2 #documents { "Documents" }
            ul {
                @if remaining.is_some_and(|n| n > 0) {
                    li {
                        a href=(link(farm, meeting, "/convocations.pdf")) { "Lettres de convocation à poster (PDF)" }
                        " — aux associés encore à convoquer qui n'ont pas accepté la convocation électronique ; "
                        a href=(link(farm, meeting, "/convocations.csv")) { "les mêmes pour un routeur (CSV)" }
                    }
                }
                li {
                    a href=(link(farm, meeting, "/formulaires.pdf")) { "Formulaires de vote par correspondance (PDF)" }
                    " — un par associé convoqué, " (format::int(papers.convenable.len() as u64)) " en tout"
                }
                li {
                    @if record.roll.is_some() {
                        a href=(link(farm, meeting, "/feuille-de-presence.pdf")) { "Feuille de présence (PDF)" }
                    } @else { "La feuille de présence se tire une fois le vote ouvert." }
                }
                li {
                    @match &minutes {
                        Some(m) => {
                            a href=(link(farm, meeting, "/proces-verbal.pdf")) { "Procès-verbal (PDF)" }
                            br; "Son empreinte SHA-256, que signent les membres du bureau : " code.hash { (m.sha256) }
                        }
                        None => "Le procès-verbal se tire une fois enregistré, après la clôture.",
                    }
                }
            }
        }
        section aria-labelledby="convocations" {
            h2 #convocations { "Convocations" }
            (table(
                "Convocations enregistrées par voie",
                &[Col::Text("Voie"), Col::Num("Enregistrées")],
                html! {
                    @for (channel, name) in [(ConvocationChannel::Email, "Courriel"), (ConvocationChannel::Post, "Courrier")] {
                        tr {
                            th scope="row" { (name) }
                            td.num { (format::int(by(channel) as u64)) }
                        }
                    }
                },
            ))
            @match remaining {
                None => p { "Les convocations ne s'enregistrent plus : elles partent au plus tard le jour où le vote s'ouvre." },
                Some(0) => p { "Tous les associés convoqués ont reçu leur convocation." },
                Some(n) => {
                    p { (count(n, "associé reste", "associés restent")) " à convoquer : par courriel ceux qui l'ont accepté par écrit au moins 35 jours avant la convocation, par courrier les autres." }
                    @if web.app.mailer().is_ok() {
                        form.card method="post" action=(link(farm, meeting, "/convocations/courriels")) {
                            h3 { "Par courriel" }
                            (form_guard(session))
                            p.hint { "Ceux que le serveur de messagerie accepte sont enregistrés comme convoqués aujourd'hui ; les autres restent à convoquer." }
                            button type="submit" { "Envoyer les convocations par courriel" }
                        }
                    } @else {
                        p { "Ce serveur n'a pas de relais de messagerie (SMTP) : aucune convocation ne peut partir d'ici par courriel. Son administrateur le démarre avec l'option --smtp-url." }
                    }
                    @let letters = view(LETTERS_FORM);
                    form.card method="post" action=(link(farm, meeting, "/convocations/lettres")) {
                        h3 { "Par courrier" }
                        (form_guard(session))
                        (Field::new(letters, LETTERS_FORM, "envoi", "Lettres remises à la poste le").kind("date").required().default_value(letters, &windledger_app::today().to_string()).hint("Les lettres à poster (le PDF ci-dessus) sont enregistrées comme envoyées ce jour-là.").render())
                        button type="submit" { "Enregistrer l'envoi des lettres" }
                    }
                }
            }
        }
        section aria-labelledby="correspondance" {
            h2 #correspondance { "Formulaire de vote par correspondance reçu" }
            p.hint {
                "Un formulaire reçu après la date limite des statuts est conservé mais n'est pas compté : le "
                (deadline(false)) " pour un formulaire papier, le " (deadline(true)) " pour un formulaire électronique (heure de Paris)."
            }
            @if open {
                @let postal = view(POSTAL_FORM);
                form.card method="post" action=(link(farm, meeting, "/correspondance")) {
                    (form_guard(session))
                    (Field::new(postal, POSTAL_FORM, "votant", "Associé").required().hint("Son identifiant sur la liste d'émargement (par exemple cit-042).").render())
                    (received(postal, POSTAL_FORM))
                    label.check {
                        input type="checkbox" name="electronique" value="oui" checked[postal.value("electronique", "") == "oui"];
                        "Reçu par voie électronique"
                    }
                    @for (i, item) in c.agenda.iter().enumerate() {
                        (choices(postal, i + 1, &item.text))
                    }
                    button type="submit" { "Enregistrer le formulaire" }
                }
            } @else {
                p { (not_open(record.closed.is_some(), "les formulaires reçus")) }
            }
        }
        section aria-labelledby="pouvoir" {
            h2 #pouvoir { "Pouvoir reçu sur papier" }
            @if open {
                @let proxy = view(PROXY_FORM);
                form.card method="post" action=(link(farm, meeting, "/pouvoir-papier")) {
                    (form_guard(session))
                    (Field::new(proxy, PROXY_FORM, "mandant", "Mandant").required().hint("L'associé qui donne pouvoir.").render())
                    (Field::new(proxy, PROXY_FORM, "mandataire", "Mandataire").required().hint("L'associé qui votera pour lui, sur la liste d'émargement.").render())
                    (received(proxy, PROXY_FORM))
                    button type="submit" { "Enregistrer le pouvoir" }
                }
            } @else {
                p { (not_open(record.closed.is_some(), "les pouvoirs reçus")) }
            }
        }
        section aria-labelledby="bureau" {
            h2 #bureau { "Bureau de l'assemblée" }
            @match (&record.bureau, &record.roll) {
                (Some(b), _) => {
                    p { "Constitué le " (format::datetime(b.bureau.at)) " :" }
                    ul { @for (officer, office) in officers(&b.bureau) { li { (office) " : " (officer) } } }
                }
                (None, Some(_)) => {
                    @let bureau = view(BUREAU_FORM);
                    form.card method="post" action=(link(farm, meeting, "/bureau")) {
                        (form_guard(session))
                        p.hint { "Le président et les scrutateurs figurent sur la liste d'émargement ; le secrétaire peut ne pas être associé. Des identifiants seulement : leurs noms sont ceux du coffre des identités." }
                        (Field::new(bureau, BUREAU_FORM, "president", "Président").required().render())
                        (Field::new(bureau, BUREAU_FORM, "scrutateur1", "Scrutateur").required().render())
                        (Field::new(bureau, BUREAU_FORM, "scrutateur2", "Second scrutateur").render())
                        (Field::new(bureau, BUREAU_FORM, "secretaire", "Secrétaire").required().render())
                        button type="submit" { "Constituer le bureau" }
                    }
                }
                (None, None) => p { "Le bureau se constitue une fois le vote ouvert : ses membres sont pris sur la liste d'émargement." },
            }
        }
        section aria-labelledby="proces-verbal" {
            h2 #proces-verbal { "Procès-verbal" }
            @if let Some(m) = &record.minutes {
                p { "Enregistré le " (format::datetime(m.minutes.at)) " ; le télécharger dans la partie « Documents »." }
            } @else if record.closed.is_none() {
                p { "Le procès-verbal s'enregistre après la clôture de l'assemblée." }
            } @else if record.bureau.is_none() {
                p { "Constituez d'abord le bureau : le procès-verbal le nomme." }
            } @else {
                @let words = view(MINUTES_FORM);
                form.card method="post" action=(link(farm, meeting, "/proces-verbal")) {
                    (form_guard(session))
                    p.hint { "Le reste du procès-verbal (convocation, ordre du jour, bureau, quorum, résultats) est tiré du registre. Une fois enregistré, il ne change plus." }
                    (debates(words))
                    (textarea(words, MINUTES_FORM, "documents", "Documents présentés (un par ligne)", Some("Par exemple : rapport de gestion, comptes annuels.")))
                    button type="submit" { "Enregistrer le procès-verbal" }
                }
            }
        }
        section aria-labelledby="signatures" {
            h2 #signatures { "Signatures" }
            @match (&minutes, &record.bureau) {
                (Some(m), Some(b)) => {
                    @let officers = officers(&b.bureau);
                    @let signed = |h: &HolderId| record.signatures.iter().find(|s| &s.officer == h);
                    (table(
                        "Signatures du procès-verbal par les membres du bureau",
                        &[Col::Text("Membre du bureau"), Col::Text("Fonction"), Col::Text("Signature")],
                        html! {
                            @for (officer, office) in &officers {
                                tr {
                                    th scope="row" { (officer) }
                                    td { (office) }
                                    td {
                                        @match signed(officer) {
                                            Some(s) => {
                                                span.badge.ok { "signé" } " le " (format::datetime(s.signed_at))
                                                @match s.signature { OfficerSignature::Handwritten => " (à la main, attesté par le secrétariat)", OfficerSignature::Ed25519 { .. } => " (signature électronique Ed25519)" }
                                            }
                                            None => span.badge.neutral { "pas encore signé" },
                                        }
                                    }
                                }
                            }
                        },
                    ))
                    @let unsigned: Vec<(String, String)> = officers.iter().filter(|(h, _)| signed(h).is_none()).map(|(h, office)| (h.to_string(), format!("{h} ({})", office.to_lowercase()))).collect();
                    @if unsigned.is_empty() {
                        p { "Tous les membres du bureau ont signé." }
                    } @else {
                        form.card method="post" action=(link(farm, meeting, "/signature")) {
                            (form_guard(session))
                            (select(view(SIGNATURE_FORM), SIGNATURE_FORM, "signataire", "Membre du bureau", &unsigned, "", true))
                            p.hint { "Le secrétariat atteste que ce membre a signé à la main le procès-verbal imprimé, celui dont l'empreinte est " code.hash { (m.sha256) } "." }
                            button type="submit" { "Attester la signature manuscrite" }
                        }
                    }
                }
                _ => p { "Les membres du bureau signent le procès-verbal une fois enregistré." },
            }
        }
        (section("hors-delai", "Formulaires reçus hors délai", record.late_forms.is_empty(), "Aucun formulaire n'a été reçu après la date limite.", || html! {
                (table(
                    "Formulaires conservés mais non comptés",
                    &[Col::Text("Associé"), Col::Text("Reçu le"), Col::Text("Date limite"), Col::Text("Voie")],
                    html! {
                        @for f in &record.late_forms {
                            tr {
                                th scope="row" { (f.voter) }
                                td { (format::datetime(f.received_at)) }
                                td { (format::datetime(f.deadline)) }
                                td { @if f.electronic { "électronique" } @else { "papier" } }
                            }
                        }
                    },
                ))
        }))
    };
    farm.page(status, &title, me.shown(), body)
}

/// `1 lettre`, `3 lettres`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!(
        "{} {}",
        format::int(n as u64),
        if n > 1 { many } else { one }
    )
}

/// Why a form of the vote is not shown.
fn not_open(closed: bool, what: &str) -> String {
    match closed {
        true => format!("L'assemblée est close : {what} ne s'enregistrent plus."),
        false => format!(
            "Le vote n'est pas encore ouvert : {what} s'enregistrent une fois la liste d'émargement arrêtée."
        ),
    }
}

/// The instant a paper was received.
fn received<'a>(view: FormView<'a>, form: &'a str) -> Markup {
    Field::new(view, form, "recu_le", "Reçu le")
        .kind("datetime-local")
        .required()
        .hint("Date et heure de réception, heure de Paris.")
        .render()
}

/// A resolution's boxes on the postal form.
fn choices(view: FormView<'_>, number: usize, text: &str) -> Markup {
    let name = format!("r{number}");
    let error = view.error(&name);
    let error_id = format!("{POSTAL_FORM}-{name}-erreur");
    let current = view.value(&name, "");
    html! {
        fieldset.choices aria-describedby=[error.map(|_| error_id.clone())] {
            legend { "Résolution " (number) " : " (abbreviated(text)) }
            @if let Some(e) = error { span.field-error id=(error_id) { (e) } }
            @for (value, choice) in CHOICES {
                label {
                    input type="radio" name=(name) value=(value) required checked[current == value]
                        aria-invalid=[error.map(|_| "true")];
                    " " (format::choice(choice))
                }
            }
        }
    }
}

/// The summary of the debates: a required text area.
fn debates(view: FormView<'_>) -> Markup {
    let id = format!("{MINUTES_FORM}-debats");
    let error = view.error("debats");
    html! {
        label for=(id) { "Résumé des débats" }
        @if let Some(e) = error { span.field-error id={ (id) "-erreur" } { (e) } }
        textarea id=(id) name="debats" required aria-describedby=[error.map(|_| format!("{id}-erreur"))]
            aria-invalid=[error.map(|_| "true")] { (view.value("debats", "")) }
    }
}

// ---------------------------------------------------------------- the forms

/// `GET /parcs/{ledger}/secretariat/assemblees/{meeting}`.
pub async fn show(
    OnFarm(web, farm, me): OnFarm,
    Params(MeetingPath { meeting }): Params<MeetingPath>,
) -> PageResult {
    paperwork_page(&web, &farm, &me, &meeting, None, StatusCode::OK).await
}

/// Runs what a form of the page records through the pages' pipeline
/// ([`Post::settle`]), then back to the page with the message `said`
/// makes of what it did; refused, the page again with the refusal in
/// French at its top.
async fn settle<T>(
    post: &Post,
    meeting: &str,
    state: FormState,
    action: Option<impl Future<Output = Result<T, Problem>>>,
    said: impl FnOnce(T) -> String,
) -> PageResult {
    // What the action did (shared with the pipeline's callback, across
    // awaits: a lock).
    let done = Mutex::new(None);
    let action = action.map(|action| async {
        let what = action.await?;
        put(&done, Some(what));
        Ok::<Vec<Receipt>, Problem>(Vec::new())
    });
    let to = link(&post.farm, meeting, "");
    let success = |_| (to, taken(&done).map(said).unwrap_or_default());
    post.settle(state, action, success, async |sent| {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        paperwork_page(
            post.web(),
            &post.farm,
            &post.me,
            meeting,
            Some(sent),
            status,
        )
        .await
    })
    .await
}

fn put<T>(slot: &Mutex<Option<T>>, value: Option<T>) {
    *slot.lock().unwrap_or_else(PoisonError::into_inner) = value;
}

fn taken<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(PoisonError::into_inner).take()
}

/// Runs a command of the meeting, then back to the page with `success`
/// and the event's position.
async fn run(
    post: &Post,
    meeting: &str,
    state: FormState,
    command: Option<MeetingCommand>,
    success: &str,
) -> PageResult {
    let action = command.map(|c| post.execute("", meeting, Command::Meeting(c)));
    settle(post, meeting, state, action, |receipts: Vec<Receipt>| {
        let position = receipts.first().map_or(0, |r| r.position);
        format!("{success} (position {}).", format::int(position))
    })
    .await
}

/// The instant a paper was received: Paris time, not after now.
fn received_at(state: &mut FormState) -> Option<chrono::DateTime<Utc>> {
    let at = state.read(
        "recu_le",
        "Indiquez une date et une heure.",
        format::parse_datetime_input,
    )?;
    if at > Utc::now() {
        state.field_error(
            "recu_le",
            "Cette date est dans le futur : indiquez quand le document a été reçu.",
        );
        return None;
    }
    Some(at)
}

/// A form of the page that runs one command: the path's meeting (404 if
/// none), the command `read` from the form's fields (each problem said
/// beside its field), run, and back to the page with `success`.
async fn record(
    meeting: &str,
    post: &Post,
    form: &'static str,
    success: &str,
    read: impl FnOnce(&mut FormState, &MeetingPapers) -> Option<MeetingCommand>,
) -> PageResult {
    let papers = papers(&post.farm, meeting).await?;
    let mut state = FormState::new(form, post.fields.clone());
    let command = read(&mut state, &papers);
    run(post, meeting, state, command, success).await
}

/// `POST .../secretariat/assemblees/{meeting}/correspondance`.
pub async fn postal_ballot(Params(m): Params<MeetingPath>, post: Post) -> PageResult {
    let success = "Le formulaire de vote par correspondance est enregistré";
    record(&m.meeting, &post, POSTAL_FORM, success, |state, papers| {
        let (voter, received_at) = (holder(state, "votant"), received_at(state));
        let mut choices = BTreeMap::new();
        for (i, item) in papers.record.convocation.agenda.iter().enumerate() {
            let name = format!("r{}", i + 1);
            match CHOICES
                .iter()
                .find(|(value, _)| *value == state.text(&name))
            {
                Some((_, choice)) => {
                    choices.insert(item.resolution.clone(), *choice);
                }
                None => state.field_error(
                    &name,
                    "Cochez pour, contre ou abstention, comme sur le formulaire.",
                ),
            }
        }
        Some(MeetingCommand::RecordPostalBallot {
            voter: voter?,
            choices,
            received_at: received_at?,
            electronic: state.text("electronique") == "oui",
        })
    })
    .await
}

/// `POST .../secretariat/assemblees/{meeting}/pouvoir-papier`.
pub async fn paper_proxy(Params(m): Params<MeetingPath>, post: Post) -> PageResult {
    let success = "Le pouvoir reçu sur papier est enregistré";
    record(&m.meeting, &post, PROXY_FORM, success, |state, _| {
        let (grantor, proxy) = (holder(state, "mandant"), holder(state, "mandataire"));
        Some(MeetingCommand::RecordPaperProxy {
            received_at: received_at(state)?,
            grantor: grantor?,
            proxy: proxy?,
        })
    })
    .await
}

/// `POST .../secretariat/assemblees/{meeting}/bureau`.
pub async fn bureau(Params(m): Params<MeetingPath>, post: Post) -> PageResult {
    let success = "Le bureau de l'assemblée est constitué";
    record(&m.meeting, &post, BUREAU_FORM, success, |state, _| {
        let (chair, first) = (holder(state, "president"), holder(state, "scrutateur1"));
        let second = match state.text("scrutateur2") {
            "" => Some(None),
            _ => holder(state, "scrutateur2").map(Some),
        };
        let secretary = holder(state, "secretaire");
        Some(MeetingCommand::ConstituteBureau {
            chair: chair?,
            scrutineers: [first?].into_iter().chain(second?).collect(),
            secretary: secretary?,
            at: Utc::now(),
        })
    })
    .await
}

/// `POST .../secretariat/assemblees/{meeting}/proces-verbal`.
pub async fn record_minutes(Params(m): Params<MeetingPath>, post: Post) -> PageResult {
    record(
        &m.meeting,
        &post,
        MINUTES_FORM,
        "Le procès-verbal est enregistré",
        |state, _| {
            // A browser sends its lines ended by CR LF: the ledger keeps LF.
            let debates = state.text("debats").replace("\r\n", "\n");
            let documents: Vec<String> = state
                .text("documents")
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect();
            if debates.is_empty() {
                state.field_error("debats", "Résumez les débats : ce champ est obligatoire.");
            }
            let texts = [("debats", &debates)]
                .into_iter()
                .chain(documents.iter().map(|d| ("documents", d)));
            for (name, text) in texts {
                if let Err(e) = windledger_domain::input::text(name, text) {
                    state.field_error(name, crate::errors::input_error(&e).text);
                }
            }
            Some(MeetingCommand::RecordMinutes {
                debates,
                documents_presented: documents,
                at: Utc::now(),
            })
        },
    )
    .await
}

/// `POST .../secretariat/assemblees/{meeting}/signature`: an officer's
/// handwritten signature, attested by the secretary, of the minutes as
/// the server draws them (their SHA-256 is never the form's).
pub async fn sign(Params(MeetingPath { meeting }): Params<MeetingPath>, post: Post) -> PageResult {
    let papers = papers(&post.farm, &meeting).await?;
    let mut state = FormState::new(SIGNATURE_FORM, post.fields.clone());
    let officer = holder(&mut state, "signataire");
    let minutes = match officer {
        Some(_) => signable(post.web(), &post.farm, &post.me.session.principal, &papers).await?,
        None => None,
    };
    if officer.is_some() && minutes.is_none() {
        state.top.push(Message::new(
            "Le procès-verbal n'est pas encore enregistré : il n'y a rien à signer.",
        ));
    }
    let command = officer
        .zip(minutes)
        .map(|(officer, minutes)| MeetingCommand::SignMinutes {
            officer,
            document_sha256: minutes.sha256,
            signature: OfficerSignature::Handwritten,
            at: Utc::now(),
        });
    run(
        &post,
        &meeting,
        state,
        command,
        "La signature manuscrite est enregistrée",
    )
    .await
}

/// One sending (or posting) of convocations at a time: a form sent twice
/// waits for the first, then finds the holders it recorded.
static CONVENING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The convocations still to send, planned once the sending before has
/// recorded its own; the lock held until this one has recorded.
async fn still_to_convene(
    post: &Post,
    meeting: &str,
) -> Result<(tokio::sync::MutexGuard<'static, ()>, Plan), WebError> {
    let convening = CONVENING.lock().await;
    let papers = papers(&post.farm, meeting).await?;
    let plan = plan(post.web(), &post.farm, &post.me.session.principal, &papers).await?;
    Ok((convening, plan))
}

/// `POST .../secretariat/assemblees/{meeting}/convocations/courriels`:
/// sends the e-mails through the server's relay and records those sent.
pub async fn send_emails(
    Params(MeetingPath { meeting }): Params<MeetingPath>,
    post: Post,
) -> PageResult {
    let mut state = FormState::new(EMAILS_FORM, post.fields.clone());
    let action = match post.web().app.mailer() {
        Ok(mailer) => {
            let (convening, plan) = still_to_convene(&post, &meeting).await?;
            let metadata = post.metadata("");
            let runtime = &post.farm.runtime;
            Some(async move {
                let _convening = convening;
                let today = windledger_app::today();
                let sent = meeting_papers::send_emails(
                    runtime,
                    &plan,
                    mailer,
                    today,
                    &metadata,
                    |_, _| {},
                );
                sent.await.map_err(Problem::from)
            })
        }
        Err(_) => {
            state.top.push(Message::new(
                "Ce serveur n'a pas de relais de messagerie (SMTP) : aucune convocation ne peut partir par courriel d'ici.",
            ));
            None
        }
    };
    settle(&post, &meeting, state, action, emailed).await
}

/// What sending the e-mails did, in words.
fn emailed(e: Emailed) -> String {
    let mut said = match e.sent {
        0 => "Aucune convocation n'est partie par courriel.".to_owned(),
        1 => "1 convocation est partie par courriel ; elle est enregistrée.".to_owned(),
        n => format!(
            "{} convocations sont parties par courriel ; elles sont enregistrées.",
            format::int(n as u64)
        ),
    };
    if !e.failed.is_empty() {
        let named: Vec<String> = e
            .failed
            .iter()
            .take(FAILURES_NAMED)
            .map(|(holder, reason)| {
                format!("{holder} (le serveur de messagerie a répondu : « {reason} »)")
            })
            .collect();
        let more = e.failed.len().saturating_sub(FAILURES_NAMED);
        said.push_str(&format!(
            " {} (ni enregistrée{}, à renvoyer plus tard) : {}{}.",
            match e.failed.len() {
                1 => "1 convocation n'a pas pu partir".to_owned(),
                n => format!("{} convocations n'ont pas pu partir", format::int(n as u64)),
            },
            format::plural(e.failed.len()),
            named.join(" ; "),
            if more > 0 {
                format!(" ; et {} autres", format::int(more as u64))
            } else {
                String::new()
            },
        ));
    }
    said
}

/// `POST .../secretariat/assemblees/{meeting}/convocations/lettres`: the
/// letters still to send were handed to the post on the day given.
pub async fn letters_posted(
    Params(MeetingPath { meeting }): Params<MeetingPath>,
    post: Post,
) -> PageResult {
    let mut state = FormState::new(LETTERS_FORM, post.fields.clone());
    let action = match date(&mut state, "envoi") {
        Some(sent_on) => {
            let (convening, plan) = still_to_convene(&post, &meeting).await?;
            let metadata = post.metadata("");
            let runtime = &post.farm.runtime;
            Some(async move {
                let _convening = convening;
                let recorded =
                    meeting_papers::record_posted(runtime, &plan, sent_on, &metadata).await;
                recorded.map(|n| (n, sent_on)).map_err(Problem::from)
            })
        }
        None => None,
    };
    settle(&post, &meeting, state, action, posted).await
}

/// What recording the letters did, in words.
fn posted((n, sent_on): (usize, NaiveDate)) -> String {
    let on = format::date(sent_on);
    match n {
        0 => "Aucune lettre n'était à poster : rien n'est enregistré.".to_owned(),
        1 => format!("1 lettre de convocation est enregistrée comme remise à la poste le {on}."),
        n => format!(
            "{} lettres de convocation sont enregistrées comme remises à la poste le {on}.",
            format::int(n as u64)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_sending_did_is_said_in_french_with_each_failure() {
        let failed = |n: usize| -> Vec<(HolderId, String)> {
            (1..=n)
                .map(|i| {
                    (
                        HolderId::new(format!("cit-{i:03}")).expect("an id"),
                        "550 unknown mailbox".to_owned(),
                    )
                })
                .collect()
        };
        assert_eq!(
            emailed(Emailed {
                sent: 1,
                failed: failed(1)
            }),
            "1 convocation est partie par courriel ; elle est enregistrée. 1 convocation n'a pas pu partir \
             (ni enregistrée, à renvoyer plus tard) : cit-001 (le serveur de messagerie a répondu : « 550 unknown mailbox »)."
        );
        let many = emailed(Emailed {
            sent: 1_200,
            failed: failed(12),
        });
        assert!(many.starts_with("1\u{202f}200 convocations sont parties par courriel ; elles sont enregistrées. 12 convocations n'ont pas pu partir (ni enregistrées,"), "{many}");
        assert!(
            many.contains("cit-010 (")
                && !many.contains("cit-011")
                && many.ends_with(" ; et 2 autres."),
            "{many}"
        );
        assert_eq!(
            emailed(Emailed::default()),
            "Aucune convocation n'est partie par courriel."
        );
        let day = NaiveDate::from_ymd_opt(2026, 10, 1).expect("a day");
        assert_eq!(
            posted((1, day)),
            "1 lettre de convocation est enregistrée comme remise à la poste le 1er octobre 2026."
        );
        assert_eq!(
            posted((0, day)),
            "Aucune lettre n'était à poster : rien n'est enregistré."
        );
    }

    #[test]
    fn a_long_resolution_is_cut_in_its_legend() {
        assert_eq!(
            abbreviated("Approbation des comptes"),
            "Approbation des comptes"
        );
        let long = "é".repeat(LEGEND_CHARS + 10);
        assert_eq!(abbreviated(&long), format!("{}…", "é".repeat(LEGEND_CHARS)));
    }
}
