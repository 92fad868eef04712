//! API access tokens, kept beside the ledgers (never in them: a ledger is
//! public to its auditors, and a token is a credential). Only a SHA-256 of a
//! token's secret is stored; the shell issues, checks and revokes them.

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::store::{Backend, Store, on_backend};

/// A token as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredToken {
    /// The public part of the token, unique.
    pub token_id: String,
    /// SHA-256 of the secret part.
    pub secret_hash: [u8; 32],
    pub ledger: String,
    pub role: String,
    /// Whom the token acts for: the holder of a shareholder's token (or the
    /// municipality's holding), the resident of a resident's.
    pub holder: Option<String>,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Stores a new token (its id must be new).
    pub async fn insert_token(&self, t: &StoredToken) -> Result<(), StoreError> {
        on_backend!(self, |b| b.insert_token(t))
    }

    /// The token with this id, if any.
    pub async fn token(&self, token_id: &str) -> Result<Option<StoredToken>, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.token(token_id)) })
            .await
    }

    /// Every token of a ledger (or of every ledger), oldest first.
    pub async fn tokens(&self, ledger: Option<&str>) -> Result<Vec<StoredToken>, StoreError> {
        on_backend!(self, |b| b.tokens(ledger))
    }

    /// The ids of the tokens revoked at or after `since`: what a server
    /// trusting checked tokens polls, so that a revocation made by another
    /// process reaches it.
    pub async fn tokens_revoked_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        self.guarded(async { on_backend!(self, |b| b.tokens_revoked_since(since)) })
            .await
    }

    /// Revokes a token; false if there is none with this id or it was
    /// already revoked.
    pub async fn revoke_token(
        &self,
        token_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        on_backend!(self, |b| b.revoke_token(token_id, at))
    }
}
