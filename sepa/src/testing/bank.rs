//! A bank writing the company's account statement, as ISO 20022
//! `camt.053.001.08` (valid against `third_party/iso20022`), for tests and
//! benchmarks: what comes back after a file of transfers.
//!
//! Each [`BankLine`] is an entry of its own (`Ntry`, one `TxDtls`), bank
//! transaction code `PMNT`/`ICDT`/`ESCT` (an issued SEPA credit transfer):
//!
//! - [`Outcome::Booked`]: a `DBIT` entry, `Sts/Cd` `BOOK`;
//! - [`Outcome::Pending`]: a `DBIT` entry, `PDNG`, its `BookgDt` the
//!   expected booking date (as ISO 20022 has it for an entry not booked);
//! - [`Outcome::Returned`]: the `DBIT` entry booked, then a `CRDT` entry
//!   booked the same day, code `PMNT`/`ICDT`/`RRTN`, with
//!   `TxDtls/RtrInf/Rsn/Cd` the reason.
//!
//! The schema requires balances: an opening balance (`OPBD`) of zero on
//! the first booking date, and a closing one (`CLBD`) of the booked
//! entries' sum on the creation date.

use chrono::{NaiveDate, NaiveDateTime};
use quick_xml::escape::escape;

use crate::{Cents, euros};

/// The namespace of the statements written here.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08";

/// What the bank did with a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Booked,
    Pending,
    /// Debited then returned by the payee's bank: a DBIT entry booked,
    /// then a CRDT entry booked with `TxDtls/RtrInf/Rsn/Cd` = reason
    /// (e.g. "AC04").
    Returned {
        reason: String,
    },
}

/// A transfer as the bank reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BankLine {
    pub end_to_end_id: String,
    pub amount: Cents,
    pub booking_date: NaiveDate,
    pub outcome: Outcome,
}

/// A statement of `account_iban` (the company's account) listing `lines`
/// in order, each a separate entry (one `Ntry` with one `TxDtls`; a
/// returned transfer two), valid against camt.053.001.08.xsd. `created`
/// is the statement's creation date-time; the message and statement ids
/// are derived from it.
pub fn bank_statement(account_iban: &str, lines: &[BankLine], created: NaiveDateTime) -> String {
    let created_text = created.format("%Y-%m-%dT%H:%M:%S").to_string();
    let id = format!("STMT-{}", created.format("%Y%m%d%H%M%S"));
    let first_date = lines
        .iter()
        .map(|l| l.booking_date)
        .min()
        .unwrap_or(created.date());

    let mut xml = Xml::default();
    xml.out
        .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    xml.open_with("Document", &format!(" xmlns=\"{NAMESPACE}\""));
    xml.open("BkToCstmrStmt");
    xml.open("GrpHdr");
    xml.leaf("MsgId", &id);
    xml.leaf("CreDtTm", &created_text);
    xml.close("GrpHdr");
    xml.open("Stmt");
    xml.leaf("Id", &id);
    xml.leaf("CreDtTm", &created_text);
    xml.open("Acct");
    xml.open("Id");
    xml.leaf("IBAN", account_iban);
    xml.close("Id");
    xml.close("Acct");
    xml.balance("OPBD", 0, first_date);
    xml.balance("CLBD", closing_balance(lines), created.date());
    let mut reference = 0;
    for line in lines {
        reference += 1;
        let status = match line.outcome {
            Outcome::Pending => "PDNG",
            Outcome::Booked | Outcome::Returned { .. } => "BOOK",
        };
        xml.entry(&Entry {
            line,
            reference,
            direction: "DBIT",
            status,
            sub_family: "ESCT",
            return_reason: None,
        });
        if let Outcome::Returned { reason } = &line.outcome {
            reference += 1;
            xml.entry(&Entry {
                line,
                reference,
                direction: "CRDT",
                status: "BOOK",
                sub_family: "RRTN",
                return_reason: Some(reason),
            });
        }
    }
    xml.close("Stmt");
    xml.close("BkToCstmrStmt");
    xml.close("Document");
    xml.out
}

/// The booked entries' sum, in cents (negative: more paid than returned).
fn closing_balance(lines: &[BankLine]) -> i128 {
    lines
        .iter()
        .map(|line| match line.outcome {
            Outcome::Booked => -i128::from(line.amount),
            Outcome::Pending | Outcome::Returned { .. } => 0,
        })
        .sum()
}

/// One entry to write.
struct Entry<'a> {
    line: &'a BankLine,
    /// The bank's own reference, counted through the statement.
    reference: usize,
    direction: &'static str,
    status: &'static str,
    sub_family: &'static str,
    return_reason: Option<&'a str>,
}

/// An indented XML document being written; texts are escaped.
#[derive(Default)]
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.open_with(name, "");
    }

    /// `attributes` are written as they are, with their leading space.
    fn open_with(&mut self, name: &str, attributes: &str) {
        self.indent();
        self.out.push_str(&format!("<{name}{attributes}>\n"));
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth = self.depth.saturating_sub(1);
        self.indent();
        self.out.push_str(&format!("</{name}>\n"));
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        self.out
            .push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
    }

    fn amount(&mut self, cents: Cents) {
        self.indent();
        self.out
            .push_str(&format!("<Amt Ccy=\"EUR\">{}</Amt>\n", euros(cents)));
    }

    fn date(&mut self, name: &str, date: NaiveDate) {
        self.open(name);
        self.leaf("Dt", &date.format("%Y-%m-%d").to_string());
        self.close(name);
    }

    /// A balance of `cents` (negative: a debit balance) on `date`.
    fn balance(&mut self, code: &str, cents: i128, date: NaiveDate) {
        self.open("Bal");
        self.open("Tp");
        self.open("CdOrPrtry");
        self.leaf("Cd", code);
        self.close("CdOrPrtry");
        self.close("Tp");
        self.amount(Cents::try_from(cents.unsigned_abs()).unwrap_or(Cents::MAX));
        self.leaf("CdtDbtInd", if cents < 0 { "DBIT" } else { "CRDT" });
        self.date("Dt", date);
        self.close("Bal");
    }

    fn entry(&mut self, entry: &Entry) {
        let line = entry.line;
        self.open("Ntry");
        self.amount(line.amount);
        self.leaf("CdtDbtInd", entry.direction);
        self.open("Sts");
        self.leaf("Cd", entry.status);
        self.close("Sts");
        self.date("BookgDt", line.booking_date);
        self.date("ValDt", line.booking_date);
        self.leaf("AcctSvcrRef", &format!("BANK-{:08}", entry.reference));
        self.bank_transaction_code(entry.sub_family);
        self.open("NtryDtls");
        self.open("TxDtls");
        self.open("Refs");
        self.leaf("EndToEndId", &line.end_to_end_id);
        self.close("Refs");
        self.amount(line.amount);
        self.leaf("CdtDbtInd", entry.direction);
        self.bank_transaction_code(entry.sub_family);
        if let Some(reason) = entry.return_reason {
            self.open("RtrInf");
            self.open("Rsn");
            self.leaf("Cd", reason);
            self.close("Rsn");
            self.close("RtrInf");
        }
        self.close("TxDtls");
        self.close("NtryDtls");
        self.close("Ntry");
    }

    /// `PMNT` (payments), `ICDT` (issued credit transfers), `sub_family`.
    fn bank_transaction_code(&mut self, sub_family: &str) {
        self.open("BkTxCd");
        self.open("Domn");
        self.leaf("Cd", "PMNT");
        self.open("Fmly");
        self.leaf("Cd", "ICDT");
        self.leaf("SubFmlyCd", sub_family);
        self.close("Fmly");
        self.close("Domn");
        self.close("BkTxCd");
    }
}
