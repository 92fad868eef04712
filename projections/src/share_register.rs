//! The register of share movements (registre des mouvements de titres,
//! Code de commerce R228-8; kept on a shared electronic register under
//! Code monétaire et financier L211-3 and R211-9-7): every movement of
//! shares of the company stream, one numbered entry each, in the order the
//! ledger recorded them, with the act behind it and the receipt (position
//! and hash) of its event.
//!
//! From the entries, each holder's individual account (compte individuel:
//! their movements with the running balance per class) and a certificate
//! of holding at a date (attestation d'inscription en compte).
//!
//! Entries are numbered 1, 2, 3... without gaps in ledger order. The
//! company stream refuses a fact dated before the latest one recorded, so
//! ledger order is also the order of effective dates, and the register as
//! of a date or a position is a prefix of the entries.
//!
//! Holders appear by pseudonymous id only: names and addresses are
//! resolved when a document is printed (`windledger-documents`).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use windledger_domain::company::{CancellationSource, CompanyEvent};
use windledger_domain::money::Euros;
use windledger_domain::resolution::AdoptedResolution;
use windledger_domain::types::{HolderId, ShareClassId};

use crate::cap_table::AsOf;
use crate::event::{EventRef, FarmEvent, LedgerEvent};
use crate::runner::Fold;

/// What a movement is (nature du mouvement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Nature {
    /// Souscription at incorporation: the first issue, backed by the
    /// articles rather than a resolution.
    Subscription,
    /// Émission: new shares issued by an adopted capital increase.
    Issue,
    /// Cession between holders.
    Transfer,
    /// Rachat by the company: the shares go to treasury.
    Repurchase,
    /// Annulation of treasury shares (no holder's account moves).
    TreasuryCancellation,
    /// Annulation of a holder's shares (withdrawal, reduction for losses).
    Cancellation,
}

/// The act a movement rests on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "act", rename_all = "snake_case")]
pub enum SupportingAct {
    /// The articles signed at incorporation.
    Incorporation,
    /// An adopted resolution: capital increase or reduction, or the
    /// approval (agrément) of a transferee. Shared by the entries that
    /// cite it (an issue's subscriptions, one each).
    Resolution(std::sync::Arc<AdoptedResolution>),
    /// A transfer needing no approval: the order of transfer recorded in
    /// the ledger is the act (ordre de mouvement).
    TransferOrder,
}

/// One entry of the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisterEntry {
    /// 1, 2, 3... in ledger order, without gaps.
    pub number: u64,
    /// Effective date.
    pub date: NaiveDate,
    pub nature: Nature,
    pub class: ShareClassId,
    pub count: u64,
    /// Whose account the shares leave (`None`: the company, issuing or
    /// cancelling its own shares).
    pub transferor: Option<HolderId>,
    /// Whose account the shares enter (`None`: the company, repurchasing
    /// or cancelling).
    pub transferee: Option<HolderId>,
    /// Issue price, transfer price, repurchase price or reimbursement,
    /// where the event records one.
    pub price_per_share: Option<Euros>,
    pub act: SupportingAct,
    /// The event behind the entry: its position and hash.
    pub at: EventRef,
}

impl RegisterEntry {
    /// Price x count, exactly; `None` without a price (or beyond what a
    /// decimal holds).
    pub fn total(&self) -> Option<Decimal> {
        self.price_per_share?
            .amount()
            .checked_mul(Decimal::from(self.count))
    }

    /// The change this entry makes to `holder`'s account (0 if none).
    pub fn delta_for(&self, holder: &HolderId) -> i128 {
        let n = i128::from(self.count);
        let out = if self.transferor.as_ref() == Some(holder) {
            n
        } else {
            0
        };
        let r#in = if self.transferee.as_ref() == Some(holder) {
            n
        } else {
            0
        };
        r#in - out
    }
}

/// The register fold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ShareRegister {
    entries: Vec<RegisterEntry>,
    /// Per holder, the indexes of the entries that move their account.
    by_holder: BTreeMap<HolderId, Vec<usize>>,
    /// The last event applied, of any stream: the head a document drawn
    /// from this fold states.
    head: Option<EventRef>,
}

impl Fold for ShareRegister {
    const NAME: &'static str = "share-register";

    fn apply(&mut self, meta: &LedgerEvent, event: &FarmEvent) -> Result<(), String> {
        self.head = Some(meta.reference());
        let FarmEvent::Company(event) = event else {
            return Ok(());
        };
        let date = event.effective_date();
        let at = meta.reference();
        let resolution =
            |r: &AdoptedResolution| SupportingAct::Resolution(std::sync::Arc::new(r.clone()));
        match event {
            CompanyEvent::SharesIssued {
                subscriptions,
                resolution: r,
                ..
            } => {
                let (nature, act) = match r {
                    None => (Nature::Subscription, SupportingAct::Incorporation),
                    Some(r) => (Nature::Issue, resolution(r)),
                };
                for s in subscriptions {
                    self.push(RegisterEntry {
                        number: 0,
                        date,
                        nature,
                        class: s.class.clone(),
                        count: s.count.get(),
                        transferor: None,
                        transferee: Some(s.holder.clone()),
                        price_per_share: Some(s.price_per_share),
                        act: act.clone(),
                        at,
                    });
                }
            }
            CompanyEvent::SharesTransferred(t) => self.push(RegisterEntry {
                number: 0,
                date,
                nature: Nature::Transfer,
                class: t.class.clone(),
                count: t.count.get(),
                transferor: Some(t.from.clone()),
                transferee: Some(t.to.clone()),
                price_per_share: t.price_per_share,
                act: t
                    .approval
                    .as_ref()
                    .map_or(SupportingAct::TransferOrder, resolution),
                at,
            }),
            CompanyEvent::SharesRepurchased {
                holder,
                class,
                count,
                price_per_share,
                resolution: r,
                ..
            } => self.push(RegisterEntry {
                number: 0,
                date,
                nature: Nature::Repurchase,
                class: class.clone(),
                count: count.get(),
                transferor: Some(holder.clone()),
                transferee: None,
                price_per_share: Some(*price_per_share),
                act: resolution(r),
                at,
            }),
            CompanyEvent::SharesCancelled {
                source,
                class,
                count,
                resolution: r,
                ..
            } => {
                let (nature, transferor, price_per_share) = match source {
                    CancellationSource::Treasury => (Nature::TreasuryCancellation, None, None),
                    CancellationSource::Holder {
                        holder,
                        reimbursement_per_share,
                    } => (
                        Nature::Cancellation,
                        Some(holder.clone()),
                        *reimbursement_per_share,
                    ),
                };
                self.push(RegisterEntry {
                    number: 0,
                    date,
                    nature,
                    class: class.clone(),
                    count: count.get(),
                    transferor,
                    transferee: None,
                    price_per_share,
                    act: resolution(r),
                    at,
                });
            }
            // Register changes other than movements (admissions, colleges,
            // residences, exits), the charter and places, and any company
            // event added later that moves no shares.
            _ => {}
        }
        Ok(())
    }
}

impl ShareRegister {
    fn push(&mut self, mut entry: RegisterEntry) {
        let index = self.entries.len();
        entry.number = index as u64 + 1;
        for holder in [&entry.transferor, &entry.transferee].into_iter().flatten() {
            let indexes = self.by_holder.entry(holder.clone()).or_default();
            // A holder on both sides of one entry is listed once.
            if indexes.last() != Some(&index) {
                indexes.push(index);
            }
        }
        self.entries.push(entry);
    }

    /// The position and hash of the last event applied (`None` before the
    /// first).
    pub fn head(&self) -> Option<EventRef> {
        self.head
    }

    /// Every entry, in order.
    pub fn entries(&self) -> &[RegisterEntry] {
        &self.entries
    }

    /// The register as it stood `as_of`: a prefix of the entries (see the
    /// module's documentation).
    pub fn entries_as_of(&self, as_of: AsOf) -> &[RegisterEntry] {
        let n = self
            .entries
            .partition_point(|e| as_of.includes(e.at.position, e.date));
        &self.entries[..n]
    }

    /// `holder`'s individual account as of `as_of`: every entry that moves
    /// it with the class's balance after it. `None` if no entry ever names
    /// the holder.
    pub fn account(&self, holder: &HolderId, as_of: AsOf) -> Option<Account<'_>> {
        let indexes = self.by_holder.get(holder)?;
        let mut balances: BTreeMap<&ShareClassId, i128> = BTreeMap::new();
        let lines = indexes
            .iter()
            .filter_map(|i| self.entries.get(*i))
            .take_while(|e| as_of.includes(e.at.position, e.date))
            .map(|entry| {
                let delta = entry.delta_for(holder);
                let balance = balances.entry(&entry.class).or_default();
                *balance += delta;
                AccountLine {
                    entry,
                    delta,
                    balance: *balance,
                }
            })
            .collect();
        Some(Account {
            holder: holder.clone(),
            lines,
            balances: balances.into_iter().map(|(c, n)| (c.clone(), n)).collect(),
        })
    }

    /// What `holder` held at the end of `date`, by class (classes with no
    /// share left out); empty if they held nothing.
    pub fn holdings_at(&self, holder: &HolderId, date: NaiveDate) -> BTreeMap<ShareClassId, u64> {
        self.account(holder, AsOf::Date { date })
            .map(|a| {
                a.balances
                    .into_iter()
                    .filter_map(|(c, n)| u64::try_from(n).ok().filter(|n| *n > 0).map(|n| (c, n)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every holder some entry names, in id order.
    pub fn holders(&self) -> impl Iterator<Item = &HolderId> {
        self.by_holder.keys()
    }
}

/// A holder's individual account (compte individuel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account<'a> {
    pub holder: HolderId,
    pub lines: Vec<AccountLine<'a>>,
    /// The balance per class after the last line.
    pub balances: BTreeMap<ShareClassId, i128>,
}

/// One movement of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountLine<'a> {
    pub entry: &'a RegisterEntry,
    /// Shares in (positive) or out (negative).
    pub delta: i128,
    /// The class's balance after this line.
    pub balance: i128,
}
