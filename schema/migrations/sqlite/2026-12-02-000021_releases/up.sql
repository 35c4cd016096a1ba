-- Product releases (issue 14, item 3): a named, versioned list of
-- component images per boot stage, checked against registry-verified
-- evidence and the current trust state; a passing check is attested.
CREATE TABLE releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products (id),
    version TEXT NOT NULL,
    images TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    checked_at BIGINT,
    problems TEXT NOT NULL DEFAULT '[]',
    attestation TEXT,
    UNIQUE (product_id, version)
);
