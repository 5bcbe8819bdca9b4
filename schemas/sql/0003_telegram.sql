-- Telegram delivery: the send log's in-between states, and broadcast progress without a hot row.

-- SENDING: claimed by a job, not yet answered. CANCELLED: its broadcast was cancelled before it went.
ALTER TABLE telegram_deliveries DROP CONSTRAINT telegram_deliveries_status_check;
ALTER TABLE telegram_deliveries ADD CONSTRAINT telegram_deliveries_status_check
    CHECK (status IN ('SENDING', 'SENT', 'FAILED', 'PERMANENT_FAILURE', 'CANCELLED'));
-- Telegram's message id, so support can point at the message itself.
ALTER TABLE telegram_deliveries ADD COLUMN message_id BIGINT;

-- Set once every recipient is queued; until then total_recipients is still growing.
ALTER TABLE broadcasts ADD COLUMN fanout_completed_at TIMESTAMPTZ;
ALTER TABLE broadcasts ADD COLUMN cancelled_count INTEGER NOT NULL DEFAULT 0;

-- Per-broadcast counts, split in shards by recipient: a thousand sends a second would queue
-- behind one counter row's lock. broadcasts.*_count is filled from these when it completes.
CREATE TABLE broadcast_counts (
    broadcast_id BIGINT NOT NULL REFERENCES broadcasts (id),
    shard        SMALLINT NOT NULL,
    sent         INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    cancelled    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (broadcast_id, shard)
);

CREATE INDEX broadcasts_status ON broadcasts (status, id);

-- The request that created a broadcast (a broadcast.create job id), so a repeat creates it once.
ALTER TABLE broadcasts ADD COLUMN request_id TEXT UNIQUE;
