//! Values that commands and events of the company stream share.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::money::Euros;
use crate::types::{
    CommuneCode, HolderId, Kilowatts, LegalName, ShareClassId, ShareCount, Siren, TurbineId,
};

/// What the articles of incorporation (statuts constitutifs) and the
/// registration say about the company, besides its charter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Incorporation {
    pub legal_name: LegalName,
    pub legal_form: LegalForm,
    pub registration_number: Siren,
    /// Date d'immatriculation; no movement may take effect before it.
    pub formation_date: NaiveDate,
    /// Capital social at formation; the initial subscription must match it.
    pub share_capital: Euros,
    /// Territoire: the communes that count as local.
    pub territory: BTreeSet<CommuneCode>,
    pub turbines: Vec<Turbine>,
}

/// Forme juridique.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LegalForm {
    /// Société par actions simplifiée.
    Sas,
    /// Société anonyme.
    Sa,
    /// Société d'économie mixte locale.
    Sem,
    /// Société coopérative d'intérêt collectif.
    Scic,
    /// Société à responsabilité limitée.
    Sarl,
}

/// Éolienne.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Turbine {
    pub id: TurbineId,
    /// Where it stands: IFER and rents go to this commune.
    pub commune: CommuneCode,
    pub rated_power: Kilowatts,
    /// Date de mise en service: decides the IFER split (2019 onwards).
    pub commissioned_on: NaiveDate,
    /// Date it left service (decommissioned, or replaced when repowered);
    /// absent while in service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decommissioned_on: Option<NaiveDate>,
}

impl Turbine {
    /// In service at the end of `on`: commissioned that day or before, and
    /// not decommissioned by then.
    pub fn in_service_on(&self, on: NaiveDate) -> bool {
        self.commissioned_on <= on && self.decommissioned_on.is_none_or(|d| d > on)
    }

    /// In service at some time from `first` to `last`.
    pub fn in_service_between(&self, first: NaiveDate, last: NaiveDate) -> bool {
        self.commissioned_on <= last && self.decommissioned_on.is_none_or(|d| d > first)
    }
}

/// A turbine decided (added by resolution) and not yet commissioned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct PlannedTurbine {
    pub commune: CommuneCode,
    pub rated_power: Kilowatts,
}

/// Nature de l'associé.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum HolderKind {
    /// Personne physique.
    Individual,
    Association,
    /// Club d'investisseurs (e.g. a CIGALES).
    InvestmentClub,
    /// Collectivité territoriale or its grouping (département, région,
    /// syndicat), where neither `commune` nor `epci` says it better.
    LocalAuthority,
    /// A commune.
    Commune,
    /// Établissement public de coopération intercommunale (communauté de
    /// communes, d'agglomération...).
    Epci,
    /// Société d'économie mixte.
    Sem,
    /// Société commerciale (e.g. the industrial partner).
    Company,
    /// Coopérative (e.g. a SCIC or an energy cooperative).
    Cooperative,
    /// Fonds d'investissement: a citizen fund (e.g. Énergie Partagée
    /// Investissement), a regional fund or another investment fund.
    Fund,
}

/// Souscription: shares issued to one holder at one price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Subscription {
    pub holder: HolderId,
    pub class: ShareClassId,
    pub count: ShareCount,
    /// Prix d'émission: nominal value plus any share premium; never below
    /// nominal value (no issue below par).
    pub price_per_share: Euros,
}

/// Whose shares a cancellation takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum CancellationSource {
    /// Actions auto-détenues, repurchased earlier.
    Treasury,
    /// A holder's shares, e.g. a cooperative member's withdrawal (retrait)
    /// or a reduction to absorb losses (then without reimbursement).
    Holder {
        holder: HolderId,
        reimbursement_per_share: Option<Euros>,
    },
}
