-- One serialisation point for every write (issue 12): each change first
-- bumps this row, so PostgreSQL's row lock (and SQLite's write lock) orders
-- all writers and the audit hash chain cannot fork. Created here, not on
-- first use, so two first writers cannot race to insert it.
INSERT INTO registry_state (key, value) VALUES ('write_lock', 0) ON CONFLICT (key) DO NOTHING;
INSERT INTO registry_state (key, value) VALUES ('audit_rows', 0) ON CONFLICT (key) DO NOTHING;
