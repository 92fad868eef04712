//! The names of the territory's places (noms des lieux): communes by INSEE
//! code, EPCIs (intercommunalités) by SIREN, départements by code.
//!
//! They are public facts, not personal data, and the ledger records them so
//! that the pages can say "Burdignes" rather than "Commune 42026". A later
//! naming adds names or replaces the ones it repeats; a name is never
//! removed (the places of a ledger's history keep one).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::error::CompanyError;
use crate::types::{CommuneCode, Siren};

/// Names by code, as the pages show them: a commune's name
/// ("Saint-Sauveur-en-Rue"), an EPCI's or a département's in full
/// ("Communauté de communes des Monts du Pilat", "Département de la
/// Loire"). A command names some places; the read side keeps the latest
/// name of each (see [`PlaceNames::merge`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PlaceNames {
    /// Communes by code officiel géographique (INSEE).
    #[serde(default)]
    pub communes: BTreeMap<CommuneCode, String>,
    /// Établissements publics de coopération intercommunale by SIREN.
    #[serde(default)]
    pub epcis: BTreeMap<Siren, String>,
    /// Départements by code (`42`, `2A`, `974`).
    #[serde(default)]
    pub departements: BTreeMap<String, String>,
}

impl PlaceNames {
    /// Whether no place is named.
    pub fn is_empty(&self) -> bool {
        self.communes.is_empty() && self.epcis.is_empty() && self.departements.is_empty()
    }

    /// Takes the names `newer` gives, keeping the others.
    pub fn merge(&mut self, newer: &PlaceNames) {
        self.communes
            .extend(newer.communes.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.epcis
            .extend(newer.epcis.iter().map(|(k, v)| (k.clone(), v.clone())));
        self.departements.extend(
            newer
                .departements
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
    }

    pub fn commune(&self, code: &CommuneCode) -> Option<&str> {
        self.communes.get(code).map(String::as_str)
    }

    pub fn epci(&self, siren: &Siren) -> Option<&str> {
        self.epcis.get(siren).map(String::as_str)
    }

    pub fn departement(&self, code: &str) -> Option<&str> {
        self.departements.get(code).map(String::as_str)
    }
}

/// Which places a naming may name: the company knows the communes of its
/// territory and its holders' communes (`residences`), and the départements
/// of those communes. It knows no EPCI (the financial year names the one
/// IFER goes to), so any SIREN may be named. The rule keeps a mistyped code
/// from naming a place nothing in the ledger refers to. Names are checked
/// as text where the command enters (`check_input`), not here.
pub(super) fn check_known<'a>(
    places: &PlaceNames,
    territory: impl Iterator<Item = &'a CommuneCode>,
    residences: impl Iterator<Item = &'a CommuneCode>,
) -> Result<(), CompanyError> {
    if places.is_empty() {
        return Err(CompanyError::NoPlaceNamed);
    }
    let known: BTreeSet<&CommuneCode> = territory.chain(residences).collect();
    if let Some(unknown) = places.communes.keys().find(|c| !known.contains(c)) {
        return Err(CompanyError::UnknownCommune(unknown.clone()));
    }
    let departements: BTreeSet<&str> = known.iter().map(|c| c.departement()).collect();
    if let Some(unknown) = places
        .departements
        .keys()
        .find(|d| !departements.contains(d.as_str()))
    {
        return Err(CompanyError::UnknownDepartement(unknown.clone()));
    }
    Ok(())
}
