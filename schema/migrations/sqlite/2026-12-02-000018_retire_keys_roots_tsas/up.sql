-- Retire, never delete (issue 11): Sigstore keys, Sigstore trusted roots, TSA anchors.
ALTER TABLE sigstore_keys ADD COLUMN retired_at BIGINT;
ALTER TABLE sigstore_keys ADD COLUMN retired_reason TEXT;
ALTER TABLE sigstore_keys ADD COLUMN retired_by TEXT;
ALTER TABLE sigstore_trusted_roots ADD COLUMN retired_at BIGINT;
ALTER TABLE sigstore_trusted_roots ADD COLUMN retired_reason TEXT;
ALTER TABLE sigstore_trusted_roots ADD COLUMN retired_by TEXT;
ALTER TABLE tsa_anchors ADD COLUMN retired_at BIGINT;
ALTER TABLE tsa_anchors ADD COLUMN retired_reason TEXT;
ALTER TABLE tsa_anchors ADD COLUMN retired_by TEXT;
