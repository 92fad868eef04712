//! A budgeting round of the territory fund (domain/src/budgeting/round.rs):
//! convened, proposals submitted and reviewed, ballots cast and the outcome
//! tallied, each on the server's clock; and every refusal.

use std::collections::BTreeMap;

use chrono::{NaiveDate, TimeZone, Utc};
use windledger_domain::budgeting::round::{
    BudgetingRound, KnownResidents, RoundCommand, RoundError, RoundEvent, RoundServices,
};
use windledger_domain::budgeting::{Decision, Election, Method, Project};
use windledger_domain::types::{CommuneCode, ProposalId, ResidentId, RoundId};
use windledger_fixtures::farm::run;

use crate::common::{day, eur};

fn commune(code: &str) -> CommuneCode {
    CommuneCode::new(code).unwrap()
}

const BURDIGNES: &str = "42026";
const SAINT_SAUVEUR: &str = "42279";
const ELSEWHERE: &str = "69123";

fn resident(id: &str) -> ResidentId {
    ResidentId::new(id).unwrap()
}

fn proposal(id: &str) -> ProposalId {
    ProposalId::new(id).unwrap()
}

/// Six residents of the two communes, one of Lyon.
fn residents() -> KnownResidents {
    let mut roll = BTreeMap::new();
    for (id, code) in [
        ("r1", BURDIGNES),
        ("r2", BURDIGNES),
        ("r3", BURDIGNES),
        ("r4", SAINT_SAUVEUR),
        ("r5", SAINT_SAUVEUR),
        ("r6", SAINT_SAUVEUR),
        ("lyonnais", ELSEWHERE),
    ] {
        roll.insert(resident(id), commune(code));
    }
    KnownResidents(roll)
}

/// The services on `date`, at noon in Paris.
fn on(date: NaiveDate) -> RoundServices {
    let noon = Utc.from_utc_datetime(&date.and_hms_opt(11, 0, 0).unwrap());
    RoundServices::new(noon, residents())
}

fn convene(max_approvals: Option<u32>) -> RoundCommand {
    RoundCommand::Convene {
        round: RoundId::new("fonds-2027").unwrap(),
        method: Method::EqualShares,
        budget: eur("30000"),
        communes: vec![commune(BURDIGNES), commune(SAINT_SAUVEUR)],
        submissions_from: day(2027, 3, 1),
        submissions_until: day(2027, 3, 31),
        voting_from: day(2027, 4, 15),
        voting_until: day(2027, 4, 30),
        max_approvals,
    }
}

fn submit(id: &str, by: &str, cost: &str, code: &str) -> RoundCommand {
    RoundCommand::Submit {
        proposal: proposal(id),
        resident: resident(by),
        title: format!("Projet {id}"),
        description: "Un projet pour le territoire.".into(),
        cost: eur(cost),
        commune: commune(code),
    }
}

fn review(id: &str, reason: Option<&str>) -> RoundCommand {
    RoundCommand::Review {
        proposal: proposal(id),
        eligible: reason.is_none(),
        reason: reason.map(str::to_owned),
    }
}

fn vote(by: &str, approvals: &[&str]) -> RoundCommand {
    RoundCommand::Vote {
        resident: resident(by),
        approvals: approvals.iter().map(|a| proposal(a)).collect(),
    }
}

/// A round convened on 1 February, with four proposals submitted on
/// 10 March, three found eligible on 5 April (the fourth refused with a
/// reason).
fn reviewed() -> BudgetingRound {
    let mut round = BudgetingRound::default();
    run(&mut round, convene(Some(3)), &on(day(2027, 2, 1))).unwrap();
    for command in [
        submit("salle", "r1", "20000", BURDIGNES),
        submit("jardin", "r4", "8000", SAINT_SAUVEUR),
        submit("bancs", "r2", "5000", BURDIGNES),
        submit("parking", "r3", "10000", BURDIGNES),
    ] {
        run(&mut round, command, &on(day(2027, 3, 10))).unwrap();
    }
    for command in [
        review("salle", None),
        review("jardin", None),
        review("bancs", None),
        review(
            "parking",
            Some("Hors du champ du fonds : voirie communale."),
        ),
    ] {
        run(&mut round, command, &on(day(2027, 4, 5))).unwrap();
    }
    round
}

#[test]
fn a_round_counts_the_residents_ballots_once_voting_has_closed() {
    let mut round = reviewed();
    let ballots = [
        ("r1", vec!["salle", "bancs"]),
        ("r2", vec!["salle"]),
        ("r3", vec!["salle", "bancs"]),
        ("r4", vec!["jardin"]),
        ("r5", vec!["jardin", "bancs"]),
    ];
    for (by, approvals) in &ballots {
        let events = run(&mut round, vote(by, approvals), &on(day(2027, 4, 20))).unwrap();
        assert!(matches!(
            &events[..],
            [RoundEvent::BallotCast { cast_on, .. }] if *cast_on == day(2027, 4, 20)
        ));
    }
    let events = run(&mut round, RoundCommand::Tally {}, &on(day(2027, 5, 1))).unwrap();
    let [
        RoundEvent::RoundTallied {
            proposals,
            ballots: count,
            outcome,
            tallied_on,
        },
    ] = &events[..]
    else {
        panic!("one tally: {events:?}");
    };
    assert_eq!(*tallied_on, day(2027, 5, 1));
    assert_eq!(*count, 5);
    // The refused proposal is not on the ballot.
    assert_eq!(
        proposals,
        &[proposal("salle"), proposal("jardin"), proposal("bancs")]
    );
    // The same election counted by hand: 30,000 for 5 voters (6,000 each).
    let election = Election::new(
        eur("30000"),
        vec![
            Project {
                id: "salle".into(),
                cost: eur("20000"),
            },
            Project {
                id: "jardin".into(),
                cost: eur("8000"),
            },
            Project {
                id: "bancs".into(),
                cost: eur("5000"),
            },
        ],
        vec![vec![0, 2], vec![0], vec![0, 2], vec![1], vec![1, 2]],
    )
    .unwrap();
    assert_eq!(outcome, &election.outcome(Method::EqualShares));
    // The hall (3 supporters, 18,000 of shares) is beyond them; the benches
    // ask 5,000 / 3 of each of 3 (1/3 per euro), the garden 4,000 of each of
    // 2 (1/2 per euro).
    let funded: Vec<&ProposalId> = outcome.funded.iter().map(|&i| &proposals[i]).collect();
    assert_eq!(funded, [&proposal("bancs"), &proposal("jardin")]);
    assert!(matches!(
        outcome.projects[0].decision,
        Decision::SupportersShort { .. }
    ));
    // Counted once.
    assert_eq!(
        run(&mut round, RoundCommand::Tally {}, &on(day(2027, 5, 2))).unwrap_err(),
        RoundError::AlreadyTallied
    );
}

#[test]
fn each_step_keeps_to_its_window_on_the_servers_clock() {
    let mut round = BudgetingRound::default();
    assert_eq!(
        run(&mut round, vote("r1", &["salle"]), &on(day(2027, 4, 20))).unwrap_err(),
        RoundError::NotConvened
    );
    run(&mut round, convene(None), &on(day(2027, 2, 1))).unwrap();
    for date in [day(2027, 2, 28), day(2027, 4, 1)] {
        assert_eq!(
            run(
                &mut round,
                submit("salle", "r1", "100", BURDIGNES),
                &on(date)
            )
            .unwrap_err(),
            RoundError::OutsideSubmissions {
                today: date,
                from: day(2027, 3, 1),
                until: day(2027, 3, 31)
            }
        );
    }
    // The window's first and last days are in it.
    run(
        &mut round,
        submit("salle", "r1", "100", BURDIGNES),
        &on(day(2027, 3, 1)),
    )
    .unwrap();
    run(
        &mut round,
        submit("bancs", "r1", "100", BURDIGNES),
        &on(day(2027, 3, 31)),
    )
    .unwrap();
    run(&mut round, review("salle", None), &on(day(2027, 4, 14))).unwrap();
    assert_eq!(
        run(&mut round, review("bancs", None), &on(day(2027, 4, 15))).unwrap_err(),
        RoundError::ReviewClosed {
            today: day(2027, 4, 15),
            voting_from: day(2027, 4, 15)
        }
    );
    for date in [day(2027, 4, 14), day(2027, 5, 1)] {
        assert!(matches!(
            run(&mut round, vote("r1", &["salle"]), &on(date)).unwrap_err(),
            RoundError::OutsideVoting { .. }
        ));
    }
    // Not reviewed before voting opened: not on the ballot.
    assert_eq!(
        run(&mut round, vote("r1", &["bancs"]), &on(day(2027, 4, 30))).unwrap_err(),
        RoundError::NotOnTheBallot(proposal("bancs"))
    );
    run(&mut round, vote("r1", &["salle"]), &on(day(2027, 4, 30))).unwrap();
    assert_eq!(
        run(&mut round, RoundCommand::Tally {}, &on(day(2027, 4, 30))).unwrap_err(),
        RoundError::VotingNotClosed {
            today: day(2027, 4, 30),
            voting_until: day(2027, 4, 30)
        }
    );
    run(&mut round, RoundCommand::Tally {}, &on(day(2027, 5, 1))).unwrap();
    // Nothing after the tally.
    assert_eq!(
        run(&mut round, review("bancs", None), &on(day(2027, 4, 1))).unwrap_err(),
        RoundError::AlreadyTallied
    );
}

#[test]
fn only_residents_of_the_rounds_communes_take_part_each_once() {
    let mut round = reviewed();
    let voting = on(day(2027, 4, 20));
    assert_eq!(
        run(&mut round, vote("stranger", &["salle"]), &voting).unwrap_err(),
        RoundError::NotAResident(resident("stranger"))
    );
    assert_eq!(
        run(&mut round, vote("lyonnais", &["salle"]), &voting).unwrap_err(),
        RoundError::CommuneNotInRound {
            resident: resident("lyonnais"),
            commune: commune(ELSEWHERE)
        }
    );
    for approvals in [&[][..], &["salle", "salle"][..]] {
        assert_eq!(
            run(&mut round, vote("r1", approvals), &voting).unwrap_err(),
            RoundError::InvalidApprovals
        );
    }
    assert_eq!(
        run(
            &mut round,
            vote("r1", &["salle", "jardin", "bancs", "parking"]),
            &voting
        )
        .unwrap_err(),
        RoundError::TooManyApprovals { max: 3, count: 4 }
    );
    assert_eq!(
        run(&mut round, vote("r1", &["parking"]), &voting).unwrap_err(),
        RoundError::NotOnTheBallot(proposal("parking"))
    );
    assert_eq!(
        run(&mut round, vote("r1", &["piscine"]), &voting).unwrap_err(),
        RoundError::UnknownProposal(proposal("piscine"))
    );
    // A refused ballot is not a ballot: r1 still votes, once.
    run(
        &mut round,
        vote("r1", &["salle", "jardin", "bancs"]),
        &voting,
    )
    .unwrap();
    assert_eq!(
        run(&mut round, vote("r1", &["salle"]), &voting).unwrap_err(),
        RoundError::AlreadyVoted(resident("r1"))
    );
    // The same for proposals.
    let mut round = BudgetingRound::default();
    run(&mut round, convene(None), &on(day(2027, 2, 1))).unwrap();
    let submitting = on(day(2027, 3, 2));
    assert_eq!(
        run(
            &mut round,
            submit("a", "stranger", "100", BURDIGNES),
            &submitting
        )
        .unwrap_err(),
        RoundError::NotAResident(resident("stranger"))
    );
    assert_eq!(
        run(&mut round, submit("a", "r1", "100", ELSEWHERE), &submitting).unwrap_err(),
        RoundError::ProposalCommuneNotInRound(commune(ELSEWHERE))
    );
}

#[test]
fn what_cannot_be_convened_submitted_or_reviewed_says_why() {
    let convening = on(day(2027, 2, 1));
    let refused = |command: RoundCommand| {
        run(&mut BudgetingRound::default(), command, &convening).unwrap_err()
    };
    let RoundCommand::Convene {
        round,
        method,
        budget,
        communes,
        submissions_from,
        submissions_until,
        voting_from,
        voting_until,
        max_approvals,
    } = convene(None)
    else {
        unreachable!()
    };
    let with = |f: &dyn Fn(&mut RoundCommand)| {
        let mut command = RoundCommand::Convene {
            round: round.clone(),
            method,
            budget,
            communes: communes.clone(),
            submissions_from,
            submissions_until,
            voting_from,
            voting_until,
            max_approvals,
        };
        f(&mut command);
        command
    };
    assert_eq!(
        refused(with(&|c| if let RoundCommand::Convene { budget, .. } = c {
            *budget = eur("0")
        })),
        RoundError::InvalidBudget(eur("0"))
    );
    assert_eq!(
        refused(with(
            &|c| if let RoundCommand::Convene { communes, .. } = c {
                communes.push(commune(BURDIGNES))
            }
        )),
        RoundError::InvalidCommunes
    );
    assert!(matches!(
        refused(with(
            &|c| if let RoundCommand::Convene { voting_from, .. } = c {
                *voting_from = day(2027, 3, 31)
            }
        )),
        RoundError::InvalidWindows { .. }
    ));
    assert_eq!(
        refused(with(
            &|c| if let RoundCommand::Convene { max_approvals, .. } = c {
                *max_approvals = Some(0)
            }
        )),
        RoundError::InvalidMaxApprovals
    );
    let mut round = BudgetingRound::default();
    run(&mut round, convene(None), &convening).unwrap();
    assert_eq!(
        run(&mut round, convene(None), &convening).unwrap_err(),
        RoundError::AlreadyConvened
    );
    let submitting = on(day(2027, 3, 2));
    for cost in ["0", "30000.01", "10.001"] {
        assert!(matches!(
            run(&mut round, submit("a", "r1", cost, BURDIGNES), &submitting).unwrap_err(),
            RoundError::InvalidCost { .. }
        ));
    }
    let mut untitled = submit("a", "r1", "100", BURDIGNES);
    if let RoundCommand::Submit { title, .. } = &mut untitled {
        *title = " ".into();
    }
    assert_eq!(
        run(&mut round, untitled, &submitting).unwrap_err(),
        RoundError::InvalidText {
            what: "title",
            max: 200
        }
    );
    // The whole budget is a cost it may ask.
    run(
        &mut round,
        submit("a", "r1", "30000", BURDIGNES),
        &submitting,
    )
    .unwrap();
    assert_eq!(
        run(&mut round, submit("a", "r2", "100", BURDIGNES), &submitting).unwrap_err(),
        RoundError::DuplicateProposal(proposal("a"))
    );
    let reviewing = on(day(2027, 4, 1));
    for command in [
        RoundCommand::Review {
            proposal: proposal("a"),
            eligible: true,
            reason: Some("Très bien.".into()),
        },
        RoundCommand::Review {
            proposal: proposal("a"),
            eligible: false,
            reason: None,
        },
    ] {
        assert_eq!(
            run(&mut round, command, &reviewing).unwrap_err(),
            RoundError::ReasonMisfit
        );
    }
    assert_eq!(
        run(&mut round, review("b", None), &reviewing).unwrap_err(),
        RoundError::UnknownProposal(proposal("b"))
    );
    // A review may change until voting opens: the last one counts.
    run(
        &mut round,
        review("a", Some("Coût à préciser.")),
        &reviewing,
    )
    .unwrap();
    run(&mut round, review("a", None), &reviewing).unwrap();
    run(&mut round, vote("r1", &["a"]), &on(day(2027, 4, 15))).unwrap();
}

#[test]
fn the_tally_decided_again_from_the_events_is_the_same() {
    let mut round = reviewed();
    let mut events = Vec::new();
    for (by, approvals) in [("r1", vec!["salle"]), ("r4", vec!["jardin", "bancs"])] {
        events.extend(run(&mut round, vote(by, &approvals), &on(day(2027, 4, 20))).unwrap());
    }
    let tally = run(&mut round, RoundCommand::Tally {}, &on(day(2027, 6, 1))).unwrap();
    // Another round folded from the same history decides the same tally.
    let mut again = reviewed();
    for event in events {
        cqrs_es::Aggregate::apply(&mut again, event);
    }
    assert_eq!(
        run(&mut again, RoundCommand::Tally {}, &on(day(2027, 6, 1))).unwrap(),
        tally
    );
    // And a stored round reads back as it was written.
    let json = serde_json::to_string(&tally[0]).unwrap();
    assert_eq!(serde_json::from_str::<RoundEvent>(&json).unwrap(), tally[0]);
}
