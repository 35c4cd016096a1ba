-- Vendor-signed SBOMs bind versions (issue 14, item 1): the SBOM and its
-- signature as received, and each image it lists with its digests.
ALTER TABLE vendors ADD COLUMN require_signed_sbom BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE vendor_sboms (
    id BIGSERIAL PRIMARY KEY,
    vendor_id TEXT NOT NULL REFERENCES vendors (id),
    serial TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    component TEXT NOT NULL,
    version TEXT NOT NULL,
    sbom BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    uploaded_at BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    UNIQUE (vendor_id, sha256)
);
CREATE TABLE sbom_bindings (
    id BIGSERIAL PRIMARY KEY,
    sbom_id BIGINT NOT NULL REFERENCES vendor_sboms (id),
    vendor_id TEXT NOT NULL,
    component TEXT NOT NULL,
    version TEXT NOT NULL,
    sha256 TEXT,
    sha384 TEXT,
    sha512 TEXT
);
CREATE INDEX sbom_bindings_sha256 ON sbom_bindings (sha256);
