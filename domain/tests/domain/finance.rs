//! Given/when/then tests of the `financial-year` stream and of the
//! `current-account-advance` streams: every command, every refusal.
//!
//! The fixture farm of `common`: turbines T01 (commune 42026) and T02
//! (42282), 3,000 kW each, commissioned on 2019-11-15; ordinary shares
//! (dividend rights 1, nominal 100) and preference shares (rights 6/5,
//! nominal 50). The cap table below holds a company, a local authority and
//! two individuals:
//!
//! | holder | kind            | ordinaires | preference | weight (ordinary equivalents) |
//! |--------|-----------------|-----------:|-----------:|------------------------------:|
//! | h-c1   | Individual      |        100 |         50 | 100 + 50 x 6/5 = 160          |
//! | h-c2   | Individual      |        100 |          0 | 100                           |
//! | h-com  | LocalAuthority  |        500 |          0 | 500                           |
//! | h-ind  | Company         |      1,000 |          0 | 1,000                         |
//!
//! 1,760 ordinary equivalents in all; share capital 1,700 x 100 + 50 x 50 =
//! 172,500.00, so the legal reserve stops at 17,250.00.

use std::collections::BTreeMap;
use windledger_domain::resolution::Unbacked;

use crate::common::*;
use chrono::NaiveDate;
use cqrs_es::Aggregate;
use cqrs_es::test::TestFramework;
use rust_decimal::Decimal;
use windledger_domain::cap_table::{
    CapTableService, CapTableSnapshot, HolderPosition, KnownCapTables,
};
use windledger_domain::charter::Charter;
use windledger_domain::company::{HolderKind, Turbine};
use windledger_domain::finance::{
    AdvanceCommand, AdvanceError, AdvanceEvent, AdvanceServices, Allocation, Balances, Beneficiary,
    ClosingBalances, CostCategory, CurrentAccountAdvance, DividendAmount, DividendRights,
    FinancialYear, FinancialYearCommand, FinancialYearError, FinancialYearEvent,
    FinancialYearServices, IferLine, IferSplit, InterestPeriod, InterestWithholding, KnownClosings,
    LocalTax, RevenueKind, WithholdingRates, WithholdingStatus, YearMonth,
};
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_domain::resolution::{
    AdoptedResolution, BoxFuture, KnownResolutions, LookupError, ResolutionPurpose,
};
use windledger_domain::types::{AdvanceId, Kilowatts, PartyId, Siren, TurbineId};

type Command = FinancialYearCommand;
type Event = FinancialYearEvent;
type Error = FinancialYearError;

// --- Fixture -------------------------------------------------------------

/// An EPCI of the Loire (a valid SIREN).
const EPCI: &str = "244200770";

fn turbine(id: &str) -> TurbineId {
    TurbineId::new(id).expect("a valid turbine id")
}

fn month(year: i32, m: u32) -> YearMonth {
    YearMonth::new(year, m).expect("a valid month")
}

fn epci() -> Siren {
    Siren::new(EPCI).expect("a valid SIREN")
}

fn kw(power: u32) -> Kilowatts {
    Kilowatts::new(power).expect("a non-zero power")
}

/// The day `y`-`m`-`d`, in a constant.
const fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

const STARTS_ON: NaiveDate = date(2020, 1, 1);
const ENDS_ON: NaiveDate = date(2020, 12, 31);
/// The annual general meeting that approved the 2020 accounts.
const DECIDED_ON: NaiveDate = date(2021, 6, 15);
const RECORD_DATE: NaiveDate = date(2021, 6, 30);
const PAYMENT_DATE: NaiveDate = date(2021, 7, 15);

fn positions() -> Vec<HolderPosition> {
    vec![
        holder_position("h-c1", HolderKind::Individual, CIT, LOCAL_A, 100, 50),
        holder_position("h-c2", HolderKind::Individual, CIT, LOCAL_B, 100, 0),
        holder_position("h-com", HolderKind::LocalAuthority, COLL, LOCAL_A, 500, 0),
        holder_position("h-ind", HolderKind::Company, IND, ELSEWHERE, 1_000, 0),
    ]
}

fn turbines() -> Vec<Turbine> {
    incorporation().turbines
}

/// The cap table from 2019 on.
fn snapshot() -> CapTableSnapshot {
    CapTableSnapshot {
        as_of: day(2019, 1, 1),
        charter: charter(),
        share_capital: eur("172500"),
        turbines: turbines(),
        holders: positions(),
    }
}

/// A cap table from `as_of` on (after the decision of 2021-06-15 when
/// dated 2021-06-20: then it is the dividend's roll only).
fn snapshot_from(as_of: NaiveDate, holders: Vec<HolderPosition>) -> CapTableSnapshot {
    CapTableSnapshot {
        as_of,
        holders,
        ..snapshot()
    }
}

/// The resolutions the fake meeting stream knows.
fn year_resolutions() -> Vec<AdoptedResolution> {
    use ResolutionPurpose::{AccountsApproval, ResultAppropriation};
    vec![
        adopted_resolution(
            "r-accounts-2020",
            "ordinary",
            AccountsApproval { year: 2020 },
            DECIDED_ON,
        ),
        adopted_resolution(
            "r-approp-2020",
            "ordinary",
            ResultAppropriation { year: 2020 },
            DECIDED_ON,
        ),
        adopted_resolution(
            "r-accounts-2020-extra",
            "extraordinary",
            AccountsApproval { year: 2020 },
            DECIDED_ON,
        ),
        // On the last day of the year: too early.
        adopted_resolution(
            "r-accounts-2020-early",
            "ordinary",
            AccountsApproval { year: 2020 },
            ENDS_ON,
        ),
        adopted_resolution(
            "r-accounts-2019",
            "ordinary",
            AccountsApproval { year: 2019 },
            day(2020, 6, 15),
        ),
        adopted_resolution(
            "r-accounts-2021",
            "ordinary",
            AccountsApproval { year: 2021 },
            day(2022, 6, 15),
        ),
        adopted_resolution(
            "r-approp-2021",
            "ordinary",
            ResultAppropriation { year: 2021 },
            day(2022, 6, 15),
        ),
    ]
}

fn adopted(id: &str) -> AdoptedResolution {
    year_resolutions()
        .into_iter()
        .find(|r| r.id.as_str() == id)
        .expect("a resolution of the fixture")
}

/// The balances after the appropriation of 2020 (the profit case below).
fn closing_2020() -> Balances {
    Balances {
        legal_reserve: eur("15000"),
        statutory_reserves: eur("10000"),
        retained_earnings: signed("72400"),
    }
}

fn closings() -> KnownClosings {
    KnownClosings(BTreeMap::from([(2020, closing_2020())]))
}

fn year_services_with(
    cap_tables: impl CapTableService + 'static,
    closings: impl ClosingBalances + 'static,
) -> FinancialYearServices {
    FinancialYearServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        KnownResolutions::new(year_resolutions()),
        cap_tables,
        closings,
    )
}

fn financial_year() -> TestFramework<FinancialYear> {
    TestFramework::with(year_services_with(
        KnownCapTables::new([snapshot()]),
        closings(),
    ))
}

fn financial_year_with(snapshots: Vec<CapTableSnapshot>) -> TestFramework<FinancialYear> {
    TestFramework::with(year_services_with(
        KnownCapTables::new(snapshots),
        closings(),
    ))
}

/// The year, its company answering with the turbines the year recorded
/// when it opened (as the company stream would, unchanged since).
fn financial_year_given(given: &[Event]) -> TestFramework<FinancialYear> {
    let opened = given.iter().find_map(|e| match e {
        Event::YearOpened { turbines, .. } => Some(turbines.clone()),
        _ => None,
    });
    match opened {
        Some(turbines) => financial_year_with(vec![CapTableSnapshot {
            turbines,
            ..snapshot()
        }]),
        None => financial_year(),
    }
}

fn refused(given: Vec<Event>, command: Command, error: Error) {
    financial_year_given(&given)
        .given(given)
        .when(command)
        .then_expect_error(error);
}

fn accepted(given: Vec<Event>, command: Command, expected: Event) {
    financial_year_given(&given)
        .given(given)
        .when(command)
        .then_expect_events(vec![expected]);
}

/// `command` refused because `services` could not look up what it needs
/// (so that it can be retried).
fn lookup_failed(
    services: FinancialYearServices,
    given: Vec<Event>,
    command: Command,
    message: &str,
) {
    TestFramework::<FinancialYear>::with(services)
        .given(given)
        .when(command)
        .then_expect_error(Error::Lookup(LookupError(message.to_owned())));
}

fn company_unreachable() -> FinancialYearServices {
    year_services_with(UnreachableCompany, closings())
}

/// Refused: `resolution` was adopted for `found`, not for `expected`.
fn purpose_mismatch(
    resolution: &str,
    expected: ResolutionPurpose,
    found: ResolutionPurpose,
) -> Error {
    Error::Unbacked(Unbacked::PurposeMismatch {
        resolution: res(resolution),
        expected: Box::new(expected),
        found: Box::new(found),
    })
}

/// Refused: the resolution approving the accounts of 2020 was named to
/// appropriate its result.
fn accounts_not_appropriating() -> Error {
    purpose_mismatch(
        "r-accounts-2020",
        ResolutionPurpose::ResultAppropriation { year: 2020 },
        ResolutionPurpose::AccountsApproval { year: 2020 },
    )
}

/// The year after folding `events`.
fn replay(events: impl IntoIterator<Item = Event>) -> FinancialYear {
    folded(events)
}

/// Earlier years that cannot be read.
struct UnreachableClosings;

impl ClosingBalances for UnreachableClosings {
    fn closing_balances<'a>(
        &'a self,
        _year: i32,
    ) -> BoxFuture<'a, Result<Option<Balances>, LookupError>> {
        Box::pin(async { Err(LookupError("the earlier years are unreachable".to_owned())) })
    }
}

// --- Events and commands of the fixture ------------------------------------

/// The first year kept in windledger: 10,000.00 of legal reserve and
/// 5,000.00 carried forward.
fn opening() -> Balances {
    Balances {
        legal_reserve: eur("10000"),
        statutory_reserves: Euros::ZERO,
        retained_earnings: signed("5000"),
    }
}

fn zero_balances() -> Balances {
    Balances::default()
}

fn open(year: i32, starts: NaiveDate, ends: NaiveDate, balances: Option<Balances>) -> Command {
    Command::OpenYear {
        year,
        starts_on: starts,
        ends_on: ends,
        opening_balances: balances,
    }
}

fn year_opened(
    year: i32,
    starts: NaiveDate,
    ends: NaiveDate,
    turbines: Vec<Turbine>,
    balances: Option<Balances>,
) -> Event {
    Event::YearOpened {
        year,
        starts_on: starts,
        ends_on: ends,
        turbines,
        opening_balances: balances,
    }
}

/// 2020 opened with its opening balances.
fn opened() -> Vec<Event> {
    opened_with(opening())
}

fn opened_with(balances: Balances) -> Vec<Event> {
    opened_in(2020, [STARTS_ON, ENDS_ON], Some(balances))
}

/// The year `year` opened from `starts` to `ends`, with the farm's turbines.
fn opened_in(year: i32, [starts, ends]: [NaiveDate; 2], balances: Option<Balances>) -> Vec<Event> {
    vec![year_opened(year, starts, ends, turbines(), balances)]
}

/// 2019, the year the turbines were commissioned.
fn opened_2019() -> Vec<Event> {
    opened_in(
        2019,
        [day(2019, 1, 1), day(2019, 12, 31)],
        Some(zero_balances()),
    )
}

/// An exercice of 18 months, 2019-07-01 .. 2020-12-31.
fn opened_long() -> Vec<Event> {
    opened_in(2020, [day(2019, 7, 1), ENDS_ON], Some(zero_balances()))
}

/// 2021, opened after 2020 was closed: no opening balances.
fn opened_2021() -> Vec<Event> {
    opened_in(2021, [day(2021, 1, 1), day(2021, 12, 31)], None)
}

fn produce(
    id: &str,
    turbine_id: &str,
    m: YearMonth,
    mwh: &str,
    availability: &str,
    corrects: Option<&str>,
) -> Command {
    Command::ReportProduction {
        report: report(id),
        turbine: turbine(turbine_id),
        month: m,
        mwh: dec(mwh),
        availability: dec(availability),
        corrects: corrects.map(report),
    }
}

fn produced(
    id: &str,
    turbine_id: &str,
    m: YearMonth,
    mwh: &str,
    availability: &str,
    corrects: Option<&str>,
) -> Event {
    Event::ProductionReported {
        report: report(id),
        turbine: turbine(turbine_id),
        month: m,
        mwh: dec(mwh),
        availability: dec(availability),
        corrects: corrects.map(report),
    }
}

/// Production accepted and reported as it was given.
fn production_accepted(
    given: Vec<Event>,
    id: &str,
    turbine_id: &str,
    m: YearMonth,
    [mwh, availability]: [&str; 2],
    corrects: Option<&str>,
) {
    accepted(
        given,
        produce(id, turbine_id, m, mwh, availability, corrects),
        produced(id, turbine_id, m, mwh, availability, corrects),
    );
}

/// T01 in March 2020, report `p-1`.
fn march() -> Event {
    produced("p-1", "T01", month(2020, 3), "612.345", "97.5", None)
}

/// `p-2`, correcting `march()`.
fn march_corrected() -> Event {
    produced("p-2", "T01", month(2020, 3), "598.1", "95", Some("p-1"))
}

fn revenue(
    id: &str,
    m: YearMonth,
    revenue_kind: RevenueKind,
    volume: &str,
    price: &str,
    corrects: Option<&str>,
) -> Command {
    Command::RecordRevenue {
        report: report(id),
        month: m,
        kind: revenue_kind,
        volume_mwh: dec(volume),
        price_per_mwh: dec(price),
        corrects: corrects.map(report),
    }
}

fn revenue_recorded(
    id: &str,
    m: YearMonth,
    revenue_kind: RevenueKind,
    volume: &str,
    price: &str,
    amount: &str,
    corrects: Option<&str>,
) -> Event {
    Event::RevenueRecorded {
        report: report(id),
        month: m,
        kind: revenue_kind,
        volume_mwh: dec(volume),
        price_per_mwh: dec(price),
        amount: signed(amount),
        corrects: corrects.map(report),
    }
}

/// Market sales of March 2020, report `rev-1`: 1,000 MWh at 50.00.
fn march_revenue() -> Event {
    revenue_recorded(
        "rev-1",
        month(2020, 3),
        RevenueKind::MarketSales,
        "1000",
        "50",
        "50000",
        None,
    )
}

/// Revenue `id` accepted: `volume` MWh at `price` recorded for `amount`.
fn revenue_accepted(
    given: Vec<Event>,
    id: &str,
    m: YearMonth,
    revenue_kind: RevenueKind,
    [volume, price, amount]: [&str; 3],
    corrects: Option<&str>,
) {
    accepted(
        given,
        revenue(id, m, revenue_kind, volume, price, corrects),
        revenue_recorded(id, m, revenue_kind, volume, price, amount, corrects),
    );
}

/// `command`, a cost or a local tax, accepted and recorded with exactly
/// the fields it was given.
fn accepted_as_given(given: Vec<Event>, command: Command) {
    let recorded = match command.clone() {
        Command::RecordCost {
            report,
            month,
            category,
            amount,
            beneficiary,
            corrects,
        } => Event::CostRecorded {
            report,
            month,
            category,
            amount,
            beneficiary,
            corrects,
        },
        Command::RecordLocalTax {
            report,
            tax,
            beneficiary,
            amount,
            corrects,
        } => Event::LocalTaxRecorded {
            report,
            tax,
            beneficiary,
            amount,
            corrects,
        },
        other => panic!("not a cost or a local tax: {other:?}"),
    };
    accepted(given, command, recorded);
}

fn cost(id: &str, m: YearMonth, amount: Euros) -> Command {
    Command::RecordCost {
        report: report(id),
        month: m,
        category: CostCategory::Maintenance,
        amount,
        beneficiary: None,
        corrects: None,
    }
}

fn assess(id: &str, tax_year: i32, rate: &str, fpu: bool, corrects: Option<&str>) -> Command {
    Command::AssessIfer {
        report: report(id),
        tax_year,
        rate_per_kw: eur(rate),
        epci: epci(),
        epci_single_business_tax: fpu,
        corrects: corrects.map(report),
    }
}

fn beneficiaries(at: &str) -> [Beneficiary; 3] {
    [
        Beneficiary::Commune {
            commune: commune(at),
        },
        Beneficiary::Epci { siren: epci() },
        Beneficiary::Departement {
            code: at[..2].to_owned(),
        },
    ]
}

fn ifer_line(
    t: &Turbine,
    amount: &str,
    split: IferSplit,
    [to_commune, to_epci, to_departement]: [&str; 3],
) -> IferLine {
    let [c, e, d] = beneficiaries(t.commune.as_str());
    IferLine {
        turbine: t.id.clone(),
        commune: t.commune.clone(),
        rated_power: t.rated_power,
        commissioned_on: t.commissioned_on,
        amount: eur(amount),
        split,
        shares: vec![
            (c, eur(to_commune)),
            (e, eur(to_epci)),
            (d, eur(to_departement)),
        ],
    }
}

fn ifer_assessed(
    id: &str,
    tax_year: i32,
    rate: &str,
    fpu: bool,
    lines: Vec<IferLine>,
    total: &str,
    corrects: Option<&str>,
) -> Event {
    Event::IferAssessed {
        report: report(id),
        tax_year,
        rate_per_kw: eur(rate),
        epci: epci(),
        epci_single_business_tax: fpu,
        lines,
        total: eur(total),
        corrects: corrects.map(report),
    }
}

/// IFER of 2020 at 8.51 EUR per kW: 3,000 kW x 8.51 = 25,530.00 a turbine,
/// 20 / 50 / 30 % = 5,106.00 / 12,765.00 / 7,659.00.
fn ifer_2020() -> Event {
    ifer_assessed(
        "ifer-2020",
        2020,
        "8.51",
        false,
        ifer_lines_2020(),
        "51060",
        None,
    )
}

/// The lines of `ifer_2020()`: T01 and T02, both split 20 / 50 / 30.
fn ifer_lines_2020() -> Vec<IferLine> {
    let shares = ["5106", "12765", "7659"];
    turbines()
        .iter()
        .map(|t| ifer_line(t, "25530", IferSplit::From2019, shares))
        .collect()
}

/// The IFER of 2020 at 8.51 EUR per kW, report `ifer-2020`, assessed on
/// `given` as `lines` for `total`.
fn ifer_2020_accepted(given: Vec<Event>, fpu: bool, lines: Vec<IferLine>, total: &str) {
    accepted(
        given,
        assess("ifer-2020", 2020, "8.51", fpu, None),
        ifer_assessed("ifer-2020", 2020, "8.51", fpu, lines, total, None),
    );
}

fn local_tax(id: &str, amount: Euros, corrects: Option<&str>) -> Command {
    Command::RecordLocalTax {
        report: report(id),
        tax: LocalTax::Cfe,
        beneficiary: Beneficiary::Commune {
            commune: commune(LOCAL_A),
        },
        amount,
        corrects: corrects.map(report),
    }
}

fn local_tax_recorded(id: &str, amount: &str, corrects: Option<&str>) -> Event {
    Event::LocalTaxRecorded {
        report: report(id),
        tax: LocalTax::Cfe,
        beneficiary: Beneficiary::Commune {
            commune: commune(LOCAL_A),
        },
        amount: eur(amount),
        corrects: corrects.map(report),
    }
}

fn approve(resolution_id: &str, net_result: &str) -> Command {
    Command::ApproveAccounts {
        resolution: res(resolution_id),
        net_result: dec(net_result),
    }
}

fn approved(resolution_id: &str, net_result: &str) -> Event {
    Event::AccountsApproved {
        resolution: adopted(resolution_id),
        net_result: signed(net_result),
    }
}

/// 2020 opened and its profit of 100,000.00 approved.
fn approved_profit() -> Vec<Event> {
    with(opened(), [approved("r-accounts-2020", "100000")])
}

fn appropriate(resolution_id: &str, statutory: &str, dividend: &str) -> Command {
    Command::AppropriateResult {
        resolution: res(resolution_id),
        statutory_reserves: eur(statutory),
        dividend: eur(dividend),
    }
}

struct Appropriated<'a> {
    resolution: &'a str,
    net_result: &'a str,
    opening: Balances,
    share_capital: &'a str,
    legal_reserve: &'a str,
    statutory_reserves: &'a str,
    dividend: &'a str,
    distributable: &'a str,
    closing: Balances,
}

fn appropriated(a: Appropriated<'_>) -> Event {
    Event::ResultAppropriated {
        resolution: adopted(a.resolution),
        net_result: signed(a.net_result),
        opening: a.opening,
        share_capital: eur(a.share_capital),
        legal_reserve: eur(a.legal_reserve),
        statutory_reserves: eur(a.statutory_reserves),
        dividend: eur(a.dividend),
        distributable: signed(a.distributable),
        closing: a.closing,
    }
}

/// The profit case of 2020: 100,000.00 of profit, 5,000.00 carried
/// forward, 10,000.00 of legal reserve already. Legal reserve: 5 % of
/// 100,000.00 = 5,000.00, below the 7,250.00 left to 17,250.00. Statutory
/// reserves 10,000.00. Distributable: 100,000.00 + 5,000.00 - 5,000.00 -
/// 10,000.00 = 90,000.00; dividend 17,600.00; carried forward 72,400.00.
fn profit_appropriated() -> Event {
    appropriated(Appropriated {
        resolution: "r-approp-2020",
        net_result: "100000",
        opening: opening(),
        share_capital: "172500",
        legal_reserve: "5000",
        statutory_reserves: "10000",
        dividend: "17600",
        distributable: "90000",
        closing: closing_2020(),
    })
}

/// The appropriation `a` records (its statutory reserves and dividend)
/// asked for on `given`, and accepted as `a`.
fn appropriation_accepted(given: Vec<Event>, a: Appropriated<'_>) {
    let command = appropriate(a.resolution, a.statutory_reserves, a.dividend);
    accepted(given, command, appropriated(a));
}

fn appropriated_profit() -> Vec<Event> {
    with(approved_profit(), [profit_appropriated()])
}

fn declare(amount: DividendAmount, withholding: Option<WithholdingRates>) -> Command {
    declaration(
        "r-approp-2020",
        amount,
        [RECORD_DATE, PAYMENT_DATE],
        withholding,
    )
}

/// A dividend declared by `resolution`, with its record and payment dates.
fn declaration(
    resolution: &str,
    amount: DividendAmount,
    [record_date, payment_date]: [NaiveDate; 2],
    withholding: Option<WithholdingRates>,
) -> Command {
    Command::DeclareDividend {
        resolution: res(resolution),
        amount,
        record_date,
        payment_date,
        withholding,
        withholding_statuses: Default::default(),
    }
}

fn total(amount: &str) -> DividendAmount {
    DividendAmount::Total {
        amount: eur(amount),
    }
}

fn per_share(amount: &str) -> DividendAmount {
    DividendAmount::PerShare {
        amount: eur(amount),
    }
}

fn rights() -> DividendRights {
    BTreeMap::from([(class(ORD), Ratio::ONE), (class(PREF), ratio(6, 5))])
}

fn rates(income_tax: &str, social_contributions: &str) -> WithholdingRates {
    WithholdingRates {
        income_tax: dec(income_tax),
        social_contributions: dec(social_contributions),
    }
}

/// Gross, income tax, social contributions, net.
type Amounts<'a> = [&'a str; 4];

fn allocation(p: &HolderPosition, [gross, income_tax, social, net]: Amounts<'_>) -> Allocation {
    Allocation {
        holder: p.holder.clone(),
        kind: p.kind,
        commune: p.commune.clone(),
        shares: p.shares.clone(),
        gross: eur(gross),
        income_tax: eur(income_tax),
        social_contributions: eur(social),
        net: eur(net),
        status: None,
    }
}

/// The allocations of the fixture's roll, in holder order h-c1, h-c2,
/// h-com, h-ind.
fn allocations(amounts: [Amounts<'_>; 4]) -> Vec<Allocation> {
    positions()
        .iter()
        .zip(amounts)
        .map(|(p, a)| allocation(p, a))
        .collect()
}

struct Declared<'a> {
    amount: DividendAmount,
    withholding: WithholdingRates,
    allocations: Vec<Allocation>,
    total: &'a str,
    undistributed: &'a str,
}

fn declared(d: Declared<'_>) -> Event {
    Event::DividendDeclared {
        resolution: adopted("r-approp-2020"),
        amount: d.amount,
        record_date: RECORD_DATE,
        payment_date: PAYMENT_DATE,
        dividend_rights: rights(),
        withholding: d.withholding,
        allocations: d.allocations,
        total: eur(d.total),
        undistributed: eur(d.undistributed),
    }
}

/// The 17,600.00 appropriated, 10.00 an ordinary equivalent: 1,600.00,
/// 1,000.00, 5,000.00 and 10,000.00; the individuals have 12.8 % and
/// 17.2 % withheld.
fn dividend_of_17_600() -> Event {
    declared(Declared {
        amount: total("17600"),
        withholding: WithholdingRates::default(),
        allocations: allocations([
            ["1600", "204.80", "275.20", "1120"],
            ["1000", "128", "172", "700"],
            ["5000", "0", "0", "5000"],
            ["10000", "0", "0", "10000"],
        ]),
        total: "17600",
        undistributed: "0",
    })
}

/// 9.99995 an ordinary share, 6/5 of it a preference share, each
/// holder's rounded down: 17,599.90 in all, 0.10 undistributed.
fn dividend_per_share() -> Event {
    declared(Declared {
        amount: per_share("9.99995"),
        withholding: WithholdingRates::default(),
        allocations: allocations([
            ["1599.99", "204.80", "275.20", "1119.99"],
            ["999.99", "128", "172", "699.99"],
            ["4999.97", "0", "0", "4999.97"],
            ["9999.95", "0", "0", "9999.95"],
        ]),
        total: "17599.90",
        undistributed: "0.10",
    })
}

/// `amount` declared after the profit case's appropriation, with
/// `withholding`: shared over the fixture's roll as `amounts`, for its
/// total and what is left undistributed.
fn declaration_accepted(
    amount: DividendAmount,
    withholding: Option<WithholdingRates>,
    amounts: [Amounts<'_>; 4],
    [total, undistributed]: [&str; 2],
) {
    accepted(
        appropriated_profit(),
        declare(amount, withholding),
        declared(Declared {
            amount,
            withholding: withholding.unwrap_or_default(),
            allocations: allocations(amounts),
            total,
            undistributed,
        }),
    );
}

fn dividend_declared() -> Vec<Event> {
    with(appropriated_profit(), [dividend_of_17_600()])
}

fn pay(id: &str, on: NaiveDate) -> Command {
    Command::RecordDividendPayment {
        holder: holder(id),
        paid_on: on,
    }
}

fn paid(id: &str, amount: &str, on: NaiveDate) -> Event {
    Event::DividendPaid {
        holder: holder(id),
        amount: eur(amount),
        paid_on: on,
    }
}

/// One report of each kind, as the year takes them until its accounts are
/// approved.
fn reports() -> Vec<Command> {
    vec![
        produce("p-1", "T01", month(2020, 3), "1", "100", None),
        revenue(
            "rev-1",
            month(2020, 3),
            RevenueKind::MarketSales,
            "1",
            "50",
            None,
        ),
        cost("c-1", month(2020, 3), eur("10")),
        assess("ifer-2020", 2020, "8.51", false, None),
        local_tax("cfe-2020", eur("10"), None),
    ]
}

// --- Opening -------------------------------------------------------------

#[test]
fn opening_the_first_year_records_the_turbines_of_the_cap_table_and_its_opening_balances() {
    accepted(
        vec![],
        open(2020, STARTS_ON, ENDS_ON, Some(opening())),
        year_opened(2020, STARTS_ON, ENDS_ON, turbines(), Some(opening())),
    );
}

#[test]
fn a_later_year_opens_without_opening_balances() {
    accepted(
        vec![],
        open(2021, day(2021, 1, 1), day(2021, 12, 31), None),
        year_opened(2021, day(2021, 1, 1), day(2021, 12, 31), turbines(), None),
    );
}

#[test]
fn the_turbines_recorded_are_those_of_the_cap_table_on_the_first_day() {
    let mut repowered = snapshot_from(day(2021, 1, 1), positions());
    repowered.turbines.truncate(1);
    financial_year_with(vec![snapshot(), repowered])
        .given_no_previous_events()
        .when(open(2021, day(2021, 1, 1), day(2021, 12, 31), None))
        .then_expect_events(vec![year_opened(
            2021,
            day(2021, 1, 1),
            day(2021, 12, 31),
            vec![turbines()[0].clone()],
            None,
        )]);
}

#[test]
fn opening_balances_show_prior_losses_as_negative_retained_earnings() {
    let losses = Balances {
        retained_earnings: signed("-30000"),
        ..zero_balances()
    };
    accepted(
        vec![],
        open(2020, STARTS_ON, ENDS_ON, Some(losses.clone())),
        year_opened(2020, STARTS_ON, ENDS_ON, turbines(), Some(losses)),
    );
}

#[test]
fn a_year_must_end_after_it_starts() {
    for ends in [STARTS_ON, day(2019, 12, 31)] {
        refused(
            vec![],
            open(2020, STARTS_ON, ends, None),
            Error::EmptyYear {
                starts_on: STARTS_ON,
                ends_on: ends,
            },
        );
    }
}

#[test]
fn a_year_of_exactly_24_months_is_accepted() {
    accepted(
        vec![],
        open(2020, day(2019, 1, 1), ENDS_ON, None),
        year_opened(2020, day(2019, 1, 1), ENDS_ON, turbines(), None),
    );
}

#[test]
fn a_year_longer_than_24_months_is_refused() {
    refused(
        vec![],
        open(2021, day(2019, 1, 1), day(2021, 1, 1), None),
        Error::YearTooLong {
            starts_on: day(2019, 1, 1),
            ends_on: day(2021, 1, 1),
        },
    );
}

#[test]
fn the_year_is_named_after_the_year_it_ends_in() {
    refused(
        vec![],
        open(2021, STARTS_ON, ENDS_ON, None),
        Error::YearMismatch {
            year: 2021,
            ends_on: ENDS_ON,
        },
    );
    refused(
        vec![],
        open(2019, day(2019, 7, 1), day(2020, 6, 30), None),
        Error::YearMismatch {
            year: 2019,
            ends_on: day(2020, 6, 30),
        },
    );
}

#[test]
fn a_year_is_opened_only_once() {
    refused(
        opened(),
        open(2020, STARTS_ON, ENDS_ON, None),
        Error::AlreadyOpened,
    );
}

#[test]
fn nothing_is_recorded_before_the_year_opens() {
    let closing = [
        approve("r-accounts-2020", "100"),
        appropriate("r-approp-2020", "0", "0"),
        declare(total("100"), None),
        pay("h-c1", PAYMENT_DATE),
    ];
    for command in reports().into_iter().chain(closing) {
        refused(vec![], command, Error::NotOpened);
    }
}

#[test]
fn opening_balances_are_kept_to_the_cent() {
    let cases = [
        (
            Balances {
                legal_reserve: eur("0.001"),
                ..opening()
            },
            "the legal reserve",
            "0.001",
        ),
        (
            Balances {
                statutory_reserves: eur("12.345"),
                ..opening()
            },
            "the statutory reserves",
            "12.345",
        ),
        (
            Balances {
                retained_earnings: signed("-0.005"),
                ..opening()
            },
            "the retained earnings",
            "-0.005",
        ),
    ];
    for (balances, what, amount) in cases {
        refused(
            vec![],
            open(2020, STARTS_ON, ENDS_ON, Some(balances)),
            Error::SubCentAmount {
                what,
                amount: dec(amount),
            },
        );
    }
}

#[test]
fn a_year_cannot_open_before_the_company_is_known() {
    lookup_failed(
        year_services_with(KnownCapTables::new([]), closings()),
        vec![],
        open(2020, STARTS_ON, ENDS_ON, None),
        "no cap table is known on 2020-01-01",
    );
}

#[test]
fn a_failed_cap_table_lookup_refuses_the_opening_so_it_can_be_retried() {
    lookup_failed(
        company_unreachable(),
        vec![],
        open(2020, STARTS_ON, ENDS_ON, None),
        "the company stream is unreachable",
    );
}

// --- Production ----------------------------------------------------------

#[test]
fn production_is_reported_per_turbine_and_month() {
    accepted(
        opened(),
        produce("p-1", "T01", month(2020, 3), "612.345", "97.5", None),
        march(),
    );
}

#[test]
fn production_to_the_kwh_is_accepted_with_trailing_zeros_and_availability_bounds() {
    accepted(
        opened(),
        produce("p-2", "T02", month(2020, 12), "0.0010", "100", None),
        produced("p-2", "T02", month(2020, 12), "0.001", "100", None),
    );
    production_accepted(opened(), "p-3", "T02", month(2020, 1), ["0", "0"], None);
}

#[test]
fn a_correction_replaces_the_report_in_force() {
    accepted(
        with(opened(), [march()]),
        produce("p-2", "T01", month(2020, 3), "598.1", "95", Some("p-1")),
        march_corrected(),
    );

    let year = replay(with(opened(), [march(), march_corrected()]));
    assert_eq!(
        year.production_report(&turbine("T01"), month(2020, 3)),
        Some(&report("p-2"))
    );
    assert_eq!(
        year.reports_in_force().collect::<Vec<_>>(),
        vec![&report("p-2")],
        "a correction never changes the number of reports in force"
    );
}

#[test]
fn a_correction_of_a_correction_is_accepted() {
    let given = with(opened(), [march(), march_corrected()]);
    production_accepted(
        given,
        "p-3",
        "T01",
        month(2020, 3),
        ["598.2", "95"],
        Some("p-2"),
    );
}

#[test]
fn production_of_a_turbine_outside_the_farm_is_refused() {
    refused(
        opened(),
        produce("p-1", "T09", month(2020, 3), "1", "100", None),
        Error::UnknownTurbine(turbine("T09")),
    );
}

#[test]
fn production_of_a_month_outside_the_year_is_refused() {
    for m in [month(2019, 12), month(2021, 1)] {
        refused(
            opened(),
            produce("p-1", "T01", m, "1", "100", None),
            Error::MonthOutsideYear {
                month: m,
                starts_on: STARTS_ON,
                ends_on: ENDS_ON,
            },
        );
    }
}

#[test]
fn production_before_the_commissioning_month_is_refused() {
    refused(
        opened_2019(),
        produce("p-1", "T01", month(2019, 10), "1", "100", None),
        Error::BeforeCommissioning {
            turbine: turbine("T01"),
            month: month(2019, 10),
            commissioned_on: day(2019, 11, 15),
        },
    );
}

#[test]
fn production_of_the_commissioning_month_is_accepted() {
    financial_year()
        .given(opened_2019())
        .when(produce("p-1", "T01", month(2019, 11), "301.5", "88", None))
        .then_expect_events(vec![produced(
            "p-1",
            "T01",
            month(2019, 11),
            "301.5",
            "88",
            None,
        )]);
}

#[test]
fn production_is_a_non_negative_figure_to_the_kwh() {
    for mwh in ["-1", "1.2345"] {
        refused(
            opened(),
            produce("p-1", "T01", month(2020, 3), mwh, "100", None),
            Error::InvalidQuantity {
                what: "MWh",
                value: dec(mwh),
                decimals: 3,
            },
        );
    }
}

#[test]
fn availability_is_between_0_and_100_per_cent() {
    for availability in ["100.01", "-0.5"] {
        refused(
            opened(),
            produce("p-1", "T01", month(2020, 3), "1", availability, None),
            Error::InvalidAvailability(dec(availability)),
        );
    }
}

#[test]
fn a_second_report_of_a_turbine_month_must_be_a_correction() {
    refused(
        with(opened(), [march()]),
        produce("p-2", "T01", month(2020, 3), "600", "97", None),
        Error::ProductionAlreadyReported {
            turbine: turbine("T01"),
            month: month(2020, 3),
            report: report("p-1"),
        },
    );
}

#[test]
fn after_a_correction_a_second_report_names_the_correction_in_force() {
    let given = with(opened(), [march(), march_corrected()]);
    refused(
        given,
        produce("p-3", "T01", month(2020, 3), "600", "97", None),
        Error::ProductionAlreadyReported {
            turbine: turbine("T01"),
            month: month(2020, 3),
            report: report("p-2"),
        },
    );
}

#[test]
fn the_same_month_of_another_turbine_is_another_report() {
    production_accepted(
        with(opened(), [march()]),
        "p-2",
        "T02",
        month(2020, 3),
        ["590", "96"],
        None,
    );
}

#[test]
fn a_report_id_is_used_once_whatever_the_kind() {
    refused(
        with(opened(), [march()]),
        cost("p-1", month(2020, 3), eur("10")),
        Error::DuplicateReport(report("p-1")),
    );
    refused(
        with(opened(), [march()]),
        produce("p-1", "T02", month(2020, 4), "10", "100", None),
        Error::DuplicateReport(report("p-1")),
    );
}

#[test]
fn a_correction_names_a_report_of_the_year() {
    refused(
        with(opened(), [march()]),
        produce("p-2", "T01", month(2020, 3), "600", "97", Some("p-9")),
        Error::UnknownReport(report("p-9")),
    );
}

#[test]
fn a_report_already_corrected_cannot_be_corrected_again() {
    let given = with(opened(), [march(), march_corrected()]);
    refused(
        given,
        produce("p-3", "T01", month(2020, 3), "600", "97", Some("p-1")),
        Error::ReportAlreadyCorrected {
            report: report("p-1"),
            by: report("p-2"),
        },
    );
}

#[test]
fn a_correction_is_of_the_same_kind_as_the_report_it_corrects() {
    let given = with(opened(), [march_revenue()]);
    refused(
        given,
        produce("p-2", "T01", month(2020, 3), "600", "97", Some("rev-1")),
        Error::CorrectionOfAnotherKind {
            report: report("rev-1"),
            expected: "production",
            found: "revenue",
        },
    );
    refused(
        with(opened(), [march()]),
        local_tax("cfe-2020", eur("100"), Some("p-1")),
        Error::CorrectionOfAnotherKind {
            report: report("p-1"),
            expected: "local tax",
            found: "production",
        },
    );
}

#[test]
fn a_production_correction_keeps_the_turbine_and_the_month() {
    for command in [
        produce("p-2", "T01", month(2020, 4), "600", "97", Some("p-1")),
        produce("p-2", "T02", month(2020, 3), "600", "97", Some("p-1")),
    ] {
        refused(
            with(opened(), [march()]),
            command,
            Error::CorrectionChangesSubject(report("p-1")),
        );
    }
}

// --- Revenue -------------------------------------------------------------

#[test]
fn revenue_is_volume_times_price_rounded_to_the_cent() {
    // 1,234.567 MWh x 61.25 = 75,617.22875 -> 75,617.23.
    revenue_accepted(
        opened(),
        "rev-1",
        month(2020, 3),
        RevenueKind::MarketSales,
        ["1234.567", "61.25", "75617.23"],
        None,
    );
}

#[test]
fn half_a_cent_is_rounded_away_from_zero() {
    // 0.001 MWh x 5.00 = 0.005 -> 0.01.
    revenue_accepted(
        opened(),
        "rev-1",
        month(2020, 3),
        RevenueKind::FeedInTariff,
        ["0.001", "5", "0.01"],
        None,
    );
}

#[test]
fn a_complement_de_remuneration_paid_back_is_negative_and_rounded_away_from_zero() {
    // 1,000.1 MWh x -4.25 = -4,250.425 -> -4,250.43.
    revenue_accepted(
        opened(),
        "cr-1",
        month(2020, 9),
        RevenueKind::ComplementDeRemuneration,
        ["1000.1", "-4.25", "-4250.43"],
        None,
    );
}

#[test]
fn a_revenue_correction_is_accepted() {
    let given = with(opened(), [march_revenue()]);
    revenue_accepted(
        given,
        "rev-2",
        month(2020, 3),
        RevenueKind::MarketSales,
        ["1000", "49.99", "49990"],
        Some("rev-1"),
    );
}

#[test]
fn revenue_of_a_month_outside_the_year_is_refused() {
    refused(
        opened(),
        revenue(
            "rev-1",
            month(2021, 1),
            RevenueKind::MarketSales,
            "1",
            "50",
            None,
        ),
        Error::MonthOutsideYear {
            month: month(2021, 1),
            starts_on: STARTS_ON,
            ends_on: ENDS_ON,
        },
    );
}

#[test]
fn a_revenue_volume_is_a_non_negative_figure_to_the_kwh() {
    for volume in ["-10", "10.0001"] {
        refused(
            opened(),
            revenue(
                "rev-1",
                month(2020, 3),
                RevenueKind::MarketSales,
                volume,
                "50",
                None,
            ),
            Error::InvalidQuantity {
                what: "the volume in MWh",
                value: dec(volume),
                decimals: 3,
            },
        );
    }
}

#[test]
fn a_revenue_too_large_to_compute_is_refused() {
    refused(
        opened(),
        revenue(
            "rev-1",
            month(2020, 3),
            RevenueKind::Other,
            "100000000000000000000",
            "100000000000000000000",
            None,
        ),
        Error::Overflow,
    );
}

// --- Costs ---------------------------------------------------------------

#[test]
fn a_cost_is_recorded_with_where_it_stays_in_the_territory() {
    let rent = |party: &str| Beneficiary::Landowner {
        party: PartyId::new(party).expect("a valid party id"),
        commune: commune(LOCAL_A),
    };
    accepted_as_given(
        opened(),
        Command::RecordCost {
            report: report("rent-2020"),
            month: month(2020, 12),
            category: CostCategory::LandRent,
            amount: eur("4500"),
            beneficiary: Some(rent("p-farmer")),
            corrects: None,
        },
    );
}

#[test]
fn a_cost_correction_is_accepted() {
    let given = with(
        opened(),
        [Event::CostRecorded {
            report: report("c-1"),
            month: month(2020, 3),
            category: CostCategory::Maintenance,
            amount: eur("1200"),
            beneficiary: None,
            corrects: None,
        }],
    );
    accepted_as_given(
        given,
        Command::RecordCost {
            report: report("c-2"),
            month: month(2020, 3),
            category: CostCategory::CommunityFund,
            amount: eur("1250.50"),
            beneficiary: Some(Beneficiary::CommunityFund),
            corrects: Some(report("c-1")),
        },
    );
}

#[test]
fn a_cost_is_kept_to_the_cent() {
    refused(
        opened(),
        cost("c-1", month(2020, 3), eur("10.005")),
        Error::SubCentAmount {
            what: "the cost",
            amount: dec("10.005"),
        },
    );
}

#[test]
fn a_cost_of_a_month_outside_the_year_is_refused() {
    refused(
        opened(),
        cost("c-1", month(2019, 12), eur("10")),
        Error::MonthOutsideYear {
            month: month(2019, 12),
            starts_on: STARTS_ON,
            ends_on: ENDS_ON,
        },
    );
}

// --- IFER ----------------------------------------------------------------

#[test]
fn ifer_is_due_for_every_turbine_in_service_on_1_january_split_20_50_30() {
    accepted(
        opened(),
        assess("ifer-2020", 2020, "8.51", false, None),
        ifer_2020(),
    );
}

#[test]
fn turbines_from_2019_are_split_20_50_30_even_under_single_business_tax() {
    ifer_2020_accepted(opened(), true, ifer_lines_2020(), "51060");
}

fn old_turbine() -> Turbine {
    Turbine {
        id: turbine("T00"),
        commune: commune(LOCAL_A),
        rated_power: kw(3_000),
        commissioned_on: day(2015, 6, 1),
        decommissioned_on: None,
    }
}

fn opened_with_turbines(farm: Vec<Turbine>) -> Vec<Event> {
    vec![year_opened(2020, STARTS_ON, ENDS_ON, farm, Some(opening()))]
}

/// The IFER of 2020 of `old_turbine()` alone, 25,530.00 split as `shares`.
fn old_turbine_accepted(fpu: bool, split: IferSplit, shares: [&str; 3]) {
    let t00 = old_turbine();
    ifer_2020_accepted(
        opened_with_turbines(vec![t00.clone()]),
        fpu,
        vec![ifer_line(&t00, "25530", split, shares)],
        "25530",
    );
}

#[test]
fn a_turbine_from_before_2019_under_single_business_tax_is_split_0_70_30() {
    old_turbine_accepted(
        true,
        IferSplit::Before2019SingleBusinessTax,
        ["0", "17871", "7659"],
    );
}

#[test]
fn a_turbine_from_before_2019_under_additional_tax_is_split_20_50_30() {
    old_turbine_accepted(
        false,
        IferSplit::Before2019AdditionalTax,
        ["5106", "12765", "7659"],
    );
}

#[test]
fn ifer_shares_are_to_the_cent_by_largest_remainder() {
    // 2,001 kW x 8.51 = 17,028.51: 3,405.702 / 8,514.255 / 5,108.553; the
    // cent left goes to the largest remainder, the EPCI's.
    let small = Turbine {
        id: turbine("T05"),
        commune: commune("2A004"),
        rated_power: kw(2_001),
        commissioned_on: day(2019, 3, 1),
        decommissioned_on: None,
    };
    let line = IferLine {
        turbine: small.id.clone(),
        commune: small.commune.clone(),
        rated_power: small.rated_power,
        commissioned_on: small.commissioned_on,
        amount: eur("17028.51"),
        split: IferSplit::From2019,
        shares: vec![
            (
                Beneficiary::Commune {
                    commune: commune("2A004"),
                },
                eur("3405.70"),
            ),
            (Beneficiary::Epci { siren: epci() }, eur("8514.26")),
            (
                Beneficiary::Departement {
                    code: "2A".to_owned(),
                },
                eur("5108.55"),
            ),
        ],
    };
    ifer_2020_accepted(
        opened_with_turbines(vec![small]),
        false,
        vec![line],
        "17028.51",
    );
}

#[test]
fn a_turbine_commissioned_after_1_january_pays_no_ifer_that_year() {
    let t01 = turbines()[0].clone();
    let t03 = Turbine {
        id: turbine("T03"),
        commune: commune(LOCAL_B),
        rated_power: kw(2_000),
        commissioned_on: day(2020, 3, 1),
        decommissioned_on: None,
    };
    ifer_2020_accepted(
        opened_with_turbines(vec![t01.clone(), t03]),
        false,
        vec![ifer_line(
            &t01,
            "25530",
            IferSplit::From2019,
            ["5106", "12765", "7659"],
        )],
        "25530",
    );
}

#[test]
fn ifer_of_a_tax_year_is_assessed_once() {
    refused(
        with(opened(), [ifer_2020()]),
        assess("ifer-2020-bis", 2020, "8.51", false, None),
        Error::IferAlreadyAssessed(2020),
    );
}

#[test]
fn an_ifer_correction_replaces_the_assessment() {
    // 3,000 kW x 8.36 = 25,080.00: 5,016.00 / 12,540.00 / 7,524.00.
    let [t01, t02] = [&turbines()[0], &turbines()[1]];
    let shares = ["5016", "12540", "7524"];
    accepted(
        with(opened(), [ifer_2020()]),
        assess("ifer-2020-b", 2020, "8.36", false, Some("ifer-2020")),
        ifer_assessed(
            "ifer-2020-b",
            2020,
            "8.36",
            false,
            vec![
                ifer_line(t01, "25080", IferSplit::From2019, shares),
                ifer_line(t02, "25080", IferSplit::From2019, shares),
            ],
            "50160",
            Some("ifer-2020"),
        ),
    );
}

#[test]
fn an_ifer_correction_keeps_the_tax_year() {
    // An exercice of 18 months covers the tax years 2019 and 2020.
    let given = with(opened_long(), [ifer_2020()]);
    refused(
        given,
        assess("ifer-2019", 2019, "8.51", false, Some("ifer-2020")),
        Error::CorrectionChangesSubject(report("ifer-2020")),
    );
}

#[test]
fn ifer_of_a_tax_year_outside_the_exercice_is_refused() {
    for tax_year in [2019, 2021] {
        refused(
            opened(),
            assess("ifer", tax_year, "8.51", false, None),
            Error::TaxYearOutsideYear {
                tax_year,
                starts_on: STARTS_ON,
                ends_on: ENDS_ON,
            },
        );
    }
}

#[test]
fn no_ifer_is_assessed_when_no_turbine_was_in_service_on_1_january() {
    refused(
        opened_2019(),
        assess("ifer-2019", 2019, "7.65", false, None),
        Error::NoTurbineInService(2019),
    );
    refused(
        opened_long(),
        assess("ifer-2019", 2019, "7.65", false, None),
        Error::NoTurbineInService(2019),
    );
}

// --- Local taxes ---------------------------------------------------------

#[test]
fn a_local_tax_is_recorded_per_beneficiary() {
    accepted(
        opened(),
        local_tax("cfe-2020", eur("1234"), None),
        local_tax_recorded("cfe-2020", "1234", None),
    );
    accepted_as_given(
        opened(),
        Command::RecordLocalTax {
            report: report("tf-2020"),
            tax: LocalTax::PropertyTax,
            beneficiary: Beneficiary::Departement {
                code: "42".to_owned(),
            },
            amount: eur("310.40"),
            corrects: None,
        },
    );
}

#[test]
fn a_local_tax_correction_is_accepted() {
    accepted(
        with(opened(), [local_tax_recorded("cfe-2020", "1234", None)]),
        local_tax("cfe-2020-b", eur("1243"), Some("cfe-2020")),
        local_tax_recorded("cfe-2020-b", "1243", Some("cfe-2020")),
    );
}

#[test]
fn a_local_tax_is_kept_to_the_cent() {
    refused(
        opened(),
        local_tax("cfe-2020", eur("1234.567"), None),
        Error::SubCentAmount {
            what: "the tax",
            amount: dec("1234.567"),
        },
    );
}

// --- Approval of the accounts --------------------------------------------

#[test]
fn the_accounts_are_approved_by_an_ordinary_resolution_after_the_year() {
    accepted(
        opened(),
        approve("r-accounts-2020", "100000"),
        approved("r-accounts-2020", "100000"),
    );
}

#[test]
fn a_loss_is_approved_as_a_negative_result() {
    accepted(
        opened(),
        approve("r-accounts-2020", "-8000.55"),
        approved("r-accounts-2020", "-8000.55"),
    );
}

#[test]
fn once_the_accounts_are_approved_the_year_takes_no_more_reports() {
    let approval = approve("r-accounts-2020", "100000");
    for command in reports().into_iter().chain([approval]) {
        refused(approved_profit(), command, Error::AccountsAlreadyApproved);
    }
    // Corrections too.
    refused(
        with(opened(), [march(), approved("r-accounts-2020", "100000")]),
        produce("p-2", "T01", month(2020, 3), "600", "97", Some("p-1")),
        Error::AccountsAlreadyApproved,
    );
}

#[test]
fn the_accounts_rest_on_an_adopted_resolution() {
    refused(
        opened(),
        approve("r-unknown", "100000"),
        Error::Unbacked(Unbacked::NotAdopted(res("r-unknown"))),
    );
}

#[test]
fn the_accounts_rest_on_a_resolution_approving_the_accounts_of_this_year() {
    use ResolutionPurpose::{AccountsApproval, ResultAppropriation};
    for (resolution, found) in [
        ("r-approp-2020", ResultAppropriation { year: 2020 }),
        ("r-accounts-2019", AccountsApproval { year: 2019 }),
    ] {
        refused(
            opened(),
            approve(resolution, "100000"),
            purpose_mismatch(resolution, AccountsApproval { year: 2020 }, found),
        );
    }
}

#[test]
fn the_accounts_rest_on_a_decision_of_the_kind_the_charter_reserves() {
    refused(
        opened(),
        approve("r-accounts-2020-extra", "100000"),
        Error::Unbacked(Unbacked::WrongDecisionKind {
            resolution: res("r-accounts-2020-extra"),
            required: kind("ordinary"),
            found: kind("extraordinary"),
        }),
    );
}

#[test]
fn a_charter_reserving_the_accounts_to_extraordinary_decisions_is_followed() {
    let mut strict = snapshot();
    strict.charter.reserved.accounts = kind("extraordinary");
    financial_year_with(vec![strict])
        .given(opened())
        .when(approve("r-accounts-2020-extra", "100000"))
        .then_expect_events(vec![approved("r-accounts-2020-extra", "100000")]);
}

#[test]
fn the_accounts_are_approved_after_the_year_ended() {
    refused(
        opened(),
        approve("r-accounts-2020-early", "100000"),
        Error::DecidedBeforeYearEnd {
            resolution: res("r-accounts-2020-early"),
            adopted_on: ENDS_ON,
            ends_on: ENDS_ON,
        },
    );
}

#[test]
fn the_net_result_is_kept_to_the_cent() {
    refused(
        opened(),
        approve("r-accounts-2020", "100000.005"),
        Error::SubCentAmount {
            what: "the net result",
            amount: dec("100000.005"),
        },
    );
}

#[test]
fn a_failed_resolution_lookup_refuses_the_approval_so_it_can_be_retried() {
    lookup_failed(
        FinancialYearServices::new(
            chrono::DateTime::<chrono::Utc>::MAX_UTC,
            UnreachableMeetings,
            KnownCapTables::new([snapshot()]),
            closings(),
        ),
        opened(),
        approve("r-accounts-2020", "100000"),
        "the meeting stream is unreachable",
    );
}

#[test]
fn a_failed_charter_lookup_refuses_the_approval() {
    lookup_failed(
        company_unreachable(),
        opened(),
        approve("r-accounts-2020", "100000"),
        "the company stream is unreachable",
    );
}

// --- Appropriation of the result -----------------------------------------

#[test]
fn a_profit_funds_the_legal_reserve_then_the_statutory_reserves_then_the_dividend() {
    accepted(
        approved_profit(),
        appropriate("r-approp-2020", "10000", "17600"),
        profit_appropriated(),
    );
}

#[test]
fn the_legal_reserve_is_five_per_cent_rounded_up_to_the_cent() {
    // 5 % of 12,345.67 = 617.2835 -> 617.29; 12,345.67 - 617.29 = 11,728.38
    // carried forward.
    let given = with(
        opened_with(zero_balances()),
        [approved("r-accounts-2020", "12345.67")],
    );
    appropriation_accepted(
        given,
        Appropriated {
            resolution: "r-approp-2020",
            net_result: "12345.67",
            opening: zero_balances(),
            share_capital: "172500",
            legal_reserve: "617.29",
            statutory_reserves: "0",
            dividend: "0",
            distributable: "11728.38",
            closing: Balances {
                legal_reserve: eur("617.29"),
                statutory_reserves: Euros::ZERO,
                retained_earnings: signed("11728.38"),
            },
        },
    );
}

#[test]
fn the_legal_reserve_stops_at_a_tenth_of_the_share_capital_rounded_up() {
    // Share capital 172,500.05 on the day of the decision: a tenth is
    // 17,250.005 -> 17,250.01; 17,000.00 already, 250.01 to go.
    let mut grown = snapshot_from(day(2021, 1, 1), positions());
    grown.share_capital = eur("172500.05");
    let opening_legal = Balances {
        legal_reserve: eur("17000"),
        ..zero_balances()
    };
    financial_year_with(vec![snapshot(), grown])
        .given(with(
            opened_with(opening_legal.clone()),
            [approved("r-accounts-2020", "100000")],
        ))
        .when(appropriate("r-approp-2020", "0", "0"))
        .then_expect_events(vec![appropriated(Appropriated {
            resolution: "r-approp-2020",
            net_result: "100000",
            opening: opening_legal,
            share_capital: "172500.05",
            legal_reserve: "250.01",
            statutory_reserves: "0",
            dividend: "0",
            distributable: "99749.99",
            closing: Balances {
                legal_reserve: eur("17250.01"),
                statutory_reserves: Euros::ZERO,
                retained_earnings: signed("99749.99"),
            },
        })]);
}

#[test]
fn a_full_legal_reserve_takes_nothing() {
    let full = Balances {
        legal_reserve: eur("20000"),
        ..zero_balances()
    };
    appropriation_accepted(
        with(
            opened_with(full.clone()),
            [approved("r-accounts-2020", "1000")],
        ),
        Appropriated {
            resolution: "r-approp-2020",
            net_result: "1000",
            opening: full.clone(),
            share_capital: "172500",
            legal_reserve: "0",
            statutory_reserves: "0",
            dividend: "1000",
            distributable: "1000",
            closing: full,
        },
    );
}

fn prior_losses() -> Balances {
    Balances {
        retained_earnings: signed("-30000"),
        ..zero_balances()
    }
}

fn approved_after_losses() -> Vec<Event> {
    with(
        opened_with(prior_losses()),
        [approved("r-accounts-2020", "50000.01")],
    )
}

#[test]
fn prior_losses_are_covered_before_the_reserves_and_the_dividend() {
    // Profit after prior losses: 50,000.01 - 30,000.00 = 20,000.01; legal
    // reserve 5 % = 1,000.0005 -> 1,000.01; statutory reserves 4,000.00;
    // distributable 50,000.01 - 30,000.00 - 1,000.01 - 4,000.00 = 15,000.00,
    // all distributed.
    appropriation_accepted(
        approved_after_losses(),
        Appropriated {
            resolution: "r-approp-2020",
            net_result: "50000.01",
            opening: prior_losses(),
            share_capital: "172500",
            legal_reserve: "1000.01",
            statutory_reserves: "4000",
            dividend: "15000",
            distributable: "15000",
            closing: Balances {
                legal_reserve: eur("1000.01"),
                statutory_reserves: eur("4000"),
                retained_earnings: signed("0"),
            },
        },
    );
}

#[test]
fn a_profit_below_the_prior_losses_funds_no_reserve() {
    let given = with(
        opened_with(prior_losses()),
        [approved("r-accounts-2020", "10000")],
    );
    appropriation_accepted(
        given,
        Appropriated {
            resolution: "r-approp-2020",
            net_result: "10000",
            opening: prior_losses(),
            share_capital: "172500",
            legal_reserve: "0",
            statutory_reserves: "0",
            dividend: "0",
            distributable: "-20000",
            closing: Balances {
                retained_earnings: signed("-20000"),
                ..zero_balances()
            },
        },
    );
}

fn before_the_loss() -> Balances {
    Balances {
        legal_reserve: eur("5000"),
        statutory_reserves: Euros::ZERO,
        retained_earnings: signed("2000"),
    }
}

fn approved_loss() -> Vec<Event> {
    with(
        opened_with(before_the_loss()),
        [approved("r-accounts-2020", "-8000")],
    )
}

#[test]
fn a_loss_is_carried_forward_and_funds_no_reserve() {
    // -8,000.00 + 2,000.00 = -6,000.00 carried forward.
    appropriation_accepted(
        approved_loss(),
        Appropriated {
            resolution: "r-approp-2020",
            net_result: "-8000",
            opening: before_the_loss(),
            share_capital: "172500",
            legal_reserve: "0",
            statutory_reserves: "0",
            dividend: "0",
            distributable: "-6000",
            closing: Balances {
                legal_reserve: eur("5000"),
                statutory_reserves: Euros::ZERO,
                retained_earnings: signed("-6000"),
            },
        },
    );
}

#[test]
fn a_year_after_the_first_starts_from_the_previous_closing() {
    // Opening: 15,000.00 legal, 10,000.00 statutory, 72,400.00 carried
    // forward (the 2020 closing). 5 % of 50,000.00 = 2,500.00, but only
    // 2,250.00 to 17,250.00. Distributable: 50,000.00 + 72,400.00 - 2,250.00
    // = 120,150.00; dividend 20,000.00; 100,150.00 carried forward.
    let given = with(opened_2021(), [approved("r-accounts-2021", "50000")]);
    appropriation_accepted(
        given,
        Appropriated {
            resolution: "r-approp-2021",
            net_result: "50000",
            opening: closing_2020(),
            share_capital: "172500",
            legal_reserve: "2250",
            statutory_reserves: "0",
            dividend: "20000",
            distributable: "120150",
            closing: Balances {
                legal_reserve: eur("17250"),
                statutory_reserves: eur("10000"),
                retained_earnings: signed("100150"),
            },
        },
    );
}

#[test]
fn the_result_is_appropriated_after_the_accounts_are_approved() {
    refused(
        opened(),
        appropriate("r-approp-2020", "0", "0"),
        Error::AccountsNotApproved,
    );
}

#[test]
fn the_result_is_appropriated_once() {
    refused(
        appropriated_profit(),
        appropriate("r-approp-2020", "0", "0"),
        Error::AlreadyAppropriated,
    );
}

#[test]
fn a_later_year_waits_for_the_previous_one_to_be_closed() {
    TestFramework::<FinancialYear>::with(year_services_with(
        KnownCapTables::new([snapshot()]),
        KnownClosings::default(),
    ))
    .given(with(opened_2021(), [approved("r-accounts-2021", "50000")]))
    .when(appropriate("r-approp-2021", "0", "0"))
    .then_expect_error(Error::PreviousYearNotClosed(2020));
}

#[test]
fn a_failed_closing_lookup_refuses_the_appropriation_so_it_can_be_retried() {
    lookup_failed(
        year_services_with(KnownCapTables::new([snapshot()]), UnreachableClosings),
        with(opened_2021(), [approved("r-accounts-2021", "50000")]),
        appropriate("r-approp-2021", "0", "0"),
        "the earlier years are unreachable",
    );
}

#[test]
fn statutory_reserves_come_out_of_the_profit_left_after_losses_and_the_legal_reserve() {
    refused(
        approved_after_losses(),
        appropriate("r-approp-2020", "19000.01", "0"),
        Error::StatutoryReservesAboveProfit {
            voted: eur("19000.01"),
            available: signed("19000"),
        },
    );
    refused(
        approved_loss(),
        appropriate("r-approp-2020", "0.01", "0"),
        Error::StatutoryReservesAboveProfit {
            voted: eur("0.01"),
            available: signed("0"),
        },
    );
}

#[test]
fn statutory_reserves_may_take_all_the_profit_left() {
    appropriation_accepted(
        approved_after_losses(),
        Appropriated {
            resolution: "r-approp-2020",
            net_result: "50000.01",
            opening: prior_losses(),
            share_capital: "172500",
            legal_reserve: "1000.01",
            statutory_reserves: "19000",
            dividend: "0",
            distributable: "0",
            closing: Balances {
                legal_reserve: eur("1000.01"),
                statutory_reserves: eur("19000"),
                retained_earnings: signed("0"),
            },
        },
    );
}

#[test]
fn the_dividend_is_never_above_the_distributable_profit() {
    refused(
        approved_profit(),
        appropriate("r-approp-2020", "10000", "90000.01"),
        Error::DividendAboveDistributable {
            dividend: eur("90000.01"),
            distributable: signed("90000"),
        },
    );
    refused(
        approved_loss(),
        appropriate("r-approp-2020", "0", "0.01"),
        Error::DividendAboveDistributable {
            dividend: eur("0.01"),
            distributable: signed("-6000"),
        },
    );
}

#[test]
fn the_appropriation_rests_on_a_resolution_appropriating_this_result() {
    refused(
        approved_profit(),
        appropriate("r-accounts-2020", "0", "0"),
        accounts_not_appropriating(),
    );
    refused(
        approved_profit(),
        appropriate("r-unknown", "0", "0"),
        Error::Unbacked(Unbacked::NotAdopted(res("r-unknown"))),
    );
}

#[test]
fn reserves_and_dividends_are_voted_to_the_cent() {
    refused(
        approved_profit(),
        appropriate("r-approp-2020", "0.001", "0"),
        Error::SubCentAmount {
            what: "the statutory reserves",
            amount: dec("0.001"),
        },
    );
    refused(
        approved_profit(),
        appropriate("r-approp-2020", "0", "100.005"),
        Error::SubCentAmount {
            what: "the dividend",
            amount: dec("100.005"),
        },
    );
}

// --- Dividend ------------------------------------------------------------

#[test]
fn a_total_dividend_is_shared_by_dividend_rights_with_french_withholding_on_individuals() {
    accepted(
        appropriated_profit(),
        declare(total("17600"), None),
        dividend_of_17_600(),
    );
}

#[test]
fn a_total_is_shared_to_the_cent_by_largest_remainder() {
    // 100.00 over 160 : 100 : 500 : 1,000 = 9.0909, 5.6818, 28.4090,
    // 56.8181: floors 9.09, 5.68, 28.40, 56.81; the two cents left go to
    // the largest remainders, h-com's and h-ind's. Withheld on 9.09:
    // 1.16352 -> 1.16 and 1.56348 -> 1.56; on 5.68: 0.72704 -> 0.73 and
    // 0.97696 -> 0.98.
    declaration_accepted(
        total("100"),
        None,
        [
            ["9.09", "1.16", "1.56", "6.37"],
            ["5.68", "0.73", "0.98", "3.97"],
            ["28.41", "0", "0", "28.41"],
            ["56.82", "0", "0", "56.82"],
        ],
        ["100", "17500"],
    );
}

#[test]
fn cents_left_on_equal_remainders_go_by_holder_id() {
    // Three equal holders, listed out of order: 100.01 / 3 = 33.3366...;
    // the two cents left go to h-a and h-b.
    let equal = |id: &str| holder_position(id, HolderKind::Company, IND, ELSEWHERE, 100, 0);
    let roll = snapshot_from(
        day(2021, 6, 20),
        vec![equal("h-c"), equal("h-a"), equal("h-b")],
    );
    let allocations = ["h-a", "h-b", "h-c"]
        .into_iter()
        .zip(["33.34", "33.34", "33.33"])
        .map(|(id, gross)| allocation(&equal(id), [gross, "0", "0", gross]))
        .collect();
    financial_year_with(vec![snapshot(), roll])
        .given(appropriated_profit())
        .when(declare(total("100.01"), None))
        .then_expect_events(vec![declared(Declared {
            amount: total("100.01"),
            withholding: WithholdingRates::default(),
            allocations,
            total: "100.01",
            undistributed: "17499.99",
        })]);
}

#[test]
fn an_amount_per_share_is_rounded_down_per_holder_and_the_rest_carried_forward() {
    // 9.99995 an ordinary share, 6/5 of it a preference share: 160 x =
    // 1,599.992 -> 1,599.99; 100 x = 999.995 -> 999.99; 500 x = 4,999.975
    // -> 4,999.97; 1,000 x = 9,999.95. Total 17,599.90, 0.10 undistributed.
    // Withheld on 1,599.99: 204.79872 -> 204.80, 275.19828 -> 275.20; on
    // 999.99: 127.99872 -> 128.00, 171.99828 -> 172.00.
    accepted(
        appropriated_profit(),
        declare(per_share("9.99995"), None),
        dividend_per_share(),
    );
}

#[test]
fn other_withholding_rates_apply_when_given() {
    // Exempted from the income tax instalment: social contributions only.
    declaration_accepted(
        total("17600"),
        Some(rates("0", "17.2")),
        [
            ["1600", "0", "275.20", "1324.80"],
            ["1000", "0", "172", "828"],
            ["5000", "0", "0", "5000"],
            ["10000", "0", "0", "10000"],
        ],
        ["17600", "0"],
    );
}

#[test]
fn the_dividend_is_declared_after_the_appropriation() {
    refused(
        approved_profit(),
        declare(total("100"), None),
        Error::NotAppropriated,
    );
}

#[test]
fn the_dividend_is_declared_once() {
    refused(
        dividend_declared(),
        declare(total("100"), None),
        Error::DividendAlreadyDeclared,
    );
}

#[test]
fn the_dividend_declared_is_never_above_what_was_appropriated() {
    refused(
        appropriated_profit(),
        declare(total("17600.01"), None),
        Error::DividendAboveAppropriated {
            declared: eur("17600.01"),
            appropriated: eur("17600"),
        },
    );
    // 10.0003 a share: 1,600.04 + 1,000.03 + 5,000.15 + 10,000.30.
    refused(
        appropriated_profit(),
        declare(per_share("10.0003"), None),
        Error::DividendAboveAppropriated {
            declared: eur("17600.52"),
            appropriated: eur("17600"),
        },
    );
}

#[test]
fn a_total_dividend_is_kept_to_the_cent() {
    refused(
        appropriated_profit(),
        declare(total("100.001"), None),
        Error::SubCentAmount {
            what: "the dividend",
            amount: dec("100.001"),
        },
    );
}

#[test]
fn the_record_date_is_on_or_after_the_decision() {
    let command = declaration(
        "r-approp-2020",
        total("100"),
        [day(2021, 6, 14), PAYMENT_DATE],
        None,
    );
    refused(
        appropriated_profit(),
        command,
        Error::RecordDateBeforeDecision {
            record_date: day(2021, 6, 14),
            adopted_on: DECIDED_ON,
        },
    );
}

#[test]
fn the_payment_date_is_on_or_after_the_record_date() {
    let command = declaration(
        "r-approp-2020",
        total("100"),
        [RECORD_DATE, day(2021, 6, 29)],
        None,
    );
    refused(
        appropriated_profit(),
        command,
        Error::BeforeRecordDate {
            date: day(2021, 6, 29),
            record_date: RECORD_DATE,
        },
    );
}

#[test]
fn the_dividend_is_declared_by_a_resolution_appropriating_this_result() {
    let command = declaration(
        "r-accounts-2020",
        total("100"),
        [RECORD_DATE, PAYMENT_DATE],
        None,
    );
    refused(appropriated_profit(), command, accounts_not_appropriating());
}

#[test]
fn a_dividend_needs_a_holder_with_dividend_rights() {
    // On the record date, only preference shares are held, and a charter
    // amendment took their dividend rights away.
    let mut roll = snapshot_from(
        day(2021, 6, 20),
        vec![holder_position(
            "h-fund",
            HolderKind::Company,
            IND,
            ELSEWHERE,
            0,
            100,
        )],
    );
    let mut no_rights: Charter = charter();
    for c in &mut no_rights.share_classes {
        if c.id == class(PREF) {
            c.dividend_rights = Ratio::ZERO;
        }
    }
    roll.charter = no_rights;
    financial_year_with(vec![snapshot(), roll])
        .given(appropriated_profit())
        .when(declare(total("100"), None))
        .then_expect_error(Error::NoEligibleHolder(RECORD_DATE));
}

#[test]
fn withholding_rates_are_per_cent_and_together_at_most_100() {
    for (income_tax, social) in [("-1", "17.2"), ("12.8", "100.1"), ("60", "40.01")] {
        refused(
            appropriated_profit(),
            declare(total("100"), Some(rates(income_tax, social))),
            Error::InvalidWithholdingRates {
                income_tax: dec(income_tax),
                social_contributions: dec(social),
            },
        );
    }
}

#[test]
fn withholding_never_exceeds_the_gross() {
    // One individual, 0.03 gross at 50 % + 50 %: rounded on its own each
    // part would be 0.02, 0.04 withheld from 0.03; social contributions are
    // capped at what income tax leaves (0.01).
    let roll = snapshot_from(
        day(2021, 6, 20),
        vec![holder_position(
            "h-solo",
            HolderKind::Individual,
            CIT,
            LOCAL_A,
            1,
            0,
        )],
    );
    let result = financial_year_with(vec![snapshot(), roll])
        .given(appropriated_profit())
        .when(declare(total("0.03"), Some(rates("50", "50"))))
        .inspect_result();
    let events = result.expect("the declaration is recorded");
    let Some(Event::DividendDeclared { allocations, .. }) = events.first() else {
        panic!("a DividendDeclared event, got {events:?}");
    };
    for a in allocations {
        let withheld = a.income_tax.amount() + a.social_contributions.amount();
        assert!(withheld <= a.gross.amount(), "{a:?}");
        assert_eq!(a.net.amount(), a.gross.amount() - withheld, "{a:?}");
    }
}

#[test]
fn a_failed_roll_lookup_refuses_the_declaration_so_it_can_be_retried() {
    lookup_failed(
        company_unreachable(),
        appropriated_profit(),
        declare(total("100"), None),
        "the company stream is unreachable",
    );
}

// --- Dividend payments ---------------------------------------------------

#[test]
fn a_holder_is_paid_their_net_dividend() {
    accepted(
        dividend_declared(),
        pay("h-c1", PAYMENT_DATE),
        paid("h-c1", "1120", PAYMENT_DATE),
    );
    accepted(
        dividend_declared(),
        pay("h-ind", day(2021, 6, 30)),
        paid("h-ind", "10000", day(2021, 6, 30)),
    );
}

#[test]
fn a_payment_is_recorded_after_the_declaration() {
    refused(
        appropriated_profit(),
        pay("h-c1", PAYMENT_DATE),
        Error::NoDividendDeclared,
    );
}

#[test]
fn only_holders_on_the_roll_are_paid() {
    refused(
        dividend_declared(),
        pay("h-x", PAYMENT_DATE),
        Error::NoAllocation(holder("h-x")),
    );
}

#[test]
fn a_holder_is_paid_once() {
    refused(
        with(dividend_declared(), [paid("h-c1", "1120", PAYMENT_DATE)]),
        pay("h-c1", day(2021, 7, 20)),
        Error::AlreadyPaid(holder("h-c1")),
    );
}

#[test]
fn nobody_is_paid_before_the_record_date() {
    refused(
        dividend_declared(),
        pay("h-c1", day(2021, 6, 29)),
        Error::BeforeRecordDate {
            date: day(2021, 6, 29),
            record_date: RECORD_DATE,
        },
    );
}

// --- Withholding statuses ------------------------------------------------

fn declare_with(statuses: &[(&str, WithholdingStatus)]) -> Command {
    let mut declaration = declare(total("17600"), None);
    let Command::DeclareDividend {
        withholding_statuses,
        ..
    } = &mut declaration
    else {
        unreachable!("a declaration");
    };
    *withholding_statuses = statuses.iter().map(|(h, s)| (holder(h), *s)).collect();
    declaration
}

/// The 17,600.00 dividend with h-c1 exempt of income tax (social
/// contributions still withheld) and h-c2 taxed abroad (nothing withheld).
fn dividend_with_statuses() -> Event {
    let mut allocations = allocations([
        ["1600", "0", "275.20", "1324.80"],
        ["1000", "0", "0", "1000"],
        ["5000", "0", "0", "5000"],
        ["10000", "0", "0", "10000"],
    ]);
    allocations[0].status = Some(WithholdingStatus::Exempt);
    allocations[1].status = Some(WithholdingStatus::NonResident);
    declared(Declared {
        amount: total("17600"),
        withholding: WithholdingRates::default(),
        allocations,
        total: "17600",
        undistributed: "0",
    })
}

fn decide(id: &str, income_tax: &str, social: &str) -> Command {
    Command::DecideWithholding {
        holder: holder(id),
        income_tax: eur(income_tax),
        social_contributions: eur(social),
    }
}

fn decided(id: &str, income_tax: &str, social: &str, net: &str) -> Event {
    Event::WithholdingDecided {
        holder: holder(id),
        income_tax: eur(income_tax),
        social_contributions: eur(social),
        net: eur(net),
    }
}

#[test]
fn an_exempt_individual_has_social_contributions_withheld_only_and_a_non_resident_nothing() {
    accepted(
        appropriated_profit(),
        declare_with(&[
            ("h-c1", WithholdingStatus::Exempt),
            ("h-c2", WithholdingStatus::NonResident),
        ]),
        dividend_with_statuses(),
    );
}

#[test]
fn a_withholding_status_is_an_individuals_on_the_roll() {
    use WithholdingStatus::{Exempt, MembersWithheld, NonResident};
    let of_non_individual = Error::WithholdingStatusOfNonIndividual as fn(_) -> Error;
    let cases = [
        ("h-com", Exempt, of_non_individual),
        ("h-x", NonResident, Error::WithholdingStatusOffRoll),
        // Members withheld is an investment club's.
        ("h-c1", MembersWithheld, Error::WithholdingStatusMisfit),
        ("h-ind", MembersWithheld, of_non_individual),
    ];
    for (id, status, error) in cases {
        refused(
            appropriated_profit(),
            declare_with(&[(id, status)]),
            error(holder(id)),
        );
    }
}

/// An investment club is paid gross unless its record asks the company
/// to withhold for its members: then as an individual resident in France.
#[test]
fn a_club_is_paid_gross_unless_it_asks_to_be_withheld_for_its_members() {
    use windledger_domain::finance::withheld;
    let rates = WithholdingRates::default();
    // 1,234.56: 12.8 % = 158.02368 -> 158.02; 17.2 % = 212.34432 -> 212.34.
    let individual = withheld(123_456, HolderKind::Individual, None, rates);
    assert_eq!(individual, Some((15_802, 21_234, 86_420)));
    let club = |status| withheld(123_456, HolderKind::InvestmentClub, status, rates);
    assert_eq!(club(None), Some((0, 0, 123_456)));
    assert_eq!(club(Some(WithholdingStatus::MembersWithheld)), individual);
    // An individual's statuses do not apply to a club, nor a club's to a company.
    assert_eq!(club(Some(WithholdingStatus::Exempt)), Some((0, 0, 123_456)));
    assert_eq!(
        withheld(
            123_456,
            HolderKind::Company,
            Some(WithholdingStatus::MembersWithheld),
            rates
        ),
        Some((0, 0, 123_456))
    );
}

#[test]
fn a_non_resident_is_paid_once_the_operator_has_decided_the_withholding() {
    let declared = with(appropriated_profit(), [dividend_with_statuses()]);
    refused(
        declared.clone(),
        pay("h-c2", PAYMENT_DATE),
        Error::WithholdingUndecided(holder("h-c2")),
    );
    // 12.8 % withheld under a treaty, nothing else: 1,000.00 - 128.00.
    accepted(
        declared.clone(),
        decide("h-c2", "128", "0"),
        decided("h-c2", "128", "0", "872"),
    );
    let after = with(declared.clone(), [decided("h-c2", "128", "0", "872")]);
    accepted(
        after.clone(),
        pay("h-c2", PAYMENT_DATE),
        paid("h-c2", "872", PAYMENT_DATE),
    );
    refused(
        after,
        decide("h-c2", "0", "0"),
        Error::WithholdingAlreadyDecided(holder("h-c2")),
    );
    // The exempt holder is paid their net at once.
    accepted(
        declared.clone(),
        pay("h-c1", PAYMENT_DATE),
        paid("h-c1", "1324.80", PAYMENT_DATE),
    );
    refused(
        declared.clone(),
        decide("h-c1", "0", "0"),
        Error::NotNonResident(holder("h-c1")),
    );
    refused(
        declared,
        decide("h-c2", "900", "100.01"),
        Error::WithheldAboveGross {
            holder: holder("h-c2"),
            withheld: eur("1000.01"),
            gross: eur("1000"),
        },
    );
}

// --- The state -----------------------------------------------------------

#[test]
fn the_closing_balances_carry_forward_what_the_dividend_left_undistributed() {
    assert_eq!(replay(approved_profit()).closing_balances(), None);
    assert_eq!(
        replay(appropriated_profit()).closing_balances(),
        Some(closing_2020())
    );
    let year = replay(with(
        appropriated_profit(),
        [dividend_per_share(), paid("h-c2", "699.99", PAYMENT_DATE)],
    ));
    assert_eq!(
        year.closing_balances(),
        Some(Balances {
            retained_earnings: signed("72400.10"),
            ..closing_2020()
        })
    );
    assert_eq!(
        year.allocation(&holder("h-c2")).map(|a| a.net),
        Some(eur("699.99"))
    );
    assert!(year.is_paid(&holder("h-c2")));
    assert!(!year.is_paid(&holder("h-c1")));
}

#[test]
fn the_state_reads_the_year_its_period_and_turbines() {
    let year = replay(with(opened(), [march()]));
    assert_eq!(year.year(), Some(2020));
    assert_eq!(year.period(), Some((STARTS_ON, ENDS_ON)));
    assert_eq!(year.turbines(), turbines().as_slice());
    assert!(!year.accounts_approved());
    assert!(replay(approved_profit()).accounts_approved());
    assert_eq!(FinancialYear::default().year(), None);
}

// --- Current-account advances --------------------------------------------

fn advance_framework() -> TestFramework<CurrentAccountAdvance> {
    TestFramework::with(AdvanceServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        KnownCapTables::new([snapshot()]),
    ))
}

fn advance_id() -> AdvanceId {
    AdvanceId::new("cca-2021-ind").expect("a valid advance id")
}

fn grant(lender: &str, amount: &str, rate: &str, on: NaiveDate) -> AdvanceCommand {
    AdvanceCommand::Grant {
        advance: advance_id(),
        holder: holder(lender),
        amount: eur(amount),
        annual_rate: dec(rate),
        granted_on: on,
    }
}

/// 10,000.00 lent by the industrial partner at 3 % on 2021-07-01.
fn granted() -> AdvanceEvent {
    AdvanceEvent::AdvanceGranted {
        advance: advance_id(),
        holder: holder("h-ind"),
        amount: eur("10000"),
        annual_rate: dec("3"),
        granted_on: day(2021, 7, 1),
    }
}

fn repay(amount: &str, on: NaiveDate) -> AdvanceCommand {
    AdvanceCommand::Repay {
        amount: eur(amount),
        repaid_on: on,
    }
}

fn repaid(amount: &str, on: NaiveDate, outstanding: &str) -> AdvanceEvent {
    AdvanceEvent::AdvanceRepaid {
        amount: eur(amount),
        repaid_on: on,
        outstanding: eur(outstanding),
    }
}

/// 4,000.00 repaid on 2021-10-01: 6,000.00 still owed.
fn granted_and_repaid() -> Vec<AdvanceEvent> {
    vec![granted(), repaid("4000", day(2021, 10, 1), "6000")]
}

fn accrue(year: i32, ceiling: &str, on: NaiveDate) -> AdvanceCommand {
    AdvanceCommand::AccrueInterest {
        year,
        rate_ceiling: dec(ceiling),
        accrued_on: on,
        withholding: None,
        withholding_status: None,
    }
}

fn period(from: NaiveDate, to: NaiveDate, principal: &str, days: u32) -> InterestPeriod {
    InterestPeriod {
        from,
        to,
        principal: eur(principal),
        days,
    }
}

fn advance_refused(given: Vec<AdvanceEvent>, command: AdvanceCommand, error: AdvanceError) {
    advance_framework()
        .given(given)
        .when(command)
        .then_expect_error(error);
}

fn advance_accepted(given: Vec<AdvanceEvent>, command: AdvanceCommand, expected: AdvanceEvent) {
    advance_framework()
        .given(given)
        .when(command)
        .then_expect_events(vec![expected]);
}

#[test]
fn a_shareholder_lends_on_current_account() {
    advance_accepted(
        vec![],
        grant("h-ind", "10000", "3", day(2021, 7, 1)),
        granted(),
    );
}

#[test]
fn an_advance_is_granted_once() {
    advance_refused(
        vec![granted()],
        grant("h-ind", "10000", "3", day(2021, 7, 1)),
        AdvanceError::AlreadyGranted,
    );
}

#[test]
fn only_a_shareholder_lends_on_current_account() {
    advance_refused(
        vec![],
        grant("h-x", "10000", "3", day(2021, 7, 1)),
        AdvanceError::NotAShareholder(holder("h-x"), day(2021, 7, 1)),
    );
}

#[test]
fn an_advance_is_lent_to_the_cent_and_above_zero() {
    for amount in ["0", "10000.001"] {
        advance_refused(
            vec![],
            grant("h-ind", amount, "3", day(2021, 7, 1)),
            AdvanceError::InvalidAmount {
                what: "the advance",
                amount: eur(amount),
            },
        );
    }
}

#[test]
fn an_interest_rate_is_between_0_and_100_per_cent() {
    for rate in ["-0.5", "100.01"] {
        advance_refused(
            vec![],
            grant("h-ind", "10000", rate, day(2021, 7, 1)),
            AdvanceError::InvalidRate(dec(rate)),
        );
    }
    advance_accepted(
        vec![],
        grant("h-ind", "10000", "0", day(2021, 7, 1)),
        AdvanceEvent::AdvanceGranted {
            advance: advance_id(),
            holder: holder("h-ind"),
            amount: eur("10000"),
            annual_rate: Decimal::ZERO,
            granted_on: day(2021, 7, 1),
        },
    );
}

#[test]
fn an_advance_cannot_be_granted_before_the_company_is_known() {
    advance_refused(
        vec![],
        grant("h-ind", "10000", "3", day(2018, 12, 31)),
        AdvanceError::Lookup(LookupError(
            "no cap table is known on 2018-12-31".to_owned(),
        )),
    );
}

#[test]
fn a_failed_register_lookup_refuses_the_advance_so_it_can_be_retried() {
    TestFramework::<CurrentAccountAdvance>::with(AdvanceServices::new(
        chrono::DateTime::<chrono::Utc>::MAX_UTC,
        UnreachableCompany,
    ))
    .given_no_previous_events()
    .when(grant("h-ind", "10000", "3", day(2021, 7, 1)))
    .then_expect_error(AdvanceError::Lookup(LookupError(
        "the company stream is unreachable".to_owned(),
    )));
}

#[test]
fn a_repayment_lowers_the_principal_owed() {
    advance_accepted(
        vec![granted()],
        repay("4000", day(2021, 10, 1)),
        repaid("4000", day(2021, 10, 1), "6000"),
    );
    advance_accepted(
        granted_and_repaid(),
        repay("6000", day(2022, 3, 1)),
        repaid("6000", day(2022, 3, 1), "0"),
    );
}

#[test]
fn nothing_is_repaid_or_accrued_before_the_advance() {
    advance_refused(
        vec![],
        repay("4000", day(2021, 10, 1)),
        AdvanceError::NotGranted,
    );
    advance_refused(
        vec![],
        accrue(2021, "5", day(2022, 1, 10)),
        AdvanceError::NotGranted,
    );
}

#[test]
fn a_repayment_is_to_the_cent_and_above_zero() {
    for amount in ["0", "1.005"] {
        advance_refused(
            vec![granted()],
            repay(amount, day(2021, 10, 1)),
            AdvanceError::InvalidAmount {
                what: "the repayment",
                amount: eur(amount),
            },
        );
    }
}

#[test]
fn a_repayment_is_never_above_what_is_owed() {
    advance_refused(
        granted_and_repaid(),
        repay("6000.01", day(2022, 3, 1)),
        AdvanceError::RepaymentAboveOutstanding {
            amount: eur("6000.01"),
            outstanding: eur("6000"),
        },
    );
}

#[test]
fn facts_are_recorded_in_date_order() {
    advance_refused(
        vec![granted()],
        repay("4000", day(2021, 6, 30)),
        AdvanceError::DateTooEarly {
            date: day(2021, 6, 30),
            latest: day(2021, 7, 1),
        },
    );
    // Accrued on 2022-01-15 after a repayment of 2022-02-01.
    advance_refused(
        with_advance(
            granted_and_repaid(),
            [repaid("1000", day(2022, 2, 1), "5000")],
        ),
        accrue(2021, "5", day(2022, 1, 15)),
        AdvanceError::DateTooEarly {
            date: day(2022, 1, 15),
            latest: day(2022, 2, 1),
        },
    );
    // A repayment dated before an accrual already recorded.
    advance_refused(
        with_advance(granted_and_repaid(), [interest_2021()]),
        repay("1000", day(2021, 12, 1)),
        AdvanceError::DateTooEarly {
            date: day(2021, 12, 1),
            latest: day(2022, 1, 10),
        },
    );
}

fn with_advance(
    events: Vec<AdvanceEvent>,
    more: impl IntoIterator<Item = AdvanceEvent>,
) -> Vec<AdvanceEvent> {
    let mut events = events;
    events.extend(more);
    events
}

/// 2021 at 3 %: 10,000.00 from 2021-07-01 to 2021-09-30 (92 days), then
/// 6,000.00 to 2021-12-31 (92 days): (10,000 x 92 + 6,000 x 92) x 3 % / 365
/// = 120.9863... -> 120.99.
fn interest_2021() -> AdvanceEvent {
    interest_accrued(
        (2021, "5", day(2022, 1, 10)),
        "3",
        365,
        periods_2021(),
        "120.99",
    )
}

/// The principals owed in 2021: 10,000.00 then 6,000.00, 92 days each.
fn periods_2021() -> Vec<InterestPeriod> {
    vec![
        period(day(2021, 7, 1), day(2021, 9, 30), "10000", 92),
        period(day(2021, 10, 1), day(2021, 12, 31), "6000", 92),
    ]
}

/// Interest accrued as `accrue(year, ceiling, accrued_on)` asks, at
/// `rate_applied`, with no withholding.
fn interest_accrued(
    (year, ceiling, accrued_on): (i32, &str, NaiveDate),
    rate_applied: &str,
    days_in_year: u32,
    periods: Vec<InterestPeriod>,
    interest: &str,
) -> AdvanceEvent {
    AdvanceEvent::InterestAccrued {
        year,
        rate_applied: dec(rate_applied),
        rate_ceiling: dec(ceiling),
        days_in_year,
        periods,
        interest: eur(interest),
        accrued_on,
        withholding: None,
    }
}

/// The interest `accrue(year, ceiling, accrued_on)` asks for on `given`,
/// accepted as `interest_accrued` of the same.
fn interest_accepted(
    given: Vec<AdvanceEvent>,
    (year, ceiling, accrued_on): (i32, &str, NaiveDate),
    rate_applied: &str,
    days_in_year: u32,
    periods: Vec<InterestPeriod>,
    interest: &str,
) {
    advance_accepted(
        given,
        accrue(year, ceiling, accrued_on),
        interest_accrued(
            (year, ceiling, accrued_on),
            rate_applied,
            days_in_year,
            periods,
            interest,
        ),
    );
}

#[test]
fn interest_runs_on_each_principal_for_its_actual_days() {
    advance_accepted(
        granted_and_repaid(),
        accrue(2021, "5", day(2022, 1, 10)),
        interest_2021(),
    );
}

#[test]
fn a_ceiling_lower_than_the_agreed_rate_applies() {
    // (10,000 x 92 + 6,000 x 92) x 2.5 % / 365 = 100.8219... -> 100.82.
    interest_accepted(
        granted_and_repaid(),
        (2021, "2.5", day(2022, 1, 10)),
        "2.5",
        365,
        periods_2021(),
        "100.82",
    );
}

#[test]
fn a_whole_year_earns_the_rate_on_the_principal_owed() {
    interest_accepted(
        with_advance(granted_and_repaid(), [interest_2021()]),
        (2022, "5", day(2023, 1, 10)),
        "3",
        365,
        vec![period(day(2022, 1, 1), day(2022, 12, 31), "6000", 365)],
        "180",
    );
}

#[test]
fn a_leap_year_counts_366_days_and_nothing_runs_once_repaid() {
    // 6,000.00 from 2024-01-01 to 2024-02-29 (60 days), repaid on
    // 2024-03-01: 6,000 x 3 % x 60 / 366 = 29.5081... -> 29.51.
    interest_accepted(
        with_advance(granted_and_repaid(), [repaid("6000", day(2024, 3, 1), "0")]),
        (2024, "5", day(2025, 1, 10)),
        "3",
        366,
        vec![period(day(2024, 1, 1), day(2024, 2, 29), "6000", 60)],
        "29.51",
    );
}

#[test]
fn interest_of_a_year_is_accrued_once() {
    advance_refused(
        with_advance(granted_and_repaid(), [interest_2021()]),
        accrue(2021, "5", day(2022, 2, 1)),
        AdvanceError::AlreadyAccrued(2021),
    );
}

#[test]
fn no_interest_is_accrued_for_a_year_before_the_advance() {
    advance_refused(
        granted_and_repaid(),
        accrue(2020, "5", day(2022, 1, 10)),
        AdvanceError::YearBeforeGrant {
            year: 2020,
            granted_on: day(2021, 7, 1),
        },
    );
}

#[test]
fn interest_is_accrued_once_the_year_has_ended() {
    advance_refused(
        granted_and_repaid(),
        accrue(2021, "5", day(2021, 12, 31)),
        AdvanceError::YearNotEnded {
            year: 2021,
            accrued_on: day(2021, 12, 31),
        },
    );
}

#[test]
fn a_year_that_cannot_have_ended_is_not_ended() {
    // year_bounds() fails for a year chrono cannot represent, and the
    // refusal names the (valid) rate ceiling instead of the year.
    advance_refused(
        granted_and_repaid(),
        accrue(300_000, "5", day(2022, 1, 10)),
        AdvanceError::YearNotEnded {
            year: 300_000,
            accrued_on: day(2022, 1, 10),
        },
    );
}

#[test]
fn a_rate_ceiling_is_between_0_and_100_per_cent() {
    for ceiling in ["-0.1", "101"] {
        advance_refused(
            granted_and_repaid(),
            accrue(2021, ceiling, day(2022, 1, 10)),
            AdvanceError::InvalidRate(dec(ceiling)),
        );
    }
}

#[test]
fn the_advance_reads_its_lender_and_what_is_owed() {
    let mut advance = CurrentAccountAdvance::default();
    assert_eq!(advance.holder(), None);
    assert_eq!(advance.outstanding(), Euros::ZERO);
    for event in granted_and_repaid() {
        advance.apply(event);
    }
    assert_eq!(advance.holder(), Some(&holder("h-ind")));
    assert_eq!(advance.outstanding(), eur("6000"));
}

// --- Interest withheld and paid -------------------------------------------

/// The advance of `granted_and_repaid`, lent by the individual h-c1.
fn granted_by_individual() -> Vec<AdvanceEvent> {
    let mut grant = granted();
    let AdvanceEvent::AdvanceGranted { holder: lender, .. } = &mut grant else {
        unreachable!("granted() is a grant")
    };
    *lender = holder("h-c1");
    vec![grant, repaid("4000", day(2021, 10, 1), "6000")]
}

fn accrue_withheld(status: Option<WithholdingStatus>) -> AdvanceCommand {
    AdvanceCommand::AccrueInterest {
        year: 2021,
        rate_ceiling: dec("5"),
        accrued_on: day(2022, 1, 10),
        withholding: Some(WithholdingRates::default()),
        withholding_status: status,
    }
}

/// `interest_2021` with what is withheld from its 120.99.
fn interest_2021_withheld(
    status: Option<WithholdingStatus>,
    income_tax: &str,
    social: &str,
    net: &str,
) -> AdvanceEvent {
    let mut accrued = interest_2021();
    let AdvanceEvent::InterestAccrued { withholding, .. } = &mut accrued else {
        unreachable!("interest_2021() is an accrual")
    };
    *withholding = Some(InterestWithholding {
        rates: WithholdingRates::default(),
        status,
        income_tax: eur(income_tax),
        social_contributions: eur(social),
        net: eur(net),
    });
    accrued
}

/// The interest of 2021 accrued on `given` for a lender of `status`, with
/// its income tax, social contributions and net.
fn interest_withheld_accepted(
    given: Vec<AdvanceEvent>,
    status: Option<WithholdingStatus>,
    [income_tax, social, net]: [&str; 3],
) {
    advance_accepted(
        given,
        accrue_withheld(status),
        interest_2021_withheld(status, income_tax, social, net),
    );
}

#[test]
fn an_individuals_interest_is_withheld_at_12_8_and_17_2_per_cent() {
    // 120.99 x 12.8 % = 15.48672 -> 15.49; x 17.2 % = 20.81028 -> 20.81.
    interest_withheld_accepted(granted_by_individual(), None, ["15.49", "20.81", "84.69"]);
}

#[test]
fn an_exempt_individual_pays_the_social_contributions_only() {
    interest_withheld_accepted(
        granted_by_individual(),
        Some(WithholdingStatus::Exempt),
        ["0", "20.81", "100.18"],
    );
}

#[test]
fn a_legal_persons_interest_is_not_withheld() {
    interest_withheld_accepted(granted_and_repaid(), None, ["0", "0", "120.99"]);
}

#[test]
fn a_status_needs_its_rates() {
    let mut command = accrue_withheld(Some(WithholdingStatus::Exempt));
    if let AdvanceCommand::AccrueInterest { withholding, .. } = &mut command {
        *withholding = None;
    }
    advance_refused(
        granted_by_individual(),
        command,
        AdvanceError::StatusWithoutRates,
    );
}

#[test]
fn interest_is_paid_once_its_net() {
    let accrued = with_advance(
        granted_by_individual(),
        [interest_2021_withheld(None, "15.49", "20.81", "84.69")],
    );
    let pay = |on| AdvanceCommand::PayInterest {
        year: 2021,
        paid_on: on,
    };
    advance_accepted(
        accrued.clone(),
        pay(day(2022, 2, 1)),
        AdvanceEvent::InterestPaid {
            year: 2021,
            amount: eur("84.69"),
            paid_on: day(2022, 2, 1),
        },
    );
    let paid = with_advance(
        accrued.clone(),
        [AdvanceEvent::InterestPaid {
            year: 2021,
            amount: eur("84.69"),
            paid_on: day(2022, 2, 1),
        }],
    );
    advance_refused(
        paid,
        pay(day(2022, 3, 1)),
        AdvanceError::InterestAlreadyPaid(2021),
    );
    advance_refused(
        accrued.clone(),
        AdvanceCommand::PayInterest {
            year: 2022,
            paid_on: day(2023, 2, 1),
        },
        AdvanceError::InterestNotAccrued(2022),
    );
    // Before the accrual: dates never go back.
    advance_refused(
        accrued,
        pay(day(2022, 1, 9)),
        AdvanceError::DateTooEarly {
            date: day(2022, 1, 9),
            latest: day(2022, 1, 10),
        },
    );
    // An accrual recorded without rates is paid gross.
    advance_accepted(
        with_advance(granted_and_repaid(), [interest_2021()]),
        pay(day(2022, 2, 1)),
        AdvanceEvent::InterestPaid {
            year: 2021,
            amount: eur("120.99"),
            paid_on: day(2022, 2, 1),
        },
    );
}

#[test]
fn a_non_residents_interest_waits_for_the_operators_decision() {
    let non_resident = Some(WithholdingStatus::NonResident);
    interest_withheld_accepted(granted_by_individual(), non_resident, ["0", "0", "120.99"]);
    let accrued = with_advance(
        granted_by_individual(),
        [interest_2021_withheld(non_resident, "0", "0", "120.99")],
    );
    let pay = AdvanceCommand::PayInterest {
        year: 2021,
        paid_on: day(2022, 2, 1),
    };
    advance_refused(
        accrued.clone(),
        pay.clone(),
        AdvanceError::InterestWithholdingUndecided(2021),
    );
    let decide = |tax: &str| AdvanceCommand::DecideWithholding {
        year: 2021,
        income_tax: eur(tax),
        social_contributions: eur("0"),
    };
    let decided = AdvanceEvent::WithholdingDecided {
        year: 2021,
        income_tax: eur("12.10"),
        social_contributions: eur("0"),
        net: eur("108.89"),
    };
    advance_accepted(accrued.clone(), decide("12.10"), decided.clone());
    advance_refused(
        accrued.clone(),
        decide("121"),
        AdvanceError::InterestWithheldAboveGross {
            year: 2021,
            withheld: eur("121"),
            gross: eur("120.99"),
        },
    );
    let with_decision = with_advance(accrued, [decided]);
    advance_refused(
        with_decision.clone(),
        decide("1"),
        AdvanceError::InterestWithholdingAlreadyDecided(2021),
    );
    advance_accepted(
        with_decision,
        pay,
        AdvanceEvent::InterestPaid {
            year: 2021,
            amount: eur("108.89"),
            paid_on: day(2022, 2, 1),
        },
    );
    // A resident's withholding follows the rule: nothing to decide.
    advance_refused(
        with_advance(
            granted_by_individual(),
            [interest_2021_withheld(None, "15.49", "20.81", "84.69")],
        ),
        decide("1"),
        AdvanceError::InterestNotNonResident(2021),
    );
}

#[test]
fn a_lenders_status_fits_its_kind() {
    advance_refused(
        granted_by_individual(),
        accrue_withheld(Some(WithholdingStatus::MembersWithheld)),
        AdvanceError::WithholdingStatusMisfit,
    );
    advance_refused(
        granted_and_repaid(),
        accrue_withheld(Some(WithholdingStatus::Exempt)),
        AdvanceError::WithholdingStatusMisfit,
    );
}
