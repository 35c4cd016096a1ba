ALTER TABLE receipt_evidence DROP COLUMN envelope;
ALTER TABLE receipts DROP COLUMN station_key;
DROP TABLE station_keys;
