//! The PostgreSQL backend: all of its SQL is here.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgListener, PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};
use uuid::Uuid;

use crate::error::StoreError;
use crate::plan::{self, GroupPlan, GroupState, NewRow, PreparedStream, WriterCache};
use crate::replication::Lsn;
use crate::rows::{
    head_from_row, parse_metadata, signed_checkpoint, stored_content_from_row,
    stream_version_from_row, to_u32, to_u64, vault_key_from_row, vault_version_from_row,
};
use crate::seal::Sealer;
use crate::store::{Restored, SignedCheckpoint};
use crate::types::{Hash, Head, LedgerId, Payload, RecordedEvent, StreamId};
use crate::vault::{VaultErasure, VaultKey, VaultVersion};

/// The channel on which commits are announced: payload `"<ledger> <head>"`.
const NOTIFY_CHANNEL: &str = "windledger_events";

/// Inserts a group's rows, given as one array per column ($3 to $12, see
/// [`RowArrays::bind`]), with the ledger as $1 and the time as $2.
macro_rules! insert_rows {
    () => {
        "INSERT INTO events (ledger_id, position, stream_id, stream_version, event_id, \
             event_type, schema_version, payload, metadata, recorded_at, prev_hash, hash) \
         SELECT $1, p, s, v, i, t, sv, pl::json, md::json, $2, ph, h \
         FROM UNNEST($3::bigint[], $4::text[], $5::bigint[], $6::uuid[], $7::text[], \
                     $8::int[], $9::text[], $10::text[], $11::bytea[], $12::bytea[]) \
              AS u(p, s, v, i, t, sv, pl, md, ph, h)"
    };
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

const EVENT_COLUMNS: &str = "position, stream_id, stream_version, event_id, event_type, \
     schema_version, payload::text, metadata::text, recorded_at, prev_hash, hash";

/// The backend for which [`both`] is compiled here.
type Backend = Pg;

#[path = "both.rs"]
#[allow(
    clippy::duplicate_mod,
    reason = "compiled once for each backend, on purpose"
)]
mod both;

#[derive(Clone, Debug)]
pub(crate) struct Pg {
    pool: PgPool,
    /// For the fast path's one statement only: connections are not pinged
    /// before use (a round trip per append). A dead one fails the statement
    /// with a transient error, and the group goes the slow path on `pool`,
    /// which finds whatever did commit by its event ids.
    fast_pool: PgPool,
    /// The hosts the URL names, in its order: one, or a primary and its
    /// standbys (see [`hosts`]).
    candidates: Arc<[PgConnectOptions]>,
    read_only: bool,
}

/// The database servers a URL names: one, or several as libpq writes them
/// (`postgres://user@db1:5432,db2:5432/windledger`), each with the URL's
/// user, database and parameters.
pub(crate) fn hosts(url: &str) -> Result<Vec<PgConnectOptions>, StoreError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| StoreError::UnsupportedUrl(url.to_owned()))?;
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (user, hosts) = match authority.rfind('@') {
        Some(at) => authority.split_at(at + 1),
        None => ("", authority),
    };
    hosts
        .split(',')
        .map(|host| {
            Ok(PgConnectOptions::from_str(&format!(
                "{scheme}://{user}{host}{tail}"
            ))?)
        })
        .collect()
}

/// The first of `candidates` that answers and, for a writer, is a primary
/// (not in recovery); else why none is, host by host.
async fn choose(
    candidates: &[PgConnectOptions],
    read_only: bool,
) -> Result<PgConnectOptions, String> {
    let mut why = Vec::new();
    for options in candidates {
        let host = format!("{}:{}", options.get_host(), options.get_port());
        let answer = async {
            let mut c = PgConnection::connect_with(options).await?;
            let standby: bool = sqlx::query_scalar("SELECT pg_is_in_recovery()")
                .fetch_one(&mut c)
                .await?;
            c.close().await?;
            Ok::<_, sqlx::Error>(standby)
        };
        match tokio::time::timeout(Duration::from_secs(2), answer).await {
            Ok(Ok(standby)) if read_only || !standby => return Ok(options.clone()),
            Ok(Ok(_)) => why.push(format!("{host} is a standby")),
            Ok(Err(e)) => why.push(format!("{host}: {e}")),
            Err(_) => why.push(format!("{host} did not answer within 2 s")),
        }
    }
    Err(format!(
        "no database host {}: {}",
        if read_only {
            "answers"
        } else {
            "is a primary that answers"
        },
        why.join("; ")
    ))
}

/// Whether every migration is applied already, with the same checksum: then
/// the server's role needs no right to create tables (the migrator's first
/// statement is a `CREATE TABLE IF NOT EXISTS`, refused without one). Any
/// doubt (no table, a missing or different migration) runs the migrator,
/// which applies or reports.
async fn migrated(pool: &PgPool) -> bool {
    let Ok(applied) = sqlx::query_as::<_, (i64, Vec<u8>)>(
        "SELECT version, checksum FROM _sqlx_migrations WHERE success",
    )
    .fetch_all(pool)
    .await
    else {
        return false;
    };
    MIGRATOR.iter().all(|m| {
        applied
            .iter()
            .any(|(version, checksum)| *version == m.version && **checksum == *m.checksum)
    })
}

impl Pg {
    /// Connects; applies the migrations unless `read_only` (a hot standby
    /// takes its schema from the primary: one behind is refused).
    pub async fn connect(
        url: &str,
        max_connections: u32,
        read_only: bool,
    ) -> Result<Self, StoreError> {
        let mut candidates = hosts(url)?;
        if read_only {
            // Even on a primary, every session refuses to write (SQLSTATE
            // 25006, reported as `StoreError::ReadOnly`).
            for options in &mut candidates {
                *options = options
                    .clone()
                    .options([("default_transaction_read_only", "on")]);
            }
        }
        let options = match candidates.as_slice() {
            // One direct attempt first: the pool would retry until its
            // timeout and report only that, hiding "connection refused" or
            // a bad password.
            [one] => {
                let probe = PgConnection::connect_with(one).await?;
                probe.close().await?;
                one.clone()
            }
            several => choose(several, read_only)
                .await
                .map_err(StoreError::Unavailable)?,
        };
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone())
            .await?;
        if !migrated(&pool).await {
            if read_only {
                return Err(StoreError::ReadOnly(
                    "the database's schema is not this version's: upgrade the writer (which \
                     applies the migrations, then replicates them) before the read-only servers"
                        .into(),
                ));
            }
            MIGRATOR.run(&pool).await?;
        }
        // Opened lazily: a process that only reads never opens one.
        let fast_pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .test_before_acquire(false)
            .connect_lazy_with(options);
        Ok(Self {
            pool,
            fast_pool,
            candidates: candidates.into(),
            read_only,
        })
    }

    /// How many hosts the URL names.
    pub fn host_count(&self) -> usize {
        self.candidates.len()
    }

    /// Whether the database answers again (the breaker's probe). Given
    /// several hosts, the one to use is chosen again: after a failover,
    /// the standby promoted is found and every new connection goes there.
    pub async fn reach(&self) -> Result<(), String> {
        if let [one] = &*self.candidates {
            return answers(one).await.map_err(|e| e.to_string());
        }
        let chosen = choose(&self.candidates, self.read_only).await?;
        let current = self.pool.connect_options();
        if (chosen.get_host(), chosen.get_port()) != (current.get_host(), current.get_port()) {
            tracing::warn!(
                from = %format!("{}:{}", current.get_host(), current.get_port()),
                to = %format!("{}:{}", chosen.get_host(), chosen.get_port()),
                "the database moved: new connections go to the host now serving"
            );
            self.pool.set_connect_options(chosen.clone());
            self.fast_pool.set_connect_options(chosen);
        }
        Ok(())
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

    /// Writes a group of appends: in one statement when the writer's cache
    /// can decide it, else in a transaction that reads under the lock.
    pub async fn write_group(
        &self,
        ledger: &LedgerId,
        appends: &[&[PreparedStream]],
        recorded_at: DateTime<Utc>,
        cache: &mut WriterCache,
        sealer: &Sealer,
    ) -> Result<GroupPlan, StoreError> {
        if let Some(plan) = cache.plan(ledger, appends, recorded_at) {
            match self
                .write_planned(ledger, &plan, recorded_at, cache, sealer)
                .await
            {
                Ok(true) => {
                    cache.learn(plan.head, plan.versions());
                    cache.committed = Some(plan.head);
                    return Ok(plan);
                }
                // Another process moved the head, or a stream is further on
                // than remembered (unique violation): decide under the lock.
                Ok(false) => cache.forget(),
                Err(StoreError::Database(e))
                    if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("23505") =>
                {
                    cache.forget()
                }
                // Whether it committed is unknown: the slow path tells, as
                // it reads the group's event ids back.
                Err(e) if e.is_retryable() => cache.forget(),
                Err(e) => {
                    cache.forget();
                    return Err(e);
                }
            }
        }
        let plan = self
            .write_group_locked(ledger, appends, recorded_at, cache.committed, sealer)
            .await;
        match &plan {
            Ok(plan) => {
                cache.learn(plan.head, plan.versions());
                if !plan.rows.is_empty() {
                    cache.committed = Some(plan.head);
                }
            }
            Err(_) => cache.forget(),
        }
        plan
    }

    /// The fast path: one autocommit statement that inserts the planned rows
    /// and moves the head only if the head is still where the plan started.
    /// `Ok(false)`: it was not, and nothing was written.
    async fn write_planned(
        &self,
        ledger: &LedgerId,
        plan: &GroupPlan,
        recorded_at: DateTime<Utc>,
        cache: &WriterCache,
        sealer: &Sealer,
    ) -> Result<bool, StoreError> {
        let Some(start) = cache.head else {
            return Ok(false);
        };
        let Some(seal) = plan.seal(ledger, sealer) else {
            return Ok(false);
        };
        let rows = RowArrays::new(&plan.rows);
        // The conditional UPDATE both checks the head and takes the row's
        // lock (a concurrent one waits, then re-checks the moved head and
        // matches nothing); the inserts (events and their seal) happen only
        // if it matched.
        let query = sqlx::query(concat!(
            "WITH moved AS ( \
                 UPDATE ledgers SET head_position = $13, head_hash = $14 \
                 WHERE ledger_id = $1 AND head_position = $15 AND head_hash = $16 \
                 RETURNING 1 \
             ), sealed AS ( \
                 INSERT INTO seals (ledger_id, first_position, last_position, key_id, signature) \
                 SELECT $1, $17, $13, $18, $19 WHERE EXISTS (SELECT 1 FROM moved) \
             ), inserted AS (",
            insert_rows!(),
            " WHERE EXISTS (SELECT 1 FROM moved) RETURNING 1 \
             ) \
             SELECT count(*) FROM inserted",
        ));
        let inserted: i64 = rows
            .bind(query.bind(ledger.as_str()).bind(recorded_at))
            .bind(plan.head.size as i64)
            .bind(&plan.head.hash.0[..])
            .bind(start.size as i64)
            .bind(&start.hash.0[..])
            .bind(seal.first as i64)
            .bind(&seal.key_id.0[..])
            .bind(&seal.signature.0[..])
            .fetch_one(&self.fast_pool)
            .await?
            .try_get(0)?;
        match inserted {
            0 => Ok(false),
            n if n as usize == plan.rows.len() => Ok(true),
            n => Err(StoreError::Corrupt(format!(
                "the fast append wrote {n} rows of {}",
                plan.rows.len()
            ))),
        }
    }

    /// The slow path: one transaction that locks the head row and reads what
    /// the group needs (stored ids, stream versions) before planning.
    async fn write_group_locked(
        &self,
        ledger: &LedgerId,
        appends: &[&[PreparedStream]],
        recorded_at: DateTime<Utc>,
        committed: Option<Head>,
        sealer: &Sealer,
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
        plan::check_not_behind(ledger, head, committed)?;

        let ids: Vec<Uuid> = plan::event_ids(appends).collect();
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
            let stored = stored_content_from_row(&r, r.try_get(0)?)?;
            existing.insert(stored.event_id, stored);
        }

        let mut streams: Vec<&str> = plan::stream_ids(appends).collect();
        streams.sort_unstable();
        streams.dedup();
        let versions = sqlx::query(
            "SELECT stream_id, max(stream_version) FROM events \
             WHERE ledger_id = $1 AND stream_id = ANY($2) GROUP BY stream_id",
        )
        .bind(ledger.as_str())
        .bind(&streams)
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

        let rows = RowArrays::new(&plan.rows);
        rows.bind(
            sqlx::query(insert_rows!())
                .bind(ledger.as_str())
                .bind(recorded_at),
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "WITH sealed AS ( \
                 INSERT INTO seals (ledger_id, first_position, last_position, key_id, signature) \
                 VALUES ($1, $4, $2, $5, $6) \
             ) \
             UPDATE ledgers SET head_position = $2, head_hash = $3 WHERE ledger_id = $1",
        )
        .bind(ledger.as_str())
        .bind(plan.head.size as i64)
        .bind(&plan.head.hash.0[..])
        .bind(seal.first as i64)
        .bind(&seal.key_id.0[..])
        .bind(&seal.signature.0[..])
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
            "SELECT stream_version, payload::text FROM events \
             WHERE ledger_id = $1 AND stream_id = $2 AND stream_version > $3 ORDER BY stream_version",
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
        event_id: Uuid,
    ) -> Result<Option<RecordedEvent>, StoreError> {
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM events WHERE ledger_id = $1 AND event_id = $2");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(ledger.as_str())
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| event_from_row(ledger, &r))
            .transpose()
    }
}

impl Pg {
    /// Records a signed checkpoint; `false` when the same head was already
    /// recorded at this size.
    pub async fn record_signed_checkpoint(
        &self,
        checkpoint: &SignedCheckpoint,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO signed_checkpoints (ledger_id, size, head_hash, note) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (ledger_id, size) DO NOTHING",
        )
        .bind(checkpoint.ledger.as_str())
        .bind(checkpoint.size as i64)
        .bind(&checkpoint.head.0[..])
        .bind(&checkpoint.note)
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
        let rows: Vec<(i64, Vec<u8>, String, DateTime<Utc>)> = sqlx::query_as(
            "SELECT size, head_hash, note, recorded_at FROM signed_checkpoints \
             WHERE ledger_id = $1 ORDER BY size",
        )
        .bind(ledger.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(size, head, note, at)| Ok((signed_checkpoint(ledger, size, &head, note)?, at)))
            .collect()
    }

    /// Writes a whole ledger read back from a backup, row for row, in one
    /// transaction: refused if the ledger exists here.
    pub async fn restore_ledger(&self, restored: &Restored<'_>) -> Result<(), StoreError> {
        let ledger = restored.ledger;
        let mut tx = self.pool.begin().await?;
        let created = sqlx::query(
            "INSERT INTO ledgers (ledger_id, head_position, head_hash) VALUES ($1, $2, $3) ON CONFLICT (ledger_id) DO NOTHING",
        )
        .bind(ledger.as_str())
        .bind(restored.head.size as i64)
        .bind(&restored.head.hash.0[..])
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if created == 0 {
            return Err(StoreError::LedgerExists(ledger.clone()));
        }
        for e in restored.events {
            let metadata = serde_json::to_string(&e.metadata)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "INSERT INTO events (ledger_id, position, stream_id, stream_version, event_id, event_type, schema_version, payload, metadata, recorded_at, prev_hash, hash) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8::json, $9::json, $10, $11, $12)",
            )
            .bind(ledger.as_str())
            .bind(e.position as i64)
            .bind(e.stream_id.as_str())
            .bind(e.stream_version as i64)
            .bind(e.event_id)
            .bind(&e.event_type)
            .bind(i64::from(e.schema_version))
            .bind(e.payload.get())
            .bind(metadata)
            .bind(e.recorded_at)
            .bind(&e.prev_hash.0[..])
            .bind(&e.hash.0[..])
            .execute(&mut *tx)
            .await?;
        }
        for seal in restored.seals {
            sqlx::query(
                "INSERT INTO seals (ledger_id, first_position, last_position, key_id, signature) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(ledger.as_str())
            .bind(seal.first as i64)
            .bind(seal.last as i64)
            .bind(&seal.key_id.0[..])
            .bind(&seal.signature.0[..])
            .execute(&mut *tx)
            .await?;
        }
        for (c, at) in restored.checkpoints {
            sqlx::query(
                "INSERT INTO signed_checkpoints (ledger_id, size, head_hash, note, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(ledger.as_str())
            .bind(c.size as i64)
            .bind(&c.head.0[..])
            .bind(&c.note)
            .bind(*at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

impl Pg {
    /// Announces to other processes' [`CommitListener`]s that `ledger`'s
    /// head is at `head`.
    pub async fn notify(&self, ledger: &LedgerId, head: u64) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(format!("{ledger} {head}"))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Where the database's write-ahead log stands: on a primary, its
    /// position now (past every commit acknowledged so far); on a hot
    /// standby, what it has replayed.
    pub async fn wal_position(&self) -> Result<Lsn, StoreError> {
        let position: i64 = sqlx::query_scalar(
            "SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() \
             ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(Lsn(u64::try_from(position).unwrap_or(0)))
    }

    /// A session of its own that hears the commits other processes
    /// announce.
    pub async fn listen(&self) -> Result<CommitListener, sqlx::Error> {
        let mut listener = PgListener::connect_with(&self.pool).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        Ok(CommitListener(listener))
    }
}

/// Hears the commits announced by [`Pg::notify`].
pub(crate) struct CommitListener(PgListener);

impl CommitListener {
    /// Waits for the next announcement: the ledger and its new head, or
    /// `None` for a notification not of that form.
    pub async fn next(&mut self) -> Result<Option<(LedgerId, u64)>, sqlx::Error> {
        let notification = self.0.recv().await?;
        let mut parts = notification.payload().split(' ');
        Ok(
            match (
                parts.next().map(LedgerId::parse),
                parts.next().map(str::parse::<u64>),
            ) {
                (Some(Ok(ledger)), Some(Ok(head))) => Some((ledger, head)),
                _ => None,
            },
        )
    }
}

/// Whether a fresh connection to the server `options` names answers a
/// query: the breaker's probe (`health.rs`).
pub(crate) async fn answers(options: &PgConnectOptions) -> Result<(), sqlx::Error> {
    let mut c = PgConnection::connect_with(options).await?;
    sqlx::query("SELECT 1").execute(&mut c).await?;
    c.close().await
}

type PgQuery<'a> = sqlx::query::Query<'a, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// The rows of a group as one array per column, for UNNEST.
struct RowArrays<'a> {
    positions: Vec<i64>,
    stream_ids: Vec<&'a str>,
    stream_versions: Vec<i64>,
    event_ids: Vec<Uuid>,
    event_types: Vec<&'a str>,
    schema_versions: Vec<i32>,
    payloads: Vec<&'a str>,
    metadata: Vec<&'a str>,
    prev_hashes: Vec<&'a [u8]>,
    hashes: Vec<&'a [u8]>,
}

impl<'a> RowArrays<'a> {
    /// Binds the arrays as the next ten parameters ($3 to $12 of
    /// `insert_rows!`).
    fn bind(&'a self, query: PgQuery<'a>) -> PgQuery<'a> {
        query
            .bind(&self.positions)
            .bind(&self.stream_ids)
            .bind(&self.stream_versions)
            .bind(&self.event_ids)
            .bind(&self.event_types)
            .bind(&self.schema_versions)
            .bind(&self.payloads)
            .bind(&self.metadata)
            .bind(&self.prev_hashes)
            .bind(&self.hashes)
    }

    fn new(rows: &'a [NewRow]) -> Self {
        Self {
            positions: rows.iter().map(|r| r.position as i64).collect(),
            stream_ids: rows.iter().map(|r| r.stream_id.as_str()).collect(),
            stream_versions: rows.iter().map(|r| r.stream_version as i64).collect(),
            event_ids: rows.iter().map(|r| r.event_id).collect(),
            event_types: rows.iter().map(|r| r.event_type.as_str()).collect(),
            schema_versions: rows.iter().map(|r| r.schema_version as i32).collect(),
            payloads: rows.iter().map(|r| r.payload.as_str()).collect(),
            metadata: rows.iter().map(|r| r.metadata.as_str()).collect(),
            prev_hashes: rows.iter().map(|r| &r.prev_hash.0[..]).collect(),
            hashes: rows.iter().map(|r| &r.hash.0[..]).collect(),
        }
    }
}

fn event_from_row(ledger: &LedgerId, r: &PgRow) -> Result<RecordedEvent, StoreError> {
    let position = to_u64(r.try_get(0)?)?;
    let payload: String = r.try_get(6)?;
    Ok(RecordedEvent {
        ledger_id: ledger.clone(),
        position,
        stream_id: StreamId::trusted(r.try_get::<String, _>(1)?),
        stream_version: to_u64(r.try_get(2)?)?,
        event_id: r.try_get(3)?,
        event_type: r.try_get(4)?,
        schema_version: to_u32(r.try_get(5)?)?,
        payload: Payload::trusted(payload),
        metadata: parse_metadata(r.try_get::<&str, _>(7)?)?,
        recorded_at: r.try_get(8)?,
        prev_hash: Hash::from_slice(r.try_get::<&[u8], _>(9)?)?,
        hash: Hash::from_slice(r.try_get::<&[u8], _>(10)?)?,
        seal: None,
    })
}

impl Pg {
    pub async fn vault_keys_of(
        &self,
        ledger: &str,
        holders: &[String],
    ) -> Result<Vec<VaultKey>, StoreError> {
        sqlx::query(
            "SELECT ledger_id, holder_id, master_key_id, nonce, wrapped_key, created_at \
             FROM vault_keys WHERE ledger_id = $1 AND holder_id = ANY($2) ORDER BY holder_id",
        )
        .bind(ledger)
        .bind(holders)
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
        sqlx::query(
            "SELECT version, recorded_at, commitment, nonce, ciphertext, holder_id \
             FROM vault_versions WHERE ledger_id = $1 AND holder_id = ANY($2) \
             ORDER BY holder_id, version",
        )
        .bind(ledger)
        .bind(holders)
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
        // Outside the transaction: VACUUM cannot run inside one. It removes
        // the deleted rows from the tables' pages; a role that does not own
        // the tables gets a warning and autovacuum does it later
        // (docs/people.md).
        sqlx::raw_sql("VACUUM vault_versions, vault_keys")
            .execute(&self.pool)
            .await?;
        Ok(erased)
    }
}

#[cfg(test)]
mod host_tests {
    use super::hosts;

    #[test]
    fn a_url_names_one_host_or_several() {
        let one = hosts("postgres://postgres@127.0.0.1:5432/windledger").unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!((one[0].get_host(), one[0].get_port()), ("127.0.0.1", 5432));
        let several =
            hosts("postgresql://app:secret@db1:5433,db2,10.0.0.3:6432/farms?sslmode=disable")
                .unwrap();
        let named: Vec<_> = several
            .iter()
            .map(|o| {
                (
                    o.get_host().to_owned(),
                    o.get_port(),
                    o.get_database().map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(
            named,
            [
                ("db1".to_owned(), 5433, Some("farms".to_owned())),
                ("db2".to_owned(), 5432, Some("farms".to_owned())),
                ("10.0.0.3".to_owned(), 6432, Some("farms".to_owned())),
            ]
        );
        assert!(several.iter().all(|o| o.get_username() == "app"));
        assert!(hosts("no scheme").is_err());
    }
}
