DROP TABLE sigstore_trusted_roots;
DROP TABLE sigstore_keys;
DROP TABLE sigstore_identities;
