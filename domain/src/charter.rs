//! Statuts: the charter each farm configures (DESIGN.md 2.1).
//!
//! A charter is a plain document: the API builds it from JSON, and
//! [`Charter::check`] is run when it is adopted (at incorporation or by an
//! amendment), so that every charter in the log was consistent when adopted.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::money::Euros;
use crate::ratio::Ratio;
use crate::types::{CollegeId, DecisionKindId, ShareClassId, ShareCount};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Charter {
    pub colleges: Vec<College>,
    pub share_classes: Vec<ShareClass>,
    pub decision_kinds: Vec<DecisionKind>,
    pub reserved: ReservedDecisions,
    pub transfers: TransferRules,
    /// Absent from charters recorded before meetings existed: no cap.
    #[serde(default)]
    pub proxies: ProxyRules,
    /// Délais de convocation of general meetings. Absent (and not written)
    /// when the charter keeps the defaults.
    #[serde(default, skip_serializing_if = "NoticePeriods::is_default")]
    pub notice: NoticePeriods,
    /// Votes par correspondance: when a postal voting form must arrive to
    /// count. Absent (and not written) when the charter keeps the defaults.
    #[serde(default, skip_serializing_if = "PostalVoting::is_default")]
    pub postal_voting: PostalVoting,
    /// Témoins: who co-signs the ledger's transparency log, and how many
    /// co-signatures a checkpoint needs (docs/transparency.md). Absent
    /// (and not written) when the charter names none.
    #[serde(default, skip_serializing_if = "Witnesses::is_none")]
    pub witnesses: Witnesses,
    /// Fonds de territoire: what of each financial year feeds the
    /// territory fund, from which year (docs/territory.md). Absent (and not
    /// written) when the charter sets none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub territory_fund: Option<FundFeed>,
}

/// What feeds the territory fund: one rule, applied to each financial year
/// from `from_year` once its accounts are approved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct FundFeed {
    pub rule: FeedRule,
    /// The first financial year that feeds the fund.
    pub from_year: i32,
}

/// How much of a financial year goes to the territory fund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum FeedRule {
    /// A share of the year's revenue (every revenue recorded, corrections
    /// applied; nothing if it is negative).
    ShareOfRevenue { share: Ratio },
    /// An amount per MWh the turbines produced in the year.
    PerMwh { amount: Euros },
    /// A share of the dividends declared on the year's result.
    ShareOfDividends { share: Ratio },
}

/// The witnesses of the ledger's transparency log (C2SP `tlog-witness`):
/// typically the municipality, the citizens' college and the industrial
/// partner, each running `windledger witness`; a checkpoint is accepted
/// with `quorum` of their co-signatures (e.g. 2 of 3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Witnesses {
    /// How many of the witnesses must co-sign: from 1 to their number.
    pub quorum: u32,
    pub witnesses: Vec<Witness>,
}

impl Witnesses {
    pub fn is_none(&self) -> bool {
        self.witnesses.is_empty() && self.quorum == 0
    }
}

/// A witness the charter names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Witness {
    /// Who runs it ("Mairie de Burdignes", "Collège des citoyens"...).
    pub party: String,
    /// Its public key, as `windledger witness` prints it:
    /// `<name>+<hex key id>+<base64 key>`.
    pub key: String,
    /// Its submission prefix: the log posts to `<url>/add-checkpoint`.
    pub url: String,
}

/// When a general meeting's postal voting forms must be received to count
/// (R225-77 of the Code de commerce, whose figures are the defaults): a
/// paper form at least `paper_days_before` days before the day the
/// meeting's vote opens, an electronic form by `electronic_cutoff_hour`
/// (Paris time) the day before. A form received later is kept, not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PostalVoting {
    pub paper_days_before: u16,
    pub electronic_cutoff_hour: u8,
}

impl PostalVoting {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The last instant a form received by post (`electronic: false`) or
    /// electronically counts for a meeting whose vote opens at `opens_at`:
    /// the end of the day (Paris) `paper_days_before` days before it, or
    /// `electronic_cutoff_hour`:00 (Paris) the day before. A form counts when
    /// received at or before it.
    pub fn deadline(&self, opens_at: DateTime<Utc>, electronic: bool) -> DateTime<Utc> {
        let opens_on = crate::paris::to_paris(opens_at).date();
        let local = if electronic {
            opens_on
                .pred_opt()
                .and_then(|d| d.and_hms_opt(u32::from(self.electronic_cutoff_hour.min(23)), 0, 0))
        } else {
            opens_on
                .checked_sub_days(Days::new(u64::from(self.paper_days_before)))
                .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 999_999_999))
        };
        local.map_or(DateTime::<Utc>::MIN_UTC, crate::paris::from_paris)
    }
}

impl Default for PostalVoting {
    fn default() -> Self {
        Self {
            paper_days_before: 3,
            electronic_cutoff_hour: 15,
        }
    }
}

/// The days a general meeting is convened ahead: from the convocation to
/// the day its vote opens. The defaults are the SA rules most statutes of a
/// SAS copy (R225-69 of the Code de commerce): 15 days for a first call,
/// 10 for a second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticePeriods {
    pub first_call_days: u16,
    pub second_call_days: u16,
}

impl NoticePeriods {
    /// The longest notice a charter may set (a year).
    pub const MAX_DAYS: u16 = 366;

    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for NoticePeriods {
    fn default() -> Self {
        Self {
            first_call_days: 15,
            second_call_days: 10,
        }
    }
}

/// Pouvoirs: how shareholders may be represented at a meeting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ProxyRules {
    /// Most proxies one holder may hold at once in a meeting; `None`: no cap.
    pub max_held_per_holder: Option<u32>,
}

/// Collège de vote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct College {
    pub id: CollegeId,
    pub name: String,
    /// Pondération: the college's fixed share of the total vote (SCIC style).
    /// `None`: the college's votes count as they are.
    pub weight: Option<Ratio>,
    pub vote_basis: VoteBasis,
    /// In a college of one member, one vote: whether an investment club
    /// votes once or once per member of the club. Absent (and not
    /// written) for the default: once.
    #[serde(default, skip_serializing_if = "ClubVotes::is_default")]
    pub clubs: ClubVotes,
}

/// How many votes an investment club has in a one-member-one-vote college.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClubVotes {
    /// One vote, as any member of the college.
    #[default]
    Once,
    /// One vote per member of the club, as last recorded (one until a
    /// number is recorded).
    PerMember,
}

impl ClubVotes {
    pub fn is_default(&self) -> bool {
        *self == Self::Once
    }
}

/// How a member's votes are counted inside their college.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum VoteBasis {
    /// Shares held x votes per share of their class.
    PerShare,
    /// Un associé, une voix.
    PerMember,
}

/// Catégorie d'actions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ShareClass {
    pub id: ShareClassId,
    pub name: String,
    /// Valeur nominale.
    pub nominal_value: Euros,
    /// 0 for shares without voting rights (actions de préférence).
    pub votes_per_share: u32,
    /// Droits aux dividendes: what one share receives when an ordinary share
    /// receives 1 (e.g. 6/5 for a 20 % priority dividend).
    pub dividend_rights: Ratio,
    /// Most shares of this class that may be outstanding at once.
    pub authorised: ShareCount,
}

/// A kind of collective decision and how it is adopted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct DecisionKind {
    pub id: DecisionKindId,
    /// Quorum sur première convocation: share of the roll's votes present or
    /// represented.
    pub quorum_first_call: Ratio,
    /// Quorum sur seconde convocation; 0 means none.
    pub quorum_second_call: Ratio,
    /// Share of votes cast (blank and abstentions are not votes cast).
    pub majority: Majority,
    /// Colleges whose own majority is also required: a veto.
    pub college_majorities_required: BTreeSet<CollegeId>,
    /// What the quorum counts. Absent (and not written) for the default:
    /// the roll's votes.
    #[serde(default, skip_serializing_if = "QuorumBasis::is_default")]
    pub quorum_basis: QuorumBasis,
    /// When a required college vetoes. Absent (and not written) for the
    /// default: unless most of its votes cast are for, silence included.
    #[serde(default, skip_serializing_if = "VetoBasis::is_default")]
    pub veto: VetoBasis,
}

/// What the quorum of a decision kind counts (docs/charter.md, "Quorum").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuorumBasis {
    /// The votes present or represented over the roll's votes, whatever
    /// their college (a member's vote and a share's vote alike).
    #[default]
    Votes,
    /// The nominal value of the voting shares present or represented over
    /// that of the whole roll (shares without a vote count in neither).
    Capital,
    /// Each college's turnout (its votes present over its roll's votes),
    /// weighted by the college's weight; the weight of a college with no
    /// voter on the roll is shared among the others in proportion. Needs
    /// weighted colleges.
    CollegeWeighted,
    /// Every college with a voter on the roll reaches the quorum on its own
    /// votes.
    PerCollege,
}

impl QuorumBasis {
    pub fn is_default(&self) -> bool {
        *self == Self::Votes
    }
}

/// When a college whose majority a decision kind requires vetoes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum VetoBasis {
    /// Unless more than half of the votes cast in the college are for: a
    /// college that casts no vote, or splits evenly, vetoes.
    #[default]
    Silence,
    /// Only when more of the votes cast in the college are against than
    /// for: silence or an even split lets the decision through.
    MajorityAgainst,
}

impl VetoBasis {
    pub fn is_default(&self) -> bool {
        *self == Self::Silence
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Majority {
    /// Majorité simple: strictly more than the fraction (e.g. > 1/2).
    MoreThan(Ratio),
    /// Majorité qualifiée: at least the fraction (e.g. >= 2/3).
    AtLeast(Ratio),
}

impl Majority {
    fn ratio(self) -> Ratio {
        match self {
            Self::MoreThan(r) | Self::AtLeast(r) => r,
        }
    }
}

/// Which decision kind the company's own matters need. Matched exactly: an
/// extraordinary resolution does not stand in for an ordinary one, because
/// the agenda must say which kind a resolution is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ReservedDecisions {
    /// Modification des statuts.
    pub charter_amendment: DecisionKindId,
    /// Augmentation de capital: issuing shares after incorporation.
    pub capital_increase: DecisionKindId,
    /// Réduction de capital: repurchase and cancellation of shares.
    pub capital_reduction: DecisionKindId,
    /// Approbation des comptes et affectation du résultat (dividends
    /// included). Absent from charters recorded before the financial year
    /// existed: `ordinary`.
    #[serde(default = "ordinary_kind")]
    pub accounts: DecisionKindId,
}

fn ordinary_kind() -> DecisionKindId {
    default_kind("ordinary")
}

/// Règles de cession des actions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct TransferRules {
    /// Agrément: when set, a transfer to someone who holds no share needs an
    /// adopted resolution of this kind approving that transferee.
    pub approval_of_new_holders: Option<DecisionKindId>,
    /// Clause d'inaliénabilité: no transfer between holders takes effect
    /// before this date, at most ten years after the charter takes effect
    /// (L227-13), except those `lock_up_exemptions` lists.
    pub locked_until: Option<NaiveDate>,
    /// The transfers a lock-up does not stop. Absent (and not written)
    /// when the charter lists none.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub lock_up_exemptions: BTreeSet<LockUpExemption>,
    /// Checked after every movement, on the share of capital (nominal value
    /// of the shares, treasury shares included in the whole).
    pub caps: Vec<OwnershipCap>,
}

/// A transfer the charter lets through a lock-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LockUpExemption {
    /// Transmission par succession (to an heir).
    Succession,
    /// Cession entre époux (or partners under a PACS).
    Spouse,
    /// Cession à une société affiliée (a company the holder controls, or
    /// that controls it).
    Affiliate,
}

impl fmt::Display for LockUpExemption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Succession => "succession",
            Self::Spouse => "a transfer between spouses",
            Self::Affiliate => "a transfer to an affiliate",
        })
    }
}

/// Plafond ou plancher de détention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum OwnershipCap {
    /// The colleges together hold at most `limit` of the capital (e.g. the
    /// industrial partner at most 1/2).
    CollegesAtMost {
        colleges: BTreeSet<CollegeId>,
        limit: Ratio,
    },
    /// The colleges together hold at least `limit` of the capital (e.g. local
    /// authorities plus citizens at least 1/2).
    CollegesAtLeast {
        colleges: BTreeSet<CollegeId>,
        limit: Ratio,
    },
    /// No single holder (of `college`, or of any college) holds more than
    /// `limit` of the capital.
    HolderAtMost {
        college: Option<CollegeId>,
        limit: Ratio,
    },
}

impl OwnershipCap {
    fn limit(&self) -> Ratio {
        match self {
            Self::CollegesAtMost { limit, .. }
            | Self::CollegesAtLeast { limit, .. }
            | Self::HolderAtMost { limit, .. } => *limit,
        }
    }

    fn colleges(&self) -> Vec<&CollegeId> {
        match self {
            Self::CollegesAtMost { colleges, .. } | Self::CollegesAtLeast { colleges, .. } => {
                colleges.iter().collect()
            }
            Self::HolderAtMost { college, .. } => college.iter().collect(),
        }
    }
}

impl fmt::Display for OwnershipCap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |c: &BTreeSet<CollegeId>| {
            c.iter()
                .map(CollegeId::as_str)
                .collect::<Vec<_>>()
                .join(" + ")
        };
        match self {
            Self::CollegesAtMost { colleges, limit } => {
                write!(f, "{} at most {limit} of the capital", list(colleges))
            }
            Self::CollegesAtLeast { colleges, limit } => {
                write!(f, "{} at least {limit} of the capital", list(colleges))
            }
            Self::HolderAtMost {
                college: Some(c),
                limit,
            } => write!(f, "each holder of {c} at most {limit} of the capital"),
            Self::HolderAtMost {
                college: None,
                limit,
            } => write!(f, "each holder at most {limit} of the capital"),
        }
    }
}

/// Why a charter cannot be adopted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CharterError {
    #[error(
        "the territory fund's feed is a share above 0 and at most 1, or an amount per MWh in whole cents above 0, from a year between 1900 and 9999"
    )]
    InvalidFundFeed,
    #[error("the charter needs at least one college")]
    NoCollege,
    #[error("college {0} is defined twice")]
    DuplicateCollege(CollegeId),
    #[error("college {college} has weight {weight}: a fixed weight must be between 1/10 and 1/2")]
    CollegeWeightOutOfBounds { college: CollegeId, weight: Ratio },
    #[error("the college weights sum to {total}, not 1: give weights that add up to 100 %")]
    CollegeWeightsDoNotSumToOne { total: Ratio },
    #[error("college {college} has no weight while others have one: weight every college or none")]
    MixedCollegeWeights { college: CollegeId },
    #[error("the charter needs at least one share class")]
    NoShareClass,
    #[error("share class {0} is defined twice")]
    DuplicateShareClass(ShareClassId),
    #[error("share class {0} has a nominal value of zero")]
    ZeroNominalValue(ShareClassId),
    #[error("decision kind {0} is defined twice")]
    DuplicateDecisionKind(DecisionKindId),
    #[error("decision kind {0} is used by the charter but not defined in it")]
    UndefinedDecisionKind(DecisionKindId),
    #[error("college {0} is used by the charter but not defined in it")]
    UndefinedCollege(CollegeId),
    #[error("{what} is {value}: it must be a fraction between 0 and 1")]
    NotAProportion { what: String, value: Ratio },
    #[error(
        "the shares are locked up until {until}, more than ten years after the charter takes effect on {takes_effect} (at most {latest}, article L227-13 of the Code de commerce)"
    )]
    LockUpTooLong {
        until: NaiveDate,
        takes_effect: NaiveDate,
        latest: NaiveDate,
    },
    #[error(
        "decision kind {0} counts its quorum by college weight, but the colleges have no weight: weight every college, or count the quorum another way"
    )]
    CollegeWeightedQuorumWithoutWeights(DecisionKindId),
    #[error("decision kind {0} requires more than 100 % of votes cast: it could never be adopted")]
    UnreachableMajority(DecisionKindId),
    #[error("a notice period is longer than {max} days")]
    NoticeTooLong { max: u16 },
    #[error(
        "a postal voting deadline is out of range: paper forms at most {max_days} days ahead, electronic ones by an hour from 0 to 23"
    )]
    PostalDeadlineOutOfRange { max_days: u16 },
    #[error(
        "the witness policy needs from 1 to {count} co-signatures among the {count} witnesses named, not {quorum}"
    )]
    WitnessQuorumOutOfRange { quorum: u32, count: usize },
    #[error("witness {0} is named twice")]
    DuplicateWitness(String),
    #[error("witness {party}: {why}")]
    InvalidWitness { party: String, why: String },
}

/// Whether `key` is a witness's verifier key (C2SP `tlog-cosignature`
/// v1): `<name>+<hex key id>+<base64(0x04 || Ed25519 public key)>`, its id
/// the first 4 bytes of SHA-256(name || "\n" || 0x04 || public key). A
/// charter names only keys that check, so that no checkpoint waits on a
/// key that can never verify.
pub fn witness_key_is_valid(key: &str) -> bool {
    use base64::Engine;
    use sha2::Digest;
    // The base64 key may itself hold '+'.
    let mut parts = key.splitn(3, '+');
    let (Some(name), Some(id), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        return false;
    }
    let Ok(id) = hex::decode(id) else {
        return false;
    };
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(encoded) else {
        return false;
    };
    let [0x04, public @ ..] = bytes.as_slice() else {
        return false;
    };
    let Ok(public) = <[u8; 32]>::try_from(public) else {
        return false;
    };
    if ed25519_dalek::VerifyingKey::from_bytes(&public).is_err() {
        return false;
    }
    let digest = sha2::Sha256::new()
        .chain_update(name.as_bytes())
        .chain_update(b"\n")
        .chain_update([0x04])
        .chain_update(public)
        .finalize();
    id.len() == 4 && digest[..4] == id[..]
}

impl Charter {
    /// The French defaults for decision kinds and reserved matters, around the
    /// colleges and share classes that each farm sets (no transfer rules).
    pub fn with_french_defaults(colleges: Vec<College>, share_classes: Vec<ShareClass>) -> Self {
        Self {
            colleges,
            share_classes,
            decision_kinds: vec![
                DecisionKind::french_ordinary(),
                DecisionKind::french_extraordinary(),
            ],
            reserved: ReservedDecisions::french_default(),
            transfers: TransferRules::default(),
            proxies: ProxyRules::default(),
            notice: NoticePeriods::default(),
            postal_voting: PostalVoting::default(),
            witnesses: Witnesses::default(),
            territory_fund: None,
        }
    }

    pub fn college(&self, id: &CollegeId) -> Option<&College> {
        self.colleges.iter().find(|c| &c.id == id)
    }

    pub fn share_class(&self, id: &ShareClassId) -> Option<&ShareClass> {
        self.share_classes.iter().find(|c| &c.id == id)
    }

    pub fn decision_kind(&self, id: &DecisionKindId) -> Option<&DecisionKind> {
        self.decision_kinds.iter().find(|k| &k.id == id)
    }

    /// Most years a lock-up may last (L227-13).
    pub const MAX_LOCK_UP_YEARS: u32 = 10;

    /// The rules a charter must meet to be adopted taking effect on
    /// `takes_effect` (the formation date, or an amendment's effective
    /// date): [`Self::check`], and a lock-up of at most ten years from then.
    pub fn check_taking_effect(&self, takes_effect: NaiveDate) -> Result<(), CharterError> {
        self.check()?;
        if let Some(until) = self.transfers.locked_until {
            let latest = takes_effect
                .checked_add_months(chrono::Months::new(12 * Self::MAX_LOCK_UP_YEARS))
                .unwrap_or(NaiveDate::MAX);
            if until > latest {
                return Err(CharterError::LockUpTooLong {
                    until,
                    takes_effect,
                    latest,
                });
            }
        }
        Ok(())
    }

    /// The rules a charter must meet to be adopted.
    pub fn check(&self) -> Result<(), CharterError> {
        self.check_colleges()?;
        self.check_share_classes()?;
        self.check_decision_kinds()?;
        self.check_transfer_rules()?;
        let n = self.notice;
        if n.first_call_days > NoticePeriods::MAX_DAYS
            || n.second_call_days > NoticePeriods::MAX_DAYS
        {
            return Err(CharterError::NoticeTooLong {
                max: NoticePeriods::MAX_DAYS,
            });
        }
        let p = self.postal_voting;
        if p.paper_days_before > NoticePeriods::MAX_DAYS || p.electronic_cutoff_hour > 23 {
            return Err(CharterError::PostalDeadlineOutOfRange {
                max_days: NoticePeriods::MAX_DAYS,
            });
        }
        self.check_witnesses()?;
        self.check_territory_fund()
    }

    fn check_territory_fund(&self) -> Result<(), CharterError> {
        let Some(feed) = &self.territory_fund else {
            return Ok(());
        };
        let valid = (1900..=9999).contains(&feed.from_year)
            && match feed.rule {
                FeedRule::ShareOfRevenue { share } | FeedRule::ShareOfDividends { share } => {
                    share.is_proportion() && share != Ratio::ZERO
                }
                FeedRule::PerMwh { amount } => amount.cents().is_some_and(|c| c > 0),
            };
        if valid {
            Ok(())
        } else {
            Err(CharterError::InvalidFundFeed)
        }
    }

    fn check_witnesses(&self) -> Result<(), CharterError> {
        let w = &self.witnesses;
        let count = w.witnesses.len();
        if !w.is_none() && !(1..=count).contains(&usize::try_from(w.quorum).unwrap_or(usize::MAX)) {
            return Err(CharterError::WitnessQuorumOutOfRange {
                quorum: w.quorum,
                count,
            });
        }
        let mut keys = BTreeSet::new();
        for witness in &w.witnesses {
            let invalid = |why: &str| CharterError::InvalidWitness {
                party: witness.party.clone(),
                why: why.to_owned(),
            };
            if !witness_key_is_valid(&witness.key) {
                return Err(invalid(
                    "its key must be <name>+<hex key id>+<base64 key>, an Ed25519 witness key as `windledger witness` prints it",
                ));
            }
            let url_ok = (witness.url.starts_with("http://")
                || witness.url.starts_with("https://"))
                && !witness.url.contains(char::is_whitespace);
            if !url_ok {
                return Err(invalid("its address must be an http:// or https:// URL"));
            }
            if !keys.insert(&witness.key) {
                return Err(CharterError::DuplicateWitness(witness.party.clone()));
            }
        }
        Ok(())
    }

    fn check_colleges(&self) -> Result<(), CharterError> {
        if self.colleges.is_empty() {
            return Err(CharterError::NoCollege);
        }
        let mut seen = BTreeSet::new();
        for college in &self.colleges {
            if !seen.insert(&college.id) {
                return Err(CharterError::DuplicateCollege(college.id.clone()));
            }
        }
        let weighted = self.colleges.iter().any(|c| c.weight.is_some());
        if !weighted {
            return Ok(());
        }
        let (min, max) = (Ratio::percent(10), Ratio::percent(50));
        let mut total = Ratio::ZERO;
        for college in &self.colleges {
            let weight = college
                .weight
                .ok_or_else(|| CharterError::MixedCollegeWeights {
                    college: college.id.clone(),
                })?;
            if weight < min || weight > max {
                return Err(CharterError::CollegeWeightOutOfBounds {
                    college: college.id.clone(),
                    weight,
                });
            }
            // Weights are at most 1/2 each, with bounded denominators in
            // practice; an overflow can only come from absurd input.
            total = total
                .checked_add(weight)
                .ok_or(CharterError::CollegeWeightsDoNotSumToOne { total })?;
        }
        if total != Ratio::ONE {
            return Err(CharterError::CollegeWeightsDoNotSumToOne { total });
        }
        Ok(())
    }

    fn check_share_classes(&self) -> Result<(), CharterError> {
        if self.share_classes.is_empty() {
            return Err(CharterError::NoShareClass);
        }
        let mut seen = BTreeSet::new();
        for class in &self.share_classes {
            if !seen.insert(&class.id) {
                return Err(CharterError::DuplicateShareClass(class.id.clone()));
            }
            if class.nominal_value == Euros::ZERO {
                return Err(CharterError::ZeroNominalValue(class.id.clone()));
            }
        }
        Ok(())
    }

    fn check_decision_kinds(&self) -> Result<(), CharterError> {
        let mut seen = BTreeSet::new();
        for kind in &self.decision_kinds {
            if !seen.insert(&kind.id) {
                return Err(CharterError::DuplicateDecisionKind(kind.id.clone()));
            }
            proportion(
                format!("the first-call quorum of {}", kind.id),
                kind.quorum_first_call,
            )?;
            proportion(
                format!("the second-call quorum of {}", kind.id),
                kind.quorum_second_call,
            )?;
            proportion(
                format!("the majority of {}", kind.id),
                kind.majority.ratio(),
            )?;
            if kind.majority == Majority::MoreThan(Ratio::ONE) {
                return Err(CharterError::UnreachableMajority(kind.id.clone()));
            }
            self.colleges_defined(kind.college_majorities_required.iter())?;
            let weighted = self.colleges.iter().any(|c| c.weight.is_some());
            if kind.quorum_basis == QuorumBasis::CollegeWeighted && !weighted {
                return Err(CharterError::CollegeWeightedQuorumWithoutWeights(
                    kind.id.clone(),
                ));
            }
        }
        let reserved = &self.reserved;
        let used = [
            &reserved.charter_amendment,
            &reserved.capital_increase,
            &reserved.capital_reduction,
            &reserved.accounts,
        ];
        let approval = self.transfers.approval_of_new_holders.iter();
        for id in used.into_iter().chain(approval) {
            if self.decision_kind(id).is_none() {
                return Err(CharterError::UndefinedDecisionKind(id.clone()));
            }
        }
        Ok(())
    }

    fn check_transfer_rules(&self) -> Result<(), CharterError> {
        for cap in &self.transfers.caps {
            proportion(format!("the limit of \"{cap}\""), cap.limit())?;
            self.colleges_defined(cap.colleges().into_iter())?;
        }
        Ok(())
    }

    fn colleges_defined<'a>(
        &self,
        mut ids: impl Iterator<Item = &'a CollegeId>,
    ) -> Result<(), CharterError> {
        match ids.find(|id| self.college(id).is_none()) {
            Some(id) => Err(CharterError::UndefinedCollege(id.clone())),
            None => Ok(()),
        }
    }
}

fn proportion(what: String, value: Ratio) -> Result<(), CharterError> {
    if value.is_proportion() {
        Ok(())
    } else {
        Err(CharterError::NotAProportion { what, value })
    }
}

impl DecisionKind {
    /// Décision ordinaire: quorum 1/5 on first call, none on second; more
    /// than half of the votes cast.
    pub fn french_ordinary() -> Self {
        Self {
            id: default_kind("ordinary"),
            quorum_first_call: Ratio::percent(20),
            quorum_second_call: Ratio::ZERO,
            majority: Majority::MoreThan(Ratio::percent(50)),
            college_majorities_required: BTreeSet::new(),
            quorum_basis: QuorumBasis::Votes,
            veto: VetoBasis::Silence,
        }
    }

    /// Décision extraordinaire: quorum 1/4 on first call, 1/5 on second; at
    /// least two thirds of the votes cast.
    pub fn french_extraordinary() -> Self {
        Self {
            id: default_kind("extraordinary"),
            quorum_first_call: Ratio::percent(25),
            quorum_second_call: Ratio::percent(20),
            majority: Majority::AtLeast(Ratio::new(2, 3).unwrap_or(Ratio::ONE)),
            college_majorities_required: BTreeSet::new(),
            quorum_basis: QuorumBasis::Votes,
            veto: VetoBasis::Silence,
        }
    }
}

impl ReservedDecisions {
    /// Amending the charter and changing the capital are extraordinary
    /// decisions in French company law; the accounts are ordinary ones.
    pub fn french_default() -> Self {
        let extraordinary = default_kind("extraordinary");
        Self {
            charter_amendment: extraordinary.clone(),
            capital_increase: extraordinary.clone(),
            capital_reduction: extraordinary,
            accounts: ordinary_kind(),
        }
    }
}

fn default_kind(id: &'static str) -> DecisionKindId {
    // The literals above are valid slugs; the fallback is unreachable.
    DecisionKindId::new(id).unwrap_or_else(|_| unreachable!("{id} is a valid decision kind id"))
}
