//! A SEPA credit transfer file: ISO 20022 `pain.001.001.09` as the
//! European Payments Council's SCT implementation guidelines restrict it
//! for a customer's file to its bank (EPC132-08, 2023, version 1.0), the
//! schema in `third_party/iso20022/pain.001.001.09.xsd`.
//!
//! One file holds one payment instruction (`PmtInf`): one debtor account,
//! one requested execution date, one transaction (`CdtTrfTxInf`) a payee.
//! Batch booking is off (`BtchBookg` false), so that the bank books each
//! transfer as its own entry and its statement gives back each end-to-end
//! id ([`crate::statement`]). Names and remittance texts are written in
//! the EPC's Latin set ([`crate::text::latin`]); identifiers, IBANs, BICs
//! and amounts are checked before anything is written, so that a file is
//! either valid against the schema or not written at all.

use std::collections::HashSet;
use std::fmt::Write as _;

use chrono::{NaiveDate, NaiveDateTime};
use quick_xml::escape::escape;
use thiserror::Error;

use crate::text::{identifier, latin};
use crate::{Cents, euros};

/// The file's namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";
/// The largest amount of one SEPA credit transfer, in cents
/// (999,999,999.99 EUR, EPC132-08 AT-04).
pub const MAX_AMOUNT: Cents = 99_999_999_999;
/// Most characters of a name (`Nm` in the EPC's subset).
pub const MAX_NAME: usize = 70;
/// Most characters of the unstructured remittance text.
pub const MAX_REMITTANCE: usize = 140;

/// Who pays or is paid: a name and an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    pub name: String,
    pub iban: String,
    /// Optional in SEPA since 2016 (IBAN only), written when known.
    pub bic: Option<String>,
}

/// One payee's transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// The payer's reference, given back by the bank's statement.
    pub end_to_end_id: String,
    pub amount: Cents,
    pub creditor: Party,
    /// What the payee reads on their statement (at most 140 characters).
    pub remittance: String,
}

/// A file of credit transfers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditTransfers {
    /// Unique per file for the bank (`MsgId`, also the `PmtInfId`).
    pub message_id: String,
    pub created_at: NaiveDateTime,
    /// The company: name, account and bank.
    pub debtor: Party,
    /// The day the bank is asked to pay.
    pub execution_date: NaiveDate,
    /// ISO 20022 purpose code of every transaction (`DIVD` a dividend,
    /// `INTE` interest, `LOAR` a loan repaid), if any.
    pub purpose: Option<String>,
    pub transfers: Vec<Transfer>,
}

/// Why a file cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FileError {
    #[error("a credit transfer file needs at least one transfer")]
    NoTransfer,
    #[error(
        "{what} {value:?} is not a SEPA reference: 1 to 35 of a-z A-Z 0-9 / - ? : ( ) . , ' +, no space, no leading, trailing or double '/'"
    )]
    Identifier { what: &'static str, value: String },
    #[error("the end-to-end id {0:?} is given to two transfers")]
    DuplicateEndToEndId(String),
    #[error(
        "the transfer {end_to_end_id:?} is of {cents} cents: a SEPA transfer is of 0.01 to 999,999,999.99 EUR"
    )]
    Amount { end_to_end_id: String, cents: Cents },
    #[error("the file's total does not fit the schema's 18 digits")]
    Total,
    #[error("{whose} name {value:?} has no letter or digit a SEPA file can carry")]
    Name { whose: String, value: String },
    #[error(
        "{whose} IBAN {value:?} is not an IBAN (2 capital letters, 2 digits, up to 30 letters or digits)"
    )]
    Iban { whose: String, value: String },
    #[error("{whose} BIC {value:?} is not a BIC (8 or 11 capital letters or digits)")]
    Bic { whose: String, value: String },
    #[error("the purpose {0:?} is not an ISO 20022 purpose code (4 capital letters)")]
    Purpose(String),
    #[error("the remittance text of {0:?} has nothing a SEPA file can carry")]
    Remittance(String),
}

impl CreditTransfers {
    /// The sum of the transfers, in cents (`CtrlSum`); `None` on overflow.
    pub fn control_sum(&self) -> Option<Cents> {
        self.transfers
            .iter()
            .try_fold(0u64, |sum, t| sum.checked_add(t.amount))
    }

    /// The file, checked first: every identifier, amount, name, IBAN and
    /// BIC is one the schema and the EPC's rules accept.
    pub fn to_xml(&self) -> Result<String, FileError> {
        let checked = self.check()?;
        let mut x = Xml::with_capacity(600 + 900 * self.transfers.len());
        x.out
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(x.out, "<Document xmlns=\"{NAMESPACE}\">");
        x.depth = 1;
        x.open("CstmrCdtTrfInitn");
        x.open("GrpHdr");
        x.leaf("MsgId", &self.message_id);
        x.leaf(
            "CreDtTm",
            &self.created_at.format("%Y-%m-%dT%H:%M:%S").to_string(),
        );
        x.leaf("NbOfTxs", &self.transfers.len().to_string());
        x.leaf("CtrlSum", &euros(checked.total));
        x.open("InitgPty");
        x.leaf("Nm", &checked.debtor_name);
        x.close("InitgPty");
        x.close("GrpHdr");
        x.open("PmtInf");
        x.leaf("PmtInfId", &self.message_id);
        x.leaf("PmtMtd", "TRF");
        x.leaf("BtchBookg", "false");
        x.leaf("NbOfTxs", &self.transfers.len().to_string());
        x.leaf("CtrlSum", &euros(checked.total));
        x.open("PmtTpInf");
        x.open("SvcLvl");
        x.leaf("Cd", "SEPA");
        x.close("SvcLvl");
        x.close("PmtTpInf");
        x.open("ReqdExctnDt");
        x.leaf("Dt", &self.execution_date.format("%Y-%m-%d").to_string());
        x.close("ReqdExctnDt");
        x.open("Dbtr");
        x.leaf("Nm", &checked.debtor_name);
        x.close("Dbtr");
        x.account("DbtrAcct", &self.debtor.iban);
        x.agent("DbtrAgt", self.debtor.bic.as_deref());
        x.leaf("ChrgBr", "SLEV");
        for (t, name) in self.transfers.iter().zip(&checked.creditor_names) {
            x.open("CdtTrfTxInf");
            x.open("PmtId");
            x.leaf("EndToEndId", &t.end_to_end_id);
            x.close("PmtId");
            x.open("Amt");
            x.leaf_with("InstdAmt", "Ccy=\"EUR\"", &euros(t.amount));
            x.close("Amt");
            if t.creditor.bic.is_some() {
                x.agent("CdtrAgt", t.creditor.bic.as_deref());
            }
            x.open("Cdtr");
            x.leaf("Nm", name);
            x.close("Cdtr");
            x.account("CdtrAcct", &t.creditor.iban);
            if let Some(purpose) = &self.purpose {
                x.open("Purp");
                x.leaf("Cd", purpose);
                x.close("Purp");
            }
            x.open("RmtInf");
            x.leaf(
                "Ustrd",
                &latin(&t.remittance, MAX_REMITTANCE).unwrap_or_default(),
            );
            x.close("RmtInf");
            x.close("CdtTrfTxInf");
        }
        x.close("PmtInf");
        x.close("CstmrCdtTrfInitn");
        x.out.push_str("</Document>\n");
        Ok(x.out)
    }

    fn check(&self) -> Result<Checked, FileError> {
        if self.transfers.is_empty() {
            return Err(FileError::NoTransfer);
        }
        if !identifier(&self.message_id) {
            return Err(FileError::Identifier {
                what: "the message id",
                value: self.message_id.clone(),
            });
        }
        if let Some(p) = &self.purpose
            && !(p.len() == 4 && p.bytes().all(|b| b.is_ascii_uppercase()))
        {
            return Err(FileError::Purpose(p.clone()));
        }
        let debtor_name = check_party(&self.debtor, "the debtor's")?;
        let mut seen = HashSet::with_capacity(self.transfers.len());
        let mut creditor_names = Vec::with_capacity(self.transfers.len());
        for t in &self.transfers {
            let id = &t.end_to_end_id;
            if !identifier(id) {
                return Err(FileError::Identifier {
                    what: "the end-to-end id",
                    value: id.clone(),
                });
            }
            if !seen.insert(id.as_str()) {
                return Err(FileError::DuplicateEndToEndId(id.clone()));
            }
            if !(1..=MAX_AMOUNT).contains(&t.amount) {
                return Err(FileError::Amount {
                    end_to_end_id: id.clone(),
                    cents: t.amount,
                });
            }
            if latin(&t.remittance, MAX_REMITTANCE).is_none() {
                return Err(FileError::Remittance(id.clone()));
            }
            creditor_names.push(check_party(&t.creditor, &format!("the payee of {id:?}'s"))?);
        }
        let total = self
            .control_sum()
            .filter(|t| *t < 10u64.pow(18))
            .ok_or(FileError::Total)?;
        Ok(Checked {
            total,
            debtor_name,
            creditor_names,
        })
    }
}

struct Checked {
    total: Cents,
    debtor_name: String,
    creditor_names: Vec<String>,
}

/// The party's name as written, after checking its IBAN and BIC.
fn check_party(party: &Party, whose: &str) -> Result<String, FileError> {
    if !iban_shape(&party.iban) {
        return Err(FileError::Iban {
            whose: whose.to_owned(),
            value: party.iban.clone(),
        });
    }
    if let Some(bic) = &party.bic
        && !bic_shape(bic)
    {
        return Err(FileError::Bic {
            whose: whose.to_owned(),
            value: bic.clone(),
        });
    }
    latin(&party.name, MAX_NAME).ok_or_else(|| FileError::Name {
        whose: whose.to_owned(),
        value: party.name.clone(),
    })
}

/// The schema's `IBAN2007Identifier`: `[A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}`
/// (the vault checks the mod-97 key before an IBAN gets here).
fn iban_shape(iban: &str) -> bool {
    let b = iban.as_bytes();
    (5..=34).contains(&b.len())
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric)
}

/// The schema's `BICFIDec2014Identifier`.
fn bic_shape(bic: &str) -> bool {
    let b = bic.as_bytes();
    let upper_or_digit = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
    (b.len() == 8 || b.len() == 11)
        && b[..4].iter().all(upper_or_digit)
        && b[4..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(upper_or_digit)
}

/// An indented XML writer for the file's fixed structure: every text is
/// escaped.
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn with_capacity(n: usize) -> Self {
        Self {
            out: String::with_capacity(n),
            depth: 0,
        }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, tag: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{tag}>");
        self.depth += 1;
    }

    fn close(&mut self, tag: &str) {
        self.depth -= 1;
        self.indent();
        let _ = writeln!(self.out, "</{tag}>");
    }

    fn leaf(&mut self, tag: &str, text: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{tag}>{}</{tag}>", escape(text));
    }

    fn leaf_with(&mut self, tag: &str, attributes: &str, text: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{tag} {attributes}>{}</{tag}>", escape(text));
    }

    fn account(&mut self, tag: &str, iban: &str) {
        self.open(tag);
        self.open("Id");
        self.leaf("IBAN", iban);
        self.close("Id");
        self.close(tag);
    }

    /// A bank by BIC, or `NOTPROVIDED` (the EPC's word for IBAN only).
    fn agent(&mut self, tag: &str, bic: Option<&str>) {
        self.open(tag);
        self.open("FinInstnId");
        match bic {
            Some(bic) => self.leaf("BICFI", bic),
            None => {
                self.open("Othr");
                self.leaf("Id", "NOTPROVIDED");
                self.close("Othr");
            }
        }
        self.close("FinInstnId");
        self.close(tag);
    }
}
