//! The identity vault's rows, kept beside the ledgers (never in them: a
//! ledger is public to its auditors, and these are personal data). The store
//! keeps bytes it cannot read: sealing, keys and what the data says are the
//! `windledger-vault` crate's; which version is in force is the
//! application's (the latest whose commitment the ledger recorded).

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::store::{Backend, Store, on_backend};

/// A person's key, wrapped by the master key named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultKey {
    pub ledger: String,
    pub holder: String,
    pub master_key_id: String,
    pub nonce: Vec<u8>,
    pub wrapped_key: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

/// One sealed version of a person's data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedVersion {
    pub recorded_at: DateTime<Utc>,
    /// Hex, as the ledger records it.
    pub commitment: String,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

/// A stored version with its number (increasing over the whole vault).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultVersion {
    pub version: i64,
    pub sealed: SealedVersion,
}

/// A read of a person's data: who, whose, why, when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultRead {
    pub ledger: String,
    pub holder: String,
    /// The reader: a token id, or `cli:<user>` for the command line.
    pub reader: String,
    pub purpose: String,
    pub read_at: DateTime<Utc>,
}

/// Most reads one statement logs (5 parameters each: under SQLite's
/// 32,766 and PostgreSQL's 65,535 bound parameters).
pub(crate) const VAULT_READS_PER_STATEMENT: usize = 1000;

/// Most holders one statement reads the keys or versions of (one
/// parameter each, and SQLite's bound is 32,766).
pub const VAULT_HOLDERS_PER_STATEMENT: usize = 2_000;

/// What an erasure deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VaultErasure {
    pub key: bool,
    pub versions: u64,
}

impl Store {
    /// Stores a person's wrapped key if they have none yet; false if one is
    /// stored already (then use that one: [`Store::vault_key`]).
    pub async fn insert_vault_key(&self, key: &VaultKey) -> Result<bool, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.insert_vault_key(key)) })
            .await
    }

    /// A person's wrapped key, if they have one.
    pub async fn vault_key(
        &self,
        ledger: &str,
        holder: &str,
    ) -> Result<Option<VaultKey>, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.vault_key(ledger, holder)) })
            .await
    }

    /// Adds a version of a person's data (their key must be stored) and
    /// returns its number.
    pub async fn insert_vault_version(
        &self,
        ledger: &str,
        holder: &str,
        sealed: &SealedVersion,
    ) -> Result<i64, StoreError> {
        self.guarded(async {
            on_backend!(self, |b| b.insert_vault_version(ledger, holder, sealed))
        })
        .await
    }

    /// Deletes one version (one written for a command that then failed);
    /// false if there was none.
    pub async fn delete_vault_version(
        &self,
        ledger: &str,
        holder: &str,
        version: i64,
    ) -> Result<bool, StoreError> {
        on_backend!(self, |b| b.delete_vault_version(ledger, holder, version))
    }

    /// Every version of a person's data, oldest first.
    pub async fn vault_versions(
        &self,
        ledger: &str,
        holder: &str,
    ) -> Result<Vec<VaultVersion>, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.vault_versions(ledger, holder)) })
            .await
    }

    /// The holders of a ledger with a key in the vault, in id order.
    pub async fn vault_holders(&self, ledger: &str) -> Result<Vec<String>, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.vault_holders(ledger)) })
            .await
    }

    /// Records that someone read a person's data.
    pub async fn log_vault_read(&self, read: &VaultRead) -> Result<(), StoreError> {
        self.guarded(async { on_backend!(self, |b| b.log_vault_read(read)) })
            .await
    }

    /// Records reads of several people's data at once, in one
    /// transaction (a document naming thousands of holders).
    pub async fn log_vault_reads(&self, reads: &[VaultRead]) -> Result<(), StoreError> {
        if reads.is_empty() {
            return Ok(());
        }
        self.guarded(async { on_backend!(self, |b| b.log_vault_reads(reads)) })
            .await
    }

    /// The wrapped keys of `holders` in a ledger's vault, in holder order:
    /// many people's data read at once (at most
    /// [`VAULT_HOLDERS_PER_STATEMENT`] holders a statement).
    pub async fn vault_keys_of(
        &self,
        ledger: &str,
        holders: &[String],
    ) -> Result<Vec<VaultKey>, StoreError> {
        self.by_chunks_of_holders(holders, |chunk| async move {
            on_backend!(self, |b| b.vault_keys_of(ledger, chunk))
        })
        .await
    }

    /// Every version of the data of `holders` in a ledger's vault, by
    /// holder then oldest first.
    pub async fn vault_versions_of(
        &self,
        ledger: &str,
        holders: &[String],
    ) -> Result<Vec<(String, VaultVersion)>, StoreError> {
        self.by_chunks_of_holders(holders, |chunk| async move {
            on_backend!(self, |b| b.vault_versions_of(ledger, chunk))
        })
        .await
    }

    /// The reads of a ledger's vault (of one holder's data, or of all),
    /// oldest first.
    pub async fn vault_reads(
        &self,
        ledger: &str,
        holder: Option<&str>,
    ) -> Result<Vec<VaultRead>, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.vault_reads(ledger, holder)) })
            .await
    }

    /// Every person's wrapped key, of every ledger (a master key's rotation
    /// re-wraps them all), in (ledger, holder) order.
    pub async fn all_vault_keys(&self) -> Result<Vec<VaultKey>, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.all_vault_keys()) })
            .await
    }

    /// Replaces wrapped keys, all or none, each only if it is still wrapped
    /// by the master key `from` (a key erased or re-wrapped meanwhile fails
    /// the whole: [`StoreError::InvalidBatch`], nothing changed).
    pub async fn rewrap_vault_keys(&self, from: &str, keys: &[VaultKey]) -> Result<(), StoreError> {
        on_backend!(self, |b| b.rewrap_vault_keys(from, keys))
    }

    /// Erases a person: deletes their key and every version of their data
    /// in one transaction, then makes sure the deleted bytes do not stay
    /// readable in the database's files (SQLite: overwritten by
    /// `secure_delete`, the write-ahead log checkpointed and truncated;
    /// PostgreSQL: the vault's tables vacuumed, outside the transaction).
    /// Whether the law allows it is the domain's decision, taken before.
    pub async fn erase_vault_subject(
        &self,
        ledger: &str,
        holder: &str,
    ) -> Result<VaultErasure, StoreError> {
        on_backend!(self, |b| b.erase_vault_subject(ledger, holder))
    }

    /// What `read` returns for each chunk of at most
    /// [`VAULT_HOLDERS_PER_STATEMENT`] of `holders`, in order, each chunk's
    /// read guarded.
    async fn by_chunks_of_holders<'h, T, F>(
        &self,
        holders: &'h [String],
        read: impl Fn(&'h [String]) -> F,
    ) -> Result<Vec<T>, StoreError>
    where
        F: Future<Output = Result<Vec<T>, StoreError>>,
    {
        let mut all = Vec::with_capacity(holders.len());
        for chunk in holders.chunks(VAULT_HOLDERS_PER_STATEMENT) {
            all.extend(self.guarded(read(chunk)).await?);
        }
        Ok(all)
    }
}
