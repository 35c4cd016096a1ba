DELETE FROM registry_state WHERE key = 'write_lock';
