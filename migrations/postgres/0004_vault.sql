-- The identity vault (docs/people.md): the personal data of a ledger's
-- holders, beside the ledger and never in it. Nothing here is in clear but
-- ids, dates and commitments: each person's data is sealed with a key of
-- its own, stored wrapped by a master key the database never holds.
-- Erasing a person deletes their key and every version of their data in
-- one transaction, then vacuums these tables.
CREATE TABLE vault_keys (
    ledger_id     text NOT NULL,
    holder_id     text NOT NULL,
    -- The master key that wraps this one (a hash of it, never the key).
    master_key_id text NOT NULL,
    nonce         bytea NOT NULL CHECK (length(nonce) = 24),
    wrapped_key   bytea NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (ledger_id, holder_id)
);

-- Every version of a person's data, oldest first. The version in force is
-- the latest whose commitment the ledger recorded (an IdentityRecorded
-- event); a version written for a command that then failed is deleted, and
-- until then is never read.
CREATE TABLE vault_versions (
    version     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ledger_id   text NOT NULL,
    holder_id   text NOT NULL,
    recorded_at timestamptz NOT NULL,
    commitment  text NOT NULL CHECK (length(commitment) = 64),
    nonce       bytea NOT NULL CHECK (length(nonce) = 24),
    ciphertext  bytea NOT NULL,
    FOREIGN KEY (ledger_id, holder_id) REFERENCES vault_keys (ledger_id, holder_id)
);
CREATE INDEX vault_versions_by_subject ON vault_versions (ledger_id, holder_id, version);

-- Who read whose data, when and why. Ids only: it outlives an erasure.
CREATE TABLE vault_reads (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ledger_id text NOT NULL,
    holder_id text NOT NULL,
    reader    text NOT NULL,
    purpose   text NOT NULL,
    read_at   timestamptz NOT NULL
);
CREATE INDEX vault_reads_by_subject ON vault_reads (ledger_id, holder_id, read_at);
