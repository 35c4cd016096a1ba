-- Revoked Sigstore signers (issue 11): a keyless identity (issuer and
-- exact SAN) or a vendor key (SPKI SHA-256), for all time or from an
-- instant; carried in the trust bundle.
CREATE TABLE sigstore_revocations (
    id BIGSERIAL PRIMARY KEY,
    vendor_id TEXT NOT NULL REFERENCES vendors (id),
    issuer TEXT,
    san TEXT,
    key_spki_sha256 TEXT,
    reason TEXT NOT NULL,
    revoked_from BIGINT,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
