//! Greedy approval: projects by votes (ties by the election's rule), each
//! funded if it fits in what is left of the budget.

use std::cmp::Reverse;

use super::{Decision, Election, Method, Outcome};
use crate::money::Euros;

pub(super) fn outcome(election: &Election) -> Outcome {
    let votes = election.votes();
    let mut order: Vec<usize> = (0..election.projects.len())
        .filter(|&p| votes[p] > 0)
        .collect();
    order.sort_unstable_by_key(|&p| (Reverse(votes[p]), election.tie_break_key(p)));
    let mut outcome = Outcome::new(Method::GreedyApproval, votes);
    let mut remaining = election.budget_cents();
    for project in order {
        let cost = election.cost_cents(project);
        if cost <= remaining {
            remaining -= cost;
            outcome.fund(election, project, None);
        } else {
            outcome.projects[project].decision = Decision::OverRemainingBudget {
                remaining: Euros::from_cents(remaining),
            };
        }
    }
    outcome
}
