//! Participatory budgeting's rules (domain/src/budgeting): worked examples,
//! properties over drawn elections, the `.pb` format, and the outcome of
//! every election equal to that of pabutools (from PyPI) on the same file,
//! over drawn elections with ties and near-ties and over elections from
//! Pabulib (domain/tests/pabulib, see its README).
//!
//! The comparison runs pabutools through `windledger_fixtures::budgeting::
//! pabutools`; where pabutools is not installed it says so and passes,
//! unless `WINDLEDGER_REQUIRE_PABUTOOLS=1` (as in CI), where it fails.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use windledger_domain::budgeting::pabulib::{self, Meta, PabulibError};
use windledger_domain::budgeting::{Decision, Election, ElectionError, Method, Outcome, Project};
use windledger_domain::money::Euros;
use windledger_fixtures::budgeting::{Shape, election as drawn, pabutools};
use windledger_fixtures::rng::Rng;

use crate::common::eur;

const METHODS: [Method; 2] = [Method::GreedyApproval, Method::EqualShares];

fn project(id: &str, cost: &str) -> Project {
    Project {
        id: id.to_owned(),
        cost: eur(cost),
    }
}

/// `counts[p]` ballots approving project `p` alone, then `shared` ballots.
fn ballots(counts: &[usize]) -> Vec<Vec<usize>> {
    counts
        .iter()
        .enumerate()
        .flat_map(|(p, &n)| std::iter::repeat_n(vec![p], n))
        .collect()
}

/// An election that can be counted: `budget` over `projects` (id, cost).
fn election(budget: &str, projects: &[(&str, &str)], ballots: Vec<Vec<usize>>) -> Election {
    let projects = projects
        .iter()
        .map(|(id, cost)| project(id, cost))
        .collect();
    Election::new(eur(budget), projects, ballots).unwrap()
}

fn funded(rank: usize, largest_share: Option<&str>) -> Decision {
    Decision::Funded {
        rank,
        largest_share: largest_share.map(eur),
    }
}

fn supporters_short(their_shares: &str) -> Decision {
    Decision::SupportersShort {
        their_shares: eur(their_shares),
    }
}

fn funded_ids(election: &Election, outcome: &Outcome) -> Vec<String> {
    outcome
        .funded
        .iter()
        .map(|&p| election.projects()[p].id.clone())
        .collect()
}

#[test]
fn greedy_approval_funds_by_votes_and_skips_what_no_longer_fits() {
    // Pabulib's worked example: 500,000 to spend.
    let election = election(
        "500000",
        &[
            ("festival", "100000"),
            ("playground", "200000"),
            ("fountain", "250000"),
            ("bike_path", "150000"),
            ("trees", "80000"),
            ("nobody", "10"),
        ],
        ballots(&[180, 150, 140, 120, 90, 0]),
    );
    let outcome = election.outcome(Method::GreedyApproval);
    assert_eq!(
        funded_ids(&election, &outcome),
        ["festival", "playground", "bike_path"]
    );
    assert_eq!(outcome.spent, eur("450000"));
    let decisions: Vec<&Decision> = outcome.projects.iter().map(|p| &p.decision).collect();
    let over = |remaining: &str| Decision::OverRemainingBudget {
        remaining: eur(remaining),
    };
    assert_eq!(
        decisions,
        [
            &funded(1, None),
            &funded(2, None),
            &over("200000"),
            &funded(3, None),
            &over("50000"),
            // Cheap enough, but no one asked for it.
            &Decision::NoVotes,
        ]
    );
    let votes: Vec<u64> = outcome.projects.iter().map(|p| p.votes).collect();
    assert_eq!(votes, [180, 150, 140, 120, 90, 0]);
}

#[test]
fn equal_shares_funds_what_its_supporters_can_pay_from_their_shares() {
    // 300 for 3 voters: 100 each. A (200) is wanted by the first two, B
    // (100) by the third, C (150) by all three.
    let ballots = vec![vec![0, 2], vec![0, 2], vec![1, 2]];
    let election = election("300", &[("A", "200"), ("B", "100"), ("C", "150")], ballots);
    let outcome = election.outcome(Method::EqualShares);
    // C asks 50 of each of its 3 supporters (50 per 150: 1/3); A asks 100
    // of each of 2 (100 per 200: 1/2); B asks 100 of 1 (1). C first, which
    // leaves 50 to each voter: A's supporters have 100 of its 200, B's 50 of
    // its 100.
    assert_eq!(funded_ids(&election, &outcome), ["C"]);
    assert_eq!(outcome.spent, eur("150"));
    assert_eq!(outcome.projects[2].decision, funded(1, Some("50")));
    assert_eq!(outcome.projects[0].decision, supporters_short("100"));
    assert_eq!(outcome.projects[1].decision, supporters_short("50"));
    // Greedy approval funds C (3 votes), then skips A (200 > 150 left) and
    // funds B: the third voter's project, but with the first two's money.
    let greedy = election.outcome(Method::GreedyApproval);
    assert_eq!(funded_ids(&election, &greedy), ["C", "B"]);
}

#[test]
fn equal_shares_lets_a_small_community_fund_its_project() {
    // A territory of two communes: 8 voters in the larger one want the
    // swimming pool (90), 7 of them the library (60) too; 2 in the smaller
    // one want their school garden (20). 100 to spend: 10 per voter.
    let mut ballots = vec![vec![0, 1]; 7];
    ballots.push(vec![0]);
    ballots.extend(vec![vec![2]; 2]);
    let projects = [("pool", "90"), ("library", "60"), ("garden", "20")];
    let election = election("100", &projects, ballots);
    // Greedy: the pool (8 votes) takes 90 of the 100, and nothing else fits.
    let greedy = election.outcome(Method::GreedyApproval);
    assert_eq!(funded_ids(&election, &greedy), ["pool"]);
    // Equal Shares: the pool is beyond its supporters' 8 x 10; the library
    // asks 60 / 7 of each of its 7 (1/7 per euro), the garden 10 of each of
    // its 2 (1/2 per euro): the library, then the garden, which the smaller
    // commune pays for from its own shares.
    let shares = election.outcome(Method::EqualShares);
    assert_eq!(funded_ids(&election, &shares), ["library", "garden"]);
    assert_eq!(shares.projects[1].decision, funded(1, Some("8.57")));
    assert_eq!(shares.projects[2].decision, funded(2, Some("10")));
    assert_eq!(shares.projects[0].decision, supporters_short("80"));
}

#[test]
fn ties_go_to_the_lower_cost_then_the_earlier_submission() {
    let projects = || {
        vec![
            project("later_dearer", "60"),
            project("earlier", "50"),
            project("later", "50"),
        ]
    };
    // Same votes: the cheaper first; same cost too: the earlier.
    let election = Election::new(eur("110"), projects(), ballots(&[3, 3, 3])).unwrap();
    let greedy = election.outcome(Method::GreedyApproval);
    assert_eq!(funded_ids(&election, &greedy), ["earlier", "later"]);
    assert_eq!(
        greedy.projects[0].decision,
        Decision::OverRemainingBudget {
            remaining: eur("10")
        }
    );
    // Equal Shares, 300 for 9 voters: each project asks a third of its cost
    // of each of its 3 supporters, 1/3 per euro: a tie, broken the same way.
    let election = Election::new(eur("300"), projects(), ballots(&[3, 3, 3])).unwrap();
    let shares = election.outcome(Method::EqualShares);
    assert_eq!(
        funded_ids(&election, &shares),
        ["earlier", "later", "later_dearer"]
    );
}

#[test]
fn an_election_that_cannot_be_counted_says_why() {
    let one = || vec![project("a", "10")];
    assert_eq!(
        Election::new(eur("0"), one(), vec![]),
        Err(ElectionError::Budget { budget: eur("0") })
    );
    assert_eq!(
        Election::new(eur("10.001"), one(), vec![]),
        Err(ElectionError::Budget {
            budget: eur("10.001")
        })
    );
    assert_eq!(
        Election::new(eur("10"), vec![project("a", "0")], vec![]),
        Err(ElectionError::Cost {
            project: "a".into(),
            cost: eur("0")
        })
    );
    assert_eq!(
        Election::new(
            eur("10"),
            vec![project("a", "1"), project("a", "2")],
            vec![]
        ),
        Err(ElectionError::DuplicateProject {
            project: "a".into()
        })
    );
    assert_eq!(
        Election::new(eur("10"), one(), vec![vec![0], vec![1]]),
        Err(ElectionError::UnknownProject {
            ballot: 1,
            index: 1
        })
    );
    // A ballot approving twice approves once.
    let twice = Election::new(eur("10"), one(), vec![vec![0, 0]]).unwrap();
    assert_eq!(twice.votes(), [1]);
    // No voters: nothing is funded.
    let empty = Election::new(eur("10"), one(), vec![]).unwrap();
    for method in METHODS {
        assert!(empty.outcome(method).funded.is_empty());
    }
}

/// The elections the properties and the comparison draw: small ones with
/// ties and near-ties, and some without.
fn elections(count: u64) -> Vec<Election> {
    (0..count)
        .map(|seed| {
            let mut rng = Rng::xoshiro(0x00B0_D6E7 + seed);
            let shape = Shape {
                voters: rng.between(0, 150) as usize,
                projects: rng.between(1, 14) as usize,
                ties: seed % 4 != 3,
            };
            drawn(&mut rng, shape)
        })
        .collect()
}

/// The same election with its projects listed in the other order (and so
/// its ties broken the other way where costs are equal).
fn reversed(election: &Election) -> Election {
    let last = election.projects().len() - 1;
    Election::new(
        election.budget(),
        election.projects().iter().rev().cloned().collect(),
        election
            .ballots()
            .iter()
            .map(|b| b.iter().map(|&p| last - p as usize).collect())
            .collect(),
    )
    .unwrap()
}

fn scaled(election: &Election, factor: u64) -> Election {
    let scale = |e: Euros| Euros::from_cents(e.cents().unwrap() * factor);
    Election::new(
        scale(election.budget()),
        election
            .projects()
            .iter()
            .map(|p| Project {
                id: p.id.clone(),
                cost: scale(p.cost),
            })
            .collect(),
        election
            .ballots()
            .iter()
            .map(|b| b.iter().map(|&p| p as usize).collect())
            .collect(),
    )
    .unwrap()
}

#[test]
fn outcomes_keep_to_the_budget_and_explain_every_project() {
    for election in elections(300) {
        let votes = election.votes();
        for method in METHODS {
            let outcome = election.outcome(method);
            assert!(outcome.spent <= election.budget());
            let spent: u64 = outcome
                .funded
                .iter()
                .map(|&p| election.projects()[p].cost.cents().unwrap())
                .sum();
            assert_eq!(Euros::from_cents(spent), outcome.spent);
            let left = election.budget().cents().unwrap() - spent;
            for (p, result) in outcome.projects.iter().enumerate() {
                let cost = election.projects()[p].cost;
                assert_eq!(result.votes, votes[p]);
                match &result.decision {
                    Decision::NoVotes => assert_eq!(votes[p], 0),
                    Decision::Funded { rank, .. } => assert_eq!(outcome.funded[rank - 1], p),
                    // What was left at its turn is at least what is left at
                    // the end: so nothing funded could still be.
                    Decision::OverRemainingBudget { remaining } => {
                        assert_eq!(method, Method::GreedyApproval);
                        assert!(*remaining < cost && remaining.cents().unwrap() >= left);
                    }
                    Decision::SupportersShort { their_shares } => {
                        assert_eq!(method, Method::EqualShares);
                        assert!(*their_shares < cost && votes[p] > 0);
                    }
                }
            }
            // Amounts in other units (x 100) choose the same projects.
            assert_eq!(
                scaled(&election, 100).outcome(method).funded,
                outcome.funded
            );
        }
    }
}

#[test]
fn pabulib_files_read_back_as_written() {
    for (seed, election) in elections(60).into_iter().enumerate() {
        let names: Vec<String> = (0..election.projects().len())
            .map(|p| format!("Projet n°{p}; « avec ; séparateurs »\n"))
            .collect();
        let voters: Vec<String> = (0..election.ballots().len())
            .map(|v| format!("r-{v}"))
            .collect();
        let outcome = election.outcome(Method::EqualShares);
        let text = pabulib::write(
            &meta(seed),
            Method::EqualShares,
            &election,
            &names,
            &voters,
            Some(&outcome),
        );
        let parsed = pabulib::parse(&text).unwrap();
        assert_eq!(parsed.election, election);
        assert_eq!(parsed.voters, voters);
        assert_eq!(parsed.meta["rule"], "equalshares");
        assert_eq!(parsed.meta["num_votes"], voters.len().to_string());
        // Separators in names do not break the rows.
        assert_eq!(
            text.lines().count(),
            1 + 13 + 2 + election.projects().len() + 2 + voters.len()
        );
    }
}

#[test]
fn pabulib_files_that_cannot_be_read_say_why() {
    let file = |projects: &str, votes: &str, vote_type: &str| {
        format!(
            "META\nkey;value\nbudget;100\nvote_type;{vote_type}\nPROJECTS\nproject_id;cost\n{projects}VOTES\nvoter_id;vote\n{votes}"
        )
    };
    assert!(pabulib::parse(&file("1;50\n", "a;1\n", "approval")).is_ok());
    assert_eq!(
        pabulib::parse(&file("1;50\n", "a;2\n", "approval")).unwrap_err(),
        PabulibError::Line {
            line: 10,
            what: "a vote for project 2, which is not in PROJECTS".into()
        }
    );
    assert_eq!(
        pabulib::parse(&file("1;50\n", "a;1\n", "ordinal")).unwrap_err(),
        PabulibError::VoteType {
            vote_type: "ordinal".into()
        }
    );
    assert!(matches!(
        pabulib::parse(&file("1;cinquante\n", "a;1\n", "approval")).unwrap_err(),
        PabulibError::Line { line: 7, .. }
    ));
    assert!(matches!(
        pabulib::parse(&file("\"1;50\n", "a;1\n", "approval")).unwrap_err(),
        PabulibError::Line { line: 7, .. }
    ));
    assert_eq!(
        pabulib::parse("META\nkey;value\nbudget;1\nvote_type;approval\n").unwrap_err(),
        PabulibError::MissingSection {
            section: "PROJECTS"
        }
    );
    assert_eq!(
        pabulib::parse(&file("1;50\n1;60\n", "a;1\n", "approval")).unwrap_err(),
        PabulibError::Election(ElectionError::DuplicateProject {
            project: "1".into()
        })
    );
}

fn meta(seed: usize) -> Meta {
    Meta {
        description: format!("Fonds de territoire, tirage {seed}"),
        country: "France".into(),
        unit: "Parc éolien citoyen".into(),
        instance: format!("{seed}"),
        date_begin: Some("01.03.2027".into()),
        date_end: Some("31.03.2027".into()),
    }
}

/// Every election's outcome under both methods equals pabutools', funded
/// projects and their order alike.
fn compare(elections: &[(String, Election)], files: &[PathBuf]) -> bool {
    let Some(theirs) = pabutools(files) else {
        return false;
    };
    for (name, election) in elections {
        for method in METHODS {
            let ours = funded_ids(election, &election.outcome(method));
            assert_eq!(
                ours, theirs[name][&method],
                "{name} under {method:?}: windledger (left) and pabutools (right)"
            );
        }
    }
    true
}

#[test]
fn outcomes_equal_pabutools_on_drawn_elections_with_ties() {
    let dir = tempfile::tempdir().unwrap();
    let mut named = Vec::new();
    let mut files = Vec::new();
    // Elections whose outcome changes when the projects are listed the
    // other way: where ties decided.
    let mut decided_by_ties =
        BTreeMap::from([(Method::GreedyApproval, 0), (Method::EqualShares, 0)]);
    for (seed, election) in elections(400).into_iter().enumerate() {
        for method in METHODS {
            let ours = funded_ids(&election, &election.outcome(method));
            let other = reversed(&election);
            if funded_ids(&other, &other.outcome(method)) != ours {
                *decided_by_ties.get_mut(&method).unwrap() += 1;
            }
        }
        let name = format!("drawn_{seed:03}.pb");
        let voters: Vec<String> = (0..election.ballots().len())
            .map(|v| v.to_string())
            .collect();
        let text = pabulib::write(
            &meta(seed),
            Method::EqualShares,
            &election,
            &[],
            &voters,
            None,
        );
        let path = dir.path().join(&name);
        std::fs::write(&path, text).unwrap();
        files.push(path);
        named.push((name, election));
    }
    eprintln!("elections decided by a tie: {decided_by_ties:?}");
    assert!(
        decided_by_ties.values().all(|&n| n >= 10),
        "{decided_by_ties:?}"
    );
    compare(&named, &files);
}

#[test]
fn outcomes_equal_pabutools_on_elections_from_pabulib() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pabulib");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "pb"))
        .collect();
    files.sort();
    assert!(files.len() >= 20, "the Pabulib elections are in {dir:?}");
    let named: Vec<(String, Election)> = files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            let parsed =
                pabulib::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                parsed.election,
            )
        })
        .collect();
    compare(&named, &files);
}
