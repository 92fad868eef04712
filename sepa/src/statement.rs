//! A bank statement read back: one [`StatementLine`] a transfer, with its
//! end-to-end id, amount, direction, booking date and whether the bank
//! booked it, has it pending, or gave it back. windledger matches the
//! lines to the transfers it sent by end-to-end id (`DIV-2025-00042`) and
//! records a payment at the bank's booking date; a pending or returned
//! line records nothing.
//!
//! [`read`] takes either format: camt.053 when the first non-blank
//! character (after an optional UTF-8 byte order mark) is `<`, the CSV
//! otherwise. Both must be UTF-8. Nothing here panics, whatever the bytes.
//!
//! # camt.053 (ISO 20022 bank-to-customer statement)
//!
//! Any version `urn:iso:std:iso:20022:tech:xsd:camt.053.001.XX` (the
//! schema of `third_party/iso20022` is `.08`; `.02` files read too).
//! Elements are matched by local name, so any namespace prefix works. The
//! root must be `Document` in such a namespace, its first child
//! `BkToCstmrStmt`; a document type declaration (`<!DOCTYPE`) is refused.
//!
//! Every `Document/BkToCstmrStmt/Stmt/Ntry` (an entry, numbered from 1
//! across the file) gives one line per `NtryDtls/TxDtls` (a transaction,
//! numbered from 1 within its entry), or one line without end-to-end id
//! when it has none:
//!
//! | field | from |
//! | --- | --- |
//! | end-to-end id | `TxDtls/Refs/EndToEndId`, trimmed; none when absent, empty or `NOTPROVIDED` |
//! | amount, currency | `TxDtls/Amt`, else `TxDtls/AmtDtls/TxAmt/Amt`, else (an entry of at most one transaction) `Ntry/Amt`; its `Ccy` attribute. A decimal with at most 2 significant decimals, no sign, no exponent |
//! | direction | `TxDtls/CdtDbtInd`, else `Ntry/CdtDbtInd`: `DBIT` a debit, `CRDT` a credit |
//! | booking date | `Ntry/BookgDt/Dt` (`YYYY-MM-DD`), or the date as written of `Ntry/BookgDt/DtTm` |
//! | status | returned when `TxDtls/RtrInf` is present or `Ntry/RvslInd` is true (reason: `RtrInf/Rsn/Cd`, else `RtrInf/Rsn/Prtry`, else the first `RtrInf/AddtlInf`); else booked when `Ntry/Sts/Cd` (or, as in `.02`, `Ntry/Sts` itself) is `BOOK`; else pending (`PDNG`, `INFO`, none) |
//!
//! # CSV
//!
//! For a bank that gives no camt.053: a header row, then one row a
//! transfer paid (every line is a [`Direction::Debit`]). The separator is
//! `;` when the header row holds one, `,` otherwise; every row has as
//! many cells as the header (a cell holding the separator is quoted).
//! Columns are found by their header's name, case-insensitive, in any
//! order; other columns are ignored:
//!
//! | column | |
//! | --- | --- |
//! | `end_to_end_id` | required; an empty cell or `NOTPROVIDED`: no id |
//! | `amount` | required; euros, `.` or `,` before at most 2 decimals, no sign, no thousands separator: `1234.56`, `1234,5` |
//! | `booking_date` | required (the column; the cell for booked lines): `YYYY-MM-DD` or `DD/MM/YYYY` |
//! | `status` | required: `booked`, `pending` or `rejected`, or in French `comptabilisé`, `en attente`, `rejeté` (accents optional), any case |
//! | `reason` | optional: why a rejected transfer came back (`AC04`, a text) |
//! | `currency` | optional: three letters, `EUR` when absent or empty |
//!
//! ```text
//! end_to_end_id;amount;booking_date;status;reason
//! DIV-2025-00042;123,45;02/06/2025;comptabilisé;
//! DIV-2025-00043;80,00;;en attente;
//! DIV-2025-00044;15,10;03/06/2025;rejeté;AC04
//! ```
//!
//! A line's [`StatementLine::place`] says where it is, for a person:
//! `entry 3, transaction 2` (or `entry 3`), or `line 5` of the CSV, the
//! header being line 1. At most [`MAX_LINES`] lines are read.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use quick_xml::escape::resolve_xml_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use thiserror::Error;

use crate::Cents;

/// The most lines a statement may give.
pub const MAX_LINES: usize = 200_000;

/// Every camt.053 namespace starts so, then the version (`08`).
const CAMT053_NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.";
/// What the end-to-end id says when the payer gave none.
const NOT_PROVIDED: &str = "NOTPROVIDED";
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Debit: money out of the company's account (a transfer paid); credit:
/// in (e.g. a transfer returned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Debit,
    Credit,
}

/// Where a line stands at the bank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineStatus {
    /// Booked by the bank (camt `Sts/Cd` BOOK; CSV `booked`).
    Booked,
    /// Not booked yet (camt PDNG or INFO, or no status; CSV `pending`).
    Pending,
    /// The transfer came back or was rejected: camt `TxDtls/RtrInf`
    /// present, or the entry's `RvslInd` true; CSV `rejected`. `reason`:
    /// the ISO reason code (`RtrInf/Rsn/Cd`) or text (`Rsn/Prtry`,
    /// `AddtlInf`), or the CSV's reason column.
    Returned { reason: Option<String> },
}

/// One transfer as the bank's statement tells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementLine {
    /// None when absent or `NOTPROVIDED`.
    pub end_to_end_id: Option<String>,
    pub amount: Cents,
    /// `EUR`.
    pub currency: String,
    pub direction: Direction,
    pub booking_date: Option<NaiveDate>,
    pub status: LineStatus,
    /// Where in the file, for a person: "entry 3, transaction 2"
    /// (1-based) or "line 5".
    pub place: String,
}

/// Why a statement could not be read; `place` is as
/// [`StatementLine::place`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StatementError {
    #[error("the statement is not UTF-8 text (invalid bytes at byte {offset})")]
    NotUtf8 { offset: usize },
    #[error("the statement is not well-formed XML (near byte {position}): {message}")]
    Xml { position: u64, message: String },
    #[error(
        "the statement declares a document type (<!DOCTYPE ...>), which no bank statement has: refused"
    )]
    DocType,
    #[error(
        "not a camt.053 bank statement: expected a `Document` element in the namespace \
         `{CAMT053_NAMESPACE}XX` holding a `BkToCstmrStmt`, found {found}"
    )]
    NotCamt053 { found: String },
    #[error(
        "{place}: the amount `{text}` is not a decimal number with at most 2 decimals, \
         without sign or exponent (such as 1234.56)"
    )]
    Amount { place: String, text: String },
    #[error("{place}: no amount")]
    MissingAmount { place: String },
    #[error("{place}: the amount has no currency (`Ccy` attribute)")]
    MissingCurrency { place: String },
    #[error("{place}: the currency `{text}` is not a code of three letters (such as EUR)")]
    Currency { place: String, text: String },
    #[error("{place}: the date `{text}` is not a date written {expected}")]
    Date {
        place: String,
        text: String,
        expected: &'static str,
    },
    #[error("{place}: the credit/debit indicator `{text}` is neither CRDT nor DBIT")]
    CreditDebit { place: String, text: String },
    #[error("{place}: no credit/debit indicator (`CdtDbtInd`)")]
    MissingCreditDebit { place: String },
    #[error("the CSV statement is empty: it has no header row")]
    EmptyCsv,
    #[error(
        "the CSV statement has no `{column}` column (the header row names the columns \
         end_to_end_id, amount, booking_date, status, and optionally reason and currency)"
    )]
    MissingColumn { column: &'static str },
    #[error(
        "{place}: the status `{text}` is not booked, pending or rejected \
         (nor comptabilisé, en attente or rejeté)"
    )]
    Status { place: String, text: String },
    #[error("{place}: a booked line needs its booking date")]
    MissingBookingDate { place: String },
    #[error("{place}: the CSV cannot be read: {message}")]
    Csv { place: String, message: String },
    #[error("the statement has more than {max} lines, more than windledger reads at once")]
    TooManyLines { max: usize },
}

/// A statement in either format: camt.053 when the first non-blank
/// character (after an optional UTF-8 BOM) is `<`, CSV otherwise.
pub fn read(bytes: &[u8]) -> Result<Vec<StatementLine>, StatementError> {
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'<') => read_camt053(bytes),
        _ => read_csv(bytes),
    }
}

/// A camt.053 statement (see the module's documentation).
pub fn read_camt053(bytes: &[u8]) -> Result<Vec<StatementLine>, StatementError> {
    Camt::new(utf8(bytes)?).read()
}

/// A CSV statement (see the module's documentation).
pub fn read_csv(bytes: &[u8]) -> Result<Vec<StatementLine>, StatementError> {
    let text = utf8(bytes)?;
    let header = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .ok_or(StatementError::EmptyCsv)?;
    let delimiter = if header.contains(';') { b';' } else { b',' };
    // The csv crate ends lines at `\r` too but counts them by `\n`: lines
    // end with `\n` alone here, so that each has its number.
    let text = if text.contains('\r') {
        Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        Cow::Borrowed(text)
    };
    let mut numbers = LineNumbers::new(&text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader.headers().map_err(|e| csv_error(e, &mut numbers))?;
    let columns = Columns::find(header)?;
    let mut lines = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(e, &mut numbers))?;
        if lines.len() >= MAX_LINES {
            return Err(StatementError::TooManyLines { max: MAX_LINES });
        }
        let place = numbers.place(record.position());
        lines.push(columns.line(&record, place)?);
    }
    Ok(lines)
}

/// The text of a statement, without its byte order mark.
fn utf8(bytes: &[u8]) -> Result<&str, StatementError> {
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    std::str::from_utf8(body).map_err(|e| StatementError::NotUtf8 {
        offset: bytes.len() - body.len() + e.valid_up_to(),
    })
}

// ---------------------------------------------------------------- camt.053

/// An element open while reading.
struct Open {
    /// Its local name.
    name: String,
    /// Whether an element opened inside it (its text is then not a value).
    has_child: bool,
}

/// An amount and its currency.
#[derive(Clone)]
struct Money {
    cents: Cents,
    currency: String,
}

/// An entry (`Ntry`) being read.
struct Entry {
    /// 1-based, across the file.
    number: usize,
    /// `Amt`'s `Ccy`, seen at its start tag.
    currency: Option<String>,
    amount: Option<Money>,
    direction: Option<Direction>,
    reversal: bool,
    status: Option<String>,
    booking_date: Option<NaiveDate>,
    transactions: Vec<Transaction>,
}

/// A transaction (`NtryDtls/TxDtls`) being read.
#[derive(Default)]
struct Transaction {
    end_to_end_id: Option<String>,
    /// `Ccy` of `Amt`, then of `AmtDtls/TxAmt/Amt`, seen at their start tags.
    currency: Option<String>,
    detail_currency: Option<String>,
    amount: Option<Money>,
    detail_amount: Option<Money>,
    direction: Option<Direction>,
    returned: bool,
    reason_code: Option<String>,
    reason_text: Option<String>,
    additional_information: Option<String>,
}

/// The path of an entry from the root.
const ENTRY: [&str; 4] = ["Document", "BkToCstmrStmt", "Stmt", "Ntry"];

/// What an element of an entry is, by its path from the entry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Entry,
    Amount,
    Direction,
    Reversal,
    /// `Sts` (its text, `.02`) or `Sts/Cd`.
    Status,
    BookingDate,
    BookingDateTime,
    Transaction,
    EndToEndId,
    TransactionAmount,
    DetailAmount,
    TransactionDirection,
    Return,
    ReasonCode,
    ReasonText,
    AdditionalInformation,
}

impl Field {
    /// The field of the innermost of the `open` elements, if it is one.
    fn of(open: &[Open]) -> Option<Self> {
        if open.len() < ENTRY.len() {
            return None;
        }
        let names: Vec<&str> = open.iter().map(|o| o.name.as_str()).collect();
        let within = names.strip_prefix(&ENTRY[..])?;
        let field = match within {
            [] => Self::Entry,
            ["Amt"] => Self::Amount,
            ["CdtDbtInd"] => Self::Direction,
            ["RvslInd"] => Self::Reversal,
            ["Sts"] | ["Sts", "Cd"] => Self::Status,
            ["BookgDt", "Dt"] => Self::BookingDate,
            ["BookgDt", "DtTm"] => Self::BookingDateTime,
            ["NtryDtls", "TxDtls", transaction @ ..] => match transaction {
                [] => Self::Transaction,
                ["Refs", "EndToEndId"] => Self::EndToEndId,
                ["Amt"] => Self::TransactionAmount,
                ["AmtDtls", "TxAmt", "Amt"] => Self::DetailAmount,
                ["CdtDbtInd"] => Self::TransactionDirection,
                ["RtrInf"] => Self::Return,
                ["RtrInf", "Rsn", "Cd"] => Self::ReasonCode,
                ["RtrInf", "Rsn", "Prtry"] => Self::ReasonText,
                ["RtrInf", "AddtlInf"] => Self::AdditionalInformation,
                _ => return None,
            },
            _ => return None,
        };
        Some(field)
    }
}

/// The pull reader's state.
struct Camt<'a> {
    reader: Reader<&'a [u8]>,
    open: Vec<Open>,
    /// The text of the innermost open element, while inside an entry.
    text: String,
    root_seen: bool,
    statement_seen: bool,
    entries: usize,
    entry: Option<Entry>,
    lines: Vec<StatementLine>,
}

impl<'a> Camt<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            reader: Reader::from_str(text),
            open: Vec::new(),
            text: String::new(),
            root_seen: false,
            statement_seen: false,
            entries: 0,
            entry: None,
            lines: Vec::new(),
        }
    }

    fn read(mut self) -> Result<Vec<StatementLine>, StatementError> {
        loop {
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(e) => {
                    return Err(StatementError::Xml {
                        position: self.reader.error_position(),
                        message: e.to_string(),
                    });
                }
            };
            match event {
                Event::Start(start) => self.start(&start)?,
                Event::Empty(start) => {
                    self.start(&start)?;
                    self.end()?;
                }
                Event::End(_) => self.end()?,
                Event::Text(text) => {
                    if self.entry.is_some() {
                        self.text.push_str(&text.xml10_content());
                    }
                }
                Event::CData(data) => {
                    if self.entry.is_some() {
                        self.text.push_str(&data.xml10_content());
                    }
                }
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        Ok(None) => resolve_xml_entity(&reference).map(str::to_owned),
                        Err(e) => return Err(self.xml_error(e.to_string())),
                    };
                    let Some(resolved) = resolved else {
                        let message = format!("unknown entity `&{};`", &*reference);
                        return Err(self.xml_error(message));
                    };
                    if self.entry.is_some() {
                        self.text.push_str(&resolved);
                    }
                }
                Event::DocType(_) => return Err(StatementError::DocType),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
                Event::Eof => break,
            }
        }
        if !self.root_seen {
            return Err(StatementError::NotCamt053 {
                found: "no element at all".to_owned(),
            });
        }
        if let Some(open) = self.open.last() {
            let message = format!("the file ends inside the element `{}`", open.name);
            return Err(self.xml_error(message));
        }
        Ok(self.lines)
    }

    /// A mistake of XML that quick-xml lets through, here.
    fn xml_error(&self, message: String) -> StatementError {
        StatementError::Xml {
            position: self.reader.buffer_position(),
            message,
        }
    }

    /// An element opened.
    fn start(&mut self, start: &BytesStart) -> Result<(), StatementError> {
        let name = start.local_name().into_inner();
        let position = self.reader.buffer_position();
        match self.open.len() {
            0 if self.root_seen => {
                return Err(self.xml_error("a second root element".to_owned()));
            }
            0 => {
                check_root(start, position)?;
                self.root_seen = true;
            }
            1 if !self.statement_seen => {
                if name != "BkToCstmrStmt" {
                    return Err(StatementError::NotCamt053 {
                        found: format!(
                            "a `Document` whose first element is `{}`",
                            start.name().into_inner()
                        ),
                    });
                }
                self.statement_seen = true;
            }
            _ => {}
        }
        if let Some(parent) = self.open.last_mut() {
            parent.has_child = true;
        }
        self.open.push(Open {
            name: name.to_owned(),
            has_child: false,
        });
        self.text.clear();

        let Some(field) = Field::of(&self.open) else {
            return Ok(());
        };
        if field == Field::Entry {
            self.entries += 1;
            self.entry = Some(Entry::new(self.entries));
            return Ok(());
        }
        let Some(entry) = self.entry.as_mut() else {
            return Ok(());
        };
        if field == Field::Amount {
            entry.currency = currency(start, position)?;
        } else if field == Field::Transaction {
            entry.transactions.push(Transaction::default());
        } else if let Some(transaction) = entry.transactions.last_mut() {
            match field {
                Field::TransactionAmount => transaction.currency = currency(start, position)?,
                Field::DetailAmount => transaction.detail_currency = currency(start, position)?,
                Field::Return => transaction.returned = true,
                _ => {}
            }
        }
        Ok(())
    }

    /// The innermost element closed.
    fn end(&mut self) -> Result<(), StatementError> {
        let field = Field::of(&self.open);
        let Some(open) = self.open.pop() else {
            return Ok(());
        };
        if self.open.is_empty() && !self.statement_seen {
            return Err(StatementError::NotCamt053 {
                found: "a `Document` without `BkToCstmrStmt`".to_owned(),
            });
        }
        let Some(field) = field else {
            return Ok(());
        };
        if field == Field::Entry {
            return match self.entry.take() {
                Some(entry) => entry.finish(&mut self.lines),
                None => Ok(()),
            };
        }
        let Some(entry) = self.entry.as_mut() else {
            return Ok(());
        };
        if open.has_child {
            // Its text is its children's, not a value.
            return Ok(());
        }
        let text = std::mem::take(&mut self.text);
        entry.end(field, &text)
    }
}

impl Transaction {
    /// The element `field` of this transaction closed, with its `text`.
    fn end(&mut self, field: Field, text: &str, place: String) -> Result<(), StatementError> {
        match field {
            Field::EndToEndId => self.end_to_end_id = end_to_end_id(text),
            Field::TransactionAmount => {
                self.amount = Some(money(text, self.currency.take(), place)?);
            }
            Field::DetailAmount => {
                self.detail_amount = Some(money(text, self.detail_currency.take(), place)?);
            }
            Field::TransactionDirection => self.direction = Some(direction(text, place)?),
            Field::ReasonCode => self.reason_code = non_empty(text),
            Field::ReasonText => self.reason_text = non_empty(text),
            Field::AdditionalInformation if self.additional_information.is_none() => {
                self.additional_information = non_empty(text);
            }
            _ => {}
        }
        Ok(())
    }
}

impl Entry {
    fn new(number: usize) -> Self {
        Self {
            number,
            currency: None,
            amount: None,
            direction: None,
            reversal: false,
            status: None,
            booking_date: None,
            transactions: Vec::new(),
        }
    }

    /// The element `field` of this entry closed, with its `text`.
    fn end(&mut self, field: Field, text: &str) -> Result<(), StatementError> {
        let place = format!("entry {}", self.number);
        match field {
            Field::Amount => self.amount = Some(money(text, self.currency.take(), place)?),
            Field::Direction => self.direction = Some(direction(text, place)?),
            Field::Reversal => self.reversal = matches!(text.trim(), "true" | "1"),
            Field::Status => self.status = Some(text.trim().to_owned()),
            Field::BookingDate => {
                self.booking_date = Some(read_date(text, xml_date, "YYYY-MM-DD", place)?);
            }
            Field::BookingDateTime => {
                self.booking_date = Some(read_date(
                    text,
                    xml_date_time,
                    "as an ISO date and time, YYYY-MM-DDThh:mm:ss",
                    place,
                )?);
            }
            _ => {
                let number = self.transactions.len();
                if let Some(transaction) = self.transactions.last_mut() {
                    transaction.end(field, text, format!("{place}, transaction {number}"))?;
                }
            }
        }
        Ok(())
    }

    /// The entry's lines, added to `lines`.
    fn finish(self, lines: &mut Vec<StatementLine>) -> Result<(), StatementError> {
        let place = format!("entry {}", self.number);
        let status = match self.status.as_deref() {
            Some("BOOK") => LineStatus::Booked,
            _ => LineStatus::Pending,
        };
        let booking_date = self.booking_date;
        let line = |end_to_end_id, money: Money, direction, status, place| StatementLine {
            end_to_end_id,
            amount: money.cents,
            currency: money.currency,
            direction,
            booking_date,
            status,
            place,
        };
        if self.transactions.is_empty() {
            let money = self.amount.ok_or_else(|| StatementError::MissingAmount {
                place: place.clone(),
            })?;
            let direction = self
                .direction
                .ok_or_else(|| StatementError::MissingCreditDebit {
                    place: place.clone(),
                })?;
            let status = if self.reversal {
                LineStatus::Returned { reason: None }
            } else {
                status
            };
            return push(lines, line(None, money, direction, status, place));
        }
        let single = self.transactions.len() == 1;
        for (i, transaction) in self.transactions.into_iter().enumerate() {
            let place = format!("{place}, transaction {}", i + 1);
            let money = transaction
                .amount
                .or(transaction.detail_amount)
                .or_else(|| if single { self.amount.clone() } else { None })
                .ok_or_else(|| StatementError::MissingAmount {
                    place: place.clone(),
                })?;
            let direction = transaction.direction.or(self.direction).ok_or_else(|| {
                StatementError::MissingCreditDebit {
                    place: place.clone(),
                }
            })?;
            let status = if transaction.returned || self.reversal {
                LineStatus::Returned {
                    reason: transaction
                        .reason_code
                        .or(transaction.reason_text)
                        .or(transaction.additional_information),
                }
            } else {
                status.clone()
            };
            push(
                lines,
                line(transaction.end_to_end_id, money, direction, status, place),
            )?;
        }
        Ok(())
    }
}

/// `line` added to `lines`, unless there are [`MAX_LINES`] already.
fn push(lines: &mut Vec<StatementLine>, line: StatementLine) -> Result<(), StatementError> {
    if lines.len() >= MAX_LINES {
        return Err(StatementError::TooManyLines { max: MAX_LINES });
    }
    lines.push(line);
    Ok(())
}

/// The root is a camt.053 `Document`, by local name and namespace.
fn check_root(start: &BytesStart, position: u64) -> Result<(), StatementError> {
    let name = start.name();
    let binding = match name.prefix() {
        Some(prefix) => format!("xmlns:{}", prefix.into_inner()),
        None => "xmlns".to_owned(),
    };
    let mut namespace = None;
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|e| StatementError::Xml {
            position,
            message: e.to_string(),
        })?;
        if attribute.key.into_inner() == binding {
            let value = attribute
                .normalized_value(XmlVersion::Implicit1_0)
                .map_err(|e| StatementError::Xml {
                    position,
                    message: e.to_string(),
                })?;
            namespace = Some(value.into_owned());
        }
    }
    let camt053 = namespace.as_deref().is_some_and(|ns| {
        ns.strip_prefix(CAMT053_NAMESPACE)
            .is_some_and(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
    });
    if name.local_name().into_inner() == "Document" && camt053 {
        return Ok(());
    }
    let within = match namespace {
        Some(ns) => format!("the namespace `{ns}`"),
        None => "no namespace".to_owned(),
    };
    Err(StatementError::NotCamt053 {
        found: format!("a root element `{}` in {within}", name.into_inner()),
    })
}

/// The `Ccy` attribute of an amount's start tag.
fn currency(start: &BytesStart, position: u64) -> Result<Option<String>, StatementError> {
    let xml = |message: String| StatementError::Xml { position, message };
    let Some(attribute) = start
        .try_get_attribute("Ccy")
        .map_err(|e| xml(e.to_string()))?
    else {
        return Ok(None);
    };
    let value = attribute
        .normalized_value(XmlVersion::Implicit1_0)
        .map_err(|e| xml(e.to_string()))?;
    Ok(Some(value.trim().to_owned()))
}

/// An amount's text and currency, checked.
fn money(text: &str, currency: Option<String>, place: String) -> Result<Money, StatementError> {
    let Some(currency) = currency else {
        return Err(StatementError::MissingCurrency { place });
    };
    let Some(cents) = cents(text.trim()) else {
        return Err(StatementError::Amount {
            place,
            text: text.trim().to_owned(),
        });
    };
    Ok(Money {
        cents,
        currency: currency_code(&currency, place)?,
    })
}

/// A currency code of three letters, in capitals.
fn currency_code(text: &str, place: String) -> Result<String, StatementError> {
    let code = text.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(StatementError::Currency {
            place,
            text: text.to_owned(),
        })
    }
}

fn direction(text: &str, place: String) -> Result<Direction, StatementError> {
    match text.trim() {
        "DBIT" => Ok(Direction::Debit),
        "CRDT" => Ok(Direction::Credit),
        other => Err(StatementError::CreditDebit {
            place,
            text: other.to_owned(),
        }),
    }
}

/// An end-to-end id, trimmed; none when empty or `NOTPROVIDED`.
fn end_to_end_id(text: &str) -> Option<String> {
    non_empty(text).filter(|id| id != NOT_PROVIDED)
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// `1234.5` as 123450 cents: digits, then optionally `.` and decimals of
/// which only the first two may be other than 0. No sign, no exponent.
fn cents(text: &str) -> Option<Cents> {
    let (units, decimals) = text.split_once('.').unwrap_or((text, ""));
    if units.is_empty()
        || !units.bytes().all(|b| b.is_ascii_digit())
        || !decimals.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let (hundredths, rest) = decimals.split_at(decimals.len().min(2));
    if rest.bytes().any(|b| b != b'0') {
        return None;
    }
    let mut value: Cents = 0;
    let padded = hundredths.bytes().chain(std::iter::repeat(b'0')).take(2);
    for digit in units.bytes().chain(padded) {
        value = value
            .checked_mul(10)?
            .checked_add(Cents::from(digit - b'0'))?;
    }
    Some(value)
}

/// `YYYY-MM-DD`, exactly so.
fn iso_date(text: &str) -> Option<NaiveDate> {
    fixed_date(text, b'-', [0..4, 5..7, 8..10])
}

/// `DD/MM/YYYY`, exactly so.
fn french_date(text: &str) -> Option<NaiveDate> {
    fixed_date(text, b'/', [6..10, 3..5, 0..2])
}

/// A date of 10 characters: its year, month and day digits at `parts`,
/// every other character `separator`.
fn fixed_date(text: &str, separator: u8, parts: [std::ops::Range<usize>; 3]) -> Option<NaiveDate> {
    if text.len() != 10 {
        return None;
    }
    let outside = |i: &usize| !parts.iter().any(|p| p.contains(i));
    if !(0..10)
        .filter(outside)
        .all(|i| text.as_bytes()[i] == separator)
    {
        return None;
    }
    let [year, month, day] = parts.map(|p| text.get(p).and_then(digits));
    NaiveDate::from_ymd_opt(i32::try_from(year?).ok()?, month?, day?)
}

fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// An `xs:date` (ISO `ISODate`): `YYYY-MM-DD`, optionally with a time
/// zone (`Z`, `+02:00`), which does not change the date.
fn xml_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let date = iso_date(text.get(..10)?)?;
    let zone = text.get(10..)?;
    let offset = |s: &str| {
        s.len() == 5
            && s.get(2..3) == Some(":")
            && digits(s.get(..2).unwrap_or("")).is_some_and(|h| h <= 14)
            && digits(s.get(3..).unwrap_or("")).is_some_and(|m| m < 60)
    };
    let valid = zone.is_empty()
        || zone == "Z"
        || zone
            .strip_prefix('+')
            .or_else(|| zone.strip_prefix('-'))
            .is_some_and(offset);
    valid.then_some(date)
}

/// The date, as written, of an `xs:dateTime` (ISO `ISODateTime`): RFC
/// 3339 with its offset, or a local date and time.
/// `text` read by `parse`, or the error saying how the date should have
/// been written.
fn read_date(
    text: &str,
    parse: fn(&str) -> Option<NaiveDate>,
    expected: &'static str,
    place: String,
) -> Result<NaiveDate, StatementError> {
    parse(text).ok_or_else(|| StatementError::Date {
        place,
        text: text.trim().to_owned(),
        expected,
    })
}

fn xml_date_time(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    let valid = DateTime::parse_from_rfc3339(text).is_ok()
        || NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok();
    if !valid || text.get(10..11) != Some("T") {
        return None;
    }
    iso_date(text.get(..10)?)
}

// --------------------------------------------------------------------- CSV

/// Where each column is in a CSV's rows.
struct Columns {
    end_to_end_id: usize,
    amount: usize,
    booking_date: usize,
    status: usize,
    reason: Option<usize>,
    currency: Option<usize>,
}

impl Columns {
    fn find(header: &csv::StringRecord) -> Result<Self, StatementError> {
        let find = |column: &str| {
            header
                .iter()
                .position(|name| name.trim().eq_ignore_ascii_case(column))
        };
        let required =
            |column: &'static str| find(column).ok_or(StatementError::MissingColumn { column });
        Ok(Self {
            end_to_end_id: required("end_to_end_id")?,
            amount: required("amount")?,
            booking_date: required("booking_date")?,
            status: required("status")?,
            reason: find("reason"),
            currency: find("currency"),
        })
    }

    fn line(
        &self,
        record: &csv::StringRecord,
        place: String,
    ) -> Result<StatementLine, StatementError> {
        let cell = |i: usize| record.get(i).unwrap_or("").trim();
        let amount = cell(self.amount);
        let amount = cents(&amount.replace(',', ".")).ok_or_else(|| StatementError::Amount {
            place: place.clone(),
            text: amount.to_owned(),
        })?;
        let status = match fold(cell(self.status)).as_str() {
            "booked" | "comptabilise" => LineStatus::Booked,
            "pending" | "en attente" => LineStatus::Pending,
            "rejected" | "rejete" => LineStatus::Returned {
                reason: self.reason.and_then(|i| non_empty(cell(i))),
            },
            _ => {
                return Err(StatementError::Status {
                    place,
                    text: cell(self.status).to_owned(),
                });
            }
        };
        let date = cell(self.booking_date);
        let booking_date = if date.is_empty() {
            None
        } else {
            Some(
                iso_date(date)
                    .or_else(|| french_date(date))
                    .ok_or_else(|| StatementError::Date {
                        place: place.clone(),
                        text: date.to_owned(),
                        expected: "YYYY-MM-DD or DD/MM/YYYY",
                    })?,
            )
        };
        if status == LineStatus::Booked && booking_date.is_none() {
            return Err(StatementError::MissingBookingDate { place });
        }
        let currency = match self.currency.map(cell).filter(|c| !c.is_empty()) {
            Some(code) => currency_code(code, place.clone())?,
            None => "EUR".to_owned(),
        };
        Ok(StatementLine {
            end_to_end_id: end_to_end_id(cell(self.end_to_end_id)),
            amount,
            currency,
            direction: Direction::Debit,
            booking_date,
            status,
            place,
        })
    }
}

/// A status in lower case, its `é` (composed or not) as `e`.
fn fold(status: &str) -> String {
    status
        .trim()
        .to_lowercase()
        .replace('\u{301}', "")
        .replace('é', "e")
}

/// Where each of a CSV's records starts, as "line N", counted once
/// through the text.
struct LineNumbers<'a> {
    text: &'a [u8],
    /// Up to where lines are counted, and the number of the line there.
    counted: usize,
    line: u64,
}

impl<'a> LineNumbers<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            counted: 0,
            line: 1,
        }
    }

    /// The line of a record at `position`, which the csv crate puts
    /// before the empty lines it skips.
    fn place(&mut self, position: Option<&csv::Position>) -> String {
        let Some(position) = position else {
            return "the file".to_owned();
        };
        let mut start = usize::try_from(position.byte())
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while self.text.get(start) == Some(&b'\n') {
            start += 1;
        }
        if let Some(skipped) = self.text.get(self.counted..start) {
            self.line += skipped.iter().filter(|&&b| b == b'\n').count() as u64;
            self.counted = start;
        }
        format!("line {}", self.line)
    }
}

fn csv_error(error: csv::Error, numbers: &mut LineNumbers) -> StatementError {
    let place = numbers.place(error.position());
    let message = match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the line has {len} cells where the header row has {expected_len}"),
        _ => error.to_string(),
    };
    StatementError::Csv { place, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_are_exact() {
        assert_eq!(cents("1234.5"), Some(123_450));
        assert_eq!(cents("0.07"), Some(7));
        assert_eq!(cents("12"), Some(1200));
        assert_eq!(cents("12."), Some(1200));
        assert_eq!(cents("12.340"), Some(1234));
        assert_eq!(cents("12.345"), None);
        assert_eq!(cents("-1.00"), None);
        assert_eq!(cents("+1.00"), None);
        assert_eq!(cents("1e3"), None);
        assert_eq!(cents(".5"), None);
        assert_eq!(cents(""), None);
        assert_eq!(cents("1.2.3"), None);
        assert_eq!(cents("184467440737095516.16"), None);
        assert_eq!(cents("184467440737095516.15"), Some(u64::MAX));
    }

    #[test]
    fn dates_are_strict() {
        let june_2 = NaiveDate::from_ymd_opt(2025, 6, 2);
        assert_eq!(xml_date("2025-06-02"), june_2);
        assert_eq!(xml_date("2025-06-02+02:00"), june_2);
        assert_eq!(xml_date("2025-06-02Z"), june_2);
        assert_eq!(xml_date("2025-6-2"), None);
        assert_eq!(xml_date("2025-02-30"), None);
        assert_eq!(xml_date("2025-06-02X"), None);
        assert_eq!(xml_date_time("2025-06-02T23:30:00-05:00"), june_2);
        assert_eq!(xml_date_time("2025-06-02T08:00:00.123"), june_2);
        assert_eq!(xml_date_time("2025-06-02"), None);
        assert_eq!(french_date("02/06/2025"), june_2);
        assert_eq!(french_date("2/6/2025"), None);
        assert_eq!(iso_date("+025-06-02"), None);
    }

    #[test]
    fn statuses_fold_accents_and_case() {
        assert_eq!(fold(" Comptabilisé "), "comptabilise");
        assert_eq!(fold("REJETE\u{301}"), "rejete");
        assert_eq!(fold("En Attente"), "en attente");
    }
}
