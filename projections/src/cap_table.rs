//! The cap table over time: every holder's movements and register changes
//! with their dates and positions, so that the table as of any date or
//! position is one pass over them.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use windledger_domain::cap_table::{CapTableService, CapTableSnapshot, HolderPosition};
use windledger_domain::charter::{Charter, VoteBasis};
use windledger_domain::company::{
    CancellationSource, CompanyEvent, Fleet, HolderKind, Incorporation, PlaceNames, ShareTransfer,
    Turbine,
};
use windledger_domain::meeting::{Voter, general_meeting_voters};
use windledger_domain::money::Euros;
use windledger_domain::ratio::Ratio;
use windledger_domain::resolution::{BoxFuture, LookupError};
use windledger_domain::types::{
    CollegeId, CommuneCode, HolderId, IdentityCommitment, ShareClassId, ShareCount,
};

use crate::event::{EventRef, FarmEvent, LedgerEvent};
use crate::runner::{Fold, Shared};

/// Which state of the ledger a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "as_of", rename_all = "snake_case")]
pub enum AsOf {
    /// Everything applied so far.
    Latest,
    /// The events up to this position.
    Position { position: u64 },
    /// The facts effective up to the end of this date.
    Date { date: NaiveDate },
}

impl AsOf {
    pub(crate) fn includes(self, position: u64, date: NaiveDate) -> bool {
        match self {
            Self::Latest => true,
            Self::Position { position: p } => position <= p,
            Self::Date { date: d } => date <= d,
        }
    }
}

/// A fact with when it was recorded and when it took effect.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(
    feature = "json-schema",
    derive(schemars::JsonSchema),
    schemars(rename = "Dated{T}")
)]
pub struct Dated<T> {
    pub position: u64,
    pub date: NaiveDate,
    pub value: T,
}

/// A change of a holder's shares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Movement {
    pub at: EventRef,
    pub date: NaiveDate,
    pub class: ShareClassId,
    /// Shares in (positive) or out (negative).
    pub delta: i64,
    pub kind: MovementKind,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
#[serde(tag = "movement", rename_all = "snake_case")]
pub enum MovementKind {
    Issued,
    TransferredIn { from: HolderId },
    TransferredOut { to: HolderId },
    Repurchased,
    Cancelled,
}

/// A holder's line of the register at some date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Registration {
    pub college: CollegeId,
    pub commune: CommuneCode,
    pub exited: bool,
    /// An investment club's number of members, once recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members: Option<u32>,
}

/// Everything recorded about one holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct HolderHistory {
    pub kind: HolderKind,
    pub registrations: Vec<Dated<Registration>>,
    pub movements: Vec<Movement>,
}

impl HolderHistory {
    fn registration(&self, as_of: AsOf) -> Option<&Registration> {
        self.registrations
            .iter()
            .rev()
            .find(|r| as_of.includes(r.position, r.date))
            .map(|r| &r.value)
    }
}

/// The cap table fold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CapTable {
    incorporation: Option<Dated<Incorporation>>,
    charters: Vec<Dated<Arc<Charter>>>,
    holders: BTreeMap<HolderId, HolderHistory>,
    /// Treasury and outstanding shares move by class.
    treasury: Vec<Dated<(ShareClassId, i64)>>,
    outstanding: Vec<Dated<(ShareClassId, i64)>>,
    /// The latest name of each place named.
    places: PlaceNames,
    /// The commitment of each holder's identity in force (None: erased).
    identities: BTreeMap<HolderId, Option<IdentityCommitment>>,
    /// Every commitment recorded for each holder since their data was last
    /// erased, oldest first.
    identities_recorded: BTreeMap<HolderId, Vec<IdentityCommitment>>,
    /// The turbines' additions, commissionings, repowerings and
    /// decommissionings, in order.
    turbine_works: Vec<Dated<CompanyEvent>>,
    /// The position of the last event that changed this fold (0: none).
    changed: u64,
}

impl Fold for CapTable {
    const NAME: &'static str = "cap-table";

    fn apply(&mut self, meta: &LedgerEvent, event: &FarmEvent) -> Result<(), String> {
        let FarmEvent::Company(event) = event else {
            return Ok(());
        };
        self.changed = meta.position;
        let date = event.effective_date();
        let dated = Dater {
            position: meta.position,
            date,
        };
        let at = meta.reference();
        let movement = |class: &ShareClassId, delta: i64, kind| Movement {
            at,
            date,
            class: class.clone(),
            delta,
            kind,
        };
        match event {
            CompanyEvent::Incorporated { company, charter } => {
                self.incorporation = Some(dated.of(company.clone()));
                self.charters.push(dated.of(Arc::new(charter.clone())));
            }
            CompanyEvent::CharterAmended { charter, .. } => {
                self.charters.push(dated.of(Arc::new(charter.clone())));
            }
            CompanyEvent::ShareholderAdmitted {
                holder,
                kind,
                college,
                commune,
                members,
                ..
            } => {
                let registration = dated.of(Registration {
                    college: college.clone(),
                    commune: commune.clone(),
                    exited: false,
                    members: *members,
                });
                let history = self
                    .holders
                    .entry(holder.clone())
                    .or_insert_with(|| HolderHistory {
                        kind: *kind,
                        registrations: Vec::new(),
                        movements: Vec::new(),
                    });
                history.kind = *kind;
                crate::push_tight(&mut history.registrations, registration);
            }
            CompanyEvent::ShareholderCollegeChanged { holder, to, .. } => {
                self.reregister(holder, dated.of(()), |r| r.college = to.clone())?;
            }
            CompanyEvent::ShareholderResidenceChanged {
                holder, commune, ..
            } => {
                self.reregister(holder, dated.of(()), |r| r.commune = commune.clone())?;
            }
            CompanyEvent::ClubMembersChanged {
                holder, members, ..
            } => {
                self.reregister(holder, dated.of(()), |r| r.members = Some(*members))?;
            }
            CompanyEvent::ShareholderExited { holder, .. } => {
                self.reregister(holder, dated.of(()), |r| r.exited = true)?;
            }
            CompanyEvent::SharesIssued { subscriptions, .. } => {
                for s in subscriptions {
                    let n = count(s.count)?;
                    self.outstanding.push(dated.of((s.class.clone(), n)));
                    crate::push_tight(
                        &mut self.history(&s.holder)?.movements,
                        movement(&s.class, n, MovementKind::Issued),
                    );
                }
            }
            CompanyEvent::SharesTransferred(ShareTransfer {
                from,
                to,
                class,
                count: c,
                ..
            }) => {
                let n = count(*c)?;
                crate::push_tight(
                    &mut self.history(from)?.movements,
                    movement(class, -n, MovementKind::TransferredOut { to: to.clone() }),
                );
                crate::push_tight(
                    &mut self.history(to)?.movements,
                    movement(class, n, MovementKind::TransferredIn { from: from.clone() }),
                );
            }
            CompanyEvent::SharesRepurchased {
                holder,
                class,
                count: c,
                ..
            } => {
                let n = count(*c)?;
                crate::push_tight(
                    &mut self.history(holder)?.movements,
                    movement(class, -n, MovementKind::Repurchased),
                );
                self.treasury.push(dated.of((class.clone(), n)));
            }
            CompanyEvent::SharesCancelled {
                source,
                class,
                count: c,
                ..
            } => {
                let n = count(*c)?;
                match source {
                    CancellationSource::Treasury => {
                        self.treasury.push(dated.of((class.clone(), -n)))
                    }
                    CancellationSource::Holder { holder, .. } => self
                        .history(holder)?
                        .movements
                        .push(movement(class, -n, MovementKind::Cancelled)),
                }
                self.outstanding.push(dated.of((class.clone(), -n)));
            }
            CompanyEvent::PlacesNamed { places, .. } => self.places.merge(places),
            CompanyEvent::TurbineAdded { .. }
            | CompanyEvent::TurbineCommissioned { .. }
            | CompanyEvent::TurbineRepowered { .. }
            | CompanyEvent::TurbineDecommissioned { .. } => {
                self.turbine_works.push(dated.of(event.clone()));
            }
            CompanyEvent::IdentityRecorded {
                holder, commitment, ..
            } => {
                self.identities
                    .insert(holder.clone(), Some(commitment.clone()));
                self.identities_recorded
                    .entry(holder.clone())
                    .or_default()
                    .push(commitment.clone());
            }
            CompanyEvent::IdentityErased { holder, .. } => {
                self.identities.insert(holder.clone(), None);
                self.identities_recorded.remove(holder);
            }
        }
        Ok(())
    }
}

/// Dates values with the event's position and effective date.
#[derive(Clone, Copy)]
struct Dater {
    position: u64,
    date: NaiveDate,
}

impl Dater {
    fn of<T>(self, value: T) -> Dated<T> {
        Dated {
            position: self.position,
            date: self.date,
            value,
        }
    }
}

fn count(n: ShareCount) -> Result<i64, String> {
    i64::try_from(n.get()).map_err(|_| format!("{} shares do not fit", n.get()))
}

fn unknown(holder: &HolderId) -> String {
    format!("holder {holder} was never admitted")
}

/// One line of the cap table: a holder's shares of one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct CapTableRow<'a> {
    pub holder: &'a HolderId,
    pub kind: HolderKind,
    pub college: &'a CollegeId,
    pub commune: &'a CommuneCode,
    pub class: &'a ShareClassId,
    pub shares: u64,
    /// Per cent of the share capital (nominal value), 4 decimals.
    #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
    pub capital_pct: Decimal,
    /// Per cent of the votes in a general meeting, college weights applied
    /// (the weight of a college with no vote shared among the others), 4
    /// decimals: the holder's whole vote on their first row, 0 on others.
    #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
    pub votes_pct: Decimal,
}

/// A college's or a class's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct Totals {
    pub holders: usize,
    pub shares: u64,
    #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
    pub capital_pct: Decimal,
    #[cfg_attr(feature = "json-schema", schemars(with = "String", extend("pattern" = "^-?[0-9]+(\\.[0-9]+)?$")))]
    pub votes_pct: Decimal,
}

/// The cap table as of a date or position, borrowing from the projection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct CapTableView<'a> {
    pub as_of: AsOf,
    pub share_capital: Euros,
    /// Shares issued and not cancelled, treasury included.
    pub outstanding: BTreeMap<ShareClassId, u64>,
    pub treasury: BTreeMap<ShareClassId, u64>,
    pub rows: Vec<CapTableRow<'a>>,
    pub by_college: BTreeMap<CollegeId, Totals>,
    pub by_class: BTreeMap<ShareClassId, Totals>,
}

/// A holder's position as of a date, borrowed; `shares` indexes a buffer
/// shared by all holders (one allocation for the whole table).
struct Held<'a> {
    holder: &'a HolderId,
    kind: HolderKind,
    registration: &'a Registration,
    shares: std::ops::Range<usize>,
}

impl CapTable {
    fn history(&mut self, holder: &HolderId) -> Result<&mut HolderHistory, String> {
        self.holders.get_mut(holder).ok_or_else(|| unknown(holder))
    }

    /// A register change: the latest registration, changed.
    fn reregister(
        &mut self,
        holder: &HolderId,
        when: Dated<()>,
        change: impl FnOnce(&mut Registration),
    ) -> Result<(), String> {
        let history = self.history(holder)?;
        let mut registration = history
            .registrations
            .last()
            .map(|r| r.value.clone())
            .ok_or_else(|| unknown(holder))?;
        change(&mut registration);
        crate::push_tight(
            &mut history.registrations,
            Dated {
                position: when.position,
                date: when.date,
                value: registration,
            },
        );
        Ok(())
    }

    /// The position of the last event that changed the cap table: a view
    /// as of [`AsOf::Latest`] stays the same until it moves, so readers may
    /// cache it by this position.
    pub fn changed(&self) -> u64 {
        self.changed
    }

    /// The names of places, each as last recorded.
    pub fn place_names(&self) -> &PlaceNames {
        &self.places
    }

    pub fn incorporation(&self) -> Option<&Incorporation> {
        self.incorporation.as_ref().map(|d| &d.value)
    }

    /// The charter in force.
    pub fn charter(&self, as_of: AsOf) -> Option<&Charter> {
        self.charters
            .iter()
            .rev()
            .find(|c| as_of.includes(c.position, c.date))
            .map(|c| c.value.as_ref())
    }

    pub fn holder(&self, holder: &HolderId) -> Option<&HolderHistory> {
        self.holders.get(holder)
    }

    /// The commitment of the holder's identity in force: `None` when none
    /// was recorded or it was erased.
    pub fn identity(&self, holder: &HolderId) -> Option<&IdentityCommitment> {
        self.identities.get(holder).and_then(Option::as_ref)
    }

    /// Every commitment recorded for the holder since their data was last
    /// erased, oldest first.
    pub fn identities_recorded(
        &self,
        holder: &HolderId,
    ) -> impl Iterator<Item = &IdentityCommitment> {
        self.identities_recorded.get(holder).into_iter().flatten()
    }

    /// Whether the holder's identity was erased (and none recorded since).
    pub fn identity_erased(&self, holder: &HolderId) -> bool {
        matches!(self.identities.get(holder), Some(None))
    }

    pub fn holders(&self) -> impl Iterator<Item = (&HolderId, &HolderHistory)> {
        self.holders.iter()
    }

    /// A holder's shares by class.
    pub fn holdings_of(&self, holder: &HolderId, as_of: AsOf) -> BTreeMap<ShareClassId, u64> {
        self.holders
            .get(holder)
            .map(|h| sum_movements(&h.movements, as_of))
            .unwrap_or_default()
    }

    fn sum_by_class(
        entries: &[Dated<(ShareClassId, i64)>],
        as_of: AsOf,
    ) -> BTreeMap<ShareClassId, u64> {
        let mut sums: BTreeMap<ShareClassId, i64> = BTreeMap::new();
        for e in entries
            .iter()
            .filter(|e| as_of.includes(e.position, e.date))
        {
            *sums.entry(e.value.0.clone()).or_default() += e.value.1;
        }
        positive(sums)
    }

    /// The farm's turbines as of `as_of`: every installation (see
    /// [`Fleet`]); none before incorporation.
    pub fn turbines(&self, as_of: AsOf) -> Vec<Turbine> {
        self.fleet(as_of).installations().to_vec()
    }

    /// The farm's turbines as of `as_of`, those decided and not yet
    /// commissioned included; empty before incorporation.
    pub fn fleet(&self, as_of: AsOf) -> Fleet {
        let Some(incorporation) = self
            .incorporation
            .as_ref()
            .filter(|i| as_of.includes(i.position, i.date))
        else {
            return Fleet::default();
        };
        let mut fleet = Fleet::incorporated(&incorporation.value.turbines);
        for works in self
            .turbine_works
            .iter()
            .filter(|w| as_of.includes(w.position, w.date))
        {
            fleet.apply(&works.value);
        }
        fleet
    }

    /// The turbines of the farm now: every installation not decommissioned
    /// (those incorporated with a commissioning date to come included).
    pub fn current_turbines(&self) -> Vec<Turbine> {
        let mut turbines = self.turbines(AsOf::Latest);
        turbines.retain(|t| t.decommissioned_on.is_none());
        turbines
    }

    /// What the domain's services ask: the holders with shares, the
    /// charter, the capital and the turbines. `None` before incorporation.
    pub fn snapshot(&self, as_of: AsOf, dated: NaiveDate) -> Option<CapTableSnapshot> {
        let incorporation = self.incorporation.as_ref()?;
        if !as_of.includes(incorporation.position, incorporation.date) {
            return None;
        }
        let charter = self.charter(as_of)?.clone();
        let outstanding = Self::sum_by_class(&self.outstanding, as_of);
        let share_capital = capital(&charter, &outstanding);
        let (held, buffer) = self.held(as_of);
        let holders = held
            .into_iter()
            .map(|h| HolderPosition {
                holder: h.holder.clone(),
                kind: h.kind,
                college: h.registration.college.clone(),
                commune: h.registration.commune.clone(),
                shares: buffer[h.shares]
                    .iter()
                    .filter_map(|(c, n)| Some(((*c).clone(), ShareCount::new(*n).ok()?)))
                    .collect(),
                members: h.registration.members,
            })
            .collect();
        Some(CapTableSnapshot {
            as_of: dated,
            charter,
            share_capital,
            turbines: self.turbines(as_of),
            holders,
        })
    }

    /// Every holder with shares as of `as_of`, in holder id order, and the
    /// buffer of (class, count) their `shares` index.
    fn held(&self, as_of: AsOf) -> (Vec<Held<'_>>, Vec<(&ShareClassId, u64)>) {
        let mut held = Vec::with_capacity(self.holders.len());
        let mut buffer: Vec<(&ShareClassId, u64)> = Vec::with_capacity(self.holders.len());
        let mut sums: Vec<(&ShareClassId, i64)> = Vec::new();
        for (holder, history) in &self.holders {
            let Some(registration) = history.registration(as_of) else {
                continue;
            };
            sums.clear();
            for m in history
                .movements
                .iter()
                .filter(|m| as_of.includes(m.at.position, m.date))
            {
                match sums.iter_mut().find(|(c, _)| *c == &m.class) {
                    Some((_, n)) => *n += m.delta,
                    None => sums.push((&m.class, m.delta)),
                }
            }
            let start = buffer.len();
            buffer.extend(
                sums.iter().filter_map(|(c, n)| {
                    u64::try_from(*n).ok().filter(|n| *n > 0).map(|n| (*c, n))
                }),
            );
            if buffer.len() == start {
                continue;
            }
            buffer[start..].sort();
            held.push(Held {
                holder,
                kind: history.kind,
                registration,
                shares: start..buffer.len(),
            });
        }
        (held, buffer)
    }

    /// The cap table with its percentages. `None` before incorporation.
    ///
    /// One pass over the holders' histories. Percentages are exact
    /// fractions of integers (nominal values in ten-thousandths of a euro,
    /// votes, college weights), rounded half up to 4 decimals once each;
    /// totals are computed from the summed counts, not from rounded rows.
    ///
    /// The products and sums saturate: within the input bounds
    /// (`windledger_domain::input`: nominal values up to 10^12 EUR, 10^12
    /// shares and 100 votes a share per class) they stay far below 2^128,
    /// and a charter recorded before the bounds cannot make a read panic.
    pub fn view(&self, as_of: AsOf) -> Option<CapTableView<'_>> {
        let incorporation = self.incorporation.as_ref()?;
        if !as_of.includes(incorporation.position, incorporation.date) {
            return None;
        }
        let charter = self.charter(as_of)?;
        let outstanding = Self::sum_by_class(&self.outstanding, as_of);
        let treasury = Self::sum_by_class(&self.treasury, as_of);
        let share_capital = capital(charter, &outstanding);
        let (held, buffer) = self.held(as_of);

        // Per class: a share's nominal value in 1/10,000 EUR, and its votes.
        let classes: BTreeMap<&ShareClassId, (u128, u64)> = charter
            .share_classes
            .iter()
            .map(|c| {
                let units = c
                    .nominal_value
                    .amount()
                    .saturating_mul(Decimal::from(10_000))
                    .round()
                    .to_u128()
                    .unwrap_or(0);
                (&c.id, (units, u64::from(c.votes_per_share)))
            })
            .collect();
        let capital_units: u128 = outstanding.iter().fold(0, |sum, (c, n)| {
            sum.saturating_add(u128::from(*n).saturating_mul(classes.get(c).map_or(0, |u| u.0)))
        });

        // Per holder and class: votes in their college, as the roll counts
        // them (a member's one vote goes with their first class).
        let class_votes = |h: &Held<'_>, i: usize, (class, n): (&ShareClassId, u64)| -> u64 {
            match charter
                .college(&h.registration.college)
                .map(|c| c.vote_basis)
            {
                Some(VoteBasis::PerMember) => u64::from(i == 0),
                Some(VoteBasis::PerShare) => {
                    n.saturating_mul(classes.get(class).map_or(0, |u| u.1))
                }
                None => 0,
            }
        };
        let votes: Vec<u64> = held
            .iter()
            .map(|h| {
                buffer[h.shares.clone()]
                    .iter()
                    .enumerate()
                    .fold(0u64, |sum, (i, row)| {
                        sum.saturating_add(class_votes(h, i, *row))
                    })
            })
            .collect();
        let mut college_votes: BTreeMap<&CollegeId, u64> = BTreeMap::new();
        for (h, v) in held.iter().zip(&votes) {
            let sum = college_votes.entry(&h.registration.college).or_default();
            *sum = sum.saturating_add(*v);
        }
        // A holder's vote share = v x num / den, per college: weight /
        // (weights of colleges with votes) / college votes, or 1 / all votes.
        let total_votes: u64 = college_votes
            .values()
            .fold(0, |sum, v| sum.saturating_add(*v));
        let weighted = charter.colleges.iter().any(|c| c.weight.is_some());
        let weight = |c: &CollegeId| charter.college(c).and_then(|c| c.weight);
        let present = college_votes
            .iter()
            .filter(|(_, v)| **v > 0)
            .filter_map(|(c, _)| weight(c))
            .try_fold(Ratio::ZERO, Ratio::checked_add)
            .unwrap_or(Ratio::ZERO);
        let vote_fraction: BTreeMap<&CollegeId, (u128, u128)> = college_votes
            .iter()
            .map(|(c, v)| {
                let fraction = match weight(c) {
                    Some(w) if weighted && present.numerator() > 0 && *v > 0 => (
                        u128::from(w.numerator()) * u128::from(present.denominator()),
                        (u128::from(w.denominator()) * u128::from(present.numerator()))
                            .saturating_mul(u128::from(*v)),
                    ),
                    _ if !weighted && total_votes > 0 => (1, u128::from(total_votes)),
                    _ => (0, 1),
                };
                (*c, fraction)
            })
            .collect();

        let capital_pct = |units: u128| percent_e4(units, capital_units);
        let mut rows = Vec::with_capacity(buffer.len());
        let mut by_college: BTreeMap<&CollegeId, Sums> = BTreeMap::new();
        let mut by_class: BTreeMap<&ShareClassId, Sums> = BTreeMap::new();
        // A class's votes per college, each college's counted in its own
        // unit and weighted at the end.
        let mut class_votes_by_college: BTreeMap<(&ShareClassId, &CollegeId), u128> =
            BTreeMap::new();
        for (h, v) in held.iter().zip(&votes) {
            let college = &h.registration.college;
            let (num, den) = vote_fraction.get(college).copied().unwrap_or((0, 1));
            let vote = percent_e4(u128::from(*v).saturating_mul(num), den);
            let college_sums = by_college.entry(college).or_default();
            college_sums.holders += 1;
            college_sums.votes = college_sums.votes.saturating_add(u128::from(*v));
            for (i, (class, n)) in buffer[h.shares.clone()].iter().enumerate() {
                let units = u128::from(*n).saturating_mul(classes.get(class).map_or(0, |u| u.0));
                college_sums.add(*n, units);
                let class_sums = by_class.entry(class).or_default();
                class_sums.holders += 1;
                class_sums.add(*n, units);
                let in_class = class_votes_by_college.entry((class, college)).or_default();
                *in_class = in_class.saturating_add(u128::from(class_votes(h, i, (class, *n))));
                rows.push(CapTableRow {
                    holder: h.holder,
                    kind: h.kind,
                    college,
                    commune: &h.registration.commune,
                    class,
                    shares: *n,
                    capital_pct: capital_pct(units),
                    votes_pct: if i == 0 { vote } else { Decimal::ZERO },
                });
            }
        }
        let by_college = by_college
            .into_iter()
            .map(|(c, sums)| {
                let (num, den) = vote_fraction.get(c).copied().unwrap_or((0, 1));
                let totals = Totals {
                    holders: sums.holders,
                    shares: sums.shares,
                    capital_pct: capital_pct(sums.units),
                    votes_pct: percent_e4(sums.votes.saturating_mul(num), den),
                };
                (c.clone(), totals)
            })
            .collect();
        let by_class = by_class
            .into_iter()
            .map(|(c, sums)| {
                // The votes the class's shares carry, college by college
                // with the college's weight, rounded once per college.
                let votes_pct = class_votes_by_college
                    .iter()
                    .filter(|((class, _), _)| *class == c)
                    .map(|((_, college), v)| {
                        let (num, den) = vote_fraction.get(college).copied().unwrap_or((0, 1));
                        percent_e4(v.saturating_mul(num), den)
                    })
                    .fold(Decimal::ZERO, |sum, pct| sum.saturating_add(pct));
                let totals = Totals {
                    holders: sums.holders,
                    shares: sums.shares,
                    capital_pct: capital_pct(sums.units),
                    votes_pct,
                };
                (c.clone(), totals)
            })
            .collect();
        Some(CapTableView {
            as_of,
            share_capital,
            outstanding,
            treasury,
            rows,
            by_college,
            by_class,
        })
    }

    /// The electoral roll of a general meeting with this record date, with
    /// each college's total. `None` before incorporation.
    pub fn vote_weights(&self, record_date: NaiveDate) -> Option<VoteWeights> {
        let snapshot = self.snapshot(AsOf::Date { date: record_date }, record_date)?;
        let voters = general_meeting_voters(&snapshot, false).ok()?;
        let mut by_college: BTreeMap<CollegeId, u64> = BTreeMap::new();
        for v in &voters {
            let sum = by_college.entry(v.college.clone()).or_default();
            *sum = sum.saturating_add(v.weight);
        }
        Some(VoteWeights {
            record_date,
            total: voters.iter().fold(0, |sum, v| sum.saturating_add(v.weight)),
            by_college,
            voters,
        })
    }
}

/// The electoral roll for a record date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VoteWeights {
    pub record_date: NaiveDate,
    pub voters: Vec<Voter>,
    pub by_college: BTreeMap<CollegeId, u64>,
    pub total: u64,
}

/// Counts summed exactly before one division.
#[derive(Default)]
struct Sums {
    holders: usize,
    shares: u64,
    /// Nominal value in 1/10,000 EUR.
    units: u128,
    votes: u128,
}

impl Sums {
    fn add(&mut self, shares: u64, units: u128) {
        self.shares = self.shares.saturating_add(shares);
        self.units = self.units.saturating_add(units);
    }
}

/// `part / whole` in per cent, rounded half up to 4 decimals.
fn percent_e4(part: u128, whole: u128) -> Decimal {
    if whole == 0 {
        return Decimal::ZERO;
    }
    let scaled = part.saturating_mul(2_000_000).saturating_add(whole) / whole.saturating_mul(2);
    i128::try_from(scaled)
        .ok()
        .and_then(|v| Decimal::try_from_i128_with_scale(v, 4).ok())
        .unwrap_or(Decimal::MAX)
}

fn sum_movements(movements: &[Movement], as_of: AsOf) -> BTreeMap<ShareClassId, u64> {
    let mut sums: BTreeMap<ShareClassId, i64> = BTreeMap::new();
    for m in movements
        .iter()
        .filter(|m| as_of.includes(m.at.position, m.date))
    {
        *sums.entry(m.class.clone()).or_default() += m.delta;
    }
    positive(sums)
}

fn positive(sums: BTreeMap<ShareClassId, i64>) -> BTreeMap<ShareClassId, u64> {
    sums.into_iter()
        .filter_map(|(c, n)| u64::try_from(n).ok().filter(|n| *n > 0).map(|n| (c, n)))
        .collect()
}

fn capital(charter: &Charter, outstanding: &BTreeMap<ShareClassId, u64>) -> Euros {
    let total = outstanding.iter().fold(Decimal::ZERO, |sum, (class, n)| {
        let nominal = charter
            .share_class(class)
            .map_or(Decimal::ZERO, |c| c.nominal_value.amount());
        sum.saturating_add(nominal.saturating_mul(Decimal::from(*n)))
    });
    Euros::new(total).unwrap_or_default()
}

/// The cap table on a date, from the projections: the `CapTableService`
/// of the meeting's roll and the dividend's allocation roll. Before it
/// answers, it waits until the projections have applied the ledger's head
/// as `head` gives it, so a fact recorded just before is never missed.
pub struct ProjectedCapTables<H> {
    pub shared: Arc<Shared>,
    pub head: H,
}

/// The ledger's current head position.
pub trait HeadPosition: Send + Sync {
    fn head(&self) -> BoxFuture<'_, Result<u64, LookupError>>;
}

impl<H: HeadPosition> ProjectedCapTables<H> {
    /// Once the projections have applied the ledger's head.
    async fn caught_up(&self) -> Result<(), LookupError> {
        let head = self.head.head().await?;
        self.shared
            .caught_up(head)
            .await
            .map_err(|e| LookupError(e.to_string()))
    }
}

impl<H: HeadPosition> CapTableService for ProjectedCapTables<H> {
    fn cap_table<'a>(
        &'a self,
        on: NaiveDate,
    ) -> BoxFuture<'a, Result<CapTableSnapshot, LookupError>> {
        Box::pin(async move {
            self.caught_up().await?;
            self.shared
                .read(|p| p.cap_table.fold().snapshot(AsOf::Date { date: on }, on))
                .ok_or_else(|| LookupError(format!("the company did not exist on {on}")))
        })
    }

    fn turbines<'a>(&'a self, on: NaiveDate) -> BoxFuture<'a, Result<Vec<Turbine>, LookupError>> {
        Box::pin(async move {
            self.caught_up().await?;
            Ok(self
                .shared
                .read(|p| p.cap_table.fold().turbines(AsOf::Date { date: on })))
        })
    }
}
