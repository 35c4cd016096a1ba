ALTER TABLE certificates DROP COLUMN retired_by;
ALTER TABLE certificates DROP COLUMN retired_reason;
ALTER TABLE certificates DROP COLUMN retired_at;
