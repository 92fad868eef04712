//! Why the company stream refuses a command. Each message says what to do.

use chrono::NaiveDate;
use thiserror::Error;

use crate::charter::{CharterError, LockUpExemption, OwnershipCap};
use crate::money::Euros;
use crate::resolution::LookupError;
use crate::types::{
    CollegeId, CommuneCode, HolderId, ResolutionId, ShareClassId, ShareCount, TurbineId,
};

#[derive(Debug, Clone, PartialEq, Eq, Error, strum::IntoStaticStr)]
pub enum CompanyError {
    // Lifecycle.
    #[error("the company is already incorporated")]
    AlreadyIncorporated,
    #[error("the company is not incorporated yet: record its incorporation first")]
    NotIncorporated,
    #[error("the charter cannot be adopted: {0}")]
    InvalidCharter(#[from] CharterError),
    #[error("turbine {0} is listed twice")]
    DuplicateTurbine(TurbineId),
    #[error("turbine {0} is not one of the farm's turbines: add it by resolution first")]
    UnknownTurbine(TurbineId),
    #[error("turbine {0} is already commissioned")]
    TurbineAlreadyCommissioned(TurbineId),
    #[error(
        "turbine {turbine} is not in service on {on}: only a turbine in service, commissioned before that day, is repowered or decommissioned"
    )]
    TurbineNotInService { turbine: TurbineId, on: NaiveDate },
    #[error("turbine {turbine} stands in commune {commune}, which is not in the territory")]
    TurbineOutsideTerritory {
        turbine: TurbineId,
        commune: CommuneCode,
    },
    #[error(
        "effective date {effective_date} is in the future (today is {today}): record a fact once it has happened"
    )]
    DatedInTheFuture {
        effective_date: NaiveDate,
        today: NaiveDate,
    },
    #[error(
        "effective date {effective_date} is before {latest}, the latest date already recorded: record facts in date order"
    )]
    EffectiveDateTooEarly {
        effective_date: NaiveDate,
        latest: NaiveDate,
    },

    // Resolutions.
    #[error(
        "issuing shares after the initial subscription needs an adopted capital-increase resolution"
    )]
    ResolutionRequired,
    /// The resolution cited does not back the decision (the rule is the
    /// inner one's: `ResolutionNotAdopted`, `ResolutionPurposeMismatch`,
    /// `WrongDecisionKind`).
    #[error(transparent)]
    Unbacked(#[from] crate::resolution::Unbacked),
    /// The movement breaks the terms of the resolution it cites (the
    /// rule is the inner one's).
    #[error(transparent)]
    OutsideTerms(#[from] crate::resolution::OutsideTerms),
    #[error(
        "resolution {resolution} was adopted on {adopted_on}, after the effective date {effective_date}"
    )]
    ResolutionAdoptedAfterEffectiveDate {
        resolution: ResolutionId,
        adopted_on: NaiveDate,
        effective_date: NaiveDate,
    },
    #[error(transparent)]
    ResolutionLookup(#[from] LookupError),

    // Register.
    #[error("holder {0} is already registered")]
    HolderAlreadyRegistered(HolderId),
    #[error("holder {0} is not in the register: admit them first")]
    UnknownHolder(HolderId),
    #[error("holder {holder} left the company on {exited_on}")]
    HolderHasExited {
        holder: HolderId,
        exited_on: NaiveDate,
    },
    #[error("college {0} is not in the charter")]
    UnknownCollege(CollegeId),
    #[error("holder {0}'s register entry already says so: nothing to record")]
    NothingChanges(HolderId),
    #[error(
        "holder {holder} still holds {count} shares: transfer, repurchase or cancel them before the exit"
    )]
    StillHoldsShares { holder: HolderId, count: ShareCount },
    #[error("college {0} still has members: move them before removing it from the charter")]
    CollegeStillInUse(CollegeId),

    // Identities (the vault).
    #[error("holder {0} has no identity recorded: nothing to erase")]
    NoIdentity(HolderId),
    #[error("holder {0}'s identity was erased: admit them again to record a new one")]
    IdentityErased(HolderId),
    #[error(
        "holder {0} has not left the company: the law requires keeping their identity while they are a shareholder and for 10 years after"
    )]
    NotExited(HolderId),
    #[error(
        "holder {holder} left on {exited_on}: the books and their supporting documents must be kept 10 years (Code de commerce L123-22), so their identity can be erased from {until}"
    )]
    RetentionRunning {
        holder: HolderId,
        exited_on: NaiveDate,
        until: NaiveDate,
    },

    // Movements.
    #[error("share class {0} is not in the charter")]
    UnknownShareClass(ShareClassId),
    #[error("share class {0} still has shares outstanding: cancel them before removing it")]
    ShareClassStillInUse(ShareClassId),
    #[error("a movement must move at least one share")]
    NoShares,
    #[error("holder {0} cannot transfer shares to themselves")]
    TransferToSelf(HolderId),
    #[error(
        "holder {holder} holds {held} shares of class {class}, fewer than the {requested} requested"
    )]
    InsufficientShares {
        holder: HolderId,
        class: ShareClassId,
        held: ShareCount,
        requested: ShareCount,
    },
    #[error(
        "the company holds {held} shares of class {class} in treasury, fewer than the {requested} requested"
    )]
    InsufficientTreasuryShares {
        class: ShareClassId,
        held: ShareCount,
        requested: ShareCount,
    },
    #[error("{0} is not an investment club: only a club counts its members")]
    MembersOfANonClub(HolderId),
    #[error("investment club {0} must have at least one member")]
    ClubWithoutMembers(HolderId),
    #[error("shares are locked up until {until}: no transfer between holders before then")]
    LockedUp { until: NaiveDate },
    #[error("the charter lists no exemption from its lock-up for {0}")]
    ExemptionNotInCharter(LockUpExemption),
    #[error(
        "{transferee} holds no share yet: the charter requires an approval (agrément) resolution naming them"
    )]
    ApprovalRequired { transferee: HolderId },
    #[error(
        "shares of class {class} cannot be issued at {price}, below their nominal value {nominal}"
    )]
    PriceBelowNominal {
        class: ShareClassId,
        price: Euros,
        nominal: Euros,
    },
    #[error(
        "class {class} would have {outstanding} shares outstanding, more than the {authorised} authorised"
    )]
    AuthorisedSharesExceeded {
        class: ShareClassId,
        authorised: ShareCount,
        outstanding: ShareCount,
    },
    #[error(
        "the initial subscription amounts to {subscribed} of nominal value, not the declared capital of {declared}"
    )]
    InitialSubscriptionDoesNotMatchCapital { declared: Euros, subscribed: Euros },
    #[error("the movement would breach the charter's rule: {0}")]
    CapBreached(OwnershipCap),

    // Names of places.
    #[error("name at least one commune, EPCI or département")]
    NoPlaceNamed,
    #[error(
        "commune {0} is neither in the territory nor any holder's commune: name only the places the company knows"
    )]
    UnknownCommune(CommuneCode),
    #[error(
        "département {0} has no commune in the territory or of a holder: name only the places the company knows"
    )]
    UnknownDepartement(String),

    #[error("the amounts are too large to compute exactly")]
    Overflow,
}

impl crate::Rule for CompanyError {
    fn rule(&self) -> &'static str {
        match self {
            Self::Unbacked(unbacked) => unbacked.into(),
            Self::OutsideTerms(outside) => outside.into(),
            other => other.into(),
        }
    }
}
