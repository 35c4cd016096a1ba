-- Receipts in a hash chain of their own (issue 12, item 11): each receipt
-- hashes the previous one's hash and what was received (never the
-- registry's later re-judgement, which a revocation may change). The chain
-- starts at the first receipt recorded after this migration; earlier rows
-- keep an empty hash. `receipt_rows` counts chained receipts (deleting the
-- newest is detected) and is the row receipt writers lock, in this order
-- after the audit write lock, so the chain never forks.
ALTER TABLE receipts ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE receipts ADD COLUMN hash TEXT NOT NULL DEFAULT '';
INSERT INTO registry_state (key, value) VALUES ('receipt_rows', 0) ON CONFLICT (key) DO NOTHING;
CREATE INDEX revocations_serial ON revocations (serial);
