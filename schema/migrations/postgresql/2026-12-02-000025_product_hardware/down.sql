ALTER TABLE products DROP COLUMN hardware_ids;
