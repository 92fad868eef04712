//! Why the application layer could not do what it was asked: the kinds a
//! front end needs to answer (the API maps them to problem+json, the pages
//! to a French sentence, the command line to a plain one).

use windledger_store::StoreError;

/// What kind of failure, for the front ends to answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The command is not well formed (beyond the input bounds, or naming
    /// another aggregate than the path's).
    Invalid,
    /// The domain's rules refuse the command.
    Refused,
    /// Another command changed the aggregate at the same moment: retry.
    VersionConflict,
    /// The database cannot be reached, or the ledger does not verify.
    Unavailable,
    /// This server only reads (`serve --read-only`): the write, or the
    /// read that records itself, belongs on the writer.
    ReadOnly,
    /// An unexpected failure: logged, and shown as such.
    Internal,
}

/// A failure with a sentence saying what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Error {
    pub kind: ErrorKind,
    pub detail: String,
    /// The domain's rule, for a refused command.
    pub rule: Option<&'static str>,
}

impl Error {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: detail.into(),
            rule: None,
        }
    }

    /// A refused command, with the domain's rule.
    pub fn refused(rule: &'static str, detail: impl Into<String>) -> Self {
        Self {
            rule: Some(rule),
            ..Self::new(ErrorKind::Refused, detail)
        }
    }

    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Invalid, detail)
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, detail)
    }

    /// An unexpected failure: the detail is logged here, and the front
    /// ends show only that it happened.
    pub fn internal(what: impl std::fmt::Display) -> Self {
        tracing::error!(error = %what, "internal error");
        Self::new(ErrorKind::Internal, what.to_string())
    }

    /// A store failure: unavailable when the database is, else internal.
    pub fn store(e: &StoreError) -> Self {
        if let StoreError::ReadOnly(why) = e {
            Self::new(ErrorKind::ReadOnly, why.clone())
        } else if e.is_retryable() {
            Self::unavailable(format!("the database is not reachable: {e}"))
        } else {
            Self::internal(e)
        }
    }
}
