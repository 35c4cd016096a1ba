-- Retire, never delete (issue 11): a retired certificate leaves the trust
-- bundle and the allowlists from the next serial but stays on record, with
-- when, why and by whom, and on the audit log.
ALTER TABLE certificates ADD COLUMN retired_at BIGINT;
ALTER TABLE certificates ADD COLUMN retired_reason TEXT;
ALTER TABLE certificates ADD COLUMN retired_by TEXT;
