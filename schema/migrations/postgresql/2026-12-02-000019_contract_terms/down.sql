ALTER TABLE components DROP COLUMN support_ends;
ALTER TABLE vendors DROP COLUMN revocation_deadline_hours;
ALTER TABLE vendors DROP COLUMN revocation_procedure;
ALTER TABLE vendors DROP COLUMN key_protection_attestation;
ALTER TABLE vendors DROP COLUMN key_protection;
ALTER TABLE vendors DROP COLUMN key_algorithms;
ALTER TABLE vendors DROP COLUMN support_ends;
