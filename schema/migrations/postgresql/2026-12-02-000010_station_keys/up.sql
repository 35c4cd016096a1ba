-- Station keys (issue 16): a station signs its receipts (DSSE over an
-- in-toto Statement with a SLSA VSA predicate); an admin registers the
-- station's public key and binds it to the station's inspector token.
CREATE TABLE station_keys (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    token_id BIGINT NOT NULL REFERENCES api_tokens (id),
    spki_der BYTEA NOT NULL,
    keyid TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    retired_at BIGINT,
    retired_by TEXT,
    retired_reason TEXT
);
-- Which station key signed a receipt (NULL: an unsigned receipt), and the
-- envelope itself, kept with the evidence for auditors.
ALTER TABLE receipts ADD COLUMN station_key TEXT;
ALTER TABLE receipt_evidence ADD COLUMN envelope TEXT;
