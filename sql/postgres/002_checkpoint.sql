-- The live daemon's checkpoint (SPEC §8), PostgreSQL flavour.
-- Written in the same transaction as the output rows of each batch, so
-- that rows, consumed offsets and the core's state always agree: after a
-- crash, a restart resumes exactly from the last committed batch.

-- Where the consumer group is in each partition: the next offset to read.
CREATE TABLE consumer_offsets (
    consumer_group TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (consumer_group, topic, partition)
);

-- The serialized state of each watermark group (engine_save_group): JSON
-- text, possibly megabytes; TEXT rather than JSONB, because it is read
-- back whole and JSONB would spend time parsing and reordering it.
CREATE TABLE core_state (
    consumer_group TEXT NOT NULL,
    partition INTEGER NOT NULL,
    state TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (consumer_group, partition)
);

-- How long the capture file was when the batch was complete, so that a
-- restart can cut off what was captured but never committed.
CREATE TABLE capture_lengths (
    consumer_group TEXT NOT NULL,
    path TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (consumer_group, path)
);

-- The state is rewritten at every commit: compressing it (TOAST's default)
-- cost more CPU than the bytes it saved, on the same cores as the daemon.
ALTER TABLE core_state ALTER COLUMN state SET STORAGE EXTERNAL;
