//! What the company secretary asks the company stream to record.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::events::{CompanyEvent, ShareTransfer};
use super::places::PlaceNames;
use super::types::{CancellationSource, HolderKind, Incorporation, Subscription};
use crate::charter::{Charter, LockUpExemption};
use crate::money::Euros;
use crate::same_fields::same_fields;
use crate::types::{
    CollegeId, CommuneCode, HolderId, IdentityCommitment, Kilowatts, ResolutionId, ShareClassId,
    ShareCount, TurbineId,
};

/// Every command but `Incorporate` carries an effective date, which may not
/// be earlier than the latest one already recorded (see [`super::Company`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "command", rename_all = "snake_case", deny_unknown_fields)]
pub enum CompanyCommand {
    /// Immatriculation, with the founding charter (statuts constitutifs).
    Incorporate {
        company: Incorporation,
        charter: Charter,
    },
    /// Modification des statuts, after an adopted resolution.
    AmendCharter {
        charter: Charter,
        resolution: ResolutionId,
        effective_date: NaiveDate,
    },
    /// Inscription d'un associé au registre. With `identity` (the
    /// commitment of their data, sealed in the vault first), the admission
    /// also records it: `ShareholderAdmitted` then `IdentityRecorded`, in
    /// one append. Commands and events written before the vault carry none.
    AdmitShareholder {
        holder: HolderId,
        kind: HolderKind,
        college: CollegeId,
        commune: CommuneCode,
        effective_date: NaiveDate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<IdentityCommitment>,
        /// An investment club's number of members.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        members: Option<u32>,
    },
    /// An investment club's number of members, changed.
    ChangeClubMembers {
        holder: HolderId,
        members: u32,
        effective_date: NaiveDate,
    },
    ChangeCollege {
        holder: HolderId,
        college: CollegeId,
        effective_date: NaiveDate,
    },
    /// Changement de commune de résidence (or of registered office).
    ChangeResidence {
        holder: HolderId,
        commune: CommuneCode,
        effective_date: NaiveDate,
    },
    /// Sortie d'un associé: only once they hold no share.
    RecordExit {
        holder: HolderId,
        effective_date: NaiveDate,
    },
    /// Émission d'actions. Without a resolution: the initial subscription,
    /// which must be the first issuance and match the declared capital.
    IssueShares {
        subscriptions: Vec<Subscription>,
        resolution: Option<ResolutionId>,
        effective_date: NaiveDate,
    },
    /// Cession d'actions between two registered holders.
    TransferShares {
        from: HolderId,
        to: HolderId,
        class: ShareClassId,
        count: ShareCount,
        /// None for a gift or an inheritance.
        price_per_share: Option<Euros>,
        /// Agrément, needed when the charter asks and `to` holds no share.
        approval: Option<ResolutionId>,
        effective_date: NaiveDate,
        /// The exemption from a lock-up the transfer falls under (one the
        /// charter lists); absent for any other transfer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exemption: Option<LockUpExemption>,
    },
    /// Rachat par la société de ses propres actions: they go to treasury.
    RepurchaseShares {
        holder: HolderId,
        class: ShareClassId,
        count: ShareCount,
        price_per_share: Euros,
        resolution: ResolutionId,
        effective_date: NaiveDate,
    },
    /// Annulation d'actions.
    CancelShares {
        source: CancellationSource,
        class: ShareClassId,
        count: ShareCount,
        resolution: ResolutionId,
        effective_date: NaiveDate,
    },
    /// A turbine added to the farm by resolution (an extension): decided,
    /// not in service until it is commissioned.
    AddTurbine {
        turbine: TurbineId,
        commune: CommuneCode,
        rated_power: Kilowatts,
        resolution: ResolutionId,
        effective_date: NaiveDate,
    },
    /// Mise en service of a turbine added: in service from the effective
    /// date. A fact, needing no resolution.
    CommissionTurbine {
        turbine: TurbineId,
        effective_date: NaiveDate,
    },
    /// Renouvellement (repowering), by resolution: the turbine in service
    /// is replaced by one of `rated_power`, in service from the effective
    /// date (its commissioning date, for IFER).
    RepowerTurbine {
        turbine: TurbineId,
        rated_power: Kilowatts,
        resolution: ResolutionId,
        effective_date: NaiveDate,
    },
    /// Démantèlement, by resolution: out of service from the effective date.
    DecommissionTurbine {
        turbine: TurbineId,
        resolution: ResolutionId,
        effective_date: NaiveDate,
    },
    /// Noms des lieux: names the places of the territory (communes of the
    /// territory or of a holder, EPCIs, départements of those communes), so
    /// that the pages show names rather than codes. Needs no resolution.
    NamePlaces {
        places: PlaceNames,
        effective_date: NaiveDate,
    },
    /// Records a new version of a registered holder's identity (its
    /// commitment: the data is in the vault).
    RecordIdentity {
        holder: HolderId,
        commitment: IdentityCommitment,
        effective_date: NaiveDate,
    },
    /// Effacement: erases a holder's personal data, once the law no longer
    /// requires keeping it (see [`super::RETENTION_AFTER_EXIT_YEARS`]).
    EraseIdentity {
        holder: HolderId,
        effective_date: NaiveDate,
    },
}

impl CompanyCommand {
    /// The civil date the fact takes effect (the formation date for the
    /// incorporation).
    pub fn effective_date(&self) -> NaiveDate {
        match self {
            Self::Incorporate { company, .. } => company.formation_date,
            Self::AmendCharter { effective_date, .. }
            | Self::AdmitShareholder { effective_date, .. }
            | Self::ChangeCollege { effective_date, .. }
            | Self::ChangeResidence { effective_date, .. }
            | Self::ChangeClubMembers { effective_date, .. }
            | Self::RecordExit { effective_date, .. }
            | Self::IssueShares { effective_date, .. }
            | Self::TransferShares { effective_date, .. }
            | Self::RepurchaseShares { effective_date, .. }
            | Self::CancelShares { effective_date, .. }
            | Self::NamePlaces { effective_date, .. }
            | Self::AddTurbine { effective_date, .. }
            | Self::CommissionTurbine { effective_date, .. }
            | Self::RepowerTurbine { effective_date, .. }
            | Self::DecommissionTurbine { effective_date, .. }
            | Self::RecordIdentity { effective_date, .. }
            | Self::EraseIdentity { effective_date, .. } => *effective_date,
        }
    }

    /// The resolution the command cites, which the aggregate looks up before
    /// deciding.
    pub fn cited_resolution(&self) -> Option<&ResolutionId> {
        match self {
            Self::AmendCharter { resolution, .. }
            | Self::RepurchaseShares { resolution, .. }
            | Self::CancelShares { resolution, .. }
            | Self::AddTurbine { resolution, .. }
            | Self::RepowerTurbine { resolution, .. }
            | Self::DecommissionTurbine { resolution, .. } => Some(resolution),
            Self::IssueShares { resolution, .. } => resolution.as_ref(),
            Self::TransferShares { approval, .. } => approval.as_ref(),
            Self::Incorporate { .. }
            | Self::AdmitShareholder { .. }
            | Self::ChangeCollege { .. }
            | Self::ChangeResidence { .. }
            | Self::ChangeClubMembers { .. }
            | Self::RecordExit { .. }
            | Self::NamePlaces { .. }
            | Self::CommissionTurbine { .. }
            | Self::RecordIdentity { .. }
            | Self::EraseIdentity { .. } => None,
        }
    }
}

/// The command an event is the outcome of. Every company event comes from
/// one command, which can be read back from it: the resolution the event
/// records is cited by its id (the service answers the rest), and what the
/// aggregate computes (the college a holder leaves) is left out. Deciding
/// this command again on the state before the event, with the services
/// answering as they did, must give the event back: that is how
/// `windledger verify` re-decides a ledger.
impl From<&CompanyEvent> for CompanyCommand {
    fn from(event: &CompanyEvent) -> Self {
        let id = |r: &crate::resolution::AdoptedResolution| r.id.clone();
        same_fields!(event.clone(), CompanyEvent => Self {
            Incorporated => Incorporate { company, charter },
            CharterAmended => AmendCharter { charter, resolution: resolution.id, effective_date },
            ClubMembersChanged => ChangeClubMembers { holder, members, effective_date },
            ShareholderResidenceChanged => ChangeResidence { holder, commune, effective_date },
            ShareholderExited => RecordExit { holder, effective_date },
            SharesIssued => IssueShares {
                subscriptions,
                resolution: resolution.as_ref().map(id),
                effective_date,
            },
            SharesTransferred(ShareTransfer) => TransferShares {
                from, to, class, count, price_per_share,
                approval: approval.as_ref().map(id),
                effective_date, exemption,
            },
            SharesRepurchased => RepurchaseShares {
                holder, class, count, price_per_share,
                resolution: resolution.id,
                effective_date,
            },
            SharesCancelled => CancelShares {
                source, class, count,
                resolution: resolution.id,
                effective_date,
            },
            TurbineAdded => AddTurbine {
                turbine, commune, rated_power,
                resolution: resolution.id,
                effective_date,
            },
            TurbineCommissioned => CommissionTurbine { turbine, effective_date },
            TurbineRepowered => RepowerTurbine {
                turbine, rated_power,
                resolution: resolution.id,
                effective_date,
            },
            TurbineDecommissioned => DecommissionTurbine {
                turbine,
                resolution: resolution.id,
                effective_date,
            },
            PlacesNamed => NamePlaces { places, effective_date },
            IdentityRecorded => RecordIdentity { holder, commitment, effective_date },
            IdentityErased => EraseIdentity { holder, effective_date },
        } unless {
            CompanyEvent::ShareholderAdmitted {
                holder, kind, college, commune, effective_date, members,
            } => Self::AdmitShareholder {
                holder, kind, college, commune, effective_date, members,
                // The identity recorded with an admission is an event of
                // its own, read back as `RecordIdentity`: deciding both on
                // the state in between gives the same two events.
                identity: None,
            },
            CompanyEvent::ShareholderCollegeChanged { holder, to, effective_date, .. } => {
                Self::ChangeCollege { holder, college: to, effective_date }
            }
        })
    }
}
