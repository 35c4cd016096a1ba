-- Receipts carry evidence and the registry's own verdict (issue 16). The
-- station's report stays (bounded), next to the signature material, the
-- blob's digests, and what the registry concluded when it re-verified the
-- evidence with the inspector core. Rows recorded before this migration
-- have no evidence: they are 'unverified' and never reach an allowlist
-- (stations re-record them; docs/evidence.md).
ALTER TABLE receipts ADD COLUMN uid TEXT NOT NULL DEFAULT '';
ALTER TABLE receipts ADD COLUMN summary TEXT NOT NULL DEFAULT '';
ALTER TABLE receipts ADD COLUMN blob_sha384 TEXT;
ALTER TABLE receipts ADD COLUMN blob_sha512 TEXT;
ALTER TABLE receipts ADD COLUMN registry_verdict TEXT NOT NULL DEFAULT 'unverified';
ALTER TABLE receipts ADD COLUMN registry_summary TEXT NOT NULL DEFAULT 'recorded before the registry re-verified receipts: no evidence';
ALTER TABLE receipts ADD COLUMN verified_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE receipts ADD COLUMN verified_serial BIGINT NOT NULL DEFAULT 0;
ALTER TABLE receipts ADD COLUMN ever_accepted BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE receipts ADD COLUMN disagreement BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE receipts ADD COLUMN reevaluated_at BIGINT;
CREATE UNIQUE INDEX receipts_uid ON receipts (uid) WHERE uid <> '';
CREATE INDEX receipts_registry ON receipts (registry_verdict, component);
CREATE INDEX receipts_disagreement ON receipts (disagreement);

-- The evidence itself, apart from the row lists read (a signature can be
-- up to 1 MiB; lists and the dashboard never load it).
CREATE TABLE receipt_evidence (
    receipt_id BIGINT PRIMARY KEY REFERENCES receipts (id),
    signature BYTEA NOT NULL,
    registry_report TEXT NOT NULL
);

-- The certificates of each registry-accepted receipt's path (signer first):
-- a revocation finds the receipts it touches here, and the registry
-- re-verifies exactly those.
CREATE TABLE receipt_certs (
    receipt_id BIGINT NOT NULL REFERENCES receipts (id),
    position INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    issuer TEXT NOT NULL,
    serial TEXT NOT NULL,
    PRIMARY KEY (receipt_id, position)
);
CREATE INDEX receipt_certs_sha256 ON receipt_certs (sha256);
CREATE INDEX receipt_certs_issuer_serial ON receipt_certs (issuer, serial);
UPDATE receipts SET summary = COALESCE(report::jsonb ->> 'summary', '');
