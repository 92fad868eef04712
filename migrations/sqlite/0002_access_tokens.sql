-- API access tokens. Only a SHA-256 of each secret is kept: the secret is
-- shown once, when the token is issued. A token belongs to one ledger.
-- Times are RFC 3339 UTC text.
CREATE TABLE access_tokens (
    token_id    TEXT PRIMARY KEY,
    secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),
    ledger_id   TEXT NOT NULL,
    role        TEXT NOT NULL,
    holder_id   TEXT,
    label       TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    expires_at  TEXT,
    revoked_at  TEXT
) STRICT;
CREATE INDEX access_tokens_by_ledger ON access_tokens (ledger_id);
