-- Seals: the server's Ed25519 signature over each commit (ARCHITECTURE.md,
-- "Seals"), made with a key the database never holds. Written in the same
-- statement or transaction as the events they cover; the ranges of valid
-- seals tile a ledger's positions.
CREATE TABLE seals (
    ledger_id      text NOT NULL,
    first_position bigint NOT NULL CHECK (first_position > 0),
    last_position  bigint NOT NULL,
    key_id         bytea NOT NULL CHECK (length(key_id) = 4),
    signature      bytea NOT NULL CHECK (length(signature) = 64),
    PRIMARY KEY (ledger_id, last_position),
    CHECK (last_position >= first_position)
);

CREATE TRIGGER seals_refuse_update_delete
    BEFORE UPDATE OR DELETE ON seals
    FOR EACH ROW EXECUTE FUNCTION windledger_refuse_event_rewrite();

CREATE TRIGGER seals_refuse_truncate
    BEFORE TRUNCATE ON seals
    FOR EACH STATEMENT EXECUTE FUNCTION windledger_refuse_event_rewrite();

-- The checkpoints the server signed, appended only: the server refuses to
-- sign a head that does not extend the last one. The note is the signed
-- text with its signature line; whoever reads it checks the signature.
CREATE TABLE signed_checkpoints (
    ledger_id   text NOT NULL,
    size        bigint NOT NULL CHECK (size >= 0),
    head_hash   bytea NOT NULL CHECK (length(head_hash) = 32),
    note        text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (ledger_id, size)
);

CREATE TRIGGER signed_checkpoints_refuse_update_delete
    BEFORE UPDATE OR DELETE ON signed_checkpoints
    FOR EACH ROW EXECUTE FUNCTION windledger_refuse_event_rewrite();

CREATE TRIGGER signed_checkpoints_refuse_truncate
    BEFORE TRUNCATE ON signed_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION windledger_refuse_event_rewrite();

-- A token, once issued, only ever gets revoked: its secret, ledger, role,
-- holder, label and dates never change, and a revoked token stays revoked
-- (at the time it was revoked). The server's role may UPDATE only
-- revoked_at (docs/deploy.md); this refuses the rest from every role.
CREATE FUNCTION windledger_token_revocation_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.token_id IS DISTINCT FROM OLD.token_id
       OR NEW.secret_hash IS DISTINCT FROM OLD.secret_hash
       OR NEW.ledger_id IS DISTINCT FROM OLD.ledger_id
       OR NEW.role IS DISTINCT FROM OLD.role
       OR NEW.holder_id IS DISTINCT FROM OLD.holder_id
       OR NEW.label IS DISTINCT FROM OLD.label
       OR NEW.created_at IS DISTINCT FROM OLD.created_at
       OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
        RAISE EXCEPTION 'windledger: a token can only be revoked; changing it is refused'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.revoked_at IS NOT NULL AND NEW.revoked_at IS DISTINCT FROM OLD.revoked_at THEN
        RAISE EXCEPTION 'windledger: a revoked token stays revoked'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER access_tokens_revocation_only
    BEFORE UPDATE ON access_tokens
    FOR EACH ROW EXECUTE FUNCTION windledger_token_revocation_only();
