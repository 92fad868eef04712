-- The identity vault (docs/people.md): the personal data of a ledger's
-- holders, beside the ledger and never in it. Nothing here is in clear but
-- ids, dates and commitments: each person's data is sealed with a key of
-- its own, stored wrapped by a master key the database never holds.
-- Erasing a person deletes their key and every version of their data in
-- one transaction, with secure_delete on (the deleted bytes are
-- overwritten), then checkpoints and truncates the write-ahead log.
-- Times are RFC 3339 UTC text.
CREATE TABLE vault_keys (
    ledger_id     TEXT NOT NULL,
    holder_id     TEXT NOT NULL,
    -- The master key that wraps this one (a hash of it, never the key).
    master_key_id TEXT NOT NULL,
    nonce         BLOB NOT NULL CHECK (length(nonce) = 24),
    wrapped_key   BLOB NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (ledger_id, holder_id)
) STRICT;

-- Every version of a person's data, oldest first. The version in force is
-- the latest whose commitment the ledger recorded (an IdentityRecorded
-- event); a version written for a command that then failed is deleted, and
-- until then is never read.
CREATE TABLE vault_versions (
    version     INTEGER PRIMARY KEY AUTOINCREMENT,
    ledger_id   TEXT NOT NULL,
    holder_id   TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    commitment  TEXT NOT NULL CHECK (length(commitment) = 64),
    nonce       BLOB NOT NULL CHECK (length(nonce) = 24),
    ciphertext  BLOB NOT NULL,
    FOREIGN KEY (ledger_id, holder_id) REFERENCES vault_keys (ledger_id, holder_id)
) STRICT;
CREATE INDEX vault_versions_by_subject ON vault_versions (ledger_id, holder_id, version);

-- Who read whose data, when and why. Ids only: it outlives an erasure.
CREATE TABLE vault_reads (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    ledger_id TEXT NOT NULL,
    holder_id TEXT NOT NULL,
    reader    TEXT NOT NULL,
    purpose   TEXT NOT NULL,
    read_at   TEXT NOT NULL
) STRICT;
CREATE INDEX vault_reads_by_subject ON vault_reads (ledger_id, holder_id, read_at);
