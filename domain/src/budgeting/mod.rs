//! Participatory budgeting: which projects of the territory's fund a
//! budgeting round pays for, from the residents' approval ballots.
//!
//! Two methods, chosen per round:
//! - [`Method::GreedyApproval`], what most cities use: projects in order of
//!   their votes, each funded if its cost fits in what is left of the
//!   budget, skipped otherwise;
//! - [`Method::EqualShares`], the Method of Equal Shares (Peters and
//!   Skowron; used in Wieliczka, Aarau and elsewhere, see equalshares.net):
//!   the budget is split equally among the voters, and a project is funded
//!   when its supporters can pay for it from their shares, the project that
//!   asks the least of each of its supporters per euro of its cost first.
//!   Voters' utility for a project is its cost ("cost utilities", as
//!   equalshares.net computes it). Money no group of supporters can spend
//!   is not spent: it stays in the fund.
//!
//! Ties are broken by a rule stated in advance: the lower cost first, then
//! the earlier submission (the order of [`Election::projects`]). A project
//! no one voted for is never funded.
//!
//! Both methods are exact: amounts are whole cents and the shares of Equal
//! Shares are exact fractions, so an outcome never depends on rounding. The
//! outcome equals that of the `pabutools` library (`greedy_utilitarian_welfare`
//! and `method_of_equal_shares` with `Cost_Sat`) on the same election, with
//! the same tie-breaking (tested on generated elections and on elections
//! from Pabulib, in `domain/tests/domain/budgeting.rs`); [`pabulib`] writes
//! and reads the election in Pabulib's `.pb` format.

mod equal_shares;
pub mod fund;
mod greedy;
pub mod pabulib;
pub mod round;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::money::Euros;

/// How a round turns ballots into funded projects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub enum Method {
    /// By number of votes, each project funded if it fits in what is left.
    GreedyApproval,
    /// The Method of Equal Shares, with cost utilities.
    EqualShares,
}

/// A project on the ballot: an id (unique in the election) and its cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub cost: Euros,
}

/// An election of a budgeting round: the budget, the eligible projects in
/// order of submission, and one approval ballot per voter (the indices of
/// the projects the voter approves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Election {
    budget: Euros,
    projects: Vec<Project>,
    ballots: Vec<Vec<u32>>,
}

/// Why an election cannot be counted.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ElectionError {
    #[error("the budget must be a positive amount in whole cents, not {budget}")]
    Budget { budget: Euros },
    #[error("project {project}: its cost must be a positive amount in whole cents, not {cost}")]
    Cost { project: String, cost: Euros },
    #[error("project {project} is on the ballot twice")]
    DuplicateProject { project: String },
    #[error("ballot {ballot} approves project number {index}, which is not on the ballot")]
    UnknownProject { ballot: usize, index: usize },
    #[error("an election holds at most {max} projects")]
    TooManyProjects { max: usize },
}

impl Election {
    /// Most projects one election may hold (their indices are `u32`).
    pub const MAX_PROJECTS: usize = 1 << 20;

    /// The election, or why it cannot be counted. A ballot approving a
    /// project twice approves it once.
    pub fn new(
        budget: Euros,
        projects: Vec<Project>,
        ballots: Vec<Vec<usize>>,
    ) -> Result<Self, ElectionError> {
        if budget.cents().is_none_or(|c| c == 0) {
            return Err(ElectionError::Budget { budget });
        }
        if projects.len() > Self::MAX_PROJECTS {
            return Err(ElectionError::TooManyProjects {
                max: Self::MAX_PROJECTS,
            });
        }
        let mut ids = std::collections::BTreeSet::new();
        for project in &projects {
            if project.cost.cents().is_none_or(|c| c == 0) {
                return Err(ElectionError::Cost {
                    project: project.id.clone(),
                    cost: project.cost,
                });
            }
            if !ids.insert(project.id.as_str()) {
                return Err(ElectionError::DuplicateProject {
                    project: project.id.clone(),
                });
            }
        }
        let ballots = ballots
            .into_iter()
            .enumerate()
            .map(|(ballot, mut approved)| {
                approved.sort_unstable();
                approved.dedup();
                approved
                    .into_iter()
                    .map(|index| {
                        if index < projects.len() {
                            Ok(index as u32)
                        } else {
                            Err(ElectionError::UnknownProject { ballot, index })
                        }
                    })
                    .collect()
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            budget,
            projects,
            ballots,
        })
    }

    pub fn budget(&self) -> Euros {
        self.budget
    }

    pub fn projects(&self) -> &[Project] {
        &self.projects
    }

    /// The ballots: each the indices of the projects it approves, ascending.
    pub fn ballots(&self) -> &[Vec<u32>] {
        &self.ballots
    }

    /// The number of ballots approving each project.
    pub fn votes(&self) -> Vec<u64> {
        let mut votes = vec![0; self.projects.len()];
        for ballot in &self.ballots {
            for &project in ballot {
                votes[project as usize] += 1;
            }
        }
        votes
    }

    /// The outcome under `method`.
    pub fn outcome(&self, method: Method) -> Outcome {
        match method {
            Method::GreedyApproval => greedy::outcome(self),
            Method::EqualShares => equal_shares::outcome(self),
        }
    }

    fn budget_cents(&self) -> u64 {
        self.budget.cents().expect("checked by Election::new")
    }

    fn cost_cents(&self, project: usize) -> u64 {
        self.projects[project]
            .cost
            .cents()
            .expect("checked by Election::new")
    }

    /// The tie-breaking order: the lower cost first, then the earlier
    /// submission.
    fn tie_break_key(&self, project: usize) -> (u64, usize) {
        (self.cost_cents(project), project)
    }
}

/// What a round decided: the projects funded in the order the method chose
/// them, what they cost, and for every project its votes and why it was or
/// was not funded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Outcome {
    pub method: Method,
    /// Indices of the funded projects, in the order they were chosen.
    pub funded: Vec<usize>,
    /// What the funded projects cost together.
    pub spent: Euros,
    /// One per project, in the election's order.
    pub projects: Vec<ProjectOutcome>,
}

/// One project's votes and decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ProjectOutcome {
    pub votes: u64,
    pub decision: Decision,
}

/// Why a project was or was not funded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub enum Decision {
    /// Funded, chosen `rank`-th (from 1). Under Equal Shares, `largest_share`
    /// is the most any one supporter paid towards it from their share of the
    /// budget, rounded to the cent.
    Funded {
        rank: usize,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        largest_share: Option<Euros>,
    },
    /// No ballot approved it.
    NoVotes,
    /// Greedy approval: when its turn came, what was left of the budget was
    /// less than its cost.
    OverRemainingBudget { remaining: Euros },
    /// Equal Shares: what its supporters had left of their shares, rounded
    /// down to the cent, was less than its cost.
    SupportersShort { their_shares: Euros },
}

impl Outcome {
    fn new(method: Method, votes: Vec<u64>) -> Self {
        Self {
            method,
            funded: Vec::new(),
            spent: Euros::ZERO,
            projects: votes
                .into_iter()
                .map(|votes| ProjectOutcome {
                    votes,
                    decision: Decision::NoVotes,
                })
                .collect(),
        }
    }

    fn fund(&mut self, election: &Election, project: usize, largest_share: Option<Euros>) {
        self.funded.push(project);
        self.spent =
            Euros::from_cents(self.spent.cents().unwrap_or(0) + election.cost_cents(project));
        self.projects[project].decision = Decision::Funded {
            rank: self.funded.len(),
            largest_share,
        };
    }
}
