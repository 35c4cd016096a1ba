-- Failed sign-ins per account ("user:NAME") and per address ("addr:IP"):
-- after five in a row, each further one doubles the wait (issue 12). In the
-- database, so every registry process over it applies the same limit.
CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);
