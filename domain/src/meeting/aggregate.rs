//! The meeting aggregate: decides commands against the agenda, the roll and
//! the ballots in force, and folds its own events.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::commands::{MeetingCommand, ProposedResolution};
use super::error::MeetingError;
use super::events::{Bureau, MeetingEvent};
use super::tally::{Outcome, RejectionRule, ResolutionResult, tally};
use super::types::{
    AgendaItem, Call, Choice, CommitteeMember, Convocation, MeetingKind, Minutes, Roll,
    RollCollege, Voter, resolution_id,
};
use crate::aggregate::aggregate;

mod paperwork;
use crate::cap_table::{CapTableService, CapTableServices, CapTableSnapshot};
use crate::charter::{Charter, ClubVotes, QuorumBasis, VoteBasis};
use crate::clock::{Clock, not_after};
use crate::company::HolderKind;
use crate::money::Euros;
use crate::paris::paris_date;
use crate::resolution::{
    AdoptedResolution, BoxFuture, LookupError, ResolutionPurpose, Standing, Terms,
};
use crate::types::{HolderId, MeetingId, ResolutionId};
pub use paperwork::{
    MAX_CONVOCATIONS_PER_EVENT, MAX_DEBATES, MAX_DOCUMENT_TITLE, MAX_DOCUMENTS_PRESENTED,
};

/// Most resolutions on one agenda.
pub const MAX_RESOLUTIONS: usize = 100;
/// Most characters in a resolution's text.
pub const MAX_RESOLUTION_TEXT: usize = 20_000;

/// What the meeting aggregate needs from outside its stream.
/// What a meeting asks outside its stream: the clock and the cap table on
/// a date (as the other aggregates), and, for a second call, its first
/// call as committed.
#[derive(Clone)]
pub struct MeetingServices {
    pub clock: Arc<dyn Clock>,
    pub cap_tables: Arc<dyn CapTableService>,
    pub meetings: Arc<dyn MeetingLookup>,
}

impl MeetingServices {
    /// The services of a meeting that knows no other meeting (every second
    /// call is then refused: give [`MeetingServices::with_meetings`]).
    pub fn new(clock: impl Clock + 'static, cap_tables: impl CapTableService + 'static) -> Self {
        let CapTableServices { clock, cap_tables } = CapTableServices::new(clock, cap_tables);
        Self {
            clock,
            cap_tables,
            meetings: Arc::new(KnownMeetings::default()),
        }
    }

    pub fn with_meetings(mut self, meetings: impl MeetingLookup + 'static) -> Self {
        self.meetings = Arc::new(meetings);
        self
    }
}

/// Answers what another meeting's stream holds, as committed.
pub trait MeetingLookup: Send + Sync {
    /// The meeting `id` folded from its committed events; `None` if it was
    /// never convened.
    fn meeting<'a>(
        &'a self,
        id: &'a MeetingId,
    ) -> BoxFuture<'a, Result<Option<Meeting>, LookupError>>;
}

/// Meetings known in advance (the tests', and a replay's from what it has
/// decided again).
#[derive(Clone, Default)]
pub struct KnownMeetings(pub BTreeMap<MeetingId, Meeting>);

impl MeetingLookup for KnownMeetings {
    fn meeting<'a>(
        &'a self,
        id: &'a MeetingId,
    ) -> BoxFuture<'a, Result<Option<Meeting>, LookupError>> {
        Box::pin(std::future::ready(Ok(self.0.get(id).cloned())))
    }
}

/// Where a meeting stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    NotConvened,
    Convened,
    VotingOpen,
    Closed,
}

/// The `meeting` stream of one meeting.
///
/// Rules chosen where the issue is silent, as a company secretary would
/// expect:
/// - The roll is frozen by an explicit "open voting" command, once the
///   record date has ended (so the cap table on that date is final) and
///   before the window ends; it may come before the window opens, so that
///   proxies can be collected ahead. Proxies and ballots need the roll.
/// - A general meeting's roll is every holder with a vote on the record date
///   (per share: shares x votes per share of each class; per member: one
///   vote for each holder of any share); holders with no vote are left out.
///   A board or committee votes on the members the convening notice lists,
///   one vote each, in their colleges.
/// - A ballot gives a choice for every resolution of the agenda (abstain is
///   the neutral choice), so "present or represented" is the same for every
///   resolution: the voters with a ballot in force.
/// - A voter is represented by at most one proxy at a time. Giving a proxy
///   withdraws the grantor's own ballot (the proxy now votes for them);
///   revoking it withdraws the ballot the proxy cast for them (they vote
///   again themselves, within the window). Proxies are given and revoked
///   until the window ends.
/// - No chains: a voter who gave a proxy cannot hold one, and a voter who
///   holds proxies cannot give one.
/// - Times are the shell's clock at the request; they are only compared with
///   the window, never with each other, so concurrent ballots never refuse
///   each other. The meeting closes at or after the end of the window. No
///   instant may be later than the services' clock, nor a convocation dated
///   after today.
/// - A postal voting form (vote par correspondance) is entered by the
///   secretary with the instant it was received, between the convocation
///   date and the end of the window; it may be entered after the window
///   closed, until the meeting is closed. It is the voter's own ballot (not
///   for a voter who gave a proxy) and it does not replace a ballot the
///   voter cast after it arrived.
/// - A resolution's decision kind must be one of the charter in force on the
///   convening date, and a resolution that acts on the company stream
///   (charter amendment, capital increase or reduction, approval of a
///   transferee, the accounts and the appropriation of the result) must be of
///   the kind the charter reserves for it. The kinds'
///   rules are recorded at convening: a later charter amendment does not
///   change how an already convened meeting counts.
/// - A second call names its first call; the second-call quorum applies.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Meeting {
    convened: Option<Convocation>,
    open: Option<OpenRoll>,
    /// Grantor -> proxy.
    proxies: HashMap<HolderId, HolderId>,
    /// Proxy -> number of grantors.
    held: HashMap<HolderId, u32>,
    /// Voter -> ballot in force.
    ballots: HashMap<HolderId, BallotInForce>,
    closed: Option<Closed>,
    #[serde(default)]
    bureau: Option<Bureau>,
    #[serde(default)]
    minutes: Option<Minutes>,
    /// The document every signature of the minutes is over.
    #[serde(default)]
    signed_document: Option<String>,
    /// Officers who signed the minutes.
    #[serde(default)]
    signatures: BTreeSet<HolderId>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct OpenRoll {
    roll: Roll,
    opened_at: DateTime<Utc>,
    /// Holder -> index in `roll.voters`.
    index: HashMap<HolderId, usize>,
}

/// A voter's ballot in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BallotInForce {
    pub cast_by: HolderId,
    /// In agenda order.
    pub choices: Vec<Choice>,
    pub at: DateTime<Utc>,
    /// A postal voting form, received at `at`.
    pub postal: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Closed {
    at: DateTime<Utc>,
    results: Vec<ResolutionResult>,
}

aggregate!(Meeting: "meeting", MeetingCommand => MeetingEvent, MeetingError, MeetingServices);

impl Meeting {
    fn check_clock(command: &MeetingCommand, clock: &dyn Clock) -> Result<(), MeetingError> {
        let now = clock.now();
        if let Some(at) = command.instant() {
            not_after(at, now, |at, now| MeetingError::InTheFuture { at, now })?;
        }
        if let MeetingCommand::Convene { convened_on, .. } = command {
            not_after(*convened_on, clock.today(), |convened_on, today| {
                MeetingError::ConvenedInTheFuture { convened_on, today }
            })?;
        }
        if let MeetingCommand::RecordConvocations { sent_on, .. } = command {
            not_after(*sent_on, clock.today(), |sent_on, today| {
                MeetingError::SentInTheFuture { sent_on, today }
            })?;
        }
        Ok(())
    }

    async fn decision(
        &self,
        command: MeetingCommand,
        services: &MeetingServices,
    ) -> Result<MeetingEvent, MeetingError> {
        let snapshot = match self.cap_table_date(&command)? {
            Some(date) => Some(services.cap_tables.cap_table(date).await?),
            None => None,
        };
        if let MeetingCommand::Convene {
            meeting,
            kind,
            call: Call::Second { first_call },
            agenda,
            ..
        } = &command
            && first_call != meeting
        {
            let first = services.meetings.meeting(first_call).await?;
            check_second_call(first_call, first.as_ref(), *kind, agenda)?;
        }
        self.decide(command, snapshot)
    }

    fn evolve(&mut self, event: MeetingEvent) {
        match event {
            MeetingEvent::MeetingConvened(convocation) => {
                self.convened = Some(convocation);
            }
            MeetingEvent::BureauConstituted(bureau) => {
                self.bureau = Some(bureau);
            }
            MeetingEvent::VotingOpened { roll, at } => {
                let index = roll
                    .voters
                    .iter()
                    .enumerate()
                    .map(|(i, v)| (v.holder.clone(), i))
                    .collect();
                self.open = Some(OpenRoll {
                    roll,
                    opened_at: at,
                    index,
                });
            }
            MeetingEvent::ProxyGranted {
                grantor,
                proxy,
                ballot_withdrawn,
                ..
            } => {
                if ballot_withdrawn {
                    self.ballots.remove(&grantor);
                }
                *self.held.entry(proxy.clone()).or_default() += 1;
                self.proxies.insert(grantor, proxy);
            }
            MeetingEvent::ProxyRevoked {
                grantor,
                proxy,
                ballot_withdrawn,
                ..
            } => {
                if ballot_withdrawn {
                    self.ballots.remove(&grantor);
                }
                self.proxies.remove(&grantor);
                if let Some(n) = self.held.get_mut(&proxy) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.held.remove(&proxy);
                    }
                }
            }
            MeetingEvent::BallotCast {
                voter,
                cast_by,
                choices,
                at,
                postal,
                ..
            } => {
                let in_agenda_order = self
                    .agenda()
                    .iter()
                    .map(|item| {
                        choices
                            .get(&item.resolution)
                            .copied()
                            .unwrap_or(Choice::Abstain)
                    })
                    .collect();
                self.ballots.insert(
                    voter,
                    BallotInForce {
                        cast_by,
                        choices: in_agenda_order,
                        at,
                        postal,
                    },
                );
            }
            MeetingEvent::MeetingClosed { results, at } => {
                self.closed = Some(Closed { at, results });
            }
            // Kept, never counted; who was convened is the register's.
            MeetingEvent::PostalFormKeptLate { .. } | MeetingEvent::ConvocationsSent { .. } => {}
            MeetingEvent::MinutesRecorded(minutes) => self.minutes = Some(minutes),
            MeetingEvent::MinutesSigned {
                officer,
                document_sha256,
                ..
            } => {
                self.signed_document = Some(document_sha256);
                self.signatures.insert(officer);
            }
        }
    }
}

impl Meeting {
    // --- Reading the state. ---

    pub fn phase(&self) -> Phase {
        match (&self.convened, &self.open, &self.closed) {
            (None, _, _) => Phase::NotConvened,
            (_, _, Some(_)) => Phase::Closed,
            (_, Some(_), None) => Phase::VotingOpen,
            (Some(_), None, None) => Phase::Convened,
        }
    }

    pub fn id(&self) -> Option<&MeetingId> {
        self.convened.as_ref().map(|c| &c.meeting)
    }

    pub fn kind(&self) -> Option<MeetingKind> {
        self.convened.as_ref().map(|c| c.kind)
    }

    pub fn agenda(&self) -> &[AgendaItem] {
        self.convened.as_ref().map_or(&[], |c| &c.agenda)
    }

    /// The voting window, once convened.
    pub fn window(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.convened.as_ref().map(|c| (c.opens_at, c.closes_at))
    }

    pub fn roll(&self) -> Option<&Roll> {
        self.open.as_ref().map(|o| &o.roll)
    }

    pub fn voter(&self, holder: &HolderId) -> Option<&Voter> {
        let open = self.open.as_ref()?;
        open.index.get(holder).map(|&i| &open.roll.voters[i])
    }

    pub fn ballot(&self, voter: &HolderId) -> Option<&BallotInForce> {
        self.ballots.get(voter)
    }

    pub fn ballots_in_force(&self) -> usize {
        self.ballots.len()
    }

    /// Once the meeting is closed, drops the ballots and proxies, which no
    /// command reads after the close (each is refused as closed first; the
    /// roll stays, for a bureau constituted after the close, and so do the
    /// results): for those who keep closed meetings to decide what follows,
    /// as the audit's replay does. [`Self::ballot`], [`Self::proxy_of`] and
    /// the counts answer none afterwards. Nothing happens before the close.
    pub fn forget_votes(&mut self) {
        if self.closed.is_some() {
            self.ballots = HashMap::new();
            self.proxies = HashMap::new();
            self.held = HashMap::new();
        }
    }

    /// Who represents `grantor`, if anyone.
    pub fn proxy_of(&self, grantor: &HolderId) -> Option<&HolderId> {
        self.proxies.get(grantor)
    }

    pub fn proxies_held(&self, proxy: &HolderId) -> u32 {
        self.held.get(proxy).copied().unwrap_or(0)
    }

    /// The bureau, once constituted.
    pub fn bureau(&self) -> Option<&Bureau> {
        self.bureau.as_ref()
    }

    /// The minutes' own words, once recorded.
    pub fn minutes(&self) -> Option<&Minutes> {
        self.minutes.as_ref()
    }

    /// The SHA-256 of the minutes the officers signed, and who signed.
    pub fn minutes_signed(&self) -> Option<(&str, &BTreeSet<HolderId>)> {
        Some((self.signed_document.as_deref()?, &self.signatures))
    }

    /// Each resolution's count, once closed.
    pub fn results(&self) -> Option<&[ResolutionResult]> {
        self.closed.as_ref().map(|c| c.results.as_slice())
    }

    /// Where a resolution of this meeting stands: adopted, not on its
    /// agenda, not closed yet, or rejected and why.
    ///
    /// Adopted, it is as the company stream relies on it, adopted on the
    /// close's date (UTC).
    pub fn standing(&self, resolution: &ResolutionId) -> Standing {
        let Some(item) = self
            .agenda()
            .iter()
            .find(|item| &item.resolution == resolution)
        else {
            return Standing::Unknown;
        };
        let Some(closed) = &self.closed else {
            return Standing::NotClosed;
        };
        match closed.results.iter().find(|r| &r.resolution == resolution) {
            Some(ResolutionResult {
                outcome: Outcome::Rejected { rules },
                ..
            }) => Standing::Rejected(rules.clone()),
            Some(_) => Standing::Adopted(AdoptedResolution {
                id: item.resolution.clone(),
                decision_kind: item.decision_kind.clone(),
                purpose: item.purpose.clone(),
                // UTC's day, as every adoption recorded so far was decided
                // on: the dividends and accounts that rely on it decide the
                // same when the log is verified again.
                adopted_on: closed.at.date_naive(),
            }),
            None => Standing::Unknown,
        }
    }

    /// The resolution as the company stream relies on it, if this meeting
    /// adopted it ([`Self::standing`]).
    pub fn adopted(&self, resolution: &ResolutionId) -> Option<AdoptedResolution> {
        match self.standing(resolution) {
            Standing::Adopted(r) => Some(r),
            _ => None,
        }
    }

    // --- Deciding. ---

    /// The date of the cap table the command needs, checking first what can
    /// be checked without it (so that a command refused anyway does not
    /// cost a lookup).
    fn cap_table_date(&self, command: &MeetingCommand) -> Result<Option<NaiveDate>, MeetingError> {
        match command {
            MeetingCommand::Convene { convened_on, .. } => {
                if self.convened.is_some() {
                    return Err(MeetingError::AlreadyConvened);
                }
                Ok(Some(*convened_on))
            }
            MeetingCommand::OpenVoting { at } => {
                let convened = self.check_open_voting(*at)?;
                Ok(Some(convened.record_date))
            }
            // A general meeting's postal deadlines and who it convenes are
            // the charter and the holders on the convening date.
            MeetingCommand::RecordPostalBallot { .. }
            | MeetingCommand::RecordConvocations { .. } => {
                let convened = self.convened.as_ref().ok_or(MeetingError::NotConvened)?;
                Ok(convened
                    .kind
                    .is_general_meeting()
                    .then_some(convened.convened_on))
            }
            _ => Ok(None),
        }
    }

    fn decide(
        &self,
        command: MeetingCommand,
        snapshot: Option<CapTableSnapshot>,
    ) -> Result<MeetingEvent, MeetingError> {
        let missing = || LookupError("the cap table was not looked up".to_owned());
        match command {
            MeetingCommand::Convene {
                meeting,
                kind,
                call,
                record_date,
                opens_at,
                closes_at,
                agenda,
                members,
                convened_on,
            } => {
                let charter = snapshot.ok_or_else(missing)?.charter;
                self.decide_convene(
                    &charter,
                    Convocation {
                        meeting,
                        kind,
                        call,
                        record_date,
                        opens_at,
                        closes_at,
                        agenda: Vec::new(),
                        decision_kinds: Vec::new(),
                        members,
                        convened_on,
                    },
                    agenda,
                )
            }
            MeetingCommand::OpenVoting { at } => {
                let convened = self.check_open_voting(at)?;
                let roll = roll_from(convened, snapshot.ok_or_else(missing)?)?;
                Ok(MeetingEvent::VotingOpened { roll, at })
            }
            MeetingCommand::GrantProxy { grantor, proxy, at } => {
                self.decide_grant(grantor, proxy, at, false)
            }
            MeetingCommand::RevokeProxy { grantor, at } => self.decide_revoke(grantor, at),
            MeetingCommand::ConstituteBureau {
                chair,
                scrutineers,
                secretary,
                at,
            } => {
                // Entered during the meeting or after its close, until the
                // minutes that name it are recorded.
                self.convened.as_ref().ok_or(MeetingError::NotConvened)?;
                let open = self.open.as_ref().ok_or(MeetingError::VotingNotOpen)?;
                if self.bureau.is_some() || self.minutes.is_some() {
                    return Err(MeetingError::BureauAlreadyConstituted);
                }
                if !(1..=2).contains(&scrutineers.len()) {
                    return Err(MeetingError::ScrutineerCount {
                        count: scrutineers.len(),
                    });
                }
                on_roll(open, &chair)?;
                let mut offices = BTreeSet::from([&chair]);
                for s in scrutineers.iter().chain([&secretary]) {
                    if !offices.insert(s) {
                        return Err(MeetingError::OfficerTwice(s.clone()));
                    }
                }
                for s in &scrutineers {
                    on_roll(open, s)?;
                }
                Ok(MeetingEvent::BureauConstituted(Bureau {
                    chair,
                    scrutineers,
                    secretary,
                    at,
                }))
            }
            MeetingCommand::CastBallot {
                voter,
                cast_by,
                choices,
                at,
            } => {
                let (convened, open) = self.voting()?;
                if at < convened.opens_at || at >= convened.closes_at {
                    return Err(MeetingError::OutsideVotingWindow {
                        at,
                        opens_at: convened.opens_at,
                        closes_at: convened.closes_at,
                    });
                }
                on_roll(open, &voter)?;
                on_roll(open, &cast_by)?;
                self.check_caster(&voter, &cast_by)?;
                check_choices(convened, &choices)?;
                Ok(MeetingEvent::BallotCast {
                    replaces_earlier: self.ballots.contains_key(&voter),
                    voter,
                    cast_by,
                    choices,
                    at,
                    postal: false,
                    electronic: false,
                })
            }
            MeetingCommand::RecordPostalBallot {
                voter,
                choices,
                received_at,
                electronic,
            } => {
                let (convened, open) = self.voting()?;
                if paris_date(received_at) < convened.convened_on
                    || received_at >= convened.closes_at
                {
                    return Err(MeetingError::PostalFormOutsideTime {
                        received_at,
                        convened_on: convened.convened_on,
                        closes_at: convened.closes_at,
                    });
                }
                if let Some(snapshot) = &snapshot {
                    let deadline = snapshot
                        .charter
                        .postal_voting
                        .deadline(convened.opens_at, electronic);
                    if received_at > deadline {
                        return self.decide_late_form(
                            voter,
                            choices,
                            received_at,
                            electronic,
                            deadline,
                        );
                    }
                }
                on_roll(open, &voter)?;
                self.check_caster(&voter, &voter)?;
                check_choices(convened, &choices)?;
                if let Some(in_force) = self.ballots.get(&voter)
                    && in_force.at > received_at
                {
                    return Err(MeetingError::LaterBallotInForce {
                        voter,
                        in_force: in_force.at,
                        received_at,
                    });
                }
                Ok(MeetingEvent::BallotCast {
                    replaces_earlier: self.ballots.contains_key(&voter),
                    cast_by: voter.clone(),
                    voter,
                    choices,
                    at: received_at,
                    postal: true,
                    electronic,
                })
            }
            MeetingCommand::RecordPaperProxy {
                grantor,
                proxy,
                received_at,
            } => {
                let convened = self.convened.as_ref().ok_or(MeetingError::NotConvened)?;
                if paris_date(received_at) < convened.convened_on {
                    return Err(MeetingError::PaperProxyBeforeConvening {
                        received_at,
                        convened_on: convened.convened_on,
                    });
                }
                if let Some(in_force) = self.ballots.get(&grantor)
                    && in_force.cast_by == grantor
                    && in_force.at > received_at
                {
                    return Err(MeetingError::LaterBallotInForce {
                        voter: grantor,
                        in_force: in_force.at,
                        received_at,
                    });
                }
                self.decide_grant(grantor, proxy, received_at, true)
            }
            MeetingCommand::RecordConvocations {
                channel,
                sent_on,
                convocations,
            } => self.decide_convocations(channel, sent_on, convocations, snapshot),
            MeetingCommand::RecordMinutes {
                debates,
                documents_presented,
                at,
            } => self.decide_minutes(debates, documents_presented, at),
            MeetingCommand::SignMinutes {
                officer,
                document_sha256,
                signature,
                at,
            } => self.decide_signature(officer, document_sha256, signature, at),
            MeetingCommand::Close { at } => {
                let (convened, open) = self.voting()?;
                if at < convened.closes_at {
                    return Err(MeetingError::CloseBeforeWindowEnds {
                        at,
                        closes_at: convened.closes_at,
                    });
                }
                Ok(MeetingEvent::MeetingClosed {
                    results: self.count(convened, &open.roll),
                    at,
                })
            }
        }
    }

    /// `cast_by` may cast `voter`'s ballot: the voter themself when they
    /// gave no proxy, or their proxy.
    fn check_caster(&self, voter: &HolderId, cast_by: &HolderId) -> Result<(), MeetingError> {
        match self.proxies.get(voter) {
            Some(proxy) if proxy != cast_by => Err(if cast_by == voter {
                MeetingError::VoterIsRepresented {
                    voter: voter.clone(),
                    proxy: proxy.clone(),
                }
            } else {
                MeetingError::NotTheProxy {
                    cast_by: cast_by.clone(),
                    voter: voter.clone(),
                }
            }),
            None if cast_by != voter => Err(MeetingError::NotTheProxy {
                cast_by: cast_by.clone(),
                voter: voter.clone(),
            }),
            _ => Ok(()),
        }
    }

    fn decide_convene(
        &self,
        charter: &Charter,
        mut convened: Convocation,
        proposed: Vec<ProposedResolution>,
    ) -> Result<MeetingEvent, MeetingError> {
        if proposed.is_empty() {
            return Err(MeetingError::EmptyAgenda);
        }
        if proposed.len() > MAX_RESOLUTIONS {
            return Err(MeetingError::TooManyResolutions {
                count: proposed.len(),
                max: MAX_RESOLUTIONS,
            });
        }
        if resolution_id(&convened.meeting, proposed.len()).is_none() {
            return Err(MeetingError::MeetingIdTooLong(convened.meeting));
        }
        if convened.closes_at <= convened.opens_at {
            return Err(MeetingError::EmptyVotingWindow {
                opens_at: convened.opens_at,
                closes_at: convened.closes_at,
            });
        }
        if convened.record_date >= paris_date(convened.opens_at) {
            return Err(MeetingError::RecordDateNotBeforeOpening {
                record_date: convened.record_date,
                opens_at: convened.opens_at,
            });
        }
        if convened.convened_on > convened.record_date {
            return Err(MeetingError::ConvenedAfterRecordDate {
                convened_on: convened.convened_on,
                record_date: convened.record_date,
            });
        }
        if let Call::Second { first_call } = &convened.call
            && first_call == &convened.meeting
        {
            return Err(MeetingError::SecondCallOfItself(first_call.clone()));
        }
        if convened.kind.is_general_meeting() {
            check_notice(charter, &convened)?;
        }
        check_members(charter, convened.kind, &convened.members)?;

        let mut used = BTreeSet::new();
        for (i, p) in proposed.into_iter().enumerate() {
            let number = i + 1;
            let text_len = p.text.chars().count();
            if p.text.trim().is_empty() || text_len > MAX_RESOLUTION_TEXT {
                return Err(MeetingError::InvalidResolutionText {
                    number,
                    max: MAX_RESOLUTION_TEXT,
                });
            }
            if charter.decision_kind(&p.decision_kind).is_none() {
                return Err(MeetingError::UnknownDecisionKind(p.decision_kind));
            }
            let required = match &p.purpose {
                ResolutionPurpose::CharterAmendment => Some(&charter.reserved.charter_amendment),
                ResolutionPurpose::CapitalIncrease { .. } => {
                    Some(&charter.reserved.capital_increase)
                }
                ResolutionPurpose::CapitalReduction { .. } => {
                    Some(&charter.reserved.capital_reduction)
                }
                ResolutionPurpose::TransferApproval { .. } => {
                    charter.transfers.approval_of_new_holders.as_ref()
                }
                ResolutionPurpose::AccountsApproval { .. }
                | ResolutionPurpose::ResultAppropriation { .. } => Some(&charter.reserved.accounts),
                ResolutionPurpose::TurbineWorks { .. } | ResolutionPurpose::General => None,
            };
            if let Some(required) = required
                && required != &p.decision_kind
            {
                return Err(MeetingError::WrongDecisionKind {
                    purpose: Box::new(p.purpose),
                    required: required.clone(),
                    found: p.decision_kind,
                });
            }
            if let Some(terms) = p.purpose.terms() {
                check_terms(charter, number, terms)?;
            }
            used.insert(p.decision_kind.clone());
            let resolution = resolution_id(&convened.meeting, number)
                .ok_or_else(|| MeetingError::MeetingIdTooLong(convened.meeting.clone()))?;
            convened.agenda.push(AgendaItem {
                resolution,
                decision_kind: p.decision_kind,
                purpose: p.purpose,
                text: p.text,
            });
        }
        convened.decision_kinds = charter
            .decision_kinds
            .iter()
            .filter(|k| used.contains(&k.id))
            .cloned()
            .collect();
        Ok(MeetingEvent::MeetingConvened(convened))
    }

    fn check_open_voting(&self, at: DateTime<Utc>) -> Result<&Convocation, MeetingError> {
        let convened = self.convened.as_ref().ok_or(MeetingError::NotConvened)?;
        if let Some(closed) = &self.closed {
            return Err(MeetingError::Closed(closed.at));
        }
        if let Some(open) = &self.open {
            return Err(MeetingError::VotingAlreadyOpen(open.opened_at));
        }
        if paris_date(at) <= convened.record_date {
            return Err(MeetingError::OpenedOnOrBeforeRecordDate {
                at,
                record_date: convened.record_date,
            });
        }
        if at >= convened.closes_at {
            return Err(MeetingError::WindowOver {
                closes_at: convened.closes_at,
            });
        }
        Ok(convened)
    }

    /// The meeting is convened, its roll frozen, and it is not closed.
    fn voting(&self) -> Result<(&Convocation, &OpenRoll), MeetingError> {
        let convened = self.convened.as_ref().ok_or(MeetingError::NotConvened)?;
        if let Some(closed) = &self.closed {
            return Err(MeetingError::Closed(closed.at));
        }
        let open = self.open.as_ref().ok_or(MeetingError::VotingNotOpen)?;
        Ok((convened, open))
    }

    /// Proxies change until the window ends.
    fn proxy_window(&self, at: DateTime<Utc>) -> Result<&OpenRoll, MeetingError> {
        let (convened, open) = self.voting()?;
        if at >= convened.closes_at {
            return Err(MeetingError::ProxyWindowOver {
                closes_at: convened.closes_at,
            });
        }
        Ok(open)
    }

    fn decide_grant(
        &self,
        grantor: HolderId,
        proxy: HolderId,
        at: DateTime<Utc>,
        paper: bool,
    ) -> Result<MeetingEvent, MeetingError> {
        let open = self.proxy_window(at)?;
        on_roll(open, &grantor)?;
        on_roll(open, &proxy)?;
        if grantor == proxy {
            return Err(MeetingError::ProxyToSelf(grantor));
        }
        if let Some(existing) = self.proxies.get(&grantor) {
            return Err(MeetingError::ProxyAlreadyGiven {
                grantor,
                proxy: existing.clone(),
            });
        }
        if let Some(their_proxy) = self.proxies.get(&proxy) {
            return Err(MeetingError::ProxyHasGivenProxy {
                proxy,
                their_proxy: their_proxy.clone(),
            });
        }
        let held = self.proxies_held(&grantor);
        if held > 0 {
            return Err(MeetingError::GrantorHoldsProxies { grantor, held });
        }
        if let Some(max) = open.roll.max_proxies_held
            && self.proxies_held(&proxy) >= max
        {
            return Err(MeetingError::ProxyCapReached { proxy, max });
        }
        Ok(MeetingEvent::ProxyGranted {
            ballot_withdrawn: self.ballots.contains_key(&grantor),
            grantor,
            proxy,
            at,
            paper,
        })
    }

    fn decide_revoke(
        &self,
        grantor: HolderId,
        at: DateTime<Utc>,
    ) -> Result<MeetingEvent, MeetingError> {
        let open = self.proxy_window(at)?;
        on_roll(open, &grantor)?;
        let proxy = self
            .proxies
            .get(&grantor)
            .cloned()
            .ok_or_else(|| MeetingError::NoProxyGiven(grantor.clone()))?;
        Ok(MeetingEvent::ProxyRevoked {
            ballot_withdrawn: self
                .ballots
                .get(&grantor)
                .is_some_and(|b| b.cast_by == proxy),
            grantor,
            proxy,
            at,
        })
    }

    fn count(&self, convened: &Convocation, roll: &Roll) -> Vec<ResolutionResult> {
        convened
            .agenda
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                // Convening recorded the rules of every kind on the agenda.
                let kind = convened
                    .decision_kinds
                    .iter()
                    .find(|k| k.id == item.decision_kind)?;
                let quorum = match convened.call {
                    Call::First => kind.quorum_first_call,
                    Call::Second { .. } => kind.quorum_second_call,
                };
                Some(tally(&item.resolution, kind, quorum, roll, |voter| {
                    self.ballots
                        .get(&voter.holder)
                        .and_then(|b| b.choices.get(i).copied())
                }))
            })
            .collect()
    }
}

/// A ballot gives one choice for every resolution of the agenda, and no
/// other.
fn check_choices(
    convened: &Convocation,
    choices: &std::collections::BTreeMap<ResolutionId, Choice>,
) -> Result<(), MeetingError> {
    if let Some(unknown) = choices
        .keys()
        .find(|r| !convened.agenda.iter().any(|i| &i.resolution == *r))
    {
        return Err(MeetingError::UnknownResolution(unknown.clone()));
    }
    if let Some(missing) = convened
        .agenda
        .iter()
        .find(|i| !choices.contains_key(&i.resolution))
    {
        return Err(MeetingError::IncompleteBallot(missing.resolution.clone()));
    }
    Ok(())
}

fn on_roll(open: &OpenRoll, holder: &HolderId) -> Result<(), MeetingError> {
    if open.index.contains_key(holder) {
        Ok(())
    } else {
        Err(MeetingError::NotOnRoll(holder.clone()))
    }
}

/// A second call follows a first call of the same kind that was held
/// (closed) and failed its quorum; its agenda is the resolutions of the
/// first call that failed their quorum, or some of them (same decision
/// kind, purpose and text).
fn check_second_call(
    first_call: &MeetingId,
    first: Option<&Meeting>,
    kind: MeetingKind,
    agenda: &[ProposedResolution],
) -> Result<(), MeetingError> {
    let Some(first) = first.filter(|m| m.phase() != Phase::NotConvened) else {
        return Err(MeetingError::FirstCallUnknown(first_call.clone()));
    };
    if first.kind() != Some(kind) {
        return Err(MeetingError::FirstCallOfAnotherKind(first_call.clone()));
    }
    let Some(results) = first.results() else {
        return Err(MeetingError::FirstCallNotHeld(first_call.clone()));
    };
    let failed: Vec<&AgendaItem> = first
        .agenda()
        .iter()
        .zip(results)
        .filter(|(_, r)| match &r.outcome {
            Outcome::Rejected { rules } => rules.iter().any(RejectionRule::is_quorum),
            Outcome::Adopted => false,
        })
        .map(|(item, _)| item)
        .collect();
    if failed.is_empty() {
        return Err(MeetingError::FirstCallReachedQuorum(first_call.clone()));
    }
    for (i, p) in agenda.iter().enumerate() {
        let again = failed.iter().any(|item| {
            item.decision_kind == p.decision_kind
                && item.purpose == p.purpose
                && item.text == p.text
        });
        if !again {
            return Err(MeetingError::NotOnTheFirstCall {
                number: i + 1,
                first_call: first_call.clone(),
            });
        }
    }
    Ok(())
}

/// A general meeting's vote opens no sooner than the charter's notice after
/// its convocation ([`crate::charter::NoticePeriods`]).
fn check_notice(charter: &Charter, convened: &Convocation) -> Result<(), MeetingError> {
    let (call, days) = match convened.call {
        Call::First => ("first call", charter.notice.first_call_days),
        Call::Second { .. } => ("second call", charter.notice.second_call_days),
    };
    let opens_on = paris_date(convened.opens_at);
    let earliest = convened
        .convened_on
        .checked_add_days(chrono::Days::new(days.into()))
        .unwrap_or(NaiveDate::MAX);
    if opens_on < earliest {
        return Err(MeetingError::NoticeTooShort {
            call,
            days,
            convened_on: convened.convened_on,
            opens_on,
            earliest,
        });
    }
    Ok(())
}

/// A resolution's terms name a class of the charter and at least one share.
fn check_terms(charter: &Charter, number: usize, terms: &Terms) -> Result<(), MeetingError> {
    if let Some(class) = &terms.class
        && charter.share_class(class).is_none()
    {
        return Err(MeetingError::TermsUnknownClass {
            number,
            class: class.clone(),
        });
    }
    if terms.count.is_some_and(|c| c.is_zero()) {
        return Err(MeetingError::TermsWithoutShares { number });
    }
    Ok(())
}

fn check_members(
    charter: &Charter,
    kind: MeetingKind,
    members: &[CommitteeMember],
) -> Result<(), MeetingError> {
    match (kind.is_general_meeting(), members.is_empty()) {
        (true, false) => return Err(MeetingError::MembersNotAllowed),
        (false, true) => return Err(MeetingError::MembersRequired),
        _ => {}
    }
    let mut seen = BTreeSet::new();
    for m in members {
        if !seen.insert(&m.member) {
            return Err(MeetingError::DuplicateMember(m.member.clone()));
        }
        if charter.college(&m.college).is_none() {
            return Err(MeetingError::UnknownCollege(m.college.clone()));
        }
    }
    Ok(())
}

/// The roll: from the cap table for a general meeting, from the members for
/// a board or committee; colleges from the charter on the record date.
/// The voters of a general meeting on the cap table `snapshot`: every
/// holder with a vote (per share: shares x votes per share of each class;
/// per member: one vote for a holder of any share, or for a club one per
/// member where the college says so), in holder id order.
/// What the meeting freezes when voting opens, and what the vote-weights
/// projection shows for a record date.
///
/// With `capital`, each voter also carries the nominal value of their
/// voting shares, for a quorum counted on capital.
pub fn general_meeting_voters(
    snapshot: &CapTableSnapshot,
    capital: bool,
) -> Result<Vec<Voter>, MeetingError> {
    let charter = &snapshot.charter;
    let inconsistent = |what: String| {
        MeetingError::CapTableLookup(LookupError(format!(
            "the cap table on {} is inconsistent with its charter: {what}",
            snapshot.as_of
        )))
    };
    let mut voters = Vec::new();
    for position in &snapshot.holders {
        let college = charter
            .college(&position.college)
            .ok_or_else(|| inconsistent(format!("college {} is unknown", position.college)))?;
        let mut shares = 0u64;
        let mut votes = 0u64;
        let mut nominal = Decimal::ZERO;
        for (class, count) in &position.shares {
            let class = charter
                .share_class(class)
                .ok_or_else(|| inconsistent(format!("share class {class} is unknown")))?;
            shares = shares.saturating_add(count.get());
            votes = votes.saturating_add(count.get().saturating_mul(class.votes_per_share.into()));
            if class.votes_per_share > 0 {
                // At most 10^12 shares of a nominal value within the
                // input's bounds (crate::input): far inside a Decimal.
                nominal = nominal.saturating_add(
                    Decimal::from(count.get()).saturating_mul(class.nominal_value.amount()),
                );
            }
        }
        let weight = match college.vote_basis {
            VoteBasis::PerShare => votes,
            VoteBasis::PerMember if shares == 0 => 0,
            VoteBasis::PerMember => match (college.clubs, position.kind, position.members) {
                (ClubVotes::PerMember, HolderKind::InvestmentClub, Some(members)) => {
                    u64::from(members)
                }
                _ => 1,
            },
        };
        if weight > 0 {
            voters.push(Voter {
                holder: position.holder.clone(),
                college: position.college.clone(),
                shares,
                weight,
                capital: capital
                    .then(|| Euros::new(nominal))
                    .transpose()
                    .map_err(|_| {
                        inconsistent(format!(
                            "the capital of {} is out of range",
                            position.holder
                        ))
                    })?,
            });
        }
    }
    voters.sort_by(|a, b| a.holder.cmp(&b.holder));
    Ok(voters)
}

fn roll_from(convened: &Convocation, snapshot: CapTableSnapshot) -> Result<Roll, MeetingError> {
    let charter = &snapshot.charter;
    let voters = if convened.kind.is_general_meeting() {
        let on_capital = convened
            .decision_kinds
            .iter()
            .any(|k| k.quorum_basis == QuorumBasis::Capital);
        general_meeting_voters(&snapshot, on_capital)?
    } else {
        let mut members = Vec::with_capacity(convened.members.len());
        for m in &convened.members {
            if charter.college(&m.college).is_none() {
                return Err(MeetingError::UnknownCollege(m.college.clone()));
            }
            members.push(Voter {
                holder: m.member.clone(),
                college: m.college.clone(),
                shares: 0,
                weight: 1,
                capital: None,
            });
        }
        members.sort_by(|a, b| a.holder.cmp(&b.holder));
        members
    };
    if voters.is_empty() {
        return Err(MeetingError::EmptyRoll(convened.record_date));
    }
    Ok(Roll {
        record_date: convened.record_date,
        colleges: charter.colleges.iter().map(RollCollege::from).collect(),
        voters,
        max_proxies_held: charter.proxies.max_held_per_holder,
    })
}
