//! What the company stream needs to know about the meeting stream: whether a
//! resolution was adopted, of which kind, for which purpose.
//!
//! The company aggregate asks through [`ResolutionService`] and records the
//! [`AdoptedResolution`] it relied on in its event, so replaying the company
//! stream never asks the meeting stream again.

use std::collections::BTreeMap;
use std::future::{self, Future};
use std::pin::Pin;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::meeting::RejectionRule;
use crate::money::Euros;
use crate::types::{DecisionKindId, HolderId, ResolutionId, ShareClassId, ShareCount, TurbineId};

/// An adopted resolution, as the company stream relies on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdoptedResolution {
    pub id: ResolutionId,
    pub decision_kind: DecisionKindId,
    pub purpose: ResolutionPurpose,
    /// Date of the meeting's close, when the outcome became final.
    pub adopted_on: NaiveDate,
}

/// What an adopted resolution authorises, as far as the company stream is
/// concerned. The meeting stream will add purposes of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "purpose", rename_all = "snake_case")]
pub enum ResolutionPurpose {
    /// Modification des statuts.
    CharterAmendment,
    /// Augmentation de capital: the issues it backs.
    CapitalIncrease {
        #[serde(default, skip_serializing_if = "Terms::is_empty")]
        terms: Terms,
    },
    /// Réduction de capital: the repurchases and cancellations it backs.
    CapitalReduction {
        #[serde(default, skip_serializing_if = "Terms::is_empty")]
        terms: Terms,
    },
    /// Agrément of one transferee, and of the transfers to them it backs.
    TransferApproval {
        transferee: HolderId,
        #[serde(default, skip_serializing_if = "Terms::is_empty")]
        terms: Terms,
    },
    /// Approbation des comptes of a financial year.
    AccountsApproval { year: i32 },
    /// Affectation du résultat of a financial year: reserves, retained
    /// earnings and the dividend, which the same resolution declares.
    ResultAppropriation { year: i32 },
    /// Works on one turbine of the farm: its addition, its repowering or
    /// its decommissioning.
    TurbineWorks {
        turbine: TurbineId,
        works: TurbineWorks,
    },
    /// Anything no stream acts on (an opinion, a mandate,
    /// a decision recorded for the register only).
    General,
}

impl std::fmt::Display for ResolutionPurpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CharterAmendment => f.write_str("an amendment of the charter"),
            Self::CapitalIncrease { .. } => f.write_str("a capital increase"),
            Self::CapitalReduction { .. } => f.write_str("a capital reduction"),
            Self::TransferApproval { transferee, .. } => {
                write!(f, "the approval of {transferee} as a transferee")
            }
            Self::AccountsApproval { year } => write!(f, "the approval of the {year} accounts"),
            Self::ResultAppropriation { year } => {
                write!(f, "the appropriation of the {year} result")
            }
            Self::TurbineWorks { turbine, works } => write!(f, "the {works} of turbine {turbine}"),
            Self::General => f.write_str("a general resolution"),
        }
    }
}

/// What a resolution decides of a turbine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, strum::Display)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "lowercase")]
pub enum TurbineWorks {
    /// A turbine added to the farm (then commissioned).
    Addition,
    /// Renouvellement: replaced by a turbine of another rated power.
    Repowering,
    /// Démantèlement.
    Decommissioning,
}

impl ResolutionPurpose {
    /// A capital increase with no terms: any issue backed by it.
    pub const CAPITAL_INCREASE: Self = Self::CapitalIncrease { terms: Terms::NONE };
    /// A capital reduction with no terms.
    pub const CAPITAL_REDUCTION: Self = Self::CapitalReduction { terms: Terms::NONE };

    /// The approval of `transferee`, with no terms.
    pub fn approval_of(transferee: HolderId) -> Self {
        Self::TransferApproval {
            transferee,
            terms: Terms::NONE,
        }
    }

    /// The terms the resolution names, if its purpose takes any.
    pub fn terms(&self) -> Option<&Terms> {
        match self {
            Self::CapitalIncrease { terms }
            | Self::CapitalReduction { terms }
            | Self::TransferApproval { terms, .. } => Some(terms),
            _ => None,
        }
    }

    /// The same purpose without its terms: what a movement asks of the
    /// resolution it cites before its terms are read.
    fn without_terms(&self) -> Self {
        match self {
            Self::CapitalIncrease { .. } => Self::CAPITAL_INCREASE,
            Self::CapitalReduction { .. } => Self::CAPITAL_REDUCTION,
            Self::TransferApproval { transferee, .. } => Self::approval_of(transferee.clone()),
            other => other.clone(),
        }
    }
}

/// What a resolution authorises, where it says so (a capital increase, a
/// capital reduction, an approval): each movement it backs must match every
/// term it names, and together they move no more shares than its count.
/// A term left out leaves that part to the movement.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// Whose shares: the subscriber of an issue, the holder whose shares
    /// are repurchased or cancelled, the transferor of an approved transfer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<ShareClassId>,
    /// At most this many shares over every movement citing the resolution
    /// (for a reduction, at most this many repurchased and at most this
    /// many cancelled, so that shares bought back can then be cancelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<ShareCount>,
    /// The price per share: of the issue, of the repurchase, of the
    /// transfer. A cancellation has none and is not held to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_share: Option<Euros>,
    /// The last effective date of a movement it backs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<NaiveDate>,
}

impl Terms {
    pub const NONE: Self = Self {
        holder: None,
        class: None,
        count: None,
        price_per_share: None,
        deadline: None,
    };

    pub fn is_empty(&self) -> bool {
        self == &Self::NONE
    }

    /// Whether `movement`, citing `resolution` after `used` shares were
    /// already moved under it by movements of the same kind, keeps to these
    /// terms.
    pub fn check(
        &self,
        resolution: &ResolutionId,
        movement: &Movement<'_>,
        used: ShareCount,
    ) -> Result<(), OutsideTerms> {
        let resolution = resolution.clone();
        if let Some(deadline) = self.deadline
            && movement.effective_date > deadline
        {
            return Err(OutsideTerms::DeadlinePassed {
                resolution,
                deadline,
                effective_date: movement.effective_date,
            });
        }
        for part in &movement.parts {
            if let (Some(expected), Some(found)) = (&self.holder, part.holder)
                && expected != found
            {
                return Err(OutsideTerms::OtherHolder {
                    resolution,
                    expected: expected.clone(),
                    found: found.clone(),
                });
            }
            if let Some(expected) = &self.class
                && expected != part.class
            {
                return Err(OutsideTerms::OtherClass {
                    resolution,
                    expected: expected.clone(),
                    found: part.class.clone(),
                });
            }
            match (self.price_per_share, part.price_per_share) {
                (Some(expected), None) if movement.kind != MovementKind::Cancellation => {
                    return Err(OutsideTerms::NoPrice {
                        resolution,
                        expected,
                    });
                }
                (Some(expected), Some(found)) if expected != found => {
                    return Err(OutsideTerms::OtherPrice {
                        resolution,
                        expected,
                        found,
                    });
                }
                _ => {}
            }
        }
        if let Some(authorised) = self.count {
            let requested = movement
                .parts
                .iter()
                .try_fold(used, |sum, p| sum.checked_add(p.count));
            if requested.is_none_or(|total| total > authorised) {
                return Err(OutsideTerms::CountExceeded {
                    resolution,
                    authorised,
                    used,
                    requested: movement.count(),
                });
            }
        }
        Ok(())
    }
}

/// The kinds of movement a resolution's count is kept for, each apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    Issue,
    Repurchase,
    Cancellation,
    Transfer,
}

/// A movement as a resolution's terms read it.
#[derive(Debug, Clone)]
pub struct Movement<'a> {
    pub kind: MovementKind,
    pub effective_date: NaiveDate,
    /// One part per subscriber of an issue; one for any other movement.
    pub parts: Vec<MovementPart<'a>>,
}

/// Whose shares of which class, how many, at what price.
#[derive(Debug, Clone)]
pub struct MovementPart<'a> {
    /// `None` for a cancellation of treasury shares.
    pub holder: Option<&'a HolderId>,
    pub class: &'a ShareClassId,
    pub count: ShareCount,
    /// `None` for a cancellation, or a transfer without a price.
    pub price_per_share: Option<Euros>,
}

impl Movement<'_> {
    /// The shares it moves in all, saturating (a sum beyond `u64` is
    /// beyond any count).
    pub fn count(&self) -> ShareCount {
        self.parts
            .iter()
            .try_fold(ShareCount::ZERO, |sum, p| sum.checked_add(p.count))
            .unwrap_or(ShareCount::MAX)
    }
}

/// How a movement breaks the terms of the resolution it cites.
#[derive(Debug, Clone, PartialEq, Eq, Error, strum::IntoStaticStr)]
pub enum OutsideTerms {
    #[error(
        "resolution {resolution} authorises movements until {deadline}, not on {effective_date}"
    )]
    #[strum(serialize = "TermsDeadlinePassed")]
    DeadlinePassed {
        resolution: ResolutionId,
        deadline: NaiveDate,
        effective_date: NaiveDate,
    },
    #[error("resolution {resolution} authorises it for {expected}'s shares, not {found}'s")]
    #[strum(serialize = "TermsOtherHolder")]
    OtherHolder {
        resolution: ResolutionId,
        expected: HolderId,
        found: HolderId,
    },
    #[error("resolution {resolution} authorises shares of class {expected}, not {found}")]
    #[strum(serialize = "TermsOtherClass")]
    OtherClass {
        resolution: ResolutionId,
        expected: ShareClassId,
        found: ShareClassId,
    },
    #[error("resolution {resolution} sets the price at {expected} per share, not {found}")]
    #[strum(serialize = "TermsOtherPrice")]
    OtherPrice {
        resolution: ResolutionId,
        expected: Euros,
        found: Euros,
    },
    #[error("resolution {resolution} sets the price at {expected} per share: give that price")]
    #[strum(serialize = "TermsPriceMissing")]
    NoPrice {
        resolution: ResolutionId,
        expected: Euros,
    },
    #[error(
        "resolution {resolution} authorises {authorised} shares, {used} of them already used: {requested} more is beyond its terms"
    )]
    #[strum(serialize = "TermsCountExceeded")]
    CountExceeded {
        resolution: ResolutionId,
        authorised: ShareCount,
        used: ShareCount,
        requested: ShareCount,
    },
}

/// Where a cited resolution stands, as the meeting stream knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    Adopted(AdoptedResolution),
    /// On no meeting's agenda.
    Unknown,
    /// On an agenda whose meeting has not closed.
    NotClosed,
    /// Closed and rejected, for these rules.
    Rejected(Vec<RejectionRule>),
}

impl Standing {
    /// Why the resolution `cited` backs nothing, unless it was adopted.
    pub fn adopted(self, cited: &ResolutionId) -> Result<AdoptedResolution, Unbacked> {
        match self {
            Self::Adopted(r) if &r.id == cited => Ok(r),
            Self::Adopted(_) | Self::Unknown => Err(Unbacked::NotAdopted(cited.clone())),
            Self::NotClosed => Err(Unbacked::NotClosed(cited.clone())),
            Self::Rejected(rules) => Err(Unbacked::Rejected {
                resolution: cited.clone(),
                rules: Rules(rules),
            }),
        }
    }
}

/// The rules that rejected a resolution, as a sentence lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules(pub Vec<RejectionRule>);

impl std::fmt::Display for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, rule) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{rule}")?;
        }
        Ok(())
    }
}

/// Why a resolution cannot back a decision: the one rule both the company
/// and the financial year apply (each error carries it as its `Unbacked`
/// variant). Its rules keep the names they had before it was shared.
#[derive(Debug, Clone, PartialEq, Eq, Error, strum::IntoStaticStr)]
pub enum Unbacked {
    /// On no meeting's agenda.
    #[error("resolution {0} is on no meeting's agenda")]
    #[strum(serialize = "ResolutionNotAdopted")]
    NotAdopted(ResolutionId),
    /// Its meeting has not closed: its outcome is not known yet.
    #[error("resolution {0} is not decided yet: its meeting has not closed")]
    #[strum(serialize = "ResolutionNotClosed")]
    NotClosed(ResolutionId),
    /// Its meeting rejected it.
    #[error("resolution {resolution} was rejected ({rules}): it backs nothing")]
    #[strum(serialize = "ResolutionRejected")]
    Rejected {
        resolution: ResolutionId,
        rules: Rules,
    },
    /// Adopted for something else.
    #[error("resolution {resolution} was adopted for {found}, not for {expected}")]
    #[strum(serialize = "ResolutionPurposeMismatch")]
    PurposeMismatch {
        resolution: ResolutionId,
        expected: Box<ResolutionPurpose>,
        found: Box<ResolutionPurpose>,
    },
    /// Not of the kind of decision the charter requires.
    #[error(
        "resolution {resolution} is a {found} decision; the charter requires a {required} decision"
    )]
    WrongDecisionKind {
        resolution: ResolutionId,
        required: DecisionKindId,
        found: DecisionKindId,
    },
}

/// Whether `found` (what the service answered for `cited`) backs a decision
/// of `purpose`, taken as the `required_kind` of decision where the charter
/// names one. When it was adopted is each aggregate's own rule.
pub fn backs(
    found: Option<Standing>,
    cited: &ResolutionId,
    purpose: &ResolutionPurpose,
    required_kind: Option<&DecisionKindId>,
) -> Result<AdoptedResolution, Unbacked> {
    let resolution = found.unwrap_or(Standing::Unknown).adopted(cited)?;
    if &resolution.purpose.without_terms() != purpose {
        return Err(Unbacked::PurposeMismatch {
            resolution: resolution.id,
            expected: Box::new(purpose.clone()),
            found: Box::new(resolution.purpose),
        });
    }
    if let Some(required) = required_kind
        && &resolution.decision_kind != required
    {
        return Err(Unbacked::WrongDecisionKind {
            resolution: resolution.id,
            required: required.clone(),
            found: resolution.decision_kind,
        });
    }
    Ok(resolution)
}

/// The lookup failed for a reason outside the domain (e.g. the store was
/// unreachable); the command may be retried.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the resolution lookup failed: {0}")]
pub struct LookupError(pub String);

/// A boxed future, so that the service can be a trait object: the aggregate's
/// `Services` is one concrete type, while the shell's implementation (reading
/// the meeting stream) and the tests' fake differ.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Answers whether a resolution was adopted.
///
/// Boxed by hand rather than with `async-trait`: one `Box::pin` per
/// implementation is all it costs, and the pure crate keeps no proc-macro.
pub trait ResolutionService: Send + Sync {
    /// The resolution if it exists and was adopted; `None` if it is unknown,
    /// still open or rejected.
    fn adopted<'a>(
        &'a self,
        id: &'a ResolutionId,
    ) -> BoxFuture<'a, Result<Option<AdoptedResolution>, LookupError>>;

    /// Where the resolution stands: adopted, or why not (unknown, not
    /// closed, rejected). By default, from [`Self::adopted`], which cannot
    /// tell the reasons apart.
    fn standing<'a>(
        &'a self,
        id: &'a ResolutionId,
    ) -> BoxFuture<'a, Result<Standing, LookupError>> {
        Box::pin(async move {
            Ok(match self.adopted(id).await? {
                Some(r) => Standing::Adopted(r),
                None => Standing::Unknown,
            })
        })
    }
}

/// Resolutions known in advance: the tests' fake, and the shell's stand-in
/// until the meeting stream exists.
#[derive(Debug, Clone, Default)]
pub struct KnownResolutions(BTreeMap<ResolutionId, AdoptedResolution>);

impl KnownResolutions {
    pub fn new(resolutions: impl IntoIterator<Item = AdoptedResolution>) -> Self {
        Self(resolutions.into_iter().map(|r| (r.id.clone(), r)).collect())
    }
}

impl ResolutionService for KnownResolutions {
    fn adopted<'a>(
        &'a self,
        id: &'a ResolutionId,
    ) -> BoxFuture<'a, Result<Option<AdoptedResolution>, LookupError>> {
        Box::pin(future::ready(Ok(self.0.get(id).cloned())))
    }
}
