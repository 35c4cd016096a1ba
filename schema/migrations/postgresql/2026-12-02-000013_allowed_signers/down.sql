ALTER TABLE components DROP COLUMN allowed_signers;
