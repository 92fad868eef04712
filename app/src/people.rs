//! People: the identities of a ledger's holders, kept in the vault beside
//! the ledger (docs/people.md). The use cases tie three things together:
//! the sealed rows in the store, the master key the server holds, and the
//! company stream's `IdentityRecorded` / `IdentityErased` events, which
//! carry a commitment and an id only.
//!
//! Writing an identity is two writes, the vault's version and the event,
//! and a failure between them leaves no half-state a reader sees: the
//! version is written first, then the command runs; the version in force is
//! the latest whose commitment the ledger recorded, so a version whose
//! command failed is never read, and it is deleted at once (kept only when
//! the database failed during the commit, whose outcome is then unknown:
//! harmless, as no event names it unless the commit did land).
//!
//! Erasing is the other way round: the domain decides (the event is the
//! decision), then the vault's rows are destroyed. If the destruction fails
//! after the event, the holder reads as erased all the same, and asking
//! again finishes it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::services::today;
use serde::Serialize;
use windledger_domain::budgeting::fund::{FundCommand, TerritoryFund};
use windledger_domain::company::{CompanyCommand, HolderKind};
use windledger_domain::types::{HolderId, IdentityCommitment, ResidentId};
use windledger_store::{LedgerEventStore, SealedVersion, Store, VaultKey, VaultRead, VaultVersion};
use windledger_vault::{
    Commitment, Consent, Identity, MasterKey, Person, Record, Sealed, Subject, SubjectKey,
    VaultError, WrappedKey,
};

use crate::command::{Command, Receipt};
use crate::error::{Error, ErrorKind};
use crate::ledger::LedgerRuntime;
use crate::person_fields;

/// The vault of a server: its master key.
#[derive(Clone, Debug)]
pub struct Vault {
    master: Arc<MasterKey>,
}

/// Who reads a person's data, and why: written to the read log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reader {
    /// A token id, or `cli:<user>`.
    pub who: String,
    pub purpose: String,
}

/// A resident's identity in force, with the commitment the fund recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ResidentIdentity {
    pub resident: ResidentId,
    pub person: Person,
    pub commitment: String,
    pub recorded_at: DateTime<Utc>,
}

/// A resident's place in the vault: `habitant:<id>`, which no holder's id
/// can be (a holder's id has no colon), so that the two never share a key.
pub fn resident_subject(resident: &ResidentId) -> String {
    format!("habitant:{resident}")
}

/// A person's data in force, with the commitment the ledger recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct InForce {
    pub holder: HolderId,
    pub person: Person,
    pub commitment: String,
    pub recorded_at: DateTime<Utc>,
}

/// Everything kept about one person (a GDPR access request): every version
/// with its salt, so that each commitment can be checked, and every read.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct PersonalDataExport {
    pub ledger: String,
    /// Whose data: a holder's ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderId>,
    /// ... or a resident's of the territory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resident: Option<ResidentId>,
    /// The commitment of the version in force, as the ledger records it.
    pub in_force: Option<String>,
    pub versions: Vec<ExportedVersion>,
    pub reads: Vec<ExportedRead>,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ExportedVersion {
    pub recorded_at: DateTime<Utc>,
    pub commitment: String,
    /// SHA-256(salt ‖ canonical JSON of `person`) is `commitment`.
    pub salt: String,
    pub person: Person,
}

#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "json-schema", derive(schemars::JsonSchema))]
pub struct ExportedRead {
    pub reader: String,
    pub purpose: String,
    pub read_at: DateTime<Utc>,
}

/// What a rotation of the master key did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    /// Keys re-wrapped under the new master key.
    pub keys: usize,
    /// The ledgers they belong to.
    pub ledgers: usize,
    /// Keys found under the new master key already (left as they were).
    pub already: usize,
}

/// What an erasure did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Erased {
    /// The `IdentityErased` event (empty when it was recorded before and
    /// this finished the destruction).
    pub receipts: Vec<Receipt>,
    /// Versions of the data destroyed.
    pub versions: u64,
}

fn vault_error(e: VaultError) -> Error {
    match e {
        VaultError::WrongMasterKey { .. } => Error::unavailable(e.to_string()),
        other => Error::internal(other),
    }
}

fn store_error(e: windledger_store::StoreError) -> Error {
    Error::store(&e)
}

impl Vault {
    pub fn new(master: MasterKey) -> Self {
        Self {
            master: Arc::new(master),
        }
    }

    /// The master key's public id (stored with each wrapped key).
    pub fn key_id(&self) -> String {
        self.master.id()
    }

    /// Re-wraps every person's key of every ledger of `store` under `to`,
    /// all or none (docs/people.md, "Rotating the master key"): the data
    /// stays as it is, sealed by each person's own key. Keys already under
    /// `to` are left; a key under a third master key fails the whole.
    pub async fn rotate(&self, store: &Store, to: &MasterKey) -> Result<Rotated, Error> {
        let from = self.key_id();
        if to.id() == from {
            return Err(Error::invalid(
                "the new master key is the one in use: give another",
            ));
        }
        let mut rotated = Rotated::default();
        let mut rewrapped = Vec::new();
        let mut ledgers = BTreeSet::new();
        for row in store.all_vault_keys().await.map_err(store_error)? {
            if row.master_key_id == to.id() {
                rotated.already += 1;
                continue;
            }
            let subject = Subject {
                ledger: &row.ledger,
                holder: &row.holder,
            };
            let key = self.unwrap(&row, subject)?;
            let wrapped = to.wrap(&key, subject).map_err(vault_error)?;
            ledgers.insert(row.ledger.clone());
            rewrapped.push(VaultKey {
                master_key_id: wrapped.master_key_id,
                nonce: wrapped.nonce.to_vec(),
                wrapped_key: wrapped.ciphertext,
                ..row
            });
        }
        store
            .rewrap_vault_keys(&from, &rewrapped)
            .await
            .map_err(store_error)?;
        rotated.keys = rewrapped.len();
        rotated.ledgers = ledgers.len();
        Ok(rotated)
    }

    /// The person's data checked against the server's date, with every
    /// problem in one sentence.
    fn check(person: &Person) -> Result<(), Error> {
        person
            .check(today())
            .map_err(|e| Error::invalid(format!("the identity is not valid: {e}")))
    }

    /// The holder's key: the stored one, or a new one stored now (if two
    /// writers race, both use the one stored first).
    async fn key(&self, store: &Store, subject: Subject<'_>) -> Result<SubjectKey, Error> {
        if let Some(stored) = store
            .vault_key(subject.ledger, subject.holder)
            .await
            .map_err(store_error)?
        {
            return self.unwrap(&stored, subject);
        }
        let key = SubjectKey::generate().map_err(vault_error)?;
        let wrapped = self.master.wrap(&key, subject).map_err(vault_error)?;
        let row = VaultKey {
            ledger: subject.ledger.to_owned(),
            holder: subject.holder.to_owned(),
            master_key_id: wrapped.master_key_id,
            nonce: wrapped.nonce.to_vec(),
            wrapped_key: wrapped.ciphertext,
            created_at: Utc::now(),
        };
        if store.insert_vault_key(&row).await.map_err(store_error)? {
            Ok(key)
        } else {
            let stored = store
                .vault_key(subject.ledger, subject.holder)
                .await
                .map_err(store_error)?
                .ok_or_else(|| Error::internal("a vault key vanished while it was written"))?;
            self.unwrap(&stored, subject)
        }
    }

    fn unwrap(&self, stored: &VaultKey, subject: Subject<'_>) -> Result<SubjectKey, Error> {
        let nonce = stored.nonce.as_slice().try_into().map_err(|_| {
            Error::internal(format!(
                "the vault key of {} has a nonce of {} bytes",
                subject.holder,
                stored.nonce.len()
            ))
        })?;
        let wrapped = WrappedKey {
            master_key_id: stored.master_key_id.clone(),
            nonce,
            ciphertext: stored.wrapped_key.clone(),
        };
        self.master.unwrap(&wrapped, subject).map_err(vault_error)
    }

    /// Seals `person` as a new version of the holder's data: its number
    /// (to delete it if the command fails) and its commitment.
    async fn seal_version(
        &self,
        runtime: &LedgerRuntime,
        subject_id: &str,
        person: Person,
    ) -> Result<(i64, IdentityCommitment), Error> {
        let subject = Subject {
            ledger: runtime.id.as_str(),
            holder: subject_id,
        };
        let key = self.key(&runtime.store, subject).await?;
        let record = Record::new(person).map_err(vault_error)?;
        let sealed = key.seal(&record, subject).map_err(vault_error)?;
        let commitment = IdentityCommitment::new(sealed.commitment.to_hex())
            .map_err(|e| Error::internal(format!("a commitment is not 64 hex digits: {e}")))?;
        let version = runtime
            .store
            .insert_vault_version(
                subject.ledger,
                subject.holder,
                &SealedVersion {
                    recorded_at: Utc::now(),
                    commitment: commitment.to_string(),
                    nonce: sealed.nonce.to_vec(),
                    ciphertext: sealed.ciphertext,
                },
            )
            .await
            .map_err(store_error)?;
        Ok((version, commitment))
    }

    /// A holder's new version, recorded by the company command `command`
    /// makes of its commitment ([`Vault::seal_then_run`]).
    async fn record_with(
        &self,
        runtime: &LedgerRuntime,
        holder: &HolderId,
        person: Person,
        command: impl FnOnce(IdentityCommitment) -> CompanyCommand,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Receipt>, Error> {
        let company = runtime.company_id();
        let command = |commitment| Command::Company(Box::new(command(commitment)));
        self.seal_then_run(
            runtime,
            holder.as_str(),
            &company,
            person,
            command,
            metadata,
        )
        .await
    }

    /// Seals `person` as a new version of `subject_id`'s data, runs on
    /// `aggregate_id` the command `command` makes of its commitment, and
    /// deletes the version again if the command failed (see the module
    /// doc).
    async fn seal_then_run(
        &self,
        runtime: &LedgerRuntime,
        subject_id: &str,
        aggregate_id: &str,
        person: Person,
        command: impl FnOnce(IdentityCommitment) -> Command,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Receipt>, Error> {
        Self::check(&person)?;
        let (version, commitment) = self.seal_version(runtime, subject_id, person).await?;
        match runtime
            .execute(aggregate_id, command(commitment), metadata)
            .await
        {
            Ok(receipts) => Ok(receipts),
            Err(e) => {
                if e.kind != ErrorKind::Unavailable
                    && let Err(d) = runtime
                        .store
                        .delete_vault_version(runtime.id.as_str(), subject_id, version)
                        .await
                {
                    tracing::warn!(subject = %subject_id, error = %d, "an unrecorded vault version stays (it is never read)");
                }
                Err(e)
            }
        }
    }

    /// Registers a resident of the territory with their identity, in one
    /// step: the registration (its `identity` left out: the vault computes
    /// it) and the person, a natural person's. The vault keeps it under
    /// [`resident_subject`].
    pub async fn register_resident(
        &self,
        runtime: &LedgerRuntime,
        mut command: Command,
        person: Person,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Receipt>, Error> {
        let Command::Fund(FundCommand::RegisterResident {
            resident,
            identity: None,
            ..
        }) = &command
        else {
            return Err(Error::invalid(
                "only a resident's registration without an identity commitment takes a person",
            ));
        };
        let resident = resident.clone();
        let registration = move |commitment| {
            if let Command::Fund(FundCommand::RegisterResident { identity, .. }) = &mut command {
                *identity = Some(commitment);
            }
            command
        };
        self.seal_resident(runtime, &resident, person, registration, metadata)
            .await
    }

    /// Records a new version of a registered resident's identity (a
    /// correction), a natural person's.
    pub async fn record_resident(
        &self,
        runtime: &LedgerRuntime,
        resident: &ResidentId,
        person: Person,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Receipt>, Error> {
        if Self::fund(runtime).await?.commune_of(resident).is_none() {
            let refusal =
                windledger_domain::budgeting::fund::FundError::NotAResident(resident.clone());
            return Err(Error::refused("NotAResident", refusal.to_string()));
        }
        let registration = |identity| {
            Command::Fund(FundCommand::RecordResidentIdentity {
                resident: resident.clone(),
                identity,
            })
        };
        self.seal_resident(runtime, resident, person, registration, metadata)
            .await
    }

    /// Seals a resident's person (a natural person's) as a new version,
    /// then runs the command that records its commitment, or forgets the
    /// version if the command fails.
    async fn seal_resident(
        &self,
        runtime: &LedgerRuntime,
        resident: &ResidentId,
        person: Person,
        command: impl FnOnce(IdentityCommitment) -> Command,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Receipt>, Error> {
        if !matches!(person.identity, Identity::Natural { .. }) {
            return Err(Error::invalid(
                "a resident is a natural person: give a natural person's identity",
            ));
        }
        let subject = resident_subject(resident);
        self.seal_then_run(
            runtime,
            &subject,
            TerritoryFund::ID,
            person,
            command,
            metadata,
        )
        .await
    }

    /// Removes a resident from the roll, then destroys their identity in
    /// the vault (the domain decides, then the vault forgets, as for a
    /// holder's erasure). Asked again after the removal was recorded but
    /// the destruction did not finish, it finishes it.
    pub async fn remove_resident(
        &self,
        runtime: &LedgerRuntime,
        command: Command,
        metadata: HashMap<String, String>,
    ) -> Result<Erased, Error> {
        let Command::Fund(FundCommand::RemoveResident { resident }) = &command else {
            return Err(Error::invalid(
                "only a resident's removal forgets a resident",
            ));
        };
        let resident = resident.clone();
        let receipts = match runtime.execute(TerritoryFund::ID, command, metadata).await {
            Ok(receipts) => receipts,
            Err(e)
                if e.rule == Some("NotAResident")
                    && Self::fund(runtime).await?.was_removed(&resident) =>
            {
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let erased = runtime
            .store
            .erase_vault_subject(runtime.id.as_str(), &resident_subject(&resident))
            .await
            .map_err(store_error)?;
        Ok(Erased {
            receipts,
            versions: erased.versions,
        })
    }

    /// The territory fund as its committed events leave it.
    async fn fund(runtime: &LedgerRuntime) -> Result<TerritoryFund, Error> {
        LedgerEventStore::<TerritoryFund>::new(runtime.store.clone(), runtime.id.clone())
            .load_committed(TerritoryFund::ID)
            .await
            .map_err(crate::command::aggregate_error)
    }

    /// A registered resident's identity in force (the version whose
    /// commitment the fund records), the read logged first; `None` when
    /// the municipality recorded none or the resident was removed.
    pub async fn read_resident(
        &self,
        runtime: &LedgerRuntime,
        resident: &ResidentId,
        reader: &Reader,
    ) -> Result<Option<ResidentIdentity>, Error> {
        let Some(in_force) = Self::fund(runtime).await?.identity_of(resident).cloned() else {
            return Ok(None);
        };
        let (recorded_at, person) = self
            .open_in_force(runtime, &resident_subject(resident), &in_force, reader)
            .await?;
        Ok(Some(ResidentIdentity {
            resident: resident.clone(),
            person,
            commitment: in_force.to_string(),
            recorded_at,
        }))
    }

    /// The version of `subject_id`'s data whose commitment the ledger
    /// records, opened, the read logged first.
    async fn open_in_force(
        &self,
        runtime: &LedgerRuntime,
        subject_id: &str,
        in_force: &IdentityCommitment,
        reader: &Reader,
    ) -> Result<(DateTime<Utc>, Person), Error> {
        log_read(runtime, subject_id, reader).await?;
        self.versions(runtime, subject_id)
            .await?
            .into_iter()
            .rev()
            .find(|(_, record)| record.commitment().to_hex() == in_force.as_str())
            .map(|(recorded_at, record)| (recorded_at, record.person))
            .ok_or_else(|| {
                Error::internal(format!(
                    "the ledger records identity {in_force} for {subject_id}, but the vault holds no version with that commitment"
                ))
            })
    }

    /// Admits a holder with their identity, in one step: the admission
    /// command (its `identity` left out: the vault computes it) and the
    /// person.
    pub async fn admit(
        &self,
        runtime: &LedgerRuntime,
        command: Command,
        person: Person,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Receipt>, Error> {
        let Command::Company(company) = command else {
            return Err(Error::invalid("only an admission takes a person"));
        };
        let CompanyCommand::AdmitShareholder {
            holder,
            kind,
            identity: None,
            ..
        } = company.as_ref()
        else {
            return Err(Error::invalid(
                "only an admission without an identity commitment takes a person",
            ));
        };
        check_kind(*kind, &person)?;
        let holder = holder.clone();
        let mut admission = *company;
        self.record_with(
            runtime,
            &holder,
            person,
            move |commitment| {
                if let CompanyCommand::AdmitShareholder { identity, .. } = &mut admission {
                    *identity = Some(commitment);
                }
                admission
            },
            metadata,
        )
        .await
    }

    /// Records a new version of a registered holder's identity (a
    /// correction), effective on `effective_date` (today by default).
    pub async fn record(
        &self,
        runtime: &LedgerRuntime,
        holder: &HolderId,
        person: Person,
        effective_date: Option<NaiveDate>,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<Receipt>, Error> {
        if let Some(kind) = runtime.projections.read(|p| {
            p.cap_table
                .fold()
                .holder(holder)
                .map(|history| history.kind)
        }) {
            check_kind(kind, &person)?;
        }
        let effective_date = effective_date.unwrap_or_else(today);
        self.record_with(
            runtime,
            holder,
            person,
            |commitment| CompanyCommand::RecordIdentity {
                holder: holder.clone(),
                commitment,
                effective_date,
            },
            metadata,
        )
        .await
    }

    /// Every version of the holder's data, opened, oldest first.
    async fn versions(
        &self,
        runtime: &LedgerRuntime,
        subject_id: &str,
    ) -> Result<Vec<(DateTime<Utc>, Record)>, Error> {
        let subject = Subject {
            ledger: runtime.id.as_str(),
            holder: subject_id,
        };
        let Some(stored) = runtime
            .store
            .vault_key(subject.ledger, subject.holder)
            .await
            .map_err(store_error)?
        else {
            return Ok(Vec::new());
        };
        let key = self.unwrap(&stored, subject)?;
        let rows = runtime
            .store
            .vault_versions(subject.ledger, subject.holder)
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                let sealed = sealed_of(&row.sealed, subject_id)?;
                let record = key.open(&sealed, subject).map_err(vault_error)?;
                Ok((row.sealed.recorded_at, record))
            })
            .collect()
    }

    /// The holder's data in force (the latest version whose commitment the
    /// ledger recorded), the read logged first; `None` when none is
    /// recorded or it was erased.
    pub async fn read(
        &self,
        runtime: &LedgerRuntime,
        holder: &HolderId,
        reader: &Reader,
    ) -> Result<Option<InForce>, Error> {
        let Some(in_force) = in_force(runtime, holder) else {
            return Ok(None);
        };
        let (recorded_at, person) = self
            .open_in_force(runtime, holder.as_str(), &in_force, reader)
            .await?;
        Ok(Some(InForce {
            holder: holder.clone(),
            person,
            commitment: in_force.to_string(),
            recorded_at,
        }))
    }

    /// The data in force of each of `holders` that has some (as
    /// [`Vault::read`]), every read logged first, in one transaction, and
    /// the vault read in two statements a 2,000 holders (a payment file or
    /// a meeting's letters name thousands).
    pub async fn read_many<'h>(
        &self,
        runtime: &LedgerRuntime,
        holders: impl IntoIterator<Item = &'h HolderId>,
        reader: &Reader,
    ) -> Result<BTreeMap<HolderId, InForce>, Error> {
        let wanted: BTreeMap<&HolderId, IdentityCommitment> = runtime.projections.read(|p| {
            let cap_table = p.cap_table.fold();
            holders
                .into_iter()
                .filter_map(|h| Some((h, cap_table.identity(h)?.clone())))
                .collect()
        });
        if wanted.is_empty() {
            return Ok(BTreeMap::new());
        }
        let read_at = Utc::now();
        let reads: Vec<VaultRead> = wanted
            .keys()
            .map(|holder| VaultRead {
                ledger: runtime.id.as_str().to_owned(),
                holder: holder.as_str().to_owned(),
                reader: reader.who.clone(),
                purpose: reader.purpose.clone(),
                read_at,
            })
            .collect();
        runtime
            .store
            .log_vault_reads(&reads)
            .await
            .map_err(store_error)?;
        let ledger = runtime.id.as_str();
        let asked: Vec<String> = wanted.keys().map(|h| h.as_str().to_owned()).collect();
        let mut keys: BTreeMap<String, VaultKey> = runtime
            .store
            .vault_keys_of(ledger, &asked)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|k| (k.holder.clone(), k))
            .collect();
        let mut versions: BTreeMap<String, Vec<VaultVersion>> = BTreeMap::new();
        for (holder, version) in runtime
            .store
            .vault_versions_of(ledger, &asked)
            .await
            .map_err(store_error)?
        {
            versions.entry(holder).or_default().push(version);
        }
        let mut found = BTreeMap::new();
        // Each holder's rows are dropped once opened.
        for (holder, in_force) in wanted {
            let subject = Subject {
                ledger,
                holder: holder.as_str(),
            };
            let missing = || {
                Error::internal(format!(
                    "the ledger records identity {in_force} for {holder}, but the vault holds no version with that commitment"
                ))
            };
            let stored = keys.remove(holder.as_str()).ok_or_else(missing)?;
            let rows = versions.remove(holder.as_str()).unwrap_or_default();
            let row = rows
                .iter()
                .rev()
                .find(|row| row.sealed.commitment == in_force.as_str())
                .ok_or_else(missing)?;
            let key = self.unwrap(&stored, subject)?;
            let record = key
                .open(&sealed_of(&row.sealed, holder.as_str())?, subject)
                .map_err(vault_error)?;
            if record.commitment().to_hex() != in_force.as_str() {
                return Err(missing());
            }
            found.insert(
                holder.clone(),
                InForce {
                    holder: holder.clone(),
                    person: record.person,
                    commitment: in_force.to_string(),
                    recorded_at: row.sealed.recorded_at,
                },
            );
        }
        Ok(found)
    }

    /// Everything the vault keeps about the holder, the export logged as a
    /// read.
    pub async fn export(
        &self,
        runtime: &LedgerRuntime,
        holder: &HolderId,
        reader: &Reader,
    ) -> Result<PersonalDataExport, Error> {
        let mut export = self
            .export_subject(
                runtime,
                holder.as_str(),
                in_force(runtime, holder),
                &recorded_commitments(runtime, holder),
                reader,
            )
            .await?;
        export.holder = Some(holder.clone());
        Ok(export)
    }

    /// Everything the vault keeps about a resident, the export logged as a
    /// read; `None` when the fund never registered them.
    pub async fn export_resident(
        &self,
        runtime: &LedgerRuntime,
        resident: &ResidentId,
        reader: &Reader,
    ) -> Result<Option<PersonalDataExport>, Error> {
        let fund = Self::fund(runtime).await?;
        if fund.commune_of(resident).is_none() && !fund.was_removed(resident) {
            return Ok(None);
        }
        let recorded = fund
            .identities_recorded(resident)
            .iter()
            .map(ToString::to_string)
            .collect();
        let mut export = self
            .export_subject(
                runtime,
                &resident_subject(resident),
                fund.identity_of(resident).cloned(),
                &recorded,
                reader,
            )
            .await?;
        export.resident = Some(resident.clone());
        Ok(Some(export))
    }

    /// The versions of `subject_id`'s data whose commitments the ledger
    /// recorded, with every read of them, the export logged first.
    async fn export_subject(
        &self,
        runtime: &LedgerRuntime,
        subject_id: &str,
        in_force: Option<IdentityCommitment>,
        recorded: &BTreeSet<String>,
        reader: &Reader,
    ) -> Result<PersonalDataExport, Error> {
        log_read(runtime, subject_id, reader).await?;
        let versions = self
            .versions(runtime, subject_id)
            .await?
            .into_iter()
            .filter(|(_, r)| recorded.contains(&r.commitment().to_hex()))
            .map(|(recorded_at, r)| ExportedVersion {
                recorded_at,
                commitment: r.commitment().to_hex(),
                salt: r.salt.to_string(),
                person: r.person,
            })
            .collect();
        let reads = runtime
            .store
            .vault_reads(runtime.id.as_str(), Some(subject_id))
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|r| ExportedRead {
                reader: r.reader,
                purpose: r.purpose,
                read_at: r.read_at,
            })
            .collect();
        Ok(PersonalDataExport {
            ledger: runtime.id.as_str().to_owned(),
            holder: None,
            resident: None,
            in_force: in_force.map(|c| c.to_string()),
            versions,
            reads,
        })
    }

    /// Erases the holder's identity: the domain decides (the retention
    /// rules), then the vault destroys their key and every version.
    pub async fn erase(
        &self,
        runtime: &LedgerRuntime,
        holder: &HolderId,
        metadata: HashMap<String, String>,
    ) -> Result<Erased, Error> {
        let command = Command::Company(Box::new(CompanyCommand::EraseIdentity {
            holder: holder.clone(),
            effective_date: today(),
        }));
        let receipts = match runtime
            .execute(&runtime.company_id(), command, metadata)
            .await
        {
            Ok(receipts) => receipts,
            // Recorded before, and the destruction did not finish: finish it.
            Err(e)
                if e.rule == Some("IdentityErased")
                    && runtime
                        .projections
                        .read(|p| p.cap_table.fold().identity_erased(holder)) =>
            {
                Vec::new()
            }
            Err(e) => return Err(e),
        };
        let erased = runtime
            .store
            .erase_vault_subject(runtime.id.as_str(), holder.as_str())
            .await
            .map_err(store_error)?;
        Ok(Erased {
            receipts,
            versions: erased.versions,
        })
    }
}

/// A natural person is an individual holder; every other kind of holder is
/// a legal person.
fn check_kind(kind: HolderKind, person: &Person) -> Result<(), Error> {
    let natural = matches!(person.identity, Identity::Natural { .. });
    if natural == (kind == HolderKind::Individual) {
        Ok(())
    } else if natural {
        Err(Error::invalid(
            "the identity is a natural person's, but the holder is not an individual: give a legal person's identity",
        ))
    } else {
        Err(Error::invalid(
            "the identity is a legal person's, but the holder is an individual: give a natural person's identity",
        ))
    }
}

fn sealed_of(row: &SealedVersion, holder: &str) -> Result<Sealed, Error> {
    let corrupt = || Error::internal(format!("a vault version of {holder} is malformed"));
    Ok(Sealed {
        commitment: Commitment::from_hex(&row.commitment).ok_or_else(corrupt)?,
        nonce: row.nonce.as_slice().try_into().map_err(|_| corrupt())?,
        ciphertext: row.ciphertext.clone(),
    })
}

/// The commitment the ledger records as the holder's identity in force,
/// once the projections show every event committed so far.
fn in_force(runtime: &LedgerRuntime, holder: &HolderId) -> Option<IdentityCommitment> {
    runtime
        .projections
        .read(|p| p.cap_table.fold().identity(holder).cloned())
}

/// Every commitment the ledger recorded for the holder.
fn recorded_commitments(runtime: &LedgerRuntime, holder: &HolderId) -> BTreeSet<String> {
    runtime.projections.read(|p| {
        p.cap_table
            .fold()
            .identities_recorded(holder)
            .map(|c| c.to_string())
            .collect()
    })
}

async fn log_read(runtime: &LedgerRuntime, holder: &str, reader: &Reader) -> Result<(), Error> {
    runtime
        .store
        .log_vault_read(&VaultRead {
            ledger: runtime.id.as_str().to_owned(),
            holder: holder.to_owned(),
            reader: reader.who.clone(),
            purpose: reader.purpose.clone(),
            read_at: Utc::now(),
        })
        .await
        .map_err(store_error)
}

/// The identities of a register read from a CSV file, validated whole.
pub mod csv_import {
    use super::*;

    /// The columns of the file, in this order (a header line first): the
    /// holder, `person` (natural or legal), a person's fields
    /// ([`person_fields::FIELDS`]), and the date the holder consented to
    /// electronic convocation.
    pub fn columns() -> Vec<&'static str> {
        let mut columns = vec!["holder", "person"];
        columns.extend(person_fields::FIELDS);
        columns.push("electronic_convocation_given_on");
        columns
    }

    /// One line's problems, by line number (the header is line 1).
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub struct LineError {
        pub line: u64,
        pub problem: String,
    }

    impl std::fmt::Display for LineError {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "line {}: {}", self.line, self.problem)
        }
    }

    /// Reads every line into a holder and their data: all the file's
    /// problems at once, or the people in file order.
    pub fn parse(text: &str, today: NaiveDate) -> Result<Vec<(HolderId, Person)>, Vec<LineError>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(text.as_bytes());
        let mut errors = Vec::new();
        match reader.headers() {
            Ok(h) if h.iter().eq(columns()) => {}
            Ok(h) => {
                return Err(vec![LineError {
                    line: 1,
                    problem: format!(
                        "the header is {:?}: expected the columns {}",
                        h.iter().collect::<Vec<_>>().join(","),
                        columns().join(",")
                    ),
                }]);
            }
            Err(e) => {
                return Err(vec![LineError {
                    line: 1,
                    problem: format!("not a CSV file: {e}"),
                }]);
            }
        }
        let mut people = Vec::new();
        let mut seen = BTreeMap::new();
        for (i, row) in reader.records().enumerate() {
            let line = i as u64 + 2;
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    errors.push(LineError {
                        line,
                        problem: format!("not a CSV line: {e}"),
                    });
                    continue;
                }
            };
            match person_of(&row, today) {
                Ok((holder, person)) => {
                    if let Some(first) = seen.insert(holder.clone(), line) {
                        errors.push(LineError {
                            line,
                            problem: format!(
                                "{holder} is also on line {first}: one line per holder"
                            ),
                        });
                    } else {
                        people.push((holder, person));
                    }
                }
                Err(problem) => errors.push(LineError { line, problem }),
            }
        }
        if errors.is_empty() {
            Ok(people)
        } else {
            Err(errors)
        }
    }

    /// One line as a holder and their data: the fields read as a form's
    /// are ([`crate::person_fields`]), every column's problem said.
    fn person_of(row: &csv::StringRecord, today: NaiveDate) -> Result<(HolderId, Person), String> {
        let columns = columns();
        let cell = |name: &str| {
            let i = columns.iter().position(|c| *c == name)?;
            let value = row.get(i)?.trim();
            (!value.is_empty()).then(|| value.to_owned())
        };
        let holder =
            HolderId::new(cell("holder").unwrap_or_default()).map_err(|e| e.to_string())?;
        let natural = match cell("person").as_deref() {
            Some("natural") => true,
            Some("legal") => false,
            other => {
                return Err(format!(
                    "person is {:?}: write natural or legal",
                    other.unwrap_or_default()
                ));
            }
        };
        let consent = "electronic_convocation_given_on";
        let given_on = match cell(consent) {
            None => None,
            Some(d) => Some(
                person_fields::date(&d)
                    .ok_or_else(|| format!("{consent} {d:?} is not a date (YYYY-MM-DD)"))?,
            ),
        };
        let mut person = person_fields::read(cell, natural, today).map_err(|errors| {
            let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
            said.join("; ")
        })?;
        person.consents.electronic_convocation = given_on.map(|given_on| Consent {
            given_on,
            withdrawn_on: None,
        });
        person.check(today).map_err(|e| e.to_string())?;
        Ok((holder, person))
    }
}

impl Vault {
    /// Imports a register's identities from a CSV file ([`csv_import`]):
    /// every line is checked first (its data, that its holder is in the
    /// register with no identity erased, of the right kind of person), and
    /// nothing is written unless all are good. Then each holder's identity
    /// is recorded, in file order. The receipts, or every line's problem.
    pub async fn import_csv(
        &self,
        runtime: &LedgerRuntime,
        text: &str,
        metadata: impl Fn(&HolderId) -> HashMap<String, String>,
    ) -> Result<Vec<Receipt>, ImportError> {
        let people = csv_import::parse(text, today()).map_err(ImportError::Lines)?;
        let mut errors = Vec::new();
        runtime.projections.read(|p| {
            let cap_table = p.cap_table.fold();
            for (i, (holder, person)) in people.iter().enumerate() {
                let line = i as u64 + 2;
                let problem = match cap_table.holder(holder) {
                    None => Some(format!("{holder} is not in the register: admit them first")),
                    Some(_) if cap_table.identity_erased(holder) => {
                        Some(format!("{holder}'s identity was erased"))
                    }
                    Some(history) => check_kind(history.kind, person).err().map(|e| e.detail),
                };
                if let Some(problem) = problem {
                    errors.push(csv_import::LineError { line, problem });
                }
            }
        });
        if !errors.is_empty() {
            return Err(ImportError::Lines(errors));
        }
        let mut receipts = Vec::new();
        for (holder, person) in people {
            let recorded = self
                .record(runtime, &holder, person, None, metadata(&holder))
                .await
                .map_err(|e| ImportError::Failed {
                    holder: holder.clone(),
                    error: e,
                })?;
            receipts.extend(recorded);
        }
        Ok(receipts)
    }
}

/// Why an import wrote nothing, or stopped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("{} line(s) of the file are not valid, nothing was written:\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Lines(Vec<csv_import::LineError>),
    #[error(
        "recording the identity of {holder} failed ({error}); the holders before it are recorded, importing the file again records them again"
    )]
    Failed { holder: HolderId, error: Error },
}
