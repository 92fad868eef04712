//! The statements both backends run as they are written: the heads, the
//! reads of a ledger's or a stream's page, the seals, the signed
//! checkpoints' reads, the access tokens and the identity vault.
//!
//! SQLite numbers `$1` as PostgreSQL does (sqlx reads `$NNN` as the NNN-th
//! argument), and sqlx binds the same Rust values to either, so one text
//! serves both: this file is a module of `pg.rs` and of `sqlite.rs`
//! (`#[path]`), compiled once for each, where `Backend` is that file's
//! backend (with a field `pool`) and `EVENT_COLUMNS` and `event_from_row`
//! its own. What differs between them (the appends, the JSON columns, how
//! SQLite stores a time or reads a list of holders, what follows an
//! erasure) stays in the backend's file; so does every statement that is
//! the backend's alone. No other file holds SQL.

use chrono::{DateTime, Utc};

use super::{Backend, EVENT_COLUMNS, event_from_row};
use crate::error::StoreError;
use crate::rows::{
    as_they_arrive, head_from_row, same_checkpoint_head, seal_from_parts, signed_checkpoint,
    token_from_row, vault_key_from_row, vault_read_from_row, vault_version_from_row,
};
use crate::seal::Seal;
use crate::store::SignedCheckpoint;
use crate::tokens::StoredToken;
use crate::types::{Head, LedgerId, RecordedEvent, StreamId};
use crate::vault::{
    SealedVersion, VAULT_READS_PER_STATEMENT, VaultErasure, VaultKey, VaultRead, VaultVersion,
};

/// The columns of `access_tokens` in the order `token_from_row` reads
/// them (a macro: sqlx takes only static SQL).
macro_rules! token_columns {
    () => {
        "token_id, secret_hash, ledger_id, role, holder_id, label, created_at, expires_at, revoked_at"
    };
}

impl Backend {
    pub async fn read_ledger(
        &self,
        ledger: &LedgerId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        // Positions are gapless, so the page is also bounded above: with
        // only `position > $2 ... LIMIT $3` the planner may guess a large
        // share of the table and pick a bitmap scan and a sort, which spills
        // big payloads to disk (seen on a freshly written ledger). SQLite reads
        // the same rows either way.
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE ledger_id = $1 AND position > $2 \
             AND position <= $2 + $3 ORDER BY position LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ledger.as_str())
            .bind(after as i64)
            .bind(i64::from(limit))
            .fetch(&self.pool);
        as_they_arrive(rows, |row| event_from_row(ledger, row)).await
    }

    pub async fn ledger_sizes(&self) -> Result<Vec<(LedgerId, u64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT ledger_id, head_position FROM ledgers ORDER BY ledger_id")
                .fetch_all(&self.pool)
                .await?;
        crate::rows::sizes(rows)
    }

    pub async fn head(&self, ledger: &LedgerId) -> Result<Option<Head>, StoreError> {
        let row = sqlx::query("SELECT head_position, head_hash FROM ledgers WHERE ledger_id = $1")
            .bind(ledger.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| head_from_row(&r)).transpose()
    }

    pub async fn read_stream(
        &self,
        ledger: &LedgerId,
        stream: &StreamId,
        after_version: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events \
             WHERE ledger_id = $1 AND stream_id = $2 AND stream_version > $3 \
             ORDER BY stream_version LIMIT $4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ledger.as_str())
            .bind(stream.as_str())
            .bind(after_version as i64)
            .bind(i64::from(limit))
            .fetch(&self.pool);
        as_they_arrive(rows, |row| event_from_row(ledger, row)).await
    }

    /// The seals whose last position is in `after + 1..=upto`, in order.
    pub async fn seals(
        &self,
        ledger: &LedgerId,
        after: u64,
        upto: u64,
    ) -> Result<Vec<Seal>, StoreError> {
        let rows: Vec<(i64, i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT first_position, last_position, key_id, signature FROM seals \
             WHERE ledger_id = $1 AND last_position > $2 AND last_position <= $3 \
             ORDER BY last_position",
        )
        .bind(ledger.as_str())
        .bind(after as i64)
        .bind(i64::try_from(upto).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(first, last, key_id, signature)| {
                seal_from_parts(ledger, first, last, &key_id, &signature)
            })
            .collect()
    }

    /// The signed checkpoint of the largest size recorded for a ledger.
    pub async fn latest_signed_checkpoint(
        &self,
        ledger: &LedgerId,
    ) -> Result<Option<SignedCheckpoint>, StoreError> {
        let row: Option<(i64, Vec<u8>, String)> = sqlx::query_as(
            "SELECT size, head_hash, note FROM signed_checkpoints WHERE ledger_id = $1 \
             ORDER BY size DESC LIMIT 1",
        )
        .bind(ledger.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(size, head, note)| signed_checkpoint(ledger, size, &head, note))
            .transpose()
    }

    /// Stores a new token (its id must be new).
    pub async fn insert_token(&self, t: &StoredToken) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO access_tokens (",
            token_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&t.token_id)
        .bind(t.secret_hash.as_slice())
        .bind(&t.ledger)
        .bind(&t.role)
        .bind(&t.holder)
        .bind(&t.label)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.revoked_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn token(&self, token_id: &str) -> Result<Option<StoredToken>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM access_tokens WHERE token_id = $1"
        ))
        .bind(token_id)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(token_from_row)
        .transpose()
    }

    /// The tokens of `ledger` (of every ledger for `None`), oldest first.
    pub async fn tokens(&self, ledger: Option<&str>) -> Result<Vec<StoredToken>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            token_columns!(),
            " FROM access_tokens WHERE ledger_id = COALESCE($1, ledger_id) ORDER BY created_at, token_id"
        ))
        .bind(ledger)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(token_from_row)
        .collect()
    }

    pub async fn tokens_revoked_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT token_id FROM access_tokens WHERE revoked_at >= $1")
                .bind(since)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// Revokes a token not revoked yet; false if there is no such token.
    pub async fn revoke_token(
        &self,
        token_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE access_tokens SET revoked_at = $2 WHERE token_id = $1 AND revoked_at IS NULL",
        )
        .bind(token_id)
        .bind(at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
    }

    pub async fn insert_vault_key(&self, k: &VaultKey) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO vault_keys (ledger_id, holder_id, master_key_id, nonce, wrapped_key, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ledger_id, holder_id) DO NOTHING",
        )
        .bind(&k.ledger)
        .bind(&k.holder)
        .bind(&k.master_key_id)
        .bind(&k.nonce)
        .bind(&k.wrapped_key)
        .bind(k.created_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn vault_key(
        &self,
        ledger: &str,
        holder: &str,
    ) -> Result<Option<VaultKey>, StoreError> {
        sqlx::query(
            "SELECT ledger_id, holder_id, master_key_id, nonce, wrapped_key, created_at \
             FROM vault_keys WHERE ledger_id = $1 AND holder_id = $2",
        )
        .bind(ledger)
        .bind(holder)
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(vault_key_from_row)
        .transpose()
    }

    pub async fn all_vault_keys(&self) -> Result<Vec<VaultKey>, StoreError> {
        sqlx::query(
            "SELECT ledger_id, holder_id, master_key_id, nonce, wrapped_key, created_at \
             FROM vault_keys ORDER BY ledger_id, holder_id",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(vault_key_from_row)
        .collect()
    }

    pub async fn rewrap_vault_keys(&self, from: &str, keys: &[VaultKey]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for k in keys {
            let done = sqlx::query(
                "UPDATE vault_keys SET master_key_id = $1, nonce = $2, wrapped_key = $3 \
                 WHERE ledger_id = $4 AND holder_id = $5 AND master_key_id = $6",
            )
            .bind(&k.master_key_id)
            .bind(&k.nonce)
            .bind(&k.wrapped_key)
            .bind(&k.ledger)
            .bind(&k.holder)
            .bind(from)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Err(StoreError::InvalidBatch(format!(
                    "the key of {} in {} is no longer wrapped by the master key {from}: nothing re-wrapped",
                    k.holder, k.ledger
                )));
            }
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn insert_vault_version(
        &self,
        ledger: &str,
        holder: &str,
        v: &SealedVersion,
    ) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO vault_versions (ledger_id, holder_id, recorded_at, commitment, nonce, ciphertext) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING version",
        )
        .bind(ledger)
        .bind(holder)
        .bind(v.recorded_at)
        .bind(&v.commitment)
        .bind(&v.nonce)
        .bind(&v.ciphertext)
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn delete_vault_version(
        &self,
        ledger: &str,
        holder: &str,
        version: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "DELETE FROM vault_versions WHERE ledger_id = $1 AND holder_id = $2 AND version = $3",
        )
        .bind(ledger)
        .bind(holder)
        .bind(version)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn vault_versions(
        &self,
        ledger: &str,
        holder: &str,
    ) -> Result<Vec<VaultVersion>, StoreError> {
        sqlx::query(
            "SELECT version, recorded_at, commitment, nonce, ciphertext FROM vault_versions \
             WHERE ledger_id = $1 AND holder_id = $2 ORDER BY version",
        )
        .bind(ledger)
        .bind(holder)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(vault_version_from_row)
        .collect()
    }

    pub async fn log_vault_reads(&self, reads: &[VaultRead]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        for chunk in reads.chunks(VAULT_READS_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO vault_reads (ledger_id, holder_id, reader, purpose, read_at) ",
            );
            insert.push_values(chunk, |mut row, r| {
                row.push_bind(&r.ledger)
                    .push_bind(&r.holder)
                    .push_bind(&r.reader)
                    .push_bind(&r.purpose)
                    .push_bind(r.read_at);
            });
            insert.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn vault_holders(&self, ledger: &str) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT holder_id FROM vault_keys WHERE ledger_id = $1 ORDER BY holder_id",
        )
        .bind(ledger)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn log_vault_read(&self, r: &VaultRead) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO vault_reads (ledger_id, holder_id, reader, purpose, read_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&r.ledger)
        .bind(&r.holder)
        .bind(&r.reader)
        .bind(&r.purpose)
        .bind(r.read_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn vault_reads(
        &self,
        ledger: &str,
        holder: Option<&str>,
    ) -> Result<Vec<VaultRead>, StoreError> {
        sqlx::query(
            "SELECT ledger_id, holder_id, reader, purpose, read_at FROM vault_reads \
             WHERE ledger_id = $1 AND holder_id = COALESCE($2, holder_id) ORDER BY id",
        )
        .bind(ledger)
        .bind(holder)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(vault_read_from_row)
        .collect()
    }

    /// Whether the checkpoint recorded at `checkpoint`'s size has
    /// its head (after an insert that found one there).
    pub(crate) async fn same_checkpoint_recorded(
        &self,
        checkpoint: &SignedCheckpoint,
    ) -> Result<bool, StoreError> {
        let recorded: Vec<u8> = sqlx::query_scalar(
            "SELECT head_hash FROM signed_checkpoints WHERE ledger_id = $1 AND size = $2",
        )
        .bind(checkpoint.ledger.as_str())
        .bind(checkpoint.size as i64)
        .fetch_one(&self.pool)
        .await?;
        same_checkpoint_head(checkpoint, &recorded)
    }

    /// Deletes a subject's vault rows (its versions, then its key)
    /// in one transaction; the backend's `erase_vault_subject`
    /// then clears what the database keeps of them.
    pub(crate) async fn delete_vault_subject_rows(
        &self,
        ledger: &str,
        holder: &str,
    ) -> Result<VaultErasure, StoreError> {
        let mut tx = self.pool.begin().await?;
        let versions =
            sqlx::query("DELETE FROM vault_versions WHERE ledger_id = $1 AND holder_id = $2")
                .bind(ledger)
                .bind(holder)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let key = sqlx::query("DELETE FROM vault_keys WHERE ledger_id = $1 AND holder_id = $2")
            .bind(ledger)
            .bind(holder)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(VaultErasure { key, versions })
    }
}
