//! What the meeting and financial-year streams need to know about the
//! company stream: who held which shares on a date, under which charter.
//!
//! The meeting aggregate asks through [`CapTableService`] when it freezes its
//! electoral roll, and records the roll it computed in its event, so replaying
//! a meeting never asks the company stream again.

use std::collections::BTreeMap;
use std::future;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::charter::Charter;
use crate::clock::Clock;
use crate::company::{HolderKind, Turbine};
use crate::money::Euros;
use crate::resolution::{BoxFuture, LookupError};
use crate::types::{CollegeId, CommuneCode, HolderId, ShareClassId, ShareCount};

/// The register and the holdings as they stood at the end of a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapTableSnapshot {
    pub as_of: NaiveDate,
    /// The charter in force on that day.
    pub charter: Charter,
    /// Capital social: shares outstanding (treasury included) x nominal value.
    pub share_capital: Euros,
    /// The farm's turbines: every installation known on that day, those
    /// decommissioned or replaced included.
    pub turbines: Vec<Turbine>,
    /// Holders with at least one share, ordered by holder id.
    pub holders: Vec<HolderPosition>,
}

/// One holder's shares on the snapshot's date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderPosition {
    pub holder: HolderId,
    pub kind: HolderKind,
    pub college: CollegeId,
    /// Commune of residence (or registered office).
    pub commune: CommuneCode,
    /// Only non-zero counts.
    pub shares: BTreeMap<ShareClassId, ShareCount>,
    /// An investment club's number of members, once recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<u32>,
}

/// Answers what the cap table was on a date.
pub trait CapTableService: Send + Sync {
    /// The cap table at the end of `on`. An error if the company did not
    /// exist on that date or the lookup failed.
    fn cap_table<'a>(
        &'a self,
        on: NaiveDate,
    ) -> BoxFuture<'a, Result<CapTableSnapshot, LookupError>>;

    /// The farm's turbines as the company stream knew them at the end of
    /// `on`: every installation, those decommissioned or replaced included
    /// (see [`crate::company::Fleet`]). By default, the cap table's; a
    /// service that can answer without building the cap table does.
    fn turbines<'a>(&'a self, on: NaiveDate) -> BoxFuture<'a, Result<Vec<Turbine>, LookupError>> {
        Box::pin(async move { Ok(self.cap_table(on).await?.turbines) })
    }
}

/// What the meeting and current-account advance aggregates need from
/// outside their streams: the clock, and the cap table on a date (the
/// meeting's roll; the lender's shares on the day of an advance).
#[derive(Clone)]
pub struct CapTableServices {
    /// The instant commands are decided at: an instant or a date later than
    /// it is in the future.
    pub clock: Arc<dyn Clock>,
    pub cap_tables: Arc<dyn CapTableService>,
}

impl CapTableServices {
    pub fn new(clock: impl Clock + 'static, cap_tables: impl CapTableService + 'static) -> Self {
        Self {
            clock: Arc::new(clock),
            cap_tables: Arc::new(cap_tables),
        }
    }
}

/// Snapshots known in advance: the tests' fake. Answers with the latest
/// snapshot on or before the date asked, re-dated to that date.
#[derive(Debug, Clone, Default)]
pub struct KnownCapTables(Vec<CapTableSnapshot>);

impl KnownCapTables {
    pub fn new(snapshots: impl IntoIterator<Item = CapTableSnapshot>) -> Self {
        let mut snapshots: Vec<_> = snapshots.into_iter().collect();
        snapshots.sort_by_key(|s| s.as_of);
        Self(snapshots)
    }
}

impl CapTableService for KnownCapTables {
    fn cap_table<'a>(
        &'a self,
        on: NaiveDate,
    ) -> BoxFuture<'a, Result<CapTableSnapshot, LookupError>> {
        let found = self
            .0
            .iter()
            .rev()
            .find(|s| s.as_of <= on)
            .map(|s| CapTableSnapshot {
                as_of: on,
                ..s.clone()
            })
            .ok_or_else(|| LookupError(format!("no cap table is known on {on}")));
        Box::pin(future::ready(found))
    }
}
