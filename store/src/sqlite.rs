//! The SQLite backend (the embedded default): all of its SQL is here.

use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use uuid::Uuid;

use crate::chain::timestamp;
use crate::error::StoreError;
use crate::plan::{self, GroupPlan, GroupState, NewRow, PreparedStream, WriterCache};
use crate::rows::{
    as_they_arrive, head_from_row, parse_metadata, same_checkpoint_head, seal_from_parts,
    signed_checkpoint, stored_content_from_row, stream_version_from_row, to_u32, to_u64,
    token_from_row, vault_key_from_row, vault_read_from_row, vault_version_from_row,
};
use crate::seal::{Seal, Sealer};
use crate::store::{Restored, SignedCheckpoint};
use crate::tokens::StoredToken;
use crate::types::{Hash, Head, LedgerId, Payload, RecordedEvent, StreamId};
use crate::vault::{
    SealedVersion, VAULT_READS_PER_STATEMENT, VaultErasure, VaultKey, VaultRead, VaultVersion,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

const EVENT_COLUMNS: &str = "position, stream_id, stream_version, event_id, event_type, \
     schema_version, payload, metadata, recorded_at, prev_hash, hash";

/// The columns of `access_tokens` in the order [`token_from_row`] reads
/// them (a macro: sqlx takes only static SQL).
macro_rules! token_columns {
    () => {
        "token_id, secret_hash, ledger_id, role, holder_id, label, created_at, expires_at, revoked_at"
    };
}

#[derive(Clone, Debug)]
pub(crate) struct Sqlite {
    pool: SqlitePool,
}

impl Sqlite {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            // Durable by default: a commit that returned survives a power cut.
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            // Deleted content is overwritten, so that an erased person's
            // data does not stay in the file (only the vault deletes).
            .pragma("secure_delete", "ON")
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    pub async fn create_ledger(&self, ledger: &LedgerId) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ledgers (ledger_id, head_position, head_hash, created_at) \
             VALUES (?1, 0, ?2, ?3) ON CONFLICT (ledger_id) DO NOTHING",
        )
        .bind(ledger.as_str())
        .bind(&Hash::GENESIS.0[..])
        .bind(timestamp::format(&timestamp::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn ledger_sizes(&self) -> Result<Vec<(LedgerId, u64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT ledger_id, head_position FROM ledgers ORDER BY ledger_id")
                .fetch_all(&self.pool)
                .await?;
        crate::rows::sizes(rows)
    }

    pub async fn head(&self, ledger: &LedgerId) -> Result<Option<Head>, StoreError> {
        let row = sqlx::query("SELECT head_position, head_hash FROM ledgers WHERE ledger_id = ?1")
            .bind(ledger.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| head_from_row(&r)).transpose()
    }

    /// One `BEGIN IMMEDIATE` transaction for a whole group of appends. (The
    /// reads under the lock are in-process and cheap: no fast path here.)
    pub async fn write_group(
        &self,
        ledger: &LedgerId,
        appends: &[&[PreparedStream]],
        recorded_at: DateTime<Utc>,
        cache: &mut WriterCache,
        sealer: &Sealer,
    ) -> Result<GroupPlan, StoreError> {
        let plan = self
            .write_group_locked(ledger, appends, recorded_at, cache.committed, sealer)
            .await?;
        if !plan.rows.is_empty() {
            cache.committed = Some(plan.head);
        }
        Ok(plan)
    }

    async fn write_group_locked(
        &self,
        ledger: &LedgerId,
        appends: &[&[PreparedStream]],
        recorded_at: DateTime<Utc>,
        committed: Option<Head>,
        sealer: &Sealer,
    ) -> Result<GroupPlan, StoreError> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let head = sqlx::query("SELECT head_position, head_hash FROM ledgers WHERE ledger_id = ?1")
            .bind(ledger.as_str())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::LedgerNotFound(ledger.clone()))
            .and_then(|r| head_from_row(&r))?;
        plan::check_not_behind(ledger, head, committed)?;

        let ids: Vec<String> = plan::event_ids(appends).map(|id| id.to_string()).collect();
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut existing = HashMap::new();
        let rows = sqlx::query(
            "SELECT event_id, position, stream_id, stream_version, event_type, schema_version, \
                    payload, metadata, hash \
             FROM events WHERE ledger_id = ?1 AND event_id IN (SELECT value FROM json_each(?2))",
        )
        .bind(ledger.as_str())
        .bind(ids)
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            let stored = stored_content_from_row(&r, parse_uuid(r.try_get(0)?)?)?;
            existing.insert(stored.event_id, stored);
        }

        let streams: Vec<&str> = plan::stream_ids(appends).collect();
        let streams =
            serde_json::to_string(&streams).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let versions = sqlx::query(
            "SELECT stream_id, max(stream_version) FROM events \
             WHERE ledger_id = ?1 AND stream_id IN (SELECT value FROM json_each(?2)) \
             GROUP BY stream_id",
        )
        .bind(ledger.as_str())
        .bind(streams)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(stream_version_from_row)
        .collect::<Result<HashMap<_, _>, _>>()?;

        let plan = plan::plan_group(
            ledger,
            GroupState {
                head,
                existing,
                versions,
            },
            appends,
            recorded_at,
        );
        let Some(seal) = plan.seal(ledger, sealer) else {
            tx.rollback().await?;
            return Ok(plan);
        };
        let recorded_at = timestamp::format(&recorded_at);
        for row in &plan.rows {
            insert_event(&mut tx, ledger, row, &recorded_at).await?;
        }
        insert_seal(&mut tx, ledger, &seal).await?;
        sqlx::query("UPDATE ledgers SET head_position = ?2, head_hash = ?3 WHERE ledger_id = ?1")
            .bind(ledger.as_str())
            .bind(plan.head.size as i64)
            .bind(&plan.head.hash.0[..])
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(plan)
    }

    pub async fn read_ledger(
        &self,
        ledger: &LedgerId,
        after: u64,
        limit: u32,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE ledger_id = ?1 AND position > ?2 \
             ORDER BY position LIMIT ?3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ledger.as_str())
            .bind(after as i64)
            .bind(i64::from(limit))
            .fetch(&self.pool);
        as_they_arrive(rows, |row| event_from_row(ledger, row)).await
    }

    /// Versions and payloads only: what loading an aggregate needs.
    pub async fn read_stream_payloads(
        &self,
        ledger: &LedgerId,
        stream: &StreamId,
        after_version: u64,
    ) -> Result<Vec<(u64, String)>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT stream_version, payload FROM events \
             WHERE ledger_id = ?1 AND stream_id = ?2 AND stream_version > ?3 ORDER BY stream_version",
        )
        .bind(ledger.as_str())
        .bind(stream.as_str())
        .bind(after_version as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|(v, p)| Ok((to_u64(v)?, p))).collect()
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
             WHERE ledger_id = ?1 AND stream_id = ?2 AND stream_version > ?3 \
             ORDER BY stream_version LIMIT ?4"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ledger.as_str())
            .bind(stream.as_str())
            .bind(after_version as i64)
            .bind(i64::from(limit))
            .fetch(&self.pool);
        as_they_arrive(rows, |row| event_from_row(ledger, row)).await
    }

    pub async fn event_by_id(
        &self,
        ledger: &LedgerId,
        event_id: uuid::Uuid,
    ) -> Result<Option<RecordedEvent>, StoreError> {
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM events WHERE ledger_id = ?1 AND event_id = ?2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ledger.as_str())
            .bind(event_id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| event_from_row(ledger, &r))
            .transpose()
    }
}

impl Sqlite {
    /// The seals whose last position is in `after + 1..=upto`, in order.
    pub async fn seals(
        &self,
        ledger: &LedgerId,
        after: u64,
        upto: u64,
    ) -> Result<Vec<Seal>, StoreError> {
        let rows: Vec<(i64, i64, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT first_position, last_position, key_id, signature FROM seals \
             WHERE ledger_id = ?1 AND last_position > ?2 AND last_position <= ?3 \
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

    /// Records a signed checkpoint; `false` when the same head was already
    /// recorded at this size.
    pub async fn record_signed_checkpoint(
        &self,
        checkpoint: &SignedCheckpoint,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO signed_checkpoints (ledger_id, size, head_hash, note, recorded_at) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (ledger_id, size) DO NOTHING",
        )
        .bind(checkpoint.ledger.as_str())
        .bind(checkpoint.size as i64)
        .bind(&checkpoint.head.0[..])
        .bind(&checkpoint.note)
        .bind(timestamp::format(&timestamp::now()))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            return Ok(true);
        }
        let recorded: Vec<u8> = sqlx::query_scalar(
            "SELECT head_hash FROM signed_checkpoints WHERE ledger_id = ?1 AND size = ?2",
        )
        .bind(checkpoint.ledger.as_str())
        .bind(checkpoint.size as i64)
        .fetch_one(&self.pool)
        .await?;
        same_checkpoint_head(checkpoint, &recorded)
    }

    /// The signed checkpoint of the largest size recorded for a ledger.
    pub async fn latest_signed_checkpoint(
        &self,
        ledger: &LedgerId,
    ) -> Result<Option<SignedCheckpoint>, StoreError> {
        let row: Option<(i64, Vec<u8>, String)> = sqlx::query_as(
            "SELECT size, head_hash, note FROM signed_checkpoints WHERE ledger_id = ?1 \
             ORDER BY size DESC LIMIT 1",
        )
        .bind(ledger.as_str())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(size, head, note)| signed_checkpoint(ledger, size, &head, note))
            .transpose()
    }

    /// Every signed checkpoint of a ledger, smallest first, with the time
    /// each was recorded.
    pub async fn signed_checkpoints(
        &self,
        ledger: &LedgerId,
    ) -> Result<Vec<(SignedCheckpoint, DateTime<Utc>)>, StoreError> {
        let rows: Vec<(i64, Vec<u8>, String, String)> = sqlx::query_as(
            "SELECT size, head_hash, note, recorded_at FROM signed_checkpoints \
             WHERE ledger_id = ?1 ORDER BY size",
        )
        .bind(ledger.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(size, head, note, at)| {
                let checkpoint = signed_checkpoint(ledger, size, &head, note)?;
                let at = timestamp::parse(&at)
                    .map_err(|e| StoreError::Corrupt(format!("a checkpoint's time {at:?}: {e}")))?;
                Ok((checkpoint, at))
            })
            .collect()
    }

    /// Writes a whole ledger read back from a backup, row for row, in one
    /// transaction: refused if the ledger exists here.
    pub async fn restore_ledger(&self, restored: &Restored<'_>) -> Result<(), StoreError> {
        let ledger = restored.ledger;
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let created = sqlx::query(
            "INSERT INTO ledgers (ledger_id, head_position, head_hash, created_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (ledger_id) DO NOTHING",
        )
        .bind(ledger.as_str())
        .bind(restored.head.size as i64)
        .bind(&restored.head.hash.0[..])
        .bind(timestamp::format(&timestamp::now()))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if created == 0 {
            return Err(StoreError::LedgerExists(ledger.clone()));
        }
        for e in restored.events {
            let row = NewRow::restored(e)?;
            insert_event(&mut tx, ledger, &row, &timestamp::format(&e.recorded_at)).await?;
        }
        for seal in restored.seals {
            insert_seal(&mut tx, ledger, seal).await?;
        }
        for (c, at) in restored.checkpoints {
            sqlx::query(
                "INSERT INTO signed_checkpoints (ledger_id, size, head_hash, note, recorded_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .bind(ledger.as_str())
            .bind(c.size as i64)
            .bind(&c.head.0[..])
            .bind(&c.note)
            .bind(timestamp::format(at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Sqlite {
    /// Stores a new token (its id must be new).
    pub async fn insert_token(&self, t: &StoredToken) -> Result<(), StoreError> {
        sqlx::query(concat!(
            "INSERT INTO access_tokens (",
            token_columns!(),
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
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
            " FROM access_tokens WHERE token_id = ?1"
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
            " FROM access_tokens WHERE ledger_id = COALESCE(?1, ledger_id) ORDER BY created_at, token_id"
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
            sqlx::query_scalar("SELECT token_id FROM access_tokens WHERE revoked_at >= ?1")
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
            "UPDATE access_tokens SET revoked_at = ?2 WHERE token_id = ?1 AND revoked_at IS NULL",
        )
        .bind(token_id)
        .bind(at)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(done == 1)
    }
}

/// Inserts one event's row, recorded at `recorded_at` (as stored: see
/// `timestamp::format`).
async fn insert_event(
    tx: &mut SqliteConnection,
    ledger: &LedgerId,
    row: &NewRow,
    recorded_at: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO events (ledger_id, position, stream_id, stream_version, event_id, \
             event_type, schema_version, payload, metadata, recorded_at, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .bind(ledger.as_str())
    .bind(row.position as i64)
    .bind(row.stream_id.as_str())
    .bind(row.stream_version as i64)
    .bind(row.event_id.to_string())
    .bind(row.event_type.as_str())
    .bind(i64::from(row.schema_version))
    .bind(row.payload.as_str())
    .bind(row.metadata.as_str())
    .bind(recorded_at)
    .bind(&row.prev_hash.0[..])
    .bind(&row.hash.0[..])
    .execute(tx)
    .await?;
    Ok(())
}

/// Records the seal of `ledger`'s events `seal.first..=seal.last`.
async fn insert_seal(
    tx: &mut SqliteConnection,
    ledger: &LedgerId,
    seal: &Seal,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO seals (ledger_id, first_position, last_position, key_id, signature) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(ledger.as_str())
    .bind(seal.first as i64)
    .bind(seal.last as i64)
    .bind(&seal.key_id.0[..])
    .bind(&seal.signature.0[..])
    .execute(tx)
    .await?;
    Ok(())
}

/// `head`, which ends in `WHERE ledger_id = `, for `ledger` and the
/// `holders` of it, then `tail`.
fn of_holders(
    head: &str,
    ledger: &str,
    holders: &[String],
    tail: &str,
) -> sqlx::QueryBuilder<sqlx::Sqlite> {
    let mut query = sqlx::QueryBuilder::new(head);
    query.push_bind(ledger).push(" AND holder_id IN (");
    let mut list = query.separated(", ");
    for h in holders {
        list.push_bind(h);
    }
    query.push(tail);
    query
}

fn parse_uuid(s: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("event id {s:?}: {e}")))
}

fn event_from_row(ledger: &LedgerId, r: &SqliteRow) -> Result<RecordedEvent, StoreError> {
    let position = to_u64(r.try_get(0)?)?;
    let payload: String = r.try_get(6)?;
    let recorded_at: &str = r.try_get(8)?;
    Ok(RecordedEvent {
        ledger_id: ledger.clone(),
        position,
        stream_id: StreamId::trusted(r.try_get::<String, _>(1)?),
        stream_version: to_u64(r.try_get(2)?)?,
        event_id: parse_uuid(r.try_get(3)?)?,
        event_type: r.try_get(4)?,
        schema_version: to_u32(r.try_get::<i64, _>(5)?.try_into().unwrap_or(-1))?,
        payload: Payload::trusted(payload),
        metadata: parse_metadata(r.try_get::<&str, _>(7)?)?,
        recorded_at: timestamp::parse(recorded_at).map_err(|e| StoreError::Decode {
            position,
            reason: format!("recorded_at {recorded_at:?}: {e}"),
        })?,
        prev_hash: Hash::from_slice(r.try_get::<&[u8], _>(9)?)?,
        hash: Hash::from_slice(r.try_get::<&[u8], _>(10)?)?,
        seal: None,
    })
}

impl Sqlite {
    pub async fn insert_vault_key(&self, k: &VaultKey) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO vault_keys (ledger_id, holder_id, master_key_id, nonce, wrapped_key, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (ledger_id, holder_id) DO NOTHING",
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
             FROM vault_keys WHERE ledger_id = ?1 AND holder_id = ?2",
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
                "UPDATE vault_keys SET master_key_id = ?1, nonce = ?2, wrapped_key = ?3 \
                 WHERE ledger_id = ?4 AND holder_id = ?5 AND master_key_id = ?6",
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
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING version",
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
            "DELETE FROM vault_versions WHERE ledger_id = ?1 AND holder_id = ?2 AND version = ?3",
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
             WHERE ledger_id = ?1 AND holder_id = ?2 ORDER BY version",
        )
        .bind(ledger)
        .bind(holder)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(vault_version_from_row)
        .collect()
    }

    pub async fn vault_keys_of(
        &self,
        ledger: &str,
        holders: &[String],
    ) -> Result<Vec<VaultKey>, StoreError> {
        of_holders(
            "SELECT ledger_id, holder_id, master_key_id, nonce, wrapped_key, created_at \
             FROM vault_keys WHERE ledger_id = ",
            ledger,
            holders,
            ") ORDER BY holder_id",
        )
        .build()
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(vault_key_from_row)
        .collect()
    }

    pub async fn vault_versions_of(
        &self,
        ledger: &str,
        holders: &[String],
    ) -> Result<Vec<(String, VaultVersion)>, StoreError> {
        of_holders(
            "SELECT version, recorded_at, commitment, nonce, ciphertext, holder_id \
             FROM vault_versions WHERE ledger_id = ",
            ledger,
            holders,
            ") ORDER BY holder_id, version",
        )
        .build()
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|row| Ok((row.try_get(5)?, vault_version_from_row(row)?)))
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
            "SELECT holder_id FROM vault_keys WHERE ledger_id = ?1 ORDER BY holder_id",
        )
        .bind(ledger)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn log_vault_read(&self, r: &VaultRead) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO vault_reads (ledger_id, holder_id, reader, purpose, read_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
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
             WHERE ledger_id = ?1 AND holder_id = COALESCE(?2, holder_id) ORDER BY id",
        )
        .bind(ledger)
        .bind(holder)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(vault_read_from_row)
        .collect()
    }

    pub async fn erase_vault_subject(
        &self,
        ledger: &str,
        holder: &str,
    ) -> Result<VaultErasure, StoreError> {
        let mut tx = self.pool.begin().await?;
        let versions =
            sqlx::query("DELETE FROM vault_versions WHERE ledger_id = ?1 AND holder_id = ?2")
                .bind(ledger)
                .bind(holder)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let key = sqlx::query("DELETE FROM vault_keys WHERE ledger_id = ?1 AND holder_id = ?2")
            .bind(ledger)
            .bind(holder)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        tx.commit().await?;
        // The deleted bytes were overwritten in the pages (secure_delete),
        // but the write-ahead log still holds the pages as they were: copy
        // it back and empty it. A reader holding an old snapshot can keep
        // the log from emptying; it is emptied at the next checkpoint then.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(VaultErasure { key, versions })
    }
}
