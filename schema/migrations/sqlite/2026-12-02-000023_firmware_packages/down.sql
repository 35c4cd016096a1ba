DROP INDEX components_firmware_package_oid;
ALTER TABLE components DROP COLUMN firmware_package_oid;
