-- Dead letters that never overwrite each other, keyed on a bounded value,
-- and runs rows that can describe a daemon too (issue 9 items 3-5).
--
-- The key was (source, partition, position): two bad envelopes with the
-- same topic/partition/offset, or the same file given twice, kept one row
-- of several dead letters counted; and a source of ~3 KB (a long path or
-- topic) exceeded the btree row limit and failed the whole commit.  Now:
--   source_key  SHA-256 of the source's bytes, 64 hex digits (the full
--               text stays in source)
--   occurrence  0 for the first dead letter at this place in a run, 1 for
--               the next one at the same place (the file read again, a
--               duplicated envelope), ...; always 0 for the live daemon,
--               whose re-read of an offset after a crash is the same row.
ALTER TABLE dead_letters
    ADD COLUMN source_key TEXT,
    ADD COLUMN occurrence INTEGER NOT NULL DEFAULT 0;
UPDATE dead_letters SET source_key = encode(sha256(convert_to(source, 'UTF8')), 'hex');
ALTER TABLE dead_letters ALTER COLUMN source_key SET NOT NULL;
ALTER TABLE dead_letters DROP CONSTRAINT dead_letters_key;
ALTER TABLE dead_letters
    ADD CONSTRAINT dead_letters_key UNIQUE (source_key, partition, position, occurrence);

-- How the run wrote (replay: new, append or replace; live: live), where it
-- ran, and when its counts were last written (a daemon updates its row as
-- it commits; finished_at stays NULL until it stops).
ALTER TABLE runs
    ADD COLUMN mode TEXT,
    ADD COLUMN host TEXT,
    ADD COLUMN pid INTEGER,
    ADD COLUMN updated_at TIMESTAMP;
