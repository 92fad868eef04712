//! A financial year driven through its commands, for the worked examples
//! and the properties. Each test states its own figures.

use std::collections::BTreeMap;

use windledger_domain::cap_table::{CapTableSnapshot, HolderPosition, KnownCapTables};
use windledger_domain::charter::{Charter, ShareClass};
use windledger_domain::company::{HolderKind, Turbine};
use windledger_domain::finance::{
    Balances, FinancialYear, FinancialYearCommand, FinancialYearError, FinancialYearEvent,
    FinancialYearServices, KnownClosings,
};
use windledger_domain::money::Euros;
use windledger_domain::resolution::{AdoptedResolution, KnownResolutions, ResolutionPurpose};
use windledger_fixtures::farm::{self, CharterBuilder, ordinary_shares, preference_shares};

use crate::common::Driven;
pub use windledger_fixtures::farm::{ORD, PREF, day, dec, eur, holder, signed};

pub const YEAR: i32 = 2024;
pub const ACCOUNTS: &str = "ago-2025.1";
pub const APPROPRIATION: &str = "ago-2025.2";

/// One college; ordinary shares (rights 1) and preference shares (rights
/// 6/5), both of 100 EUR with one vote, each class named by its id.
pub fn charter() -> Charter {
    let many = 1_000_000_000;
    CharterBuilder::one_college()
        .class(ShareClass {
            name: ORD.to_owned(),
            ..ordinary_shares(many)
        })
        .class(ShareClass {
            name: PREF.to_owned(),
            nominal_value: eur("100"),
            votes_per_share: 1,
            ..preference_shares(many)
        })
        .build()
}

/// A holder: (id, kind, ordinary shares, preference shares).
pub type Holding = (String, HolderKind, u64, u64);

pub fn position((id, kind, ordinary, preference): &Holding) -> HolderPosition {
    let mut shares = BTreeMap::new();
    for (class, n) in [(ORD, *ordinary), (PREF, *preference)] {
        if n > 0 {
            shares.insert(farm::class(class), farm::shares(n));
        }
    }
    HolderPosition {
        holder: holder(id),
        kind: *kind,
        college: farm::college("associes"),
        commune: farm::commune("42026"),
        shares,
        members: None,
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
        id: farm::res(id),
        decision_kind: farm::kind("ordinary"),
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
pub type Year = Driven<FinancialYear>;

impl Year {
    /// Opened, calendar year 2024, with `opening` balances.
    pub async fn open(company: CapTableSnapshot, opening: Balances) -> Self {
        let mut year = Self::new(FinancialYearServices::new(
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
            resolutions(),
            KnownCapTables::new([company]),
            KnownClosings::default(),
        ));
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

    /// Opened with a share capital of `share_capital` euros, `holdings`,
    /// and `legal_reserve` euros already in the legal reserve.
    pub async fn open_with_reserve(
        share_capital: &str,
        legal_reserve: &str,
        holdings: &[Holding],
    ) -> Self {
        let opening = Balances {
            legal_reserve: eur(legal_reserve),
            ..Balances::default()
        };
        Self::open(snapshot(eur(share_capital), vec![], holdings), opening).await
    }

    /// Accounts approved with `net_result`, then the result appropriated.
    pub async fn close(
        &mut self,
        net_result: &str,
        statutory: &str,
        dividend: &str,
    ) -> Result<FinancialYearEvent, FinancialYearError> {
        self.run(FinancialYearCommand::ApproveAccounts {
            resolution: farm::res(ACCOUNTS),
            net_result: dec(net_result),
        })
        .await?;
        let mut events = self
            .run(FinancialYearCommand::AppropriateResult {
                resolution: farm::res(APPROPRIATION),
                statutory_reserves: eur(statutory),
                dividend: eur(dividend),
            })
            .await?;
        Ok(events.remove(0))
    }
}
