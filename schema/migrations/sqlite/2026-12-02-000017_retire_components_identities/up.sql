-- Retire, never delete (issue 11): components and Sigstore identities too.
ALTER TABLE components ADD COLUMN retired_at BIGINT;
ALTER TABLE components ADD COLUMN retired_reason TEXT;
ALTER TABLE components ADD COLUMN retired_by TEXT;
ALTER TABLE sigstore_identities ADD COLUMN retired_at BIGINT;
ALTER TABLE sigstore_identities ADD COLUMN retired_reason TEXT;
ALTER TABLE sigstore_identities ADD COLUMN retired_by TEXT;
