//! The charter's counting rules, given/when/then: what a decision kind's
//! quorum counts (votes, capital, colleges' turnouts weighted, every
//! college) and when a required college vetoes (silence, or a majority
//! against). Each example is the one docs/charter.md works through.

use std::collections::BTreeMap;

use crate::meeting_support::*;
use windledger_domain::cap_table::{CapTableSnapshot, HolderPosition};
use windledger_domain::charter::{Charter, CharterError, DecisionKind, QuorumBasis, VetoBasis};
use windledger_domain::company::HolderKind;
use windledger_domain::meeting::{
    Call, CapitalCount, Choice, Fraction, Outcome, RejectionRule, ResolutionResult,
    general_meeting_voters,
};
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_fixtures::farm::{
    self, CIT, COLL, CharterBuilder, IND, ORD, PREF, citizens, eur, industrial_partner,
    local_authorities, ordinary_shares, preference_shares,
};

/// A decision kind `id`: the French ordinary rules (quorum 1/5 on first
/// call, more than half of the votes cast), counted as given.
fn kind(id: &str, quorum_basis: QuorumBasis, veto: VetoBasis, required: &[&str]) -> DecisionKind {
    DecisionKind {
        id: farm::kind(id),
        college_majorities_required: required.iter().map(farm::college).collect(),
        quorum_basis,
        veto,
        ..DecisionKind::french_ordinary()
    }
}

/// The reference farm's colleges: the industrial partner half of the
/// vote (per share), the local authorities a quarter (per share), the
/// citizens a quarter (one member, one vote); ordinary shares of 100 EUR.
fn weighted_charter(kinds: Vec<DecisionKind>) -> Charter {
    let colleges = vec![
        industrial_partner(ratio(1, 2)),
        local_authorities(ratio(1, 4)),
        citizens(ratio(1, 4)),
    ];
    let mut builder = CharterBuilder::new(colleges).class(ordinary_shares(1_000_000));
    for k in kinds {
        builder = builder.decision_kind(k);
    }
    builder.build()
}

/// `weighted_charter` with one more kind, `id`, whose quorum counts on
/// `quorum_basis` (no veto, no college majority required).
fn quorum_charter(id: &str, quorum_basis: QuorumBasis) -> Charter {
    weighted_charter(vec![kind(id, quorum_basis, VetoBasis::Silence, &[])])
}

/// The partner with 5,000 shares, the commune with 2,000, and four
/// citizens with `each` shares apiece.
fn holders(each: u64) -> Vec<(&'static str, &'static str, u64)> {
    vec![
        ("partner", IND, 5_000),
        ("commune", COLL, 2_000),
        ("c1", CIT, each),
        ("c2", CIT, each),
        ("c3", CIT, each),
        ("c4", CIT, each),
    ]
}

/// Convenes a first call on one resolution of `kind`, lets `voters`
/// cast `choice`, and closes it.
async fn count(
    charter: &Charter,
    holders: &[(&str, &str, u64)],
    kind: &str,
    votes: &[(&str, Choice)],
) -> ResolutionResult {
    Assembly::voted("ago-2025", charter, holders, kind, votes).await
}

const CITIZENS_FOR: [(&str, Choice); 4] = [
    ("c1", Choice::For),
    ("c2", Choice::For),
    ("c3", Choice::For),
    ("c4", Choice::For),
];

fn rejected(rules: Vec<RejectionRule>) -> Outcome {
    Outcome::Rejected { rules }
}

#[tokio::test]
async fn by_default_the_quorum_counts_the_rolls_votes_whatever_their_college() {
    // Given the citizens' four members (4 votes) among 7,004 votes on the
    // roll, when only they vote, then 4/7,004 is below 1/5: the quorum
    // fails, though the citizens' college weighs a quarter of the vote.
    let charter = weighted_charter(vec![]);
    let result = count(&charter, &holders(25), farm::ORDINARY, &CITIZENS_FOR).await;
    assert_eq!((result.present, result.roll_total), (4, 7_004));
    assert_eq!(result.quorum_basis, QuorumBasis::Votes);
    assert_eq!((result.turnout.as_ref(), result.capital), (None, None));
    assert!(!result.quorum_reached);
    assert_eq!(result.outcome, rejected(vec![RejectionRule::Quorum]));
}

#[tokio::test]
async fn a_quorum_on_capital_counts_the_nominal_value_of_the_voting_shares_present() {
    // Given four citizens with 500 shares each (4 votes, but 200,000 EUR
    // of the 900,000 EUR of capital), when only they vote:
    let charter = quorum_charter("capital", QuorumBasis::Capital);
    let result = count(&charter, &holders(500), "capital", &CITIZENS_FOR).await;
    // then 2/9 of the capital is present, above 1/5: the quorum is met,
    assert_eq!(
        result.capital,
        Some(CapitalCount {
            roll_total: eur("900000"),
            present: eur("200000"),
        })
    );
    assert_eq!(result.turnout, Fraction::new(2, 9));
    assert!(result.quorum_reached);
    assert_eq!(result.outcome, Outcome::Adopted);
    // while the same votes fail a quorum on votes (4 of 7,004).
    let by_votes = count(&charter, &holders(500), farm::ORDINARY, &CITIZENS_FOR).await;
    assert!(!by_votes.quorum_reached);

    // When only the commune votes, 2,000 of 9,000 shares: met; with 1,000
    // citizens' shares each, 200,000 of 1,100,000 EUR is 2/11: not met.
    let commune = [("commune", Choice::For)];
    assert!(
        count(&charter, &holders(500), "capital", &commune)
            .await
            .quorum_reached
    );
    let result = count(&charter, &holders(1_000), "capital", &commune).await;
    assert_eq!(result.turnout, Fraction::new(2, 11));
    assert_eq!(result.outcome, rejected(vec![RejectionRule::Quorum]));
}

#[test]
fn shares_without_a_vote_count_in_no_quorum_on_capital() {
    // Given, in a college voting per share, a holder with 20 ordinary
    // shares (100 EUR, a vote each) and 40 preference shares (50 EUR, no
    // vote), and one with preference shares only, then the roll counts the
    // first at 2,000 EUR and leaves the second out.
    let charter = weighted_charter(vec![]);
    let mut charter = charter;
    charter.share_classes.push(preference_shares(1_000));
    let position = |id: &str, ord: u64, pref: u64| HolderPosition {
        holder: holder(id),
        kind: HolderKind::Individual,
        college: farm::college(COLL),
        commune: farm::commune("42026"),
        shares: [(ORD, ord), (PREF, pref)]
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(class, n)| (farm::class(class), farm::shares(n)))
            .collect::<BTreeMap<_, _>>(),
        members: None,
    };
    let snapshot = CapTableSnapshot {
        as_of: day(2025, 6, 1),
        charter,
        share_capital: Euros::ZERO,
        turbines: Vec::new(),
        holders: vec![position("a", 20, 40), position("b", 0, 40)],
    };
    let voters = general_meeting_voters(&snapshot, true).expect("a roll");
    assert_eq!(voters.len(), 1, "b has no vote");
    assert_eq!(voters[0].capital, Some(eur("2000")));
    assert_eq!(voters[0].shares, 60);
    let without = general_meeting_voters(&snapshot, false).expect("a roll");
    assert_eq!(
        without[0].capital, None,
        "not written unless a quorum counts it"
    );
}

#[tokio::test]
async fn a_college_weighted_quorum_counts_each_colleges_turnout_at_its_weight() {
    // Given the citizens weigh a quarter, when all four of them vote and
    // no one else does, then the turnout is 1/4 x 4/4 = 1/4, above 1/5:
    let charter = quorum_charter("weighted", QuorumBasis::CollegeWeighted);
    let result = count(&charter, &holders(25), "weighted", &CITIZENS_FOR).await;
    assert_eq!(result.turnout, Fraction::new(1, 4));
    assert!(result.quorum_reached);
    assert_eq!(result.outcome, Outcome::Adopted);

    // When half the citizens (1/4 x 2/4) and the commune (1/4 x 1) vote:
    // 1/8 + 1/4 = 3/8.
    let votes = [
        ("c1", Choice::For),
        ("c2", Choice::Against),
        ("commune", Choice::For),
    ];
    let result = count(&charter, &holders(25), "weighted", &votes).await;
    assert_eq!(result.turnout, Fraction::new(3, 8));

    // When two of the citizens only vote, 1/4 x 2/4 = 1/8: not met.
    let two = [("c1", Choice::For), ("c2", Choice::For)];
    let result = count(&charter, &holders(25), "weighted", &two).await;
    assert_eq!(result.turnout, Fraction::new(1, 8));
    assert_eq!(result.outcome, rejected(vec![RejectionRule::Quorum]));
}

#[tokio::test]
async fn a_college_with_nobody_on_the_roll_shares_its_weight_in_a_weighted_quorum() {
    // Given no citizen holds a share (their quarter is shared between the
    // partner, 1/2, and the authorities, 1/4: 2/3 and 1/3), when the
    // commune alone votes, then the turnout is 1/3.
    let charter = quorum_charter("weighted", QuorumBasis::CollegeWeighted);
    let holders = [("partner", IND, 5_000), ("commune", COLL, 2_000)];
    let result = count(&charter, &holders, "weighted", &[("commune", Choice::For)]).await;
    assert_eq!(result.turnout, Fraction::new(1, 3));
    assert!(result.quorum_reached);
}

#[tokio::test]
async fn a_quorum_in_every_college_names_each_college_that_missed_it() {
    // Given a quorum of 1/5 in every college, when the four citizens and
    // nobody else vote, then the citizens reach it and the partner and the
    // authorities do not: the resolution is rejected on their two quorums.
    let charter = quorum_charter("each", QuorumBasis::PerCollege);
    let result = count(&charter, &holders(25), "each", &CITIZENS_FOR).await;
    let reached: Vec<(&str, Option<bool>)> = result
        .colleges
        .iter()
        .map(|c| (c.college.as_str(), c.quorum_reached))
        .collect();
    assert_eq!(
        reached,
        [(IND, Some(false)), (COLL, Some(false)), (CIT, Some(true))]
    );
    assert!(!result.quorum_reached);
    assert_eq!(
        result.outcome,
        rejected(vec![
            RejectionRule::CollegeQuorum {
                college: farm::college(IND)
            },
            RejectionRule::CollegeQuorum {
                college: farm::college(COLL)
            },
        ])
    );

    // When the partner, the commune and one citizen of four (1/4 >= 1/5)
    // vote, every college reaches it.
    let votes = [
        ("partner", Choice::For),
        ("commune", Choice::Against),
        ("c1", Choice::For),
    ];
    let result = count(&charter, &holders(25), "each", &votes).await;
    assert_every_college_reached_and_adopted(&result);
}

fn assert_every_college_reached_and_adopted(result: &ResolutionResult) {
    assert!(
        result
            .colleges
            .iter()
            .all(|c| c.quorum_reached == Some(true))
    );
    assert_eq!(result.outcome, Outcome::Adopted);
}

#[tokio::test]
async fn a_resolution_that_missed_a_colleges_quorum_may_go_to_a_second_call() {
    // Given a first call where nobody voted, rejected on every college's
    // quorum, when a second call is convened on the same agenda, then it
    // is accepted (the quorum it missed was a quorum), and its own quorum,
    // none for the ordinary kind, applies.
    let charter = weighted_charter(vec![DecisionKind {
        quorum_second_call: Ratio::ZERO,
        ..kind("each", QuorumBasis::PerCollege, VetoBasis::Silence, &[])
    }]);
    let second = Call::Second {
        first_call: farm::meeting_id("ago-2025"),
    };
    let mut m = Assembly::open("ago-2025-bis", second, &charter, &holders(25), &["each"]).await;
    m.vote("c1", Choice::For).await;
    let result = m.close().await.remove(0);
    assert_eq!(result.quorum, Ratio::ZERO);
    assert_every_college_reached_and_adopted(&result);
}

#[tokio::test]
async fn a_college_with_nobody_on_the_roll_has_no_quorum_of_its_own_to_reach() {
    let charter = quorum_charter("each", QuorumBasis::PerCollege);
    let holders = [("partner", IND, 5_000), ("commune", COLL, 2_000)];
    let votes = [("partner", Choice::For), ("commune", Choice::For)];
    let result = count(&charter, &holders, "each", &votes).await;
    let citizens = result
        .colleges
        .iter()
        .find(|c| c.college.as_str() == CIT)
        .expect("the citizens' college is counted");
    assert_eq!(citizens.quorum_reached, None);
    assert_eq!(result.outcome, Outcome::Adopted);
}

/// The citizens' majority required, with veto rule `veto`; the partner
/// and the commune vote for, the citizens as given.
async fn with_citizens(veto: VetoBasis, citizens: &[(&str, Choice)]) -> Outcome {
    let charter = weighted_charter(vec![kind("reserve", QuorumBasis::Votes, veto, &[CIT])]);
    let mut votes = vec![("partner", Choice::For), ("commune", Choice::For)];
    votes.extend_from_slice(citizens);
    count(&charter, &holders(25), "reserve", &votes)
        .await
        .outcome
}

#[tokio::test]
async fn by_default_a_required_college_vetoes_by_its_silence_or_an_even_split() {
    let veto = rejected(vec![RejectionRule::Veto {
        college: farm::college(CIT),
    }]);
    // Given the citizens' majority is required, when they do not vote,
    // then their silence vetoes;
    assert_eq!(with_citizens(VetoBasis::Silence, &[]).await, veto);
    // when they split two for, two against, it vetoes too;
    let even = [
        ("c1", Choice::For),
        ("c2", Choice::For),
        ("c3", Choice::Against),
        ("c4", Choice::Against),
    ];
    assert_eq!(with_citizens(VetoBasis::Silence, &even).await, veto);
    // when one votes for and the others abstain, it passes.
    let one_for = [("c1", Choice::For), ("c2", Choice::Abstain)];
    assert_eq!(
        with_citizens(VetoBasis::Silence, &one_for).await,
        Outcome::Adopted
    );
}

#[tokio::test]
async fn a_veto_by_majority_against_needs_more_votes_against_than_for_in_the_college() {
    let veto = rejected(vec![RejectionRule::Veto {
        college: farm::college(CIT),
    }]);
    let rule = VetoBasis::MajorityAgainst;
    // Given a veto by majority against, when the citizens do not vote, or
    // split evenly, then the decision passes;
    assert_eq!(with_citizens(rule, &[]).await, Outcome::Adopted);
    let even = [("c1", Choice::For), ("c2", Choice::Against)];
    assert_eq!(with_citizens(rule, &even).await, Outcome::Adopted);
    // when three of four vote against, they veto it.
    let against = [
        ("c1", Choice::For),
        ("c2", Choice::Against),
        ("c3", Choice::Against),
        ("c4", Choice::Against),
    ];
    assert_eq!(with_citizens(rule, &against).await, veto);
}

#[test]
fn a_college_weighted_quorum_needs_weighted_colleges() {
    // A charter of one college and 1,000 ordinary shares, with `decision_kind`.
    let one_college_with = |decision_kind: DecisionKind| {
        CharterBuilder::one_college()
            .class(ordinary_shares(1_000))
            .decision_kind(decision_kind)
            .build()
    };
    let weighted = kind(
        "weighted",
        QuorumBasis::CollegeWeighted,
        VetoBasis::Silence,
        &[],
    );
    assert_eq!(
        one_college_with(weighted).check(),
        Err(CharterError::CollegeWeightedQuorumWithoutWeights(
            farm::kind("weighted")
        ))
    );
    let each = kind(
        "each",
        QuorumBasis::PerCollege,
        VetoBasis::MajorityAgainst,
        &[],
    );
    assert_eq!(one_college_with(each).check(), Ok(()));
}

#[test]
fn the_default_rules_are_not_written_and_a_charter_without_them_reads_as_before() {
    // A charter recorded before these rules existed reads with the
    // defaults, and writes back without them: its events do not change.
    let json = serde_json::to_value(DecisionKind::french_ordinary()).expect("serialises");
    let keys = json.as_object().expect("an object");
    assert!(!keys.contains_key("quorum_basis") && !keys.contains_key("veto"));
    let read: DecisionKind = serde_json::from_value(json).expect("reads back");
    assert_eq!(
        (read.quorum_basis, read.veto),
        (QuorumBasis::Votes, VetoBasis::Silence)
    );
    let chosen = kind(
        "each",
        QuorumBasis::PerCollege,
        VetoBasis::MajorityAgainst,
        &[],
    );
    let json = serde_json::to_value(&chosen).expect("serialises");
    assert_eq!(json["quorum_basis"], "per_college");
    assert_eq!(json["veto"], "majority_against");
}
