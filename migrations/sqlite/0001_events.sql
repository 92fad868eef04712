-- One row per ledger (one ledger per farm). Appends run in BEGIN IMMEDIATE
-- transactions, which serialise them and make positions gapless and equal to
-- commit order.
CREATE TABLE ledgers (
    ledger_id     TEXT PRIMARY KEY,
    head_position INTEGER NOT NULL DEFAULT 0 CHECK (head_position >= 0),
    head_hash     BLOB NOT NULL CHECK (length(head_hash) = 32),
    created_at    TEXT NOT NULL
) STRICT;

CREATE TABLE events (
    -- No foreign key to ledgers: every append already checks the ledger's
    -- row (as on PostgreSQL, where a foreign key is a cost on the hot path).
    ledger_id      TEXT NOT NULL,
    position       INTEGER NOT NULL CHECK (position > 0),
    stream_id      TEXT NOT NULL,
    stream_version INTEGER NOT NULL CHECK (stream_version > 0),
    event_id       TEXT NOT NULL,
    event_type     TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT NOT NULL CHECK (json_valid(payload)),
    metadata       TEXT NOT NULL CHECK (json_valid(metadata)),
    -- RFC 3339, UTC, six fractional digits: exactly as hashed.
    recorded_at    TEXT NOT NULL,
    prev_hash      BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash           BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (ledger_id, position),
    UNIQUE (ledger_id, stream_id, stream_version),
    UNIQUE (ledger_id, event_id)
) STRICT;

-- History is never rewritten: the database itself refuses it. (SQLite has no
-- TRUNCATE; a DELETE without WHERE fires the delete trigger too.)
CREATE TRIGGER events_refuse_update
BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'windledger: events are append-only; UPDATE refused');
END;

CREATE TRIGGER events_refuse_delete
BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'windledger: events are append-only; DELETE refused');
END;
