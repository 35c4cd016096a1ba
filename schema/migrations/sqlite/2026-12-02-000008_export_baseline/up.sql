-- Allowlist diffs against an explicit baseline (issue 12): each recorded
-- export keeps the trust-bundle serial it was built at, and security can
-- publish one as the review baseline. A reader's GET no longer moves it.
ALTER TABLE product_exports ADD COLUMN bundle_serial BIGINT NOT NULL DEFAULT 0;
ALTER TABLE product_exports ADD COLUMN published_at BIGINT;
ALTER TABLE product_exports ADD COLUMN published_by TEXT;
