//! The farm's turbines over its life, on the secretary's page
//! `/parcs/{ledger}/secretariat/eoliennes`: every installation with its
//! commissioning and decommissioning dates, the turbines decided and not
//! yet commissioned, and the form that records an addition, a
//! commissioning, a repowering or a decommissioning (docs/charter.md).

use axum::http::StatusCode;
use chrono::NaiveDate;
use maud::html;
use windledger_domain::company::{CompanyCommand, Fleet};
use windledger_domain::types::{CommuneCode, Kilowatts, ResolutionId, TurbineId};
use windledger_projections::cap_table::AsOf;

use crate::extract::{Farm, Post, SignedIn};
use crate::layout::{
    Col, Field, FormState, errors_box, form_guard, messages_of, select, state_of, table,
};
use crate::secretary::date;
use crate::{PageResult, format, projected};
use windledger_app::command::Command;

const FORM: &str = "eolienne";

/// The works the form records: (value, label).
const WORKS: [(&str, &str); 4] = [
    ("ajout", "Ajout d'une éolienne (décidé par une résolution)"),
    ("mise_en_service", "Mise en service d'une éolienne ajoutée"),
    (
        "renouvellement",
        "Renouvellement (repowering, décidé par une résolution)",
    ),
    ("demantelement", "Démantèlement (décidé par une résolution)"),
];

const LABELS: [(&str, &str); 6] = [
    ("operation", "Opération"),
    ("eolienne", "Éolienne"),
    ("commune", "Commune"),
    ("puissance", "Puissance nominale"),
    ("resolution", "Résolution"),
    ("date_effet", "Date d'effet"),
];

/// The turbines page + `suffix`.
pub fn link(farm: &Farm, suffix: &str) -> String {
    farm.path(&format!("/secretariat/eoliennes{suffix}"))
}

async fn page(
    farm: &Farm,
    me: &SignedIn,
    sent: Option<FormState>,
    status: StatusCode,
) -> PageResult {
    let session = &me.session;
    let fleet: Fleet = projected(&farm.runtime, |p| p.cap_table.fold().fleet(AsOf::Latest)).await?;
    let top = messages_of(sent.as_ref(), &LABELS);
    let view = state_of(sent.as_ref(), FORM);
    let works: Vec<(String, String)> = WORKS
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
    let today = windledger_app::today();
    let title = "Éoliennes du parc";
    let body = html! {
        h1 { (title) }
        (errors_box("L'opération n'a pas été enregistrée", &top))
        p.lead {
            "Les éoliennes au fil de la vie du parc : chaque machine avec sa date de mise en service et, une fois sortie du service, la date de sa sortie. "
            "L'IFER d'une année est dû pour les éoliennes en service le 1er janvier, à la puissance qu'elles avaient ce jour-là."
        }
        p { a href=(farm.path("/secretariat")) { "Retour au secrétariat" } }
        @if fleet.installations().is_empty() {
            p { "Aucune éolienne n'est enregistrée." }
        } @else {
            (table(
                "Éoliennes du parc et leurs mises en service",
                &[Col::Text("Éolienne"), Col::Text("Commune"), Col::Num("Puissance"), Col::Text("Mise en service"), Col::Text("Sortie du service")],
                html! {
                    @for t in fleet.installations() {
                        tr {
                            th scope="row" { (t.id) }
                            td { (t.commune) }
                            td.num { (format::int(t.rated_power.get())) " kW" }
                            td { (format::date(t.commissioned_on)) }
                            td { @match t.decommissioned_on { Some(d) => (format::date(d)), None => "en service" } }
                        }
                    }
                },
            ))
        }
        @if !fleet.planned().is_empty() {
            section aria-labelledby="decidees" {
                h2 #decidees { "Décidées, pas encore en service" }
                ul {
                    @for (id, t) in fleet.planned() {
                        li { (id) " : " (format::int(t.rated_power.get())) " kW, commune " (t.commune) }
                    }
                }
            }
        }
        form.card method="post" action=(link(farm, "")) {
            h2 #travaux { "Enregistrer une opération sur une éolienne" }
            (form_guard(session))
            (select(view, FORM, "operation", "Opération", &works, "ajout", true))
            (Field::new(view, FORM, "eolienne", "Éolienne").required().hint("Son identifiant, par exemple T11.").render())
            (Field::new(view, FORM, "commune", "Commune (code INSEE)").hint("Pour un ajout : la commune du territoire où elle se dresse, par exemple 42026.").render())
            (Field::new(view, FORM, "puissance", "Puissance nominale (kW)").hint("Pour un ajout ou un renouvellement : un entier, par exemple 4200.").render())
            (Field::new(view, FORM, "resolution", "Résolution").hint("Sauf pour une mise en service : la résolution qui décide ces travaux sur cette éolienne, par exemple age-2026.3.").render())
            (Field::new(view, FORM, "date_effet", "Date d'effet").kind("date").required().default_value(view, &today.to_string()).render())
            button type="submit" { "Enregistrer l'opération" }
        }
    };
    farm.page(status, title, me.shown(), body)
}

/// `GET /parcs/{ledger}/secretariat/eoliennes`.
pub async fn show(farm: Farm, me: SignedIn) -> PageResult {
    page(&farm, &me, None, StatusCode::OK).await
}

/// `POST /parcs/{ledger}/secretariat/eoliennes`.
pub async fn record(post: Post) -> PageResult {
    let mut state = FormState::new(FORM, post.fields.clone());
    let works = state.read("operation", "Choisissez une opération.", |v| {
        WORKS
            .iter()
            .find(|(value, _)| *value == v)
            .map(|(value, _)| *value)
    });
    let turbine = state.read_required(
        "eolienne",
        "Ce champ est obligatoire.",
        "Identifiant invalide : lettres, chiffres, - _ .",
        |v| TurbineId::new(v).ok(),
    );
    let needs = |field: &str| {
        matches!(
            (works, field),
            (Some("ajout"), "commune" | "puissance" | "resolution")
                | (Some("renouvellement"), "puissance" | "resolution")
                | (Some("demantelement"), "resolution")
        )
    };
    let (commune_needed, power_needed, resolution_needed) =
        (needs("commune"), needs("puissance"), needs("resolution"));
    let commune = optional(
        &mut state,
        "commune",
        commune_needed,
        "Un code INSEE compte 5 caractères : 5 chiffres, ou 2A/2B puis 3 chiffres.",
        |v| CommuneCode::new(v).ok(),
    );
    let power = optional(
        &mut state,
        "puissance",
        power_needed,
        "Indiquez la puissance en kW, un entier d'au moins 1.",
        |v| v.parse::<u32>().ok().and_then(|p| Kilowatts::new(p).ok()),
    );
    let resolution = optional(
        &mut state,
        "resolution",
        resolution_needed,
        "Identifiant de résolution invalide (par exemple age-2026.3).",
        |v| ResolutionId::new(v).ok(),
    );
    let effective_date: Option<NaiveDate> = date(&mut state, "date_effet");
    let command = match (works, turbine, effective_date) {
        (Some(works), Some(turbine), Some(effective_date)) => {
            command(works, turbine, commune, power, resolution, effective_date)
        }
        _ => None,
    };
    let company = post.farm.runtime.company_id();
    let post = &post;
    let action = command.map(|command| async move {
        post.execute("", &company, Command::Company(Box::new(command)))
            .await
    });
    let (to, success) = (link(&post.farm, ""), "L'opération est enregistrée");
    crate::settle_on(post, state, action, to, success, page).await
}

/// A field the operation needs (an error if empty) or ignores (read as
/// `None`): `Some(None)` when it is not needed.
fn optional<T>(
    state: &mut FormState,
    name: &str,
    needed: bool,
    invalid: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> Option<Option<T>> {
    if !needed {
        return Some(None);
    }
    state
        .read_required(
            name,
            "Ce champ est obligatoire pour cette opération.",
            invalid,
            parse,
        )
        .map(Some)
}

fn command(
    works: &str,
    turbine: TurbineId,
    commune: Option<Option<CommuneCode>>,
    power: Option<Option<Kilowatts>>,
    resolution: Option<Option<ResolutionId>>,
    effective_date: NaiveDate,
) -> Option<CompanyCommand> {
    let (commune, power, resolution) = (commune?, power?, resolution?);
    Some(match works {
        "ajout" => CompanyCommand::AddTurbine {
            turbine,
            commune: commune?,
            rated_power: power?,
            resolution: resolution?,
            effective_date,
        },
        "mise_en_service" => CompanyCommand::CommissionTurbine {
            turbine,
            effective_date,
        },
        "renouvellement" => CompanyCommand::RepowerTurbine {
            turbine,
            rated_power: power?,
            resolution: resolution?,
            effective_date,
        },
        "demantelement" => CompanyCommand::DecommissionTurbine {
            turbine,
            resolution: resolution?,
            effective_date,
        },
        _ => return None,
    })
}
