//! A budgeting round of the territory fund (domain/src/budgeting/round.rs):
//! convened, proposals submitted and reviewed, ballots cast and the outcome
//! tallied, each on the server's clock; and every refusal.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use windledger_domain::budgeting::round::{
    BudgetingRound, KnownResidents, RoundCommand, RoundError, RoundEvent, RoundServices,
};
use windledger_domain::budgeting::{Decision, Election, Method, Project};
use windledger_domain::types::{CommuneCode, ProposalId, ResidentId, RoundId};
use windledger_fixtures::farm::run;

use crate::common::eur;
use windledger_fixtures::farm::at as at_hour;

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

/// Noon (UTC) on a day of 2027.
fn at(m: u32, d: u32) -> DateTime<Utc> {
    at_hour(2027, m, d, 12)
}

/// The services with the clock at `now`.
fn clock(now: DateTime<Utc>) -> RoundServices {
    RoundServices::new(now, residents())
}

/// `command` run on `round` when the server's clock reads `now`.
fn run_at(
    round: &mut BudgetingRound,
    command: RoundCommand,
    now: DateTime<Utc>,
) -> Result<Vec<RoundEvent>, RoundError> {
    run(round, command, &clock(now))
}

/// The ballots counted at `now` (the server's clock then).
fn tally(round: &mut BudgetingRound, now: DateTime<Utc>) -> Result<Vec<RoundEvent>, RoundError> {
    run_at(round, RoundCommand::Tally { tallied_at: now }, now)
}

fn convene(max_approvals: Option<u32>) -> RoundCommand {
    RoundCommand::Convene {
        round: RoundId::new("fonds-2027").unwrap(),
        method: Method::EqualShares,
        budget: eur("30000"),
        communes: vec![commune(BURDIGNES), commune(SAINT_SAUVEUR)],
        submissions_open: at_hour(2027, 3, 1, 0),
        submissions_close: at_hour(2027, 4, 1, 0),
        voting_open: at_hour(2027, 4, 15, 0),
        voting_close: at_hour(2027, 5, 1, 0),
        max_approvals,
    }
}

fn submit(id: &str, by: &str, cost: &str, code: &str, when: DateTime<Utc>) -> RoundCommand {
    RoundCommand::Submit {
        submitted_at: when,
        proposal: proposal(id),
        resident: resident(by),
        title: format!("Projet {id}"),
        description: "Un projet pour le territoire.".into(),
        cost: eur(cost),
        commune: commune(code),
    }
}

fn review(id: &str, reason: Option<&str>, when: DateTime<Utc>) -> RoundCommand {
    RoundCommand::Review {
        reviewed_at: when,
        proposal: proposal(id),
        eligible: reason.is_none(),
        reason: reason.map(str::to_owned),
    }
}

fn vote(by: &str, approvals: &[&str], when: DateTime<Utc>) -> RoundCommand {
    RoundCommand::Vote {
        cast_at: when,
        resident: resident(by),
        approvals: approvals.iter().map(|a| proposal(a)).collect(),
    }
}

/// A round convened on 1 February, with four proposals submitted on
/// 10 March, three found eligible on 5 April (the fourth refused with a
/// reason).
fn reviewed() -> BudgetingRound {
    let mut round = BudgetingRound::default();
    run_at(&mut round, convene(Some(3)), at(2, 1)).unwrap();
    let when = at(3, 10);
    for command in [
        submit("salle", "r1", "20000", BURDIGNES, when),
        submit("jardin", "r4", "8000", SAINT_SAUVEUR, when),
        submit("bancs", "r2", "5000", BURDIGNES, when),
        submit("parking", "r3", "10000", BURDIGNES, when),
    ] {
        run_at(&mut round, command, when).unwrap();
    }
    let when = at(4, 5);
    for command in [
        review("salle", None, when),
        review("jardin", None, when),
        review("bancs", None, when),
        review(
            "parking",
            Some("Hors du champ du fonds : voirie communale."),
            when,
        ),
    ] {
        run_at(&mut round, command, when).unwrap();
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
        let events = run_at(&mut round, vote(by, approvals, at(4, 20)), at(4, 20)).unwrap();
        assert!(matches!(
            &events[..],
            [RoundEvent::BallotCast { cast_at, .. }] if *cast_at == at(4, 20)
        ));
    }
    let events = tally(&mut round, at(5, 1)).unwrap();
    let [
        RoundEvent::RoundTallied {
            proposals,
            ballots: count,
            outcome,
            tallied_at,
        },
    ] = &events[..]
    else {
        panic!("one tally: {events:?}");
    };
    assert_eq!(*tallied_at, at(5, 1));
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
        tally(&mut round, at(5, 2)).unwrap_err(),
        RoundError::AlreadyTallied
    );
}

#[test]
fn each_step_keeps_to_its_window_on_the_servers_clock() {
    let mut round = BudgetingRound::default();
    assert_eq!(
        run_at(&mut round, vote("r1", &["salle"], at(4, 20)), at(4, 20)).unwrap_err(),
        RoundError::RoundNotConvened
    );
    run_at(&mut round, convene(None), at(2, 1)).unwrap();
    let before = at_hour(2027, 2, 28, 23);
    let after = at_hour(2027, 4, 1, 0);
    for when in [before, after] {
        assert_eq!(
            run_at(
                &mut round,
                submit("salle", "r1", "100", BURDIGNES, when),
                when
            )
            .unwrap_err(),
            RoundError::OutsideSubmissions {
                at: when,
                open: at_hour(2027, 3, 1, 0),
                close: at_hour(2027, 4, 1, 0)
            }
        );
    }
    // Opening included, closing excluded.
    let (first, last) = (at_hour(2027, 3, 1, 0), at_hour(2027, 3, 31, 23));
    for (id, when) in [("salle", first), ("bancs", last)] {
        run_at(&mut round, submit(id, "r1", "100", BURDIGNES, when), when).unwrap();
    }
    // An instant later than the server's clock is refused.
    assert_eq!(
        run_at(&mut round, review("salle", None, at(4, 14)), at(4, 13)).unwrap_err(),
        RoundError::InTheFuture {
            at: at(4, 14),
            now: at(4, 13)
        }
    );
    run_at(&mut round, review("salle", None, at(4, 14)), at(4, 14)).unwrap();
    let opening = at_hour(2027, 4, 15, 0);
    assert_eq!(
        run_at(&mut round, review("bancs", None, opening), opening).unwrap_err(),
        RoundError::ReviewClosed {
            at: opening,
            voting_open: opening
        }
    );
    let closing = at_hour(2027, 5, 1, 0);
    for when in [at(4, 14), closing] {
        assert!(matches!(
            run_at(&mut round, vote("r1", &["salle"], when), when).unwrap_err(),
            RoundError::OutsideVoting { .. }
        ));
    }
    // Not reviewed before voting opened: not on the ballot.
    assert_eq!(
        run_at(&mut round, vote("r1", &["bancs"], at(4, 30)), at(4, 30)).unwrap_err(),
        RoundError::NotOnTheBallot(proposal("bancs"))
    );
    run_at(&mut round, vote("r1", &["salle"], at(4, 30)), at(4, 30)).unwrap();
    assert_eq!(
        tally(&mut round, at(4, 30)).unwrap_err(),
        RoundError::VotingNotClosed {
            at: at(4, 30),
            voting_close: closing
        }
    );
    tally(&mut round, closing).unwrap();
    // Nothing after the tally.
    assert_eq!(
        run_at(&mut round, review("bancs", None, at(4, 1)), at(5, 2)).unwrap_err(),
        RoundError::AlreadyTallied
    );
}

#[test]
fn only_residents_of_the_rounds_communes_take_part_each_once() {
    let mut round = reviewed();
    let when = at(4, 20);
    assert_eq!(
        run_at(&mut round, vote("stranger", &["salle"], when), when).unwrap_err(),
        RoundError::NotAResident(resident("stranger"))
    );
    assert_eq!(
        run_at(&mut round, vote("lyonnais", &["salle"], when), when).unwrap_err(),
        RoundError::CommuneNotInRound {
            resident: resident("lyonnais"),
            commune: commune(ELSEWHERE)
        }
    );
    for approvals in [&[][..], &["salle", "salle"][..]] {
        assert_eq!(
            run_at(&mut round, vote("r1", approvals, when), when).unwrap_err(),
            RoundError::InvalidApprovals
        );
    }
    assert_eq!(
        run_at(
            &mut round,
            vote("r1", &["salle", "jardin", "bancs", "parking"], when),
            when
        )
        .unwrap_err(),
        RoundError::TooManyApprovals { max: 3, count: 4 }
    );
    assert_eq!(
        run_at(&mut round, vote("r1", &["parking"], when), when).unwrap_err(),
        RoundError::NotOnTheBallot(proposal("parking"))
    );
    assert_eq!(
        run_at(&mut round, vote("r1", &["piscine"], when), when).unwrap_err(),
        RoundError::UnknownProposal(proposal("piscine"))
    );
    // A refused ballot is not a ballot: r1 still votes, once.
    run_at(
        &mut round,
        vote("r1", &["salle", "jardin", "bancs"], when),
        when,
    )
    .unwrap();
    assert_eq!(
        run_at(&mut round, vote("r1", &["salle"], when), when).unwrap_err(),
        RoundError::AlreadyVoted(resident("r1"))
    );
    // The same for proposals.
    let mut round = BudgetingRound::default();
    run_at(&mut round, convene(None), at(2, 1)).unwrap();
    let when = at(3, 2);
    assert_eq!(
        run_at(
            &mut round,
            submit("a", "stranger", "100", BURDIGNES, when),
            when
        )
        .unwrap_err(),
        RoundError::NotAResident(resident("stranger"))
    );
    assert_eq!(
        run_at(&mut round, submit("a", "r1", "100", ELSEWHERE, when), when).unwrap_err(),
        RoundError::ProposalCommuneNotInRound(commune(ELSEWHERE))
    );
}

#[test]
fn what_cannot_be_convened_submitted_or_reviewed_says_why() {
    let when = at(2, 1);
    let refused =
        |command: RoundCommand| run_at(&mut BudgetingRound::default(), command, when).unwrap_err();
    let with = |change: &dyn Fn(&mut RoundCommand)| {
        let mut command = convene(None);
        change(&mut command);
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
            &|c| if let RoundCommand::Convene { voting_open, .. } = c {
                *voting_open = at(3, 31)
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
    run_at(&mut round, convene(None), when).unwrap();
    assert_eq!(
        run_at(&mut round, convene(None), when).unwrap_err(),
        RoundError::RoundAlreadyConvened
    );
    let when = at(3, 2);
    for cost in ["0", "30000.01", "10.001"] {
        assert!(matches!(
            run_at(&mut round, submit("a", "r1", cost, BURDIGNES, when), when).unwrap_err(),
            RoundError::InvalidCost { .. }
        ));
    }
    let mut untitled = submit("a", "r1", "100", BURDIGNES, when);
    if let RoundCommand::Submit { title, .. } = &mut untitled {
        *title = " ".into();
    }
    assert_eq!(
        run_at(&mut round, untitled, when).unwrap_err(),
        RoundError::InvalidText {
            what: "title",
            max: 200
        }
    );
    // The whole budget is a cost it may ask.
    run_at(
        &mut round,
        submit("a", "r1", "30000", BURDIGNES, when),
        when,
    )
    .unwrap();
    assert_eq!(
        run_at(&mut round, submit("a", "r2", "100", BURDIGNES, when), when).unwrap_err(),
        RoundError::DuplicateProposal(proposal("a"))
    );
    let when = at(4, 1);
    for command in [
        RoundCommand::Review {
            proposal: proposal("a"),
            eligible: true,
            reason: Some("Très bien.".into()),
            reviewed_at: when,
        },
        RoundCommand::Review {
            proposal: proposal("a"),
            eligible: false,
            reason: None,
            reviewed_at: when,
        },
    ] {
        assert_eq!(
            run_at(&mut round, command, when).unwrap_err(),
            RoundError::ReasonMisfit
        );
    }
    assert_eq!(
        run_at(&mut round, review("b", None, when), when).unwrap_err(),
        RoundError::UnknownProposal(proposal("b"))
    );
    // A review may change until voting opens: the last one counts.
    run_at(
        &mut round,
        review("a", Some("Coût à préciser."), when),
        when,
    )
    .unwrap();
    run_at(&mut round, review("a", None, when), when).unwrap();
    run_at(&mut round, vote("r1", &["a"], at(4, 15)), at(4, 15)).unwrap();
}

#[test]
fn the_tally_decided_again_from_the_events_is_the_same() {
    let mut round = reviewed();
    let mut events = Vec::new();
    for (by, approvals) in [("r1", vec!["salle"]), ("r4", vec!["jardin", "bancs"])] {
        events.extend(run_at(&mut round, vote(by, &approvals, at(4, 20)), at(4, 20)).unwrap());
    }
    let tallied = tally(&mut round, at(6, 1)).unwrap();
    // Another round folded from the same history decides the same tally.
    let mut again = reviewed();
    for event in events {
        cqrs_es::Aggregate::apply(&mut again, event);
    }
    assert_eq!(tally(&mut again, at(6, 1)).unwrap(), tallied);
    // And a stored round reads back as it was written.
    let json = serde_json::to_string(&tallied[0]).unwrap();
    assert_eq!(
        serde_json::from_str::<RoundEvent>(&json).unwrap(),
        tallied[0]
    );
}
