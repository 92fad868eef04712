//! Properties of the tally, over random rolls and ballots run through the
//! meeting aggregate, against a brute-force count written plainly here.

use std::collections::BTreeMap;

use crate::meeting_support::*;
use num_bigint::BigInt;
use num_rational::BigRational;
use proptest::prelude::*;
use windledger_domain::charter::{Charter, Majority, VoteBasis};
use windledger_domain::meeting::{
    Call, Choice, MeetingCommand, Outcome, RejectionRule, ResolutionResult,
};
use windledger_domain::ratio::Ratio;
use windledger_domain::types::MeetingId;
use windledger_fixtures::farm::{self, block_on};

const COLLEGES: [&str; 4] = ["c0", "c1", "c2", "c3"];
const KINDS: [&str; 3] = [ORDINARY, EXTRAORDINARY, RESERVED];

/// Weights that a charter accepts (each 1/10..1/2, summing to 1), by number
/// of colleges.
fn weight_sets(n: usize) -> Vec<Vec<Ratio>> {
    match n {
        2 => vec![vec![ratio(1, 2), ratio(1, 2)]],
        3 => vec![
            vec![ratio(1, 2), ratio(1, 4), ratio(1, 4)],
            vec![ratio(2, 5), ratio(3, 10), ratio(3, 10)],
        ],
        4 => vec![
            vec![ratio(1, 4); 4],
            vec![ratio(2, 5), ratio(1, 5), ratio(1, 5), ratio(1, 5)],
        ],
        _ => vec![],
    }
}

#[derive(Debug, Clone)]
struct Case {
    colleges: usize,
    /// Index into `weight_sets`, or None for votes as they are.
    weights: Option<usize>,
    per_member: Vec<bool>,
    /// Colleges whose majority the `reserved` kind requires.
    reserved_to: Vec<bool>,
    /// (college, shares) per voter.
    voters: Vec<(usize, u64)>,
    /// (voter, one choice per resolution), in order cast.
    ballots: Vec<(usize, [Choice; 3])>,
    second_call: bool,
}

fn choice() -> impl Strategy<Value = Choice> {
    prop_oneof![
        Just(Choice::For),
        Just(Choice::Against),
        Just(Choice::Abstain)
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..=4)
        .prop_flat_map(|colleges| {
            let weights = if colleges >= 2 {
                prop::option::of(0..weight_sets(colleges).len()).boxed()
            } else {
                Just(None).boxed()
            };
            (
                Just(colleges),
                weights,
                prop::collection::vec(any::<bool>(), colleges),
                prop::collection::vec(prop::bool::weighted(0.3), colleges),
                prop::collection::vec((0..colleges, 1u64..2_000), 1..40),
                any::<bool>(),
            )
        })
        .prop_flat_map(
            |(colleges, weights, per_member, reserved_to, voters, second_call)| {
                let n = voters.len();
                let ballots =
                    prop::collection::vec((0..n, [choice(), choice(), choice()]), 0..(3 * n));
                (
                    Just(colleges),
                    Just(weights),
                    Just(per_member),
                    Just(reserved_to),
                    Just(voters),
                    ballots,
                    Just(second_call),
                )
            },
        )
        .prop_map(
            |(colleges, weights, per_member, reserved_to, voters, ballots, second_call)| Case {
                colleges,
                weights,
                per_member,
                reserved_to,
                voters,
                ballots,
                second_call,
            },
        )
}

impl Case {
    fn charter(&self) -> Charter {
        let weights = self.weights.map(|i| weight_sets(self.colleges)[i].clone());
        let colleges = (0..self.colleges)
            .map(|i| {
                let basis = if self.per_member[i] {
                    VoteBasis::PerMember
                } else {
                    VoteBasis::PerShare
                };
                college(COLLEGES[i], weights.as_ref().map(|w| w[i]), basis)
            })
            .collect();
        let reserved: Vec<&str> = (0..self.colleges)
            .filter(|&i| self.reserved_to[i])
            .map(|i| COLLEGES[i])
            .collect();
        let charter = charter(colleges, &reserved);
        charter.check().expect("the generated charter is valid");
        charter
    }

    fn holder(i: usize) -> String {
        format!("v{i:03}")
    }

    fn holders(&self) -> Vec<(String, &'static str, u64)> {
        self.voters
            .iter()
            .enumerate()
            .map(|(i, &(college, shares))| (Self::holder(i), COLLEGES[college], shares))
            .collect()
    }

    fn weight(&self, voter: usize) -> u64 {
        let (college, shares) = self.voters[voter];
        if self.per_member[college] { 1 } else { shares }
    }

    /// Runs the ballots in `order` through the aggregate and closes.
    async fn run(&self, ballots: &[(usize, [Choice; 3])]) -> Vec<ResolutionResult> {
        let holders = self.holders();
        let holders: Vec<(&str, &str, u64)> = holders
            .iter()
            .map(|(h, c, s)| (h.as_str(), *c, *s))
            .collect();
        let call = if self.second_call {
            Call::Second {
                first_call: MeetingId::new("first").expect("an id"),
            }
        } else {
            Call::First
        };
        let mut m = Assembly::open("prop", call, &self.charter(), &holders, &KINDS).await;
        for (voter, choices) in ballots {
            let choices = (0..3).map(|i| (m.resolution(i + 1), choices[i])).collect();
            m.run(MeetingCommand::CastBallot {
                voter: holder(Self::holder(*voter)),
                cast_by: holder(Self::holder(*voter)),
                choices,
                at: during(),
            })
            .await
            .expect("every voter is on the roll and votes in the window");
        }
        m.close().await
    }
}

fn big(n: u64) -> BigRational {
    BigRational::from_integer(BigInt::from(n))
}

fn frac(r: Ratio) -> BigRational {
    BigRational::new(BigInt::from(r.numerator()), BigInt::from(r.denominator()))
}

/// What the count must be, computed the plain way.
struct Expected {
    roll_total: u64,
    present: u64,
    votes_for: u64,
    votes_against: u64,
    share_for: Option<BigRational>,
    outcome: Outcome,
}

fn brute_force(case: &Case, resolution: usize) -> Expected {
    let charter = case.charter();
    let kind = charter
        .decision_kind(&farm::kind(KINDS[resolution]))
        .expect("the kind is in the charter");
    // The last ballot of each voter is the one in force.
    let mut last: BTreeMap<usize, Choice> = BTreeMap::new();
    for (voter, choices) in &case.ballots {
        last.insert(*voter, choices[resolution]);
    }
    let n = case.colleges;
    let (mut roll, mut present) = (0u64, 0u64);
    let mut for_ = vec![0u64; n];
    let mut against = vec![0u64; n];
    for voter in 0..case.voters.len() {
        roll += case.weight(voter);
    }
    for (&voter, &choice) in &last {
        let w = case.weight(voter);
        let college = case.voters[voter].0;
        present += w;
        match choice {
            Choice::For => for_[college] += w,
            Choice::Against => against[college] += w,
            Choice::Abstain => {}
        }
    }
    let total_for: u64 = for_.iter().sum();
    let total_against: u64 = against.iter().sum();

    let share_for = match case.weights {
        None => {
            (total_for + total_against > 0).then(|| big(total_for) / big(total_for + total_against))
        }
        Some(set) => {
            let weights = &weight_sets(n)[set];
            let mut cast_weight = big(0);
            for i in 0..n {
                if for_[i] + against[i] > 0 {
                    cast_weight += frac(weights[i]);
                }
            }
            if cast_weight == big(0) {
                None
            } else {
                let mut share = big(0);
                for i in 0..n {
                    if for_[i] + against[i] > 0 {
                        share += frac(weights[i]) / cast_weight.clone() * big(for_[i])
                            / big(for_[i] + against[i]);
                    }
                }
                Some(share)
            }
        }
    };

    let quorum = if case.second_call {
        kind.quorum_second_call
    } else {
        kind.quorum_first_call
    };
    let quorum_reached = big(present) >= frac(quorum) * big(roll);
    let majority_reached = match (&share_for, kind.majority) {
        (None, _) => false,
        (Some(s), Majority::MoreThan(t)) => *s > frac(t),
        (Some(s), Majority::AtLeast(t)) => *s >= frac(t),
    };
    let mut rules = Vec::new();
    if !quorum_reached {
        rules.push(RejectionRule::Quorum);
    }
    if !majority_reached {
        rules.push(RejectionRule::Majority);
    }
    for required in &kind.college_majorities_required {
        let i = COLLEGES
            .iter()
            .position(|id| *id == required.as_str())
            .expect("a generated college");
        if for_[i] <= against[i] {
            rules.push(RejectionRule::Veto {
                college: required.clone(),
            });
        }
    }
    Expected {
        roll_total: roll,
        present,
        votes_for: total_for,
        votes_against: total_against,
        share_for,
        outcome: if rules.is_empty() {
            Outcome::Adopted
        } else {
            Outcome::Rejected { rules }
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn the_tally_equals_a_brute_force_count(case in case()) {
        let results = block_on(case.run(&case.ballots));
        prop_assert_eq!(results.len(), 3);
        for (i, result) in results.iter().enumerate() {
            let expected = brute_force(&case, i);
            prop_assert_eq!(result.roll_total, expected.roll_total);
            prop_assert_eq!(result.present, expected.present);
            prop_assert_eq!(result.votes_for, expected.votes_for);
            prop_assert_eq!(result.votes_against, expected.votes_against);
            prop_assert_eq!(
                result.share_for.as_ref().map(|f| f.as_big_rational().clone()),
                expected.share_for
            );
            prop_assert_eq!(&result.outcome, &expected.outcome);
            // The colleges partition the roll.
            let by_college: u64 = result.colleges.iter().map(|c| c.roll_total).sum();
            prop_assert_eq!(by_college, result.roll_total);
            let present: u64 = result.colleges.iter().map(|c| c.present).sum();
            prop_assert_eq!(present, result.present);
        }
    }

    /// Only the last ballot of each voter counts, whatever the order in
    /// which voters' ballots interleave before the close.
    #[test]
    fn the_outcome_does_not_depend_on_the_order_of_ballots(
        case in case(),
        seed in any::<u64>(),
    ) {
        // Another interleaving that keeps each voter's own ballots in order:
        // deal the voters' queues out in a pseudo-random order.
        let mut queues: BTreeMap<usize, Vec<[Choice; 3]>> = BTreeMap::new();
        for (voter, choices) in &case.ballots {
            queues.entry(*voter).or_default().push(*choices);
        }
        let mut queues: Vec<(usize, std::collections::VecDeque<[Choice; 3]>)> =
            queues.into_iter().map(|(v, q)| (v, q.into())).collect();
        let mut state = seed | 1;
        let mut shuffled = Vec::new();
        while !queues.is_empty() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let i = (state % queues.len() as u64) as usize;
            let (voter, queue) = &mut queues[i];
            if let Some(choices) = queue.pop_front() {
                shuffled.push((*voter, choices));
            }
            if queue.is_empty() {
                queues.remove(i);
            }
        }
        prop_assert_eq!(block_on(case.run(&case.ballots)), block_on(case.run(&shuffled)));
    }
}
