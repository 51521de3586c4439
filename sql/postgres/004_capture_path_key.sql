-- The capture length of the checkpoint keyed on a bounded value (issue 9's
-- storage report): the key was (consumer_group, path), and a --capture path
-- of about 2.7 KB would exceed the btree row limit and fail every commit
-- of the daemon.  Now:
--   path_key  SHA-256 of the path's bytes, 64 hex digits, as dead_letters'
--             source_key (the full text stays in path)
ALTER TABLE capture_lengths ADD COLUMN path_key TEXT;
UPDATE capture_lengths SET path_key = encode(sha256(convert_to(path, 'UTF8')), 'hex');
ALTER TABLE capture_lengths ALTER COLUMN path_key SET NOT NULL;
ALTER TABLE capture_lengths DROP CONSTRAINT capture_lengths_pkey;
ALTER TABLE capture_lengths ADD PRIMARY KEY (consumer_group, path_key);
