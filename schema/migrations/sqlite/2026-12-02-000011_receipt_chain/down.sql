DROP INDEX revocations_serial;
DELETE FROM registry_state WHERE key = 'receipt_rows';
ALTER TABLE receipts DROP COLUMN hash;
ALTER TABLE receipts DROP COLUMN prev_hash;
