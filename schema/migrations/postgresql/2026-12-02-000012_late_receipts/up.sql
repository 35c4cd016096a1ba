-- When each trust-bundle serial became current (issue 16): an offline
-- station's signed receipt may be judged at the time the station states,
-- when that time lies inside the validity window of the bundle it names.
CREATE TABLE bundle_serials (
    serial BIGINT PRIMARY KEY NOT NULL,
    issued_at BIGINT NOT NULL
);
INSERT INTO bundle_serials (serial, issued_at)
    SELECT value, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT) FROM registry_state WHERE key = 'bundle_serial';
-- A late receipt: judged at the station's stated time (kept here), not at
-- the time the registry received it.
ALTER TABLE receipts ADD COLUMN late BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE receipts ADD COLUMN station_time BIGINT;
