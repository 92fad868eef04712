//! The company aggregate: decides commands against the register and the
//! charter in force, and folds its own events.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::commands::CompanyCommand;
use super::error::CompanyError;
use super::events::{CompanyEvent, ShareTransfer};
use super::fleet::Fleet;
use super::types::{CancellationSource, HolderKind, Incorporation, Subscription, Turbine};
use crate::aggregate::aggregate;
use crate::cap_table::{CapTableSnapshot, HolderPosition};
use crate::charter::{Charter, OwnershipCap};
use crate::clock::{Clock, not_after};
use crate::money::Euros;
use crate::resolution::{
    AdoptedResolution, Movement, MovementKind, MovementPart, ResolutionPurpose, ResolutionService,
    Standing, Terms, TurbineWorks,
};
use crate::types::{
    CollegeId, CommuneCode, DecisionKindId, HolderId, IdentityCommitment, ResolutionId,
    ShareClassId, ShareCount, TurbineId,
};

/// Years a holder's identity is kept after they leave the company. The
/// share register (registre des mouvements de titres) and the acts behind
/// each entry are books and supporting documents of the company, kept 10
/// years (Code de commerce L123-22); identifying the holders of past
/// entries is part of them. Tax law asks less (Livre des procédures
/// fiscales L102 B: 6 years), so 10 years covers both.
pub const RETENTION_AFTER_EXIT_YEARS: u32 = 10;

/// What the company aggregate needs from outside its stream.
#[derive(Clone)]
pub struct CompanyServices {
    /// Today: an effective date after it is in the future.
    pub clock: Arc<dyn Clock>,
    pub resolutions: Arc<dyn ResolutionService>,
}

impl CompanyServices {
    pub fn new(clock: impl Clock + 'static, resolutions: impl ResolutionService + 'static) -> Self {
        Self {
            clock: Arc::new(clock),
            resolutions: Arc::new(resolutions),
        }
    }
}

/// The `company` stream of one farm.
///
/// Rules where the law leaves the charter a choice, chosen as a company
/// secretary would expect:
/// - Effective dates never go back: each command's date is on or after the
///   latest one recorded (the formation date first), so that folding events
///   up to a date gives the register as it stood on that date. Nor is a
///   date later than today on the services' clock: a transfer signed
///   last week is recorded with its date; one "signed" next month is not a
///   fact yet.
/// - A holder exits only once they hold no share; their shares are first
///   transferred, repurchased or cancelled, each a movement of its own. An
///   exited holder may be admitted again under the same id.
/// - Only registered holders receive shares. "Holds no share" (not "is not
///   registered") is what makes a transferee need approval (agrément).
/// - The initial subscription needs no resolution: it is the first issuance,
///   and its nominal value must equal the declared share capital. Every later
///   issuance rests on an adopted capital increase and is never below par.
/// - Repurchased shares go to treasury (no vote, no dividend); they can only
///   be cancelled. Cancellation takes treasury shares or a holder's shares
///   (a cooperative member's withdrawal), after a capital reduction.
/// - The lock-up binds transfers between holders, not the company's own
///   repurchase or cancellation, which rest on a shareholders' decision.
/// - Authorised shares bound the shares outstanding (issued minus cancelled,
///   treasury included), so cancelling frees room for a later issuance.
/// - Caps and floors are on the share of capital (shares x nominal value,
///   treasury included in the whole) and must hold after every command:
///   issuance, transfer, repurchase, cancellation, change of college and
///   charter amendment alike. Reaching a floor starts with the initial
///   subscription, issued in one command for that reason.
/// - A resolution is relied on only if adopted on or before the effective
///   date, with the exact decision kind the charter in force names and the
///   matching purpose. A resolution may back several movements (a capital
///   increase in tranches, a repurchase from several holders).
/// - Amending the charter keeps the register consistent: no college with
///   members and no class with shares outstanding may disappear.
/// - A holder's identity lives in the vault; the stream records its salted
///   commitment only (`IdentityRecorded`), for a holder in the register
///   (exited ones too: their data is kept, and may be corrected), never
///   after it was erased unless they are admitted again. An admission may
///   carry the commitment: it then records both events in one append.
/// - Erasure (`IdentityErased`) is refused while the holder holds shares,
///   until they have exited, and for [`RETENTION_AFTER_EXIT_YEARS`] after
///   their exit, counted to the effective date (never after the services'
///   clock: the server's today).
/// - Names of places (public facts, for the pages) name only places the
///   company knows: a commune of the territory or of a holder, the
///   département of one of those; any EPCI, which the company stream does
///   not know. They need no resolution; the latest name of a place wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Company {
    incorporated: Option<Incorporated>,
    register: BTreeMap<HolderId, RegisterEntry>,
    /// Only non-zero holdings are kept.
    holdings: BTreeMap<HolderId, BTreeMap<ShareClassId, ShareCount>>,
    treasury: BTreeMap<ShareClassId, ShareCount>,
    issued: BTreeMap<ShareClassId, ShareCount>,
    cancelled: BTreeMap<ShareClassId, ShareCount>,
    latest_effective_date: Option<NaiveDate>,
    /// Shares moved so far under each resolution whose terms set a count,
    /// by kind of movement.
    #[serde(default)]
    used: BTreeMap<ResolutionId, BTreeMap<MovementKind, ShareCount>>,
    /// The turbines over the farm's life.
    #[serde(default)]
    fleet: Fleet,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Incorporated {
    company: Incorporation,
    charter: Charter,
}

/// A line of the register of shareholders (registre des associés).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterEntry {
    pub kind: HolderKind,
    pub college: CollegeId,
    pub commune: CommuneCode,
    pub admitted_on: NaiveDate,
    pub exited_on: Option<NaiveDate>,
    /// The commitment of the identity in force, if one is recorded.
    #[serde(default)]
    pub identity: Option<IdentityCommitment>,
    /// The identity was erased (since the latest admission).
    #[serde(default)]
    pub identity_erased: bool,
    /// An investment club's number of members, once recorded.
    #[serde(default)]
    pub members: Option<u32>,
}

/// Only an investment club has members to count, at least one.
fn check_members(holder: &HolderId, kind: HolderKind, members: u32) -> Result<(), CompanyError> {
    if kind != HolderKind::InvestmentClub {
        return Err(CompanyError::MembersOfANonClub(holder.clone()));
    }
    if members == 0 {
        return Err(CompanyError::ClubWithoutMembers(holder.clone()));
    }
    Ok(())
}

aggregate!(Company: "company", CompanyCommand => CompanyEvent, CompanyError, CompanyServices);

impl Company {
    fn check_clock(command: &CompanyCommand, clock: &dyn Clock) -> Result<(), CompanyError> {
        not_after(
            command.effective_date(),
            clock.today(),
            |effective_date, today| CompanyError::DatedInTheFuture {
                effective_date,
                today,
            },
        )
    }

    /// Tries the event on the state to check the invariants, and restores
    /// it before returning.
    /// An admission carrying an identity records `IdentityRecorded` after
    /// `ShareholderAdmitted`, for the holder it has just registered.
    async fn decision(
        &mut self,
        mut command: CompanyCommand,
        services: &CompanyServices,
    ) -> Result<Vec<CompanyEvent>, CompanyError> {
        let identity = match &mut command {
            CompanyCommand::AdmitShareholder { identity, .. } => identity.take(),
            _ => None,
        };
        let resolution = match command.cited_resolution() {
            Some(id) => Some(services.resolutions.standing(id).await?),
            None => None,
        };
        let event = self.decide(command, resolution)?;
        self.check_invariants_after(&event)?;
        let recorded = match (&event, identity) {
            (
                CompanyEvent::ShareholderAdmitted {
                    holder,
                    effective_date,
                    ..
                },
                Some(commitment),
            ) => Some(CompanyEvent::IdentityRecorded {
                holder: holder.clone(),
                commitment,
                effective_date: *effective_date,
            }),
            _ => None,
        };
        Ok(std::iter::once(event).chain(recorded).collect())
    }

    fn evolve(&mut self, event: CompanyEvent) {
        let date = event.effective_date();
        if cited_terms(&event).is_some_and(|t| t.count.is_some())
            && let Some((resolution, movement)) = movement_of(&event)
        {
            let used = self
                .used
                .entry(resolution.id.clone())
                .or_default()
                .entry(movement.kind)
                .or_insert(ShareCount::ZERO);
            *used = used.saturating_add(movement.count());
        }
        match event {
            CompanyEvent::Incorporated { company, charter } => {
                self.fleet = Fleet::incorporated(&company.turbines);
                self.incorporated = Some(Incorporated { company, charter });
            }
            CompanyEvent::CharterAmended { charter, .. } => {
                if let Some(inc) = &mut self.incorporated {
                    inc.charter = charter;
                }
            }
            CompanyEvent::ShareholderAdmitted {
                holder,
                kind,
                college,
                commune,
                effective_date,
                members,
            } => {
                let entry = RegisterEntry {
                    kind,
                    college,
                    commune,
                    admitted_on: effective_date,
                    exited_on: None,
                    identity: None,
                    identity_erased: false,
                    members,
                };
                self.register.insert(holder, entry);
            }
            CompanyEvent::ClubMembersChanged {
                holder, members, ..
            } => {
                if let Some(entry) = self.register.get_mut(&holder) {
                    entry.members = Some(members);
                }
            }
            CompanyEvent::ShareholderCollegeChanged { holder, to, .. } => {
                if let Some(entry) = self.register.get_mut(&holder) {
                    entry.college = to;
                }
            }
            CompanyEvent::ShareholderResidenceChanged {
                holder, commune, ..
            } => {
                if let Some(entry) = self.register.get_mut(&holder) {
                    entry.commune = commune;
                }
            }
            CompanyEvent::ShareholderExited {
                holder,
                effective_date,
            } => {
                if let Some(entry) = self.register.get_mut(&holder) {
                    entry.exited_on = Some(effective_date);
                }
            }
            CompanyEvent::SharesIssued { subscriptions, .. } => {
                for s in subscriptions {
                    add(&mut self.issued, &s.class, s.count);
                    self.credit(&s.holder, &s.class, s.count);
                }
            }
            CompanyEvent::SharesTransferred(t) => {
                self.debit(&t.from, &t.class, t.count);
                self.credit(&t.to, &t.class, t.count);
            }
            CompanyEvent::SharesRepurchased {
                holder,
                class,
                count,
                ..
            } => {
                self.debit(&holder, &class, count);
                add(&mut self.treasury, &class, count);
            }
            CompanyEvent::SharesCancelled {
                source,
                class,
                count,
                ..
            } => {
                match source {
                    CancellationSource::Treasury => sub(&mut self.treasury, &class, count),
                    CancellationSource::Holder { holder, .. } => self.debit(&holder, &class, count),
                }
                add(&mut self.cancelled, &class, count);
            }
            // Names are for the pages: the aggregate decides nothing on them.
            CompanyEvent::PlacesNamed { .. } => {}
            CompanyEvent::TurbineAdded { .. }
            | CompanyEvent::TurbineCommissioned { .. }
            | CompanyEvent::TurbineRepowered { .. }
            | CompanyEvent::TurbineDecommissioned { .. } => self.fleet.apply(&event),
            CompanyEvent::IdentityRecorded {
                holder, commitment, ..
            } => {
                if let Some(entry) = self.register.get_mut(&holder) {
                    entry.identity = Some(commitment);
                }
            }
            CompanyEvent::IdentityErased { holder, .. } => {
                if let Some(entry) = self.register.get_mut(&holder) {
                    entry.identity = None;
                    entry.identity_erased = true;
                }
            }
        }
        self.latest_effective_date = self.latest_effective_date.max(Some(date));
    }
}

// Folding. Events were checked when decided, so these saturate rather than
// fail; a replay never panics.
fn add(map: &mut BTreeMap<ShareClassId, ShareCount>, class: &ShareClassId, count: ShareCount) {
    let entry = map.entry(class.clone()).or_default();
    *entry = entry.saturating_add(count);
}

fn sub(map: &mut BTreeMap<ShareClassId, ShareCount>, class: &ShareClassId, count: ShareCount) {
    if let Some(entry) = map.get_mut(class) {
        *entry = entry.saturating_sub(count);
        if entry.is_zero() {
            map.remove(class);
        }
    }
}

impl Company {
    fn credit(&mut self, holder: &HolderId, class: &ShareClassId, count: ShareCount) {
        add(
            self.holdings.entry(holder.clone()).or_default(),
            class,
            count,
        );
    }

    fn debit(&mut self, holder: &HolderId, class: &ShareClassId, count: ShareCount) {
        if let Some(classes) = self.holdings.get_mut(holder) {
            sub(classes, class, count);
            if classes.is_empty() {
                self.holdings.remove(holder);
            }
        }
    }

    // --- Reading the state (tests and projections' cross-checks). ---

    pub fn incorporation(&self) -> Option<&Incorporation> {
        self.incorporated.as_ref().map(|i| &i.company)
    }

    /// The charter in force.
    pub fn charter(&self) -> Option<&Charter> {
        self.incorporated.as_ref().map(|i| &i.charter)
    }

    pub fn shareholder(&self, holder: &HolderId) -> Option<&RegisterEntry> {
        self.register.get(holder)
    }

    /// Every holder ever admitted, exited ones included.
    pub fn register(&self) -> impl Iterator<Item = (&HolderId, &RegisterEntry)> {
        self.register.iter()
    }

    pub fn holding(&self, holder: &HolderId, class: &ShareClassId) -> ShareCount {
        self.holdings
            .get(holder)
            .and_then(|classes| classes.get(class))
            .copied()
            .unwrap_or_default()
    }

    /// Non-zero holdings, by holder then class.
    pub fn holdings(&self) -> impl Iterator<Item = (&HolderId, &ShareClassId, ShareCount)> {
        self.holdings
            .iter()
            .flat_map(|(h, classes)| classes.iter().map(move |(c, n)| (h, c, *n)))
    }

    /// Actions auto-détenues.
    pub fn treasury(&self, class: &ShareClassId) -> ShareCount {
        self.treasury.get(class).copied().unwrap_or_default()
    }

    /// Shares of the class ever issued.
    pub fn issued(&self, class: &ShareClassId) -> ShareCount {
        self.issued.get(class).copied().unwrap_or_default()
    }

    /// Shares of the class ever cancelled.
    pub fn cancelled(&self, class: &ShareClassId) -> ShareCount {
        self.cancelled.get(class).copied().unwrap_or_default()
    }

    /// Issued minus cancelled: held by holders or in treasury.
    pub fn outstanding(&self, class: &ShareClassId) -> ShareCount {
        self.issued(class).saturating_sub(self.cancelled(class))
    }

    pub fn latest_effective_date(&self) -> Option<NaiveDate> {
        self.latest_effective_date
    }

    /// The company as it stood at the end of `date`, from its events in
    /// stream order. Effective dates never go back in the stream, so this is
    /// a prefix of the history.
    pub fn as_of(events: impl IntoIterator<Item = CompanyEvent>, date: NaiveDate) -> Self {
        let mut company = Self::default();
        for event in events {
            if event.effective_date() > date {
                break;
            }
            company.evolve(event);
        }
        company
    }

    /// The turbines over the farm's life, as far as this state knows.
    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The fleet of the first events of a history that are effective by the
    /// end of `on` (events in stream order, so in date order): every
    /// installation, without folding the register.
    pub fn turbines_as_of<'a>(
        events: impl IntoIterator<Item = &'a CompanyEvent>,
        on: NaiveDate,
    ) -> Vec<Turbine> {
        let mut fleet = Fleet::default();
        for event in events.into_iter().take_while(|e| e.effective_date() <= on) {
            fleet.apply(event);
        }
        fleet.installations().to_vec()
    }

    /// This state as a cap table dated `as_of`: `None` before incorporation.
    /// Fold with [`Company::as_of`] first for a past date.
    pub fn cap_table(&self, as_of: NaiveDate) -> Option<CapTableSnapshot> {
        let incorporated = self.incorporated.as_ref()?;
        let charter = incorporated.charter.clone();
        let holders = self
            .holdings
            .iter()
            .filter_map(|(holder, shares)| {
                let entry = self.register.get(holder)?;
                Some(HolderPosition {
                    holder: holder.clone(),
                    kind: entry.kind,
                    college: entry.college.clone(),
                    commune: entry.commune.clone(),
                    shares: shares.clone(),
                    members: entry.members,
                })
            })
            .collect();
        Some(CapTableSnapshot {
            as_of,
            share_capital: self.share_capital(&charter),
            turbines: self.fleet.installations().to_vec(),
            charter,
            holders,
        })
    }

    /// Capital social: shares outstanding (treasury included) x nominal
    /// value, under `charter`. Bounded by authorised shares, so no overflow
    /// in practice; a class missing from the charter counts for nothing.
    pub fn share_capital(&self, charter: &Charter) -> Euros {
        let total = self.issued.keys().fold(Decimal::ZERO, |sum, class| {
            let nominal = charter
                .share_class(class)
                .map_or(Decimal::ZERO, |c| c.nominal_value.amount());
            let count = Decimal::from(self.outstanding(class).get());
            sum.saturating_add(nominal.saturating_mul(count))
        });
        Euros::new(total).unwrap_or_default()
    }

    // --- Deciding. ---

    /// The event a command produces, or why it is refused. Pure: `resolution`
    /// is what the service answered for the resolution the command cites.
    fn decide(
        &self,
        command: CompanyCommand,
        resolution: Option<Standing>,
    ) -> Result<CompanyEvent, CompanyError> {
        let event = match command {
            CompanyCommand::Incorporate { company, charter } => {
                self.decide_incorporation(company, charter)?
            }
            other => self.decide_on_incorporated(other, resolution)?,
        };
        Ok(event)
    }

    /// The invariants hold once `event` is applied: checked on this state
    /// with the event applied, then put back as it was (what the event may
    /// change, saved first), so that neither a refusal nor an acceptance
    /// costs a copy of the whole register.
    fn check_invariants_after(&mut self, event: &CompanyEvent) -> Result<(), CompanyError> {
        if !may_break_invariants(event) {
            return Ok(());
        }
        let saved = Saved::of(self, event);
        self.evolve(event.clone());
        let checked = self.check_invariants();
        saved.restore(self);
        checked
    }

    fn decide_incorporation(
        &self,
        company: Incorporation,
        charter: Charter,
    ) -> Result<CompanyEvent, CompanyError> {
        if self.incorporated.is_some() {
            return Err(CompanyError::AlreadyIncorporated);
        }
        charter.check_taking_effect(company.formation_date)?;
        let mut seen = BTreeSet::new();
        for turbine in &company.turbines {
            if !seen.insert(&turbine.id) {
                return Err(CompanyError::DuplicateTurbine(turbine.id.clone()));
            }
            if !company.territory.contains(&turbine.commune) {
                return Err(CompanyError::TurbineOutsideTerritory {
                    turbine: turbine.id.clone(),
                    commune: turbine.commune.clone(),
                });
            }
        }
        Ok(CompanyEvent::Incorporated { company, charter })
    }

    fn decide_on_incorporated(
        &self,
        command: CompanyCommand,
        resolution: Option<Standing>,
    ) -> Result<CompanyEvent, CompanyError> {
        let charter = self.charter().ok_or(CompanyError::NotIncorporated)?;
        let reserved = &charter.reserved;
        let event = match command {
            CompanyCommand::Incorporate { .. } => return Err(CompanyError::AlreadyIncorporated),
            CompanyCommand::AmendCharter {
                charter: amended,
                resolution: cited,
                effective_date,
            } => {
                self.check_date(effective_date)?;
                amended.check_taking_effect(effective_date)?;
                // The charter in force says how it may be amended.
                let resolution = rely_on(
                    resolution,
                    &cited,
                    Some(&reserved.charter_amendment),
                    ResolutionPurpose::CharterAmendment,
                    effective_date,
                )?;
                CompanyEvent::CharterAmended {
                    charter: amended,
                    resolution,
                    effective_date,
                }
            }
            CompanyCommand::AdmitShareholder {
                holder,
                kind,
                college,
                commune,
                effective_date,
                identity: _,
                members,
            } => {
                self.check_date(effective_date)?;
                if self.active_entry(&holder).is_ok() {
                    return Err(CompanyError::HolderAlreadyRegistered(holder));
                }
                if charter.college(&college).is_none() {
                    return Err(CompanyError::UnknownCollege(college));
                }
                if let Some(members) = members {
                    check_members(&holder, kind, members)?;
                }
                CompanyEvent::ShareholderAdmitted {
                    holder,
                    kind,
                    college,
                    commune,
                    effective_date,
                    members,
                }
            }
            CompanyCommand::ChangeClubMembers {
                holder,
                members,
                effective_date,
            } => {
                self.check_date(effective_date)?;
                let entry = self.active_entry(&holder)?;
                check_members(&holder, entry.kind, members)?;
                if entry.members == Some(members) {
                    return Err(CompanyError::NothingChanges(holder));
                }
                CompanyEvent::ClubMembersChanged {
                    holder,
                    members,
                    effective_date,
                }
            }
            CompanyCommand::ChangeCollege {
                holder,
                college,
                effective_date,
            } => {
                self.check_date(effective_date)?;
                let entry = self.active_entry(&holder)?;
                if charter.college(&college).is_none() {
                    return Err(CompanyError::UnknownCollege(college));
                }
                if entry.college == college {
                    return Err(CompanyError::NothingChanges(holder));
                }
                CompanyEvent::ShareholderCollegeChanged {
                    from: entry.college.clone(),
                    holder,
                    to: college,
                    effective_date,
                }
            }
            CompanyCommand::ChangeResidence {
                holder,
                commune,
                effective_date,
            } => {
                self.check_date(effective_date)?;
                if self.active_entry(&holder)?.commune == commune {
                    return Err(CompanyError::NothingChanges(holder));
                }
                CompanyEvent::ShareholderResidenceChanged {
                    holder,
                    commune,
                    effective_date,
                }
            }
            CompanyCommand::RecordExit {
                holder,
                effective_date,
            } => {
                self.check_date(effective_date)?;
                self.active_entry(&holder)?;
                let count = self.total_held(&holder)?;
                if !count.is_zero() {
                    return Err(CompanyError::StillHoldsShares { holder, count });
                }
                CompanyEvent::ShareholderExited {
                    holder,
                    effective_date,
                }
            }
            CompanyCommand::IssueShares {
                subscriptions,
                resolution: cited,
                effective_date,
            } => {
                self.check_date(effective_date)?;
                self.check_subscriptions(charter, &subscriptions)?;
                let resolution = match cited {
                    Some(cited) => Some(rely_on(
                        resolution,
                        &cited,
                        Some(&reserved.capital_increase),
                        ResolutionPurpose::CAPITAL_INCREASE,
                        effective_date,
                    )?),
                    None => {
                        self.check_initial_subscription(charter, &subscriptions)?;
                        None
                    }
                };
                CompanyEvent::SharesIssued {
                    subscriptions,
                    resolution,
                    effective_date,
                }
            }
            CompanyCommand::TransferShares {
                from,
                to,
                class,
                count,
                price_per_share,
                approval,
                effective_date,
                exemption,
            } => {
                self.check_date(effective_date)?;
                self.active_entry(&from)?;
                self.active_entry(&to)?;
                if from == to {
                    return Err(CompanyError::TransferToSelf(from));
                }
                self.check_class_and_count(charter, &class, count)?;
                let rules = &charter.transfers;
                if let Some(exemption) = exemption
                    && !rules.lock_up_exemptions.contains(&exemption)
                {
                    return Err(CompanyError::ExemptionNotInCharter(exemption));
                }
                if let Some(until) = rules.locked_until
                    && effective_date < until
                    && exemption.is_none()
                {
                    return Err(CompanyError::LockedUp { until });
                }
                self.check_held(&from, &class, count)?;
                let approval = match approval {
                    Some(cited) => Some(rely_on(
                        resolution,
                        &cited,
                        rules.approval_of_new_holders.as_ref(),
                        ResolutionPurpose::approval_of(to.clone()),
                        effective_date,
                    )?),
                    None if rules.approval_of_new_holders.is_some()
                        && self.total_held(&to)?.is_zero() =>
                    {
                        return Err(CompanyError::ApprovalRequired { transferee: to });
                    }
                    None => None,
                };
                CompanyEvent::SharesTransferred(ShareTransfer {
                    from,
                    to,
                    class,
                    count,
                    price_per_share,
                    approval,
                    effective_date,
                    exemption,
                })
            }
            CompanyCommand::RepurchaseShares {
                holder,
                class,
                count,
                price_per_share,
                resolution: cited,
                effective_date,
            } => {
                self.check_date(effective_date)?;
                self.active_entry(&holder)?;
                self.check_class_and_count(charter, &class, count)?;
                self.check_held(&holder, &class, count)?;
                let resolution = rely_on(
                    resolution,
                    &cited,
                    Some(&reserved.capital_reduction),
                    ResolutionPurpose::CAPITAL_REDUCTION,
                    effective_date,
                )?;
                CompanyEvent::SharesRepurchased {
                    holder,
                    class,
                    count,
                    price_per_share,
                    resolution,
                    effective_date,
                }
            }
            CompanyCommand::CancelShares {
                source,
                class,
                count,
                resolution: cited,
                effective_date,
            } => {
                self.check_date(effective_date)?;
                self.check_class_and_count(charter, &class, count)?;
                match &source {
                    CancellationSource::Treasury => {
                        let held = self.treasury(&class);
                        if held < count {
                            return Err(CompanyError::InsufficientTreasuryShares {
                                class,
                                held,
                                requested: count,
                            });
                        }
                    }
                    CancellationSource::Holder { holder, .. } => {
                        self.active_entry(holder)?;
                        self.check_held(holder, &class, count)?;
                    }
                }
                let resolution = rely_on(
                    resolution,
                    &cited,
                    Some(&reserved.capital_reduction),
                    ResolutionPurpose::CAPITAL_REDUCTION,
                    effective_date,
                )?;
                CompanyEvent::SharesCancelled {
                    source,
                    class,
                    count,
                    resolution,
                    effective_date,
                }
            }
            CompanyCommand::NamePlaces {
                places,
                effective_date,
            } => {
                self.check_date(effective_date)?;
                let territory = self.incorporation().map(|i| &i.territory);
                let residences = self.register.values().map(|e| &e.commune);
                super::places::check_known(&places, territory.into_iter().flatten(), residences)?;
                CompanyEvent::PlacesNamed {
                    places,
                    effective_date,
                }
            }
            CompanyCommand::AddTurbine {
                turbine,
                commune,
                rated_power,
                resolution: cited,
                effective_date,
            } => {
                self.fleet.check_new(&turbine)?;
                if self
                    .incorporation()
                    .is_some_and(|i| !i.territory.contains(&commune))
                {
                    return Err(CompanyError::TurbineOutsideTerritory { turbine, commune });
                }
                let resolution = self.works_on(
                    resolution,
                    &cited,
                    &turbine,
                    TurbineWorks::Addition,
                    effective_date,
                )?;
                CompanyEvent::TurbineAdded {
                    turbine,
                    commune,
                    rated_power,
                    resolution,
                    effective_date,
                }
            }
            CompanyCommand::CommissionTurbine {
                turbine,
                effective_date,
            } => {
                self.check_date(effective_date)?;
                self.fleet.check_commissioning(&turbine)?;
                CompanyEvent::TurbineCommissioned {
                    turbine,
                    effective_date,
                }
            }
            CompanyCommand::RepowerTurbine {
                turbine,
                rated_power,
                resolution: cited,
                effective_date,
            } => {
                let resolution = self.works_on(
                    resolution,
                    &cited,
                    &turbine,
                    TurbineWorks::Repowering,
                    effective_date,
                )?;
                CompanyEvent::TurbineRepowered {
                    turbine,
                    rated_power,
                    resolution,
                    effective_date,
                }
            }
            CompanyCommand::DecommissionTurbine {
                turbine,
                resolution: cited,
                effective_date,
            } => {
                let resolution = self.works_on(
                    resolution,
                    &cited,
                    &turbine,
                    TurbineWorks::Decommissioning,
                    effective_date,
                )?;
                CompanyEvent::TurbineDecommissioned {
                    turbine,
                    resolution,
                    effective_date,
                }
            }
            CompanyCommand::RecordIdentity {
                holder,
                commitment,
                effective_date,
            } => self.decide_identity(holder, commitment, effective_date)?,
            CompanyCommand::EraseIdentity {
                holder,
                effective_date,
            } => self.decide_erasure(holder, effective_date)?,
        };
        self.check_terms(&event)?;
        Ok(event)
    }

    /// Works on `turbine`: dated in order, on a turbine in service unless
    /// it is added, and decided by the resolution cited.
    fn works_on(
        &self,
        found: Option<Standing>,
        cited: &ResolutionId,
        turbine: &TurbineId,
        works: TurbineWorks,
        effective_date: NaiveDate,
    ) -> Result<AdoptedResolution, CompanyError> {
        self.check_date(effective_date)?;
        if works != TurbineWorks::Addition {
            self.fleet.in_service(turbine, effective_date)?;
        }
        let purpose = ResolutionPurpose::TurbineWorks {
            turbine: turbine.clone(),
            works,
        };
        rely_on(found, cited, None, purpose, effective_date)
    }

    /// A movement keeps to the terms of the resolution it cites, counting
    /// the shares moved under it before.
    fn check_terms(&self, event: &CompanyEvent) -> Result<(), CompanyError> {
        if let Some(terms) = cited_terms(event)
            && let Some((resolution, movement)) = movement_of(event)
        {
            let used = self
                .used
                .get(&resolution.id)
                .and_then(|by_kind| by_kind.get(&movement.kind))
                .copied()
                .unwrap_or(ShareCount::ZERO);
            terms.check(&resolution.id, &movement, used)?;
        }
        Ok(())
    }

    /// A new identity for a holder in the register, exited or not, unless
    /// it was erased since their latest admission.
    fn decide_identity(
        &self,
        holder: HolderId,
        commitment: IdentityCommitment,
        effective_date: NaiveDate,
    ) -> Result<CompanyEvent, CompanyError> {
        self.identity_entry(&holder, effective_date)?;
        Ok(CompanyEvent::IdentityRecorded {
            holder,
            commitment,
            effective_date,
        })
    }

    /// The register entry of a holder whose identity may change on
    /// `effective_date`: in the register, not erased since their latest
    /// admission.
    fn identity_entry(
        &self,
        holder: &HolderId,
        effective_date: NaiveDate,
    ) -> Result<&RegisterEntry, CompanyError> {
        self.check_date(effective_date)?;
        let entry = self
            .register
            .get(holder)
            .ok_or_else(|| CompanyError::UnknownHolder(holder.clone()))?;
        if entry.identity_erased {
            return Err(CompanyError::IdentityErased(holder.clone()));
        }
        Ok(entry)
    }

    /// Erasure, checked in this order: the holder is in the register, their
    /// identity is recorded and not erased yet, they hold no share, they
    /// have exited, and [`RETENTION_AFTER_EXIT_YEARS`] have run from their
    /// exit to the effective date.
    fn decide_erasure(
        &self,
        holder: HolderId,
        effective_date: NaiveDate,
    ) -> Result<CompanyEvent, CompanyError> {
        let entry = self.identity_entry(&holder, effective_date)?;
        if entry.identity.is_none() {
            return Err(CompanyError::NoIdentity(holder));
        }
        let count = self.total_held(&holder)?;
        if !count.is_zero() {
            return Err(CompanyError::StillHoldsShares { holder, count });
        }
        let Some(exited_on) = entry.exited_on else {
            return Err(CompanyError::NotExited(holder));
        };
        let until = exited_on
            .checked_add_months(chrono::Months::new(12 * RETENTION_AFTER_EXIT_YEARS))
            .ok_or(CompanyError::Overflow)?;
        if effective_date < until {
            return Err(CompanyError::RetentionRunning {
                holder,
                exited_on,
                until,
            });
        }
        Ok(CompanyEvent::IdentityErased {
            holder,
            effective_date,
        })
    }

    fn check_date(&self, effective_date: NaiveDate) -> Result<(), CompanyError> {
        match self.latest_effective_date {
            Some(latest) if effective_date < latest => Err(CompanyError::EffectiveDateTooEarly {
                effective_date,
                latest,
            }),
            _ => Ok(()),
        }
    }

    fn active_entry(&self, holder: &HolderId) -> Result<&RegisterEntry, CompanyError> {
        let entry = self
            .register
            .get(holder)
            .ok_or_else(|| CompanyError::UnknownHolder(holder.clone()))?;
        match entry.exited_on {
            Some(exited_on) => Err(CompanyError::HolderHasExited {
                holder: holder.clone(),
                exited_on,
            }),
            None => Ok(entry),
        }
    }

    fn total_held(&self, holder: &HolderId) -> Result<ShareCount, CompanyError> {
        self.holdings
            .get(holder)
            .into_iter()
            .flat_map(BTreeMap::values)
            .try_fold(ShareCount::ZERO, |sum, n| sum.checked_add(*n))
            .ok_or(CompanyError::Overflow)
    }

    fn check_class_and_count(
        &self,
        charter: &Charter,
        class: &ShareClassId,
        count: ShareCount,
    ) -> Result<(), CompanyError> {
        if charter.share_class(class).is_none() {
            return Err(CompanyError::UnknownShareClass(class.clone()));
        }
        if count.is_zero() {
            return Err(CompanyError::NoShares);
        }
        Ok(())
    }

    fn check_held(
        &self,
        holder: &HolderId,
        class: &ShareClassId,
        requested: ShareCount,
    ) -> Result<(), CompanyError> {
        let held = self.holding(holder, class);
        if held < requested {
            return Err(CompanyError::InsufficientShares {
                holder: holder.clone(),
                class: class.clone(),
                held,
                requested,
            });
        }
        Ok(())
    }

    fn check_subscriptions(
        &self,
        charter: &Charter,
        subscriptions: &[Subscription],
    ) -> Result<(), CompanyError> {
        if subscriptions.is_empty() {
            return Err(CompanyError::NoShares);
        }
        let mut per_class: BTreeMap<&ShareClassId, ShareCount> = BTreeMap::new();
        for s in subscriptions {
            self.active_entry(&s.holder)?;
            self.check_class_and_count(charter, &s.class, s.count)?;
            let nominal = charter
                .share_class(&s.class)
                .map(|c| c.nominal_value)
                .ok_or_else(|| CompanyError::UnknownShareClass(s.class.clone()))?;
            if s.price_per_share < nominal {
                return Err(CompanyError::PriceBelowNominal {
                    class: s.class.clone(),
                    price: s.price_per_share,
                    nominal,
                });
            }
            // Folding saturates, so the exact range is checked here.
            let total = per_class
                .entry(&s.class)
                .or_insert_with(|| self.issued(&s.class));
            *total = total.checked_add(s.count).ok_or(CompanyError::Overflow)?;
        }
        Ok(())
    }

    fn check_initial_subscription(
        &self,
        charter: &Charter,
        subscriptions: &[Subscription],
    ) -> Result<(), CompanyError> {
        if !self.issued.is_empty() {
            return Err(CompanyError::ResolutionRequired);
        }
        let declared = self
            .incorporation()
            .map(|c| c.share_capital)
            .ok_or(CompanyError::NotIncorporated)?;
        let subscribed = subscriptions.iter().try_fold(Decimal::ZERO, |sum, s| {
            let nominal = charter
                .share_class(&s.class)
                .map(|c| c.nominal_value.amount())
                .ok_or_else(|| CompanyError::UnknownShareClass(s.class.clone()))?;
            nominal
                .checked_mul(Decimal::from(s.count.get()))
                .and_then(|v| sum.checked_add(v))
                .ok_or(CompanyError::Overflow)
        })?;
        if subscribed != declared.amount() {
            let subscribed = Euros::new(subscribed).map_err(|_| CompanyError::Overflow)?;
            return Err(CompanyError::InitialSubscriptionDoesNotMatchCapital {
                declared,
                subscribed,
            });
        }
        Ok(())
    }

    /// What must hold after every accepted command.
    fn check_invariants(&self) -> Result<(), CompanyError> {
        let Some(charter) = self.charter() else {
            return Ok(());
        };
        for entry in self.register.values().filter(|e| e.exited_on.is_none()) {
            if charter.college(&entry.college).is_none() {
                return Err(CompanyError::CollegeStillInUse(entry.college.clone()));
            }
        }
        for class in self.issued.keys() {
            let outstanding = self.outstanding(class);
            if outstanding.is_zero() {
                continue;
            }
            let authorised = charter
                .share_class(class)
                .ok_or_else(|| CompanyError::ShareClassStillInUse(class.clone()))?
                .authorised;
            if outstanding > authorised {
                return Err(CompanyError::AuthorisedSharesExceeded {
                    class: class.clone(),
                    authorised,
                    outstanding,
                });
            }
        }
        self.check_caps(charter)
    }

    fn check_caps(&self, charter: &Charter) -> Result<(), CompanyError> {
        let caps = &charter.transfers.caps;
        if caps.is_empty() {
            return Ok(());
        }
        let capital = |class: &ShareClassId, count: ShareCount| -> Result<Decimal, CompanyError> {
            let nominal = charter
                .share_class(class)
                .ok_or_else(|| CompanyError::ShareClassStillInUse(class.clone()))?
                .nominal_value
                .amount();
            nominal
                .checked_mul(Decimal::from(count.get()))
                .ok_or(CompanyError::Overflow)
        };
        let total = self.issued.keys().try_fold(Decimal::ZERO, |sum, class| {
            sum.checked_add(capital(class, self.outstanding(class))?)
                .ok_or(CompanyError::Overflow)
        })?;
        if total.is_zero() {
            return Ok(());
        }
        // Each holder's capital and college, in holder order.
        let mut by_holder: Vec<(Decimal, &CollegeId)> = Vec::with_capacity(self.holdings.len());
        for (holder, classes) in &self.holdings {
            let college = &self
                .register
                .get(holder)
                .ok_or_else(|| CompanyError::UnknownHolder(holder.clone()))?
                .college;
            let mut held = Decimal::ZERO;
            for (class, count) in classes {
                held = held
                    .checked_add(capital(class, *count)?)
                    .ok_or(CompanyError::Overflow)?;
            }
            by_holder.push((held, college));
        }
        let in_colleges = |colleges: &BTreeSet<CollegeId>| {
            by_holder
                .iter()
                .filter(|(_, college)| colleges.contains(*college))
                .try_fold(Decimal::ZERO, |sum, (held, _)| sum.checked_add(*held))
                .ok_or(CompanyError::Overflow)
        };
        for cap in caps {
            let breached = match cap {
                OwnershipCap::CollegesAtMost { colleges, limit } => {
                    share_of(in_colleges(colleges)?, total, limit)? == std::cmp::Ordering::Greater
                }
                OwnershipCap::CollegesAtLeast { colleges, limit } => {
                    share_of(in_colleges(colleges)?, total, limit)? == std::cmp::Ordering::Less
                }
                OwnershipCap::HolderAtMost { college, limit } => {
                    let mut over = false;
                    for (held, holder_college) in &by_holder {
                        if college.as_ref().is_none_or(|c| c == *holder_college)
                            && share_of(*held, total, limit)? == std::cmp::Ordering::Greater
                        {
                            over = true;
                            break;
                        }
                    }
                    over
                }
            };
            if breached {
                return Err(CompanyError::CapBreached(cap.clone()));
            }
        }
        Ok(())
    }
}

/// What applying an event may change: everything but the register and the
/// holdings, and in those the lines of the holders the event names.
struct Saved {
    incorporated: Option<Incorporated>,
    treasury: BTreeMap<ShareClassId, ShareCount>,
    issued: BTreeMap<ShareClassId, ShareCount>,
    cancelled: BTreeMap<ShareClassId, ShareCount>,
    latest_effective_date: Option<NaiveDate>,
    holders: Vec<SavedHolder>,
}

type SavedHolder = (
    HolderId,
    Option<RegisterEntry>,
    Option<BTreeMap<ShareClassId, ShareCount>>,
);

impl Saved {
    fn of(company: &Company, event: &CompanyEvent) -> Self {
        let named: Vec<&HolderId> = match event {
            CompanyEvent::Incorporated { .. }
            | CompanyEvent::CharterAmended { .. }
            | CompanyEvent::PlacesNamed { .. }
            | CompanyEvent::TurbineAdded { .. }
            | CompanyEvent::TurbineCommissioned { .. }
            | CompanyEvent::TurbineRepowered { .. }
            | CompanyEvent::TurbineDecommissioned { .. } => Vec::new(),
            CompanyEvent::ShareholderAdmitted { holder, .. }
            | CompanyEvent::IdentityRecorded { holder, .. }
            | CompanyEvent::IdentityErased { holder, .. }
            | CompanyEvent::ShareholderCollegeChanged { holder, .. }
            | CompanyEvent::ShareholderResidenceChanged { holder, .. }
            | CompanyEvent::ClubMembersChanged { holder, .. }
            | CompanyEvent::ShareholderExited { holder, .. }
            | CompanyEvent::SharesRepurchased { holder, .. } => vec![holder],
            CompanyEvent::SharesIssued { subscriptions, .. } => {
                subscriptions.iter().map(|s| &s.holder).collect()
            }
            CompanyEvent::SharesTransferred(t) => vec![&t.from, &t.to],
            CompanyEvent::SharesCancelled { source, .. } => match source {
                CancellationSource::Treasury => Vec::new(),
                CancellationSource::Holder { holder, .. } => vec![holder],
            },
        };
        Self {
            incorporated: company.incorporated.clone(),
            treasury: company.treasury.clone(),
            issued: company.issued.clone(),
            cancelled: company.cancelled.clone(),
            latest_effective_date: company.latest_effective_date,
            holders: named
                .into_iter()
                .map(|h| {
                    (
                        h.clone(),
                        company.register.get(h).cloned(),
                        company.holdings.get(h).cloned(),
                    )
                })
                .collect(),
        }
    }

    fn restore(self, company: &mut Company) {
        company.incorporated = self.incorporated;
        company.treasury = self.treasury;
        company.issued = self.issued;
        company.cancelled = self.cancelled;
        company.latest_effective_date = self.latest_effective_date;
        // In reverse, so that a holder named twice gets their first line.
        for (holder, entry, holding) in self.holders.into_iter().rev() {
            match entry {
                Some(entry) => company.register.insert(holder.clone(), entry),
                None => company.register.remove(&holder),
            };
            match holding {
                Some(holding) => company.holdings.insert(holder, holding),
                None => company.holdings.remove(&holder),
            };
        }
    }
}

/// The terms of the resolution a movement cites, if it names any: most
/// movements cite none, and are then not read as movements at all.
fn cited_terms(event: &CompanyEvent) -> Option<&Terms> {
    let resolution = match event {
        CompanyEvent::SharesIssued {
            resolution: Some(r),
            ..
        }
        | CompanyEvent::SharesTransferred(ShareTransfer {
            approval: Some(r), ..
        })
        | CompanyEvent::SharesRepurchased { resolution: r, .. }
        | CompanyEvent::SharesCancelled { resolution: r, .. } => r,
        _ => return None,
    };
    resolution.purpose.terms().filter(|t| !t.is_empty())
}

/// The resolution a movement cites and the movement as its terms read it.
fn movement_of(event: &CompanyEvent) -> Option<(&AdoptedResolution, Movement<'_>)> {
    let (resolution, kind, effective_date, parts) = match event {
        CompanyEvent::SharesIssued {
            subscriptions,
            resolution: Some(resolution),
            effective_date,
        } => (
            resolution,
            MovementKind::Issue,
            effective_date,
            subscriptions
                .iter()
                .map(|s| MovementPart {
                    holder: Some(&s.holder),
                    class: &s.class,
                    count: s.count,
                    price_per_share: Some(s.price_per_share),
                })
                .collect(),
        ),
        CompanyEvent::SharesTransferred(ShareTransfer {
            from,
            class,
            count,
            price_per_share,
            approval: Some(resolution),
            effective_date,
            ..
        }) => (
            resolution,
            MovementKind::Transfer,
            effective_date,
            vec![MovementPart {
                holder: Some(from),
                class,
                count: *count,
                price_per_share: *price_per_share,
            }],
        ),
        CompanyEvent::SharesRepurchased {
            holder,
            class,
            count,
            price_per_share,
            resolution,
            effective_date,
        } => (
            resolution,
            MovementKind::Repurchase,
            effective_date,
            vec![MovementPart {
                holder: Some(holder),
                class,
                count: *count,
                price_per_share: Some(*price_per_share),
            }],
        ),
        CompanyEvent::SharesCancelled {
            source,
            class,
            count,
            resolution,
            effective_date,
        } => (
            resolution,
            MovementKind::Cancellation,
            effective_date,
            vec![MovementPart {
                holder: match source {
                    CancellationSource::Treasury => None,
                    CancellationSource::Holder { holder, .. } => Some(holder),
                },
                class,
                count: *count,
                price_per_share: None,
            }],
        ),
        _ => return None,
    };
    Some((
        resolution,
        Movement {
            kind,
            effective_date: *effective_date,
            parts,
        },
    ))
}

/// Whether the event changes anything the invariants read (the charter,
/// holdings, shares issued or cancelled, a holder's college). An admission
/// registers a holder with no share in a college of the charter (checked
/// when deciding), a change of residence moves no share, an exit is of a
/// holder with no share and names of places are read by no invariant:
/// after them the invariants hold as they did before, so they are not
/// checked again; nor after an identity recorded or erased, which no
/// invariant reads. Without this, admitting n holders
/// one by one costs n² (each check reads the whole register).
fn may_break_invariants(event: &CompanyEvent) -> bool {
    !matches!(
        event,
        CompanyEvent::ShareholderAdmitted { .. }
            | CompanyEvent::ShareholderResidenceChanged { .. }
            | CompanyEvent::ClubMembersChanged { .. }
            | CompanyEvent::ShareholderExited { .. }
            | CompanyEvent::PlacesNamed { .. }
            | CompanyEvent::TurbineAdded { .. }
            | CompanyEvent::TurbineCommissioned { .. }
            | CompanyEvent::TurbineRepowered { .. }
            | CompanyEvent::TurbineDecommissioned { .. }
            | CompanyEvent::IdentityRecorded { .. }
            | CompanyEvent::IdentityErased { .. }
    )
}

/// How `held / total` compares with `limit`, exactly.
fn share_of(
    held: Decimal,
    total: Decimal,
    limit: &crate::ratio::Ratio,
) -> Result<std::cmp::Ordering, CompanyError> {
    let lhs = held.checked_mul(Decimal::from(limit.denominator()));
    let rhs = total.checked_mul(Decimal::from(limit.numerator()));
    match (lhs, rhs) {
        (Some(lhs), Some(rhs)) => Ok(lhs.cmp(&rhs)),
        _ => Err(CompanyError::Overflow),
    }
}

/// Checks the resolution the service returned for `cited` and returns what
/// the event records. `required_kind` is `None` where the charter names none.
fn rely_on(
    found: Option<Standing>,
    cited: &ResolutionId,
    required_kind: Option<&DecisionKindId>,
    purpose: ResolutionPurpose,
    effective_date: NaiveDate,
) -> Result<AdoptedResolution, CompanyError> {
    let resolution = crate::resolution::backs(found, cited, &purpose, required_kind)?;
    if resolution.adopted_on > effective_date {
        return Err(CompanyError::ResolutionAdoptedAfterEffectiveDate {
            resolution: resolution.id,
            adopted_on: resolution.adopted_on,
            effective_date,
        });
    }
    Ok(resolution)
}
