DROP TABLE sbom_bindings;
DROP TABLE vendor_sboms;
ALTER TABLE vendors DROP COLUMN require_signed_sbom;
