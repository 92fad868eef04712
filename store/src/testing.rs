//! Databases for tests: each test gets its own, and drops it afterwards.
//!
//! PostgreSQL tests read `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), create a uniquely named
//! database and drop it. Where PostgreSQL cannot be reached they skip with a
//! message, unless `WINDLEDGER_REQUIRE_POSTGRES=1`, where they fail.

pub mod cluster;

use std::time::Duration;

use sqlx::{Connection, Executor};

use crate::chain::timestamp;
use crate::types::{Payload, RecordedEvent};
use crate::{
    CheckpointSigner, CheckpointVerifier, Hash, Head, LedgerId, Metadata, Sealer, Store,
    StoreOptions, StreamId,
};

/// Runs each listed `async fn(TestDatabase)` of the calling test file on
/// PostgreSQL (skipped, or failed with `WINDLEDGER_REQUIRE_POSTGRES=1`, when
/// the server cannot be reached) and on SQLite, each in a multi-threaded
/// runtime of `worker_threads` threads (2 unless given first, as
/// `worker_threads = 4;`). The caller depends on `tokio`.
#[macro_export]
macro_rules! on_both_backends {
    (worker_threads = $threads:literal; $($test:ident),* $(,)?) => {
        mod postgres {
            use $crate::testing::{Backend, TestDatabase};
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn $test() {
                    let Some(db) = TestDatabase::new(Backend::Postgres).await else { return };
                    super::$test(db).await;
                }
            )*
        }
        mod sqlite {
            use $crate::testing::{Backend, TestDatabase};
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = $threads)]
                async fn $test() {
                    let db = TestDatabase::new(Backend::Sqlite)
                        .await
                        .expect("SQLite is always available");
                    super::$test(db).await;
                }
            )*
        }
    };
    ($($test:ident),* $(,)?) => {
        $crate::on_both_backends!(worker_threads = 2; $($test),*);
    };
}

/// A fresh signing key for a test (checkpoints and seals), named `name`.
pub fn test_signer(name: &str) -> CheckpointSigner {
    CheckpointSigner::generate(name).expect("randomness for a test key")
}

/// The public key of `store`'s own seal key (none for a store without
/// one): what its seals verify with.
pub fn keys_of(store: &Store) -> Vec<CheckpointVerifier> {
    store.seal_verifier().cloned().into_iter().collect()
}

/// A fresh seal key for a test.
pub fn test_sealer() -> Sealer {
    Sealer::new(&test_signer("windledger-test"))
}

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
    /// The test's signing key: [`TestDatabase::store`] seals with it.
    pub signer: std::sync::Arc<CheckpointSigner>,
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
        Self::postgres_named(admin_url, name).await
    }

    async fn postgres_named(admin_url: String, name: String) -> Option<Self> {
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
                signer: std::sync::Arc::new(test_signer("windledger-test")),
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
        Self::sqlite_in(&dir.path().join("ledger.sqlite"), Some(dir))
    }

    /// A SQLite file at `path`; its folder removed with `dir`, if given.
    fn sqlite_in(path: &std::path::Path, dir: Option<tempfile::TempDir>) -> Self {
        Self {
            backend: Backend::Sqlite,
            url: format!("sqlite://{}", path.display()),
            admin_url: None,
            signer: std::sync::Arc::new(test_signer("windledger-test")),
            name: path.display().to_string(),
            _dir: dir,
        }
    }

    /// A SQLite file for a [`Template`], in a folder named after this
    /// process, kept when the process ends (the next template drops it).
    fn sqlite_template() -> Self {
        let temp = std::env::temp_dir();
        if let Ok(entries) = std::fs::read_dir(&temp) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                let ended = name.to_str().is_some_and(|n| {
                    n.starts_with(SQLITE_TEMPLATE_PREFIX)
                        && !process_of(n, SQLITE_TEMPLATE_PREFIX, '-')
                            .is_some_and(process_is_running)
                });
                if ended {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let dir = tempfile::Builder::new()
            .prefix(&format!("{SQLITE_TEMPLATE_PREFIX}{}-", std::process::id()))
            .tempdir()
            .expect("a temporary folder for the template")
            .keep();
        Self::sqlite_in(&dir.join("ledger.sqlite"), None)
    }

    /// The given backend, or `None` for PostgreSQL when skipped.
    pub async fn new(backend: Backend) -> Option<Self> {
        match backend {
            Backend::Postgres => Self::postgres().await,
            Backend::Sqlite => Some(Self::sqlite()),
        }
    }

    /// A store on this database, sealing with the test's key (every store
    /// of this `TestDatabase` has the same).
    pub async fn store(&self) -> Store {
        self.store_with(Some(self.sealer())).await
    }

    /// A store on this database with the given seal key, or none (it reads
    /// and verifies, and refuses appends).
    pub async fn store_with(&self, sealer: Option<Sealer>) -> Store {
        let mut options = StoreOptions::new(&self.url);
        options.sealer = sealer;
        Store::connect(options)
            .await
            .expect("the test database accepts connections and migrations")
    }

    /// The test's seal key.
    pub fn sealer(&self) -> Sealer {
        Sealer::new(&self.signer)
    }

    /// A copy of the test's signing key, for a server's checkpoints (so
    /// that they and the store's seals share one key, as in production).
    pub fn checkpoint_signer(&self) -> CheckpointSigner {
        CheckpointSigner::from_secret_key(&self.signer.to_secret_key())
            .expect("a key read back as written")
    }

    /// The public keys that check this test's seals: what
    /// [`Store::verify`] and [`crate::verify_jsonl`] trust.
    pub fn keys(&self) -> Vec<CheckpointVerifier> {
        vec![self.signer.verifier()]
    }

    /// Makes this database, new and unopened, a copy of `template` (its
    /// ledgers, tables and seal key): milliseconds where preparing the
    /// template took seconds.
    pub async fn copy_from(&mut self, template: &Template) {
        let mut admin = self.admin_session().await;
        self.copy_with(template, admin.as_mut()).await;
        if let Some(admin) = admin {
            let _ = admin.close().await;
        }
    }

    /// A session on this database's PostgreSQL server (`None` on SQLite).
    async fn admin_session(&self) -> Option<sqlx::PgConnection> {
        let admin_url = self.admin_url.as_ref()?;
        let session = sqlx::PgConnection::connect(admin_url).await;
        Some(session.expect("the PostgreSQL server of the test database"))
    }

    /// [`TestDatabase::copy_from`] through `admin`, a session on this
    /// database's PostgreSQL server (`None` on SQLite).
    async fn copy_with(&mut self, template: &Template, admin: Option<&mut sqlx::PgConnection>) {
        let source = &template.db;
        assert_eq!(
            self.backend, source.backend,
            "a template of another backend"
        );
        match self.backend {
            Backend::Postgres => {
                assert_eq!(
                    self.admin_url, source.admin_url,
                    "a template on another server"
                );
                let admin = admin.expect("a session on the test database's server");
                admin
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                        self.name
                    )))
                    .await
                    .expect("the new test database drops");
                // The sessions of the store that prepared the template end
                // as its runtime shuts down, perhaps not yet; copies of one
                // template made at the same time wait for each other.
                let _ = sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                )
                .bind(&source.name)
                .execute(&mut *admin)
                .await;
                let mut tries = 0;
                loop {
                    let copied = admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "CREATE DATABASE {} TEMPLATE {}",
                            self.name, source.name
                        )))
                        .await;
                    match copied {
                        Ok(_) => break,
                        Err(e) => {
                            tries += 1;
                            assert!(tries < 100, "cannot copy the template {}: {e}", source.name);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            }
            Backend::Sqlite => {
                let to = std::path::Path::new(&self.name);
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(with_suffix(to, suffix));
                }
                let from = template
                    .snapshot
                    .as_ref()
                    .expect("a SQLite template's snapshot");
                std::fs::copy(from, to).expect("the template's snapshot copies");
            }
        }
        self.signer = source.signer.clone();
    }

    /// Runs one SQL statement in a session of its own, as a stray client
    /// would, bypassing the store.
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, String> {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.backend {
            Backend::Postgres => execute_in_session::<sqlx::PgConnection>(&self.url, sql)
                .await
                .map(|done| done.rows_affected()),
            Backend::Sqlite => execute_in_session::<sqlx::SqliteConnection>(&self.url, sql)
                .await
                .map(|done| done.rows_affected()),
        }
        .map_err(|e| e.to_string())
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

/// Runs one SQL statement in a new session of the database at `url`.
async fn execute_in_session<C>(
    url: &str,
    sql: sqlx::AssertSqlSafe<String>,
) -> Result<<C::Database as sqlx::Database>::QueryResult, sqlx::Error>
where
    C: Connection,
    for<'c> &'c mut C: Executor<'c, Database = C::Database>,
{
    let mut c = C::connect(url).await?;
    c.execute(sql).await
}

impl TestDatabase {
    /// Appends a forged event to `stream` as anyone with this database's
    /// credentials could: well chained (its hash computed with the store's
    /// own chain code) and the head moved, but with no seal. Returns the new
    /// head.
    pub async fn forge_event(&self, ledger: &LedgerId, stream: &str, n: u64) -> Head {
        forge_event_at(self.backend, &self.url, ledger, stream, n)
            .await
            .expect("forging an event with database credentials")
    }

    /// Cuts a ledger's history back to `size` events behind the triggers'
    /// back, as the database's owner or a superuser could: events and seals
    /// after it removed, the head row moved back.
    pub async fn cut_history(&self, ledger: &LedgerId, size: u64) {
        let l = ledger.as_str().replace('\'', "''");
        let cut = format!(
            "DELETE FROM events WHERE ledger_id = '{l}' AND position > {size}; \
             DELETE FROM seals WHERE ledger_id = '{l}' AND last_position > {size}; \
             UPDATE ledgers SET head_position = {size}, head_hash = \
                 (SELECT hash FROM events WHERE ledger_id = '{l}' AND position = {size}) \
             WHERE ledger_id = '{l}';"
        );
        let script = match self.backend {
            Backend::Postgres => {
                format!("BEGIN; SET LOCAL session_replication_role = replica; {cut} COMMIT;")
            }
            Backend::Sqlite => format!(
                "BEGIN; DROP TRIGGER events_refuse_delete; DROP TRIGGER seals_refuse_delete; {cut} \
                 CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events \
                 BEGIN SELECT RAISE(ABORT, 'windledger: events are append-only; DELETE refused'); END; \
                 CREATE TRIGGER seals_refuse_delete BEFORE DELETE ON seals \
                 BEGIN SELECT RAISE(ABORT, 'windledger: seals are append-only; DELETE refused'); END; \
                 COMMIT;"
            ),
        };
        self.execute_raw(&script)
            .await
            .expect("cutting history as superuser");
    }
}

/// [`TestDatabase::forge_event`] on the database `url` names (connecting
/// as whichever role it names).
pub async fn forge_event_at(
    backend: Backend,
    url: &str,
    ledger: &LedgerId,
    stream: &str,
    n: u64,
) -> Result<Head, String> {
    let reader = Store::connect(StoreOptions::new(url))
        .await
        .map_err(|e| e.to_string())?;
    let head = reader.head(ledger).await.map_err(|e| e.to_string())?;
    let stream_id = StreamId::parse(stream).map_err(|e| e.to_string())?;
    let version = reader
        .read_stream_to_end(ledger, &stream_id)
        .await
        .map_err(|e| e.to_string())?
        .last()
        .map_or(0, |e| e.stream_version);
    let payload = format!(r#"{{"forged":{n}}}"#);
    let mut event = RecordedEvent {
        ledger_id: ledger.clone(),
        position: head.size + 1,
        stream_id,
        stream_version: version + 1,
        event_id: uuid::Uuid::new_v4(),
        event_type: "Forged".into(),
        schema_version: 1,
        payload: Payload::trusted(payload.clone()),
        metadata: Metadata::default(),
        recorded_at: timestamp::now(),
        prev_hash: head.hash,
        hash: Hash::GENESIS,
        seal: None,
    };
    event.hash = crate::recompute_hash(&event).map_err(|e| e.to_string())?;
    let bytes = |h: &Hash| match backend {
        Backend::Postgres => format!("'\\x{}'::bytea", h.to_hex()),
        Backend::Sqlite => format!("X'{}'", h.to_hex()),
    };
    let l = ledger.as_str().replace('\'', "''");
    let script = format!(
        "BEGIN; \
         INSERT INTO events (ledger_id, position, stream_id, stream_version, event_id, event_type, \
             schema_version, payload, metadata, recorded_at, prev_hash, hash) \
         VALUES ('{l}', {}, '{}', {}, '{}', 'Forged', 1, '{payload}', '{{}}', '{}', {}, {}); \
         UPDATE ledgers SET head_position = {}, head_hash = {} WHERE ledger_id = '{l}'; \
         COMMIT;",
        event.position,
        stream.replace('\'', "''"),
        event.stream_version,
        event.event_id,
        timestamp::format(&event.recorded_at),
        bytes(&event.prev_hash),
        bytes(&event.hash),
        event.position,
        bytes(&event.hash),
    );
    let sql = sqlx::AssertSqlSafe(script);
    match backend {
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url)
                .await
                .map_err(|e| e.to_string())?;
            c.execute(sql).await.map_err(|e| e.to_string())?;
        }
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url)
                .await
                .map_err(|e| e.to_string())?;
            c.execute(sql).await.map_err(|e| e.to_string())?;
        }
    }
    Ok(Head {
        size: event.position,
        hash: event.hash,
    })
}

/// A transaction of another session that holds the ledger's write lock:
/// every append on the ledger waits until [`WritesHeld::release`] (SQLite:
/// up to its busy timeout of 10 s). Reads go on.
pub enum WritesHeld {
    Postgres(sqlx::PgConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl WritesHeld {
    /// Ends the transaction: the waiting appends go ahead.
    pub async fn release(self) {
        match self {
            Self::Postgres(mut c) => {
                c.execute("ROLLBACK").await.expect("the transaction ends");
            }
            Self::Sqlite(mut c) => {
                c.execute("ROLLBACK").await.expect("the transaction ends");
            }
        }
    }
}

impl TestDatabase {
    /// Where `needle` can still be read in the database: SQLite, the bytes
    /// of every file of the database (the main file, its write-ahead log
    /// and shared memory); PostgreSQL, every row of every table of the
    /// schema as text (`SELECT t::text FROM table t`), where bytes show as
    /// hex. Names the places it was found: empty when nowhere.
    pub async fn places_holding(&self, needle: &[u8]) -> Vec<String> {
        let mut found = Vec::new();
        match self.backend {
            Backend::Sqlite => {
                for suffix in ["", "-wal", "-shm", "-journal"] {
                    let path = format!("{}{suffix}", self.name);
                    let Ok(bytes) = std::fs::read(&path) else {
                        continue;
                    };
                    if bytes.windows(needle.len()).any(|w| w == needle) {
                        found.push(path);
                    }
                }
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("the test database accepts connections");
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
                )
                .fetch_all(&mut c)
                .await
                .expect("the tables are listed");
                let text = String::from_utf8_lossy(needle).into_owned();
                let hex: String = needle.iter().map(|b| format!("{b:02x}")).collect();
                for table in tables {
                    let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                        "SELECT t::text FROM \"{table}\" t"
                    )))
                    .fetch_all(&mut c)
                    .await
                    .expect("a table reads as text");
                    if rows.iter().any(|r| r.contains(&text) || r.contains(&hex)) {
                        found.push(table);
                    }
                }
            }
        }
        found
    }

    /// Takes the write lock of `ledger` in a session of its own, as a
    /// slow writer elsewhere would (PostgreSQL: the ledger's row; SQLite:
    /// the database's write lock), so that a test can hold appends back.
    pub async fn hold_writes(&self, ledger: &LedgerId) -> WritesHeld {
        match self.backend {
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url)
                    .await
                    .expect("a session");
                c.execute(sqlx::AssertSqlSafe(format!(
                    "BEGIN; SELECT 1 FROM ledgers WHERE ledger_id = '{}' FOR UPDATE",
                    ledger.as_str().replace('\'', "''")
                )))
                .await
                .expect("the ledger's row is locked");
                WritesHeld::Postgres(c)
            }
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url)
                    .await
                    .expect("a session");
                c.execute("BEGIN IMMEDIATE")
                    .await
                    .expect("the write lock is taken");
                WritesHeld::Sqlite(c)
            }
        }
    }
}

fn with_suffix(path: &std::path::Path, suffix: &str) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    name.into()
}

/// A database prepared once in a test process and copied for each test
/// that starts from it ([`TestDatabase::copy_from`]). It lives as long as
/// the process; the next template made on the same machine drops those of
/// processes that have ended.
pub struct Template {
    db: TestDatabase,
    /// SQLite: a copy of the template's file made by `VACUUM INTO` while it
    /// was open (whole, without a write-ahead log), which nothing opens.
    snapshot: Option<std::path::PathBuf>,
}

const TEMPLATE_PREFIX: &str = "windledger_template_";
const SQLITE_TEMPLATE_PREFIX: &str = "windledger-template-";

impl Template {
    /// A template on `backend` (PostgreSQL: on the server `admin_url`
    /// names), filled by `prepare` through a store sealing with the
    /// template's key. `prepare` runs on a runtime of its own, on a thread
    /// of its own, shut down before this returns: no session of the
    /// template remains open for a copy to wait on. `None` where PostgreSQL
    /// is skipped.
    pub async fn prepare<F, Fut>(backend: Backend, admin_url: String, prepare: F) -> Option<Self>
    where
        F: FnOnce(Store) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime for the template");
            let db = runtime.block_on(async {
                let db = match backend {
                    Backend::Postgres => {
                        drop_ended_templates(&admin_url).await;
                        let name = format!(
                            "{TEMPLATE_PREFIX}{}_{}",
                            std::process::id(),
                            uuid::Uuid::new_v4().simple()
                        );
                        TestDatabase::postgres_named(admin_url, name).await?
                    }
                    Backend::Sqlite => TestDatabase::sqlite_template(),
                };
                prepare(db.store().await).await;
                let snapshot = match backend {
                    Backend::Postgres => None,
                    Backend::Sqlite => {
                        let path = with_suffix(std::path::Path::new(&db.name), ".template");
                        db.execute_raw(&format!("VACUUM INTO '{}'", path.display()))
                            .await
                            .expect("the template's snapshot");
                        Some(path)
                    }
                };
                Some(Self { db, snapshot })
            });
            drop(runtime);
            let _ = tx.send(db);
        });
        rx.await.expect("the template was prepared")
    }
}

/// The templates this process prepared, by name, backend and server (a
/// PostgreSQL cluster's system identifier: a cluster a test started and
/// removed never matches another on the same port).
type Prepared = Vec<(
    (&'static str, Backend, Option<i64>),
    std::sync::Arc<Template>,
)>;
static PREPARED: tokio::sync::Mutex<Prepared> = tokio::sync::Mutex::const_new(Vec::new());

impl TestDatabase {
    /// Makes this database, new and unopened, a copy of the template
    /// `name`, which `prepare` fills the first time this process asks for
    /// it on this backend and server (later asks wait for it, then copy).
    pub async fn copy_prepared<F, Fut>(&mut self, name: &'static str, prepare: F)
    where
        F: FnOnce(Store) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()>,
    {
        // One session on the server, for its identifier and the copy.
        let mut admin = self.admin_session().await;
        let server = match admin.as_mut() {
            Some(admin) => Some(
                sqlx::query_scalar::<_, i64>("SELECT system_identifier FROM pg_control_system()")
                    .fetch_one(admin)
                    .await
                    .expect("the server's identifier"),
            ),
            None => None,
        };
        let key = (name, self.backend, server);
        let template = {
            let mut prepared = PREPARED.lock().await;
            match prepared.iter().find(|(k, _)| *k == key) {
                Some((_, template)) => template.clone(),
                None => {
                    let admin_url = self.admin_url.clone().unwrap_or_default();
                    let template = Template::prepare(self.backend, admin_url, prepare)
                        .await
                        .expect("the template's server is this database's");
                    let template = std::sync::Arc::new(template);
                    prepared.push((key, template.clone()));
                    template
                }
            }
        };
        self.copy_with(&template, admin.as_mut()).await;
        if let Some(admin) = admin {
            let _ = admin.close().await;
        }
    }
}

/// Drops the templates on `admin_url` of test processes that have ended
/// (a template is named after its process).
async fn drop_ended_templates(admin_url: &str) {
    let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await else {
        return;
    };
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT datname FROM pg_database WHERE starts_with(datname, 'windledger_template_')",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap_or_default();
    for name in names {
        if !process_of(&name, TEMPLATE_PREFIX, '_').is_some_and(process_is_running) {
            let _ = admin
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }
    let _ = admin.close().await;
}

/// The process id a template's name starts with, after `prefix`.
fn process_of(name: &str, prefix: &str, separator: char) -> Option<u32> {
    name.strip_prefix(prefix)?
        .split(separator)
        .next()?
        .parse()
        .ok()
}

fn process_is_running(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
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
