-- RFC 4108 firmware packages (issue 14, item 2): the package identifier
-- (fwPkgID OID) procurement registers for a component.
ALTER TABLE components ADD COLUMN firmware_package_oid TEXT;
CREATE UNIQUE INDEX components_firmware_package_oid ON components (firmware_package_oid);
