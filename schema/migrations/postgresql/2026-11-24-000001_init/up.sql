CREATE TABLE vendors (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    contract_ref TEXT NOT NULL DEFAULT '',
    contract_expires BIGINT,
    security_contact TEXT NOT NULL DEFAULT '',
    digests TEXT NOT NULL,
    min_rsa_bits INTEGER NOT NULL,
    require_timestamp BOOLEAN NOT NULL DEFAULT FALSE,
    row_version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE certificates (
    id BIGSERIAL PRIMARY KEY,
    vendor_id TEXT NOT NULL REFERENCES vendors(id),
    role TEXT NOT NULL,
    der BYTEA NOT NULL,
    sha256 TEXT NOT NULL,
    subject TEXT NOT NULL,
    issuer TEXT NOT NULL,
    serial TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    key_algorithm TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (vendor_id, sha256)
);
CREATE INDEX certificates_not_after ON certificates (not_after);
CREATE TABLE components (
    name TEXT PRIMARY KEY NOT NULL,
    vendor_id TEXT NOT NULL REFERENCES vendors(id),
    min_version TEXT,
    row_version INTEGER NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);
CREATE INDEX components_vendor ON components (vendor_id);
CREATE TABLE tsa_anchors (
    id BIGSERIAL PRIMARY KEY,
    der BYTEA NOT NULL,
    sha256 TEXT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    not_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE revocations (
    id BIGSERIAL PRIMARY KEY,
    certificate_der BYTEA,
    issuer_der BYTEA,
    serial TEXT,
    subject TEXT NOT NULL,
    reason TEXT NOT NULL,
    invalidity_date BIGINT,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE receipts (
    id BIGSERIAL PRIMARY KEY,
    received_at BIGINT NOT NULL,
    station TEXT NOT NULL,
    lot TEXT NOT NULL,
    vendor TEXT NOT NULL,
    component TEXT NOT NULL,
    version TEXT NOT NULL,
    verdict TEXT NOT NULL,
    blob_sha256 TEXT NOT NULL,
    blob_size BIGINT NOT NULL,
    bundle_serial BIGINT NOT NULL,
    report TEXT NOT NULL,
    recorded_by TEXT NOT NULL
);
CREATE INDEX receipts_filter ON receipts (vendor, component, verdict, received_at);
CREATE INDEX receipts_lot ON receipts (lot);
CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE registry_state (
    key TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
);
INSERT INTO registry_state (key, value) VALUES ('bundle_serial', 1);
