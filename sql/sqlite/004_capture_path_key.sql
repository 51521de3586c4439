-- Nothing to change: the PostgreSQL flavour keys capture_lengths on a hash
-- of the path because a btree index row there is limited to ~2.7 KB;
-- SQLite has no such limit (long keys go to overflow pages), so its key
-- stays (consumer_group, path).  The migration exists in both flavours so
-- that schema versions mean the same in both.
SELECT 1;
