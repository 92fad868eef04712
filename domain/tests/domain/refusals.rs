//! Refusals that say which rule refused: a resolution cited while its
//! meeting is open, or after it was rejected for want of quorum; a
//! resolution adopted for another purpose, said in words; a proxy after
//! the voting window.

use windledger_domain::company::{Company, CompanyCommand, CompanyError, CompanyServices};
use windledger_domain::meeting::{
    Call, Choice, Meeting, MeetingCommand, MeetingError, RejectionRule,
};
use windledger_domain::resolution::{
    AdoptedResolution, BoxFuture, LookupError, ResolutionPurpose, ResolutionService, Rules,
    Standing, Unbacked,
};
use windledger_domain::types::ResolutionId;

use crate::common::{self, Driven, fold, incorporated};
use crate::meeting_support::{Assembly, EXTRAORDINARY, closes};
use windledger_fixtures::farm::{self, CharterBuilder, ordinary_shares};

/// The meeting stream as one meeting recorded it.
struct AsRecorded(Meeting);

impl ResolutionService for AsRecorded {
    fn adopted<'a>(
        &'a self,
        id: &'a ResolutionId,
    ) -> BoxFuture<'a, Result<Option<AdoptedResolution>, LookupError>> {
        Box::pin(std::future::ready(Ok(self.0.adopted(id))))
    }

    fn standing<'a>(
        &'a self,
        id: &'a ResolutionId,
    ) -> BoxFuture<'a, Result<Standing, LookupError>> {
        Box::pin(std::future::ready(Ok(self.0.standing(id))))
    }
}

/// An extraordinary general meeting of three holders (600, 300, 100
/// shares) on one resolution, voting open.
async fn meeting() -> Assembly {
    let charter = CharterBuilder::one_college()
        .class(ordinary_shares(1_000_000))
        .build();
    let holders = [
        ("a", "associes", 600),
        ("b", "associes", 300),
        ("c", "associes", 100),
    ];
    Assembly::open(
        "age-2025",
        Call::First,
        &charter,
        &holders,
        &[EXTRAORDINARY],
    )
    .await
}

/// The small farm's charter amended, citing `resolution`, decided with
/// the meeting stream as `meeting` recorded it.
async fn amending_with(meeting: &Assembly, resolution: ResolutionId) -> Result<(), CompanyError> {
    let services = CompanyServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        AsRecorded(meeting.state.clone()),
    );
    let mut company = Driven::<Company>::new(services);
    company.state = fold(incorporated());
    company
        .run(CompanyCommand::AmendCharter {
            charter: common::charter(),
            resolution,
            effective_date: farm::day(2025, 7, 1),
        })
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_resolution_whose_meeting_is_still_open_is_not_decided_yet() {
    // Given an extraordinary meeting whose voting is open,
    let m = meeting().await;
    let cited = m.resolution(1);
    assert_eq!(m.state.standing(&cited), Standing::NotClosed);
    // when the charter is amended on its resolution, then it is refused
    // as not decided yet, not as unknown.
    let refused = amending_with(&m, cited.clone()).await.expect_err("refused");
    assert_eq!(
        refused,
        CompanyError::Unbacked(Unbacked::NotClosed(cited.clone()))
    );
    assert_eq!(
        refused.to_string(),
        format!("resolution {cited} is not decided yet: its meeting has not closed")
    );
    assert_eq!(
        <&str>::from(&Unbacked::NotClosed(cited)),
        "ResolutionNotClosed"
    );
}

#[tokio::test]
async fn a_resolution_rejected_for_want_of_quorum_says_so() {
    // Given an extraordinary meeting where only C (100 of 1,000 votes,
    // below the quorum of 1/4) voted, for,
    let mut m = meeting().await;
    m.vote("c", Choice::For).await;
    m.close().await;
    let cited = m.resolution(1);
    // when the charter is amended on its resolution, then it is refused
    // as rejected, for want of quorum.
    let refused = amending_with(&m, cited.clone()).await.expect_err("refused");
    let rejected = Unbacked::Rejected {
        resolution: cited.clone(),
        rules: Rules(vec![RejectionRule::Quorum]),
    };
    assert_eq!(refused, CompanyError::Unbacked(rejected.clone()));
    assert_eq!(
        refused.to_string(),
        format!("resolution {cited} was rejected (quorum not reached): it backs nothing")
    );
    assert_eq!(<&str>::from(&rejected), "ResolutionRejected");
}

#[tokio::test]
async fn a_resolution_on_no_agenda_is_unknown() {
    let mut m = meeting().await;
    m.vote("a", Choice::For).await;
    m.close().await;
    let elsewhere = farm::res("age-2025.9");
    assert_eq!(m.state.standing(&elsewhere), Standing::Unknown);
    let refused = amending_with(&m, elsewhere.clone())
        .await
        .expect_err("refused");
    assert_eq!(
        refused,
        CompanyError::Unbacked(Unbacked::NotAdopted(elsewhere.clone()))
    );
    assert_eq!(
        refused.to_string(),
        format!("resolution {elsewhere} is on no meeting's agenda")
    );
    // The meeting's own resolution, adopted (for a general purpose), is
    // found, and refused for its purpose, said in words.
    let adopted = m.resolution(1);
    assert!(matches!(m.state.standing(&adopted), Standing::Adopted(_)));
    let refused = amending_with(&m, adopted.clone())
        .await
        .expect_err("refused");
    assert_eq!(
        refused.to_string(),
        format!(
            "resolution {adopted} was adopted for a general resolution, not for an amendment of the charter"
        )
    );
}

#[test]
fn a_purpose_mismatch_is_said_in_words() {
    let mismatch = Unbacked::PurposeMismatch {
        resolution: farm::res("ago-2022.2"),
        expected: Box::new(ResolutionPurpose::ResultAppropriation { year: 2021 }),
        found: Box::new(ResolutionPurpose::AccountsApproval { year: 2021 }),
    };
    assert_eq!(
        mismatch.to_string(),
        "resolution ago-2022.2 was adopted for the approval of the 2021 accounts, not for the appropriation of the 2021 result"
    );
    let approval = ResolutionPurpose::approval_of(farm::holder("h-new"));
    assert_eq!(
        approval.to_string(),
        "the approval of h-new as a transferee"
    );
}

#[tokio::test]
async fn a_proxy_after_the_window_says_the_window_is_over_for_proxies() {
    let mut m = meeting().await;
    m.vote("a", Choice::For).await;
    let refused = m
        .run(MeetingCommand::GrantProxy {
            grantor: farm::holder("b"),
            proxy: farm::holder("a"),
            at: closes(),
        })
        .await
        .expect_err("after the window");
    assert_eq!(
        refused,
        MeetingError::ProxyWindowOver {
            closes_at: closes()
        }
    );
    assert_eq!(
        refused.to_string(),
        format!(
            "the voting window ended at {}: a proxy can no longer be given or revoked",
            closes()
        )
    );
    // Within the window, the same proxy is taken.
    m.grant_proxy("b", "a").await;
}
