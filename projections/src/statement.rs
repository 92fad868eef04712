//! A shareholder's statement: holdings over time, ballots with their
//! receipts, dividends and interest.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use windledger_domain::company::HolderKind;
use windledger_domain::meeting::Choice;
use windledger_domain::money::Euros;
use windledger_domain::types::{HolderId, ResolutionId, ShareClassId};

use crate::cap_table::{AsOf, Dated, MovementKind, Registration};
use crate::event::EventRef;
use crate::runner::Projections;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Statement {
    pub holder: HolderId,
    pub kind: HolderKind,
    pub registrations: Vec<Dated<Registration>>,
    pub holdings: Vec<HoldingLine>,
    /// Shares held now, by class.
    pub current: BTreeMap<ShareClassId, u64>,
    pub ballots: Vec<StatementBallot>,
    pub dividends: Vec<StatementDividend>,
    pub interest: Vec<StatementInterest>,
}

/// A movement with the class balance after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct HoldingLine {
    pub at: EventRef,
    pub date: NaiveDate,
    pub class: ShareClassId,
    pub delta: i64,
    pub movement: MovementKind,
    pub balance: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct StatementBallot {
    #[cfg_attr(
        feature = "json-schema",
        schemars(with = "windledger_domain::types::MeetingId")
    )]
    pub meeting: String,
    pub voter: HolderId,
    pub cast_by: HolderId,
    pub choices: BTreeMap<ResolutionId, Choice>,
    pub cast_at: DateTime<Utc>,
    /// Position and hash of the ballot's event.
    pub receipt: EventRef,
    pub in_force: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct StatementDividend {
    pub year: i32,
    pub record_date: NaiveDate,
    pub gross: Euros,
    pub income_tax: Euros,
    pub social_contributions: Euros,
    pub net: Euros,
    pub paid_on: Option<NaiveDate>,
    pub declared: EventRef,
    /// The payment's event, once paid.
    pub paid: Option<EventRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct StatementInterest {
    #[cfg_attr(
        feature = "json-schema",
        schemars(with = "windledger_domain::types::AdvanceId")
    )]
    pub advance: String,
    pub year: i32,
    pub interest: Euros,
    pub at: EventRef,
}

/// The statement of `holder`; `None` if they were never admitted.
pub fn statement(projections: &Projections, holder: &HolderId) -> Option<Statement> {
    let cap_table = projections.cap_table.fold();
    let history = cap_table.holder(holder)?;
    let mut balances: BTreeMap<&ShareClassId, i64> = BTreeMap::new();
    let holdings = history
        .movements
        .iter()
        .map(|m| {
            let balance = balances.entry(&m.class).or_default();
            *balance += m.delta;
            HoldingLine {
                at: m.at,
                date: m.date,
                class: m.class.clone(),
                delta: m.delta,
                movement: m.kind.clone(),
                balance: *balance,
            }
        })
        .collect();
    let ballots = projections
        .register
        .fold()
        .ballots_of(holder)
        .map(|(meeting, record, b)| StatementBallot {
            meeting: meeting.clone(),
            voter: b.voter.clone(),
            cast_by: b.cast_by.clone(),
            choices: record.choices(b),
            cast_at: b.cast_at,
            receipt: b.receipt,
            in_force: b.in_force,
        })
        .collect();
    let finance = projections.finance.fold();
    let dividends = finance
        .years()
        .filter_map(|y| {
            let d = y.dividend.as_ref()?;
            let a = d.allocation(holder)?;
            Some(StatementDividend {
                year: y.year,
                record_date: d.record_date,
                gross: a.gross,
                income_tax: a.income_tax,
                social_contributions: a.social_contributions,
                net: a.net,
                paid_on: a.paid.as_ref().map(|p| p.paid_on),
                declared: d.at,
                paid: a.paid.as_ref().map(|p| p.at),
            })
        })
        .collect();
    let interest = finance
        .advances()
        .filter(|(_, a)| &a.holder == holder)
        .flat_map(|(id, a)| {
            a.interest.iter().map(move |(year, i)| StatementInterest {
                advance: id.clone(),
                year: *year,
                interest: i.gross,
                at: i.at,
            })
        })
        .collect();
    Some(Statement {
        holder: holder.clone(),
        kind: history.kind,
        registrations: history.registrations.clone(),
        holdings,
        current: cap_table.holdings_of(holder, AsOf::Latest),
        ballots,
        dividends,
        interest,
    })
}
