//! A financial year driven through its commands, for the worked examples
//! and the properties. Each test states its own figures.
#![allow(dead_code)] // Each test binary uses part of it.

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::NaiveDate;
use cqrs_es::Aggregate;
use cqrs_es::event_sink::EventSink;
use rust_decimal::Decimal;
use windledger_domain::cap_table::{CapTableSnapshot, HolderPosition, KnownCapTables};
use windledger_domain::charter::{Charter, College, ShareClass, VoteBasis};
use windledger_domain::company::{HolderKind, Turbine};
use windledger_domain::finance::{
    Balances, FinancialYear, FinancialYearCommand, FinancialYearError, FinancialYearEvent,
    FinancialYearServices, KnownClosings,
};
use windledger_domain::money::{Euros, SignedEuros};
use windledger_domain::ratio::Ratio;
use windledger_domain::resolution::{AdoptedResolution, KnownResolutions, ResolutionPurpose};
use windledger_domain::types::{
    CollegeId, CommuneCode, DecisionKindId, HolderId, ResolutionId, ShareClassId, ShareCount,
};

pub fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

pub fn euros(amount: &str) -> Euros {
    Euros::new(Decimal::from_str(amount).expect("a decimal")).expect("an amount")
}

pub fn signed(amount: &str) -> SignedEuros {
    SignedEuros::new(Decimal::from_str(amount).expect("a decimal"))
}

pub fn dec(value: &str) -> Decimal {
    Decimal::from_str(value).expect("a decimal")
}

pub fn holder(id: &str) -> HolderId {
    HolderId::new(id).expect("a holder id")
}

pub const ORDINARY: &str = "ordinaires";
pub const PREFERENCE: &str = "preference";
pub const YEAR: i32 = 2024;
pub const ACCOUNTS: &str = "ago-2025.1";
pub const APPROPRIATION: &str = "ago-2025.2";

/// One college, ordinary shares (rights 1) and preference shares (rights
/// 6/5), both of 100 EUR.
pub fn charter() -> Charter {
    let class = |id: &str, rights: Ratio| ShareClass {
        id: ShareClassId::new(id).expect("a class id"),
        name: id.to_owned(),
        nominal_value: euros("100"),
        votes_per_share: 1,
        dividend_rights: rights,
        authorised: ShareCount::new(1_000_000_000).expect("a count"),
    };
    Charter::with_french_defaults(
        vec![College {
            id: CollegeId::new("associes").expect("a college id"),
            name: "Associés".to_owned(),
            weight: None,
            vote_basis: VoteBasis::PerShare,
        }],
        vec![
            class(ORDINARY, Ratio::ONE),
            class(PREFERENCE, Ratio::new(6, 5).expect("a ratio")),
        ],
    )
}

/// A holder: (id, kind, ordinary shares, preference shares).
pub type Holding = (String, HolderKind, u64, u64);

pub fn position((id, kind, ordinary, preference): &Holding) -> HolderPosition {
    let mut shares = BTreeMap::new();
    for (class, n) in [(ORDINARY, *ordinary), (PREFERENCE, *preference)] {
        if n > 0 {
            shares.insert(
                ShareClassId::new(class).expect("a class id"),
                ShareCount::new(n).expect("a count"),
            );
        }
    }
    HolderPosition {
        holder: holder(id),
        kind: *kind,
        college: CollegeId::new("associes").expect("a college id"),
        commune: CommuneCode::new("42026").expect("a commune"),
        shares,
    }
}

pub fn snapshot(
    share_capital: Euros,
    turbines: Vec<Turbine>,
    holdings: &[Holding],
) -> CapTableSnapshot {
    CapTableSnapshot {
        as_of: day(2000, 1, 1),
        charter: charter(),
        share_capital,
        turbines,
        holders: holdings.iter().map(position).collect(),
    }
}

fn adopted(id: &str, purpose: ResolutionPurpose) -> AdoptedResolution {
    AdoptedResolution {
        id: ResolutionId::new(id).expect("a resolution id"),
        decision_kind: DecisionKindId::new("ordinary").expect("a kind"),
        purpose,
        adopted_on: day(YEAR + 1, 6, 20),
    }
}

/// The accounts and appropriation resolutions of the 2025 general meeting.
pub fn resolutions() -> KnownResolutions {
    KnownResolutions::new([
        adopted(ACCOUNTS, ResolutionPurpose::AccountsApproval { year: YEAR }),
        adopted(
            APPROPRIATION,
            ResolutionPurpose::ResultAppropriation { year: YEAR },
        ),
    ])
}

/// Financial year 2024 of a farm, driven through its commands.
pub struct Year {
    pub state: FinancialYear,
    pub events: Vec<FinancialYearEvent>,
    services: FinancialYearServices,
}

impl Year {
    /// Opened, calendar year 2024, with `opening` balances.
    pub async fn open(company: CapTableSnapshot, opening: Balances) -> Self {
        let mut year = Self {
            state: FinancialYear::default(),
            events: Vec::new(),
            services: FinancialYearServices::new(
                chrono::DateTime::<chrono::Utc>::MAX_UTC,
                resolutions(),
                KnownCapTables::new([company]),
                KnownClosings::default(),
            ),
        };
        year.run(FinancialYearCommand::OpenYear {
            year: YEAR,
            starts_on: day(YEAR, 1, 1),
            ends_on: day(YEAR, 12, 31),
            opening_balances: Some(opening),
        })
        .await
        .expect("the year opens");
        year
    }

    pub async fn run(
        &mut self,
        command: FinancialYearCommand,
    ) -> Result<Vec<FinancialYearEvent>, FinancialYearError> {
        let sink = EventSink::<FinancialYear>::default();
        self.state.handle(command, &self.services, &sink).await?;
        let events = sink.collect().await;
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    /// Accounts approved with `net_result`, then the result appropriated.
    pub async fn close(
        &mut self,
        net_result: &str,
        statutory: &str,
        dividend: &str,
    ) -> Result<FinancialYearEvent, FinancialYearError> {
        self.run(FinancialYearCommand::ApproveAccounts {
            resolution: ResolutionId::new(ACCOUNTS).expect("an id"),
            net_result: dec(net_result),
        })
        .await?;
        let mut events = self
            .run(FinancialYearCommand::AppropriateResult {
                resolution: ResolutionId::new(APPROPRIATION).expect("an id"),
                statutory_reserves: euros(statutory),
                dividend: euros(dividend),
            })
            .await?;
        Ok(events.remove(0))
    }
}
