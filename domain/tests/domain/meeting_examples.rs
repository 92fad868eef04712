//! Worked examples a municipality's lawyer would check, one per test. Each
//! runs a meeting through its commands and reads the recorded tally.

use crate::meeting_support::*;
use windledger_domain::charter::VoteBasis;
use windledger_domain::meeting::{
    Call, Choice, Fraction, MeetingCommand, MeetingEvent, Outcome, RejectionRule,
};
use windledger_domain::types::MeetingId;
use windledger_fixtures::farm;

fn one_college() -> windledger_domain::charter::Charter {
    charter(vec![college("associes", None, VoteBasis::PerShare)], &[])
}

/// A first-call meeting of [`one_college`] with one resolution of `kind`,
/// voting open.
async fn first_call(id: &str, holders: &[(&str, &str, u64)], kind: &str) -> Assembly {
    Assembly::open(id, Call::First, &one_college(), holders, &[kind]).await
}

/// Holders of the one college, "associes": (id, shares).
fn associes<'a>(shares: &[(&'a str, u64)]) -> Vec<(&'a str, &'static str, u64)> {
    shares.iter().map(|&(id, n)| (id, "associes", n)).collect()
}

fn share(n: u64, d: u64) -> Option<Fraction> {
    Fraction::new(n, d)
}

fn rejected_for_majority() -> Outcome {
    Outcome::Rejected {
        rules: vec![RejectionRule::Majority],
    }
}

#[tokio::test]
async fn an_ordinary_resolution_is_adopted_by_a_capital_vote() {
    // 1,000 shares: A 600, B 300, C 100. A for, B against, C does not vote.
    let holders = associes(&[("a", 600), ("b", 300), ("c", 100)]);
    let votes = [("a", Choice::For), ("b", Choice::Against)];
    let result = Assembly::voted("ago-2024", &one_college(), &holders, ORDINARY, &votes).await;

    assert_eq!(result.roll_total, 1_000);
    assert_eq!(result.present, 900, "A and B are present");
    assert!(result.quorum_reached, "900 >= 1/5 of 1,000");
    assert_eq!((result.votes_for, result.votes_against), (600, 300));
    assert_eq!(result.share_for, share(2, 3), "600 of 900 votes cast");
    assert!(result.majority_reached, "2/3 > 1/2");
    assert_eq!(result.outcome, Outcome::Adopted);
}

#[tokio::test]
async fn the_same_resolution_fails_its_quorum_on_first_call_and_passes_on_second_call() {
    // Only C (100 of 1,000 votes, 1/10) takes part, and votes for.
    let holders = associes(&[("a", 600), ("b", 300), ("c", 100)]);
    let mut first = first_call("ago-2024", &holders, ORDINARY).await;
    first.vote("c", Choice::For).await;
    let result = &first.close().await[0];
    assert_eq!(result.present, 100);
    assert_eq!(result.quorum, ratio(1, 5));
    assert!(!result.quorum_reached, "100 < 1/5 of 1,000");
    assert!(result.majority_reached, "all votes cast are for");
    assert_eq!(
        result.outcome,
        Outcome::Rejected {
            rules: vec![RejectionRule::Quorum]
        }
    );
    assert!(first.state.adopted(&first.resolution(1)).is_none());

    // Second call: the ordinary kind has no quorum.
    let second_call = Call::Second {
        first_call: MeetingId::new("ago-2024").expect("an id"),
    };
    let mut second = Assembly::open(
        "ago-2024-bis",
        second_call,
        &one_college(),
        &holders,
        &[ORDINARY],
    )
    .await;
    second.vote("c", Choice::For).await;
    let result = &second.close().await[0];
    assert_eq!(result.quorum, ratio(0, 1));
    assert!(result.quorum_reached);
    assert_eq!(result.outcome, Outcome::Adopted);
    assert!(second.state.adopted(&second.resolution(1)).is_some());
}

#[tokio::test]
async fn an_extraordinary_resolution_passes_at_exactly_two_thirds_and_fails_just_below() {
    // B 200 for, C 100 against: exactly 2/3 of the votes cast (200 x 3 >= 300 x 2).
    let holders = associes(&[("a", 700), ("b", 200), ("c", 100), ("d", 1)]);
    let votes = [("b", Choice::For), ("c", Choice::Against)];
    let result = Assembly::voted("age-2024", &one_college(), &holders, EXTRAORDINARY, &votes).await;
    assert!(result.quorum_reached, "300 of 1,001 is more than 1/4");
    assert_eq!(result.share_for, share(2, 3));
    assert!(result.majority_reached, "at least 2/3: 2/3 is enough");
    assert_eq!(result.outcome, Outcome::Adopted);

    // One more vote against (D, 1 share): 200 of 301 is just below 2/3.
    let votes = [
        ("b", Choice::For),
        ("c", Choice::Against),
        ("d", Choice::Against),
    ];
    let result = Assembly::voted("age-2024", &one_college(), &holders, EXTRAORDINARY, &votes).await;
    assert_eq!(result.share_for, share(200, 301));
    assert!(!result.majority_reached);
    assert_eq!(result.outcome, rejected_for_majority());
}

#[tokio::test]
async fn abstentions_are_not_counted_as_votes_against() {
    // A 300 for, B 200 against, C 500 abstains: 300 of 500 votes cast.
    // Counted as against, the abstentions would reject it (300 of 1,000).
    let holders = associes(&[("a", 300), ("b", 200), ("c", 500)]);
    let votes = [
        ("a", Choice::For),
        ("b", Choice::Against),
        ("c", Choice::Abstain),
    ];
    let result = Assembly::voted("ago-2024", &one_college(), &holders, ORDINARY, &votes).await;
    assert_eq!(result.present, 1_000, "an abstention counts for the quorum");
    assert_eq!(result.abstentions, 500);
    assert_eq!(result.share_for, share(3, 5));
    assert_eq!(result.outcome, Outcome::Adopted);
}

#[tokio::test]
async fn a_reserved_matter_is_vetoed_by_the_local_authorities_while_eighty_percent_are_for() {
    // Votes as they are (no college weights): the partner 500 and the
    // citizens 300 for, the local authorities 200 against: 80 % for.
    let charter = charter(
        vec![
            college("industriel", None, VoteBasis::PerShare),
            college("collectivites", None, VoteBasis::PerShare),
            college("citoyens", None, VoteBasis::PerShare),
        ],
        &["collectivites"],
    );
    let holders = [
        ("partner", "industriel", 500),
        ("sem", "collectivites", 150),
        ("ccmp", "collectivites", 50),
        ("citizen-1", "citoyens", 200),
        ("citizen-2", "citoyens", 100),
    ];
    let mut m = Assembly::open("comite-2024", Call::First, &charter, &holders, &[RESERVED]).await;
    for voter in ["partner", "citizen-1", "citizen-2"] {
        m.vote(voter, Choice::For).await;
    }
    m.vote("sem", Choice::Against).await;
    m.vote("ccmp", Choice::Against).await;
    let result = &m.close().await[0];
    assert_eq!(result.share_for, share(4, 5));
    assert!(result.majority_reached, "4/5 >= 2/3");
    let local = result
        .colleges
        .iter()
        .find(|t| t.college.as_str() == "collectivites")
        .expect("the college's count");
    assert!(local.majority_required);
    assert!(!local.majority_for);
    assert_eq!((local.votes_for, local.votes_against), (0, 200));
    assert_eq!(
        result.outcome,
        Outcome::Rejected {
            rules: vec![RejectionRule::Veto {
                college: farm::college("collectivites")
            }]
        }
    );
}

#[tokio::test]
async fn a_weighted_scic_vote_shares_out_the_weight_of_a_college_that_casts_nothing() {
    // Users 2/5 and employees 3/10 (one member, one vote), local authorities
    // 3/10 (per share). Users: 3 for, 1 against. Employees: no one votes.
    // Local authorities: 100 for, 300 against.
    let charter = charter(
        vec![
            college("usagers", Some(ratio(2, 5)), VoteBasis::PerMember),
            college("salaries", Some(ratio(3, 10)), VoteBasis::PerMember),
            college("collectivites", Some(ratio(3, 10)), VoteBasis::PerShare),
        ],
        &[],
    );
    let holders = [
        ("u1", "usagers", 1),
        ("u2", "usagers", 5),
        ("u3", "usagers", 2),
        ("u4", "usagers", 1),
        ("s1", "salaries", 1),
        ("s2", "salaries", 1),
        ("s3", "salaries", 3),
        ("commune", "collectivites", 100),
        ("epci", "collectivites", 300),
    ];
    let mut m = Assembly::open("ag-scic-2024", Call::First, &charter, &holders, &[ORDINARY]).await;
    for voter in ["u1", "u2", "u3", "commune"] {
        m.vote(voter, Choice::For).await;
    }
    m.vote("u4", Choice::Against).await;
    m.vote("epci", Choice::Against).await;
    let result = &m.close().await[0];

    assert!(result.weighted);
    assert_eq!(
        result.roll_total,
        4 + 3 + 400,
        "one vote per member, shares otherwise"
    );
    assert_eq!(result.weight_shared_from, vec![farm::college("salaries")]);
    let applied: Vec<_> = result
        .colleges
        .iter()
        .map(|t| (t.college.as_str(), t.applied_weight.clone()))
        .collect();
    assert_eq!(
        applied,
        vec![
            ("usagers", share(4, 7)),
            ("salaries", share(0, 1)),
            ("collectivites", share(3, 7)),
        ],
        "2/5 and 3/10 scaled up to fill the whole"
    );
    // 4/7 x 3/4 + 3/7 x 1/4 = 15/28, above 1/2. Without sharing out the
    // silent college's weight it would be 2/5 x 3/4 + 3/10 x 1/4 = 3/8.
    assert_eq!(result.share_for, share(15, 28));
    assert_eq!(result.outcome, Outcome::Adopted);
}

#[tokio::test]
async fn a_ballot_replaced_before_the_close_counts_once_with_its_last_choice() {
    let holders = associes(&[("a", 600), ("b", 400)]);
    let mut m = first_call("ago-2024", &holders, ORDINARY).await;
    m.vote("b", Choice::For).await;
    m.vote("a", Choice::Against).await;
    let replaced = m.vote("a", Choice::For).await;
    assert!(matches!(
        replaced.as_slice(),
        [MeetingEvent::BallotCast {
            replaces_earlier: true,
            ..
        }]
    ));
    let result = &m.close().await[0];
    assert_eq!(result.present, 1_000, "A is counted once");
    assert_eq!((result.votes_for, result.votes_against), (1_000, 0));
    assert_eq!(result.outcome, Outcome::Adopted);
}

#[tokio::test]
async fn a_proxy_revoked_before_the_close_takes_its_ballot_with_it() {
    // A gives B a proxy; B votes for on A's behalf; A revokes and votes
    // against. B's own ballot stands.
    let holders = associes(&[("a", 600), ("b", 300), ("c", 100)]);
    let mut m = first_call("ago-2024", &holders, ORDINARY).await;
    m.grant_proxy("a", "b").await;
    m.vote("b", Choice::For).await;
    let by_proxy = m.vote_as("a", "b", Choice::For).await;
    assert!(
        matches!(
            by_proxy.as_slice(),
            [MeetingEvent::BallotCast { voter, cast_by, .. }] if voter == &holder("a") && cast_by == &holder("b")
        ),
        "the ballot records both voters"
    );

    let revoked = m
        .run(MeetingCommand::RevokeProxy {
            grantor: holder("a"),
            at: during(),
        })
        .await
        .expect("the proxy is revoked");
    assert!(matches!(
        revoked.as_slice(),
        [MeetingEvent::ProxyRevoked {
            ballot_withdrawn: true,
            ..
        }]
    ));
    assert!(
        m.state.ballot(&holder("a")).is_none(),
        "the proxy's ballot for A is gone"
    );
    m.vote("a", Choice::Against).await;
    let result = &m.close().await[0];
    assert_eq!((result.votes_for, result.votes_against), (300, 600));
    assert_eq!(result.outcome, rejected_for_majority());
}

/// A closed meeting that forgot its ballots and proxies (as the audit's
/// replay keeps closed meetings) decides every command after the close as
/// one that did not: each is refused, or the bureau and its minutes taken.
#[tokio::test]
async fn a_closed_meeting_decides_the_same_once_it_forgot_its_votes() {
    let holders = associes(&[("a", 60), ("b", 30), ("c", 10)]);
    let mut m = first_call("ag-2024", &holders, ORDINARY).await;
    m.grant_proxy("c", "a").await;
    m.vote("a", Choice::For).await;
    m.vote("b", Choice::Against).await;
    m.vote_as("c", "a", Choice::For).await;
    m.close().await;
    let mut forgot = m.state.clone();
    forgot.forget_votes();
    assert_eq!(forgot.ballots_in_force(), 0);
    assert_eq!(m.state.ballots_in_force(), 3);
    let after = closes() + chrono::Duration::hours(1);
    let choices = |choice| {
        m.state
            .agenda()
            .iter()
            .map(|item| (item.resolution.clone(), choice))
            .collect()
    };
    let commands = [
        MeetingCommand::CastBallot {
            voter: holder("b"),
            cast_by: holder("b"),
            choices: choices(Choice::For),
            at: after,
        },
        MeetingCommand::RecordPostalBallot {
            voter: holder("b"),
            choices: choices(Choice::For),
            received_at: during(),
            electronic: false,
        },
        MeetingCommand::GrantProxy {
            grantor: holder("b"),
            proxy: holder("a"),
            at: after,
        },
        MeetingCommand::RevokeProxy {
            grantor: holder("c"),
            at: after,
        },
        MeetingCommand::RecordPaperProxy {
            grantor: holder("b"),
            proxy: holder("a"),
            received_at: during(),
        },
        MeetingCommand::Close { at: after },
        MeetingCommand::ConstituteBureau {
            chair: holder("a"),
            scrutineers: vec![holder("b")],
            secretary: holder("c"),
            at: after,
        },
    ];
    for command in commands {
        let mut kept = Assembly::new(m.services().clone());
        kept.state = m.state.clone();
        let mut lighter = Assembly::new(m.services().clone());
        lighter.state = forgot.clone();
        let (a, b) = (
            kept.run(command.clone()).await,
            lighter.run(command.clone()).await,
        );
        assert_eq!(
            a.as_ref().map_err(|_| ()),
            b.as_ref().map_err(|_| ()),
            "{command:?}: {a:?} / {b:?}"
        );
    }
}
