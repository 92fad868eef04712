//! What the company stream records.
//!
//! Each event holds everything a replay needs: the charter in full, the
//! resolution relied on (kind, purpose, date) and the prices. Holders appear
//! by pseudonymous id, college and commune only.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::places::PlaceNames;
use super::types::{CancellationSource, HolderKind, Incorporation, Subscription};
use crate::charter::{Charter, LockUpExemption};
use crate::domain_event::domain_event;
use crate::money::Euros;
use crate::resolution::AdoptedResolution;
use crate::types::{
    CollegeId, CommuneCode, HolderId, IdentityCommitment, Kilowatts, ShareClassId, ShareCount,
    TurbineId,
};

/// Shares moved from one registered holder to another, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShareTransfer {
    pub from: HolderId,
    pub to: HolderId,
    pub class: ShareClassId,
    pub count: ShareCount,
    pub price_per_share: Option<Euros>,
    pub approval: Option<AdoptedResolution>,
    pub effective_date: NaiveDate,
    /// The charter's exemption from a lock-up the transfer fell under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exemption: Option<LockUpExemption>,
}

/// A payload names itself: `{"<event type>": {...fields}}` (serde's
/// external tagging, as for every event enum of the domain). The name is
/// the only key, so decoding reads the fields once, straight into the
/// event, whatever order the store's canonical JSON puts keys in; an
/// internal `"type"` tag made serde buffer the whole payload first, which
/// was most of the projections' rebuild time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CompanyEvent {
    #[serde(rename = "CompanyIncorporated")]
    Incorporated {
        company: Incorporation,
        charter: Charter,
    },
    CharterAmended {
        charter: Charter,
        resolution: AdoptedResolution,
        effective_date: NaiveDate,
    },
    ShareholderAdmitted {
        holder: HolderId,
        kind: HolderKind,
        college: CollegeId,
        commune: CommuneCode,
        effective_date: NaiveDate,
        /// An investment club's number of members, when given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        members: Option<u32>,
    },
    ShareholderCollegeChanged {
        holder: HolderId,
        from: CollegeId,
        to: CollegeId,
        effective_date: NaiveDate,
    },
    ClubMembersChanged {
        holder: HolderId,
        members: u32,
        effective_date: NaiveDate,
    },
    ShareholderResidenceChanged {
        holder: HolderId,
        commune: CommuneCode,
        effective_date: NaiveDate,
    },
    ShareholderExited {
        holder: HolderId,
        effective_date: NaiveDate,
    },
    SharesIssued {
        subscriptions: Vec<Subscription>,
        /// None: the initial subscription at incorporation.
        resolution: Option<AdoptedResolution>,
        effective_date: NaiveDate,
    },
    /// A newtype variant: its payload, `{"SharesTransferred": {...}}`, is
    /// the same as a struct variant's.
    SharesTransferred(ShareTransfer),
    SharesRepurchased {
        holder: HolderId,
        class: ShareClassId,
        count: ShareCount,
        price_per_share: Euros,
        resolution: AdoptedResolution,
        effective_date: NaiveDate,
    },
    SharesCancelled {
        source: CancellationSource,
        class: ShareClassId,
        count: ShareCount,
        resolution: AdoptedResolution,
        effective_date: NaiveDate,
    },
    TurbineAdded {
        turbine: TurbineId,
        commune: CommuneCode,
        rated_power: Kilowatts,
        resolution: AdoptedResolution,
        effective_date: NaiveDate,
    },
    TurbineCommissioned {
        turbine: TurbineId,
        effective_date: NaiveDate,
    },
    /// The installation in service leaves service on the effective date and
    /// its replacement, of `rated_power`, enters it.
    TurbineRepowered {
        turbine: TurbineId,
        rated_power: Kilowatts,
        resolution: AdoptedResolution,
        effective_date: NaiveDate,
    },
    TurbineDecommissioned {
        turbine: TurbineId,
        resolution: AdoptedResolution,
        effective_date: NaiveDate,
    },
    /// Names of places, public facts: they add to or replace the names
    /// recorded before.
    PlacesNamed {
        places: PlaceNames,
        effective_date: NaiveDate,
    },
    /// The holder's identity in the vault changed (admission, correction):
    /// the salted commitment of the new data, never the data.
    IdentityRecorded {
        holder: HolderId,
        commitment: IdentityCommitment,
        effective_date: NaiveDate,
    },
    /// The holder's personal data was erased from the vault, the retention
    /// period after their exit having run: the id stays in every event.
    IdentityErased {
        holder: HolderId,
        effective_date: NaiveDate,
    },
}

impl CompanyEvent {
    /// Stable names: stored in the log's `event_type` column and used as the
    /// payload's only key. Never rename one; add a version instead.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Incorporated { .. } => "CompanyIncorporated",
            Self::CharterAmended { .. } => "CharterAmended",
            Self::ShareholderAdmitted { .. } => "ShareholderAdmitted",
            Self::ShareholderCollegeChanged { .. } => "ShareholderCollegeChanged",
            Self::ShareholderResidenceChanged { .. } => "ShareholderResidenceChanged",
            Self::ClubMembersChanged { .. } => "ClubMembersChanged",
            Self::ShareholderExited { .. } => "ShareholderExited",
            Self::SharesIssued { .. } => "SharesIssued",
            Self::SharesTransferred(_) => "SharesTransferred",
            Self::SharesRepurchased { .. } => "SharesRepurchased",
            Self::SharesCancelled { .. } => "SharesCancelled",
            Self::PlacesNamed { .. } => "PlacesNamed",
            Self::TurbineAdded { .. } => "TurbineAdded",
            Self::TurbineCommissioned { .. } => "TurbineCommissioned",
            Self::TurbineRepowered { .. } => "TurbineRepowered",
            Self::TurbineDecommissioned { .. } => "TurbineDecommissioned",
            Self::IdentityRecorded { .. } => "IdentityRecorded",
            Self::IdentityErased { .. } => "IdentityErased",
        }
    }

    /// Effective date: the civil date the fact takes effect.
    pub fn effective_date(&self) -> NaiveDate {
        match self {
            Self::Incorporated { company, .. } => company.formation_date,
            Self::CharterAmended { effective_date, .. }
            | Self::ShareholderAdmitted { effective_date, .. }
            | Self::ShareholderCollegeChanged { effective_date, .. }
            | Self::ShareholderResidenceChanged { effective_date, .. }
            | Self::ClubMembersChanged { effective_date, .. }
            | Self::ShareholderExited { effective_date, .. }
            | Self::SharesIssued { effective_date, .. }
            | Self::SharesRepurchased { effective_date, .. }
            | Self::SharesCancelled { effective_date, .. }
            | Self::PlacesNamed { effective_date, .. }
            | Self::TurbineAdded { effective_date, .. }
            | Self::TurbineCommissioned { effective_date, .. }
            | Self::TurbineRepowered { effective_date, .. }
            | Self::TurbineDecommissioned { effective_date, .. }
            | Self::IdentityRecorded { effective_date, .. }
            | Self::IdentityErased { effective_date, .. } => *effective_date,
            Self::SharesTransferred(t) => t.effective_date,
        }
    }
}

/// Schema version of every company event, as an integer string.
pub const COMPANY_EVENT_VERSION: &str = "1";

domain_event!(CompanyEvent, COMPANY_EVENT_VERSION);
