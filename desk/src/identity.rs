//! A holder's identity on the pages (docs/people.md): the fields of a
//! person, read with a French message next to each, for the secretary's
//! admission form and for the identity page, where the secretary (any
//! holder) or a shareholder (their own) reads the data in force and
//! corrects it. Every page that shows the data logs the read in the vault,
//! as the API does; the municipality and the operator never reach it (the
//! route's rule).

use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{Markup, html};
use windledger_api::auth::Role;
use windledger_api::identity::reader;
use windledger_app::people::{InForce, Vault};
use windledger_app::person_fields::{self, Problem};
use windledger_domain::company::HolderKind;
use windledger_domain::types::HolderId;
use windledger_vault::{Consent, Identity, Person, StatementKind};

use crate::extract::{Farm, OnFarm, Params, Post, SENT_BACK, SignedIn, back_to};
use crate::layout::{Field, FormState, FormView, download, errors_box, form_guard, messages_of};
use crate::{PageResult, Web, WebError, format, projected};

const IDENTITY_FORM: &str = "identite";

/// What a page says once a new version of a person's data is recorded.
pub const NEW_VERSION: &str = "La nouvelle version est enregistrée";

/// The most characters of a line of a person's data (the vault's bound).
const MAX_LINE: usize = windledger_vault::person::MAX_LINE;

/// `{ledger}` and `{holder}`.
#[derive(serde::Deserialize)]
pub struct HolderPath {
    pub holder: String,
}

/// The fields' labels, in the order of the form (for the box of errors).
pub const LABELS: [(&str, &str); 17] = [
    ("family_name", "Nom"),
    ("given_names", "Prénoms"),
    ("birth_date", "Date de naissance"),
    ("birth_place", "Lieu de naissance"),
    ("legal_name", "Dénomination"),
    ("legal_form", "Forme juridique"),
    ("siren", "SIREN"),
    ("representative", "Représentant légal"),
    ("address_line_1", "Adresse"),
    ("address_line_2", "Complément d'adresse"),
    ("postal_code", "Code postal"),
    ("city", "Commune"),
    ("country", "Pays"),
    ("email", "Adresse électronique"),
    ("tax_residence", "Résidence fiscale"),
    ("iban", "IBAN"),
    ("bic", "BIC"),
];

fn label(name: &str) -> &'static str {
    LABELS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("", |(_, l)| l)
}

/// Whether a holder of this kind is a natural person (an individual); every
/// other kind is a legal person.
pub fn natural(kind: HolderKind) -> bool {
    kind == HolderKind::Individual
}

/// The vault, for a form that seals a person: `None` with the reason at the
/// form's top when this server holds no key for it.
pub fn vault_for_form<'w>(web: &'w Web, state: &mut FormState) -> Option<&'w Vault> {
    match vault(web) {
        Ok(vault) => Some(vault),
        Err(e) => {
            state.top.push(crate::layout::Message::new(e.sentence()));
            None
        }
    }
}

/// The vault, or the page saying this server holds no key for it.
pub fn vault(web: &Web) -> Result<&Vault, WebError> {
    web.app
        .vault()
        .map_err(|_| WebError::Unconfigured(NO_VAULT))
}

const NO_VAULT: &str = "Ce serveur ne détient pas la clé du coffre des identités : \
                        son administrateur le démarre avec --vault-key-file.";

/// The fields of a person, filled from `view` (what was sent back) or
/// `current`. `kind`: natural (`Some(true)`), legal (`Some(false)`), or
/// both sets, for the admission form, where the holder's nature decides.
pub fn fields<'a>(
    view: FormView<'a>,
    form: &'static str,
    kind: Option<bool>,
    current: Option<&Person>,
) -> Markup {
    person_fields(view, form, kind, current, true)
}

/// The fields of a resident of the territory: a natural person's, without
/// what only a holder gives (a bank account for dividends, the consent to
/// electronic convocations).
pub fn resident_fields(view: FormView<'_>, form: &'static str, current: Option<&Person>) -> Markup {
    person_fields(view, form, Some(true), current, false)
}

fn person_fields<'a>(
    view: FormView<'a>,
    form: &'static str,
    kind: Option<bool>,
    current: Option<&Person>,
    holder: bool,
) -> Markup {
    let was = |name: &str| {
        current
            .map(|p| person_fields::value(p, name))
            .unwrap_or_default()
    };
    let field = |name: &'static str| {
        let value = was(name);
        Field::new(view, form, name, label(name)).default_value(view, &value)
    };
    // In the admission form, each set is required only for its nature.
    let needed = |f: Field<'a>| match kind {
        Some(_) => f.required(),
        None => f.required_by_choice(),
    };
    let consented = match view.sent() {
        true => view.value("electronic_convocation", "") == "oui",
        false => current.is_some_and(|p| {
            p.consents
                .electronic_convocation
                .as_ref()
                .is_some_and(|c| c.withdrawn_on.is_none())
        }),
    };
    html! {
        @if kind != Some(false) {
            fieldset {
                legend { "Personne physique" @if kind.is_none() { " (associé particulier)" } }
                (needed(field("family_name")).render())
                (needed(field("given_names")).render())
                (field("birth_date").kind("date").hint("Si la loi la demande (par exemple pour un formulaire fiscal).").render())
                (field("birth_place").hint("Commune, et pays si à l'étranger ; à donner avec la date.").render())
            }
        }
        @if kind != Some(true) {
            fieldset {
                legend { "Personne morale" @if kind.is_none() { " (association, club, collectivité, société…)" } }
                (needed(field("legal_name")).render())
                (needed(field("legal_form")).hint("Par exemple : SAS, association loi 1901, commune.").render())
                (field("siren").hint("9 chiffres ; vide pour une personne morale sans SIREN.").render())
                (needed(field("representative")).render())
            }
        }
        fieldset {
            legend { "Coordonnées" }
            (field("address_line_1").required().render())
            (field("address_line_2").render())
            (field("postal_code").render())
            (field("city").required().render())
            (Field::new(view, form, "country", label("country")).required().default_value(view, &or_fr(was("country"))).hint("Code à deux lettres : FR pour la France.").render())
            (field("email").kind("email").render())
            (Field::new(view, form, "tax_residence", label("tax_residence")).required().default_value(view, &or_fr(was("tax_residence"))).hint("Pays de résidence fiscale, code à deux lettres.").render())
            @if holder {
                (field("iban").hint("Pour le versement des dividendes ; avec le BIC.").render())
                (field("bic").render())
                label.check {
                    input type="checkbox" name="electronic_convocation" value="oui" checked[consented];
                    "Accepte d'être convoqué par voie électronique (article R225-63 du Code de commerce) ; décocher retire l'accord."
                }
            }
        }
    }
}

fn or_fr(value: String) -> String {
    if value.is_empty() { "FR".into() } else { value }
}

/// A field's problem, in French.
fn french(problem: &Problem) -> String {
    match problem {
        Problem::Missing => "Ce champ est obligatoire.".into(),
        Problem::NotOneLine => format!(
            "Une seule ligne d'au plus {MAX_LINE} caractères, sans caractère de contrôle ni de mise en forme."
        ),
        Problem::NotADate => "Indiquez une date (AAAA-MM-JJ).".into(),
        Problem::BirthOutOfRange => {
            "Une date de naissance entre le 1er janvier 1900 et aujourd'hui.".into()
        }
        Problem::BirthHalfGiven => "La date et le lieu de naissance vont ensemble.".into(),
        Problem::Siren => "Un SIREN compte 9 chiffres.".into(),
        Problem::Country => {
            "Un code pays à deux lettres majuscules (ISO 3166-1), par exemple FR.".into()
        }
        Problem::Email => "Une adresse électronique : un nom, @, puis un domaine avec un point.".into(),
        Problem::Iban => "Un IBAN : 2 lettres du pays, 2 chiffres de contrôle, puis le compte (la clé doit être juste).".into(),
        Problem::Bic => "Un BIC compte 8 ou 11 lettres ou chiffres.".into(),
        Problem::BankHalfGiven => "L'IBAN et le BIC vont ensemble.".into(),
        Problem::Whole(_) => {
            "Ces données ne sont pas valides dans leur ensemble : vérifiez les dates et les longueurs.".into()
        }
    }
}

/// A person read from the form's fields ([`person_fields::read`]):
/// `natural` says which identity; `before`, the version it corrects (its
/// statements are kept, and its consent keeps its dates: ticking the box
/// gives it today, clearing it withdraws it today). `None` when a field is
/// wrong (each said next to it).
pub fn read(
    state: &mut FormState,
    natural: bool,
    before: Option<&Person>,
    today: NaiveDate,
) -> Option<Person> {
    let text = |name: &str| Some(state.text(name).to_owned()).filter(|t| !t.is_empty());
    let mut person = match person_fields::read(text, natural, today) {
        Ok(person) => person,
        Err(errors) => {
            for e in errors {
                tracing::info!(field = e.field, problem = ?e.problem, "a person's field refused");
                state.field_error(e.field, french(&e.problem));
            }
            return None;
        }
    };
    let consented = state.text("electronic_convocation") == "oui";
    let consent = before.and_then(|p| p.consents.electronic_convocation.clone());
    person.consents.electronic_convocation = match (consent, consented) {
        // Given before and standing, or withdrawn before: kept as it is.
        (Some(c), true) if c.withdrawn_on.is_none() => Some(c),
        (Some(c), false) if c.withdrawn_on.is_some() => Some(c),
        (Some(c), false) => Some(Consent {
            withdrawn_on: Some(today.max(c.given_on)),
            ..c
        }),
        (_, true) => Some(Consent {
            given_on: today,
            withdrawn_on: None,
        }),
        (None, false) => None,
    };
    person.statements = before.map(|p| p.statements.clone()).unwrap_or_default();
    Some(person)
}

/// The data in force, as a list of terms.
pub fn shown(in_force: &InForce) -> Markup {
    shown_person(
        &in_force.person,
        in_force.recorded_at,
        &in_force.commitment,
        true,
    )
}

/// A person's version in force, recorded at `recorded_at` under
/// `commitment`; `holder`: with what only a holder gives (a bank account,
/// the consent to electronic convocations).
pub fn shown_person(
    p: &Person,
    recorded_at: DateTime<Utc>,
    commitment: &str,
    holder: bool,
) -> Markup {
    let consent = p.consents.electronic_convocation.as_ref();
    html! {
        dl.identity {
            @match &p.identity {
                Identity::Natural { family_name, given_names, birth } => {
                    dt { "Personne" } dd { "physique" }
                    dt { "Nom" } dd { (family_name) }
                    dt { "Prénoms" } dd { (given_names) }
                    @if let Some(b) = birth {
                        dt { "Naissance" } dd { "le " (format::date(b.date)) " à " (b.place) }
                    }
                }
                Identity::Legal { name, legal_form, siren, representative } => {
                    dt { "Personne" } dd { "morale" }
                    dt { "Dénomination" } dd { (name) }
                    dt { "Forme juridique" } dd { (legal_form) }
                    dt { "SIREN" } dd { (siren.as_ref().map_or("—".to_owned(), ToString::to_string)) }
                    dt { "Représentant légal" } dd { (representative) }
                }
            }
            dt { "Adresse" }
            dd {
                @for l in &p.address.lines { (l) br; }
                (p.address.postal_code) " " (p.address.city) ", " (p.address.country)
            }
            dt { "Adresse électronique" } dd { (p.email.as_ref().map_or("—".to_owned(), ToString::to_string)) }
            dt { "Résidence fiscale" } dd { (p.tax_residence) }
            @if holder {
                dt { "Compte bancaire" }
                dd {
                    @match &p.bank_account {
                        Some(b) => { "IBAN " (b.iban) ", BIC " (b.bic) }
                        None => "—",
                    }
                }
                dt { "Convocation électronique" }
                dd {
                    @match consent {
                        Some(c) => {
                            "acceptée le " (format::date(c.given_on))
                            @if let Some(w) = c.withdrawn_on { ", retirée le " (format::date(w)) }
                        }
                        None => "non (convocation par courrier)",
                    }
                }
            }
            @for s in &p.statements {
                dt { (statement_kind(s.kind)) }
                dd { "pour " (s.year) ", signée le " (format::date(s.dated)) }
            }
            dt { "Version en vigueur" }
            dd { "enregistrée le " (format::datetime(recorded_at)) br; small { "empreinte au registre : " code { (commitment) } } }
        }
    }
}

fn statement_kind(kind: StatementKind) -> &'static str {
    match kind {
        StatementKind::WithholdingExemption => "Demande de dispense du prélèvement à la source",
        StatementKind::TaxResidenceCertificate => "Attestation de résidence fiscale",
        StatementKind::MembersWithholding => {
            "Demande du club de retenir à la source pour ses membres"
        }
    }
}

/// The path's holder (the route's rule let the session see them: the
/// secretary, or the shareholder whose token acts for them).
fn holder_of(path: &HolderPath) -> Result<HolderId, WebError> {
    HolderId::new(path.holder.as_str()).map_err(|_| WebError::NotFound)
}

/// The holder's kind (natural or legal person) and whether they are in the
/// register at all (404 if not).
async fn kind_of(farm: &Farm, holder: &HolderId) -> Result<HolderKind, WebError> {
    projected(&farm.runtime, |p| {
        p.cap_table.fold().holder(holder).map(|h| h.kind)
    })
    .await?
    .ok_or(WebError::NotFound)
}

async fn identity_page(
    web: &Web,
    farm: &Farm,
    me: &SignedIn,
    holder: &HolderId,
    sent: Option<FormState>,
    status: StatusCode,
) -> PageResult {
    let kind = kind_of(farm, holder).await?;
    let principal = &me.session.principal;
    let own = principal.holder.as_ref() == Some(holder);
    let purpose = if own {
        "the holder's own identity page"
    } else {
        "the secretary's identity page"
    };
    let vault = vault(web)?;
    let in_force = vault
        .read(&farm.runtime, holder, &reader(principal, purpose))
        .await?;
    let erased = projected(&farm.runtime, |p| {
        p.cap_table.fold().identity_erased(holder)
    })
    .await?;
    let labels: Vec<(&str, &str)> = LABELS.to_vec();
    let top = messages_of(sent.as_ref(), &labels);
    let view = crate::layout::state_of(sent.as_ref(), IDENTITY_FORM);
    let path = farm.path(&format!("/associes/{holder}/identite"));
    let title = if own {
        "Mon identité".to_owned()
    } else {
        format!("Identité de {holder}")
    };
    let body = html! {
        h1 { (title) }
        (errors_box("Les données n'ont pas été enregistrées", &top))
        p.lead {
            "Ces données sont gardées chiffrées dans le coffre des identités, à côté du registre : "
            "le registre ne garde que l'identifiant " code { (holder) } " et une empreinte de chaque version. "
            "Chaque consultation est consignée (qui, quand, pour qui)."
        }
        @if erased {
            p { "L'identité de cet associé a été effacée : le registre ne le montre plus que par son identifiant." }
        } @else {
            section aria-labelledby="en-vigueur" {
                h2 #en-vigueur { "Données en vigueur" }
                @match &in_force {
                    Some(f) => (shown(f)),
                    None => p { "Aucune identité n'est encore enregistrée pour cet associé." },
                }
                p { a href=(format!("{path}.json")) download { "Télécharger tout ce qui est gardé (JSON : chaque version et chaque consultation)" } }
            }
            form.card method="post" action=(path) {
                h2 #corriger { @if in_force.is_some() { "Corriger" } @else { "Enregistrer" } }
                (form_guard(&me.session))
                (fields(view, IDENTITY_FORM, Some(natural(kind)), in_force.as_ref().map(|f| &f.person)))
                button type="submit" { "Enregistrer la nouvelle version" }
            }
        }
        @if own { p { a href=(farm.path("/espace")) { "Retour à mon espace" } } }
        @else if principal.role == Role::Secretary { p { a href=(farm.path("/secretariat")) { "Retour au secrétariat" } } }
    };
    farm.page(status, &title, me.shown(), body)
}

/// `GET /parcs/{ledger}/associes/{holder}/identite`.
pub async fn show(OnFarm(web, farm, me): OnFarm, Params(path): Params<HolderPath>) -> PageResult {
    let holder = holder_of(&path)?;
    identity_page(&web, &farm, &me, &holder, None, StatusCode::OK).await
}

/// `GET /parcs/{ledger}/associes/{holder}/identite.json`: everything kept
/// (a GDPR access request), as the API's export.
pub async fn export(OnFarm(web, farm, me): OnFarm, Params(path): Params<HolderPath>) -> PageResult {
    let holder = holder_of(&path)?;
    kind_of(&farm, &holder).await?;
    let export = vault(&web)?
        .export(
            &farm.runtime,
            &holder,
            &reader(&me.session.principal, "access request through the pages"),
        )
        .await?;
    let body = serde_json::to_vec_pretty(&export).map_err(|_| WebError::Internal)?;
    let name = format!("{}-{holder}-donnees.json", farm.id);
    Ok(download(body, "application/json", &name))
}

/// `POST /parcs/{ledger}/associes/{holder}/identite`: a new version.
pub async fn correct(Params(path): Params<HolderPath>, post: Post) -> PageResult {
    let holder = holder_of(&path)?;
    let kind = kind_of(&post.farm, &holder).await?;
    let web = post.web().clone();
    let vault = vault(&web)?;
    let today = windledger_app::today();
    let mut state = FormState::new(IDENTITY_FORM, post.fields.clone());
    // The version it corrects: read to keep its statements and consent
    // dates, the read logged as the page's.
    let before = vault
        .read(
            &post.farm.runtime,
            &holder,
            &reader(&post.me.session.principal, "a correction through the pages"),
        )
        .await?;
    let person = read(
        &mut state,
        natural(kind),
        before.as_ref().map(|f| &f.person),
        today,
    );
    let to = post.farm.path(&format!("/associes/{holder}/identite"));
    let action = person.map(|person| {
        let metadata = post.metadata("");
        let runtime = post.farm.runtime.clone();
        let holder = holder.clone();
        async move {
            vault
                .record(&runtime, &holder, person, None, metadata)
                .await
                .map_err(windledger_api::problem::Problem::from)
        }
    });
    post.settle(state, action, back_to(to, NEW_VERSION), async |sent| {
        let (farm, me) = (&post.farm, &post.me);
        identity_page(&web, farm, me, &holder, Some(sent), SENT_BACK).await
    })
    .await
}

/// The identity page of `holder`.
pub fn link(farm: &Farm, holder: &str) -> String {
    farm.path(&format!("/associes/{holder}/identite"))
}
