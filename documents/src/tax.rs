//! The tax paperwork of what the company pays its holders, from the
//! ledger's payments as recorded (`DividendPaid`, at the bank's booking
//! date) and their allocations:
//!
//! Current-account interest is reported as it is paid (`InterestPaid`),
//! with what its accrual decided to withhold.
//!
//! - [`withholding_returns`]: the monthly return of what was withheld
//!   (form 2777), per month of payment and kind of income (dividends,
//!   interest): the base and the income-tax
//!   withholding (12.8 % by default, and a non-resident's as decided), the
//!   base and the social contributions (17.2 %), due by the 15th of the
//!   month after (CGI art. 1671 C); as CSV and as a PDF/A summary;
//! - [`ifu`]: the IFU (form 2561) of a calendar year, one line per
//!   beneficiary: the gross dividends (eligible for the 40 % allowance
//!   when paid to an individual), the current-account interest paid in
//!   the year, and what was withheld; with the check that the lines add up
//!   to the year's payments, to the cent. As a CSV for the accountant and
//!   a PDF/A with one part per beneficiary (named from the vault, as the
//!   2561 asks: name, birth or SIREN, address).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use windledger_domain::company::HolderKind;
use windledger_domain::finance::YearMonth;
use windledger_domain::money::Euros;
use windledger_domain::types::HolderId;
use windledger_french::documents as words;
use windledger_french::format;
use windledger_projections::runner::Projections;

use crate::csv::row;
use crate::pdf::{A4_PORTRAIT, Font};
use crate::postal_form::Parts;
use crate::register::{MARGIN, SMALL, TEXT};
use crate::{DocumentError, Drawn};

/// The day of the month after a payment by which its withholding is
/// declared and paid (CGI art. 1671 C).
pub const DUE_DAY: u32 = 15;

/// What kind of income a payment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Income {
    Dividends,
    /// Current-account interest.
    Interest,
}

impl Income {
    /// The CSVs' word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dividends => "dividends",
            Self::Interest => "interest",
        }
    }
}

/// A dividend or a year's interest paid, with what was withheld from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub income: Income,
    pub holder: HolderId,
    pub kind: HolderKind,
    /// The financial year the dividend is of, or the year the interest
    /// ran.
    pub financial_year: i32,
    pub paid_on: NaiveDate,
    pub gross: Euros,
    pub income_tax: Euros,
    pub social_contributions: Euros,
}

/// Every dividend paid, by financial year then in the allocations' order,
/// then every interest paid, by advance then year.
pub fn payments(projections: &Projections) -> Vec<Payment> {
    let mut paid = paid_dividends(projections);
    let cap_table = projections.cap_table.fold();
    for (_, advance) in projections.finance.fold().advances() {
        let kind = cap_table
            .holder(&advance.holder)
            .map_or(HolderKind::Company, |h| h.kind);
        for (year, interest) in &advance.interest {
            let Some(p) = &interest.paid else {
                continue;
            };
            let (income_tax, social_contributions) = interest.withheld();
            paid.push(Payment {
                income: Income::Interest,
                holder: advance.holder.clone(),
                kind,
                financial_year: *year,
                paid_on: p.paid_on,
                gross: interest.gross,
                income_tax,
                social_contributions,
            });
        }
    }
    paid
}

/// Every dividend paid, by financial year then in the allocations' order.
pub fn paid_dividends(projections: &Projections) -> Vec<Payment> {
    let finance = projections.finance.fold();
    let mut paid = Vec::new();
    for year in finance.years() {
        let Some(dividend) = &year.dividend else {
            continue;
        };
        for a in &dividend.allocations {
            if let Some(p) = &a.paid {
                paid.push(Payment {
                    income: Income::Dividends,
                    holder: a.holder.clone(),
                    kind: a.kind,
                    financial_year: year.year,
                    paid_on: p.paid_on,
                    gross: a.gross,
                    income_tax: a.income_tax,
                    social_contributions: a.social_contributions,
                });
            }
        }
    }
    paid
}

/// One month's return of the withholding (form 2777) on one kind of
/// income (the form has its lines for each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlyReturn {
    /// The month of the payments.
    pub month: YearMonth,
    pub income: Income,
    /// Payments with anything withheld.
    pub payments: usize,
    /// The gross of the payments with income tax withheld.
    pub income_tax_base: Euros,
    pub income_tax: Euros,
    /// The gross of the payments with social contributions withheld.
    pub social_base: Euros,
    pub social_contributions: Euros,
    /// The day the return and its payment are due.
    pub due_on: NaiveDate,
}

impl MonthlyReturn {
    /// What the month's return pays in all.
    pub fn total(&self) -> Option<Euros> {
        sum([self.income_tax, self.social_contributions])
    }
}

/// Why figures cannot be given: a sum beyond what euros hold.
fn overflow() -> DocumentError {
    DocumentError::Figures("a tax total does not fit".to_owned())
}

fn sum(amounts: impl IntoIterator<Item = Euros>) -> Option<Euros> {
    amounts
        .into_iter()
        .try_fold(0u64, |s, a| s.checked_add(a.cents()?))
        .map(Euros::from_cents)
}

fn add(total: &mut Euros, more: Euros) -> Result<(), DocumentError> {
    *total = sum([*total, more]).ok_or_else(overflow)?;
    Ok(())
}

/// The returns of the months of calendar year `year` in which a dividend
/// or interest with anything withheld was paid, in month order, dividends
/// before interest.
pub fn withholding_returns(
    projections: &Projections,
    year: i32,
) -> Result<Vec<MonthlyReturn>, DocumentError> {
    let mut months: BTreeMap<(YearMonth, Income), MonthlyReturn> = BTreeMap::new();
    for p in payments(projections) {
        if p.paid_on.year() != year
            || (p.income_tax == Euros::ZERO && p.social_contributions == Euros::ZERO)
        {
            continue;
        }
        let month = YearMonth::of(p.paid_on);
        let r = months
            .entry((month, p.income))
            .or_insert_with(|| MonthlyReturn {
                month,
                income: p.income,
                payments: 0,
                income_tax_base: Euros::ZERO,
                income_tax: Euros::ZERO,
                social_base: Euros::ZERO,
                social_contributions: Euros::ZERO,
                due_on: month
                    .first_day_after()
                    .with_day(DUE_DAY)
                    .unwrap_or(NaiveDate::MAX),
            });
        r.payments += 1;
        if p.income_tax != Euros::ZERO {
            add(&mut r.income_tax_base, p.gross)?;
            add(&mut r.income_tax, p.income_tax)?;
        }
        if p.social_contributions != Euros::ZERO {
            add(&mut r.social_base, p.gross)?;
            add(&mut r.social_contributions, p.social_contributions)?;
        }
    }
    Ok(months.into_values().collect())
}

/// One beneficiary's IFU of a calendar year (form 2561).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IfuLine {
    pub holder: HolderId,
    pub kind: HolderKind,
    /// Gross dividends paid to an individual: eligible for the 40 %
    /// allowance (CGI art. 158, 3-2°).
    pub eligible_dividends: Euros,
    /// Gross dividends paid to a holder that is not an individual.
    pub other_dividends: Euros,
    /// Current-account interest paid in the year (gross).
    pub interest: Euros,
    /// Income tax withheld from the dividends (the instalment the
    /// beneficiary deducts from their tax).
    pub income_tax_withheld: Euros,
    pub social_withheld: Euros,
    /// Dividends and interest paid in the year.
    pub payments: usize,
}

/// The IFU lines of calendar year `year`: one per holder paid a dividend
/// or interest in the year, in holder order. Checked: the lines add up to
/// the year's payments, to the cent.
pub fn ifu(projections: &Projections, year: i32) -> Result<Vec<IfuLine>, DocumentError> {
    let mut lines: BTreeMap<HolderId, IfuLine> = BTreeMap::new();
    let mut paid_total = Euros::ZERO;
    for p in payments(projections) {
        if p.paid_on.year() != year {
            continue;
        }
        add(&mut paid_total, p.gross)?;
        let l = line(&mut lines, &p.holder, p.kind);
        let into = match (p.income, p.kind) {
            (Income::Interest, _) => &mut l.interest,
            (Income::Dividends, HolderKind::Individual) => &mut l.eligible_dividends,
            (Income::Dividends, _) => &mut l.other_dividends,
        };
        add(into, p.gross)?;
        add(&mut l.income_tax_withheld, p.income_tax)?;
        add(&mut l.social_withheld, p.social_contributions)?;
        l.payments += 1;
    }
    let listed = sum(lines
        .values()
        .flat_map(|l| [l.eligible_dividends, l.other_dividends, l.interest]))
    .ok_or_else(overflow)?;
    if listed != paid_total {
        return Err(DocumentError::Figures(format!(
            "the IFU lines of {year} list {listed} of income, the payments of the year {paid_total}"
        )));
    }
    Ok(lines.into_values().collect())
}

fn line<'a>(
    lines: &'a mut BTreeMap<HolderId, IfuLine>,
    holder: &HolderId,
    kind: HolderKind,
) -> &'a mut IfuLine {
    lines.entry(holder.clone()).or_insert_with(|| IfuLine {
        holder: holder.clone(),
        kind,
        eligible_dividends: Euros::ZERO,
        other_dividends: Euros::ZERO,
        interest: Euros::ZERO,
        income_tax_withheld: Euros::ZERO,
        social_withheld: Euros::ZERO,
        payments: 0,
    })
}

/// An amount as the CSVs write it: `1234.56`.
fn plain(e: Euros) -> String {
    let c = e.cents().unwrap_or(0);
    format!("{}.{:02}", c / 100, c % 100)
}

/// The returns as CSV (`;`, UTF-8): one line a month.
pub fn withholding_returns_csv(returns: &[MonthlyReturn]) -> Vec<u8> {
    let mut out = Vec::new();
    row(
        &mut out,
        &[
            "month",
            "income",
            "payments",
            "income_tax_base",
            "income_tax",
            "social_base",
            "social_contributions",
            "total",
            "due_on",
        ],
        ';',
    );
    for r in returns {
        row(
            &mut out,
            &[
                &r.month.to_string(),
                r.income.as_str(),
                &r.payments.to_string(),
                &plain(r.income_tax_base),
                &plain(r.income_tax),
                &plain(r.social_base),
                &plain(r.social_contributions),
                &plain(r.total().unwrap_or(Euros::ZERO)),
                &r.due_on.to_string(),
            ],
            ';',
        );
    }
    out
}

/// The returns of `year` as a PDF/A summary: one row a month, the year's
/// totals.
pub fn withholding_returns_pdf(
    drawn: &Drawn,
    year: i32,
    returns: &[MonthlyReturn],
) -> Result<Vec<u8>, DocumentError> {
    let font = Font::load()?;
    let title = format!("{} — {year}", words::WITHHOLDING_TITLE);
    let header = Parts::header_under(&font, A4_PORTRAIT, &title, drawn, words::WITHHOLDING_LAW);
    let mut parts = Parts::new(&font, A4_PORTRAIT, header, None);
    parts.begin();
    let width = parts.width();
    let columns = words::WITHHOLDING_COLUMNS.len() as f32;
    let step = width / columns;
    let cells = |r: Option<&MonthlyReturn>, totals: &[Euros; 4], n: usize| -> Vec<String> {
        match r {
            Some(r) => vec![
                match r.income {
                    Income::Dividends => format::month(r.month),
                    Income::Interest => format!("{} ({})", format::month(r.month), words::INTEREST),
                },
                format::int(r.payments as u64),
                format::euros(r.income_tax_base.amount()),
                format::euros(r.income_tax.amount()),
                format::euros(r.social_base.amount()),
                format::euros(r.social_contributions.amount()),
                format::euros(r.total().unwrap_or(Euros::ZERO).amount()),
                format::date(r.due_on),
            ],
            None => vec![
                "Total".to_owned(),
                format::int(n as u64),
                format::euros(totals[0].amount()),
                format::euros(totals[1].amount()),
                format::euros(totals[2].amount()),
                format::euros(totals[3].amount()),
                format::euros(sum([totals[1], totals[3]]).unwrap_or(Euros::ZERO).amount()),
                String::new(),
            ],
        }
    };
    let write_row = |parts: &mut Parts<'_>, texts: &[String]| {
        let wrapped: Vec<Vec<String>> = texts
            .iter()
            .map(|t| parts.lines(t, SMALL, step - 4.0))
            .collect();
        let height = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        parts.room(Parts::height(height, SMALL) + 2.0);
        let top = parts.y;
        for (i, lines) in wrapped.iter().enumerate() {
            for (j, l) in lines.iter().enumerate() {
                let y = top - (j as f32 + 1.0) * (SMALL + 4.0);
                parts.text_at(MARGIN + i as f32 * step, y, SMALL, l.clone());
            }
        }
        parts.gap(Parts::height(height, SMALL) + 2.0);
    };
    let heads: Vec<String> = words::WITHHOLDING_COLUMNS
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    write_row(&mut parts, &heads);
    parts.rule();
    let mut totals = [Euros::ZERO; 4];
    let mut payments = 0;
    for r in returns {
        write_row(&mut parts, &cells(Some(r), &totals, 0));
        for (t, v) in totals.iter_mut().zip([
            r.income_tax_base,
            r.income_tax,
            r.social_base,
            r.social_contributions,
        ]) {
            add(t, v)?;
        }
        payments += r.payments;
    }
    parts.rule();
    write_row(&mut parts, &cells(None, &totals, payments));
    if returns.is_empty() {
        parts.gap(6.0);
        parts.paragraph(TEXT, &format!("Aucun versement avec retenue en {year}."));
    }
    parts.end(None);
    parts.finish(&title)
}

/// Who a beneficiary is, as the 2561 names them (from the vault).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Beneficiary {
    pub name: String,
    /// "Né(e) le 1er mai 1970 à Redon", or "SIREN 123 456 789".
    pub identification: Option<String>,
    pub address: Vec<String>,
}

/// The IFU lines as CSV for the accountant (`;`, UTF-8), beneficiaries
/// named where `names` knows them.
pub fn ifu_csv(lines: &[IfuLine], names: &BTreeMap<HolderId, Beneficiary>) -> Vec<u8> {
    let mut out = Vec::new();
    row(
        &mut out,
        &[
            "holder",
            "name",
            "identification",
            "address",
            "eligible_dividends",
            "other_dividends",
            "interest",
            "income_tax_withheld",
            "social_withheld",
            "payments",
        ],
        ';',
    );
    for l in lines {
        let b = names.get(&l.holder);
        row(
            &mut out,
            &[
                l.holder.as_str(),
                b.map_or("", |b| b.name.as_str()),
                b.and_then(|b| b.identification.as_deref()).unwrap_or(""),
                &b.map(|b| b.address.join(", ")).unwrap_or_default(),
                &plain(l.eligible_dividends),
                &plain(l.other_dividends),
                &plain(l.interest),
                &plain(l.income_tax_withheld),
                &plain(l.social_withheld),
                &l.payments.to_string(),
            ],
            ';',
        );
    }
    out
}

/// The IFU of each of `lines` for `year`, one part per beneficiary, in
/// one PDF/A (one line: a beneficiary's own).
pub fn ifu_pdf(
    drawn: &Drawn,
    year: i32,
    lines: &[IfuLine],
    names: &BTreeMap<HolderId, Beneficiary>,
) -> Result<Vec<u8>, DocumentError> {
    let font = Font::load()?;
    let title = format!("{} — {}", words::IFU_TITLE, words::ifu_year(year));
    let header = Parts::header_under(&font, A4_PORTRAIT, &title, drawn, words::IFU_LAW);
    let mut parts = Parts::new(&font, A4_PORTRAIT, header, None);
    let amount_x = MARGIN + parts.width() - 90.0;
    for l in lines {
        parts.begin();
        parts.paragraph(TEXT, &format!("{} : {}", words::IFU_PAYER, drawn.company));
        parts.gap(4.0);
        let b = names.get(&l.holder);
        let name = b.map_or_else(|| l.holder.to_string(), |b| b.name.clone());
        parts.paragraph(
            TEXT,
            &format!("{} : {name} (associé {})", words::IFU_BENEFICIARY, l.holder),
        );
        if let Some(b) = b {
            if let Some(id) = &b.identification {
                parts.paragraph_at(12.0, TEXT, id);
            }
            for a in &b.address {
                parts.paragraph_at(12.0, TEXT, a);
            }
        }
        parts.gap(6.0);
        parts.rule();
        for (label, amount) in [
            (words::IFU_ELIGIBLE, l.eligible_dividends),
            (words::IFU_OTHER, l.other_dividends),
            (words::IFU_INTEREST, l.interest),
            (words::IFU_INCOME_TAX, l.income_tax_withheld),
            (words::IFU_SOCIAL, l.social_withheld),
        ] {
            parts.room(TEXT + 6.0);
            parts.gap(TEXT + 6.0);
            let y = parts.y;
            parts.text_at(MARGIN, y, TEXT, label);
            parts.text_at(amount_x, y, TEXT, format::euros(amount.amount()));
        }
        parts.end(Some(l.holder.as_str()));
    }
    if lines.is_empty() {
        parts.begin();
        parts.paragraph(TEXT, &format!("Aucun revenu versé en {year}."));
        parts.end(None);
    }
    parts.finish(&title)
}
