ALTER TABLE product_exports DROP COLUMN published_by;
ALTER TABLE product_exports DROP COLUMN published_at;
ALTER TABLE product_exports DROP COLUMN bundle_serial;
