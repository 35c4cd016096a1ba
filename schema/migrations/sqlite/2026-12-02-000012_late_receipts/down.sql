ALTER TABLE receipts DROP COLUMN station_time;
ALTER TABLE receipts DROP COLUMN late;
DROP TABLE bundle_serials;
