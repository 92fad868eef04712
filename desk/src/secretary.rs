//! The secretary's page: register a holder, record a transfer, convene a
//! meeting, open its voting and close it. Each form's fields are checked
//! here (with French messages next to them), then the command goes to the
//! domain, whose refusals come back at the top of the form.

use axum::http::StatusCode;
use chrono::{NaiveDate, Utc};
use maud::{Markup, html};
use windledger_html::tables::section;

use crate::layout::{Col, contents, table};
use serde_json::{Value, json};
use windledger_domain::charter::{LockUpExemption, NoticePeriods};
use windledger_domain::company::CompanyCommand;
use windledger_domain::meeting::MeetingCommand;
use windledger_domain::money::Euros;
use windledger_domain::resolution::Terms;
use windledger_domain::types::{
    CollegeId, CommuneCode, HolderId, MeetingId, ResolutionId, ShareClassId, ShareCount, TurbineId,
};
use windledger_projections::cap_table::AsOf;

use crate::extract::{Farm, MeetingPath, Params, Post, SignedIn};
use crate::layout::{
    Field, FormState, FormView, Message, errors_box, form_guard, messages_of, select, state_of,
    textarea,
};
use crate::session::SessionView;
use crate::{PageResult, WebError, format, identity, paperwork, projected};
use windledger_api::problem::Problem;
use windledger_app::command::{Command, Receipt};
use windledger_app::import::csv::parse_decimal;

const ADMIT_FORM: &str = "associe";
const TRANSFER_FORM: &str = "cession";
const CONVENE_FORM: &str = "convocation";
const MEETING_FORM: &str = "assemblee";
/// Resolutions on the convening form.
const AGENDA_ROWS: usize = 5;

const PURPOSES: [(&str, &str); 10] = [
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
    (
        "turbine_addition",
        "Ajout d'une éolienne (précisez l'éolienne)",
    ),
    (
        "turbine_repowering",
        "Renouvellement d'une éolienne (précisez l'éolienne)",
    ),
    (
        "turbine_decommissioning",
        "Démantèlement d'une éolienne (précisez l'éolienne)",
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
    /// The charter's notice periods of a general meeting.
    notice: NoticePeriods,
    meetings: Vec<MeetingLine>,
    /// Declared dividends: the year, the holders allocated, those paid.
    dividends: Vec<(i32, usize, usize)>,
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
        let notice = charter.map(|c| c.notice).unwrap_or_default();
        let (colleges, classes, decision_kinds) = match charter {
            Some(c) => (
                c.colleges
                    .iter()
                    .map(|c| (c.id.to_string(), c.name.clone()))
                    .collect(),
                c.share_classes
                    .iter()
                    .map(|c| (c.id.to_string(), c.name.clone()))
                    .collect(),
                c.decision_kinds
                    .iter()
                    .map(|k| (k.id.to_string(), format::decision_kind(k.id.as_str())))
                    .collect(),
            ),
            None => Default::default(),
        };
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
        let dividends = p
            .finance
            .fold()
            .years()
            .filter_map(|y| {
                let d = y.dividend.as_ref()?;
                Some((y.year, d.allocations.len(), d.paid()))
            })
            .collect();
        Register {
            dividends,
            colleges,
            classes,
            decision_kinds,
            holders,
            notice,
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
        ("membres", "Nombre de membres"),
        ("date_effet", "Date d'effet"),
        ("cedant", "Cédant"),
        ("cessionnaire", "Cessionnaire"),
        ("categorie", "Catégorie d'actions"),
        ("nombre", "Nombre d'actions"),
        ("prix", "Prix par action"),
        ("agrement", "Résolution d'agrément"),
        ("exception", "Exception à l'inaliénabilité"),
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
    out.extend(
        identity::LABELS
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned())),
    );
    for i in 1..=AGENDA_ROWS {
        out.push((format!("r{i}_texte"), format!("Résolution {i}")));
        out.push((
            format!("r{i}_precision"),
            format!("Résolution {i}, précision"),
        ));
        for (field, label) in [
            ("associe", "associé"),
            ("categorie", "catégorie d'actions"),
            ("nombre", "nombre d'actions"),
            ("prix", "prix par action"),
            ("echeance", "date limite"),
        ] {
            out.push((format!("r{i}_{field}"), format!("Résolution {i}, {label}")));
        }
    }
    out
}

async fn secretary_page(
    farm: &Farm,
    me: &SignedIn,
    sent: Option<FormState>,
    status: StatusCode,
) -> PageResult {
    let session = &me.session;
    let r = read_register(farm).await?;
    let labels = labels();
    let label_refs: Vec<(&str, &str)> = labels
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let top: Vec<Message> = messages_of(sent.as_ref(), &label_refs);
    let admit = state_of(sent.as_ref(), ADMIT_FORM);
    let transfer = state_of(sent.as_ref(), TRANSFER_FORM);
    let convene = state_of(sent.as_ref(), CONVENE_FORM);
    let today = windledger_app::today();
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
    let notice_hint = format!(
        "Selon les statuts, une assemblée générale ouvre son vote au moins {} jours après (une seconde convocation, {} jours).",
        r.notice.first_call_days, r.notice.second_call_days
    );
    let body = html! {
        h1 { "Secrétariat" }
        (errors_box("Le formulaire n'a pas été enregistré", &top))
        p.lead { "Tenue du registre des associés et des assemblées. Les dates et heures sont celles de Paris." }
        (contents(&[
            ("assemblees", "Assemblées : ouvrir le vote, clore"),
            ("dividendes", "Dividendes : virements et relevés"),
            ("eoliennes", "Éoliennes du parc"),
            ("avances", "Avances en compte courant : intérêts et remboursements"),
            ("convoquer", "Convoquer une assemblée"),
            ("inscrire", "Inscrire un associé"),
            ("ceder", "Enregistrer une cession d'actions"),
            ("associes-identites", "Associés et leur identité"),
        ]))
        datalist #associes {
            @for (id, _, exited) in &r.holders { @if !exited { option value=(id) {} } }
        }
        (section("assemblees", "Assemblées", r.meetings.is_empty(), "Aucune assemblée n'est convoquée.", || html! {
                (table(
                    "Assemblées et actions possibles",
                    &[Col::Text("Assemblée"), Col::Text("Vote"), Col::Num("Bulletins comptés"), Col::Text("Action")],
                    html! {
                        @for m in r.meetings.iter().rev() {
                            tr {
                                th scope="row" {
                                    a href=(farm.path(&format!("/registre/{}", m.id))) { (m.id) }
                                    br; small { (m.kind) }
                                }
                                td { "du " (format::datetime(m.opens_at)) " au " (format::datetime(m.closes_at)) }
                                td.num { (m.ballots) }
                                td {
                                    a href=(paperwork::link(farm, &m.id, "")) aria-label={ "Documents et formalités de " (m.id) } { "Documents et formalités" }
                                    br;
                                    @if m.closed { span.badge.ok { "clôturée" } }
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
                    },
                ))
        }))
        (section("dividendes", "Dividendes", r.dividends.is_empty(), "Aucun dividende n'est mis en distribution.", || html! {
                ul {
                    @for (year, allocated, paid) in r.dividends.iter().rev() {
                        li {
                            a href=(crate::payments::link(farm, *year, "")) { "Dividende de l'exercice " (year) }
                            " : versé à " (paid) " associé" (format::plural(*paid)) " sur " (allocated) "."
                        }
                    }
                }
        }))
        section aria-labelledby="eoliennes" {
            h2 #eoliennes { "Éoliennes" }
            p {
                a href=(crate::turbines::link(farm, "")) { "Les éoliennes du parc" }
                " : ajout, mise en service, renouvellement et démantèlement."
            }
        }
        section aria-labelledby="avances" {
            h2 #avances { "Avances en compte courant" }
            p {
                a href=(crate::advances::link(farm, "")) { "Intérêts et remboursements des avances" }
                " : fichiers de virements, relevé de la banque."
            }
        }
        form.card method="post" action=(farm.path("/secretariat/assemblees")) {
            h2 #convoquer { "Convoquer une assemblée" }
            (form_guard(session))
            (Field::new(convene, CONVENE_FORM, "assemblee", "Identifiant de l'assemblée").required().hint("Par exemple ago-2026 : lettres, chiffres, - _ .").render())
            (select(convene, CONVENE_FORM, "nature", "Nature", &meeting_kinds, "ordinary_general_meeting", true))
            (Field::new(convene, CONVENE_FORM, "premiere", "Première convocation").hint("Pour une seconde convocation seulement : l'identifiant de l'assemblée tenue qui n'a pas atteint son quorum ; l'ordre du jour reprend ses résolutions restées sans quorum, au mot près.").render())
            (Field::new(convene, CONVENE_FORM, "date_convocation", "Date de convocation").kind("date").required().default_value(convene, &today.to_string()).hint(&notice_hint).render())
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
            (Field::new(admit, ADMIT_FORM, "membres", "Nombre de membres (club d'investisseurs)").hint("Pour un club d'investisseurs seulement.").render())
            (Field::new(admit, ADMIT_FORM, "date_effet", "Date d'effet").kind("date").required().default_value(admit, &today.to_string()).render())
            p.hint { "Son identité est gardée chiffrée dans le coffre, à côté du registre : remplissez la personne physique pour un particulier, la personne morale pour les autres natures." }
            (identity::fields(admit, ADMIT_FORM, None, None))
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
            (select(transfer, TRANSFER_FORM, "exception", "Exception à l'inaliénabilité", &LOCK_UP_EXEMPTIONS.map(|(_, v, t)| (v.to_owned(), t.to_owned())), "", false))
            (Field::new(transfer, TRANSFER_FORM, "date_effet", "Date d'effet").kind("date").required().default_value(transfer, &today.to_string()).render())
            button type="submit" { "Enregistrer la cession" }
        }
        section aria-labelledby="associes-identites" {
            h2 #associes-identites { "Associés et leur identité" }
            p { "L'identité de chaque associé se consulte et se corrige sur sa page ; chaque consultation est consignée." }
            details {
                summary { (format::int(r.holders.len() as u64)) " associés" }
                ul.columns {
                    @for (id, shares, exited) in &r.holders {
                        li {
                            a href=(identity::link(farm, id)) { (id) }
                            " — " (format::int(*shares)) " actions"
                            @if *exited { " (sorti)" }
                        }
                    }
                }
            }
        }
    };
    farm.page(status, "Secrétariat", me.shown(), body)
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
            (Field::new(view, CONVENE_FORM, &precision, "Précision").hint("L'exercice (2025), l'associé agréé ou l'éolienne, selon l'objet.").render())
            fieldset {
                legend { "Conditions de l'autorisation (facultatives ; augmentation ou réduction de capital, agrément)" }
                (Field::new(view, CONVENE_FORM, &format!("r{i}_associe"), "Associé").hint("Le souscripteur, l'associé dont les actions sont rachetées ou annulées, ou le cédant agréé.").render())
                (Field::new(view, CONVENE_FORM, &format!("r{i}_categorie"), "Catégorie d'actions").render())
                (Field::new(view, CONVENE_FORM, &format!("r{i}_nombre"), "Nombre d'actions au plus").hint("Pour toutes les opérations faites en vertu de la résolution.").render())
                (Field::new(view, CONVENE_FORM, &format!("r{i}_prix"), "Prix par action (€)").decimal().render())
                (Field::new(view, CONVENE_FORM, &format!("r{i}_echeance"), "Date limite").kind("date").render())
            }
        }
    }
}

/// `GET /parcs/{ledger}/secretariat`.
pub async fn show(farm: Farm, me: SignedIn) -> PageResult {
    secretary_page(&farm, &me, None, StatusCode::OK).await
}

pub(crate) fn date(state: &mut FormState, name: &str) -> Option<NaiveDate> {
    state.read(name, "Indiquez une date (AAAA-MM-JJ).", |v| {
        NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()
    })
}

pub(crate) fn holder(state: &mut FormState, name: &str) -> Option<HolderId> {
    let invalid = "Identifiant invalide : 1 à 64 lettres, chiffres, - _ .";
    state.read_required(name, "Ce champ est obligatoire.", invalid, |v| {
        HolderId::new(v).ok()
    })
}

/// Records what `action` records, then back to the page with `success`
/// and the first event's position (or the page with the refusal).
async fn settle(
    post: &Post,
    state: FormState,
    action: Option<impl Future<Output = Result<Vec<Receipt>, Problem>>>,
    success: String,
) -> PageResult {
    let to = post.farm.path("/secretariat");
    crate::settle_on(post, state, action, to, &success, secretary_page).await
}

/// `POST /parcs/{ledger}/secretariat/associes`: a holder and their
/// identity, in one step (the identity sealed in the vault, its commitment
/// in the admission's events).
pub async fn admit(post: Post) -> PageResult {
    let mut state = FormState::new(ADMIT_FORM, post.fields.clone());
    let id = holder(&mut state, "associe");
    let kind = state.read("nature", "Choisissez la nature de l'associé.", |n| {
        let mut kinds = format::HOLDER_KINDS.iter();
        kinds.find(|(_, name)| *name == n).map(|(k, _)| *k)
    });
    let college = state.read("college", "Choisissez un collège.", |c| {
        CollegeId::new(c).ok()
    });
    let commune = state.read(
        "commune",
        "Un code INSEE compte 5 caractères : 5 chiffres, ou 2A/2B puis 3 chiffres.",
        |c| CommuneCode::new(c).ok(),
    );
    let members = state.read_optional(
        "membres",
        "Indiquez le nombre de membres du club, un entier d'au moins 1 (vide pour un autre associé).",
        |m| m.parse::<u32>().ok().filter(|m| *m > 0),
    );
    let effective_date = date(&mut state, "date_effet");
    let today = windledger_app::today();
    let person = kind.and_then(|k| identity::read(&mut state, identity::natural(k), None, today));
    let vault = identity::vault_for_form(post.web(), &mut state);
    let action = match (
        id.clone(),
        kind,
        college,
        commune,
        members,
        effective_date,
        person,
        vault,
    ) {
        (
            Some(holder),
            Some(kind),
            Some(college),
            Some(commune),
            Some(members),
            Some(effective_date),
            Some(person),
            Some(vault),
        ) => {
            let admission = Command::Company(Box::new(CompanyCommand::AdmitShareholder {
                holder,
                kind,
                college,
                commune,
                effective_date,
                identity: None,
                members,
            }));
            let metadata = post.metadata("");
            let runtime = post.farm.runtime.clone();
            Some(async move {
                vault
                    .admit(&runtime, admission, person, metadata)
                    .await
                    .map_err(Problem::from)
            })
        }
        _ => None,
    };
    let success = format!(
        "L'associé {} est inscrit au registre, avec son identité",
        id.map(|h| h.to_string()).unwrap_or_default()
    );
    settle(&post, state, action, success).await
}

/// The exemptions from a lock-up a charter may list, as the transfer
/// form offers them (value, label).
const LOCK_UP_EXEMPTIONS: [(LockUpExemption, &str, &str); 3] = [
    (LockUpExemption::Succession, "succession", "Succession"),
    (LockUpExemption::Spouse, "spouse", "Cession entre époux"),
    (
        LockUpExemption::Affiliate,
        "affiliate",
        "Cession à une société affiliée",
    ),
];

/// `POST /parcs/{ledger}/secretariat/cessions`.
pub async fn transfer(post: Post) -> PageResult {
    let mut state = FormState::new(TRANSFER_FORM, post.fields.clone());
    let from = holder(&mut state, "cedant");
    let to = holder(&mut state, "cessionnaire");
    let class = state.read("categorie", "Choisissez une catégorie d'actions.", |c| {
        ShareClassId::new(c).ok()
    });
    let count = state.read(
        "nombre",
        "Indiquez un nombre entier d'actions, au moins 1.",
        |n| {
            n.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .and_then(|n| ShareCount::new(n).ok())
        },
    );
    // Empty: a donation or an inheritance.
    let price = state.read_optional(
        "prix",
        "Indiquez un montant en euros, positif (12,50).",
        |v| parse_decimal(v).and_then(|d| Euros::new(d).ok()),
    );
    let approval = state.read_optional("agrement", "Identifiant de résolution invalide.", |v| {
        ResolutionId::new(v).ok()
    });
    let exemption = state.read_optional(
        "exception",
        "Choisissez une exception prévue par les statuts, ou aucune.",
        |v| {
            LOCK_UP_EXEMPTIONS
                .iter()
                .find(|(_, value, _)| *value == v)
                .map(|(exemption, _, _)| *exemption)
        },
    );
    let effective_date = date(&mut state, "date_effet");
    let target = match (
        from,
        to,
        class,
        count,
        price,
        approval,
        exemption,
        effective_date,
    ) {
        (
            Some(from),
            Some(to),
            Some(class),
            Some(count),
            Some(price_per_share),
            Some(approval),
            Some(exemption),
            Some(effective_date),
        ) => Some((
            post.farm.runtime.company_id(),
            Command::Company(Box::new(CompanyCommand::TransferShares {
                from,
                to,
                class,
                count,
                price_per_share,
                approval,
                effective_date,
                exemption,
            })),
        )),
        _ => None,
    };
    settle(
        &post,
        state,
        post.action(target),
        "La cession est enregistrée".into(),
    )
    .await
}

/// The agenda as the command takes it, from the rows filled in.
fn agenda(state: &mut FormState) -> Vec<Value> {
    let mut out = Vec::new();
    for i in 1..=AGENDA_ROWS {
        let body = state.text(&format!("r{i}_texte")).to_owned();
        if body.is_empty() {
            if i == 1 {
                state.field_error("r1_texte", "L'ordre du jour a au moins une résolution.");
            }
            continue;
        }
        if let Err(e) = windledger_domain::input::text(&format!("r{i}_texte"), &body) {
            state.field_error(&format!("r{i}_texte"), super::errors::input_error(&e).text);
            continue;
        }
        let precision_name = format!("r{i}_precision");
        let precision = state.text(&precision_name).to_owned();
        let purpose = match state.text(&format!("r{i}_objet")).to_owned().as_str() {
            "accounts_approval" | "result_appropriation" => {
                match precision
                    .parse::<i32>()
                    .ok()
                    .filter(|y| (1000..=9999).contains(y))
                {
                    Some(year) => {
                        json!({"purpose": state.text(&format!("r{i}_objet")), "year": year})
                    }
                    None => {
                        state.field_error(&precision_name, "Indiquez l'exercice (une année).");
                        continue;
                    }
                }
            }
            "transfer_approval" => match HolderId::new(precision.as_str()) {
                Ok(h) => json!({"purpose": "transfer_approval", "transferee": h}),
                Err(_) => {
                    state.field_error(
                        &precision_name,
                        "Indiquez l'identifiant de l'associé agréé.",
                    );
                    continue;
                }
            },
            works @ ("turbine_addition" | "turbine_repowering" | "turbine_decommissioning") => {
                match TurbineId::new(precision.as_str()) {
                    Ok(t) => json!({
                        "purpose": "turbine_works",
                        "turbine": t,
                        "works": works.trim_start_matches("turbine_"),
                    }),
                    Err(_) => {
                        state.field_error(
                            &precision_name,
                            "Indiquez l'identifiant de l'éolienne (par exemple T11).",
                        );
                        continue;
                    }
                }
            }
            p @ ("general" | "capital_increase" | "capital_reduction" | "charter_amendment") => {
                json!({ "purpose": p })
            }
            _ => json!({ "purpose": "general" }),
        };
        let Some(purpose) = with_terms(state, i, purpose) else {
            continue;
        };
        out.push(json!({
            "decision_kind": state.text(&format!("r{i}_decision")),
            "purpose": purpose,
            "text": body,
        }));
    }
    out
}

/// The purpose of agenda row `i` with the terms filled in, if its purpose
/// takes terms; `None` (and the fields' errors) if one is unreadable, or
/// given for a purpose that takes none.
fn with_terms(state: &mut FormState, i: usize, mut purpose: Value) -> Option<Value> {
    let name = |field: &str| format!("r{i}_{field}");
    let holder = state.read_optional(&name("associe"), "Identifiant d'associé invalide.", |v| {
        HolderId::new(v).ok()
    });
    let class = state.read_optional(
        &name("categorie"),
        "Identifiant de catégorie invalide.",
        |v| ShareClassId::new(v).ok(),
    );
    let count = state.read_optional(
        &name("nombre"),
        "Indiquez un nombre entier d'actions, au moins 1.",
        |v| {
            v.parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .and_then(|n| ShareCount::new(n).ok())
        },
    );
    let price = state.read_optional(
        &name("prix"),
        "Indiquez un montant en euros, positif (12,50).",
        |v| parse_decimal(v).and_then(|d| Euros::new(d).ok()),
    );
    let deadline = state.read_optional(&name("echeance"), "Indiquez une date (AAAA-MM-JJ).", |v| {
        v.parse::<NaiveDate>().ok()
    });
    let terms = Terms {
        holder: holder?,
        class: class?,
        count: count?,
        price_per_share: price?,
        deadline: deadline?,
    };
    if terms.is_empty() {
        return Some(purpose);
    }
    let takes_terms = matches!(
        purpose["purpose"].as_str(),
        Some("capital_increase" | "capital_reduction" | "transfer_approval")
    );
    if !takes_terms {
        state.field_error(
            &name("associe"),
            "Ces conditions ne valent que pour une augmentation ou une réduction de capital, ou un agrément.",
        );
        return None;
    }
    purpose["terms"] = serde_json::to_value(terms).ok()?;
    Some(purpose)
}

/// `POST /parcs/{ledger}/secretariat/assemblees`.
pub async fn convene(post: Post) -> PageResult {
    let mut state = FormState::new(CONVENE_FORM, post.fields.clone());
    let id = state.read(
        "assemblee",
        "Identifiant invalide : 1 à 64 lettres, chiffres, - _ . (par exemple ago-2026).",
        |v| MeetingId::new(v).ok(),
    );
    let kind = state.read("nature", "Choisissez la nature de l'assemblée.", |n| {
        MEETING_KINDS.iter().map(|(k, _)| *k).find(|k| *k == n)
    });
    let call = state.read(
        "premiere",
        "Identifiant d'assemblée invalide.",
        |v| match v {
            "" => Some(json!({"call": "first"})),
            first => MeetingId::new(first)
                .ok()
                .map(|f| json!({"call": "second", "first_call": f})),
        },
    );
    let convened_on = date(&mut state, "date_convocation");
    let record_date = date(&mut state, "date_enregistrement");
    let instant = "Indiquez une date et une heure.";
    let opens_at = state.read("ouverture", instant, format::parse_datetime_input);
    let closes_at = state.read("cloture", instant, format::parse_datetime_input);
    let mut members = Vec::new();
    let lines = state.text("membres").to_owned();
    for line in lines.lines().map(str::trim) {
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
    let agenda = agenda(&mut state);
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
                    tracing::info!(error = %e, "a convocation the form let through");
                    state.top.push(Message::new(
                        "Ces champs ne forment pas une convocation valide.",
                    ));
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
    settle(&post, state, post.action(target), success).await
}

async fn meeting_command(
    meeting: String,
    post: Post,
    command: MeetingCommand,
    success: &str,
) -> PageResult {
    if MeetingId::new(meeting.as_str()).is_err() {
        return Err(WebError::NotFound);
    }
    let state = FormState::new(MEETING_FORM, post.fields.clone());
    let success = format!("{success} : {meeting}");
    settle(
        &post,
        state,
        post.action(Some((meeting, Command::Meeting(command)))),
        success,
    )
    .await
}

/// `POST .../secretariat/assemblees/{meeting}/ouverture`.
pub async fn open_voting(
    Params(MeetingPath { meeting }): Params<MeetingPath>,
    post: Post,
) -> PageResult {
    meeting_command(
        meeting,
        post,
        MeetingCommand::OpenVoting { at: Utc::now() },
        "Le vote est ouvert, la liste d'émargement arrêtée",
    )
    .await
}

/// `POST .../secretariat/assemblees/{meeting}/cloture`.
pub async fn close(Params(MeetingPath { meeting }): Params<MeetingPath>, post: Post) -> PageResult {
    meeting_command(
        meeting,
        post,
        MeetingCommand::Close { at: Utc::now() },
        "L'assemblée est close et les voix comptées",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::Fields;

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
        let items = agenda(&mut state);
        assert_eq!(items.len(), 1);
        assert_eq!(items[0]["purpose"]["year"], 2025);
        assert!(state.errors.contains_key("r3_precision"));
    }

    fn read(rows: &[(&str, &str)]) -> (Vec<Value>, FormState) {
        let fields: Fields = rows
            .iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect();
        let mut state = FormState::new(CONVENE_FORM, fields);
        (agenda(&mut state), state)
    }

    #[test]
    fn a_resolution_s_terms_are_read_where_its_purpose_takes_them() {
        let reduction = [
            ("r1_texte", "Rachat de 20 actions du partenaire"),
            ("r1_decision", "extraordinary"),
            ("r1_objet", "capital_reduction"),
            ("r1_associe", "partner"),
            ("r1_categorie", "ordinaires"),
            ("r1_nombre", "20"),
            ("r1_prix", "110,50"),
            ("r1_echeance", "2026-12-31"),
        ];
        let (items, state) = read(&reduction);
        assert!(!state.has_errors());
        assert_eq!(
            items[0]["purpose"],
            json!({"purpose": "capital_reduction", "terms": {
                "holder": "partner", "class": "ordinaires", "count": 20,
                "price_per_share": "110.50", "deadline": "2026-12-31"}})
        );
        // Empty terms add nothing.
        let (items, _) = read(&reduction[..3]);
        assert_eq!(items[0]["purpose"], json!({"purpose": "capital_reduction"}));
        // A count of 0, or terms on a purpose that takes none, are refused.
        let (items, state) = read(&[
            ("r1_texte", "Rachat"),
            ("r1_objet", "capital_reduction"),
            ("r1_nombre", "0"),
        ]);
        assert!(items.is_empty() && state.errors.contains_key("r1_nombre"));
        let (items, state) = read(&[
            ("r1_texte", "Quitus"),
            ("r1_objet", "general"),
            ("r1_nombre", "5"),
        ]);
        assert!(items.is_empty() && state.errors.contains_key("r1_associe"));
    }
}
