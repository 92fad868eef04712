//! Values that commands and events of the financial year share.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::company::{HolderKind, Turbine};
use crate::money::{Euros, SignedEuros};
use crate::newtype::text_conversions;
use crate::ratio::Ratio;
use crate::types::{
    CommuneCode, HolderId, Kilowatts, ParseError, PartyId, ShareClassId, ShareCount, Siren,
    TurbineId,
};

/// A calendar month, serialised `"YYYY-MM"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(extend("pattern" = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])$"))
)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1..=12).contains(&month) && (1000..=9999).contains(&year)).then_some(Self { year, month })
    }

    pub fn of(date: NaiveDate) -> Self {
        Self {
            year: date.year(),
            month: date.month(),
        }
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn month(self) -> u32 {
        self.month
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The first day after the month: the day it is over.
    pub fn last_day(self) -> NaiveDate {
        self.first_day_after().pred_opt().unwrap_or(NaiveDate::MAX)
    }

    pub fn first_day_after(self) -> NaiveDate {
        self.first_day()
            .checked_add_months(Months::new(1))
            .unwrap_or(NaiveDate::MAX)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || ParseError::Identifier {
            kind: "month (YYYY-MM)",
            value: s.to_owned(),
        };
        let (y, m) = s.split_once('-').ok_or_else(invalid)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(invalid());
        }
        let year = y.parse().map_err(|_| invalid())?;
        let month = m.parse().map_err(|_| invalid())?;
        Self::new(year, month).ok_or_else(invalid)
    }
}

text_conversions!(YearMonth);

/// Nature of a revenue line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RevenueKind {
    /// Ventes sur le marché (through an aggregator).
    MarketSales,
    /// Complément de rémunération: reference price minus market price,
    /// negative when the market is above the reference.
    ComplementDeRemuneration,
    /// Obligation d'achat: feed-in tariff.
    FeedInTariff,
    /// Anything else (guarantees of origin, capacity).
    Other,
}

/// Category of an operating cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum CostCategory {
    Maintenance,
    Insurance,
    /// Loyers: rent of the land under the turbines.
    LandRent,
    /// Taxes other than IFER, CFE and property tax (recorded on their own).
    Taxes,
    /// Raccordement and grid fees (TURPE).
    Grid,
    Management,
    /// Payments to the community fund (fonds de territoire).
    CommunityFund,
    Other,
}

/// Who receives a payment, when it stays in the territory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "beneficiary", rename_all = "snake_case")]
pub enum Beneficiary {
    Commune {
        commune: CommuneCode,
    },
    /// Établissement public de coopération intercommunale, by SIREN.
    Epci {
        siren: Siren,
    },
    /// By code (`42`, `2A`, `974`).
    Departement {
        code: String,
    },
    /// A landowner (pseudonymous), living in `commune`.
    Landowner {
        party: PartyId,
        commune: CommuneCode,
    },
    /// Fonds de territoire.
    CommunityFund,
}

/// Local taxes recorded as assessed amounts per beneficiary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum LocalTax {
    /// Cotisation foncière des entreprises.
    Cfe,
    /// Taxe foncière sur les propriétés bâties.
    PropertyTax,
}

/// The equity accounts the appropriation of a result moves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Balances {
    /// Réserve légale.
    pub legal_reserve: Euros,
    /// Réserves statutaires.
    pub statutory_reserves: Euros,
    /// Report à nouveau: negative when it carries prior losses.
    pub retained_earnings: SignedEuros,
}

/// How IFER of a turbine is shared between the local authorities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IferSplit {
    /// Turbines commissioned from 2019: commune 20 %, EPCI 50 %, département
    /// 30 %, whatever the EPCI's tax regime.
    From2019,
    /// Earlier turbines under an EPCI with single business tax (fiscalité
    /// professionnelle unique): commune 0 %, EPCI 70 %, département 30 %.
    Before2019SingleBusinessTax,
    /// Earlier turbines under an EPCI without it: 20 / 50 / 30.
    Before2019AdditionalTax,
}

impl IferSplit {
    pub fn of(commissioned_on: NaiveDate, epci_single_business_tax: bool) -> Self {
        let from_2019 = NaiveDate::from_ymd_opt(2019, 1, 1).unwrap_or(NaiveDate::MIN);
        if commissioned_on >= from_2019 {
            Self::From2019
        } else if epci_single_business_tax {
            Self::Before2019SingleBusinessTax
        } else {
            Self::Before2019AdditionalTax
        }
    }

    /// Per cent to the commune, the EPCI and the département.
    pub fn percentages(self) -> [u64; 3] {
        match self {
            Self::From2019 | Self::Before2019AdditionalTax => [20, 50, 30],
            Self::Before2019SingleBusinessTax => [0, 70, 30],
        }
    }
}

/// IFER of one turbine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IferLine {
    pub turbine: TurbineId,
    pub commune: CommuneCode,
    pub rated_power: Kilowatts,
    pub commissioned_on: NaiveDate,
    /// Rated power x rate, to the cent.
    pub amount: Euros,
    pub split: IferSplit,
    /// Commune, EPCI, département, in that order, summing to `amount`.
    pub shares: Vec<(Beneficiary, Euros)>,
}

/// How a dividend is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum DividendAmount {
    /// A total, shared in proportion to dividend rights.
    Total { amount: Euros },
    /// An amount per share carrying dividend rights of 1 (a class with
    /// rights 6/5 receives 6/5 of it), rounded down to the cent per holder.
    PerShare { amount: Euros },
}

/// Prélèvements à la source on dividends paid to French resident
/// individuals: income tax (PFU) and social contributions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct WithholdingRates {
    /// Per cent, e.g. 12.8.
    #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
    pub income_tax: Decimal,
    /// Per cent, e.g. 17.2.
    #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
    pub social_contributions: Decimal,
}

impl Default for WithholdingRates {
    /// The French defaults since 2018: 12.8 % + 17.2 %.
    fn default() -> Self {
        Self {
            income_tax: Decimal::new(128, 1),
            social_contributions: Decimal::new(172, 1),
        }
    }
}

/// How an individual's dividend is withheld when not as by default (a
/// French resident: income tax and social contributions). Decided by the
/// application from the identity vault (docs/payments.md); the ledger
/// records it with the allocation, never the data it was decided from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum WithholdingStatus {
    /// Dispensé du prélèvement forfaitaire non libératoire (CGI art. 242
    /// quater): the holder's statement, received by 30 November of the
    /// year before the payment. Income tax is not withheld; social
    /// contributions are.
    Exempt,
    /// Tax resident outside France: nothing is withheld at declaration,
    /// and the dividend is not paid until the operator has recorded what
    /// is withheld (`decide_withholding`: the tax treaty's rate, which the
    /// product does not know).
    NonResident,
    /// An investment club (CIGALES, club d'investissement) whose record
    /// asks the company to withhold for its members, individuals resident
    /// in France, as for one of them (the club is transparent: its members
    /// are taxed). Without it a club is paid gross, its members declaring
    /// their share themselves.
    MembersWithheld,
}

/// What is withheld from `gross` (cents) paid to a holder of `kind` with
/// `status`, at `rates`: `(income tax, social contributions, net)` in
/// cents. Only an individual resident in France is withheld (an exempt
/// one, social contributions only), and an investment club that asked to
/// be withheld for its members; a non-resident's withholding is the
/// operator's to decide. Each levy is rounded to the cent on its own;
/// social contributions are capped at what income tax leaves, so the two
/// never exceed the gross, whatever the rates. `None` on overflow.
pub fn withheld(
    gross: u64,
    kind: HolderKind,
    status: Option<WithholdingStatus>,
    rates: WithholdingRates,
) -> Option<(u64, u64, u64)> {
    let withheld = match (kind, status) {
        (HolderKind::Individual, Some(WithholdingStatus::NonResident)) => false,
        (HolderKind::Individual, _) => true,
        (HolderKind::InvestmentClub, Some(WithholdingStatus::MembersWithheld)) => true,
        _ => false,
    };
    let levy = |rate: Decimal| -> Option<u64> {
        if !withheld {
            return Some(0);
        }
        Euros::from_cents(gross)
            .amount()
            .checked_mul(rate)
            .map(|t| crate::money::round_to_cent(t / Decimal::ONE_HUNDRED))
            .and_then(|tax| Euros::new(tax).ok())
            .and_then(Euros::cents)
    };
    let income_tax = match status {
        Some(WithholdingStatus::Exempt) if kind == HolderKind::Individual => 0,
        _ => levy(rates.income_tax)?.min(gross),
    };
    let social = levy(rates.social_contributions)?.min(gross - income_tax);
    let net = gross.checked_sub(income_tax.checked_add(social)?)?;
    Some((income_tax, social, net))
}

/// One holder's share of a dividend.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation {
    pub holder: HolderId,
    pub kind: HolderKind,
    pub commune: CommuneCode,
    /// Shares held on the record date in classes with dividend rights.
    pub shares: BTreeMap<ShareClassId, ShareCount>,
    pub gross: Euros,
    pub income_tax: Euros,
    pub social_contributions: Euros,
    /// Gross minus what is withheld.
    pub net: Euros,
    /// An individual's status when not withheld as a French resident.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<WithholdingStatus>,
}

/// The dividend rights of each class with any, as recorded with the roll.
pub type DividendRights = BTreeMap<ShareClassId, Ratio>;

/// The turbines as the financial year knows them (from the company stream
/// when the year opened).
pub type Turbines = Vec<Turbine>;
