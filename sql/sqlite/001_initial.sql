-- telemetra output schema, SQLite flavour (SPEC §6).
-- The seed's tables with exactly its columns, plus unique keys that make a
-- rewritten row an idempotent upsert.  Timestamps are UTC text
-- 'YYYY-MM-DD HH:MM:SS.ffffff', arrays and JSON are JSON text, booleans 0/1.

CREATE TABLE chat_summary_minute (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id TEXT NOT NULL,
    window_start TEXT NOT NULL,
    window_end TEXT NOT NULL,
    chat_count INTEGER,
    unique_chatters INTEGER,
    avg_sentiment REAL,
    positive_count INTEGER,
    negative_count INTEGER,
    chat_rate REAL,
    avg_viewers REAL,
    top_emotes TEXT,
    z_score REAL,
    is_anomaly INTEGER,
    processed_at TEXT,
    UNIQUE (stream_id, window_start, window_end)
);

CREATE TABLE moments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    moment_type TEXT NOT NULL,
    description TEXT,
    intensity REAL,
    metadata TEXT,
    detected_at TEXT,
    UNIQUE (stream_id, moment_type, timestamp)
);

-- Records that could not be used: where they came from (a file and line,
-- partition -1; or a topic, partition and offset), why, and the raw bytes.
CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    partition INTEGER NOT NULL,
    position INTEGER NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT,
    raw BLOB,
    received_at TEXT,
    UNIQUE (source, partition, position)
);

-- One row per replay or tune run: what produced the rows next to it.
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    command TEXT NOT NULL,
    version TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    config TEXT NOT NULL,
    inputs TEXT NOT NULL,
    records INTEGER,
    events INTEGER,
    accepted INTEGER,
    late INTEGER,
    dead_letters INTEGER,
    windows INTEGER,
    moments INTEGER,
    stats TEXT
);

CREATE INDEX moments_by_time ON moments (timestamp);
CREATE INDEX chat_summary_by_window ON chat_summary_minute (window_start);
