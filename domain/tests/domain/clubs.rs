//! An investment club and its members: the number recorded at admission
//! and changed later, only for a club; in a college of one member, one
//! vote, the charter says whether the club votes once or once per member.

use std::collections::BTreeMap;

use windledger_domain::cap_table::{CapTableSnapshot, HolderPosition};
use windledger_domain::charter::{ClubVotes, College, VoteBasis};
use windledger_domain::company::{CompanyCommand, CompanyError, CompanyEvent, HolderKind};
use windledger_domain::meeting::general_meeting_voters;

use crate::common::*;

fn admit(id: &str, kind: HolderKind, members: Option<u32>) -> CompanyCommand {
    CompanyCommand::AdmitShareholder {
        holder: holder(id),
        kind,
        college: college(CIT),
        commune: commune(LOCAL_A),
        effective_date: later(),
        identity: None,
        members,
    }
}

fn members_changed(id: &str, members: u32) -> CompanyEvent {
    CompanyEvent::ClubMembersChanged {
        holder: holder(id),
        members,
        effective_date: later(),
    }
}

#[test]
fn a_club_is_admitted_with_its_number_of_members() {
    framework()
        .given(capitalised())
        .when(admit("club-2", HolderKind::InvestmentClub, Some(14)))
        .then_expect_events(vec![CompanyEvent::ShareholderAdmitted {
            holder: holder("club-2"),
            kind: HolderKind::InvestmentClub,
            college: college(CIT),
            commune: commune(LOCAL_A),
            effective_date: later(),
            members: Some(14),
        }]);
}

#[test]
fn only_a_club_has_members_and_a_club_has_at_least_one() {
    framework()
        .given(capitalised())
        .when(admit("h-other", HolderKind::Individual, Some(3)))
        .then_expect_error(CompanyError::MembersOfANonClub(holder("h-other")));
    framework()
        .given(capitalised())
        .when(admit("club-2", HolderKind::InvestmentClub, Some(0)))
        .then_expect_error(CompanyError::ClubWithoutMembers(holder("club-2")));
    framework()
        .given(capitalised())
        .when(CompanyCommand::from(&members_changed("h-c1", 3)))
        .then_expect_error(CompanyError::MembersOfANonClub(holder("h-c1")));
}

#[test]
fn a_clubs_members_change_and_the_same_number_again_changes_nothing() {
    // The small farm's club, h-club, admitted without a number.
    framework()
        .given(capitalised())
        .when(CompanyCommand::from(&members_changed("h-club", 12)))
        .then_expect_events(vec![members_changed("h-club", 12)]);
    framework()
        .given(with(capitalised(), [members_changed("h-club", 12)]))
        .when(CompanyCommand::from(&members_changed("h-club", 12)))
        .then_expect_error(CompanyError::NothingChanges(holder("h-club")));
    let club = fold(with(capitalised(), [members_changed("h-club", 12)]));
    let table = club.cap_table(later()).expect("a cap table");
    let position = table
        .holders
        .iter()
        .find(|p| p.holder == holder("h-club"))
        .expect("the club holds shares");
    assert_eq!(position.members, Some(12));
}

/// One member, one vote: a citizen, and a club of 12 members (its number
/// recorded, or not).
fn roll(clubs: ClubVotes, members: Option<u32>) -> Vec<(String, u64)> {
    let mut charter = charter();
    charter.colleges = vec![College {
        id: college(CIT),
        name: "Citoyens".to_owned(),
        weight: None,
        vote_basis: VoteBasis::PerMember,
        clubs,
    }];
    let position = |id: &str, kind, members| HolderPosition {
        holder: holder(id),
        kind,
        college: college(CIT),
        commune: commune(LOCAL_A),
        shares: BTreeMap::from([(class(ORD), shares(10))]),
        members,
    };
    let snapshot = CapTableSnapshot {
        as_of: later(),
        charter,
        share_capital: eur("2000"),
        turbines: Vec::new(),
        holders: vec![
            position("citizen", HolderKind::Individual, None),
            position("club", HolderKind::InvestmentClub, members),
        ],
    };
    general_meeting_voters(&snapshot, false)
        .expect("a roll")
        .into_iter()
        .map(|v| (v.holder.to_string(), v.weight))
        .collect()
}

#[test]
fn a_club_votes_once_unless_the_charter_counts_its_members() {
    let weights = |clubs, members| roll(clubs, members);
    assert_eq!(
        weights(ClubVotes::Once, Some(12)),
        [("citizen".to_owned(), 1), ("club".to_owned(), 1)]
    );
    assert_eq!(
        weights(ClubVotes::PerMember, Some(12)),
        [("citizen".to_owned(), 1), ("club".to_owned(), 12)]
    );
    // Until its number is recorded, a club counts as one member.
    assert_eq!(
        weights(ClubVotes::PerMember, None),
        [("citizen".to_owned(), 1), ("club".to_owned(), 1)]
    );
}

#[test]
fn a_college_counting_clubs_once_writes_nothing_new() {
    let college = |clubs| College {
        id: college(CIT),
        name: "Citoyens".to_owned(),
        weight: None,
        vote_basis: VoteBasis::PerMember,
        clubs,
    };
    let once = serde_json::to_value(college(ClubVotes::Once)).expect("serialises");
    assert!(once.get("clubs").is_none());
    let per_member = serde_json::to_value(college(ClubVotes::PerMember)).expect("serialises");
    assert_eq!(per_member["clubs"], "per_member");
}
