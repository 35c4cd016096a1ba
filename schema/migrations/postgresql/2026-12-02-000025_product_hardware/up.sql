-- The hardware a product is built on (RFC 4108 targetHardwareIDs are
-- checked against it in the release check): OIDs, comma-separated.
ALTER TABLE products ADD COLUMN hardware_ids TEXT NOT NULL DEFAULT '';
