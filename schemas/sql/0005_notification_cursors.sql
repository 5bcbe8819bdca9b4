-- Settlement notifications are produced as the results lane drains (issue 14), not enqueued all
-- at once: a million-bet market used to put a million telegram.send jobs in Redis to wait hours.

-- One row per resolved market: a cursor over its bets by id, moved after each chunk of messages is
-- queued. A chunk is queued before the cursor moves, under the keys notify:bet:<id>, so a producer
-- that dies in between queues the same jobs again and nobody is messaged twice.
CREATE TABLE market_notifications (
    market_id       BIGINT PRIMARY KEY REFERENCES markets (id),
    -- Bets of the market when it was resolved: one message each, unless the user is unreachable.
    total_bets      BIGINT NOT NULL,
    after_bet_id    BIGINT NOT NULL DEFAULT 0,
    queued          BIGINT NOT NULL DEFAULT 0,
    skipped         BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at      TIMESTAMPTZ,
    -- Every message is queued (not sent: that is market_notification_counts).
    produced_at     TIMESTAMPTZ,
    -- Every winner's missions.progress event is queued.
    events_done_at  TIMESTAMPTZ
);
CREATE INDEX market_notifications_producing ON market_notifications (market_id) WHERE produced_at IS NULL;

-- Sent and failed messages per market, in shards by recipient as broadcast_counts, so that the
-- SENT writes of one market's notifications do not queue behind one row's lock. No foreign key:
-- the SENT write updates this table, and nothing a payload says may make that write fail.
CREATE TABLE market_notification_counts (
    market_id BIGINT NOT NULL,
    shard     SMALLINT NOT NULL,
    sent      INTEGER NOT NULL DEFAULT 0,
    failed    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (market_id, shard)
);

-- The winners of a resolved market whose missions.progress event is not queued yet: written when
-- the market resolves, deleted as their events are queued (an outbox). A producer that dies between
-- the enqueue and the delete queues those events again; their ids are per market and user, and the
-- missions handler skips an id it has seen.
CREATE TABLE settlement_winners (
    market_id BIGINT NOT NULL REFERENCES markets (id),
    user_id   BIGINT NOT NULL,
    PRIMARY KEY (market_id, user_id)
);

-- settlement_chunks is no longer written. It stays for one release, so that a worker of the
-- previous one can finish a settlement during a rolling upgrade.
