-- A CA key several vendors may both register (issue 11): recorded by
-- product security with a reason, audited, shown on each vendor's page and
-- carried in the bundle. Without such a record a key belongs to one vendor.
CREATE TABLE shared_cas (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    spki_sha256 TEXT NOT NULL,
    subject TEXT NOT NULL,
    vendors TEXT NOT NULL,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
