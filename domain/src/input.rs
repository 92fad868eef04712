//! What a command may carry: every amount and quantity within a bound no
//! wind farm reaches, and free text without characters that hide or
//! reorder what it says.
//!
//! `check_input` (on each aggregate's command) is called where a command
//! enters windledger: the API and the pages (`LedgerRuntime::execute`), the
//! operator's CSV file and the import of command files. A command that
//! breaks a bound is refused there as invalid (422 on the API), before any
//! aggregate decides it, so it is never recorded.
//!
//! Why not in the aggregates' `handle`: the audit (`windledger verify`, and
//! the server's check of every event before it serves it) decides every
//! recorded event again through `handle`. An event recorded before these
//! bounds existed must still verify and be served, or the ledger would be
//! marked broken for good (events are never deleted) and no correction
//! could be recorded. The read side copes with whatever was recorded
//! (checked arithmetic, a problem instead of a figure that does not fit).
//!
//! The bounds, and why they leave room:
//! - An amount of money a command gives (a price, a nominal value, the
//!   capital, a cost, a tax, a result, a reserve, a dividend, an advance):
//!   at most 10^12 € in absolute value. The largest wind farms cost about
//!   10^10 €.
//! - Energy in one report (a turbine's month, a revenue line's volume): at
//!   most 10^7 MWh. A 15 MW turbine makes about 11,000 MWh in a month, a
//!   1 GW farm 744,000.
//! - A price per MWh: at most 10^5 € in absolute value. The European
//!   day-ahead market is capped at 4,000 €/MWh, the intraday at 9,999. So a
//!   revenue line is at most 10^12 €.
//! - An IFER rate: at most 10,000 € per kW (it is about 8 €).
//! - A number of shares (a movement, a class's authorised shares): at most
//!   10^12. Shares outstanding never exceed the authorised shares, so the
//!   capital is at most 10^24 € per class.
//! - Votes per share: at most 100 (double voting rights give 2), so a
//!   class's votes stay below 2^53, the largest integer an event carries
//!   exactly. A rated power: at most 100,000 kW (the largest turbines are
//!   about 26 MW).
//! - A fraction of the charter (quorum, majority, weight, cap, dividend
//!   rights): numerator and denominator at most 1,000,000 (1/3, 2/3, 6/5).
//! - A year, and the year of a date or an instant: 1000 to 9999.
//! - Per cent (availability, withholding, interest): 0 to 100, which the
//!   aggregates already check.
//!
//! With these, any sum the read side makes over a farm's whole ledger fits
//! with room to spare: a million revenue lines at the bound add up to
//! 10^18 €, ten orders of magnitude below what an exact decimal holds
//! (7.9 x 10^28). The arithmetic is checked anyway.
//!
//! Free text (names, resolution texts) may not contain control characters
//! (C0 but tab and line feed, DEL, C1; a name is one line, so no tab or
//! line feed either; carriage return is refused too: lines end with `\n`,
//! and a lone `\r` moves a terminal's cursor back over the text), nor the
//! bidirectional embeddings, overrides and isolates (U+202A to U+202E,
//! U+2066 to U+2069) that make text display in another order than it reads
//! ("Trojan Source", CVE-2021-42574), nor the invisible direction marks
//! U+200E, U+200F and U+061C: they too reorder the digits and punctuation
//! around them, and a French resolution never needs them. A member votes on
//! the text as stored; it must read as it displays.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::budgeting::fund::FundCommand;
use crate::budgeting::round::RoundCommand;
use crate::charter::{Charter, FeedRule, Majority, OwnershipCap};
use crate::company::{CancellationSource, CompanyCommand, Incorporation, PlaceNames};
use crate::finance::{AdvanceCommand, Balances, Beneficiary, DividendAmount, FinancialYearCommand};
use crate::meeting::{MAX_CONVOCATIONS_PER_EVENT, MAX_RESOLUTION_TEXT, MeetingCommand};
use crate::ratio::Ratio;
use crate::resolution::ResolutionPurpose;
use crate::types::{ParseError, ShareCount};

/// Most euros in one amount of a command (absolute value): 10^12.
pub const MAX_EUROS: i64 = 1_000_000_000_000;
/// Most MWh in one report: 10^7.
pub const MAX_MWH: i64 = 10_000_000;
/// Most euros per MWh (absolute value): 10^5.
pub const MAX_PRICE_PER_MWH: i64 = 100_000;
/// Most euros of IFER per kW.
pub const MAX_IFER_RATE_PER_KW: i64 = 10_000;
/// Most shares in one movement or one class's authorised shares: 10^12.
pub const MAX_SHARES: u64 = 1_000_000_000_000;
/// Most votes one share carries.
pub const MAX_VOTES_PER_SHARE: u32 = 100;
/// Most kW of one turbine.
pub const MAX_RATED_POWER_KW: u32 = 100_000;
/// An investment club's members: at most 100,000 (a CIGALES has 5 to 20).
pub const MAX_CLUB_MEMBERS: u32 = 100_000;
/// Largest numerator or denominator of a charter's fraction.
pub const MAX_FRACTION_TERM: u64 = 1_000_000;
/// Most characters of a name (a college's, a share class's).
pub const MAX_NAME: usize = 200;
/// The years a command may name.
pub const YEARS: std::ops::RangeInclusive<i32> = 1000..=9999;

/// Whether `c` is refused in free text: a control character but tab and
/// line feed, or a bidirectional formatting character.
pub fn refused_in_text(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || bidi_formatting(c)
}

fn bidi_formatting(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Free text of several lines (a resolution's text).
pub fn text(what: &str, value: &str) -> Result<(), ParseError> {
    first_refused(what, value, refused_in_text)
}

/// Text of one line (a name): no line feed or tab either.
pub fn line(what: &str, value: &str) -> Result<(), ParseError> {
    first_refused(what, value, |c| c.is_control() || bidi_formatting(c))
}

fn first_refused(
    what: &str,
    value: &str,
    refused: impl Fn(char) -> bool,
) -> Result<(), ParseError> {
    match value.chars().enumerate().find(|(_, c)| refused(*c)) {
        None => Ok(()),
        Some((i, c)) => Err(ParseError::ControlCharacter {
            what: what.to_owned(),
            character: format!("U+{:04X}", u32::from(c)),
            index: i + 1,
        }),
    }
}

fn out_of_bounds(what: &str, value: impl ToString, bound: &'static str) -> ParseError {
    ParseError::OutOfBounds {
        what: what.to_owned(),
        value: value.to_string(),
        bound,
    }
}

fn at_most(what: &str, value: Decimal, max: i64, bound: &'static str) -> Result<(), ParseError> {
    if value.abs() > Decimal::from(max) {
        Err(out_of_bounds(what, value, bound))
    } else {
        Ok(())
    }
}

/// An amount in euros, signed or not.
pub fn euros(what: &str, amount: impl Into<Decimal>) -> Result<(), ParseError> {
    at_most(
        what,
        amount.into(),
        MAX_EUROS,
        "an amount is at most 1000000000000 € (10^12)",
    )
}

/// MWh of one report.
pub fn mwh(what: &str, value: Decimal) -> Result<(), ParseError> {
    at_most(
        what,
        value,
        MAX_MWH,
        "one report is at most 10000000 MWh (10^7: a 15 MW turbine makes about 11000 MWh a month)",
    )
}

/// Euros per MWh.
pub fn price_per_mwh(what: &str, value: Decimal) -> Result<(), ParseError> {
    at_most(
        what,
        value,
        MAX_PRICE_PER_MWH,
        "a price is at most 100000 € per MWh in absolute value (the markets cap it at 4000 and 9999)",
    )
}

pub fn shares(what: &str, count: ShareCount) -> Result<(), ParseError> {
    if count.get() > MAX_SHARES {
        Err(out_of_bounds(
            what,
            count,
            "a number of shares is at most 1000000000000 (10^12)",
        ))
    } else {
        Ok(())
    }
}

pub fn fraction(what: &str, r: Ratio) -> Result<(), ParseError> {
    if r.numerator() > MAX_FRACTION_TERM || r.denominator() > MAX_FRACTION_TERM {
        Err(out_of_bounds(
            what,
            r,
            "a fraction's terms are at most 1000000 (in lowest terms)",
        ))
    } else {
        Ok(())
    }
}

pub fn year(what: &str, year: i32) -> Result<(), ParseError> {
    if YEARS.contains(&year) {
        Ok(())
    } else {
        Err(out_of_bounds(what, year, "a year is between 1000 and 9999"))
    }
}

pub fn date(what: &str, date: NaiveDate) -> Result<(), ParseError> {
    if YEARS.contains(&date.year()) {
        Ok(())
    } else {
        Err(out_of_bounds(
            what,
            date,
            "a date is between 1000-01-01 and 9999-12-31",
        ))
    }
}

pub fn instant(what: &str, at: DateTime<Utc>) -> Result<(), ParseError> {
    date(what, at.date_naive())
}

/// A name: one line of at most [`MAX_NAME`] characters.
fn name(what: &str, value: &str) -> Result<(), ParseError> {
    line(what, value)?;
    if value.chars().count() > MAX_NAME {
        return Err(out_of_bounds(
            what,
            format!("{} characters long", value.chars().count()),
            "a name is at most 200 characters",
        ));
    }
    Ok(())
}

fn optional_date(what: &str, d: Option<NaiveDate>) -> Result<(), ParseError> {
    d.map_or(Ok(()), |d| date(what, d))
}

fn optional_euros(what: &str, amount: Option<crate::money::Euros>) -> Result<(), ParseError> {
    amount.map_or(Ok(()), |a| euros(what, a))
}

fn incorporation(company: &Incorporation) -> Result<(), ParseError> {
    line("company.legal_name", company.legal_name.as_str())?;
    date("company.formation_date", company.formation_date)?;
    euros("company.share_capital", company.share_capital)?;
    for (i, t) in company.turbines.iter().enumerate() {
        rated_power(&format!("company.turbines[{i}].rated_power"), t.rated_power)?;
        date(
            &format!("company.turbines[{i}].commissioned_on"),
            t.commissioned_on,
        )?;
        optional_date(
            &format!("company.turbines[{i}].decommissioned_on"),
            t.decommissioned_on,
        )?;
    }
    Ok(())
}

fn rated_power(what: &str, power: crate::types::Kilowatts) -> Result<(), ParseError> {
    if power.get() > MAX_RATED_POWER_KW {
        return Err(out_of_bounds(
            what,
            power.get(),
            "a turbine's rated power is at most 100000 kW",
        ));
    }
    Ok(())
}

fn charter(charter: &Charter) -> Result<(), ParseError> {
    for (i, c) in charter.colleges.iter().enumerate() {
        name(&format!("charter.colleges[{i}].name"), &c.name)?;
        if let Some(w) = c.weight {
            fraction(&format!("charter.colleges[{i}].weight"), w)?;
        }
    }
    for (i, c) in charter.share_classes.iter().enumerate() {
        let field = |f: &str| format!("charter.share_classes[{i}].{f}");
        name(&field("name"), &c.name)?;
        euros(&field("nominal_value"), c.nominal_value)?;
        if c.votes_per_share > MAX_VOTES_PER_SHARE {
            return Err(out_of_bounds(
                &field("votes_per_share"),
                c.votes_per_share,
                "a share carries at most 100 votes",
            ));
        }
        fraction(&field("dividend_rights"), c.dividend_rights)?;
        shares(&field("authorised"), c.authorised)?;
    }
    for (i, k) in charter.decision_kinds.iter().enumerate() {
        let field = |f: &str| format!("charter.decision_kinds[{i}].{f}");
        fraction(&field("quorum_first_call"), k.quorum_first_call)?;
        fraction(&field("quorum_second_call"), k.quorum_second_call)?;
        let (Majority::MoreThan(m) | Majority::AtLeast(m)) = k.majority;
        fraction(&field("majority"), m)?;
    }
    optional_date(
        "charter.transfers.locked_until",
        charter.transfers.locked_until,
    )?;
    for (i, cap) in charter.transfers.caps.iter().enumerate() {
        let (OwnershipCap::CollegesAtMost { limit, .. }
        | OwnershipCap::CollegesAtLeast { limit, .. }
        | OwnershipCap::HolderAtMost { limit, .. }) = cap;
        fraction(&format!("charter.transfers.caps[{i}].limit"), *limit)?;
    }
    if charter.witnesses.witnesses.len() > MAX_WITNESSES {
        return Err(out_of_bounds(
            "charter.witnesses.witnesses",
            charter.witnesses.witnesses.len(),
            "a charter names at most 20 witnesses",
        ));
    }
    for (i, w) in charter.witnesses.witnesses.iter().enumerate() {
        let field = |f: &str| format!("charter.witnesses.witnesses[{i}].{f}");
        name(&field("party"), &w.party)?;
        name(&field("key"), &w.key)?;
        name(&field("url"), &w.url)?;
    }
    if let Some(feed) = &charter.territory_fund {
        year("charter.territory_fund.from_year", feed.from_year)?;
        match feed.rule {
            FeedRule::ShareOfRevenue { share } | FeedRule::ShareOfDividends { share } => {
                fraction("charter.territory_fund.rule.share", share)?
            }
            FeedRule::PerMwh { amount } => euros("charter.territory_fund.rule.amount", amount)?,
        }
    }
    Ok(())
}

/// The most witnesses a charter names.
pub const MAX_WITNESSES: usize = 20;

/// Each place's name: a name (one line, at most [`MAX_NAME`] characters)
/// that says something.
fn place_names(places: &PlaceNames) -> Result<(), ParseError> {
    let communes = places
        .communes
        .iter()
        .map(|(c, n)| (format!("places.communes.{c}"), n));
    let epcis = places
        .epcis
        .iter()
        .map(|(s, n)| (format!("places.epcis.{s}"), n));
    let departements = places
        .departements
        .iter()
        .map(|(d, n)| (format!("places.departements.{d:?}"), n));
    for (what, value) in communes.chain(epcis).chain(departements) {
        name(&what, value)?;
        if value.trim().is_empty() {
            return Err(out_of_bounds(
                &what,
                format!("{value:?}"),
                "a place's name is not blank",
            ));
        }
    }
    Ok(())
}

impl CompanyCommand {
    /// The bounds of [`crate::input`] on everything the command carries.
    pub fn check_input(&self) -> Result<(), ParseError> {
        if !matches!(self, Self::Incorporate { .. }) {
            date("effective_date", self.effective_date())?;
        }
        match self {
            Self::Incorporate {
                company,
                charter: c,
            } => {
                incorporation(company)?;
                charter(c)
            }
            Self::AmendCharter { charter: c, .. } => charter(c),
            Self::AdmitShareholder {
                members: Some(members),
                ..
            }
            | Self::ChangeClubMembers { members, .. }
                if *members > MAX_CLUB_MEMBERS =>
            {
                Err(out_of_bounds("members", members, "at most 100000"))
            }
            Self::AdmitShareholder { .. }
            | Self::ChangeClubMembers { .. }
            | Self::ChangeCollege { .. }
            | Self::ChangeResidence { .. }
            | Self::RecordExit { .. }
            | Self::RecordIdentity { .. }
            | Self::EraseIdentity { .. }
            | Self::CommissionTurbine { .. }
            | Self::DecommissionTurbine { .. } => Ok(()),
            Self::AddTurbine { rated_power: p, .. }
            | Self::RepowerTurbine { rated_power: p, .. } => rated_power("rated_power", *p),
            Self::NamePlaces { places, .. } => place_names(places),
            Self::IssueShares { subscriptions, .. } => {
                for (i, s) in subscriptions.iter().enumerate() {
                    shares(&format!("subscriptions[{i}].count"), s.count)?;
                    euros(
                        &format!("subscriptions[{i}].price_per_share"),
                        s.price_per_share,
                    )?;
                }
                Ok(())
            }
            Self::TransferShares {
                count,
                price_per_share,
                ..
            } => {
                shares("count", *count)?;
                optional_euros("price_per_share", *price_per_share)
            }
            Self::RepurchaseShares {
                count,
                price_per_share,
                ..
            } => {
                shares("count", *count)?;
                euros("price_per_share", *price_per_share)
            }
            Self::CancelShares { source, count, .. } => {
                shares("count", *count)?;
                match source {
                    CancellationSource::Treasury => Ok(()),
                    CancellationSource::Holder {
                        reimbursement_per_share,
                        ..
                    } => optional_euros("source.reimbursement_per_share", *reimbursement_per_share),
                }
            }
        }
    }
}

impl MeetingCommand {
    /// The bounds of [`crate::input`] on everything the command carries.
    pub fn check_input(&self) -> Result<(), ParseError> {
        match self {
            Self::Convene {
                record_date,
                opens_at,
                closes_at,
                agenda,
                convened_on,
                ..
            } => {
                date("record_date", *record_date)?;
                instant("opens_at", *opens_at)?;
                instant("closes_at", *closes_at)?;
                date("convened_on", *convened_on)?;
                for (i, item) in agenda.iter().enumerate() {
                    text(&format!("agenda[{i}].text"), &item.text)?;
                    if item.text.chars().count() > MAX_RESOLUTION_TEXT {
                        return Err(out_of_bounds(
                            &format!("agenda[{i}].text"),
                            format!("{} characters long", item.text.chars().count()),
                            "a resolution's text is at most 20000 characters",
                        ));
                    }
                    match &item.purpose {
                        ResolutionPurpose::AccountsApproval { year: y }
                        | ResolutionPurpose::ResultAppropriation { year: y } => {
                            year(&format!("agenda[{i}].purpose.year"), *y)?;
                        }
                        _ => {}
                    }
                    if let Some(terms) = item.purpose.terms() {
                        let at = |field: &str| format!("agenda[{i}].purpose.terms.{field}");
                        if let Some(count) = terms.count {
                            shares(&at("count"), count)?;
                        }
                        if let Some(price) = terms.price_per_share {
                            euros(&at("price_per_share"), price.amount())?;
                        }
                        if let Some(deadline) = terms.deadline {
                            date(&at("deadline"), deadline)?;
                        }
                    }
                }
                Ok(())
            }
            Self::OpenVoting { at }
            | Self::GrantProxy { at, .. }
            | Self::RevokeProxy { at, .. }
            | Self::CastBallot { at, .. }
            | Self::Close { at } => instant("at", *at),
            Self::ConstituteBureau {
                scrutineers, at, ..
            } => {
                if scrutineers.len() > 2 {
                    return Err(out_of_bounds(
                        "scrutineers",
                        format!("{} ids", scrutineers.len()),
                        "a bureau has at most 2 scrutineers",
                    ));
                }
                instant("at", *at)
            }
            Self::RecordPostalBallot { received_at, .. }
            | Self::RecordPaperProxy { received_at, .. } => instant("received_at", *received_at),
            Self::RecordConvocations {
                sent_on,
                convocations,
                ..
            } => {
                date("sent_on", *sent_on)?;
                if convocations.len() > MAX_CONVOCATIONS_PER_EVENT {
                    return Err(out_of_bounds(
                        "convocations",
                        format!("{} holders", convocations.len()),
                        "one record holds at most 1000 convocations",
                    ));
                }
                Ok(())
            }
            Self::RecordMinutes {
                debates,
                documents_presented,
                at,
            } => {
                text("debates", debates)?;
                for (i, d) in documents_presented.iter().enumerate() {
                    line(&format!("documents_presented[{i}]"), d)?;
                }
                instant("at", *at)
            }
            Self::SignMinutes { at, .. } => instant("at", *at),
        }
    }
}

fn balances(b: &Balances) -> Result<(), ParseError> {
    euros("opening_balances.legal_reserve", b.legal_reserve)?;
    euros("opening_balances.statutory_reserves", b.statutory_reserves)?;
    euros(
        "opening_balances.retained_earnings",
        b.retained_earnings.amount(),
    )
}

fn beneficiary(b: &Beneficiary) -> Result<(), ParseError> {
    match b {
        Beneficiary::Departement { code } => {
            let c = code.as_bytes();
            let valid = match c {
                [b'2', b'A' | b'B'] => true,
                [x, y] => x.is_ascii_digit() && y.is_ascii_digit(),
                [b'9', b'7', z] => z.is_ascii_digit(),
                _ => false,
            };
            if valid {
                Ok(())
            } else {
                Err(out_of_bounds(
                    "beneficiary.code",
                    format!("{code:?}"),
                    "a département's code is 2 digits, 2A, 2B or 97 and a digit",
                ))
            }
        }
        Beneficiary::Commune { .. }
        | Beneficiary::Epci { .. }
        | Beneficiary::Landowner { .. }
        | Beneficiary::CommunityFund => Ok(()),
    }
}

impl FinancialYearCommand {
    /// The bounds of [`crate::input`] on everything the command carries.
    pub fn check_input(&self) -> Result<(), ParseError> {
        match self {
            Self::OpenYear {
                year: y,
                starts_on,
                ends_on,
                opening_balances,
            } => {
                year("year", *y)?;
                date("starts_on", *starts_on)?;
                date("ends_on", *ends_on)?;
                opening_balances.as_ref().map_or(Ok(()), balances)
            }
            Self::ReportProduction { mwh: m, .. } => mwh("mwh", *m),
            Self::RecordRevenue {
                volume_mwh,
                price_per_mwh: p,
                ..
            } => {
                mwh("volume_mwh", *volume_mwh)?;
                price_per_mwh("price_per_mwh", *p)
            }
            Self::RecordCost {
                amount,
                beneficiary: b,
                ..
            } => {
                euros("amount", *amount)?;
                b.as_ref().map_or(Ok(()), beneficiary)
            }
            Self::AssessIfer {
                tax_year,
                rate_per_kw,
                ..
            } => {
                year("tax_year", *tax_year)?;
                at_most(
                    "rate_per_kw",
                    rate_per_kw.amount(),
                    MAX_IFER_RATE_PER_KW,
                    "an IFER rate is at most 10000 € per kW (it is about 8)",
                )
            }
            Self::RecordLocalTax {
                beneficiary: b,
                amount,
                ..
            } => {
                beneficiary(b)?;
                euros("amount", *amount)
            }
            Self::ApproveAccounts { net_result, .. } => euros("net_result", *net_result),
            Self::AppropriateResult {
                statutory_reserves,
                dividend,
                ..
            } => {
                euros("statutory_reserves", *statutory_reserves)?;
                euros("dividend", *dividend)
            }
            Self::DeclareDividend {
                amount,
                record_date,
                payment_date,
                ..
            } => {
                let (DividendAmount::Total { amount } | DividendAmount::PerShare { amount }) =
                    amount;
                euros("amount.amount", *amount)?;
                date("record_date", *record_date)?;
                date("payment_date", *payment_date)
            }
            Self::RecordDividendPayment { paid_on, .. } => date("paid_on", *paid_on),
            Self::DecideWithholding {
                income_tax,
                social_contributions,
                ..
            } => {
                euros("income_tax", *income_tax)?;
                euros("social_contributions", *social_contributions)
            }
        }
    }
}

impl AdvanceCommand {
    /// The bounds of [`crate::input`] on everything the command carries.
    pub fn check_input(&self) -> Result<(), ParseError> {
        match self {
            Self::Grant {
                amount, granted_on, ..
            } => {
                euros("amount", *amount)?;
                date("granted_on", *granted_on)
            }
            Self::Repay { amount, repaid_on } => {
                euros("amount", *amount)?;
                date("repaid_on", *repaid_on)
            }
            Self::AccrueInterest {
                year: y,
                accrued_on,
                ..
            } => {
                year("year", *y)?;
                date("accrued_on", *accrued_on)
            }
            Self::DecideWithholding {
                year: y,
                income_tax,
                social_contributions,
            } => {
                year("year", *y)?;
                euros("income_tax", *income_tax)?;
                euros("social_contributions", *social_contributions)
            }
            Self::PayInterest { year: y, paid_on } => {
                year("year", *y)?;
                date("paid_on", *paid_on)
            }
        }
    }
}

impl RoundCommand {
    /// The bounds of [`crate::input`] on everything the command carries.
    pub fn check_input(&self) -> Result<(), ParseError> {
        match self {
            Self::Convene {
                budget,
                submissions_open,
                submissions_close,
                voting_open,
                voting_close,
                ..
            } => {
                euros("budget", *budget)?;
                instant("submissions_open", *submissions_open)?;
                instant("submissions_close", *submissions_close)?;
                instant("voting_open", *voting_open)?;
                instant("voting_close", *voting_close)
            }
            Self::Submit {
                title,
                description,
                cost,
                ..
            } => {
                line("title", title)?;
                text("description", description)?;
                euros("cost", *cost)
            }
            Self::Review {
                reason: Some(reason),
                ..
            } => text("reason", reason),
            Self::Review { reason: None, .. } | Self::Vote { .. } | Self::Tally { .. } => Ok(()),
        }
    }
}

impl FundCommand {
    /// The bounds of [`crate::input`] on everything the command carries.
    pub fn check_input(&self) -> Result<(), ParseError> {
        match self {
            Self::Feed { year: y } => year("year", *y),
            Self::ReceiveGrant {
                amount,
                received_on,
                ..
            } => {
                euros("amount", *amount)?;
                date("received_on", *received_on)
            }
            Self::Pay {
                amount, paid_on, ..
            } => {
                euros("amount", *amount)?;
                date("paid_on", *paid_on)
            }
            Self::RegisterResident { .. }
            | Self::MoveResident { .. }
            | Self::RemoveResident { .. }
            | Self::RecordResidentIdentity { .. }
            | Self::Commit { .. } => Ok(()),
        }
    }
}
