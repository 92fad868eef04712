//! The PostgreSQL backend: all of its SQL is here.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use sqlx::Row;
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use uuid::Uuid;

use crate::chain::StoredContent;
use crate::error::StoreError;
use crate::plan::{self, GroupPlan, GroupState, PreparedStream};
use crate::types::{Hash, Head, LedgerId, RecordedEvent, StreamId};

/// The channel on which commits are announced: payload `"<ledger> <head>"`.
pub(crate) const NOTIFY_CHANNEL: &str = "windledger_events";

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

const EVENT_COLUMNS: &str = "position, stream_id, stream_version, event_id, event_type, \
     schema_version, payload::text, metadata::text, recorded_at, prev_hash, hash";

#[derive(Clone, Debug)]
pub(crate) struct Pg {
    pub pool: PgPool,
}

impl Pg {
    pub async fn connect(url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool })
    }

    pub async fn create_ledger(&self, ledger: &LedgerId) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO ledgers (ledger_id, head_position, head_hash) VALUES ($1, 0, $2) \
             ON CONFLICT (ledger_id) DO NOTHING",
        )
        .bind(ledger.as_str())
        .bind(&Hash::GENESIS.0[..])
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn ledgers(&self) -> Result<Vec<LedgerId>, StoreError> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT ledger_id FROM ledgers ORDER BY ledger_id")
                .fetch_all(&self.pool)
                .await?;
        ids.into_iter().map(LedgerId::parse).collect()
    }

    pub async fn head(&self, ledger: &LedgerId) -> Result<Option<Head>, StoreError> {
        let row = sqlx::query("SELECT head_position, head_hash FROM ledgers WHERE ledger_id = $1")
            .bind(ledger.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| head_from_row(&r)).transpose()
    }

    /// One transaction for a whole group of appends to a ledger.
    pub async fn write_group(
        &self,
        ledger: &LedgerId,
        appends: &[&[PreparedStream]],
        recorded_at: DateTime<Utc>,
    ) -> Result<GroupPlan, StoreError> {
        let mut tx = self.pool.begin().await?;
        let head = sqlx::query(
            "SELECT head_position, head_hash FROM ledgers WHERE ledger_id = $1 FOR UPDATE",
        )
        .bind(ledger.as_str())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::LedgerNotFound(ledger.clone()))
        .and_then(|r| head_from_row(&r))?;

        let ids: Vec<Uuid> = appends
            .iter()
            .flat_map(|a| a.iter().flat_map(|s| s.events.iter().map(|e| e.event_id)))
            .collect();
        let mut existing = HashMap::new();
        let rows = sqlx::query(
            "SELECT event_id, position, stream_id, stream_version, event_type, schema_version, \
                    payload::text, metadata::text, hash \
             FROM events WHERE ledger_id = $1 AND event_id = ANY($2)",
        )
        .bind(ledger.as_str())
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            let stored = StoredContent {
                event_id: r.try_get(0)?,
                position: to_u64(r.try_get(1)?)?,
                stream_id: StreamId::parse(r.try_get::<String, _>(2)?)?,
                stream_version: to_u64(r.try_get(3)?)?,
                event_type: r.try_get(4)?,
                schema_version: to_u32(r.try_get(5)?)?,
                payload: r.try_get(6)?,
                metadata: parse_metadata(&r.try_get::<String, _>(7)?)?,
                hash: Hash::from_slice(r.try_get::<&[u8], _>(8)?)?,
            };
            existing.insert(stored.event_id, stored);
        }

        let mut streams: Vec<&str> = appends
            .iter()
            .flat_map(|a| a.iter().map(|s| s.stream_id.as_str()))
            .collect();
        streams.sort_unstable();
        streams.dedup();
        let mut versions = HashMap::new();
        let rows = sqlx::query(
            "SELECT stream_id, max(stream_version) FROM events \
             WHERE ledger_id = $1 AND stream_id = ANY($2) GROUP BY stream_id",
        )
        .bind(ledger.as_str())
        .bind(&streams)
        .fetch_all(&mut *tx)
        .await?;
        for r in rows {
            versions.insert(
                StreamId::parse(r.try_get::<String, _>(0)?)?,
                to_u64(r.try_get(1)?)?,
            );
        }

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
        if plan.rows.is_empty() {
            tx.rollback().await?;
            return Ok(plan);
        }

        let n = plan.rows.len();
        let mut positions = Vec::with_capacity(n);
        let mut stream_ids = Vec::with_capacity(n);
        let mut stream_versions = Vec::with_capacity(n);
        let mut event_ids = Vec::with_capacity(n);
        let mut event_types = Vec::with_capacity(n);
        let mut schema_versions = Vec::with_capacity(n);
        let mut payloads = Vec::with_capacity(n);
        let mut metadata = Vec::with_capacity(n);
        let mut prev_hashes = Vec::with_capacity(n);
        let mut hashes = Vec::with_capacity(n);
        for row in &plan.rows {
            positions.push(row.position as i64);
            stream_ids.push(row.stream_id.as_str());
            stream_versions.push(row.stream_version as i64);
            event_ids.push(row.event_id);
            event_types.push(row.event_type.as_str());
            schema_versions.push(row.schema_version as i32);
            payloads.push(row.payload.as_str());
            metadata.push(row.metadata.as_str());
            prev_hashes.push(&row.prev_hash.0[..]);
            hashes.push(&row.hash.0[..]);
        }
        sqlx::query(
            "INSERT INTO events (ledger_id, position, stream_id, stream_version, event_id, \
                 event_type, schema_version, payload, metadata, recorded_at, prev_hash, hash) \
             SELECT $1, p, s, v, i, t, sv, pl::json, md::json, $2, ph, h \
             FROM UNNEST($3::bigint[], $4::text[], $5::bigint[], $6::uuid[], $7::text[], \
                         $8::int[], $9::text[], $10::text[], $11::bytea[], $12::bytea[]) \
                  AS u(p, s, v, i, t, sv, pl, md, ph, h)",
        )
        .bind(ledger.as_str())
        .bind(recorded_at)
        .bind(&positions)
        .bind(&stream_ids)
        .bind(&stream_versions)
        .bind(&event_ids)
        .bind(&event_types)
        .bind(&schema_versions)
        .bind(&payloads)
        .bind(&metadata)
        .bind(&prev_hashes)
        .bind(&hashes)
        .execute(&mut *tx)
        .await?;
        // The notification is delivered at commit, and only if it commits.
        sqlx::query(
            "WITH moved AS (UPDATE ledgers SET head_position = $2, head_hash = $3 WHERE ledger_id = $1) \
             SELECT pg_notify($4, $1 || ' ' || $2::text)",
        )
        .bind(ledger.as_str())
        .bind(plan.head.size as i64)
        .bind(&plan.head.hash.0[..])
        .bind(NOTIFY_CHANNEL)
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
            "SELECT {EVENT_COLUMNS} FROM events WHERE ledger_id = $1 AND position > $2 \
             ORDER BY position LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ledger.as_str())
            .bind(after as i64)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| event_from_row(ledger, r)).collect()
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
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| event_from_row(ledger, r)).collect()
    }
}

fn head_from_row(r: &PgRow) -> Result<Head, StoreError> {
    Ok(Head {
        size: to_u64(r.try_get(0)?)?,
        hash: Hash::from_slice(r.try_get::<&[u8], _>(1)?)?,
    })
}

fn event_from_row(ledger: &LedgerId, r: &PgRow) -> Result<RecordedEvent, StoreError> {
    let position = to_u64(r.try_get(0)?)?;
    let payload: String = r.try_get(6)?;
    Ok(RecordedEvent {
        ledger_id: ledger.clone(),
        position,
        stream_id: StreamId::parse(r.try_get::<String, _>(1)?)?,
        stream_version: to_u64(r.try_get(2)?)?,
        event_id: r.try_get(3)?,
        event_type: r.try_get(4)?,
        schema_version: to_u32(r.try_get(5)?)?,
        payload: RawValue::from_string(payload).map_err(|e| StoreError::Decode {
            position,
            reason: format!("payload is not JSON: {e}"),
        })?,
        metadata: parse_metadata(r.try_get::<&str, _>(7)?)?,
        recorded_at: r.try_get(8)?,
        prev_hash: Hash::from_slice(r.try_get::<&[u8], _>(9)?)?,
        hash: Hash::from_slice(r.try_get::<&[u8], _>(10)?)?,
    })
}

pub(crate) fn parse_metadata(s: &str) -> Result<crate::types::Metadata, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("metadata {s:?}: {e}")))
}

pub(crate) fn to_u64(v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative counter {v}")))
}

pub(crate) fn to_u32(v: i32) -> Result<u32, StoreError> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("negative schema version {v}")))
}
