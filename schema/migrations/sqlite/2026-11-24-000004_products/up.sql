CREATE TABLE products (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    stages TEXT NOT NULL,
    row_version INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE product_exports (
    id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    product_id TEXT NOT NULL REFERENCES products(id),
    sha256 TEXT NOT NULL,
    allowlist TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX product_exports_product ON product_exports (product_id, id);
