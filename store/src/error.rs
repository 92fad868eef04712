use std::sync::Arc;

use uuid::Uuid;

use crate::types::{ExpectedVersion, LedgerId, StreamId};

/// Everything the store can refuse or fail at.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The stream is not at the version the caller expected: someone else
    /// appended first. Reload and retry.
    #[error("stream {stream} is at version {actual}, but {expected} was expected")]
    WrongExpectedVersion {
        stream: StreamId,
        expected: ExpectedVersion,
        actual: u64,
    },
    /// An event id is already stored with other content, or a batch mixes
    /// stored and new event ids. Event ids must be unique per ledger.
    #[error("event {event_id} {reason}")]
    EventIdConflict { event_id: Uuid, reason: String },
    #[error("ledger {0} does not exist")]
    LedgerNotFound(LedgerId),
    #[error("ledger {0} already exists here: a backup is restored into a database without it")]
    LedgerExists(LedgerId),
    #[error("invalid batch: {0}")]
    InvalidBatch(String),
    #[error("{0}")]
    InvalidId(String),
    #[error("DATABASE_URL {0:?} is neither postgres://... nor sqlite://...")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(Arc<sqlx::Error>),
    #[error("cannot apply the database migrations: {0}")]
    Migrate(Arc<sqlx::migrate::MigrateError>),
    /// The store holds something it could not have written.
    #[error("corrupt ledger: {0}")]
    Corrupt(String),
    #[error("cannot decode the event at position {position}: {reason}")]
    Decode { position: u64, reason: String },
    #[error("{0}")]
    Io(String),
    #[error("the store is shutting down")]
    ShuttingDown,
    /// The store was opened without a seal key ([`crate::StoreOptions`]'s
    /// `sealer`): it reads and verifies, but appends nothing, since an
    /// unsealed event would be taken for a forgery.
    #[error(
        "this store was opened without a seal key, so it cannot append: give it the server's signing key (StoreOptions::sealer; `--key-file` / WINDLEDGER_KEY_FILE on the command line)"
    )]
    NoSealKey,
    /// The ledger's head is behind what this writer committed: events were
    /// removed, or the head row moved back, behind the store's back.
    #[error(
        "ledger {ledger}'s head is at position {found} ({found_hash}), but this process committed up to position {committed} ({committed_hash}): history was cut behind the store's back (by the database's owner or a superuser); nothing was written. Verify the ledger before appending again"
    )]
    HeadWentBack {
        ledger: LedgerId,
        found: u64,
        found_hash: crate::types::Hash,
        committed: u64,
        committed_hash: crate::types::Hash,
    },
    /// Another head was already recorded as signed at this size: the
    /// history forked.
    #[error(
        "a checkpoint of ledger {ledger} at size {size} with another head ({recorded}) is already recorded: refusing {offered}"
    )]
    CheckpointConflict {
        ledger: LedgerId,
        size: u64,
        recorded: crate::types::Hash,
        offered: crate::types::Hash,
    },
    /// This store only reads (a read-only server, or a hot standby that
    /// refused a write: SQLSTATE 25006), or its schema is behind.
    #[error("{0}")]
    ReadOnly(String),
    /// The database does not answer (see `health`): the call was refused,
    /// or given up, at once.
    #[error("{0}")]
    Unavailable(String),
}

impl StoreError {
    /// Whether the same call may succeed if made again (after reloading the
    /// stream, for a version conflict).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::WrongExpectedVersion { .. } => true,
            Self::Database(e) => is_transient(e),
            Self::Unavailable(_) => true,
            _ => false,
        }
    }

    /// Whether the error says the connection to the database is gone (as
    /// opposed to a refused statement, or a conflict on a live connection).
    pub fn is_connection_failure(&self) -> bool {
        match self {
            Self::Database(e) => is_connection_error(e),
            Self::Unavailable(_) => true,
            _ => false,
        }
    }
}

/// The connection is gone, or the server is shutting down or starting up.
fn is_connection_error(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::Protocol(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
    ) || e
        .as_database_error()
        .and_then(|d| d.code())
        // 57P01-03 shutting down or starting up, 08xxx connection exceptions
        .is_some_and(|c| c.starts_with("57P") || c.starts_with("08"))
}

/// Errors that a new connection or a later attempt may not meet again.
pub(crate) fn is_transient(e: &sqlx::Error) -> bool {
    is_connection_error(e)
        || e.as_database_error()
            .and_then(|d| d.code())
            // 40001 serialization failure, 40P01 deadlock
            .is_some_and(|c| c == "40001" || c == "40P01")
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // 25006 read_only_sql_transaction: a hot standby, or a primary
        // demoted under us.
        if e.as_database_error().and_then(|d| d.code()).as_deref() == Some("25006") {
            return Self::ReadOnly(
                "the database only reads (a hot standby): writes go to the primary".into(),
            );
        }
        Self::Database(Arc::new(e))
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self::Migrate(Arc::new(e))
    }
}
