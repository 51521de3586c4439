-- Dead letters that never overwrite each other, keyed on a bounded value,
-- and runs rows that can describe a daemon too: see the PostgreSQL
-- flavour for the why.  SQLite cannot change a table's unique key in
-- place, so the table is rebuilt; telemetra_sha256() is registered by the
-- migration code (io/migrations.c) for the rows already there.
CREATE TABLE dead_letters_003 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    partition INTEGER NOT NULL,
    position INTEGER NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT,
    raw BLOB,
    received_at TEXT,
    source_key TEXT NOT NULL,
    occurrence INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source_key, partition, position, occurrence)
);
INSERT INTO dead_letters_003 (id, source, partition, position, reason, detail, raw, received_at,
                              source_key, occurrence)
    SELECT id, source, partition, position, reason, detail, raw, received_at,
           telemetra_sha256(source), 0
    FROM dead_letters;
DROP TABLE dead_letters;
ALTER TABLE dead_letters_003 RENAME TO dead_letters;

ALTER TABLE runs ADD COLUMN mode TEXT;
ALTER TABLE runs ADD COLUMN host TEXT;
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN updated_at TEXT;
