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
use crate::types::{DecisionKindId, HolderId, ResolutionId};

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
    /// Augmentation de capital.
    CapitalIncrease,
    /// Réduction de capital: repurchase or cancellation of shares.
    CapitalReduction,
    /// Agrément of one transferee: approval names a person, not a transfer.
    TransferApproval { transferee: HolderId },
    /// Approbation des comptes of a financial year.
    AccountsApproval { year: i32 },
    /// Affectation du résultat of a financial year: reserves, retained
    /// earnings and the dividend, which the same resolution declares.
    ResultAppropriation { year: i32 },
    /// Anything no stream acts on (an opinion, a mandate,
    /// a decision recorded for the register only).
    General,
}

impl std::fmt::Display for ResolutionPurpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CharterAmendment => f.write_str("an amendment of the charter"),
            Self::CapitalIncrease => f.write_str("a capital increase"),
            Self::CapitalReduction => f.write_str("a capital reduction"),
            Self::TransferApproval { transferee } => {
                write!(f, "the approval of {transferee} as a transferee")
            }
            Self::AccountsApproval { year } => write!(f, "the approval of the {year} accounts"),
            Self::ResultAppropriation { year } => {
                write!(f, "the appropriation of the {year} result")
            }
            Self::General => f.write_str("a general resolution"),
        }
    }
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
        expected: ResolutionPurpose,
        found: ResolutionPurpose,
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
    if &resolution.purpose != purpose {
        return Err(Unbacked::PurposeMismatch {
            resolution: resolution.id,
            expected: purpose.clone(),
            found: resolution.purpose,
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
