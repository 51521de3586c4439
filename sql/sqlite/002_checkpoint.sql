-- The live daemon's checkpoint (SPEC §8), SQLite flavour: the same tables
-- as in PostgreSQL, so that `telemetra live --sink sqlite:PATH` commits
-- rows, offsets and state in one transaction too.

-- Where the consumer group is in each partition: the next offset to read.
CREATE TABLE consumer_offsets (
    consumer_group TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (consumer_group, topic, partition)
);

-- The serialized state of each watermark group (engine_save_group).
CREATE TABLE core_state (
    consumer_group TEXT NOT NULL,
    partition INTEGER NOT NULL,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (consumer_group, partition)
);

-- The length of the capture file at the last commit.
CREATE TABLE capture_lengths (
    consumer_group TEXT NOT NULL,
    path TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (consumer_group, path)
);
