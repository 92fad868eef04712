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
    head_from_row, parse_metadata, signed_checkpoint, stored_content_from_row,
    stream_version_from_row, to_u32, to_u64, vault_key_from_row, vault_version_from_row,
};
use crate::seal::{Seal, Sealer};
use crate::store::{Restored, SignedCheckpoint};
use crate::types::{Hash, Head, LedgerId, Payload, RecordedEvent, StreamId};
use crate::vault::{VaultErasure, VaultKey, VaultVersion};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

const EVENT_COLUMNS: &str = "position, stream_id, stream_version, event_id, event_type, \
     schema_version, payload, metadata, recorded_at, prev_hash, hash";

/// The backend for which [`both`] is compiled here.
type Backend = Sqlite;

#[path = "both.rs"]
#[allow(
    clippy::duplicate_mod,
    reason = "compiled once for each backend, on purpose"
)]
mod both;

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
        self.same_checkpoint_recorded(checkpoint).await
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

    pub async fn erase_vault_subject(
        &self,
        ledger: &str,
        holder: &str,
    ) -> Result<VaultErasure, StoreError> {
        let erased = self.delete_vault_subject_rows(ledger, holder).await?;
        // The deleted bytes were overwritten in the pages (secure_delete),
        // but the write-ahead log still holds the pages as they were: copy
        // it back and empty it. A reader holding an old snapshot can keep
        // the log from emptying; it is emptied at the next checkpoint then.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&self.pool)
            .await?;
        Ok(erased)
    }
}
