//! Given/when/then tests of the meeting stream: every command, every refusal.
//!
//! The fixture farm of `common`: three weighted colleges (`industriel` 1/2
//! and `collectivites` 1/4 per share, `citoyens` 1/4 per member), ordinary
//! shares with one vote, preference shares with none.

use std::collections::{BTreeMap, BTreeSet};

use crate::common::*;
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use windledger_domain::cap_table::{CapTableSnapshot, HolderPosition, KnownCapTables};
use windledger_domain::charter::{
    Charter, DecisionKind, Majority, QuorumBasis, VetoBasis, VoteBasis,
};
use windledger_domain::company::HolderKind;
use windledger_domain::meeting::tally::{
    CollegeTally, Fraction, Outcome, RejectionRule, ResolutionResult,
};
use windledger_domain::meeting::{
    AgendaItem, Bureau, Call, Choice, CommitteeMember, Convocation, ConvocationChannel,
    KnownMeetings, MAX_RESOLUTION_TEXT, MAX_RESOLUTIONS, Meeting, MeetingCommand, MeetingError,
    MeetingEvent, MeetingKind, MeetingServices, Minutes, OfficerSignature, Phase,
    ProposedResolution, Roll, RollCollege, SentConvocation, Voter, minutes_signing_message,
};
use windledger_domain::ratio::Ratio;
use windledger_domain::resolution::{AdoptedResolution, LookupError, ResolutionPurpose, Terms};
use windledger_domain::types::ResolutionId;

// --- Fixture -------------------------------------------------------------

const AGM: &str = "ag-2024";
const BOARD: &str = "ca-2024-06";

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("a valid test time")
}

fn frac(n: u64, d: u64) -> Fraction {
    Fraction::new(n, d).expect("a non-zero denominator")
}

/// The cap table is known from the start of 2024.
fn as_of() -> NaiveDate {
    day(2024, 1, 1)
}
fn convened_on() -> NaiveDate {
    day(2024, 5, 20)
}
fn record_date() -> NaiveDate {
    day(2024, 6, 10)
}
/// The day after the record date, before the window opens.
fn roll_frozen_at() -> DateTime<Utc> {
    utc(2024, 6, 11, 9, 0)
}
fn opens_at() -> DateTime<Utc> {
    utc(2024, 6, 12, 8, 0)
}
fn during() -> DateTime<Utc> {
    utc(2024, 6, 15, 10, 0)
}
fn closes_at() -> DateTime<Utc> {
    utc(2024, 6, 20, 18, 0)
}
fn closed_at() -> DateTime<Utc> {
    utc(2024, 6, 20, 18, 30)
}

/// An individual living in `LOCAL_A`.
fn position(id: &str, college_id: &str, ordinary: u64, preference: u64) -> HolderPosition {
    holder_position(
        id,
        HolderKind::Individual,
        college_id,
        LOCAL_A,
        ordinary,
        preference,
    )
}

/// Not sorted by holder id on purpose: the roll sorts its voters.
fn positions() -> Vec<HolderPosition> {
    vec![
        position("h-ind1", IND, 600, 0),
        position("h-ind2", IND, 400, 50),
        // Preference shares only, in a per-share college: no vote.
        position("h-fund", IND, 0, 100),
        position("h-town", COLL, 200, 0),
        position("h-sem", COLL, 300, 0),
        position("h-c3", CIT, 10, 5),
        position("h-c1", CIT, 100, 0),
        position("h-c2", CIT, 50, 0),
        // Preference shares only, in a per-member college: one vote.
        position("h-c4", CIT, 0, 20),
    ]
}

fn snapshot(charter: Charter, holders: Vec<HolderPosition>) -> CapTableSnapshot {
    CapTableSnapshot {
        as_of: as_of(),
        charter,
        share_capital: eur("100000"),
        turbines: Vec::new(),
        holders,
    }
}

fn cap_table() -> CapTableSnapshot {
    snapshot(charter(), positions())
}

fn capped_charter() -> Charter {
    let mut capped = charter();
    capped.proxies.max_held_per_holder = Some(1);
    capped
}

fn services_with(snapshots: impl IntoIterator<Item = CapTableSnapshot>) -> MeetingServices {
    MeetingServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        KnownCapTables::new(snapshots),
    )
}

fn meeting() -> TestFramework<Meeting> {
    TestFramework::with(services_with([cap_table()]))
}

fn unreachable() -> TestFramework<Meeting> {
    TestFramework::with(MeetingServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        UnreachableCompany,
    ))
}

fn refused(given: Vec<MeetingEvent>, command: MeetingCommand, error: MeetingError) {
    meeting()
        .given(given)
        .when(command)
        .then_expect_error(error);
}

/// The meeting after folding `events`.
fn replay(events: impl IntoIterator<Item = MeetingEvent>) -> Meeting {
    folded(events)
}

// --- Convening notices ---------------------------------------------------

fn proposed(kind_id: &str, purpose: ResolutionPurpose, text: &str) -> ProposedResolution {
    ProposedResolution {
        decision_kind: kind(kind_id),
        purpose,
        text: text.to_owned(),
    }
}

const ACCOUNTS: &str = "Approval of the 2023 accounts.";
const ARTICLE_12: &str = "Amendment of article 12 of the charter.";
const CHAIR: &str = "Appointment of the chair of the board.";

fn agenda() -> Vec<ProposedResolution> {
    vec![
        proposed("ordinary", ResolutionPurpose::General, ACCOUNTS),
        proposed(
            "extraordinary",
            ResolutionPurpose::CharterAmendment,
            ARTICLE_12,
        ),
    ]
}

fn member(id: &str, college_id: &str) -> CommitteeMember {
    CommitteeMember {
        member: holder(id),
        college: college(college_id),
    }
}

fn board_members() -> Vec<CommitteeMember> {
    vec![
        member("m-ind", IND),
        member("h-sem", COLL),
        member("h-c1", CIT),
    ]
}

/// A convening notice, as a struct so that each test changes what it needs.
#[derive(Clone)]
struct Notice {
    meeting: String,
    kind: MeetingKind,
    call: Call,
    record_date: NaiveDate,
    opens_at: DateTime<Utc>,
    closes_at: DateTime<Utc>,
    agenda: Vec<ProposedResolution>,
    members: Vec<CommitteeMember>,
    convened_on: NaiveDate,
}

impl Notice {
    fn general() -> Self {
        Self {
            meeting: AGM.to_owned(),
            kind: MeetingKind::OrdinaryGeneralMeeting,
            call: Call::First,
            record_date: record_date(),
            opens_at: opens_at(),
            closes_at: closes_at(),
            agenda: agenda(),
            members: vec![],
            convened_on: convened_on(),
        }
    }

    fn board() -> Self {
        Self {
            meeting: BOARD.to_owned(),
            kind: MeetingKind::Board,
            agenda: vec![proposed("ordinary", ResolutionPurpose::General, CHAIR)],
            members: board_members(),
            ..Self::general()
        }
    }

    fn command(self) -> MeetingCommand {
        MeetingCommand::Convene {
            meeting: meeting_id(&self.meeting),
            kind: self.kind,
            call: self.call,
            record_date: self.record_date,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            agenda: self.agenda,
            members: self.members,
            convened_on: self.convened_on,
        }
    }

    /// The event recording this notice under `charter`, items numbered.
    fn event(self, decision_kinds: Vec<DecisionKind>) -> MeetingEvent {
        let meeting = meeting_id(&self.meeting);
        let agenda = self
            .agenda
            .into_iter()
            .enumerate()
            .map(|(i, p)| AgendaItem {
                resolution: res(format!("{}.{}", self.meeting, i + 1)),
                decision_kind: p.decision_kind,
                purpose: p.purpose,
                text: p.text,
            })
            .collect();
        MeetingEvent::MeetingConvened(Convocation {
            meeting,
            kind: self.kind,
            call: self.call,
            record_date: self.record_date,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            agenda,
            decision_kinds,
            members: self.members,
            convened_on: self.convened_on,
        })
    }
}

fn ordinary() -> DecisionKind {
    charter()
        .decision_kind(&kind("ordinary"))
        .cloned()
        .expect("the fixture charter defines ordinary decisions")
}

fn extraordinary() -> DecisionKind {
    charter()
        .decision_kind(&kind("extraordinary"))
        .cloned()
        .expect("the fixture charter defines extraordinary decisions")
}

/// The general meeting as convened.
fn convened() -> MeetingEvent {
    Notice::general().event(vec![ordinary(), extraordinary()])
}

fn convened_board() -> MeetingEvent {
    Notice::board().event(vec![ordinary()])
}

/// `notice` convenes as `expected`, and `fixture`, the fixture's event for
/// it, is that same event.
fn convenes_as(notice: Notice, fixture: MeetingEvent, expected: MeetingEvent) {
    assert_eq!(fixture, expected);
    meeting()
        .given_no_previous_events()
        .when(notice.command())
        .then_expect_events(vec![expected]);
}

/// `notice` convened, recording `decision_kinds`.
fn notice_accepted(notice: Notice, decision_kinds: Vec<DecisionKind>) {
    meeting()
        .given_no_previous_events()
        .when(notice.clone().command())
        .then_expect_events(vec![notice.event(decision_kinds)]);
}

/// The board with `extra` among its members.
fn board_with(extra: CommitteeMember) -> Notice {
    let mut members = board_members();
    members.push(extra);
    Notice {
        members,
        ..Notice::board()
    }
}

fn refused_notice(notice: Notice, error: MeetingError) {
    refused(vec![], notice.command(), error);
}

// --- The roll ------------------------------------------------------------

fn voter(id: &str, college_id: &str, held: u64, weight: u64) -> Voter {
    Voter {
        holder: holder(id),
        college: college(college_id),
        shares: held,
        weight,
        capital: None,
    }
}

fn roll_colleges() -> Vec<RollCollege> {
    let roll_college = |id: &str, weight: Ratio, vote_basis| RollCollege {
        id: college(id),
        weight: Some(weight),
        vote_basis,
    };
    vec![
        roll_college(IND, ratio(1, 2), VoteBasis::PerShare),
        roll_college(COLL, ratio(1, 4), VoteBasis::PerShare),
        roll_college(CIT, ratio(1, 4), VoteBasis::PerMember),
    ]
}

/// The general meeting's roll: sorted by holder id, `h-fund` left off, every
/// citizen one vote, `h-c4` included for their preference shares.
/// Total weight: 1,000 + 500 + 4 = 1,504.
fn roll() -> Roll {
    Roll {
        record_date: record_date(),
        colleges: roll_colleges(),
        voters: vec![
            voter("h-c1", CIT, 100, 1),
            voter("h-c2", CIT, 50, 1),
            voter("h-c3", CIT, 15, 1),
            voter("h-c4", CIT, 20, 1),
            voter("h-ind1", IND, 600, 600),
            voter("h-ind2", IND, 450, 400),
            voter("h-sem", COLL, 300, 300),
            voter("h-town", COLL, 200, 200),
        ],
        max_proxies_held: None,
    }
}

fn opened() -> MeetingEvent {
    voting_opened(roll(), roll_frozen_at())
}

fn voting_opened(roll: Roll, at: DateTime<Utc>) -> MeetingEvent {
    MeetingEvent::VotingOpened { roll, at }
}

/// Convened, roll frozen.
fn open() -> Vec<MeetingEvent> {
    vec![convened(), opened()]
}

/// Convened, roll frozen with the charter's cap of one proxy per holder.
fn open_capped() -> Vec<MeetingEvent> {
    vec![
        convened(),
        voting_opened(
            Roll {
                max_proxies_held: Some(1),
                ..roll()
            },
            roll_frozen_at(),
        ),
    ]
}

fn open_voting(at: DateTime<Utc>) -> MeetingCommand {
    MeetingCommand::OpenVoting { at }
}

// --- Proxies and ballots -------------------------------------------------

fn grant(grantor: &str, proxy: &str) -> MeetingCommand {
    MeetingCommand::GrantProxy {
        grantor: holder(grantor),
        proxy: holder(proxy),
        at: during(),
    }
}

fn granted(grantor: &str, proxy: &str, ballot_withdrawn: bool) -> MeetingEvent {
    MeetingEvent::ProxyGranted {
        grantor: holder(grantor),
        proxy: holder(proxy),
        ballot_withdrawn,
        at: during(),
        paper: false,
    }
}

fn revoke(grantor: &str) -> MeetingCommand {
    MeetingCommand::RevokeProxy {
        grantor: holder(grantor),
        at: during(),
    }
}

fn revoked(grantor: &str, proxy: &str, ballot_withdrawn: bool) -> MeetingEvent {
    MeetingEvent::ProxyRevoked {
        grantor: holder(grantor),
        proxy: holder(proxy),
        ballot_withdrawn,
        at: during(),
    }
}

/// A choice for each resolution of the general meeting, in agenda order.
fn choices(first: Choice, second: Choice) -> BTreeMap<ResolutionId, Choice> {
    BTreeMap::from([(res("ag-2024.1"), first), (res("ag-2024.2"), second)])
}

fn cast(voter: &str, cast_by: &str, first: Choice, second: Choice) -> MeetingCommand {
    MeetingCommand::CastBallot {
        voter: holder(voter),
        cast_by: holder(cast_by),
        choices: choices(first, second),
        at: during(),
    }
}

fn cast_at(at: DateTime<Utc>) -> MeetingCommand {
    MeetingCommand::CastBallot {
        voter: holder("h-c1"),
        cast_by: holder("h-c1"),
        choices: choices(Choice::For, Choice::For),
        at,
    }
}

fn ballot(
    voter: &str,
    cast_by: &str,
    first: Choice,
    second: Choice,
    replaces_earlier: bool,
) -> MeetingEvent {
    MeetingEvent::BallotCast {
        voter: holder(voter),
        cast_by: holder(cast_by),
        choices: choices(first, second),
        replaces_earlier,
        at: during(),
        postal: false,
        electronic: false,
    }
}

/// The ballot `voter` (cast by `cast_by`) casts on `given`, accepted;
/// `replaces_earlier` when it replaces a ballot in force.
fn cast_accepted(
    given: Vec<MeetingEvent>,
    (voter, cast_by): (&str, &str),
    [first, second]: [Choice; 2],
    replaces_earlier: bool,
) {
    meeting()
        .given(given)
        .when(cast(voter, cast_by, first, second))
        .then_expect_events(vec![ballot(
            voter,
            cast_by,
            first,
            second,
            replaces_earlier,
        )]);
}

fn close(at: DateTime<Utc>) -> MeetingCommand {
    MeetingCommand::Close { at }
}

fn closed(results: Vec<ResolutionResult>) -> MeetingEvent {
    closed_at_time(results, closed_at())
}

fn closed_at_time(results: Vec<ResolutionResult>, at: DateTime<Utc>) -> MeetingEvent {
    MeetingEvent::MeetingClosed { results, at }
}

/// Convened, opened, and closed with no ballot.
fn closed_meeting() -> Vec<MeetingEvent> {
    with(open(), [closed(nobody_voted_results())])
}

// --- Convening -----------------------------------------------------------

#[test]
fn convening_a_general_meeting_numbers_its_agenda_and_records_the_rules_of_its_kinds() {
    let expected = MeetingEvent::MeetingConvened(Convocation {
        meeting: meeting_id(AGM),
        kind: MeetingKind::OrdinaryGeneralMeeting,
        call: Call::First,
        record_date: record_date(),
        opens_at: opens_at(),
        closes_at: closes_at(),
        agenda: vec![
            AgendaItem {
                resolution: res("ag-2024.1"),
                decision_kind: kind("ordinary"),
                purpose: ResolutionPurpose::General,
                text: ACCOUNTS.to_owned(),
            },
            AgendaItem {
                resolution: res("ag-2024.2"),
                decision_kind: kind("extraordinary"),
                purpose: ResolutionPurpose::CharterAmendment,
                text: ARTICLE_12.to_owned(),
            },
        ],
        decision_kinds: vec![
            DecisionKind::french_ordinary(),
            DecisionKind::french_extraordinary(),
        ],
        members: vec![],
        convened_on: convened_on(),
    });
    convenes_as(Notice::general(), convened(), expected);
}

#[test]
fn convening_records_only_the_kinds_used_in_charter_order_as_the_charter_defines_them() {
    let unanimity = DecisionKind {
        id: kind("unanimity"),
        quorum_first_call: Ratio::ONE,
        quorum_second_call: Ratio::ONE,
        majority: Majority::AtLeast(Ratio::ONE),
        college_majorities_required: BTreeSet::new(),
        quorum_basis: QuorumBasis::Votes,
        veto: VetoBasis::Silence,
    };
    let vetoed_ordinary = DecisionKind {
        college_majorities_required: BTreeSet::from([college(CIT)]),
        ..DecisionKind::french_ordinary()
    };
    let mut custom = charter();
    custom.decision_kinds = vec![
        DecisionKind::french_extraordinary(),
        unanimity,
        vetoed_ordinary.clone(),
    ];
    let notice = Notice {
        agenda: vec![
            proposed("ordinary", ResolutionPurpose::General, ACCOUNTS),
            proposed(
                "extraordinary",
                ResolutionPurpose::CAPITAL_INCREASE,
                "Issue 500 ordinary shares.",
            ),
            proposed(
                "ordinary",
                ResolutionPurpose::General,
                "Discharge the chair.",
            ),
        ],
        ..Notice::general()
    };
    TestFramework::<Meeting>::with(services_with([snapshot(custom, positions())]))
        .given_no_previous_events()
        .when(notice.clone().command())
        .then_expect_events(vec![
            notice.event(vec![DecisionKind::french_extraordinary(), vetoed_ordinary]),
        ]);
}

#[test]
fn convening_a_board_records_its_members_and_only_the_kinds_on_its_agenda() {
    let expected = MeetingEvent::MeetingConvened(Convocation {
        meeting: meeting_id(BOARD),
        kind: MeetingKind::Board,
        call: Call::First,
        record_date: record_date(),
        opens_at: opens_at(),
        closes_at: closes_at(),
        agenda: vec![AgendaItem {
            resolution: res("ca-2024-06.1"),
            decision_kind: kind("ordinary"),
            purpose: ResolutionPurpose::General,
            text: CHAIR.to_owned(),
        }],
        decision_kinds: vec![DecisionKind::french_ordinary()],
        members: board_members(),
        convened_on: convened_on(),
    });
    convenes_as(Notice::board(), convened_board(), expected);
}

#[test]
fn a_strategic_committee_and_an_extraordinary_general_meeting_are_convened_alike() {
    let committee = Notice {
        meeting: "cs-2024".to_owned(),
        kind: MeetingKind::StrategicCommittee,
        ..Notice::board()
    };
    notice_accepted(committee, vec![ordinary()]);
    let extraordinary_meeting = Notice {
        kind: MeetingKind::ExtraordinaryGeneralMeeting,
        ..Notice::general()
    };
    notice_accepted(extraordinary_meeting, vec![ordinary(), extraordinary()]);
}

/// The meeting framework knowing the first call `AGM` as `events` made it.
fn knowing_first_call(events: Vec<MeetingEvent>) -> TestFramework<Meeting> {
    let mut known = KnownMeetings::default();
    known.0.insert(meeting_id(AGM), replay(events));
    TestFramework::with(services_with([cap_table()]).with_meetings(known))
}

fn second_call() -> Notice {
    Notice {
        meeting: "ag-2024-bis".to_owned(),
        call: Call::Second {
            first_call: meeting_id(AGM),
        },
        ..Notice::general()
    }
}

#[test]
fn a_second_call_names_its_first_call() {
    // The first call was held and no resolution reached its quorum.
    let second = second_call();
    knowing_first_call(closed_meeting())
        .given_no_previous_events()
        .when(second.clone().command())
        .then_expect_events(vec![second.event(vec![ordinary(), extraordinary()])]);
    // A subset of its agenda.
    let fewer = Notice {
        agenda: vec![agenda().remove(1)],
        ..second_call()
    };
    knowing_first_call(closed_meeting())
        .given_no_previous_events()
        .when(fewer.command())
        .inspect_result()
        .expect("one of the resolutions that failed their quorum");
}

#[test]
fn a_second_call_follows_a_first_call_held_that_failed_its_quorum_on_the_same_agenda() {
    let refused_with = |first: Vec<MeetingEvent>, notice: Notice, error: MeetingError| {
        knowing_first_call(first)
            .given_no_previous_events()
            .when(notice.command())
            .then_expect_error(error);
    };
    let first = meeting_id(AGM);
    // No such meeting.
    meeting()
        .given_no_previous_events()
        .when(second_call().command())
        .then_expect_error(MeetingError::FirstCallUnknown(first.clone()));
    // Convened but not held.
    refused_with(
        vec![convened()],
        second_call(),
        MeetingError::FirstCallNotHeld(first.clone()),
    );
    // Held, and every resolution reached its quorum.
    refused_with(
        with(ballots_in_force(), [closed(counted_results())]),
        second_call(),
        MeetingError::FirstCallReachedQuorum(first.clone()),
    );
    // Another kind of meeting.
    refused_with(
        closed_meeting(),
        Notice {
            kind: MeetingKind::ExtraordinaryGeneralMeeting,
            ..second_call()
        },
        MeetingError::FirstCallOfAnotherKind(first.clone()),
    );
    // A resolution the first call did not have.
    let mut agenda = agenda();
    agenda[1].text = "Une autre résolution".to_owned();
    refused_with(
        closed_meeting(),
        Notice {
            agenda,
            ..second_call()
        },
        MeetingError::NotOnTheFirstCall {
            number: 2,
            first_call: first,
        },
    );
}

#[test]
fn a_meeting_convened_on_its_record_date_is_accepted() {
    // A board: a general meeting would need the charter's notice.
    let notice = Notice {
        convened_on: record_date(),
        ..Notice::board()
    };
    notice_accepted(notice, vec![ordinary()]);
}

#[test]
fn the_notice_counts_paris_days() {
    // Convened on 28 May, the vote opening at 00:30 in Paris on 12 June
    // (22:30 UTC on the 11th): the fifteen days are there.
    let notice = Notice {
        convened_on: day(2024, 5, 28),
        opens_at: utc(2024, 6, 11, 22, 30),
        ..Notice::general()
    };
    meeting()
        .given_no_previous_events()
        .when(notice.command())
        .inspect_result()
        .expect("fifteen Paris days' notice");
}

#[test]
fn a_general_meeting_opening_before_its_notice_is_refused_with_the_earliest_day() {
    // Convened 11 days before its vote opens: a first call needs 15.
    let late = Notice {
        convened_on: day(2024, 6, 1),
        ..Notice::general()
    };
    refused_notice(
        late.clone(),
        MeetingError::NoticeTooShort {
            call: "first call",
            days: 15,
            convened_on: day(2024, 6, 1),
            opens_on: day(2024, 6, 12),
            earliest: day(2024, 6, 16),
        },
    );
    // A second call needs 10 days: 11 are enough.
    let second = Notice {
        meeting: "ago-second".to_owned(),
        call: Call::Second {
            first_call: meeting_id(AGM),
        },
        ..late.clone()
    };
    knowing_first_call(closed_meeting())
        .given_no_previous_events()
        .when(second.command())
        .inspect_result()
        .expect("a second call with 11 days' notice");
    // The charter's own notice: 8 days for a first call.
    let mut short = charter();
    short.notice.first_call_days = 8;
    TestFramework::<Meeting>::with(services_with([snapshot(short, positions())]))
        .given_no_previous_events()
        .when(late.clone().command())
        .inspect_result()
        .expect("8 days' notice by the charter");
    // Exactly the notice: convened 15 days before the day it opens.
    let exact = Notice {
        convened_on: day(2024, 5, 28),
        ..late
    };
    meeting()
        .given_no_previous_events()
        .when(exact.command())
        .inspect_result()
        .expect("exactly 15 days' notice");
}

#[test]
fn a_meeting_is_convened_only_once() {
    refused(
        vec![convened()],
        Notice::general().command(),
        MeetingError::AlreadyConvened,
    );
}

#[test]
fn an_already_convened_meeting_is_refused_without_looking_up_the_cap_table() {
    unreachable()
        .given(vec![convened()])
        .when(Notice::general().command())
        .then_expect_error(MeetingError::AlreadyConvened);
}

#[test]
fn a_meeting_id_without_room_for_its_resolution_numbers_is_refused() {
    let long = "a".repeat(63);
    refused_notice(
        Notice {
            meeting: long.clone(),
            ..Notice::general()
        },
        MeetingError::MeetingIdTooLong(meeting_id(&long)),
    );
    // 62 characters leave room for `.1` but not for `.10`.
    let long = "b".repeat(62);
    let one = Notice {
        meeting: long.clone(),
        agenda: vec![proposed("ordinary", ResolutionPurpose::General, ACCOUNTS)],
        ..Notice::general()
    };
    notice_accepted(one, vec![ordinary()]);
    refused_notice(
        Notice {
            meeting: long.clone(),
            agenda: vec![proposed("ordinary", ResolutionPurpose::General, ACCOUNTS); 10],
            ..Notice::general()
        },
        MeetingError::MeetingIdTooLong(meeting_id(&long)),
    );
}

#[test]
fn a_meeting_with_nothing_on_its_agenda_is_refused() {
    refused_notice(
        Notice {
            agenda: vec![],
            ..Notice::general()
        },
        MeetingError::EmptyAgenda,
    );
}

#[test]
fn an_agenda_above_the_most_resolutions_is_refused() {
    let item = proposed("ordinary", ResolutionPurpose::General, ACCOUNTS);
    refused_notice(
        Notice {
            agenda: vec![item.clone(); MAX_RESOLUTIONS + 1],
            ..Notice::general()
        },
        MeetingError::TooManyResolutions {
            count: 101,
            max: 100,
        },
    );
    let full = Notice {
        agenda: vec![item; MAX_RESOLUTIONS],
        ..Notice::general()
    };
    notice_accepted(full, vec![ordinary()]);
}

#[test]
fn a_resolution_without_text_or_with_too_long_a_text_is_refused_with_its_number() {
    let with_text = |number: usize, text: String| {
        let mut agenda = agenda();
        agenda[number - 1].text = text;
        Notice {
            agenda,
            ..Notice::general()
        }
    };
    for (number, text) in [
        (1, String::new()),
        (2, " \n\t ".to_owned()),
        (1, "x".repeat(MAX_RESOLUTION_TEXT + 1)),
    ] {
        refused_notice(
            with_text(number, text),
            MeetingError::InvalidResolutionText {
                number,
                max: 20_000,
            },
        );
    }
    // The limit counts characters, not bytes.
    let longest = with_text(2, "é".repeat(MAX_RESOLUTION_TEXT));
    notice_accepted(longest, vec![ordinary(), extraordinary()]);
}

#[test]
fn a_decision_kind_outside_the_charter_is_refused() {
    let mut agenda = agenda();
    agenda.push(proposed(
        "unanimity",
        ResolutionPurpose::General,
        "Sell the farm.",
    ));
    refused_notice(
        Notice {
            agenda,
            ..Notice::general()
        },
        MeetingError::UnknownDecisionKind(kind("unanimity")),
    );
}

#[test]
fn a_resolution_whose_terms_name_no_class_of_the_charter_or_no_share_is_refused() {
    let reduction = |terms| {
        let mut agenda = agenda();
        agenda.push(proposed(
            "extraordinary",
            ResolutionPurpose::CapitalReduction { terms },
            "Buy back shares.",
        ));
        Notice {
            agenda,
            ..Notice::general()
        }
    };
    refused_notice(
        reduction(Terms {
            class: Some(class("golden")),
            ..Terms::NONE
        }),
        MeetingError::TermsUnknownClass {
            number: 3,
            class: class("golden"),
        },
    );
    refused_notice(
        reduction(Terms {
            count: Some(shares(0)),
            ..Terms::NONE
        }),
        MeetingError::TermsWithoutShares { number: 3 },
    );
    // Terms within the charter are convened with the resolution.
    let within = reduction(Terms {
        class: Some(class(ORD)),
        count: Some(shares(20)),
        ..Terms::NONE
    });
    notice_accepted(within, vec![ordinary(), extraordinary()]);
}

#[test]
fn a_resolution_acting_on_the_company_must_be_of_the_kind_the_charter_reserves() {
    let transferee = ResolutionPurpose::approval_of(holder(NEWCOMER));
    let cases = [
        (
            ResolutionPurpose::CharterAmendment,
            "ordinary",
            "extraordinary",
        ),
        (
            ResolutionPurpose::CAPITAL_INCREASE,
            "ordinary",
            "extraordinary",
        ),
        (
            ResolutionPurpose::CAPITAL_REDUCTION,
            "ordinary",
            "extraordinary",
        ),
        (transferee, "extraordinary", "ordinary"),
    ];
    for (purpose, found, required) in cases {
        refused_notice(
            Notice {
                agenda: vec![proposed(found, purpose.clone(), ARTICLE_12)],
                ..Notice::general()
            },
            MeetingError::WrongDecisionKind {
                purpose: Box::new(purpose),
                required: kind(required),
                found: kind(found),
            },
        );
    }
}

#[test]
fn a_general_resolution_may_be_of_any_kind_and_an_approval_of_its_reserved_kind() {
    let notice = Notice {
        agenda: vec![
            proposed("extraordinary", ResolutionPurpose::General, ACCOUNTS),
            proposed(
                "ordinary",
                ResolutionPurpose::approval_of(holder(NEWCOMER)),
                "Approve h-new as a shareholder.",
            ),
        ],
        ..Notice::general()
    };
    notice_accepted(notice, vec![ordinary(), extraordinary()]);
}

#[test]
fn a_voting_window_that_does_not_end_after_it_opens_is_refused() {
    for closes in [opens_at(), opens_at() - Duration::minutes(1)] {
        refused_notice(
            Notice {
                closes_at: closes,
                ..Notice::general()
            },
            MeetingError::EmptyVotingWindow {
                opens_at: opens_at(),
                closes_at: closes,
            },
        );
    }
}

#[test]
fn a_record_date_on_or_after_the_day_voting_opens_is_refused() {
    for record in [day(2024, 6, 12), day(2024, 6, 13)] {
        refused_notice(
            Notice {
                record_date: record,
                ..Notice::general()
            },
            MeetingError::RecordDateNotBeforeOpening {
                record_date: record,
                opens_at: opens_at(),
            },
        );
    }
}

#[test]
fn a_meeting_convened_after_its_record_date_is_refused() {
    refused_notice(
        Notice {
            convened_on: day(2024, 6, 11),
            ..Notice::general()
        },
        MeetingError::ConvenedAfterRecordDate {
            convened_on: day(2024, 6, 11),
            record_date: record_date(),
        },
    );
}

#[test]
fn a_board_or_committee_without_members_is_refused() {
    for kind_of in [MeetingKind::Board, MeetingKind::StrategicCommittee] {
        refused_notice(
            Notice {
                kind: kind_of,
                members: vec![],
                ..Notice::board()
            },
            MeetingError::MembersRequired,
        );
    }
}

#[test]
fn a_general_meeting_with_a_list_of_members_is_refused() {
    for kind_of in [
        MeetingKind::OrdinaryGeneralMeeting,
        MeetingKind::ExtraordinaryGeneralMeeting,
    ] {
        refused_notice(
            Notice {
                kind: kind_of,
                members: board_members(),
                ..Notice::general()
            },
            MeetingError::MembersNotAllowed,
        );
    }
}

#[test]
fn a_member_listed_twice_is_refused() {
    refused_notice(
        board_with(member("h-sem", CIT)),
        MeetingError::DuplicateMember(holder("h-sem")),
    );
}

#[test]
fn a_member_in_a_college_outside_the_charter_is_refused() {
    refused_notice(
        board_with(member("m-staff", "salaries")),
        MeetingError::UnknownCollege(college("salaries")),
    );
}

#[test]
fn a_second_call_naming_itself_is_refused() {
    refused_notice(
        Notice {
            call: Call::Second {
                first_call: meeting_id(AGM),
            },
            ..Notice::general()
        },
        MeetingError::SecondCallOfItself(meeting_id(AGM)),
    );
}

#[test]
fn a_failed_cap_table_lookup_refuses_the_convening_so_it_can_be_retried() {
    unreachable()
        .given_no_previous_events()
        .when(Notice::general().command())
        .then_expect_error(MeetingError::CapTableLookup(LookupError(
            "the company stream is unreachable".to_owned(),
        )));
}

#[test]
fn a_meeting_convened_before_any_known_cap_table_is_refused() {
    let expected = MeetingError::CapTableLookup(LookupError(
        "no cap table is known on 2024-05-20".to_owned(),
    ));
    TestFramework::<Meeting>::with(services_with([]))
        .given_no_previous_events()
        .when(Notice::general().command())
        .then_expect_error(expected.clone());
    let later_table = CapTableSnapshot {
        as_of: day(2024, 5, 21),
        ..cap_table()
    };
    TestFramework::<Meeting>::with(services_with([later_table]))
        .given_no_previous_events()
        .when(Notice::general().command())
        .then_expect_error(expected);
}

// --- Opening the vote ----------------------------------------------------

#[test]
fn opening_the_vote_freezes_the_roll_of_every_holder_with_a_vote_on_the_record_date() {
    meeting()
        .given(vec![convened()])
        .when(open_voting(roll_frozen_at()))
        .then_expect_events(vec![opened()]);
    assert_eq!(roll().total_weight(), 1_504);
}

#[test]
fn the_vote_may_open_within_the_window() {
    meeting()
        .given(vec![convened()])
        .when(open_voting(during()))
        .then_expect_events(vec![voting_opened(roll(), during())]);
}

#[test]
fn the_roll_carries_the_charters_cap_on_proxies() {
    TestFramework::<Meeting>::with(services_with([snapshot(capped_charter(), positions())]))
        .given(vec![convened()])
        .when(open_voting(roll_frozen_at()))
        .then_expect_events(open_capped()[1..].to_vec());
}

#[test]
fn the_roll_follows_the_charter_and_holdings_on_the_record_date() {
    // Between the convening and the record date, the colleges lost their
    // weights and h-c2 sold their shares.
    let mut amended = charter();
    for c in &mut amended.colleges {
        c.weight = None;
    }
    let holdings: Vec<HolderPosition> = positions()
        .into_iter()
        .filter(|p| p.holder.as_str() != "h-c2")
        .collect();
    let on_record_date = CapTableSnapshot {
        as_of: day(2024, 6, 1),
        ..snapshot(amended, holdings)
    };
    let mut expected = roll();
    for c in &mut expected.colleges {
        c.weight = None;
    }
    expected.voters.retain(|v| v.holder.as_str() != "h-c2");
    TestFramework::<Meeting>::with(services_with([cap_table(), on_record_date]))
        .given(vec![convened()])
        .when(open_voting(roll_frozen_at()))
        .then_expect_events(vec![voting_opened(expected, roll_frozen_at())]);
}

#[test]
fn a_boards_roll_is_its_members_one_vote_each_sorted_by_id() {
    meeting()
        .given(vec![convened_board()])
        .when(open_voting(roll_frozen_at()))
        .then_expect_events(vec![voting_opened(
            Roll {
                voters: vec![
                    voter("h-c1", CIT, 0, 1),
                    voter("h-sem", COLL, 0, 1),
                    voter("m-ind", IND, 0, 1),
                ],
                ..roll()
            },
            roll_frozen_at(),
        )]);
}

#[test]
fn the_vote_of_a_meeting_not_convened_cannot_open() {
    refused(
        vec![],
        open_voting(roll_frozen_at()),
        MeetingError::NotConvened,
    );
    unreachable()
        .given_no_previous_events()
        .when(open_voting(roll_frozen_at()))
        .then_expect_error(MeetingError::NotConvened);
}

#[test]
fn the_vote_opens_only_once() {
    refused(
        open(),
        open_voting(during()),
        MeetingError::VotingAlreadyOpen(roll_frozen_at()),
    );
}

#[test]
fn the_vote_cannot_open_before_the_record_date_has_ended() {
    // The record date is a Paris day: it ends at midnight there, 22:00 UTC
    // in June.
    meeting()
        .given(vec![convened()])
        .when(open_voting(utc(2024, 6, 10, 22, 0)))
        .inspect_result()
        .expect("the record date has ended in Paris");
    for at in [utc(2024, 6, 10, 21, 59), utc(2024, 6, 1, 12, 0)] {
        refused(
            vec![convened()],
            open_voting(at),
            MeetingError::OpenedOnOrBeforeRecordDate {
                at,
                record_date: record_date(),
            },
        );
    }
}

#[test]
fn the_vote_cannot_open_once_the_window_is_over() {
    for at in [closes_at(), closed_at()] {
        refused(
            vec![convened()],
            open_voting(at),
            MeetingError::WindowOver {
                closes_at: closes_at(),
            },
        );
    }
}

#[test]
fn the_vote_cannot_open_when_no_one_holds_a_vote() {
    let voteless = vec![
        position("h-fund", IND, 0, 100),
        position("h-bank", COLL, 0, 40),
    ];
    for holders in [voteless, vec![]] {
        TestFramework::<Meeting>::with(services_with([snapshot(charter(), holders)]))
            .given(vec![convened()])
            .when(open_voting(roll_frozen_at()))
            .then_expect_error(MeetingError::EmptyRoll(record_date()));
    }
}

#[test]
fn the_vote_of_a_closed_meeting_cannot_open() {
    refused(
        closed_meeting(),
        open_voting(during()),
        MeetingError::Closed(closed_at()),
    );
}

#[test]
fn a_failed_cap_table_lookup_refuses_the_opening_so_it_can_be_retried() {
    unreachable()
        .given(vec![convened()])
        .when(open_voting(roll_frozen_at()))
        .then_expect_error(MeetingError::CapTableLookup(LookupError(
            "the company stream is unreachable".to_owned(),
        )));
}

#[test]
fn a_cap_table_inconsistent_with_its_charter_refuses_the_opening() {
    let mut holdings = positions();
    holdings.push(position("h-staff", "salaries", 10, 0));
    TestFramework::<Meeting>::with(services_with([snapshot(charter(), holdings)]))
        .given(vec![convened()])
        .when(open_voting(roll_frozen_at()))
        .then_expect_error(MeetingError::CapTableLookup(LookupError(
            "the cap table on 2024-06-10 is inconsistent with its charter: college salaries is unknown"
                .to_owned(),
        )));
}

#[test]
fn a_board_member_whose_college_left_the_charter_refuses_the_opening() {
    let board = board_with(member("m-staff", "salaries")).event(vec![ordinary()]);
    refused(
        vec![board],
        open_voting(roll_frozen_at()),
        MeetingError::UnknownCollege(college("salaries")),
    );
}

// --- Proxies -------------------------------------------------------------

#[test]
fn a_voter_on_the_roll_gives_a_proxy_to_another() {
    meeting()
        .given(open())
        .when(grant("h-c2", "h-c1"))
        .then_expect_events(vec![granted("h-c2", "h-c1", false)]);
    let state = replay(with(open(), [granted("h-c2", "h-c1", false)]));
    assert_eq!(state.proxy_of(&holder("h-c2")), Some(&holder("h-c1")));
    assert_eq!(state.proxies_held(&holder("h-c1")), 1);
}

#[test]
fn proxies_are_collected_before_the_window_opens() {
    let before = roll_frozen_at() + Duration::hours(1);
    meeting()
        .given(open())
        .when(MeetingCommand::GrantProxy {
            grantor: holder("h-town"),
            proxy: holder("h-sem"),
            at: before,
        })
        .then_expect_events(vec![MeetingEvent::ProxyGranted {
            grantor: holder("h-town"),
            proxy: holder("h-sem"),
            ballot_withdrawn: false,
            at: before,
            paper: false,
        }]);
}

#[test]
fn giving_a_proxy_withdraws_the_grantors_own_ballot() {
    let given = with(
        open(),
        [ballot("h-c2", "h-c2", Choice::For, Choice::For, false)],
    );
    meeting()
        .given(given.clone())
        .when(grant("h-c2", "h-c1"))
        .then_expect_events(vec![granted("h-c2", "h-c1", true)]);
    let state = replay(with(given, [granted("h-c2", "h-c1", true)]));
    assert_eq!(state.ballot(&holder("h-c2")), None);
    assert_eq!(state.ballots_in_force(), 0);
}

#[test]
fn a_proxy_holder_may_hold_several_proxies_without_a_cap() {
    meeting()
        .given(with(open(), [granted("h-c2", "h-c1", false)]))
        .when(grant("h-c3", "h-c1"))
        .then_expect_events(vec![granted("h-c3", "h-c1", false)]);
}

#[test]
fn a_proxy_before_the_vote_opens_is_refused() {
    refused(
        vec![convened()],
        grant("h-c2", "h-c1"),
        MeetingError::VotingNotOpen,
    );
    refused(vec![], grant("h-c2", "h-c1"), MeetingError::NotConvened);
}

#[test]
fn a_proxy_from_or_to_someone_off_the_roll_is_refused() {
    for (grantor, proxy, off_roll) in [("h-fund", "h-c1", "h-fund"), ("h-c1", "h-ghost", "h-ghost")]
    {
        refused(
            open(),
            grant(grantor, proxy),
            MeetingError::NotOnRoll(holder(off_roll)),
        );
    }
}

#[test]
fn a_proxy_to_oneself_is_refused() {
    refused(
        open(),
        grant("h-c1", "h-c1"),
        MeetingError::ProxyToSelf(holder("h-c1")),
    );
}

#[test]
fn a_second_proxy_while_the_first_stands_is_refused() {
    refused(
        with(open(), [granted("h-c2", "h-c1", false)]),
        grant("h-c2", "h-c3"),
        MeetingError::ProxyAlreadyGiven {
            grantor: holder("h-c2"),
            proxy: holder("h-c1"),
        },
    );
}

#[test]
fn a_voter_who_gave_a_proxy_cannot_hold_one() {
    refused(
        with(open(), [granted("h-c2", "h-c1", false)]),
        grant("h-c3", "h-c2"),
        MeetingError::ProxyHasGivenProxy {
            proxy: holder("h-c2"),
            their_proxy: holder("h-c1"),
        },
    );
}

#[test]
fn a_voter_who_holds_proxies_cannot_give_one() {
    refused(
        with(
            open(),
            [
                granted("h-c2", "h-c1", false),
                granted("h-c3", "h-c1", false),
            ],
        ),
        grant("h-c1", "h-sem"),
        MeetingError::GrantorHoldsProxies {
            grantor: holder("h-c1"),
            held: 2,
        },
    );
}

#[test]
fn a_proxy_beyond_the_charters_cap_is_refused() {
    let first = with(open_capped(), [granted("h-c2", "h-c1", false)]);
    refused(
        first.clone(),
        grant("h-c3", "h-c1"),
        MeetingError::ProxyCapReached {
            proxy: holder("h-c1"),
            max: 1,
        },
    );
    // Another proxy holder is not concerned.
    meeting()
        .given(first)
        .when(grant("h-c3", "h-sem"))
        .then_expect_events(vec![granted("h-c3", "h-sem", false)]);
}

#[test]
fn a_revoked_proxy_frees_its_place_under_the_cap() {
    meeting()
        .given(with(
            open_capped(),
            [
                granted("h-c2", "h-c1", false),
                revoked("h-c2", "h-c1", false),
            ],
        ))
        .when(grant("h-c3", "h-c1"))
        .then_expect_events(vec![granted("h-c3", "h-c1", false)]);
}

#[test]
fn a_proxy_once_the_window_is_over_is_refused() {
    refused(
        open(),
        MeetingCommand::GrantProxy {
            grantor: holder("h-c2"),
            proxy: holder("h-c1"),
            at: closes_at(),
        },
        MeetingError::ProxyWindowOver {
            closes_at: closes_at(),
        },
    );
}

#[test]
fn a_proxy_in_a_closed_meeting_is_refused() {
    refused(
        closed_meeting(),
        grant("h-c2", "h-c1"),
        MeetingError::Closed(closed_at()),
    );
}

/// h-c2 gave h-c1 a proxy, and h-c1 voted for them.
fn voted_by_proxy() -> Vec<MeetingEvent> {
    with(
        open(),
        [
            granted("h-c2", "h-c1", false),
            ballot("h-c2", "h-c1", Choice::For, Choice::Against, false),
        ],
    )
}

/// h-c2 revokes on `given` the proxy they gave h-c1, withdrawing the
/// ballot h-c1 cast for them when `ballot_withdrawn`: the meeting after.
fn revocation_accepted(given: Vec<MeetingEvent>, ballot_withdrawn: bool) -> Meeting {
    let revocation = revoked("h-c2", "h-c1", ballot_withdrawn);
    meeting()
        .given(given.clone())
        .when(revoke("h-c2"))
        .then_expect_events(vec![revocation.clone()]);
    replay(with(given, [revocation]))
}

#[test]
fn revoking_a_proxy_with_no_ballot_cast_for_the_grantor() {
    let given = with(open(), [granted("h-c2", "h-c1", false)]);
    let state = revocation_accepted(given, false);
    assert_eq!(state.proxy_of(&holder("h-c2")), None);
    assert_eq!(state.proxies_held(&holder("h-c1")), 0);
}

#[test]
fn revoking_a_proxy_withdraws_the_ballot_the_proxy_cast_for_the_grantor() {
    let state = revocation_accepted(voted_by_proxy(), true);
    assert_eq!(state.ballot(&holder("h-c2")), None);
}

#[test]
fn after_revoking_the_grantor_votes_again_themself() {
    cast_accepted(
        with(voted_by_proxy(), [revoked("h-c2", "h-c1", true)]),
        ("h-c2", "h-c2"),
        [Choice::Against, Choice::Against],
        false,
    );
}

#[test]
fn revoking_a_proxy_never_given_is_refused() {
    refused(
        open(),
        revoke("h-c2"),
        MeetingError::NoProxyGiven(holder("h-c2")),
    );
    refused(
        with(
            open(),
            [
                granted("h-c2", "h-c1", false),
                revoked("h-c2", "h-c1", false),
            ],
        ),
        revoke("h-c2"),
        MeetingError::NoProxyGiven(holder("h-c2")),
    );
}

#[test]
fn revoking_is_refused_off_the_roll_out_of_the_window_or_out_of_the_vote() {
    let given = with(open(), [granted("h-c2", "h-c1", false)]);
    refused(
        given.clone(),
        revoke("h-fund"),
        MeetingError::NotOnRoll(holder("h-fund")),
    );
    refused(
        given,
        MeetingCommand::RevokeProxy {
            grantor: holder("h-c2"),
            at: closes_at(),
        },
        MeetingError::ProxyWindowOver {
            closes_at: closes_at(),
        },
    );
    refused(
        vec![convened()],
        revoke("h-c2"),
        MeetingError::VotingNotOpen,
    );
    refused(vec![], revoke("h-c2"), MeetingError::NotConvened);
    refused(
        closed_meeting(),
        revoke("h-c2"),
        MeetingError::Closed(closed_at()),
    );
}

// --- Ballots -------------------------------------------------------------

#[test]
fn a_voter_casts_their_own_ballot() {
    cast_accepted(
        open(),
        ("h-c1", "h-c1"),
        [Choice::For, Choice::Abstain],
        false,
    );
    let state = replay(with(
        open(),
        [ballot("h-c1", "h-c1", Choice::For, Choice::Abstain, false)],
    ));
    let in_force = state.ballot(&holder("h-c1")).expect("a ballot in force");
    assert_eq!(in_force.choices, vec![Choice::For, Choice::Abstain]);
    assert_eq!(in_force.cast_by, holder("h-c1"));
}

#[test]
fn a_later_ballot_replaces_the_earlier_one() {
    cast_accepted(
        with(
            open(),
            [ballot("h-c1", "h-c1", Choice::For, Choice::For, false)],
        ),
        ("h-c1", "h-c1"),
        [Choice::Against, Choice::For],
        true,
    );
}

#[test]
fn a_proxy_casts_the_ballot_of_the_voter_they_represent() {
    let given = with(open(), [granted("h-c2", "h-c1", false)]);
    cast_accepted(
        given.clone(),
        ("h-c2", "h-c1"),
        [Choice::Against, Choice::For],
        false,
    );
    cast_accepted(
        with(
            given,
            [ballot("h-c2", "h-c1", Choice::Against, Choice::For, false)],
        ),
        ("h-c2", "h-c1"),
        [Choice::For, Choice::For],
        true,
    );
}

#[test]
fn ballots_are_accepted_from_the_opening_of_the_window_until_just_before_its_end() {
    for at in [opens_at(), closes_at() - Duration::seconds(1)] {
        meeting()
            .given(open())
            .when(cast_at(at))
            .then_expect_events(vec![MeetingEvent::BallotCast {
                voter: holder("h-c1"),
                cast_by: holder("h-c1"),
                choices: choices(Choice::For, Choice::For),
                replaces_earlier: false,
                at,
                postal: false,
                electronic: false,
            }]);
    }
}

#[test]
fn a_ballot_outside_the_voting_window_is_refused() {
    for at in [
        roll_frozen_at(),
        opens_at() - Duration::seconds(1),
        closes_at(),
    ] {
        refused(
            open(),
            cast_at(at),
            MeetingError::OutsideVotingWindow {
                at,
                opens_at: opens_at(),
                closes_at: closes_at(),
            },
        );
    }
}

#[test]
fn a_ballot_for_or_by_someone_off_the_roll_is_refused() {
    refused(
        open(),
        cast("h-fund", "h-fund", Choice::For, Choice::For),
        MeetingError::NotOnRoll(holder("h-fund")),
    );
    refused(
        open(),
        cast("h-c1", "h-ghost", Choice::For, Choice::For),
        MeetingError::NotOnRoll(holder("h-ghost")),
    );
}

#[test]
fn a_represented_voter_cannot_vote_themself() {
    refused(
        with(open(), [granted("h-c2", "h-c1", false)]),
        cast("h-c2", "h-c2", Choice::For, Choice::For),
        MeetingError::VoterIsRepresented {
            voter: holder("h-c2"),
            proxy: holder("h-c1"),
        },
    );
}

#[test]
fn only_the_proxy_votes_for_another() {
    for (given, cast_by) in [
        (open(), "h-c1"),
        (with(open(), [granted("h-c2", "h-c1", false)]), "h-c3"),
    ] {
        refused(
            given,
            cast("h-c2", cast_by, Choice::For, Choice::For),
            MeetingError::NotTheProxy {
                cast_by: holder(cast_by),
                voter: holder("h-c2"),
            },
        );
    }
}

#[test]
fn a_ballot_must_choose_on_every_resolution() {
    let partial = MeetingCommand::CastBallot {
        voter: holder("h-c1"),
        cast_by: holder("h-c1"),
        choices: BTreeMap::from([(res("ag-2024.1"), Choice::For)]),
        at: during(),
    };
    refused(
        open(),
        partial,
        MeetingError::IncompleteBallot(res("ag-2024.2")),
    );
    let blank = MeetingCommand::CastBallot {
        voter: holder("h-c1"),
        cast_by: holder("h-c1"),
        choices: BTreeMap::new(),
        at: during(),
    };
    refused(
        open(),
        blank,
        MeetingError::IncompleteBallot(res("ag-2024.1")),
    );
}

#[test]
fn a_ballot_on_a_resolution_off_the_agenda_is_refused() {
    for stray in ["ag-2024.3", "ag-2023.1"] {
        let mut with_stray = choices(Choice::For, Choice::For);
        with_stray.insert(res(stray), Choice::Against);
        refused(
            open(),
            MeetingCommand::CastBallot {
                voter: holder("h-c1"),
                cast_by: holder("h-c1"),
                choices: with_stray,
                at: during(),
            },
            MeetingError::UnknownResolution(res(stray)),
        );
    }
}

#[test]
fn a_ballot_outside_the_vote_is_refused() {
    let ballot = || cast("h-c1", "h-c1", Choice::For, Choice::For);
    refused(vec![], ballot(), MeetingError::NotConvened);
    refused(vec![convened()], ballot(), MeetingError::VotingNotOpen);
    refused(
        closed_meeting(),
        ballot(),
        MeetingError::Closed(closed_at()),
    );
}

// --- Closing -------------------------------------------------------------

fn college_tally(
    id: &str,
    (roll_total, present): (u64, u64),
    (votes_for, votes_against, abstentions): (u64, u64, u64),
    weight: Ratio,
    applied_weight: Fraction,
    majority_for: bool,
    majority_required: bool,
) -> CollegeTally {
    CollegeTally {
        college: college(id),
        roll_total,
        present,
        votes_for,
        votes_against,
        abstentions,
        weight: Some(weight),
        applied_weight: Some(applied_weight),
        majority_for,
        majority_required,
        quorum_reached: None,
    }
}

/// h-ind1 (600) and h-sem (300) vote themselves, h-c1 (1) votes for
/// themself and, as proxy, for h-c2 (1); everyone else stays away.
/// Present: 902 of 1,504.
fn ballots_in_force() -> Vec<MeetingEvent> {
    with(
        open(),
        [
            granted("h-c2", "h-c1", false),
            ballot("h-ind1", "h-ind1", Choice::For, Choice::Against, false),
            ballot("h-sem", "h-sem", Choice::For, Choice::For, false),
            ballot("h-c1", "h-c1", Choice::Against, Choice::For, false),
            ballot("h-c2", "h-c1", Choice::Abstain, Choice::For, false),
        ],
    )
}

/// Counted by hand:
/// 1. ordinary (quorum 1/5, more than 1/2): 902 x 5 >= 1,504; for 900,
///    against 1, abstention 1; every college cast a vote, so the weights
///    apply as they are: 1/2 x 600/600 + 1/4 x 300/300 + 1/4 x 0/1 = 3/4.
///    Adopted.
/// 2. extraordinary (quorum 1/4, at least 2/3): 902 x 4 >= 1,504; for 302,
///    against 600: 1/2 x 0/600 + 1/4 x 300/300 + 1/4 x 2/2 = 1/2 < 2/3.
///    Rejected for its majority.
fn counted_results() -> Vec<ResolutionResult> {
    vec![
        ResolutionResult {
            resolution: res("ag-2024.1"),
            decision_kind: kind("ordinary"),
            roll_total: 1_504,
            present: 902,
            quorum: ratio(1, 5),
            quorum_reached: true,
            quorum_basis: QuorumBasis::Votes,
            turnout: None,
            capital: None,
            votes_for: 900,
            votes_against: 1,
            abstentions: 1,
            weighted: true,
            weight_shared_from: vec![],
            colleges: vec![
                college_tally(
                    IND,
                    (1_000, 600),
                    (600, 0, 0),
                    ratio(1, 2),
                    frac(1, 2),
                    true,
                    false,
                ),
                college_tally(
                    COLL,
                    (500, 300),
                    (300, 0, 0),
                    ratio(1, 4),
                    frac(1, 4),
                    true,
                    false,
                ),
                college_tally(
                    CIT,
                    (4, 2),
                    (0, 1, 1),
                    ratio(1, 4),
                    frac(1, 4),
                    false,
                    false,
                ),
            ],
            share_for: Some(frac(3, 4)),
            majority: Majority::MoreThan(ratio(1, 2)),
            majority_reached: true,
            veto: VetoBasis::Silence,
            outcome: Outcome::Adopted,
        },
        ResolutionResult {
            resolution: res("ag-2024.2"),
            decision_kind: kind("extraordinary"),
            roll_total: 1_504,
            present: 902,
            quorum: ratio(1, 4),
            quorum_reached: true,
            quorum_basis: QuorumBasis::Votes,
            turnout: None,
            capital: None,
            votes_for: 302,
            votes_against: 600,
            abstentions: 0,
            weighted: true,
            weight_shared_from: vec![],
            colleges: vec![
                college_tally(
                    IND,
                    (1_000, 600),
                    (0, 600, 0),
                    ratio(1, 2),
                    frac(1, 2),
                    false,
                    false,
                ),
                college_tally(
                    COLL,
                    (500, 300),
                    (300, 0, 0),
                    ratio(1, 4),
                    frac(1, 4),
                    true,
                    false,
                ),
                college_tally(CIT, (4, 2), (2, 0, 0), ratio(1, 4), frac(1, 4), true, false),
            ],
            share_for: Some(frac(1, 2)),
            majority: Majority::AtLeast(ratio(2, 3)),
            majority_reached: false,
            veto: VetoBasis::Silence,
            outcome: Outcome::Rejected {
                rules: vec![RejectionRule::Majority],
            },
        },
    ]
}

/// No ballot: no quorum, no vote cast, every college's weight "shared".
fn nobody_voted_results() -> Vec<ResolutionResult> {
    let silent = |id: &str, roll_total: u64, weight: Ratio| {
        college_tally(
            id,
            (roll_total, 0),
            (0, 0, 0),
            weight,
            frac(0, 1),
            false,
            false,
        )
    };
    let result =
        |number: usize, kind_id: &str, quorum: Ratio, majority: Majority| ResolutionResult {
            resolution: res(format!("{AGM}.{number}")),
            decision_kind: kind(kind_id),
            roll_total: 1_504,
            present: 0,
            quorum,
            quorum_reached: false,
            quorum_basis: QuorumBasis::Votes,
            turnout: None,
            capital: None,
            votes_for: 0,
            votes_against: 0,
            abstentions: 0,
            weighted: true,
            weight_shared_from: vec![college(IND), college(COLL), college(CIT)],
            colleges: vec![
                silent(IND, 1_000, ratio(1, 2)),
                silent(COLL, 500, ratio(1, 4)),
                silent(CIT, 4, ratio(1, 4)),
            ],
            share_for: None,
            majority,
            majority_reached: false,
            veto: VetoBasis::Silence,
            outcome: Outcome::Rejected {
                rules: vec![RejectionRule::Quorum, RejectionRule::Majority],
            },
        };
    vec![
        result(1, "ordinary", ratio(1, 5), Majority::MoreThan(ratio(1, 2))),
        result(
            2,
            "extraordinary",
            ratio(1, 4),
            Majority::AtLeast(ratio(2, 3)),
        ),
    ]
}

#[test]
fn closing_counts_every_resolution_with_quorum_weighted_majority_and_vetoes() {
    meeting()
        .given(ballots_in_force())
        .when(close(closed_at()))
        .then_expect_events(vec![closed(counted_results())]);
}

#[test]
fn closing_a_meeting_where_no_one_voted_rejects_everything_for_quorum_and_majority() {
    meeting()
        .given(open())
        .when(close(closes_at()))
        .then_expect_events(vec![closed_at_time(nobody_voted_results(), closes_at())]);
}

/// A second call of one ordinary resolution whose kind (as recorded at
/// convening) requires the citizens' majority. h-ind1 (600) for, h-sem
/// (300) abstains, h-c1 against and h-c2 for.
/// - Second-call quorum 0: reached with 902 present.
/// - The local authorities cast no vote: their 1/4 is shared between
///   industriel (1/2 / 3/4 = 2/3) and citoyens (1/4 / 3/4 = 1/3); share for
///   2/3 x 600/600 + 1/3 x 1/2 = 5/6 > 1/2.
/// - Citoyens: 1 for, 1 against: no majority for, hence a veto.
#[test]
fn closing_a_second_call_applies_its_quorum_shares_silent_weight_and_counts_vetoes() {
    let vetoed_ordinary = DecisionKind {
        college_majorities_required: BTreeSet::from([college(CIT)]),
        ..DecisionKind::french_ordinary()
    };
    let second = Notice {
        meeting: "ag-2024-bis".to_owned(),
        call: Call::Second {
            first_call: meeting_id(AGM),
        },
        agenda: vec![proposed("ordinary", ResolutionPurpose::General, ACCOUNTS)],
        ..Notice::general()
    };
    let one = |voter: &str, cast_by: &str, choice: Choice| MeetingEvent::BallotCast {
        voter: holder(voter),
        cast_by: holder(cast_by),
        choices: BTreeMap::from([(res("ag-2024-bis.1"), choice)]),
        replaces_earlier: false,
        at: during(),
        postal: false,
        electronic: false,
    };
    let given = vec![
        second.event(vec![vetoed_ordinary]),
        opened(),
        one("h-ind1", "h-ind1", Choice::For),
        one("h-sem", "h-sem", Choice::Abstain),
        one("h-c1", "h-c1", Choice::Against),
        one("h-c2", "h-c2", Choice::For),
    ];
    let expected = ResolutionResult {
        resolution: res("ag-2024-bis.1"),
        decision_kind: kind("ordinary"),
        roll_total: 1_504,
        present: 902,
        quorum: Ratio::ZERO,
        quorum_reached: true,
        quorum_basis: QuorumBasis::Votes,
        turnout: None,
        capital: None,
        votes_for: 601,
        votes_against: 1,
        abstentions: 300,
        weighted: true,
        weight_shared_from: vec![college(COLL)],
        colleges: vec![
            college_tally(
                IND,
                (1_000, 600),
                (600, 0, 0),
                ratio(1, 2),
                frac(2, 3),
                true,
                false,
            ),
            college_tally(
                COLL,
                (500, 300),
                (0, 0, 300),
                ratio(1, 4),
                frac(0, 1),
                false,
                false,
            ),
            college_tally(CIT, (4, 2), (1, 1, 0), ratio(1, 4), frac(1, 3), false, true),
        ],
        share_for: Some(frac(5, 6)),
        majority: Majority::MoreThan(ratio(1, 2)),
        majority_reached: true,
        veto: VetoBasis::Silence,
        outcome: Outcome::Rejected {
            rules: vec![RejectionRule::Veto {
                college: college(CIT),
            }],
        },
    };
    meeting()
        .given(given)
        .when(close(closed_at()))
        .then_expect_events(vec![closed(vec![expected])]);
}

#[test]
fn a_meeting_cannot_close_before_its_window_ends() {
    let early = closes_at() - Duration::minutes(1);
    refused(
        ballots_in_force(),
        close(early),
        MeetingError::CloseBeforeWindowEnds {
            at: early,
            closes_at: closes_at(),
        },
    );
}

#[test]
fn a_meeting_whose_vote_never_opened_cannot_close() {
    refused(
        vec![convened()],
        close(closed_at()),
        MeetingError::VotingNotOpen,
    );
}

#[test]
fn a_meeting_not_convened_cannot_close() {
    refused(vec![], close(closed_at()), MeetingError::NotConvened);
}

#[test]
fn a_meeting_closes_only_once() {
    refused(
        closed_meeting(),
        close(utc(2024, 6, 21, 9, 0)),
        MeetingError::Closed(closed_at()),
    );
}

// --- What the company stream relies on -----------------------------------

#[test]
fn an_adopted_resolution_is_adopted_on_the_close_date_and_a_rejected_one_is_not() {
    let open_state = replay(ballots_in_force());
    assert_eq!(open_state.phase(), Phase::VotingOpen);
    assert_eq!(open_state.adopted(&res("ag-2024.1")), None);

    // 23:30 UTC is already 21 June in Paris: the close date is taken in UTC.
    let late = utc(2024, 6, 20, 23, 30);
    let state = replay(with(
        ballots_in_force(),
        [closed_at_time(counted_results(), late)],
    ));
    assert_eq!(state.phase(), Phase::Closed);
    assert_eq!(
        state.adopted(&res("ag-2024.1")),
        Some(AdoptedResolution {
            id: res("ag-2024.1"),
            decision_kind: kind("ordinary"),
            purpose: ResolutionPurpose::General,
            adopted_on: day(2024, 6, 20),
        })
    );
    assert_eq!(state.adopted(&res("ag-2024.2")), None);
    assert_eq!(state.adopted(&res("ag-2024.3")), None);
    assert_eq!(state.results(), Some(counted_results().as_slice()));
}

#[test]
fn the_state_reads_its_phases_in_order() {
    assert_eq!(replay([]).phase(), Phase::NotConvened);
    assert_eq!(replay([convened()]).phase(), Phase::Convened);
    assert_eq!(replay(open()).phase(), Phase::VotingOpen);
    assert_eq!(replay(closed_meeting()).phase(), Phase::Closed);
    let state = replay(open());
    assert_eq!(state.id(), Some(&meeting_id(AGM)));
    assert_eq!(state.roll(), Some(&roll()));
    assert_eq!(
        state.voter(&holder("h-c4")),
        Some(&voter("h-c4", CIT, 20, 1))
    );
    assert_eq!(state.voter(&holder("h-fund")), None);
}

// --- Time is the server's clock (issue 16). ---

/// The meeting as the server decides it at `now`.
fn meeting_at(now: DateTime<Utc>) -> TestFramework<Meeting> {
    TestFramework::with(MeetingServices::new(
        now,
        KnownCapTables::new([cap_table()]),
    ))
}

/// A paper form received in time: at least three days before the day the
/// vote opens (12 June), the charter's default (R225-77).
fn in_time() -> DateTime<Utc> {
    utc(2024, 6, 8, 10, 0)
}

fn postal(voter: &str, received_at: DateTime<Utc>) -> MeetingCommand {
    MeetingCommand::RecordPostalBallot {
        voter: holder(voter),
        choices: choices(Choice::Against, Choice::For),
        received_at,
        electronic: false,
    }
}

/// The ballot a postal form of `voter` enters, counted at `at`.
fn form_entered(
    voter: &str,
    [first, second]: [Choice; 2],
    at: DateTime<Utc>,
    electronic: bool,
) -> MeetingEvent {
    MeetingEvent::BallotCast {
        voter: holder(voter),
        cast_by: holder(voter),
        choices: choices(first, second),
        replaces_earlier: false,
        at,
        postal: true,
        electronic,
    }
}

/// h-c2's paper form, received at `received_at`, entered as its ballot.
fn paper_form_counted(framework: TestFramework<Meeting>, received_at: DateTime<Utc>) {
    framework
        .given(open())
        .when(postal("h-c2", received_at))
        .then_expect_events(vec![form_entered(
            "h-c2",
            [Choice::Against, Choice::For],
            received_at,
            false,
        )]);
}

#[test]
fn a_ballot_dated_later_than_the_servers_clock_is_refused() {
    let now = during();
    meeting_at(now)
        .given(open())
        .when(cast_at(now + Duration::seconds(1)))
        .then_expect_error(MeetingError::InTheFuture {
            at: now + Duration::seconds(1),
            now,
        });
}

#[test]
fn a_meeting_cannot_close_before_the_clock_reaches_the_end_of_its_window() {
    // The secretary's clock is still inside the window: a close "in the
    // future" is refused.
    let now = closes_at() - Duration::hours(1);
    meeting_at(now)
        .given(open())
        .when(close(closed_at()))
        .then_expect_error(MeetingError::InTheFuture {
            at: closed_at(),
            now,
        });
}

#[test]
fn a_convocation_dated_after_today_is_refused() {
    let now = utc(2024, 5, 19, 12, 0);
    meeting_at(now)
        .given_no_previous_events()
        .when(Notice::general().command())
        .then_expect_error(MeetingError::ConvenedInTheFuture {
            convened_on: convened_on(),
            today: now.date_naive(),
        });
}

#[test]
fn a_postal_form_received_in_time_is_entered_after_the_window_and_marked_postal() {
    // Entered the evening the window closed, before the close.
    let now = closes_at() + Duration::minutes(20);
    paper_form_counted(meeting_at(now), in_time());
}

#[test]
fn a_postal_form_received_after_the_window_or_before_the_convocation_is_refused() {
    let now = closes_at() + Duration::hours(1);
    // The convocation's day is a Paris day: at 23:59 there on the 19th
    // (21:59 UTC) the form came before it, at 00:00 on the 20th not.
    meeting_at(now)
        .given(open())
        .when(postal("h-c2", utc(2024, 5, 19, 22, 0)))
        .inspect_result()
        .expect("received on the convocation's day in Paris");
    for received_at in [closes_at(), utc(2024, 5, 19, 21, 59)] {
        meeting_at(now)
            .given(open())
            .when(postal("h-c2", received_at))
            .then_expect_error(MeetingError::PostalFormOutsideTime {
                received_at,
                convened_on: convened_on(),
                closes_at: closes_at(),
            });
    }
}

#[test]
fn a_postal_form_cannot_be_received_after_now_nor_after_the_close() {
    let now = during();
    meeting_at(now)
        .given(open())
        .when(postal("h-c2", now + Duration::minutes(1)))
        .then_expect_error(MeetingError::InTheFuture {
            at: now + Duration::minutes(1),
            now,
        });
    meeting_at(closed_at() + Duration::days(1))
        .given(closed_meeting())
        .when(postal("h-c2", during()))
        .then_expect_error(MeetingError::Closed(closed_at()));
}

#[test]
fn a_postal_form_does_not_replace_a_ballot_the_voter_cast_after_it_arrived() {
    let received_at = in_time();
    meeting_at(closes_at() + Duration::minutes(5))
        .given(with(
            open(),
            [ballot("h-c1", "h-c1", Choice::For, Choice::For, false)],
        ))
        .when(postal("h-c1", received_at))
        .then_expect_error(MeetingError::LaterBallotInForce {
            voter: holder("h-c1"),
            in_force: during(),
            received_at,
        });
}

#[test]
fn a_postal_form_is_the_voters_own_ballot_not_one_for_a_voter_who_gave_a_proxy() {
    meeting_at(closes_at() + Duration::minutes(5))
        .given(with(open(), [granted("h-c2", "h-c1", false)]))
        .when(postal("h-c2", in_time()))
        .then_expect_error(MeetingError::VoterIsRepresented {
            voter: holder("h-c2"),
            proxy: holder("h-c1"),
        });
}

// --- The bureau --------------------------------------------------------

fn bureau(chair: &str, scrutineers: &[&str], secretary: &str) -> MeetingCommand {
    MeetingCommand::ConstituteBureau {
        chair: holder(chair),
        scrutineers: scrutineers.iter().copied().map(holder).collect(),
        secretary: holder(secretary),
        at: during(),
    }
}

#[test]
fn the_bureau_is_voters_on_the_roll_and_a_secretary_once_the_vote_is_open() {
    let expected = MeetingEvent::BureauConstituted(Bureau {
        chair: holder("h-town"),
        scrutineers: vec![holder("h-ind1"), holder("h-c1")],
        secretary: holder("greffe-1"),
        at: during(),
    });
    meeting()
        .given(open())
        .when(bureau("h-town", &["h-ind1", "h-c1"], "greffe-1"))
        .then_expect_events(vec![expected.clone()]);
    let constituted = replay(with(open(), [expected.clone()]));
    assert_eq!(
        constituted.bureau().map(|b| &b.chair),
        Some(&holder("h-town"))
    );
    // It is decided once.
    refused(
        with(open(), [expected]),
        bureau("h-sem", &["h-ind1"], "greffe-1"),
        MeetingError::BureauAlreadyConstituted,
    );
}

#[test]
fn a_bureau_that_breaks_a_rule_is_refused_with_it() {
    refused(
        vec![convened()],
        bureau("h-town", &["h-ind1"], "greffe-1"),
        MeetingError::VotingNotOpen,
    );
    refused(
        open(),
        bureau("h-town", &[], "greffe-1"),
        MeetingError::ScrutineerCount { count: 0 },
    );
    refused(
        open(),
        bureau("h-town", &["h-ind1", "h-c1", "h-c2"], "greffe-1"),
        MeetingError::ScrutineerCount { count: 3 },
    );
    refused(
        open(),
        bureau("h-town", &["h-town"], "greffe-1"),
        MeetingError::OfficerTwice(holder("h-town")),
    );
    refused(
        open(),
        bureau("h-town", &["h-ind1"], "h-ind1"),
        MeetingError::OfficerTwice(holder("h-ind1")),
    );
    refused(
        open(),
        bureau("someone", &["h-ind1"], "greffe-1"),
        MeetingError::NotOnRoll(holder("someone")),
    );
    // After the close it may still be entered, until the minutes are.
    meeting()
        .given(closed_meeting())
        .when(bureau("h-town", &["h-ind1"], "greffe-1"))
        .then_expect_events(vec![MeetingEvent::BureauConstituted(Bureau {
            chair: holder("h-town"),
            scrutineers: vec![holder("h-ind1")],
            secretary: holder("greffe-1"),
            at: during(),
        })]);
}

// --- Postal deadlines, proxies on paper (R225-77) ---------------------------

/// The last instant a paper form counts: the end of 9 June in Paris (three
/// days before the vote opens on 12 June), 21:59:59.999999999 UTC in
/// summer time.
fn paper_deadline() -> DateTime<Utc> {
    utc(2024, 6, 9, 21, 59) + Duration::nanoseconds(59_999_999_999)
}

fn electronic(voter: &str, received_at: DateTime<Utc>) -> MeetingCommand {
    MeetingCommand::RecordPostalBallot {
        voter: holder(voter),
        choices: choices(Choice::For, Choice::For),
        received_at,
        electronic: true,
    }
}

#[test]
fn a_paper_form_received_after_the_deadline_is_kept_and_never_counted() {
    let late = paper_deadline() + Duration::nanoseconds(1);
    let kept = MeetingEvent::PostalFormKeptLate {
        voter: holder("h-c2"),
        choices: choices(Choice::Against, Choice::For),
        received_at: late,
        electronic: false,
        deadline: paper_deadline(),
    };
    meeting_at(closes_at() + Duration::minutes(5))
        .given(open())
        .when(postal("h-c2", late))
        .then_expect_events(vec![kept.clone()]);
    // On the deadline itself it counts.
    paper_form_counted(
        meeting_at(closes_at() + Duration::minutes(5)),
        paper_deadline(),
    );
    // Kept, it is no ballot: the voter has none in force, and may still
    // vote within the window.
    let state = replay(with(open(), [kept]));
    assert!(state.ballot(&holder("h-c2")).is_none());
    assert_eq!(state.ballots_in_force(), 0);
}

#[test]
fn an_electronic_form_counts_until_three_in_the_afternoon_the_day_before() {
    // 11 June, 15:00 in Paris is 13:00 UTC.
    let cutoff = utc(2024, 6, 11, 13, 0);
    let now = closes_at() + Duration::minutes(5);
    meeting_at(now)
        .given(open())
        .when(electronic("h-c1", cutoff))
        .then_expect_events(vec![form_entered(
            "h-c1",
            [Choice::For, Choice::For],
            cutoff,
            true,
        )]);
    meeting_at(now)
        .given(open())
        .when(electronic("h-c1", cutoff + Duration::minutes(1)))
        .then_expect_events(vec![MeetingEvent::PostalFormKeptLate {
            voter: holder("h-c1"),
            choices: choices(Choice::For, Choice::For),
            received_at: cutoff + Duration::minutes(1),
            electronic: true,
            deadline: cutoff,
        }]);
}

#[test]
fn the_charter_sets_its_own_postal_deadlines() {
    let mut lenient = charter();
    lenient.postal_voting.paper_days_before = 0;
    let received = utc(2024, 6, 11, 20, 0);
    let lenient_meeting = TestFramework::<Meeting>::with(MeetingServices::new(
        closes_at() + Duration::minutes(5),
        KnownCapTables::new([snapshot(lenient, positions())]),
    ));
    paper_form_counted(lenient_meeting, received);
    let mut wrong = charter();
    wrong.postal_voting.electronic_cutoff_hour = 24;
    assert!(wrong.check().is_err());
}

#[test]
fn a_late_form_must_still_be_a_form_of_this_meeting() {
    let late = during();
    meeting_at(closes_at())
        .given(open())
        .when(postal("h-stranger", late))
        .then_expect_error(MeetingError::NotOnRoll(holder("h-stranger")));
}

fn paper_proxy(grantor: &str, proxy: &str, received_at: DateTime<Utc>) -> MeetingCommand {
    MeetingCommand::RecordPaperProxy {
        grantor: holder(grantor),
        proxy: holder(proxy),
        received_at,
    }
}

#[test]
fn a_proxy_on_paper_is_entered_with_its_date_of_receipt() {
    meeting_at(closes_at() - Duration::hours(1))
        .given(open())
        .when(paper_proxy("h-c2", "h-c1", in_time()))
        .then_expect_events(vec![MeetingEvent::ProxyGranted {
            grantor: holder("h-c2"),
            proxy: holder("h-c1"),
            ballot_withdrawn: false,
            at: in_time(),
            paper: true,
        }]);
    // Received before the convocation, or after the grantor voted online:
    // refused.
    meeting_at(closes_at() - Duration::hours(1))
        .given(open())
        .when(paper_proxy("h-c2", "h-c1", utc(2024, 5, 1, 10, 0)))
        .then_expect_error(MeetingError::PaperProxyBeforeConvening {
            received_at: utc(2024, 5, 1, 10, 0),
            convened_on: convened_on(),
        });
    meeting_at(closes_at() - Duration::hours(1))
        .given(with(
            open(),
            [ballot("h-c2", "h-c2", Choice::For, Choice::For, false)],
        ))
        .when(paper_proxy("h-c2", "h-c1", in_time()))
        .then_expect_error(MeetingError::LaterBallotInForce {
            voter: holder("h-c2"),
            in_force: during(),
            received_at: in_time(),
        });
    // The rules of every proxy hold: no proxy to oneself.
    meeting_at(closes_at() - Duration::hours(1))
        .given(open())
        .when(paper_proxy("h-c2", "h-c2", in_time()))
        .then_expect_error(MeetingError::ProxyToSelf(holder("h-c2")));
}

// --- Convocations sent (R225-63, R225-68) ----------------------------------

const SHA: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn sent(holders: &[&str]) -> MeetingCommand {
    MeetingCommand::RecordConvocations {
        channel: ConvocationChannel::Email,
        sent_on: day(2024, 5, 21),
        convocations: holders
            .iter()
            .map(|h| SentConvocation {
                holder: holder(h),
                sha256: SHA.to_owned(),
            })
            .collect(),
    }
}

#[test]
fn convocations_sent_are_recorded_by_holder_channel_and_hash() {
    let MeetingCommand::RecordConvocations {
        channel,
        sent_on,
        convocations,
    } = sent(&["h-ind1", "h-fund"])
    else {
        unreachable!("sent() gives convocations");
    };
    let event = MeetingEvent::ConvocationsSent {
        channel,
        sent_on,
        convocations,
    };
    // A holder with no vote is convened too: they hold shares.
    meeting_at(utc(2024, 5, 21, 12, 0))
        .given(vec![convened()])
        .when(sent(&["h-ind1", "h-fund"]))
        .then_expect_events(vec![event.clone()]);
    // The day is Paris's: at 00:30 there on the 21st (22:30 UTC on the
    // 20th), letters posted that day are posted today, not in the future.
    meeting_at(utc(2024, 5, 20, 22, 30))
        .given(vec![convened()])
        .when(sent(&["h-ind1", "h-fund"]))
        .then_expect_events(vec![event]);
}

#[test]
fn convocations_that_break_a_rule_are_refused_with_it() {
    let now = utc(2024, 5, 21, 12, 0);
    let refused_now = |command: MeetingCommand, error: MeetingError| {
        meeting_at(now)
            .given(vec![convened()])
            .when(command)
            .then_expect_error(error);
    };
    refused_now(
        sent(&["h-stranger"]),
        MeetingError::NotConvenable {
            holder: holder("h-stranger"),
            convened_on: convened_on(),
        },
    );
    refused_now(
        sent(&["h-c1", "h-c1"]),
        MeetingError::ConvenedTwice(holder("h-c1")),
    );
    refused_now(
        sent(&[]),
        MeetingError::ConvocationCount {
            count: 0,
            max: 1000,
        },
    );
    let mut bad = sent(&["h-c1"]);
    if let MeetingCommand::RecordConvocations { convocations, .. } = &mut bad {
        convocations[0].sha256 = "not-a-hash".to_owned();
    }
    refused_now(bad, MeetingError::NotASha256("not-a-hash".to_owned()));
    let mut early = sent(&["h-c1"]);
    if let MeetingCommand::RecordConvocations { sent_on, .. } = &mut early {
        *sent_on = day(2024, 5, 19);
    }
    refused_now(
        early,
        MeetingError::ConvocationOutsideTime {
            sent_on: day(2024, 5, 19),
            convened_on: convened_on(),
            opens_on: day(2024, 6, 12),
        },
    );
    // Not recorded as sent on a day still to come.
    meeting_at(utc(2024, 5, 20, 12, 0))
        .given(vec![convened()])
        .when(sent(&["h-c1"]))
        .then_expect_error(MeetingError::SentInTheFuture {
            sent_on: day(2024, 5, 21),
            today: day(2024, 5, 20),
        });
}

// --- The minutes and their signatures (R225-106) ------------------------

fn constituted() -> MeetingEvent {
    MeetingEvent::BureauConstituted(Bureau {
        chair: holder("h-town"),
        scrutineers: vec![holder("h-ind1")],
        secretary: holder("greffe-1"),
        at: during(),
    })
}

fn minutes_at() -> DateTime<Utc> {
    closed_at() + Duration::hours(1)
}

fn record_minutes() -> MeetingCommand {
    MeetingCommand::RecordMinutes {
        debates: "Le président présente les comptes.\nAucune question.".to_owned(),
        documents_presented: vec!["Comptes annuels 2023".to_owned()],
        at: minutes_at(),
    }
}

fn minutes_recorded() -> MeetingEvent {
    MeetingEvent::MinutesRecorded(Minutes {
        debates: "Le président présente les comptes.\nAucune question.".to_owned(),
        documents_presented: vec!["Comptes annuels 2023".to_owned()],
        at: minutes_at(),
    })
}

fn with_minutes() -> Vec<MeetingEvent> {
    let mut events = open();
    events.push(constituted());
    events.push(closed(nobody_voted_results()));
    events.push(minutes_recorded());
    events
}

fn officer_key() -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[7; 32])
}

fn signed_by_key(officer: &str, document: &str) -> MeetingCommand {
    use ed25519_dalek::Signer;
    let key = officer_key();
    let message = minutes_signing_message(&meeting_id(AGM), document);
    MeetingCommand::SignMinutes {
        officer: holder(officer),
        document_sha256: document.to_owned(),
        signature: OfficerSignature::Ed25519 {
            public_key: hex::encode(key.verifying_key().to_bytes()),
            signature: hex::encode(key.sign(&message).to_bytes()),
        },
        at: minutes_at() + Duration::hours(1),
    }
}

#[test]
fn the_minutes_are_recorded_once_after_the_close_with_the_bureau() {
    meeting()
        .given(with(
            open(),
            [constituted(), closed(nobody_voted_results())],
        ))
        .when(record_minutes())
        .then_expect_events(vec![minutes_recorded()]);
    refused(open(), record_minutes(), MeetingError::MinutesBeforeClose);
    refused(
        closed_meeting(),
        record_minutes(),
        MeetingError::MinutesWithoutBureau,
    );
    refused(
        with_minutes(),
        record_minutes(),
        MeetingError::MinutesAlreadyRecorded,
    );
    let mut blank = record_minutes();
    if let MeetingCommand::RecordMinutes { debates, .. } = &mut blank {
        *debates = "  ".to_owned();
    }
    refused(
        with(open(), [constituted(), closed(nobody_voted_results())]),
        blank,
        MeetingError::InvalidDebates { max: 100_000 },
    );
}

#[test]
fn an_officer_signs_the_minutes_with_a_key_that_verifies_or_by_hand() {
    let signed = signed_by_key("h-town", SHA);
    let MeetingCommand::SignMinutes {
        officer,
        document_sha256,
        signature,
        at,
    } = signed.clone()
    else {
        unreachable!("a signature");
    };
    let event = MeetingEvent::MinutesSigned {
        officer,
        document_sha256,
        signature,
        at,
    };
    meeting()
        .given(with_minutes())
        .when(signed.clone())
        .then_expect_events(vec![event.clone()]);
    // Twice, by someone outside the bureau, over another document, or with
    // a signature that does not verify: refused.
    refused(
        with(with_minutes(), [event.clone()]),
        signed,
        MeetingError::AlreadySigned(holder("h-town")),
    );
    refused(
        with_minutes(),
        signed_by_key("h-c1", SHA),
        MeetingError::NotAnOfficer(holder("h-c1")),
    );
    let other = "0".repeat(64);
    refused(
        with(with_minutes(), [event]),
        signed_by_key("h-ind1", &other),
        MeetingError::OtherDocumentSigned {
            signed: SHA.to_owned(),
        },
    );
    let mut forged = signed_by_key("h-ind1", SHA);
    if let MeetingCommand::SignMinutes {
        document_sha256, ..
    } = &mut forged
    {
        // Signed over another document than the one it names.
        *document_sha256 = other;
    }
    refused(
        with_minutes(),
        forged,
        MeetingError::BadSignature(holder("h-ind1")),
    );
    // The secretary attests a handwritten signature.
    meeting()
        .given(with_minutes())
        .when(MeetingCommand::SignMinutes {
            officer: holder("greffe-1"),
            document_sha256: SHA.to_owned(),
            signature: OfficerSignature::Handwritten,
            at: minutes_at(),
        })
        .then_expect_events(vec![MeetingEvent::MinutesSigned {
            officer: holder("greffe-1"),
            document_sha256: SHA.to_owned(),
            signature: OfficerSignature::Handwritten,
            at: minutes_at(),
        }]);
    refused(
        with(open(), [constituted(), closed(nobody_voted_results())]),
        signed_by_key("h-town", SHA),
        MeetingError::NoMinutes,
    );
}
