-- One row per ledger (one ledger per farm). Appends lock this row, which
-- serialises the appends of a ledger and makes positions gapless and equal
-- to commit order.
CREATE TABLE ledgers (
    ledger_id     text PRIMARY KEY,
    head_position bigint NOT NULL DEFAULT 0 CHECK (head_position >= 0),
    head_hash     bytea NOT NULL CHECK (length(head_hash) = 32),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
    -- No foreign key to ledgers: every append already checks the ledger's
    -- row (it locks it, or matches its head), and a foreign key would cost
    -- a lookup and a row lock per event on the hottest path.
    ledger_id      text NOT NULL,
    position       bigint NOT NULL CHECK (position > 0),
    stream_id      text NOT NULL,
    stream_version bigint NOT NULL CHECK (stream_version > 0),
    event_id       uuid NOT NULL,
    event_type     text NOT NULL,
    schema_version integer NOT NULL,
    -- json (not jsonb) keeps the canonical text exactly as hashed.
    payload        json NOT NULL,
    metadata       json NOT NULL,
    recorded_at    timestamptz NOT NULL,
    prev_hash      bytea NOT NULL CHECK (length(prev_hash) = 32),
    hash           bytea NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (ledger_id, position),
    UNIQUE (ledger_id, stream_id, stream_version),
    UNIQUE (ledger_id, event_id)
);

-- History is never rewritten: the database itself refuses it.
CREATE FUNCTION windledger_refuse_event_rewrite() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'windledger: events are append-only; % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER events_refuse_update_delete
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION windledger_refuse_event_rewrite();

CREATE TRIGGER events_refuse_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION windledger_refuse_event_rewrite();
