//! API access tokens, kept beside the ledgers (never in them: a ledger is
//! public to its auditors, and a token is a credential). Only a SHA-256 of a
//! token's secret is stored; the shell issues, checks and revokes them.

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::error::StoreError;
use crate::store::{Backend, Store};

/// A token as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    /// The public part of the token, unique.
    pub token_id: String,
    /// SHA-256 of the secret part.
    pub secret_hash: [u8; 32],
    pub ledger: String,
    pub role: String,
    /// The holder a shareholder's token acts for.
    pub holder: Option<String>,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The columns, in the order `from_row` reads them (a macro: sqlx takes
/// only static SQL).
macro_rules! columns {
    () => {
        "token_id, secret_hash, ledger_id, role, holder_id, label, created_at, expires_at, revoked_at"
    };
}

fn from_row<R>(r: &R) -> Result<StoredToken, StoreError>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Vec<u8>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> DateTime<Utc>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<DateTime<Utc>>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    let hash: Vec<u8> = r.try_get(1)?;
    let secret_hash = hash
        .try_into()
        .map_err(|_| StoreError::Corrupt("a token's secret hash is not 32 bytes".into()))?;
    Ok(StoredToken {
        token_id: r.try_get(0)?,
        secret_hash,
        ledger: r.try_get(2)?,
        role: r.try_get(3)?,
        holder: r.try_get(4)?,
        label: r.try_get(5)?,
        created_at: r.try_get(6)?,
        expires_at: r.try_get(7)?,
        revoked_at: r.try_get(8)?,
    })
}

impl Store {
    /// Stores a new token (its id must be new).
    pub async fn insert_token(&self, t: &StoredToken) -> Result<(), StoreError> {
        match self.backend() {
            Backend::Postgres(b) => {
                sqlx::query(concat!(
                    "INSERT INTO access_tokens (",
                    columns!(),
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
                .execute(&b.pool)
                .await?;
            }
            Backend::Sqlite(b) => {
                sqlx::query(concat!(
                    "INSERT INTO access_tokens (",
                    columns!(),
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
                .execute(&b.pool)
                .await?;
            }
        }
        Ok(())
    }

    /// The token with this id, if any.
    pub async fn token(&self, token_id: &str) -> Result<Option<StoredToken>, StoreError> {
        self.guarded(self.token_now(token_id)).await
    }

    async fn token_now(&self, token_id: &str) -> Result<Option<StoredToken>, StoreError> {
        match self.backend() {
            Backend::Postgres(b) => sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM access_tokens WHERE token_id = $1"
            ))
            .bind(token_id)
            .fetch_optional(&b.pool)
            .await?
            .as_ref()
            .map(from_row)
            .transpose(),
            Backend::Sqlite(b) => sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM access_tokens WHERE token_id = ?1"
            ))
            .bind(token_id)
            .fetch_optional(&b.pool)
            .await?
            .as_ref()
            .map(from_row)
            .transpose(),
        }
    }

    /// Every token of a ledger (or of every ledger), oldest first.
    pub async fn tokens(&self, ledger: Option<&str>) -> Result<Vec<StoredToken>, StoreError> {
        match self.backend() {
            Backend::Postgres(b) => sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM access_tokens WHERE ledger_id = COALESCE($1, ledger_id) ORDER BY created_at, token_id"
            ))
            .bind(ledger)
            .fetch_all(&b.pool)
            .await?
            .iter()
            .map(from_row)
            .collect(),
            Backend::Sqlite(b) => sqlx::query(concat!(
                "SELECT ",
                columns!(),
                " FROM access_tokens WHERE ledger_id = COALESCE(?1, ledger_id) ORDER BY created_at, token_id"
            ))
            .bind(ledger)
            .fetch_all(&b.pool)
            .await?
            .iter()
            .map(from_row)
            .collect(),
        }
    }

    /// The ids of the tokens revoked at or after `since`: what a server
    /// trusting checked tokens polls, so that a revocation made by another
    /// process reaches it.
    pub async fn tokens_revoked_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        self.guarded(async {
            Ok(match self.backend() {
                Backend::Postgres(b) => {
                    sqlx::query_scalar("SELECT token_id FROM access_tokens WHERE revoked_at >= $1")
                        .bind(since)
                        .fetch_all(&b.pool)
                        .await?
                }
                Backend::Sqlite(b) => {
                    sqlx::query_scalar("SELECT token_id FROM access_tokens WHERE revoked_at >= ?1")
                        .bind(since)
                        .fetch_all(&b.pool)
                        .await?
                }
            })
        })
        .await
    }

    /// Revokes a token; false if there is none with this id or it was
    /// already revoked.
    pub async fn revoke_token(
        &self,
        token_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = match self.backend() {
            Backend::Postgres(b) => sqlx::query(
                "UPDATE access_tokens SET revoked_at = $2 WHERE token_id = $1 AND revoked_at IS NULL",
            )
            .bind(token_id)
            .bind(at)
            .execute(&b.pool)
            .await?
            .rows_affected(),
            Backend::Sqlite(b) => sqlx::query(
                "UPDATE access_tokens SET revoked_at = ?2 WHERE token_id = ?1 AND revoked_at IS NULL",
            )
            .bind(token_id)
            .bind(at)
            .execute(&b.pool)
            .await?
            .rows_affected(),
        };
        Ok(done == 1)
    }
}
