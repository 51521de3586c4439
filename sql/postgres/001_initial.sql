-- telemetra output schema, PostgreSQL flavour (SPEC §6).
-- The seed's chat_summary_minute and moments tables with exactly its
-- columns, plus unique keys that make a rewritten row an idempotent upsert.

CREATE TABLE chat_summary_minute (
    id SERIAL PRIMARY KEY,
    stream_id VARCHAR(255) NOT NULL,
    window_start TIMESTAMP NOT NULL,
    window_end TIMESTAMP NOT NULL,
    chat_count INTEGER,
    unique_chatters INTEGER,
    avg_sentiment DOUBLE PRECISION,
    positive_count INTEGER,
    negative_count INTEGER,
    chat_rate DOUBLE PRECISION,
    avg_viewers DOUBLE PRECISION,
    top_emotes TEXT[],
    z_score DOUBLE PRECISION,
    is_anomaly BOOLEAN,
    processed_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT chat_summary_minute_key UNIQUE (stream_id, window_start, window_end)
);

CREATE TABLE moments (
    id SERIAL PRIMARY KEY,
    stream_id VARCHAR(255) NOT NULL,
    timestamp TIMESTAMP NOT NULL,
    moment_type VARCHAR(50) NOT NULL,
    description TEXT,
    intensity DOUBLE PRECISION,
    metadata JSONB,
    detected_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT moments_key UNIQUE (stream_id, moment_type, timestamp)
);

-- Records that could not be used: where they came from (a file and line,
-- partition -1; or a topic, partition and offset), why, and the raw bytes.
CREATE TABLE dead_letters (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    partition INTEGER NOT NULL,
    position BIGINT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT,
    raw BYTEA,
    received_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT dead_letters_key UNIQUE (source, partition, position)
);

-- One row per replay or tune run written here.
CREATE TABLE runs (
    id SERIAL PRIMARY KEY,
    command TEXT NOT NULL,
    version TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    config JSONB NOT NULL,
    inputs JSONB NOT NULL,
    records BIGINT,
    events BIGINT,
    accepted BIGINT,
    late BIGINT,
    dead_letters BIGINT,
    windows BIGINT,
    moments BIGINT,
    stats JSONB
);

CREATE INDEX moments_by_time ON moments (timestamp);
CREATE INDEX chat_summary_by_window ON chat_summary_minute (window_start);
