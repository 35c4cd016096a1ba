CREATE TABLE sigstore_identities (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    vendor_id TEXT NOT NULL REFERENCES vendors(id),
    issuer TEXT NOT NULL,
    san TEXT,
    san_regex TEXT,
    created_at BIGINT NOT NULL
);
CREATE TABLE sigstore_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    vendor_id TEXT NOT NULL REFERENCES vendors(id),
    pem TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (vendor_id, sha256)
);
CREATE TABLE sigstore_trusted_roots (
    name TEXT PRIMARY KEY NOT NULL,
    trusted_root TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
