//! The farm the end-to-end tests share: a company, its meetings and its
//! financial years, each through `CqrsFramework` on the real store, wired
//! with the services of `windledger_tests::services`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use cqrs_es::{AggregateError, CqrsFramework, EventStore};
use rust_decimal::Decimal;
use windledger_app::import::synthetic::{Synthetic, write_synthetic};
use windledger_app::ledger::LedgerRuntime;
use windledger_app::services::{CompanyCapTables, MeetingResolutions, YearClosings};
use windledger_domain::charter::Charter;
use windledger_domain::company::{
    Company, CompanyCommand, CompanyServices, HolderKind, Subscription, Turbine,
};
use windledger_domain::finance::{FinancialYear, FinancialYearEvent, FinancialYearServices};
use windledger_domain::meeting::{
    Call, Choice, Meeting, MeetingCommand, MeetingError, MeetingKind, MeetingServices,
    ProposedResolution,
};
use windledger_domain::money::Euros;
use windledger_domain::resolution::ResolutionPurpose;
use windledger_domain::types::ResolutionId;
use windledger_store::testing::TestDatabase;
use windledger_store::{LedgerEventStore, LedgerId, RecordedEvent, Store, StreamId};

use windledger_fixtures::farm::{
    CharterBuilder, admission, commune, kind, meeting_id, ordinary_shares, res, sas,
};

pub const COMPANY_ID: &str = "farm";
pub const COLLEGE: &str = "associes";

pub use windledger_fixtures::farm::{ORD, at, class, day, eur, holder, shares};

/// One college of associates, 10,000 ordinary shares of 100 EUR
/// authorised, at most five proxies per holder.
pub fn charter() -> Charter {
    CharterBuilder::one_college()
        .class(ordinary_shares(10_000))
        .proxies_held(5)
        .build()
}

pub struct Farm {
    pub store: Store,
    pub ledger: LedgerId,
    pub meetings: LedgerEventStore<Meeting>,
    pub meeting_cqrs: Arc<CqrsFramework<Meeting, LedgerEventStore<Meeting>>>,
    pub company_cqrs: CqrsFramework<Company, LedgerEventStore<Company>>,
    pub years: LedgerEventStore<FinancialYear>,
    pub year_cqrs: CqrsFramework<FinancialYear, LedgerEventStore<FinancialYear>>,
}

impl Farm {
    pub async fn new(db: &TestDatabase) -> Self {
        let store = db.store().await;
        let ledger = LedgerId::parse("farm-test").expect("a ledger id");
        store.create_ledger(&ledger).await.expect("a new ledger");
        let cap_tables = || CompanyCapTables {
            store: store.clone(),
            ledger: ledger.clone(),
            company: COMPANY_ID.to_owned(),
        };
        let meetings = LedgerEventStore::<Meeting>::new(store.clone(), ledger.clone());
        let meeting_cqrs = Arc::new(CqrsFramework::new(
            meetings.clone(),
            vec![],
            MeetingServices::new(windledger_app::services::SystemClock, cap_tables()),
        ));
        let company_cqrs = CqrsFramework::new(
            LedgerEventStore::new(store.clone(), ledger.clone()),
            vec![],
            CompanyServices::new(
                windledger_app::services::SystemClock,
                MeetingResolutions {
                    meetings: meetings.clone(),
                },
            ),
        );
        let years = LedgerEventStore::<FinancialYear>::new(store.clone(), ledger.clone());
        let year_cqrs = CqrsFramework::new(
            years.clone(),
            vec![],
            FinancialYearServices::new(
                windledger_app::services::SystemClock,
                MeetingResolutions {
                    meetings: meetings.clone(),
                },
                cap_tables(),
                YearClosings {
                    years: years.clone(),
                },
            ),
        );
        Self {
            store,
            ledger,
            meetings,
            meeting_cqrs,
            company_cqrs,
            years,
            year_cqrs,
        }
    }

    /// Incorporated on 2020-01-15 with `holders` each holding `shares`.
    pub async fn incorporated(db: &TestDatabase, holders: usize, shares: u64) -> Self {
        let holdings: Vec<_> = (0..holders)
            .map(|i| (format!("h{i:05}"), HolderKind::Individual, shares))
            .collect();
        Self::with_holders(db, &holdings, vec![]).await
    }

    /// Incorporated on 2020-01-15 with these (holder, kind, shares) and
    /// turbines.
    pub async fn with_holders(
        db: &TestDatabase,
        holders: &[(String, HolderKind, u64)],
        turbines: Vec<Turbine>,
    ) -> Self {
        let farm = Self::new(db).await;
        let formed = day(2020, 1, 15);
        let total: u64 = holders.iter().map(|h| h.2).sum();
        let local = || commune("42026");
        farm.company(CompanyCommand::Incorporate {
            company: sas(
                "Parc éolien citoyen SAS",
                formed,
                Euros::new(Decimal::from(100 * total)).expect("an amount"),
                turbines
                    .iter()
                    .map(|t| t.commune.clone())
                    .chain([local()])
                    .collect(),
                turbines,
            ),
            charter: charter(),
        })
        .await;
        let mut subscriptions = Vec::new();
        for (id, kind, count) in holders {
            farm.company(admission(id, *kind, COLLEGE, "42026", formed))
                .await;
            subscriptions.push(Subscription {
                holder: holder(id),
                class: class(ORD),
                count: shares(*count),
                price_per_share: eur("100"),
            });
        }
        farm.company(CompanyCommand::IssueShares {
            subscriptions,
            resolution: None,
            effective_date: formed,
        })
        .await;
        farm
    }

    pub async fn company(&self, command: CompanyCommand) {
        if let Err(e) = self.company_cqrs.execute(COMPANY_ID, command).await {
            panic!("the company command is refused: {e}");
        }
    }

    pub async fn meeting(
        &self,
        id: &str,
        command: MeetingCommand,
    ) -> Result<(), AggregateError<MeetingError>> {
        let metadata = HashMap::from([("actor".to_owned(), "test".to_owned())]);
        self.meeting_cqrs
            .execute_with_metadata(id, command, metadata)
            .await
    }

    /// Convened on 2021-05-20 for 2021-06-15..25, record date 2021-06-10,
    /// voting open.
    pub async fn open_meeting(&self, id: &str, agenda: Vec<ProposedResolution>) {
        self.open_meeting_in(id, 2021, agenda).await;
    }

    /// Convened on `year`-05-20 for `year`-06-15..25, record date
    /// `year`-06-10, voting open.
    pub async fn open_meeting_in(&self, id: &str, year: i32, agenda: Vec<ProposedResolution>) {
        self.meeting(
            id,
            MeetingCommand::Convene {
                meeting: meeting_id(id),
                kind: MeetingKind::ExtraordinaryGeneralMeeting,
                call: Call::First,
                record_date: day(year, 6, 10),
                opens_at: at(year, 6, 15, 8),
                closes_at: at(year, 6, 25, 18),
                agenda,
                members: vec![],
                convened_on: day(year, 5, 20),
            },
        )
        .await
        .expect("the meeting is convened");
        self.meeting(
            id,
            MeetingCommand::OpenVoting {
                at: at(year, 6, 15, 8),
            },
        )
        .await
        .expect("voting opens");
    }

    /// Every voter in `for_` votes for every resolution, then the meeting
    /// closes at the end of its window in `year`.
    pub async fn vote_and_close(&self, id: &str, year: i32, resolutions: usize, for_: &[&str]) {
        for voter in for_ {
            self.meeting(
                id,
                MeetingCommand::CastBallot {
                    voter: holder(voter),
                    cast_by: holder(voter),
                    choices: ballot(id, resolutions, Choice::For),
                    at: at(year, 6, 20, 9),
                },
            )
            .await
            .expect("the ballot");
        }
        self.meeting(
            id,
            MeetingCommand::Close {
                at: at(year, 6, 25, 18),
            },
        )
        .await
        .expect("the meeting closes");
    }

    /// Every event of `stream` (`company/farm`, `meeting/ag-2021`...), in
    /// order.
    pub async fn stream(&self, stream: &str) -> Vec<RecordedEvent> {
        let stream = StreamId::parse(stream).expect("a stream id");
        self.store
            .read_stream_to_end(&self.ledger, &stream)
            .await
            .expect("the stream")
    }

    /// The last event of `stream`, decoded.
    pub async fn last_event<E: cqrs_es::DomainEvent>(&self, stream: &str) -> E {
        self.stream(stream)
            .await
            .last()
            .expect("an event")
            .decode()
            .expect("an event of this aggregate")
    }

    pub async fn current(&self, id: &str) -> Meeting {
        let context = self
            .meetings
            .load_aggregate(id)
            .await
            .expect("the meeting loads");
        // Serialised and read back: the state as a fresh process would see
        // it is compared through its public reads below.
        serde_json::from_value(serde_json::to_value(&context.aggregate).expect("serialises"))
            .expect("deserialises")
    }
}

pub fn ballot(meeting: &str, resolutions: usize, choice: Choice) -> BTreeMap<ResolutionId, Choice> {
    (1..=resolutions)
        .map(|n| (res(format!("{meeting}.{n}")), choice))
        .collect()
}

pub fn general(text: &str) -> ProposedResolution {
    ProposedResolution {
        decision_kind: kind("ordinary"),
        purpose: ResolutionPurpose::General,
        text: text.to_owned(),
    }
}

/// The runtime of the ledger `ledger` once `farm` is generated into it, its
/// projections caught up with the head.
pub async fn synthetic_runtime(
    db: &TestDatabase,
    store: &Store,
    ledger: &LedgerId,
    farm: &Synthetic,
) -> LedgerRuntime {
    write_synthetic(store, ledger, farm, |_| {})
        .await
        .expect("the farm is written");
    let signer = db.checkpoint_signer();
    let runtime = LedgerRuntime::open(store.clone(), ledger.clone(), &[signer.verifier()])
        .await
        .expect("the ledger opens");
    let head = runtime.recent_head().await.expect("a head");
    runtime
        .projections
        .caught_up(head)
        .await
        .expect("caught up");
    runtime
}

/// The `DividendDeclared` event of financial year `year` in `ledger`.
pub async fn dividend_declared(store: &Store, ledger: &LedgerId, year: i32) -> FinancialYearEvent {
    let stream = StreamId::parse(format!("financial-year/{year}")).expect("a stream id");
    store
        .read_stream_to_end(ledger, &stream)
        .await
        .expect("the year reads")
        .into_iter()
        .find(|e| e.event_type == "DividendDeclared")
        .expect("the year's dividend is declared")
        .decode()
        .expect("a financial-year event")
}
