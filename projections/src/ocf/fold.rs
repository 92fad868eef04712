//! From the company's events to OCF objects.
//!
//! OCF tracks *securities*: each is created by one issuance, with one holder,
//! one class and a quantity, and is closed by at most one transfer,
//! repurchase or cancellation, a remainder living on as a new "balance"
//! security. Our events move share counts, so the fold keeps, per owner and
//! class, the open securities in the order they were created, and takes
//! shares from the oldest first (first in, first out). A movement larger than
//! the oldest security closes several securities, one OCF transaction each.
//!
//! Treasury shares (actions auto-détenues) have an owner of their own, the
//! treasury stakeholder: a repurchase closes the holder's securities
//! (`TX_STOCK_REPURCHASE`) and issues one security of the same count to the
//! treasury, which a cancellation from treasury closes later. OCF's own
//! totals therefore count treasury shares as outstanding, as French law
//! counts them in the share capital until they are cancelled.

use std::collections::{BTreeMap, VecDeque};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use windledger_domain::charter::{Charter, ShareClass, VoteBasis};
use windledger_domain::company::{
    CancellationSource, CompanyEvent, HolderKind, Incorporation, LegalForm, ShareTransfer,
    Subscription,
};
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_domain::resolution::AdoptedResolution;
use windledger_domain::types::{CollegeId, CommuneCode, HolderId, ShareClassId, ShareCount};

use super::objects::{
    AuthorizedSharesAdjustment, Issuer, Monetary, Name, Stakeholder, StockCancellation, StockClass,
    StockIssuance, StockRepurchase, StockTransfer, TaxId, Transaction,
};
use super::{OcfError, TREASURY_STAKEHOLDER_ID};

/// Prefix of the `comments` entries that carry what OCF has no field for,
/// as `windledger:key=value` (see docs/ocf.md).
const TAG: &str = "windledger:";

/// The OCF objects of a company as of a date.
pub(super) struct Exported {
    pub issuer: Issuer,
    pub stakeholders: Vec<Stakeholder>,
    pub stock_classes: Vec<StockClass>,
    pub transactions: Vec<Transaction>,
    /// For the manifest: what the export covers and the charter's colleges.
    pub comments: Vec<String>,
}

/// Folds the events effective on or before `as_of` (a prefix of the stream:
/// effective dates never go back).
pub(super) fn fold(events: &[(u64, CompanyEvent)], as_of: NaiveDate) -> Result<Exported, OcfError> {
    let mut state = State::default();
    for (position, event) in events {
        if event.effective_date() > as_of {
            break;
        }
        state.apply(*position, event)?;
    }
    state.finish(as_of)
}

pub(super) fn stakeholder_id(holder: &HolderId) -> String {
    format!("sh-{holder}")
}

pub(super) fn stock_class_id(class: &ShareClassId) -> String {
    format!("sc-{class}")
}

fn tag(key: &str, value: impl std::fmt::Display) -> String {
    format!("{TAG}{key}={value}")
}

#[derive(Default)]
struct State {
    company: Option<Incorporation>,
    charter: Option<Charter>,
    /// Every class ever in a charter, in order of first appearance: past
    /// transactions may name a class an amendment removed.
    classes: Vec<ClassState>,
    holders: BTreeMap<HolderId, HolderState>,
    securities: Vec<Security>,
    /// Open securities (indices into `securities`) per owner and class,
    /// oldest first.
    open: BTreeMap<(Owner, ShareClassId), VecDeque<usize>>,
    transactions: Vec<Transaction>,
    treasury_used: bool,
    previous: Option<(u64, NaiveDate)>,
    events: usize,
}

struct ClassState {
    class: ShareClass,
    initial_authorised: ShareCount,
    /// The amendment that added the class (none: the founding charter).
    added_by: Option<AdoptedResolution>,
    removed_on: Option<NaiveDate>,
}

struct HolderState {
    kind: HolderKind,
    college: CollegeId,
    commune: CommuneCode,
    admitted_on: NaiveDate,
    exited_on: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Owner {
    Holder(HolderId),
    Treasury,
}

impl Owner {
    fn stakeholder_id(&self) -> String {
        match self {
            Self::Holder(holder) => stakeholder_id(holder),
            Self::Treasury => TREASURY_STAKEHOLDER_ID.to_owned(),
        }
    }
}

struct Security {
    id: String,
    owner: Owner,
    class: ShareClassId,
    quantity: u64,
    /// What the owner paid per share: the source's price for a balance.
    price: Decimal,
}

/// Part of a disposal that acts on one security.
struct Piece {
    source: usize,
    quantity: u64,
    remainder: u64,
}

/// A piece of a security closed by a repurchase or a cancellation: what
/// its transaction carries whatever its kind.
struct Closing {
    id: String,
    security_id: String,
    quantity: String,
    balance_security_id: Option<String>,
    comments: Vec<String>,
}

/// The event being folded: where ids and comments come from.
struct At {
    position: u64,
    date: NaiveDate,
    event: &'static str,
    next: u32,
}

impl At {
    /// A number for the next object this event creates; ids are
    /// `tx-<position>-<n>` and `sec-<position>-<n>`, stable across exports.
    fn next(&mut self) -> u32 {
        self.next += 1;
        self.next
    }

    fn tx(&self, n: u32) -> String {
        format!("tx-{}-{n}", self.position)
    }

    fn sec(&self, n: u32) -> String {
        format!("sec-{}-{n}", self.position)
    }

    fn comments(&self) -> Vec<String> {
        vec![tag("position", self.position), tag("event", self.event)]
    }

    fn inconsistent(&self, reason: impl Into<String>) -> OcfError {
        OcfError::Inconsistent {
            position: self.position,
            reason: reason.into(),
        }
    }

    fn money(&self, amount: Decimal) -> Result<Monetary, OcfError> {
        Ok(Monetary {
            amount: self.amount(amount)?,
            currency: "EUR",
        })
    }

    /// OCF `Numeric`: a fixed-point string with at most 10 decimals.
    fn amount(&self, amount: Decimal) -> Result<String, OcfError> {
        let amount = if amount.scale() > 10 {
            amount.normalize()
        } else {
            amount
        };
        if amount.scale() > 10 {
            return Err(OcfError::TooPrecise {
                position: self.position,
                amount,
            });
        }
        Ok(amount.to_string())
    }
}

/// A security to create by a `TX_STOCK_ISSUANCE`.
struct NewSecurity<'a> {
    owner: Owner,
    class: &'a ShareClassId,
    quantity: u64,
    price: Decimal,
    approval_date: Option<NaiveDate>,
    consideration: Option<String>,
    comments: Vec<String>,
}

impl State {
    fn apply(&mut self, position: u64, event: &CompanyEvent) -> Result<(), OcfError> {
        let date = event.effective_date();
        if let Some((previous, latest)) = self.previous {
            if position <= previous {
                return Err(OcfError::OutOfOrder { position, previous });
            }
            if date < latest {
                return Err(OcfError::DateWentBack {
                    position,
                    date,
                    latest,
                });
            }
        }
        self.previous = Some((position, date));
        self.events += 1;
        let mut at = At {
            position,
            date,
            event: event.name(),
            next: 0,
        };
        if self.company.is_none() && !matches!(event, CompanyEvent::Incorporated { .. }) {
            return Err(at.inconsistent("the first event must be the incorporation"));
        }
        match event {
            CompanyEvent::Incorporated { company, charter } => {
                if self.company.is_some() {
                    return Err(at.inconsistent("the company is already incorporated"));
                }
                self.company = Some(company.clone());
                self.adopt(charter, None, &mut at);
            }
            CompanyEvent::CharterAmended {
                charter,
                resolution,
                ..
            } => self.adopt(charter, Some(resolution), &mut at),
            CompanyEvent::ShareholderAdmitted {
                holder,
                kind,
                college,
                commune,
                effective_date,
                ..
            } => {
                let entry = HolderState {
                    kind: *kind,
                    college: college.clone(),
                    commune: commune.clone(),
                    admitted_on: *effective_date,
                    exited_on: None,
                };
                self.holders.insert(holder.clone(), entry);
            }
            CompanyEvent::ShareholderCollegeChanged { holder, to, .. } => {
                self.holder_mut(holder, &at)?.college = to.clone();
            }
            CompanyEvent::ShareholderResidenceChanged {
                holder, commune, ..
            } => {
                self.holder_mut(holder, &at)?.commune = commune.clone();
            }
            // OCF has no place for the names of places, nor for a club's
            // number of members.
            // OCF 1.2.0 has no object for a farm's assets.
            CompanyEvent::PlacesNamed { .. }
            | CompanyEvent::ClubMembersChanged { .. }
            | CompanyEvent::TurbineAdded { .. }
            | CompanyEvent::TurbineCommissioned { .. }
            | CompanyEvent::TurbineRepowered { .. }
            | CompanyEvent::TurbineDecommissioned { .. } => {}
            // Identities are kept outside the ledger (the vault), and OCF
            // names stakeholders by id here.
            CompanyEvent::IdentityRecorded { .. } | CompanyEvent::IdentityErased { .. } => {}
            CompanyEvent::ShareholderExited {
                holder,
                effective_date,
            } => {
                self.holder_mut(holder, &at)?.exited_on = Some(*effective_date);
            }
            CompanyEvent::SharesIssued {
                subscriptions,
                resolution,
                ..
            } => {
                for subscription in subscriptions {
                    self.subscribe(subscription, resolution.as_ref(), &mut at)?;
                }
            }
            CompanyEvent::SharesTransferred(transfer) => self.transfer(transfer, &mut at)?,
            CompanyEvent::SharesRepurchased {
                holder,
                class,
                count,
                price_per_share,
                resolution,
                ..
            } => self.repurchase(
                holder,
                class,
                count.get(),
                *price_per_share,
                resolution,
                &mut at,
            )?,
            CompanyEvent::SharesCancelled {
                source,
                class,
                count,
                resolution,
                ..
            } => self.cancel(source, class, count.get(), resolution, &mut at)?,
        }
        Ok(())
    }

    fn holder_mut(&mut self, holder: &HolderId, at: &At) -> Result<&mut HolderState, OcfError> {
        self.holders
            .get_mut(holder)
            .ok_or_else(|| at.inconsistent(format!("holder {holder} is not in the register")))
    }

    fn check_holder(&self, holder: &HolderId, at: &At) -> Result<(), OcfError> {
        if self.holders.contains_key(holder) {
            Ok(())
        } else {
            Err(at.inconsistent(format!("holder {holder} is not in the register")))
        }
    }

    fn check_class(&self, class: &ShareClassId, at: &At) -> Result<(), OcfError> {
        if self.classes.iter().any(|c| &c.class.id == class) {
            Ok(())
        } else {
            Err(at.inconsistent(format!("share class {class} is in no charter")))
        }
    }

    /// A charter comes into force: new classes become stock classes, a
    /// change of authorised shares is an OCF adjustment, removed classes are
    /// kept (past transactions name them) and marked.
    fn adopt(&mut self, charter: &Charter, resolution: Option<&AdoptedResolution>, at: &mut At) {
        for class in &charter.share_classes {
            match self.classes.iter_mut().find(|c| c.class.id == class.id) {
                Some(known) => {
                    if let Some(resolution) = resolution
                        && known.class.authorised != class.authorised
                    {
                        let n = at.next();
                        let mut comments = at.comments();
                        comments.push(tag("resolution", &resolution.id));
                        self.transactions
                            .push(Transaction::AuthorizedSharesAdjustment(
                                AuthorizedSharesAdjustment {
                                    id: at.tx(n),
                                    date: at.date,
                                    stock_class_id: stock_class_id(&class.id),
                                    new_shares_authorized: class.authorised.to_string(),
                                    stockholder_approval_date: resolution.adopted_on,
                                    comments,
                                },
                            ));
                    }
                    known.class = class.clone();
                    known.removed_on = None;
                }
                None => self.classes.push(ClassState {
                    class: class.clone(),
                    initial_authorised: class.authorised,
                    added_by: resolution.cloned(),
                    removed_on: None,
                }),
            }
        }
        for known in &mut self.classes {
            if known.removed_on.is_none() && charter.share_class(&known.class.id).is_none() {
                known.removed_on = Some(at.date);
            }
        }
        self.charter = Some(charter.clone());
    }

    fn subscribe(
        &mut self,
        subscription: &Subscription,
        resolution: Option<&AdoptedResolution>,
        at: &mut At,
    ) -> Result<(), OcfError> {
        self.check_holder(&subscription.holder, at)?;
        self.check_class(&subscription.class, at)?;
        let n = at.next();
        let mut comments = at.comments();
        match resolution {
            Some(resolution) => comments.push(tag("resolution", &resolution.id)),
            None => comments.push(tag("initial_subscription", true)),
        }
        let price = subscription.price_per_share.amount();
        let index = self.create(
            n,
            at,
            NewSecurity {
                owner: Owner::Holder(subscription.holder.clone()),
                class: &subscription.class,
                quantity: subscription.count.get(),
                price,
                approval_date: resolution.map(|r| r.adopted_on),
                consideration: Some(format!("Subscribed at {} EUR per share", at.amount(price)?)),
                comments,
            },
        )?;
        self.enqueue_back(index);
        Ok(())
    }

    fn transfer(&mut self, transfer: &ShareTransfer, at: &mut At) -> Result<(), OcfError> {
        let ShareTransfer {
            from, to, class, ..
        } = transfer;
        let price = transfer.price_per_share;
        let approval = transfer.approval.as_ref();
        self.check_holder(to, at)?;
        let consideration = match price {
            Some(price) => format!("Sold at {} EUR per share", at.amount(price.amount())?),
            None => "No price: a gift or an inheritance".to_owned(),
        };
        let count = transfer.count.get();
        for piece in self.take(&Owner::Holder(from.clone()), class, count, at)? {
            let n_result = at.next();
            let n_balance = (piece.remainder > 0).then(|| at.next());
            let n_close = at.next();
            let close_id = at.tx(n_close);
            let mut comments = at.comments();
            comments.push(tag("result_of", &close_id));
            let result = self.create(
                n_result,
                at,
                NewSecurity {
                    owner: Owner::Holder(to.clone()),
                    class,
                    quantity: piece.quantity,
                    price: price.map_or(Decimal::ZERO, Euros::amount),
                    approval_date: approval.map(|r| r.adopted_on),
                    consideration: Some(consideration.clone()),
                    comments,
                },
            )?;
            let balance = self.balance(n_balance, &piece, &close_id, at)?;
            let resulting_security_id = self.securities[result].id.clone();
            self.enqueue_back(result);
            let mut comments = at.comments();
            if let Some(approval) = approval {
                comments.push(tag("approval", &approval.id));
            }
            self.transactions.push(Transaction::Transfer(StockTransfer {
                id: close_id,
                date: at.date,
                security_id: self.securities[piece.source].id.clone(),
                quantity: piece.quantity.to_string(),
                resulting_security_ids: vec![resulting_security_id],
                balance_security_id: balance,
                consideration_text: consideration.clone(),
                comments,
            }));
        }
        Ok(())
    }

    fn repurchase(
        &mut self,
        holder: &HolderId,
        class: &ShareClassId,
        count: u64,
        price: Euros,
        resolution: &AdoptedResolution,
        at: &mut At,
    ) -> Result<(), OcfError> {
        let price = price.amount();
        let owner = Owner::Holder(holder.clone());
        let closed = self.close(&owner, class, count, resolution, at, |c, at| {
            Ok(Transaction::Repurchase(StockRepurchase {
                id: c.id,
                date: at.date,
                security_id: c.security_id,
                quantity: c.quantity,
                price: at.money(price)?,
                balance_security_id: c.balance_security_id,
                comments: c.comments,
            }))
        })?;
        let n = at.next();
        let mut comments = at.comments();
        comments.push(tag("treasury_from", closed.join(",")));
        let index = self.create(
            n,
            at,
            NewSecurity {
                owner: Owner::Treasury,
                class,
                quantity: count,
                price,
                approval_date: Some(resolution.adopted_on),
                consideration: Some(format!(
                    "Treasury shares: repurchased from {holder} at {} EUR per share; not newly issued shares",
                    at.amount(price)?
                )),
                comments,
            },
        )?;
        self.enqueue_back(index);
        self.treasury_used = true;
        Ok(())
    }

    fn cancel(
        &mut self,
        source: &CancellationSource,
        class: &ShareClassId,
        count: u64,
        resolution: &AdoptedResolution,
        at: &mut At,
    ) -> Result<(), OcfError> {
        let (owner, reason) = match source {
            CancellationSource::Treasury => (
                Owner::Treasury,
                "Capital reduction: cancellation of treasury shares".to_owned(),
            ),
            CancellationSource::Holder {
                holder,
                reimbursement_per_share,
            } => (
                Owner::Holder(holder.clone()),
                match reimbursement_per_share {
                    Some(r) => format!(
                        "Capital reduction: cancellation of the holder's shares, reimbursed at {} EUR per share",
                        at.amount(r.amount())?
                    ),
                    None => "Capital reduction: cancellation of the holder's shares, without reimbursement".to_owned(),
                },
            ),
        };
        let reason = format!(
            "{reason} (resolution {} adopted on {})",
            resolution.id, resolution.adopted_on
        );
        self.close(&owner, class, count, resolution, at, |c, at| {
            Ok(Transaction::Cancellation(StockCancellation {
                id: c.id,
                date: at.date,
                security_id: c.security_id,
                quantity: c.quantity,
                balance_security_id: c.balance_security_id,
                reason_text: reason.clone(),
                comments: c.comments,
            }))
        })?;
        Ok(())
    }

    /// Closes `count` shares of `owner` in `class` under `resolution`, the
    /// oldest securities first (a remainder goes to a new balance
    /// security), each piece by the transaction `transaction` makes of it:
    /// the ids of those transactions, in order.
    fn close(
        &mut self,
        owner: &Owner,
        class: &ShareClassId,
        count: u64,
        resolution: &AdoptedResolution,
        at: &mut At,
        transaction: impl Fn(Closing, &At) -> Result<Transaction, OcfError>,
    ) -> Result<Vec<String>, OcfError> {
        let mut closed = Vec::new();
        for piece in self.take(owner, class, count, at)? {
            let n_balance = (piece.remainder > 0).then(|| at.next());
            let n_close = at.next();
            let close_id = at.tx(n_close);
            let balance = self.balance(n_balance, &piece, &close_id, at)?;
            let mut comments = at.comments();
            comments.push(tag("resolution", &resolution.id));
            let closing = Closing {
                id: close_id.clone(),
                security_id: self.securities[piece.source].id.clone(),
                quantity: piece.quantity.to_string(),
                balance_security_id: balance,
                comments,
            };
            self.transactions.push(transaction(closing, at)?);
            closed.push(close_id);
        }
        Ok(closed)
    }

    /// Closes the oldest open securities of `owner` in `class` that cover
    /// `count` shares; the last may be partial.
    fn take(
        &mut self,
        owner: &Owner,
        class: &ShareClassId,
        count: u64,
        at: &At,
    ) -> Result<Vec<Piece>, OcfError> {
        self.check_class(class, at)?;
        if count == 0 {
            return Err(at.inconsistent("a movement of no share"));
        }
        let key = (owner.clone(), class.clone());
        let securities = &self.securities;
        let queue = self.open.get_mut(&key);
        let held: u64 = queue
            .iter()
            .flat_map(|q| q.iter())
            .map(|&i| securities[i].quantity)
            .sum();
        let Some(queue) = queue.filter(|_| held >= count) else {
            let whose = match owner {
                Owner::Holder(holder) => format!("holder {holder}"),
                Owner::Treasury => "the treasury".to_owned(),
            };
            return Err(at.inconsistent(format!(
                "{whose} holds {held} shares of {class}, not the {count} this event moves"
            )));
        };
        let mut pieces = Vec::new();
        let mut left = count;
        while left > 0 {
            let Some(source) = queue.pop_front() else {
                break; // Unreachable: `held` covers `count`.
            };
            let quantity = securities[source].quantity.min(left);
            pieces.push(Piece {
                source,
                quantity,
                remainder: securities[source].quantity - quantity,
            });
            left -= quantity;
        }
        if queue.is_empty() {
            self.open.remove(&key);
        }
        Ok(pieces)
    }

    /// The balance security of a partial disposal: same owner, class and
    /// price, first in its owner's queue like the security it replaces.
    fn balance(
        &mut self,
        n: Option<u32>,
        piece: &Piece,
        close_id: &str,
        at: &mut At,
    ) -> Result<Option<String>, OcfError> {
        let Some(n) = n else {
            return Ok(None);
        };
        let source = &self.securities[piece.source];
        let (owner, class, price) = (source.owner.clone(), source.class.clone(), source.price);
        let mut comments = at.comments();
        comments.push(tag("balance_of", close_id));
        let index = self.create(
            n,
            at,
            NewSecurity {
                owner,
                class: &class,
                quantity: piece.remainder,
                price,
                approval_date: None,
                consideration: None,
                comments,
            },
        )?;
        let id = self.securities[index].id.clone();
        let security = &self.securities[index];
        self.open
            .entry((security.owner.clone(), security.class.clone()))
            .or_default()
            .push_front(index);
        Ok(Some(id))
    }

    fn enqueue_back(&mut self, index: usize) {
        let security = &self.securities[index];
        self.open
            .entry((security.owner.clone(), security.class.clone()))
            .or_default()
            .push_back(index);
    }

    /// Records the issuance creating a security; the caller queues it.
    fn create(&mut self, n: u32, at: &At, new: NewSecurity<'_>) -> Result<usize, OcfError> {
        let security_id = at.sec(n);
        self.transactions.push(Transaction::Issuance(StockIssuance {
            id: at.tx(n),
            date: at.date,
            security_id: security_id.clone(),
            custom_id: format!("{}-{}-{n}", new.class, at.position),
            stakeholder_id: new.owner.stakeholder_id(),
            stock_class_id: stock_class_id(new.class),
            quantity: new.quantity.to_string(),
            share_price: at.money(new.price)?,
            stockholder_approval_date: new.approval_date,
            consideration_text: new.consideration,
            security_law_exemptions: Vec::new(),
            stock_legend_ids: Vec::new(),
            comments: new.comments,
        }));
        self.securities.push(Security {
            id: security_id,
            owner: new.owner,
            class: new.class.clone(),
            quantity: new.quantity,
            price: new.price,
        });
        Ok(self.securities.len() - 1)
    }

    /// Shares outstanding (held and in treasury) per class.
    fn outstanding(&self) -> BTreeMap<&ShareClassId, u64> {
        let mut out = BTreeMap::new();
        for ((_, class), queue) in &self.open {
            let n: u64 = queue.iter().map(|&i| self.securities[i].quantity).sum();
            *out.entry(class).or_default() += n;
        }
        out
    }

    fn finish(self, as_of: NaiveDate) -> Result<Exported, OcfError> {
        let (Some(company), Some(charter), Some((last_position, _))) =
            (&self.company, &self.charter, self.previous)
        else {
            return Err(OcfError::NotIncorporated { as_of });
        };
        let at = At {
            position: last_position,
            date: as_of,
            event: "",
            next: 0,
        };
        let capital = self
            .outstanding()
            .into_iter()
            .try_fold(Decimal::ZERO, |sum, (class, n)| {
                let nominal = self
                    .classes
                    .iter()
                    .find(|c| &c.class.id == class)
                    .map_or(Decimal::ZERO, |c| c.class.nominal_value.amount());
                nominal
                    .checked_mul(Decimal::from(n))
                    .and_then(|v| sum.checked_add(v))
            })
            .ok_or_else(|| at.inconsistent("the share capital overflows"))?;
        let territory: Vec<&str> = company.territory.iter().map(CommuneCode::as_str).collect();
        let issuer = Issuer {
            object_type: "ISSUER",
            id: format!("issuer-{}", company.registration_number),
            legal_name: company.legal_name.as_str().to_owned(),
            formation_date: company.formation_date,
            country_of_formation: "FR",
            tax_ids: vec![TaxId {
                tax_id: company.registration_number.as_str().to_owned(),
                country: "FR",
            }],
            comments: vec![
                tag("siren", &company.registration_number),
                tag("legal_form", legal_form(company.legal_form)),
                tag(
                    "share_capital_at_formation",
                    format!("{} EUR", at.amount(company.share_capital.amount())?),
                ),
                tag("share_capital", format!("{} EUR", at.amount(capital)?)),
                tag("territory", territory.join(",")),
            ],
        };

        let mut stakeholders: Vec<Stakeholder> = self
            .holders
            .iter()
            .map(|(holder, entry)| {
                let mut comments = vec![
                    tag("holder_kind", holder_kind(entry.kind)),
                    tag("college", &entry.college),
                    tag("commune", &entry.commune),
                    tag("admitted_on", entry.admitted_on),
                ];
                if let Some(exited_on) = entry.exited_on {
                    comments.push(tag("exited_on", exited_on));
                }
                Stakeholder {
                    object_type: "STAKEHOLDER",
                    id: stakeholder_id(holder),
                    name: Name {
                        legal_name: holder.as_str().to_owned(),
                    },
                    stakeholder_type: match entry.kind {
                        HolderKind::Individual => "INDIVIDUAL",
                        _ => "INSTITUTION",
                    },
                    issuer_assigned_id: holder.as_str().to_owned(),
                    current_relationship: entry.exited_on.is_none().then_some("INVESTOR"),
                    comments,
                }
            })
            .collect();
        if self.treasury_used {
            stakeholders.push(Stakeholder {
                object_type: "STAKEHOLDER",
                id: TREASURY_STAKEHOLDER_ID.to_owned(),
                name: Name {
                    legal_name: format!("{} (actions auto-détenues)", company.legal_name.as_str()),
                },
                stakeholder_type: "INSTITUTION",
                issuer_assigned_id: "treasury".to_owned(),
                current_relationship: Some("OTHER"),
                comments: vec![
                    tag("treasury", true),
                    "The company's own shares, repurchased and not yet cancelled: no vote, no dividend.".to_owned(),
                ],
            });
        }

        let stock_classes = self
            .classes
            .iter()
            .map(|state| {
                let class = &state.class;
                // Voting shares with the ordinary dividend; anything else is
                // an action de préférence.
                let ordinary = class.votes_per_share > 0 && class.dividend_rights == Ratio::ONE;
                let mut comments = vec![
                    tag("share_class", &class.id),
                    tag("dividend_rights", class.dividend_rights),
                    tag("authorised", class.authorised),
                ];
                if let Some(resolution) = &state.added_by {
                    comments.push(tag("added_by_resolution", &resolution.id));
                }
                if let Some(removed_on) = state.removed_on {
                    comments.push(tag("removed_on", removed_on));
                }
                Ok(StockClass {
                    object_type: "STOCK_CLASS",
                    id: stock_class_id(&class.id),
                    name: class.name.clone(),
                    class_type: if ordinary { "COMMON" } else { "PREFERRED" },
                    default_id_prefix: format!("{}-", class.id),
                    initial_shares_authorized: state.initial_authorised.to_string(),
                    stockholder_approval_date: state.added_by.as_ref().map(|r| r.adopted_on),
                    votes_per_share: class.votes_per_share.to_string(),
                    par_value: at.money(class.nominal_value.amount())?,
                    seniority: "1".to_owned(),
                    comments,
                })
            })
            .collect::<Result<Vec<_>, OcfError>>()?;

        let mut comments = vec![
            format!(
                "Exported by windledger from the company stream: {} events, ledger positions up to {last_position}, effective on or before {as_of}.",
                self.events
            ),
            "Holders appear by pseudonymous id only; personal data is not in the ledger. Colleges, holder kinds and communes are in the stakeholders' comments (windledger:key=value).".to_owned(),
        ];
        comments.extend(charter.colleges.iter().map(|college| {
            let weight = college
                .weight
                .map_or_else(|| "none".to_owned(), |w| w.to_string());
            let basis = match college.vote_basis {
                VoteBasis::PerShare => "per_share",
                VoteBasis::PerMember => "per_member",
            };
            format!(
                "{}; name={}; weight={weight}; vote_basis={basis}",
                tag("college", &college.id),
                college.name
            )
        }));
        Ok(Exported {
            issuer,
            stakeholders,
            stock_classes,
            transactions: self.transactions,
            comments,
        })
    }
}

fn holder_kind(kind: HolderKind) -> &'static str {
    match kind {
        HolderKind::Individual => "individual",
        HolderKind::Association => "association",
        HolderKind::InvestmentClub => "investment_club",
        HolderKind::LocalAuthority => "local_authority",
        HolderKind::Commune => "commune",
        HolderKind::Epci => "epci",
        HolderKind::Sem => "sem",
        HolderKind::Company => "company",
        HolderKind::Cooperative => "cooperative",
        HolderKind::Fund => "fund",
    }
}

fn legal_form(form: LegalForm) -> &'static str {
    match form {
        LegalForm::Sas => "sas",
        LegalForm::Sa => "sa",
        LegalForm::Sem => "sem",
        LegalForm::Scic => "scic",
        LegalForm::Sarl => "sarl",
    }
}
