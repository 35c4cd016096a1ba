DROP TABLE shared_cas;
