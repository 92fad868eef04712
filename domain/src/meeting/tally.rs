//! Counting one resolution: quorum, majority and college vetoes.
//!
//! The rules, all exact (integers and fractions of big integers):
//! - Present or represented: the weight of the voters with a ballot in force
//!   (their own or their proxy's), abstentions included. The quorum is
//!   reached when present >= quorum x roll total (`present x d >= total x n`),
//!   counted as the decision kind's [`QuorumBasis`] says: on the roll's
//!   votes (the default), on the nominal value of the voting shares, on the
//!   colleges' turnouts weighted by their weights (the weight of a college
//!   with nobody on the roll shared among the others), or in every college
//!   with somebody on the roll, each on its own votes.
//! - Votes cast: for and against only; abstentions are not votes cast.
//! - Without college weights, the share for is for / (for + against).
//! - With college weights (SCIC style), the share for is the sum over the
//!   colleges where votes were cast of weight x for / (for + against) in that
//!   college; the weight of a college where no vote was cast is shared among
//!   the others in proportion to their weights, and the result says so.
//! - The majority is reached when the share for is above (`MoreThan`) or at
//!   least (`AtLeast`) the decision kind's fraction. No vote cast at all: not
//!   reached.
//! - A college whose majority the decision kind requires has a majority for
//!   when more than half of the votes cast in it are for. By default
//!   ([`VetoBasis::Silence`]) a required college without a majority for
//!   vetoes, so its silence is a veto; with [`VetoBasis::MajorityAgainst`]
//!   it vetoes only when more of its votes cast are against than for.
//! - Adopted only if quorum, majority and every required college's majority
//!   are reached. A rejection lists every rule that failed, in that order.

use std::fmt;
use std::str::FromStr;

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Zero};
use serde::{Deserialize, Serialize};

use rust_decimal::Decimal;

use super::types::{Choice, Roll, RollCollege, Voter};
use crate::charter::{DecisionKind, Majority, QuorumBasis, VetoBasis};
use crate::money::Euros;
use crate::ratio::Ratio;
use crate::types::{CollegeId, DecisionKindId, ResolutionId};

/// An exact non-negative fraction of unbounded integers, serialised as
/// `"n/d"` in lowest terms: the share of votes for, which with weighted
/// colleges has a denominator beyond 64 bits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(with = "String", extend("pattern" = "^[0-9]+/[0-9]+$"))
)]
pub struct Fraction(BigRational);

impl Fraction {
    pub fn new(num: impl Into<BigInt>, den: impl Into<BigInt>) -> Option<Self> {
        let den = den.into();
        if den.is_zero() {
            return None;
        }
        Some(Self(BigRational::new(num.into(), den)))
    }

    pub fn from_ratio(r: Ratio) -> Self {
        Self(BigRational::new(
            BigInt::from(r.numerator()),
            BigInt::from(r.denominator()),
        ))
    }

    pub fn as_big_rational(&self) -> &BigRational {
        &self.0
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0.numer(), self.0.denom())
    }
}

impl FromStr for Fraction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || format!("{s:?} is not a fraction \"n/d\"");
        let (n, d) = s.split_once('/').ok_or_else(invalid)?;
        let n: BigInt = n.parse().map_err(|_| invalid())?;
        let d: BigInt = d.parse().map_err(|_| invalid())?;
        if n < BigInt::zero() || d <= BigInt::zero() {
            return Err(invalid());
        }
        Self::new(n, d).ok_or_else(invalid)
    }
}

impl Serialize for Fraction {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The full count of one resolution, as recorded at the close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ResolutionResult {
    pub resolution: ResolutionId,
    pub decision_kind: DecisionKindId,
    /// Weight of the whole roll.
    pub roll_total: u64,
    /// Weight present or represented (ballots in force, abstentions included).
    pub present: u64,
    /// The quorum that applied (first or second call).
    pub quorum: Ratio,
    pub quorum_reached: bool,
    /// What the quorum counted; absent (and not written) for the roll's
    /// votes, when `present` over `roll_total` is what was compared.
    #[serde(default, skip_serializing_if = "QuorumBasis::is_default")]
    pub quorum_basis: QuorumBasis,
    /// The share present that was compared with the quorum, for a quorum
    /// on capital or weighted by college.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turnout: Option<Fraction>,
    /// For a quorum on capital: the nominal value of the roll's voting
    /// shares, and of those present or represented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capital: Option<CapitalCount>,
    pub votes_for: u64,
    pub votes_against: u64,
    pub abstentions: u64,
    /// Whether college weights applied.
    pub weighted: bool,
    /// Weighted colleges where no vote was cast, whose weight was shared
    /// among the others in proportion.
    pub weight_shared_from: Vec<CollegeId>,
    pub colleges: Vec<CollegeTally>,
    /// For / votes cast, weighted by college where the charter says so;
    /// `None` when no vote was cast.
    pub share_for: Option<Fraction>,
    pub majority: Majority,
    pub majority_reached: bool,
    /// When a required college vetoed; absent (and not written) for the
    /// default, silence included.
    #[serde(default, skip_serializing_if = "VetoBasis::is_default")]
    pub veto: VetoBasis,
    pub outcome: Outcome,
}

/// The capital a quorum on capital compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct CapitalCount {
    pub roll_total: Euros,
    pub present: Euros,
}

/// One college's part of a resolution's count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct CollegeTally {
    pub college: CollegeId,
    pub roll_total: u64,
    pub present: u64,
    pub votes_for: u64,
    pub votes_against: u64,
    pub abstentions: u64,
    /// The charter's weight.
    pub weight: Option<Ratio>,
    /// The weight applied after sharing out the weight of silent colleges
    /// (0 for a silent college).
    pub applied_weight: Option<Fraction>,
    /// More than half of the votes cast in the college are for.
    pub majority_for: bool,
    /// The decision kind requires this college's majority.
    pub majority_required: bool,
    /// For a quorum counted in every college: whether this one reached it
    /// (absent, and not written, otherwise, and for a college with nobody
    /// on the roll).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum_reached: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Adopted,
    Rejected { rules: Vec<RejectionRule> },
}

impl Outcome {
    pub fn is_adopted(&self) -> bool {
        matches!(self, Self::Adopted)
    }
}

/// A rule that was not met.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum RejectionRule {
    Quorum,
    /// A quorum counted in every college, not reached in this one.
    CollegeQuorum {
        college: CollegeId,
    },
    Majority,
    Veto {
        college: CollegeId,
    },
}

impl RejectionRule {
    /// A quorum not reached, overall or in a college: what lets a second
    /// call be convened.
    pub fn is_quorum(&self) -> bool {
        matches!(self, Self::Quorum | Self::CollegeQuorum { .. })
    }
}

impl fmt::Display for RejectionRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Quorum => f.write_str("quorum not reached"),
            Self::CollegeQuorum { college } => {
                write!(f, "quorum not reached in college {college}")
            }
            Self::Majority => f.write_str("majority not reached"),
            Self::Veto { college } => write!(f, "veto of college {college}"),
        }
    }
}

#[derive(Default)]
struct Counts {
    roll_total: u64,
    present: u64,
    for_: u64,
    against: u64,
    abstain: u64,
    capital_total: Decimal,
    capital_present: Decimal,
}

impl Counts {
    // Saturating: a roll's votes are bounded far below 2^64 (at most
    // 10^12 shares of a class x 100 votes, see `crate::input`), but a
    // count must never wrap or panic whatever the roll holds.
    fn add(&mut self, voter: &Voter, choice: Option<Choice>) {
        let weight = voter.weight;
        // Voting capital within the input's bounds is far inside a
        // Decimal; saturating all the same.
        let capital = voter.capital.map_or(Decimal::ZERO, Euros::amount);
        self.roll_total = self.roll_total.saturating_add(weight);
        self.capital_total = self.capital_total.saturating_add(capital);
        let Some(choice) = choice else { return };
        self.present = self.present.saturating_add(weight);
        self.capital_present = self.capital_present.saturating_add(capital);
        let count = match choice {
            Choice::For => &mut self.for_,
            Choice::Against => &mut self.against,
            Choice::Abstain => &mut self.abstain,
        };
        *count = count.saturating_add(weight);
    }

    fn cast(&self) -> u64 {
        self.for_.saturating_add(self.against)
    }

    fn turnout(&self) -> BigRational {
        share(
            BigRational::from_integer(self.present.into()),
            BigRational::from_integer(self.roll_total.into()),
        )
    }
}

/// `n / d`, and 1 for an empty whole (nothing to be present: every
/// quorum is met, as `present x d >= total x n` says for 0 >= 0).
fn share(n: BigRational, d: BigRational) -> BigRational {
    if d.is_zero() {
        BigRational::one()
    } else {
        n / d
    }
}

/// A decimal amount, exactly.
fn exactly(amount: Decimal) -> BigRational {
    BigRational::new(
        BigInt::from(amount.mantissa()),
        BigInt::from(10u8).pow(amount.scale()),
    )
}

/// A college's weight in the charter, 0 for an unweighted one.
fn weight_of(college: &RollCollege) -> BigRational {
    college
        .weight
        .map(|w| Fraction::from_ratio(w).0)
        .unwrap_or_else(BigRational::zero)
}

/// Whether the quorum is met, as the decision kind counts it, with the
/// share compared (for capital and college-weighted quorums) and each
/// college's own verdict (per college).
struct QuorumCount {
    reached: bool,
    turnout: Option<BigRational>,
    capital: Option<CapitalCount>,
    per_college: Vec<Option<bool>>,
}

fn count_quorum(
    basis: QuorumBasis,
    quorum: Ratio,
    roll: &Roll,
    total: &Counts,
    per_college: &[Counts],
) -> QuorumCount {
    let needed = Fraction::from_ratio(quorum).0;
    let mut count = QuorumCount {
        reached: false,
        turnout: None,
        capital: None,
        per_college: vec![None; per_college.len()],
    };
    match basis {
        QuorumBasis::Votes => {
            count.reached = u128::from(total.present) * u128::from(quorum.denominator())
                >= u128::from(total.roll_total) * u128::from(quorum.numerator());
        }
        QuorumBasis::Capital => {
            let turnout = share(exactly(total.capital_present), exactly(total.capital_total));
            count.reached = turnout >= needed;
            count.turnout = Some(turnout);
            count.capital = Euros::new(total.capital_total)
                .ok()
                .zip(Euros::new(total.capital_present).ok())
                .map(|(roll_total, present)| CapitalCount {
                    roll_total,
                    present,
                });
        }
        QuorumBasis::CollegeWeighted => {
            let mut weights = BigRational::zero();
            let mut weighted = BigRational::zero();
            for (college, counts) in roll.colleges.iter().zip(per_college) {
                if counts.roll_total == 0 {
                    continue;
                }
                let w = weight_of(college);
                weighted += &w * counts.turnout();
                weights += w;
            }
            let turnout = share(weighted, weights);
            count.reached = turnout >= needed;
            count.turnout = Some(turnout);
        }
        QuorumBasis::PerCollege => {
            count.reached = true;
            for (i, counts) in per_college.iter().enumerate() {
                if counts.roll_total == 0 {
                    continue;
                }
                let reached = counts.turnout() >= needed;
                count.reached &= reached;
                count.per_college[i] = Some(reached);
            }
        }
    }
    count
}

/// Counts one resolution. `choice_of` gives the choice in force of each
/// voter of the roll on this resolution (`None`: no ballot).
///
/// Weights are summed in `u64`: a roll's total is bounded by shares x votes
/// per share, which the company stream keeps far below 2^64.
pub fn tally<'a>(
    resolution: &ResolutionId,
    kind: &DecisionKind,
    quorum: Ratio,
    roll: &'a Roll,
    choice_of: impl Fn(&'a Voter) -> Option<Choice>,
) -> ResolutionResult {
    let mut total = Counts::default();
    let mut per_college: Vec<Counts> = roll.colleges.iter().map(|_| Counts::default()).collect();
    for voter in &roll.voters {
        let choice = choice_of(voter);
        total.add(voter, choice);
        if let Some(i) = roll.colleges.iter().position(|c| c.id == voter.college) {
            per_college[i].add(voter, choice);
        }
    }

    let quorum_count = count_quorum(kind.quorum_basis, quorum, roll, &total, &per_college);
    let quorum_reached = quorum_count.reached;

    let weighted = roll.colleges.iter().any(|c| c.weight.is_some());
    let mut weight_shared_from = Vec::new();
    let mut applied: Vec<Option<BigRational>> = vec![None; roll.colleges.len()];
    let share_for = if weighted {
        let voting_weight: BigRational = (0..roll.colleges.len())
            .filter(|&i| per_college[i].cast() > 0)
            .map(|i| weight_of(&roll.colleges[i]))
            .sum();
        for (i, college) in roll.colleges.iter().enumerate() {
            if per_college[i].cast() == 0 {
                weight_shared_from.push(college.id.clone());
                applied[i] = Some(BigRational::zero());
            } else if !voting_weight.is_zero() {
                applied[i] = Some(weight_of(college) / &voting_weight);
            }
        }
        if voting_weight.is_zero() {
            None
        } else {
            let mut share = BigRational::zero();
            for (i, counts) in per_college.iter().enumerate() {
                if let (Some(w), true) = (&applied[i], counts.cast() > 0) {
                    share += w * BigRational::new(counts.for_.into(), counts.cast().into());
                }
            }
            Some(share)
        }
    } else if total.cast() == 0 {
        None
    } else {
        Some(BigRational::new(total.for_.into(), total.cast().into()))
    };

    let majority_reached = share_for.as_ref().is_some_and(|share| match kind.majority {
        Majority::MoreThan(r) => *share > Fraction::from_ratio(r).0,
        Majority::AtLeast(r) => *share >= Fraction::from_ratio(r).0,
    });

    let colleges: Vec<CollegeTally> = roll
        .colleges
        .iter()
        .zip(&per_college)
        .zip(applied)
        .zip(&quorum_count.per_college)
        .map(
            |(((college, counts), applied), quorum_reached)| CollegeTally {
                college: college.id.clone(),
                roll_total: counts.roll_total,
                present: counts.present,
                votes_for: counts.for_,
                votes_against: counts.against,
                abstentions: counts.abstain,
                weight: college.weight,
                applied_weight: applied.map(Fraction),
                majority_for: counts.for_ > counts.against,
                majority_required: kind.college_majorities_required.contains(&college.id),
                quorum_reached: *quorum_reached,
            },
        )
        .collect();

    let mut rules = Vec::new();
    if kind.quorum_basis == QuorumBasis::PerCollege {
        for c in &colleges {
            if c.quorum_reached == Some(false) {
                rules.push(RejectionRule::CollegeQuorum {
                    college: c.college.clone(),
                });
            }
        }
    } else if !quorum_reached {
        rules.push(RejectionRule::Quorum);
    }
    if !majority_reached {
        rules.push(RejectionRule::Majority);
    }
    for required in &kind.college_majorities_required {
        let in_college = colleges.iter().find(|c| &c.college == required);
        let vetoes = match kind.veto {
            VetoBasis::Silence => !in_college.is_some_and(|c| c.majority_for),
            VetoBasis::MajorityAgainst => in_college.is_some_and(|c| c.votes_against > c.votes_for),
        };
        if vetoes {
            rules.push(RejectionRule::Veto {
                college: required.clone(),
            });
        }
    }
    let outcome = if rules.is_empty() {
        Outcome::Adopted
    } else {
        Outcome::Rejected { rules }
    };

    ResolutionResult {
        resolution: resolution.clone(),
        decision_kind: kind.id.clone(),
        roll_total: total.roll_total,
        present: total.present,
        quorum,
        quorum_reached,
        quorum_basis: kind.quorum_basis,
        turnout: quorum_count.turnout.map(Fraction),
        capital: quorum_count.capital,
        votes_for: total.for_,
        votes_against: total.against,
        abstentions: total.abstain,
        weighted,
        weight_shared_from,
        colleges,
        share_for: share_for.map(Fraction),
        majority: kind.majority,
        majority_reached,
        veto: kind.veto,
        outcome,
    }
}

impl Fraction {
    /// One, exactly.
    pub fn one() -> Self {
        Self(BigRational::one())
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::charter::VoteBasis;
    use crate::meeting::types::RollCollege;
    use crate::types::HolderId;

    /// Weights a roll cannot hold once the input is bounded, but which a
    /// count must never wrap or panic on: the sums stop at 2^64 - 1.
    #[test]
    fn votes_beyond_64_bits_saturate_rather_than_wrap() {
        let college = CollegeId::new("associes").expect("a college id");
        let voter = |id: &str| Voter {
            holder: HolderId::new(id).expect("a holder id"),
            college: college.clone(),
            shares: 0,
            weight: u64::MAX / 2 + 1,
            capital: None,
        };
        let roll = Roll {
            record_date: NaiveDate::from_ymd_opt(2025, 6, 10).expect("a date"),
            colleges: vec![RollCollege {
                id: college.clone(),
                weight: None,
                vote_basis: VoteBasis::PerShare,
            }],
            voters: vec![voter("a"), voter("b")],
            max_proxies_held: None,
        };
        assert_eq!(roll.total_weight(), u64::MAX);
        let result = tally(
            &ResolutionId::new("ag.1").expect("a resolution id"),
            &DecisionKind::french_ordinary(),
            Ratio::percent(20),
            &roll,
            |_| Some(Choice::For),
        );
        assert_eq!(result.roll_total, u64::MAX);
        assert_eq!(result.votes_for, u64::MAX);
        assert!(result.quorum_reached && result.majority_reached);
    }
}
