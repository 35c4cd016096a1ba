ALTER TABLE components DROP COLUMN vendor_floor;
