-- Seals: the server's Ed25519 signature over each commit (ARCHITECTURE.md,
-- "Seals"), made with a key the database never holds. Written in the same
-- transaction as the events they cover; the ranges of valid seals tile a
-- ledger's positions.
CREATE TABLE seals (
    ledger_id      TEXT NOT NULL,
    first_position INTEGER NOT NULL CHECK (first_position > 0),
    last_position  INTEGER NOT NULL,
    key_id         BLOB NOT NULL CHECK (length(key_id) = 4),
    signature      BLOB NOT NULL CHECK (length(signature) = 64),
    PRIMARY KEY (ledger_id, last_position),
    CHECK (last_position >= first_position)
) STRICT;

CREATE TRIGGER seals_refuse_update
BEFORE UPDATE ON seals
BEGIN
    SELECT RAISE(ABORT, 'windledger: seals are append-only; UPDATE refused');
END;

CREATE TRIGGER seals_refuse_delete
BEFORE DELETE ON seals
BEGIN
    SELECT RAISE(ABORT, 'windledger: seals are append-only; DELETE refused');
END;

-- The checkpoints the server signed, appended only.
CREATE TABLE signed_checkpoints (
    ledger_id   TEXT NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    head_hash   BLOB NOT NULL CHECK (length(head_hash) = 32),
    note        TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    PRIMARY KEY (ledger_id, size)
) STRICT;

CREATE TRIGGER signed_checkpoints_refuse_update
BEFORE UPDATE ON signed_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'windledger: signed checkpoints are append-only; UPDATE refused');
END;

CREATE TRIGGER signed_checkpoints_refuse_delete
BEFORE DELETE ON signed_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'windledger: signed checkpoints are append-only; DELETE refused');
END;

-- A token, once issued, only ever gets revoked, and stays revoked.
CREATE TRIGGER access_tokens_revocation_only
BEFORE UPDATE ON access_tokens
WHEN NEW.token_id IS NOT OLD.token_id
  OR NEW.secret_hash IS NOT OLD.secret_hash
  OR NEW.ledger_id IS NOT OLD.ledger_id
  OR NEW.role IS NOT OLD.role
  OR NEW.holder_id IS NOT OLD.holder_id
  OR NEW.label IS NOT OLD.label
  OR NEW.created_at IS NOT OLD.created_at
  OR NEW.expires_at IS NOT OLD.expires_at
  OR (OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS NOT OLD.revoked_at)
BEGIN
    SELECT RAISE(ABORT, 'windledger: a token can only be revoked, and stays revoked');
END;
