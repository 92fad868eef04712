//! The Method of Equal Shares with cost utilities, exact.
//!
//! Every voter starts with an equal share of the budget. In each step, for
//! each project still in the running, the least payment `q` such that its
//! supporters, each paying `q` or all they have left if that is less, cover
//! its cost; the project whose `q / cost` is the least is funded (ties by
//! the election's rule) and its supporters pay. A project whose supporters
//! together have less than its cost left drops out for good. The method
//! stops when no project is left.
//!
//! Shares are exact fractions kept over one common denominator: every
//! voter's share is `budget[i] / denominator` cents, so comparing two
//! shares compares two integers. Funding a project whose payment is
//! `x / (k * denominator)` multiplies the denominator by `k` (reduced).
//! A project's ratio `q / cost` can only grow as voters spend, so the one
//! computed in an earlier step bounds it from below: each step evaluates
//! projects in order of that bound and stops once the bound exceeds the
//! best ratio found (as pabutools does).

use std::cmp::Ordering;

use num_bigint::BigUint;
use num_integer::Integer;
use num_traits::{ToPrimitive, Zero};

use super::{Decision, Election, Method, Outcome};
use crate::money::Euros;

/// `num / den`, both positive.
#[derive(Debug, Clone)]
struct Ratio {
    num: BigUint,
    den: BigUint,
}

impl Ratio {
    fn cmp(&self, other: &Self) -> Ordering {
        (&self.num * &other.den).cmp(&(&other.num * &self.den))
    }
}

struct Candidate {
    project: usize,
    cost: BigUint,
    supporters: Vec<u32>,
    /// `q / cost` when last evaluated: a lower bound of its current one.
    ratio: Ratio,
}

/// What funding a candidate asks of its supporters now.
struct Price {
    /// Each supporter pays `payment / (rich * denominator)` cents, or all
    /// they have if that is less.
    payment: BigUint,
    rich: u64,
}

struct Shares {
    /// Each voter's share left, in cents times `denominator`.
    left: Vec<BigUint>,
    denominator: BigUint,
}

impl Shares {
    /// What the supporters of `candidate` have left together, in cents
    /// times the denominator.
    fn of(&self, candidate: &Candidate) -> BigUint {
        candidate
            .supporters
            .iter()
            .map(|&v| &self.left[v as usize])
            .sum()
    }

    /// The least payment that covers the candidate's cost, if its
    /// supporters can cover it.
    fn price(&self, candidate: &Candidate, scratch: &mut Vec<u32>) -> Option<Price> {
        let cost = &candidate.cost * &self.denominator;
        if self.of(candidate) < cost {
            return None;
        }
        scratch.clear();
        scratch.extend_from_slice(&candidate.supporters);
        scratch.sort_unstable_by(|&a, &b| self.left[a as usize].cmp(&self.left[b as usize]));
        let mut paid = BigUint::zero();
        let mut rich = scratch.len() as u64;
        for &voter in scratch.iter() {
            let left = &self.left[voter as usize];
            // Those not yet counted pay (cost - paid) / rich each: this one
            // can if that is at most what it has left.
            let due = &cost - &paid;
            if due <= left * rich {
                return Some(Price { payment: due, rich });
            }
            paid += left;
            rich -= 1;
        }
        // The supporters cover the cost, so the last one can always pay.
        unreachable!("supporters who cover a cost pay it")
    }

    /// The supporters of `candidate` pay `price`.
    fn pay(&mut self, candidate: &Candidate, price: &Price) -> BigUint {
        let rich = BigUint::from(price.rich);
        let gcd = price.payment.gcd(&rich);
        let payment = &price.payment / &gcd;
        let scale = rich / gcd;
        if scale != BigUint::from(1u8) {
            for left in &mut self.left {
                if !left.is_zero() {
                    *left *= &scale;
                }
            }
            self.denominator *= &scale;
        }
        for &voter in &candidate.supporters {
            let left = &mut self.left[voter as usize];
            if *left > payment {
                *left -= &payment;
            } else {
                left.set_zero();
            }
        }
        payment
    }

    /// `amount / denominator` cents as euros, rounded to the nearest cent
    /// (half up), or down.
    fn euros(&self, amount: &BigUint, round_down: bool) -> Euros {
        let (mut cents, rest) = amount.div_rem(&self.denominator);
        if !round_down && rest * 2u8 >= self.denominator {
            cents += 1u8;
        }
        Euros::from_cents(cents.to_u64().unwrap_or(u64::MAX))
    }
}

pub(super) fn outcome(election: &Election) -> Outcome {
    let votes = election.votes();
    let mut outcome = Outcome::new(Method::EqualShares, votes.clone());
    let voters = election.ballots.len();
    if voters == 0 {
        return outcome;
    }
    let mut supporters = vec![Vec::new(); election.projects.len()];
    for (voter, ballot) in election.ballots.iter().enumerate() {
        for &project in ballot {
            supporters[project as usize].push(voter as u32);
        }
    }
    let mut candidates: Vec<Candidate> = supporters
        .into_iter()
        .enumerate()
        .filter(|(_, supporters)| !supporters.is_empty())
        .map(|(project, supporters)| Candidate {
            project,
            cost: BigUint::from(election.cost_cents(project)),
            ratio: Ratio {
                num: BigUint::from(1u8),
                den: BigUint::from(supporters.len()),
            },
            supporters,
        })
        .collect();
    // Each voter's share: budget / voters cents.
    let mut shares = Shares {
        left: vec![BigUint::from(election.budget_cents()); voters],
        denominator: BigUint::from(voters),
    };
    let mut scratch = Vec::new();
    loop {
        candidates.sort_by(|a, b| a.ratio.cmp(&b.ratio));
        let mut best: Option<(Ratio, Vec<(usize, Price)>)> = None;
        let mut dropped = Vec::new();
        for (at, candidate) in candidates.iter_mut().enumerate() {
            if let Some((best_ratio, _)) = &best
                && candidate.ratio.cmp(best_ratio) == Ordering::Greater
            {
                break;
            }
            let Some(price) = shares.price(candidate, &mut scratch) else {
                dropped.push(at);
                continue;
            };
            // q / cost = payment / (rich * denominator * cost)
            candidate.ratio = Ratio {
                num: price.payment.clone(),
                den: BigUint::from(price.rich) * &shares.denominator * &candidate.cost,
            };
            match &mut best {
                Some((ratio, tied)) => match candidate.ratio.cmp(ratio) {
                    Ordering::Less => best = Some((candidate.ratio.clone(), vec![(at, price)])),
                    Ordering::Equal => tied.push((at, price)),
                    Ordering::Greater => {}
                },
                None => best = Some((candidate.ratio.clone(), vec![(at, price)])),
            }
        }
        let chosen = best.and_then(|(_, tied)| {
            tied.into_iter()
                .min_by_key(|(at, _)| election.tie_break_key(candidates[*at].project))
        });
        for &at in dropped.iter().rev() {
            let candidate = &candidates[at];
            outcome.projects[candidate.project].decision = Decision::SupportersShort {
                their_shares: shares.euros(&shares.of(candidate), true),
            };
        }
        let Some((at, price)) = chosen else {
            return outcome;
        };
        let payment = shares.pay(&candidates[at], &price);
        let largest = shares.euros(&payment, false);
        outcome.fund(election, candidates[at].project, Some(largest));
        // Remove the funded and the dropped, highest position first.
        let mut gone = dropped;
        gone.push(at);
        gone.sort_unstable();
        for at in gone.into_iter().rev() {
            candidates.swap_remove(at);
        }
    }
}
