ALTER TABLE sigstore_identities DROP COLUMN retired_by;
ALTER TABLE sigstore_identities DROP COLUMN retired_reason;
ALTER TABLE sigstore_identities DROP COLUMN retired_at;
ALTER TABLE components DROP COLUMN retired_by;
ALTER TABLE components DROP COLUMN retired_reason;
ALTER TABLE components DROP COLUMN retired_at;
