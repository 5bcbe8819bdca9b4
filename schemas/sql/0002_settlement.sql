-- What the domain jobs need beyond 0001: idempotent market creation, resumable settlement with a
-- notification outbox, and the best streak a user reached (WIN_STREAK missions count peaks).

ALTER TABLE users ADD COLUMN best_streak INTEGER NOT NULL DEFAULT 0;
-- Room on each page, so settlement's balance and counter updates stay on the page (HOT updates,
-- no index writes). A settlement touches thousands of users per statement.
ALTER TABLE users SET (fillfactor = 80);

-- Settlement updates each bet once (status, resolved_at). With no index on those columns and half
-- of each page kept free, that update stays on the page (a HOT update) and writes no index entry;
-- it makes settling a million bets about a third cheaper, for twice the table size. So the
-- pending-bets index of 0001 (its predicate reads status) gives way to a plain one.
ALTER TABLE bets SET (fillfactor = 50);
DROP INDEX bets_market_pending;
CREATE INDEX bets_market ON bets (market_id, id);

-- Keys compared bytewise: cheaper than the database's collation, and their order means nothing.
ALTER TABLE transactions ALTER COLUMN effect_key TYPE TEXT COLLATE "C";
ALTER TABLE bets ALTER COLUMN job_id TYPE TEXT COLLATE "C";

-- The markets.create job that made the market: a redelivered job creates nothing new.
ALTER TABLE markets ADD COLUMN job_id TEXT UNIQUE;
-- Set when settlement starts. From then on the market takes no bets, and only a resolve with the
-- same result may continue it (a crashed or redelivered one resumes where the last chunk ended).
ALTER TABLE markets ADD COLUMN resolution TEXT CHECK (resolution IN ('YES', 'NO', 'CANCELLED'));
ALTER TABLE markets ADD COLUMN resolution_job_id TEXT;
ALTER TABLE markets ADD COLUMN resolution_started_at TIMESTAMPTZ;
ALTER TABLE markets ADD CONSTRAINT markets_resolved_has_resolution
    CHECK (status = 'Active' OR resolution IS NOT NULL);

-- The outbox of settlement: each chunk's bet ids, written in the chunk's own transaction. The
-- notifications and mission events of a chunk are enqueued from it after the commit, with
-- idempotency keys, and enqueued_at is set; a resumed settlement first re-enqueues chunks
-- whose enqueued_at is still NULL, so a crash between commit and enqueue loses no message.
CREATE TABLE settlement_chunks (
    id              BIGSERIAL PRIMARY KEY,
    market_id       BIGINT NOT NULL REFERENCES markets (id),
    bet_ids         BIGINT[] NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    enqueued_at     TIMESTAMPTZ
);
CREATE INDEX settlement_chunks_unsent ON settlement_chunks (market_id, id) WHERE enqueued_at IS NULL;

-- Reward tiers are defined per period kind; two tiers of one kind must not overlap.
CREATE UNIQUE INDEX leaderboard_reward_tiers_from ON leaderboard_reward_tiers (kind, rank_from);

-- Jobs a handler decided to enqueue, written in the same transaction as its effects (the
-- transactional outbox). The handler enqueues them after the commit, with idempotency keys, and
-- deletes them; if it crashes in between, its job is delivered again and enqueues them then.
CREATE TABLE job_outbox (
    id              BIGSERIAL PRIMARY KEY,
    source_job_id   TEXT NOT NULL,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX job_outbox_source ON job_outbox (source_job_id);

-- REFERRAL missions count a user's referred friends.
CREATE INDEX users_referred_by ON users (referred_by) WHERE referred_by IS NOT NULL;
