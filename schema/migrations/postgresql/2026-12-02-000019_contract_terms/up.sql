-- Contract terms complete (issue 11, item 5): support period (per vendor,
-- overridable per component), allowed signer key algorithms, key
-- protection, revocation procedure and deadline.
ALTER TABLE vendors ADD COLUMN support_ends BIGINT;
ALTER TABLE vendors ADD COLUMN key_algorithms TEXT NOT NULL DEFAULT '';
ALTER TABLE vendors ADD COLUMN key_protection TEXT NOT NULL DEFAULT '';
ALTER TABLE vendors ADD COLUMN key_protection_attestation TEXT NOT NULL DEFAULT '';
ALTER TABLE vendors ADD COLUMN revocation_procedure TEXT NOT NULL DEFAULT '';
ALTER TABLE vendors ADD COLUMN revocation_deadline_hours INTEGER;
ALTER TABLE components ADD COLUMN support_ends BIGINT;
