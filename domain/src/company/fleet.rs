//! The farm's turbines over its life: those incorporated, those added by
//! resolution then commissioned, repowered and decommissioned.
//!
//! Each installation is a [`Turbine`]: a repowered turbine keeps its id and
//! place, and is two installations, the first left service the day the
//! second entered it. An installation once in service stays in the list
//! (with its decommissioning date), so that the turbines on any past date
//! can be read from it: IFER on 1 January, production in a month.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::CompanyError;
use super::events::CompanyEvent;
use super::types::{PlannedTurbine, Turbine};
use crate::types::{CommuneCode, Kilowatts, TurbineId};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fleet {
    /// Every installation, in the order it entered the books.
    installed: Vec<Turbine>,
    /// Added by resolution, not commissioned yet.
    planned: BTreeMap<TurbineId, PlannedTurbine>,
}

impl Fleet {
    pub fn incorporated(turbines: &[Turbine]) -> Self {
        Self {
            installed: turbines.to_vec(),
            planned: BTreeMap::new(),
        }
    }

    /// Every installation, decommissioned ones included.
    pub fn installations(&self) -> &[Turbine] {
        &self.installed
    }

    /// The turbines decided and not yet commissioned.
    pub fn planned(&self) -> &BTreeMap<TurbineId, PlannedTurbine> {
        &self.planned
    }

    /// The latest installation of `turbine`.
    fn latest(&self, turbine: &TurbineId) -> Option<&Turbine> {
        self.installed.iter().rev().find(|t| &t.id == turbine)
    }

    /// A new turbine's id is new.
    pub(super) fn check_new(&self, turbine: &TurbineId) -> Result<(), CompanyError> {
        if self.latest(turbine).is_some() || self.planned.contains_key(turbine) {
            return Err(CompanyError::DuplicateTurbine(turbine.clone()));
        }
        Ok(())
    }

    /// A turbine added may be commissioned once.
    pub(super) fn check_commissioning(&self, turbine: &TurbineId) -> Result<(), CompanyError> {
        if self.planned.contains_key(turbine) {
            return Ok(());
        }
        match self.latest(turbine) {
            Some(_) => Err(CompanyError::TurbineAlreadyCommissioned(turbine.clone())),
            None => Err(CompanyError::UnknownTurbine(turbine.clone())),
        }
    }

    /// Repowering or decommissioning acts on a turbine in service on `on`
    /// and commissioned before it. The installation in service.
    pub(super) fn in_service(
        &self,
        turbine: &TurbineId,
        on: NaiveDate,
    ) -> Result<&Turbine, CompanyError> {
        let latest = self
            .latest(turbine)
            .ok_or_else(|| CompanyError::UnknownTurbine(turbine.clone()))?;
        if latest.commissioned_on < on && latest.in_service_on(on) {
            Ok(latest)
        } else {
            Err(CompanyError::TurbineNotInService {
                turbine: turbine.clone(),
                on,
            })
        }
    }

    /// The fleet after `event` (any event of the company stream; those
    /// not about turbines leave it as it is).
    pub fn apply(&mut self, event: &CompanyEvent) {
        match event {
            CompanyEvent::Incorporated { company, .. } => {
                *self = Self::incorporated(&company.turbines);
            }
            CompanyEvent::TurbineAdded {
                turbine,
                commune,
                rated_power,
                ..
            } => {
                self.planned.insert(
                    turbine.clone(),
                    PlannedTurbine {
                        commune: commune.clone(),
                        rated_power: *rated_power,
                    },
                );
            }
            CompanyEvent::TurbineCommissioned {
                turbine,
                effective_date,
            } => {
                if let Some(planned) = self.planned.remove(turbine) {
                    self.install(
                        turbine,
                        planned.commune,
                        planned.rated_power,
                        *effective_date,
                    );
                }
            }
            CompanyEvent::TurbineRepowered {
                turbine,
                rated_power,
                effective_date,
                ..
            } => {
                if let Some(commune) = self.retire(turbine, *effective_date) {
                    self.install(turbine, commune, *rated_power, *effective_date);
                }
            }
            CompanyEvent::TurbineDecommissioned {
                turbine,
                effective_date,
                ..
            } => {
                self.retire(turbine, *effective_date);
            }
            _ => {}
        }
    }

    fn install(
        &mut self,
        turbine: &TurbineId,
        commune: CommuneCode,
        rated_power: Kilowatts,
        on: NaiveDate,
    ) {
        self.installed.push(Turbine {
            id: turbine.clone(),
            commune,
            rated_power,
            commissioned_on: on,
            decommissioned_on: None,
        });
    }

    /// The installation of `turbine` in service leaves it on `on`; its
    /// commune.
    fn retire(&mut self, turbine: &TurbineId, on: NaiveDate) -> Option<CommuneCode> {
        let latest = self
            .installed
            .iter_mut()
            .rev()
            .find(|t| &t.id == turbine && t.decommissioned_on.is_none())?;
        latest.decommissioned_on = Some(on);
        Some(latest.commune.clone())
    }
}
