//! Databases for tests: each test gets its own, and drops it afterwards.
//!
//! PostgreSQL tests read `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), create a uniquely named
//! database and drop it. Where PostgreSQL cannot be reached they skip with a
//! message, unless `WINDLEDGER_REQUIRE_POSTGRES=1`, where they fail.

use std::time::Duration;

use sqlx::{Connection, Executor};

use crate::{LedgerId, Store, StoreOptions};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// The PostgreSQL server tests use: `DATABASE_URL` when it names one.
pub fn postgres_admin_url() -> String {
    std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"))
        .unwrap_or_else(|| DEFAULT_POSTGRES_URL.to_string())
}

/// Whether PostgreSQL tests must fail rather than skip when it is missing.
pub fn postgres_required() -> bool {
    std::env::var("WINDLEDGER_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// `url` with its database name replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(i) => &base[..authority_start + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A database of its own for one test.
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    admin_url: Option<String>,
    name: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A fresh PostgreSQL database, or `None` (after saying why) where
    /// PostgreSQL is unreachable and not required.
    pub async fn postgres() -> Option<Self> {
        Self::postgres_on(postgres_admin_url()).await
    }

    /// A fresh database on the PostgreSQL server `admin_url` names (a
    /// server a test started for itself, say).
    pub async fn postgres_on(admin_url: String) -> Option<Self> {
        let name = format!("windledger_test_{}", uuid::Uuid::new_v4().simple());
        let created = async {
            let mut admin = tokio::time::timeout(
                Duration::from_secs(5),
                sqlx::PgConnection::connect(&admin_url),
            )
            .await
            .map_err(|_| "timed out connecting".to_string())?
            .map_err(|e| e.to_string())?;
            admin
                .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .await
                .map_err(|e| e.to_string())?;
            admin.close().await.map_err(|e| e.to_string())
        }
        .await;
        match created {
            Ok(()) => Some(Self {
                backend: Backend::Postgres,
                url: with_database(&admin_url, &name),
                admin_url: Some(admin_url),
                name,
                _dir: None,
            }),
            Err(e) if postgres_required() => {
                panic!(
                    "PostgreSQL is required (WINDLEDGER_REQUIRE_POSTGRES=1) but {admin_url} failed: {e}"
                )
            }
            Err(e) => {
                eprintln!(
                    "skipping: PostgreSQL at {admin_url} is not reachable ({e}); set WINDLEDGER_REQUIRE_POSTGRES=1 to fail instead"
                );
                None
            }
        }
    }

    /// A fresh SQLite file in a temporary folder.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder for the test database");
        let path = dir.path().join("ledger.sqlite");
        Self {
            backend: Backend::Sqlite,
            url: format!("sqlite://{}", path.display()),
            admin_url: None,
            name: path.display().to_string(),
            _dir: Some(dir),
        }
    }

    /// The given backend, or `None` for PostgreSQL when skipped.
    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Postgres => Self::postgres().await,
            Backend::Sqlite => Some(Self::sqlite()),
        }
    }

    /// A store on this database.
    pub async fn store(&self) -> Store {
        Store::connect(StoreOptions::new(&self.url))
            .await
            .expect("the test database accepts connections and migrations")
    }

    /// Runs one SQL statement in a session of its own, as a stray client
    /// would, bypassing the store.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, String> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.backend {
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .map_err(|e| e.to_string())?;
                let done = c.execute(sql).await.map_err(|e| e.to_string())?;
                Ok(done.rows_affected())
            }
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .map_err(|e| e.to_string())?;
                let done = c.execute(sql).await.map_err(|e| e.to_string())?;
                Ok(done.rows_affected())
            }
        }
    }

    /// Rewrites an event's payload behind the triggers' back (as a
    /// superuser would), to check that `verify` finds it.
    pub async fn tamper_payload(&self, ledger: &LedgerId, position: u64, payload: &str) {
        let (ledger, payload) = (
            ledger.as_str().replace('\'', "''"),
            payload.replace('\'', "''"),
        );
        let update = format!(
            "UPDATE events SET payload = '{payload}' WHERE ledger_id = '{ledger}' AND position = {position}"
        );
        let script = match self.backend {
            Backend::Postgres => {
                format!("BEGIN; SET LOCAL session_replication_role = replica; {update}; COMMIT;")
            }
            Backend::Sqlite => format!(
                "BEGIN; DROP TRIGGER events_refuse_update; {update}; \
                 CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events \
                 BEGIN SELECT RAISE(ABORT, 'windledger: events are append-only; UPDATE refused'); END; COMMIT;"
            ),
        };
        self.execute_raw(&script)
            .await
            .expect("tampering as superuser");
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(admin_url) = self.admin_url.take() else {
            return;
        };
        let name = self.name.clone();
        // Drop may run inside a runtime: do the async work on a thread of its own.
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.ok()?;
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await
                    .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("warning: could not drop test database {}", self.name);
        }
    }
}
