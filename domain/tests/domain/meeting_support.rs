//! A small assembly for the meeting tests: a charter, a cap table, and a
//! meeting driven through its commands. Each test states its own numbers.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use windledger_domain::cap_table::{CapTableSnapshot, HolderPosition, KnownCapTables};
use windledger_domain::charter::{Charter, College, DecisionKind, VoteBasis};
use windledger_domain::company::HolderKind;
use windledger_domain::meeting::{
    Call, Choice, KnownMeetings, Meeting, MeetingCommand, MeetingEvent, MeetingKind,
    MeetingServices, ProposedResolution, ResolutionResult,
};
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_domain::resolution::ResolutionPurpose;
use windledger_domain::types::ResolutionId;
use windledger_fixtures::farm::{self, CharterBuilder, ORD, ordinary_shares};

use crate::common::Driven;
pub use windledger_fixtures::farm::{at, day, holder, ratio};

pub const ORDINARY: &str = "ordinary";
pub const EXTRAORDINARY: &str = "extraordinary";
pub const RESERVED: &str = "reserved";

/// A college: `weight` as a fraction, or none.
pub fn college(id: &str, weight: Option<Ratio>, vote_basis: VoteBasis) -> College {
    College {
        id: farm::college(id),
        name: id.to_owned(),
        weight,
        vote_basis,
        clubs: windledger_domain::charter::ClubVotes::Once,
    }
}

/// A charter with the French defaults, one class of ordinary shares (one vote
/// each) and a `reserved` kind: extraordinary, plus the majority of each of
/// `reserved_to`.
pub fn charter(colleges: Vec<College>, reserved_to: &[&str]) -> Charter {
    CharterBuilder::new(colleges)
        .class(ordinary_shares(1_000_000_000))
        .decision_kind(DecisionKind {
            id: farm::kind(RESERVED),
            college_majorities_required: reserved_to.iter().map(farm::college).collect(),
            ..DecisionKind::french_extraordinary()
        })
        .build()
}

/// The cap table: (holder, college, shares).
pub fn cap_table(charter: &Charter, holders: &[(&str, &str, u64)]) -> KnownCapTables {
    let holders = holders
        .iter()
        .map(|(id, college, shares)| HolderPosition {
            holder: holder(id),
            kind: HolderKind::Individual,
            college: farm::college(college),
            commune: farm::commune("42026"),
            shares: BTreeMap::from([(farm::class(ORD), farm::shares(*shares))]),
            members: None,
        })
        .collect();
    KnownCapTables::new([CapTableSnapshot {
        as_of: day(2000, 1, 1),
        charter: charter.clone(),
        share_capital: Euros::ZERO,
        turbines: Vec::new(),
        holders,
    }])
}

pub const RECORD_DATE: (i32, u32, u32) = (2024, 6, 10);
pub fn opens() -> DateTime<Utc> {
    at(2024, 6, 12, 8)
}
pub fn during() -> DateTime<Utc> {
    at(2024, 6, 20, 12)
}
pub fn closes() -> DateTime<Utc> {
    at(2024, 6, 26, 18)
}

/// A meeting driven through its commands, as the event store would.
pub type Assembly = Driven<Meeting>;

impl Assembly {
    /// Convened with one resolution per kind in `kinds`, voting open.
    pub async fn open(
        id: &str,
        call: Call,
        charter: &Charter,
        holders: &[(&str, &str, u64)],
        kinds: &[&str],
    ) -> Self {
        let mut services = MeetingServices::new(
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
            cap_table(charter, holders),
        );
        // A second call follows a first call held on the same agenda in
        // which no one voted (so that it failed its quorum).
        if let Call::Second { first_call } = &call {
            let mut first = Box::pin(Self::open(
                first_call.as_str(),
                Call::First,
                charter,
                holders,
                kinds,
            ))
            .await;
            first.close().await;
            let mut known = KnownMeetings::default();
            known.0.insert(first_call.clone(), first.state.clone());
            services = services.with_meetings(known);
        }
        let mut assembly = Self::new(services);
        let agenda = kinds
            .iter()
            .enumerate()
            .map(|(i, kind)| ProposedResolution {
                decision_kind: farm::kind(kind),
                purpose: ResolutionPurpose::General,
                text: format!("Résolution n° {} ({kind})", i + 1),
            })
            .collect();
        assembly
            .run(MeetingCommand::Convene {
                meeting: farm::meeting_id(id),
                kind: MeetingKind::OrdinaryGeneralMeeting,
                call,
                record_date: day(RECORD_DATE.0, RECORD_DATE.1, RECORD_DATE.2),
                opens_at: opens(),
                closes_at: closes(),
                agenda,
                members: Vec::new(),
                convened_on: day(2024, 5, 20),
            })
            .await
            .expect("the meeting is convened");
        assembly
            .run(MeetingCommand::OpenVoting { at: opens() })
            .await
            .expect("voting opens");
        assembly
    }

    pub fn resolution(&self, number: usize) -> ResolutionId {
        self.state.agenda()[number - 1].resolution.clone()
    }

    /// The same choice on every resolution.
    pub async fn vote(&mut self, voter: &str, choice: Choice) -> Vec<MeetingEvent> {
        self.vote_as(voter, voter, choice).await
    }

    pub async fn vote_as(
        &mut self,
        voter: &str,
        cast_by: &str,
        choice: Choice,
    ) -> Vec<MeetingEvent> {
        let choices = self
            .state
            .agenda()
            .iter()
            .map(|item| (item.resolution.clone(), choice))
            .collect();
        self.run(MeetingCommand::CastBallot {
            voter: holder(voter),
            cast_by: holder(cast_by),
            choices,
            at: during(),
        })
        .await
        .expect("the ballot is accepted")
    }

    /// `grantor` gives `proxy` a proxy during the window.
    pub async fn grant_proxy(&mut self, grantor: &str, proxy: &str) -> Vec<MeetingEvent> {
        self.run(MeetingCommand::GrantProxy {
            grantor: holder(grantor),
            proxy: holder(proxy),
            at: during(),
        })
        .await
        .expect("the proxy is given")
    }

    pub async fn close(&mut self) -> Vec<ResolutionResult> {
        self.run(MeetingCommand::Close { at: closes() })
            .await
            .expect("the meeting closes");
        self.state.results().expect("closed").to_vec()
    }

    /// A first call `id` on one resolution of `kind`, where each of
    /// `votes` is cast in order; then closed: that resolution's result.
    pub async fn voted(
        id: &str,
        charter: &Charter,
        holders: &[(&str, &str, u64)],
        kind: &str,
        votes: &[(&str, Choice)],
    ) -> ResolutionResult {
        let mut m = Self::open(id, Call::First, charter, holders, &[kind]).await;
        for &(voter, choice) in votes {
            m.vote(voter, choice).await;
        }
        m.close().await.remove(0)
    }
}
