//! The small farm of `windledger_fixtures::small_farm` (shaped like the
//! reference case, DESIGN.md 1), with preference shares, as the company
//! stream records it, and the resolutions its fake meeting stream knows;
//! and what every stream's tests share: folding events, driving a stream
//! in memory, services that cannot be read.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use cqrs_es::Aggregate;
use cqrs_es::test::TestFramework;
use windledger_domain::cap_table::{CapTableService, CapTableSnapshot, HolderPosition};
use windledger_domain::charter::Charter;
use windledger_domain::company::{Company, CompanyEvent, CompanyServices, HolderKind};
use windledger_domain::resolution::{
    AdoptedResolution, BoxFuture, KnownResolutions, LookupError, ResolutionPurpose,
    ResolutionService,
};
use windledger_domain::types::ResolutionId;

use windledger_fixtures::farm::preference_shares;
pub use windledger_fixtures::farm::{
    CIT, COLL, IND, ORD, PREF, admission, class, college, commune, day, dec, eur, holder, kind,
    meeting_id, ratio, report, res, shares, signed,
};
pub use windledger_fixtures::small_farm::{
    ELSEWHERE, FOUNDERS, LOCAL_A, LOCAL_B, NEWCOMER, formed, incorporation, initial_subscriptions,
    later, subscription,
};

/// The small farm's charter, with 1,000 preference shares authorised.
pub fn charter() -> Charter {
    windledger_fixtures::small_farm::charter()
        .class(preference_shares(1_000))
        .build()
}

/// A resolution of kind `kind_id` adopted `on` for `purpose`.
pub fn adopted_resolution(
    id: &str,
    kind_id: &str,
    purpose: ResolutionPurpose,
    on: NaiveDate,
) -> AdoptedResolution {
    AdoptedResolution {
        id: res(id),
        decision_kind: kind(kind_id),
        purpose,
        adopted_on: on,
    }
}

/// The resolutions the fake meeting stream knows, by id.
pub fn resolutions() -> Vec<AdoptedResolution> {
    let june = day(2016, 6, 30);
    vec![
        adopted_resolution(
            "r-amend",
            "extraordinary",
            ResolutionPurpose::CharterAmendment,
            june,
        ),
        adopted_resolution(
            "r-amend-ord",
            "ordinary",
            ResolutionPurpose::CharterAmendment,
            june,
        ),
        adopted_resolution(
            "r-increase",
            "extraordinary",
            ResolutionPurpose::CAPITAL_INCREASE,
            june,
        ),
        adopted_resolution(
            "r-increase-ord",
            "ordinary",
            ResolutionPurpose::CAPITAL_INCREASE,
            june,
        ),
        adopted_resolution(
            "r-increase-2030",
            "extraordinary",
            ResolutionPurpose::CAPITAL_INCREASE,
            day(2030, 1, 1),
        ),
        adopted_resolution(
            "r-reduction",
            "extraordinary",
            ResolutionPurpose::CAPITAL_REDUCTION,
            june,
        ),
        adopted_resolution(
            "r-approve-new",
            "ordinary",
            ResolutionPurpose::approval_of(holder(NEWCOMER)),
            june,
        ),
    ]
}

pub fn resolution(id: &str) -> AdoptedResolution {
    resolutions()
        .into_iter()
        .find(|r| r.id.as_str() == id)
        .expect("a resolution of the fixture")
}

pub fn services() -> CompanyServices {
    CompanyServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        KnownResolutions::new(resolutions()),
    )
}

pub fn framework() -> TestFramework<Company> {
    TestFramework::with(services())
}

pub fn admitted(id: &str, holder_kind: HolderKind, college_id: &str, at: &str) -> CompanyEvent {
    admitted_on(id, holder_kind, college_id, at, formed())
}

/// `id` admitted, effective `on`.
pub fn admitted_on(
    id: &str,
    holder_kind: HolderKind,
    college_id: &str,
    at: &str,
    on: NaiveDate,
) -> CompanyEvent {
    CompanyEvent::ShareholderAdmitted {
        holder: holder(id),
        kind: holder_kind,
        college: college(college_id),
        commune: commune(at),
        effective_date: on,
        members: None,
    }
}

/// The association "h-asso" admitted to the citizens' college from
/// `LOCAL_B`, effective `on`.
pub fn association_admitted(on: NaiveDate) -> CompanyEvent {
    admitted_on("h-asso", HolderKind::Association, CIT, LOCAL_B, on)
}

/// Incorporated, with the founders and the newcomer registered.
pub fn incorporated() -> Vec<CompanyEvent> {
    let newcomer = (NEWCOMER, HolderKind::Individual, CIT, LOCAL_B);
    let admissions = FOUNDERS
        .iter()
        .chain([&newcomer])
        .map(|&(id, holder_kind, college_id, at)| admitted(id, holder_kind, college_id, at));
    let incorporation = CompanyEvent::Incorporated {
        company: incorporation(),
        charter: charter(),
    };
    [incorporation].into_iter().chain(admissions).collect()
}

/// Incorporated and capitalised.
pub fn capitalised() -> Vec<CompanyEvent> {
    let mut events = incorporated();
    events.push(CompanyEvent::SharesIssued {
        subscriptions: initial_subscriptions(),
        resolution: None,
        effective_date: formed(),
    });
    events
}

/// A holder's position in a cap table: `ordinary` shares of `ORD` and
/// `preference` shares of `PREF` (a class with none is left out).
pub fn holder_position(
    id: &str,
    holder_kind: HolderKind,
    college_id: &str,
    at: &str,
    ordinary: u64,
    preference: u64,
) -> HolderPosition {
    let mut held = BTreeMap::new();
    if ordinary > 0 {
        held.insert(class(ORD), shares(ordinary));
    }
    if preference > 0 {
        held.insert(class(PREF), shares(preference));
    }
    HolderPosition {
        holder: holder(id),
        kind: holder_kind,
        college: college(college_id),
        commune: commune(at),
        shares: held,
        members: None,
    }
}

/// The company after folding `events`.
pub fn fold(events: impl IntoIterator<Item = CompanyEvent>) -> Company {
    folded(events)
}

/// Any stream's state after folding `events`.
pub fn folded<A: Aggregate>(events: impl IntoIterator<Item = A::Event>) -> A {
    let mut state = A::default();
    for event in events {
        state.apply(event);
    }
    state
}

/// `events`, then `more`.
pub fn with<E>(mut events: Vec<E>, more: impl IntoIterator<Item = E>) -> Vec<E> {
    events.extend(more);
    events
}

/// A stream driven through its commands in memory, as the event store
/// would: its state and every event it recorded.
pub struct Driven<A: Aggregate> {
    pub state: A,
    pub events: Vec<A::Event>,
    services: A::Services,
}

impl<A: Aggregate> Driven<A> {
    pub fn new(services: A::Services) -> Self {
        Self {
            state: A::default(),
            events: Vec::new(),
            services,
        }
    }

    pub fn services(&self) -> &A::Services {
        &self.services
    }

    pub async fn run(&mut self, command: A::Command) -> Result<Vec<A::Event>, A::Error> {
        let events = windledger_fixtures::farm::run(&mut self.state, command, &self.services)?;
        self.events.extend(events.iter().cloned());
        Ok(events)
    }
}

/// A company stream that cannot be read.
pub struct UnreachableCompany;

impl CapTableService for UnreachableCompany {
    fn cap_table<'a>(
        &'a self,
        _on: NaiveDate,
    ) -> BoxFuture<'a, Result<CapTableSnapshot, LookupError>> {
        Box::pin(async { Err(LookupError("the company stream is unreachable".to_owned())) })
    }
}

/// A meeting stream that cannot be read.
pub struct UnreachableMeetings;

impl ResolutionService for UnreachableMeetings {
    fn adopted<'a>(
        &'a self,
        _id: &'a ResolutionId,
    ) -> BoxFuture<'a, Result<Option<AdoptedResolution>, LookupError>> {
        Box::pin(async { Err(LookupError("the meeting stream is unreachable".to_owned())) })
    }
}
