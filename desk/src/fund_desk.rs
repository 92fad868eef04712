//! The territory fund's desk, `/parcs/{ledger}/gestion-du-fonds`
//! (docs/territory.md): what the municipality and the secretary record on
//! the fund without going through the API. The municipality registers the
//! territory's residents, each with their identity (sealed in the vault,
//! the ledger keeping a pseudonymous id, the commune and a commitment), and
//! convenes the budgeting rounds; the secretary feeds the fund from an
//! approved financial year, records grants, and pays committed projects.
//! Each resident's identity has its own page, `/parcs/{ledger}/habitants/
//! {resident}`: the municipality reads and corrects it, the resident reads
//! their own, and both download everything kept (a GDPR access request).

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use windledger_api::auth::Role;
use windledger_api::identity::reader;
use windledger_api::problem::Problem;
use windledger_app::command::Command;
use windledger_domain::budgeting::Method;
use windledger_domain::budgeting::fund::{FundCommand, TerritoryFund};
use windledger_domain::budgeting::round::RoundCommand;
use windledger_domain::company::PlaceNames;
use windledger_domain::money::Euros;
use windledger_domain::types::{CommuneCode, HolderId, PartyId, ProposalId, ResidentId, RoundId};
use windledger_html::tables::section;
use windledger_projections::cap_table::AsOf;
use windledger_projections::territory::FundView;

use crate::extract::{Farm, OnFarm, Params, Post, SENT_BACK, SignedIn, back_to};
use crate::identity::NEW_VERSION;
use crate::layout::{
    Field, FormState, FormView, contents, download, errors_box, form_guard, messages_of, select,
    state_of,
};
use crate::secretary::date;
use crate::{PageResult, WebError, format, identity, projected};

const RESIDENT_FORM: &str = "habitant";
const ROUND_FORM: &str = "budget";
const FEED_FORM: &str = "alimentation";
const GRANT_FORM: &str = "subvention";
const PAY_FORM: &str = "paiement";
const IDENTITY_FORM: &str = "identite";

/// The desk's fields, for the box of errors at the top (a person's come
/// from [`identity::LABELS`]).
const FIELD_LABELS: [(&str, &str); 14] = [
    ("commune", "Commune de l'habitant"),
    ("associe", "Associé"),
    ("budget", "Identifiant du budget participatif"),
    ("methode", "Méthode"),
    ("enveloppe", "Enveloppe"),
    ("communes", "Communes"),
    ("depot_ouverture", "Ouverture des dépôts"),
    ("depot_cloture", "Clôture des dépôts"),
    ("vote_ouverture", "Ouverture du vote"),
    ("vote_cloture", "Clôture du vote"),
    ("choix_max", "Projets par bulletin, au plus"),
    ("exercice", "Exercice"),
    ("donateur", "Donateur"),
    ("engagement", "Projet engagé"),
];

/// The amount and date fields, shared by the grant's and the payment's
/// forms.
const MONEY_LABELS: [(&str, &str); 2] = [("montant", "Montant"), ("date", "Date")];

const METHODS: [(&str, &str); 2] = [
    (
        "equal_shares",
        "Méthode des parts égales (plus juste envers les petites communes)",
    ),
    (
        "greedy_approval",
        "Par nombre de voix, tant que l'enveloppe le permet",
    ),
];

/// What the desk shows.
struct Desk {
    view: FundView,
    residents: Vec<(ResidentId, CommuneCode)>,
    places: PlaceNames,
    /// Financial years whose accounts are approved and that have not fed
    /// the fund yet.
    to_feed: Vec<i32>,
    /// The committed projects not paid in full: (round/proposal, what the
    /// list says of it).
    owed: Vec<(String, String)>,
}

async fn desk(farm: &Farm) -> Result<Desk, WebError> {
    projected(&farm.runtime, |p| {
        let territory = p.territory.fold();
        let view = territory.fund();
        // The years the charter's clause in force feeds from (the domain
        // decides by the clause in force on each year's last day).
        let from_year = p
            .cap_table
            .fold()
            .charter(AsOf::Latest)
            .and_then(|c| c.territory_fund.as_ref())
            .map(|f| f.from_year);
        let to_feed = p
            .finance
            .fold()
            .years()
            .filter(|y| from_year.is_some_and(|from| y.year >= from))
            .filter(|y| y.accounts.is_some() && !view.feeds.iter().any(|f| f.year == y.year))
            .map(|y| y.year)
            .collect();
        let owed = view
            .commitments
            .iter()
            .filter(|c| c.paid < c.amount)
            .map(|c| {
                let title = territory
                    .round(c.round.as_str())
                    .and_then(|r| r.proposals.iter().find(|p| p.proposal == c.proposal))
                    .map_or_else(|| c.proposal.to_string(), |p| p.title.clone());
                let left = Euros::from_cents(
                    c.amount
                        .cents()
                        .unwrap_or_default()
                        .saturating_sub(c.paid.cents().unwrap_or_default()),
                );
                (
                    format!("{}/{}", c.round, c.proposal),
                    format!("{title} (budget {}) : reste dû {}", c.round, euros(left)),
                )
            })
            .collect();
        Desk {
            residents: territory
                .residents()
                .iter()
                .map(|(r, c)| (r.clone(), c.clone()))
                .collect(),
            places: p.cap_table.fold().place_names().clone(),
            view,
            to_feed,
            owed,
        }
    })
    .await
}

/// `GET /parcs/{ledger}/gestion-du-fonds`.
pub async fn show(farm: Farm, me: SignedIn) -> PageResult {
    desk_page(&farm, &me, None, StatusCode::OK).await
}

async fn desk_page(
    farm: &Farm,
    me: &SignedIn,
    sent: Option<FormState>,
    status: StatusCode,
) -> PageResult {
    let d = desk(farm).await?;
    let labels: Vec<(&str, &str)> = FIELD_LABELS
        .iter()
        .chain(&MONEY_LABELS)
        .chain(&identity::LABELS)
        .copied()
        .collect();
    let top = messages_of(sent.as_ref(), &labels);
    let role = me.session.principal.role;
    let body = html! {
        h1 { "Gestion du fonds de territoire" }
        (errors_box("Le formulaire n'a pas été enregistré", &top))
        p.lead {
            "Disponible : " strong { (euros(d.view.available)) } " ; engagé, pas encore versé : " (euros(d.view.outstanding)) ". "
            a href=(farm.path("/fonds-de-territoire")) { "La page publique du fonds" }
            " montre ses comptes et ses budgets participatifs."
        }
        @if role == Role::Municipality {
            (contents(&[
                ("inscrire", "Inscrire un habitant"),
                ("convoquer", "Convoquer un budget participatif"),
                ("habitants", "Les habitants inscrits et leur identité"),
            ]))
            (register_form(farm, me, &d, state_of(sent.as_ref(), RESIDENT_FORM)))
            (round_form(farm, me, &d, state_of(sent.as_ref(), ROUND_FORM)))
            (residents(farm, &d))
        }
        @if role == Role::Secretary {
            (contents(&[
                ("alimenter", "Alimenter le fonds par un exercice"),
                ("subventionner", "Enregistrer une subvention"),
                ("payer", "Payer un projet engagé"),
            ]))
            (secretary_forms(farm, me, &d, sent.as_ref()))
        }
    };
    farm.page(status, "Gestion du fonds de territoire", me.shown(), body)
}

fn euros(amount: Euros) -> String {
    format::euros(amount.amount())
}

/// The communes the farm knows, as a hint: `42026 (Taillard)`.
fn known_communes(d: &Desk) -> String {
    let mut known: Vec<&CommuneCode> = d.places.communes.keys().collect();
    known.extend(d.view.residents.keys());
    known.sort();
    known.dedup();
    let named: Vec<String> = known
        .into_iter()
        .map(|c| match d.places.communes.get(c) {
            Some(name) => format!("{c} ({name})"),
            None => c.to_string(),
        })
        .collect();
    match named.is_empty() {
        true => "Code INSEE à 5 caractères, par exemple 42026.".to_owned(),
        false => format!("Code INSEE à 5 caractères : {}.", named.join(", ")),
    }
}

fn register_form(farm: &Farm, me: &SignedIn, d: &Desk, view: FormView<'_>) -> Markup {
    html! {
        form.card method="post" action=(farm.path("/gestion-du-fonds/habitants")) {
            h2 #inscrire { "Inscrire un habitant" }
            (form_guard(&me.session))
            p.hint { "L'inscription vaut accord de la collectivité. Le registre ne garde qu'un identifiant (donné par le serveur), la commune et une empreinte de l'identité ; l'identité est gardée chiffrée dans le coffre." }
            (Field::new(view, RESIDENT_FORM, "commune", "Commune de l'habitant").required().hint(&known_communes(d)).render())
            (Field::new(view, RESIDENT_FORM, "associe", "Associé, si l'habitant en est un").hint("Son identifiant au registre des associés (cit-142…) ; vide sinon.").render())
            (identity::resident_fields(view, RESIDENT_FORM, None))
            button type="submit" { "Inscrire l'habitant" }
        }
    }
}

fn round_form(farm: &Farm, me: &SignedIn, d: &Desk, view: FormView<'_>) -> Markup {
    let methods: Vec<(String, String)> = METHODS
        .iter()
        .map(|(v, t)| ((*v).to_owned(), (*t).to_owned()))
        .collect();
    let communes: Vec<String> = d.view.residents.keys().map(ToString::to_string).collect();
    let instant = |name: &'static str, label: &'static str| {
        Field::new(view, ROUND_FORM, name, label)
            .kind("datetime-local")
            .required()
            .render()
    };
    html! {
        form.card method="post" action=(farm.path("/gestion-du-fonds/budgets")) {
            h2 #convoquer { "Convoquer un budget participatif" }
            (form_guard(&me.session))
            p { "Disponible aujourd'hui : " (euros(d.view.available)) "." }
            (Field::new(view, ROUND_FORM, "budget", "Identifiant du budget participatif").required().hint("Par exemple bp-2027 : lettres, chiffres, - _ .").render())
            (select(view, ROUND_FORM, "methode", "Méthode", &methods, "equal_shares", true))
            (Field::new(view, ROUND_FORM, "enveloppe", "Enveloppe (€)").decimal().required().hint("Par exemple 40 000 ou 12 500,50.").render())
            (Field::new(view, ROUND_FORM, "communes", "Communes").required().default_value(view, &communes.join(" ")).hint(&format!("Les codes INSEE des communes dont les habitants participent, séparés par des espaces. {}", known_communes(d))).render())
            (instant("depot_ouverture", "Ouverture des dépôts de projets"))
            (instant("depot_cloture", "Clôture des dépôts de projets"))
            (instant("vote_ouverture", "Ouverture du vote"))
            (instant("vote_cloture", "Clôture du vote"))
            (Field::new(view, ROUND_FORM, "choix_max", "Projets par bulletin, au plus").hint("Un entier ; vide pour autant de projets que l'habitant le souhaite.").render())
            p.hint { "Les dates et heures sont celles de Paris, et c'est l'horloge du serveur qui ouvre et ferme chaque période." }
            button type="submit" { "Convoquer" }
        }
    }
}

fn residents(farm: &Farm, d: &Desk) -> Markup {
    html! {
        (section("habitants", "Habitants inscrits", d.residents.is_empty(), "Aucun habitant n'est encore inscrit.", || html! {
                p { "L'identité de chaque habitant se consulte et se corrige sur sa page ; chaque consultation est consignée." }
                details {
                    summary { (format::int(d.residents.len() as u64)) " habitants" }
                    ul.columns {
                        @for (resident, commune) in &d.residents {
                            li {
                                a href=(link(farm, resident)) { (resident) }
                                " — " (format::commune(commune, &d.places))
                            }
                        }
                    }
                }
        }))
    }
}

fn secretary_forms(farm: &Farm, me: &SignedIn, d: &Desk, sent: Option<&FormState>) -> Markup {
    let years: Vec<(String, String)> = d
        .to_feed
        .iter()
        .map(|y| (y.to_string(), format!("Exercice {y}")))
        .collect();
    let (feed, grant, pay) = (
        state_of(sent, FEED_FORM),
        state_of(sent, GRANT_FORM),
        state_of(sent, PAY_FORM),
    );
    let today = windledger_app::today().to_string();
    html! {
        @if years.is_empty() {
            section.card aria-labelledby="alimenter" {
                h2 #alimenter { "Alimenter le fonds par un exercice" }
                p { "Aucun exercice approuvé n'attend d'alimenter le fonds : un exercice l'alimente une fois ses comptes approuvés, si les statuts prévoient le fonds pour cet exercice." }
            }
        } @else {
            form.card method="post" action=(farm.path("/gestion-du-fonds/alimentation")) {
                h2 #alimenter { "Alimenter le fonds par un exercice" }
                (form_guard(&me.session))
                p.hint { "Le montant est calculé par le serveur, au centime, selon la clause des statuts en vigueur le dernier jour de l'exercice." }
                (select(feed, FEED_FORM, "exercice", "Exercice", &years, "", true))
                button type="submit" { "Alimenter le fonds" }
            }
        }
        form.card method="post" action=(farm.path("/gestion-du-fonds/subventions")) {
            h2 #subventionner { "Enregistrer une subvention" }
            (form_guard(&me.session))
            (Field::new(grant, GRANT_FORM, "donateur", "Donateur").required().hint("Un identifiant, sans nom de personne : par exemple region-ara ou ademe.").render())
            (Field::new(grant, GRANT_FORM, "montant", "Montant (€)").decimal().required().render())
            (Field::new(grant, GRANT_FORM, "date", "Date de réception").kind("date").required().default_value(grant, &today).render())
            button type="submit" { "Enregistrer la subvention" }
        }
        @if d.owed.is_empty() {
            section.card aria-labelledby="payer" {
                h2 #payer { "Payer un projet engagé" }
                p { "Aucun projet engagé n'attend de paiement." }
            }
        } @else {
            form.card method="post" action=(farm.path("/gestion-du-fonds/paiements")) {
                h2 #payer { "Payer un projet engagé" }
                (form_guard(&me.session))
                (select(pay, PAY_FORM, "engagement", "Projet engagé", &d.owed, "", true))
                (Field::new(pay, PAY_FORM, "montant", "Montant (€)").decimal().required().hint("Au plus ce qui reste dû ; un projet peut être payé en plusieurs fois.").render())
                (Field::new(pay, PAY_FORM, "date", "Date du paiement").kind("date").required().default_value(pay, &today).render())
                button type="submit" { "Enregistrer le paiement" }
            }
        }
    }
}

/// Runs what a desk's form records, then back to the desk (or the desk
/// with the form and its errors).
async fn settle(
    post: &Post,
    state: FormState,
    action: Option<impl Future<Output = Result<Vec<windledger_app::command::Receipt>, Problem>>>,
    success: String,
) -> PageResult {
    let to = post.farm.path("/gestion-du-fonds");
    crate::settle_on(post, state, action, to, &success, desk_page).await
}

fn fund(command: FundCommand) -> (String, Command) {
    (TerritoryFund::ID.to_owned(), Command::Fund(command))
}

fn commune(state: &mut FormState, name: &str) -> Option<CommuneCode> {
    state.read_required(
        name,
        "Indiquez le code INSEE de la commune.",
        "Un code INSEE compte 5 caractères : 5 chiffres, ou 2A/2B puis 3 chiffres.",
        |c| CommuneCode::new(c).ok(),
    )
}

fn amount(state: &mut FormState) -> Option<Euros> {
    crate::amount_field(state, "montant", "Indiquez le montant.")
}

/// `POST .../gestion-du-fonds/habitants`: a resident and their identity, in
/// one step; the id is the server's.
pub async fn register(post: Post) -> PageResult {
    let mut state = FormState::new(RESIDENT_FORM, post.fields.clone());
    let commune = commune(&mut state, "commune");
    let holder = state.read_optional(
        "associe",
        "Identifiant invalide : 1 à 64 lettres, chiffres, - _ .",
        |v| HolderId::new(v).ok(),
    );
    let person = identity::read(&mut state, true, None, windledger_app::today());
    let vault = identity::vault_for_form(post.web(), &mut state);
    // A resident's id is the server's: unique, and naming no one.
    let resident = ResidentId::new(format!(
        "hab-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    ))
    .map_err(|_| WebError::Internal)?;
    let registration = (|| {
        Some(Command::Fund(FundCommand::RegisterResident {
            resident: resident.clone(),
            commune: commune?,
            holder: holder?,
            identity: None,
        }))
    })();
    let action = registration
        .zip(person)
        .zip(vault)
        .map(|((registration, person), vault)| {
            let metadata = post.metadata("");
            let runtime = post.farm.runtime.clone();
            async move {
                vault
                    .register_resident(&runtime, registration, person, metadata)
                    .await
                    .map_err(Problem::from)
            }
        });
    let success = format!(
        "L'habitant {resident} est inscrit, avec son identité : c'est l'identifiant de son jeton d'habitant"
    );
    settle(&post, state, action, success).await
}

/// The datetime field `name`, in Paris time.
fn instant(state: &mut FormState, name: &str) -> Option<DateTime<Utc>> {
    state.read_required(
        name,
        "Indiquez une date et une heure.",
        "Indiquez une date et une heure.",
        format::parse_datetime_input,
    )
}

/// `POST .../gestion-du-fonds/budgets`: a round convened.
pub async fn convene(post: Post) -> PageResult {
    let mut state = FormState::new(ROUND_FORM, post.fields.clone());
    let round = state.read_required(
        "budget",
        "Donnez un identifiant au budget participatif.",
        "Identifiant invalide : 1 à 64 lettres, chiffres, - _ . (par exemple bp-2027).",
        |v| RoundId::new(v).ok(),
    );
    let method = state.read("methode", "Choisissez une méthode.", |m| match m {
        "equal_shares" => Some(Method::EqualShares),
        "greedy_approval" => Some(Method::GreedyApproval),
        _ => None,
    });
    let budget = crate::amount_field(&mut state, "enveloppe", "Indiquez l'enveloppe.");
    let communes = state.read_required(
        "communes",
        "Indiquez au moins une commune.",
        "Des codes INSEE à 5 caractères, séparés par des espaces.",
        |text| {
            text.split([' ', ',', ';'])
                .filter(|c| !c.is_empty())
                .map(|c| CommuneCode::new(c).ok())
                .collect::<Option<Vec<_>>>()
        },
    );
    let submissions_open = instant(&mut state, "depot_ouverture");
    let submissions_close = instant(&mut state, "depot_cloture");
    let voting_open = instant(&mut state, "vote_ouverture");
    let voting_close = instant(&mut state, "vote_cloture");
    let max_approvals = state.read_optional("choix_max", "Un entier d'au moins 1, ou vide.", |v| {
        v.parse::<u32>().ok().filter(|n| *n > 0)
    });
    let command = (|| {
        let round = round?;
        Some((
            round.to_string(),
            Command::Round(RoundCommand::Convene {
                round,
                method: method?,
                budget: budget?,
                communes: communes?,
                submissions_open: submissions_open?,
                submissions_close: submissions_close?,
                voting_open: voting_open?,
                voting_close: voting_close?,
                max_approvals: max_approvals?,
            }),
        ))
    })();
    settle(
        &post,
        state,
        post.action(command),
        "Le budget participatif est convoqué".to_owned(),
    )
    .await
}

/// `POST .../gestion-du-fonds/alimentation`: a year feeds the fund.
pub async fn feed(post: Post) -> PageResult {
    let mut state = FormState::new(FEED_FORM, post.fields.clone());
    let year = state.read_required(
        "exercice",
        "Choisissez l'exercice.",
        "Choisissez l'un des exercices approuvés.",
        |y| y.parse::<i32>().ok(),
    );
    let command = year.map(|year| fund(FundCommand::Feed { year }));
    settle(
        &post,
        state,
        post.action(command),
        "Le fonds est alimenté".to_owned(),
    )
    .await
}

/// `POST .../gestion-du-fonds/subventions`: a grant received.
pub async fn grant(post: Post) -> PageResult {
    let mut state = FormState::new(GRANT_FORM, post.fields.clone());
    let grantor = state.read_required(
        "donateur",
        "Indiquez le donateur.",
        "Identifiant invalide : 1 à 64 lettres, chiffres, - _ .",
        |g| PartyId::new(g).ok(),
    );
    let amount = amount(&mut state);
    let received_on = date(&mut state, "date");
    let command = (|| {
        Some(fund(FundCommand::ReceiveGrant {
            grantor: grantor?,
            amount: amount?,
            received_on: received_on?,
        }))
    })();
    settle(
        &post,
        state,
        post.action(command),
        "La subvention est enregistrée".to_owned(),
    )
    .await
}

/// `POST .../gestion-du-fonds/paiements`: a payment to a committed project.
pub async fn pay(post: Post) -> PageResult {
    let mut state = FormState::new(PAY_FORM, post.fields.clone());
    let commitment = state.read_required(
        "engagement",
        "Choisissez le projet payé.",
        "Choisissez l'un des projets engagés.",
        |v| {
            let (round, proposal) = v.split_once('/')?;
            Some((RoundId::new(round).ok()?, ProposalId::new(proposal).ok()?))
        },
    );
    let amount = amount(&mut state);
    let paid_on: Option<NaiveDate> = date(&mut state, "date");
    let command = (|| {
        let (round, proposal) = commitment?;
        Some(fund(FundCommand::Pay {
            round,
            proposal,
            amount: amount?,
            paid_on: paid_on?,
        }))
    })();
    settle(
        &post,
        state,
        post.action(command),
        "Le paiement est enregistré".to_owned(),
    )
    .await
}

/// `{ledger}` and `{resident}`.
#[derive(serde::Deserialize)]
pub struct ResidentPath {
    pub resident: String,
}

/// A resident's identity page.
pub fn link(farm: &Farm, resident: &ResidentId) -> String {
    farm.path(&format!("/habitants/{resident}"))
}

/// The path's resident, registered (404 if not).
async fn registered(farm: &Farm, path: &ResidentPath) -> Result<ResidentId, WebError> {
    let resident = ResidentId::new(path.resident.as_str()).map_err(|_| WebError::NotFound)?;
    let known = projected(&farm.runtime, |p| {
        p.territory.fold().residents().contains_key(&resident)
    })
    .await?;
    known.then_some(resident).ok_or(WebError::NotFound)
}

async fn resident_page(
    web: &crate::Web,
    farm: &Farm,
    me: &SignedIn,
    resident: &ResidentId,
    sent: Option<FormState>,
    status: StatusCode,
) -> PageResult {
    let principal = &me.session.principal;
    let own = principal.resident.as_ref() == Some(resident);
    let purpose = if own {
        "the resident's own identity page"
    } else {
        "the municipality's page of a resident"
    };
    let in_force = identity::vault(web)?
        .read_resident(&farm.runtime, resident, &reader(principal, purpose))
        .await?;
    let labels: Vec<(&str, &str)> = identity::LABELS.to_vec();
    let top = messages_of(sent.as_ref(), &labels);
    let view = state_of(sent.as_ref(), IDENTITY_FORM);
    let path = link(farm, resident);
    let title = if own {
        "Mon identité d'habitant".to_owned()
    } else {
        format!("Habitant {resident}")
    };
    let body = html! {
        h1 { (title) }
        (errors_box("Les données n'ont pas été enregistrées", &top))
        p.lead {
            "Ces données sont gardées chiffrées dans le coffre des identités : le fonds de territoire ne garde que l'identifiant "
            code { (resident) } ", la commune et une empreinte de chaque version. Chaque consultation est consignée (qui, quand, pour qui)."
        }
        section aria-labelledby="en-vigueur" {
            h2 #en-vigueur { "Données en vigueur" }
            @match &in_force {
                Some(f) => (identity::shown_person(&f.person, f.recorded_at, &f.commitment, false)),
                None => p { "Aucune identité n'est enregistrée pour cet habitant." },
            }
            p { a href=(format!("{path}/identite.json")) download { "Télécharger tout ce qui est gardé (JSON : chaque version et chaque consultation)" } }
        }
        @if principal.role == Role::Municipality {
            form.card method="post" action=(path) {
                h2 #corriger { @if in_force.is_some() { "Corriger" } @else { "Enregistrer" } }
                (form_guard(&me.session))
                (identity::resident_fields(view, IDENTITY_FORM, in_force.as_ref().map(|f| &f.person)))
                button type="submit" { "Enregistrer la nouvelle version" }
            }
            p { a href=(farm.path("/gestion-du-fonds")) { "Retour à la gestion du fonds" } }
        } @else {
            p { "Pour corriger ces données, adressez-vous à la collectivité." }
            p { a href=(farm.path("/espace")) { "Retour à mon espace" } }
        }
    };
    farm.page(status, &title, me.shown(), body)
}

/// `GET /parcs/{ledger}/habitants/{resident}`.
pub async fn show_resident(
    OnFarm(web, farm, me): OnFarm,
    Params(path): Params<ResidentPath>,
) -> PageResult {
    let resident = registered(&farm, &path).await?;
    resident_page(&web, &farm, &me, &resident, None, StatusCode::OK).await
}

/// `GET /parcs/{ledger}/habitants/{resident}/identite.json`: everything kept
/// about the resident (a GDPR access request), as the API's export.
pub async fn export_resident(
    OnFarm(web, farm, me): OnFarm,
    Params(path): Params<ResidentPath>,
) -> PageResult {
    let resident = ResidentId::new(path.resident.as_str()).map_err(|_| WebError::NotFound)?;
    let export = identity::vault(&web)?
        .export_resident(
            &farm.runtime,
            &resident,
            &reader(&me.session.principal, "access request through the pages"),
        )
        .await?
        .ok_or(WebError::NotFound)?;
    let body = serde_json::to_vec_pretty(&export).map_err(|_| WebError::Internal)?;
    let name = format!("{}-{resident}-donnees.json", farm.id);
    Ok(download(body, "application/json", &name))
}

/// `POST /parcs/{ledger}/habitants/{resident}`: a new version of the
/// resident's identity, by the municipality.
pub async fn correct_resident(Params(path): Params<ResidentPath>, post: Post) -> PageResult {
    let resident = registered(&post.farm, &path).await?;
    let web = post.web().clone();
    let vault = identity::vault(&web)?;
    let mut state = FormState::new(IDENTITY_FORM, post.fields.clone());
    let person = identity::read(&mut state, true, None, windledger_app::today());
    let action = person.map(|person| {
        let metadata = post.metadata("");
        let runtime = post.farm.runtime.clone();
        let resident = resident.clone();
        async move {
            vault
                .record_resident(&runtime, &resident, person, metadata)
                .await
                .map_err(Problem::from)
        }
    });
    let to = back_to(link(&post.farm, &resident), NEW_VERSION);
    post.settle(state, action, to, async |sent| {
        let (farm, me) = (&post.farm, &post.me);
        resident_page(&web, farm, me, &resident, Some(sent), SENT_BACK).await
    })
    .await
}
