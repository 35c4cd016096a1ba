DROP TABLE sigstore_revocations;
