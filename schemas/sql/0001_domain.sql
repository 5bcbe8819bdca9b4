-- ThePred domain: users, markets, bets, the ledger, missions, leaderboards, broadcasts and the
-- Telegram delivery log. Money is whole PRED in BIGINT. Every balance change is one ledger row
-- whose effect_key is unique, so a job that runs twice pays once.

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    telegram_id     BIGINT NOT NULL UNIQUE,
    username        TEXT,
    balance         BIGINT NOT NULL DEFAULT 10000,
    total_bets      INTEGER NOT NULL DEFAULT 0,
    total_wins      INTEGER NOT NULL DEFAULT 0,
    total_losses    INTEGER NOT NULL DEFAULT 0,
    win_streak      INTEGER NOT NULL DEFAULT 0,
    total_volume    BIGINT NOT NULL DEFAULT 0,
    rank            TEXT NOT NULL DEFAULT 'Bronze'
                    CHECK (rank IN ('Bronze', 'Silver', 'Gold', 'Diamond', 'Grandmaster')),
    referral_code   TEXT UNIQUE,
    referred_by     BIGINT REFERENCES users (id),
    banned          BOOLEAN NOT NULL DEFAULT false,
    unreachable     BOOLEAN NOT NULL DEFAULT false,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (balance >= 0)
);

CREATE TABLE markets (
    id              BIGSERIAL PRIMARY KEY,
    title           TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description     TEXT NOT NULL DEFAULT '',
    category        TEXT NOT NULL CHECK (category IN ('Crypto', 'Sports', 'Politics', 'Tech')),
    end_date        TIMESTAMPTZ NOT NULL,
    status          TEXT NOT NULL DEFAULT 'Active' CHECK (status IN ('Active', 'Resolved', 'Cancelled')),
    result          TEXT CHECK (result IN ('YES', 'NO')),
    total_yes_bets  BIGINT NOT NULL DEFAULT 0,
    total_no_bets   BIGINT NOT NULL DEFAULT 0,
    total_pool      BIGINT NOT NULL DEFAULT 0,
    promoted        BOOLEAN NOT NULL DEFAULT false,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    resolved_at     TIMESTAMPTZ
);

CREATE TABLE bets (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    market_id       BIGINT NOT NULL REFERENCES markets (id),
    outcome         TEXT NOT NULL CHECK (outcome IN ('YES', 'NO')),
    stake           BIGINT NOT NULL CHECK (stake >= 1),
    -- Odds in hundredths (183 means 1.83), so payouts stay exact.
    odds_hundredths INTEGER NOT NULL CHECK (odds_hundredths >= 100),
    potential_win   BIGINT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'WON', 'LOST', 'REFUNDED')),
    -- The id of the bets.place job: a bet is placed once however often its job runs.
    job_id          TEXT NOT NULL UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    resolved_at     TIMESTAMPTZ
);
-- Settlement walks a market's pending bets in id order, in chunks.
CREATE INDEX bets_market_pending ON bets (market_id, id) WHERE status = 'PENDING';
CREATE INDEX bets_user_created ON bets (user_id, created_at);

CREATE TABLE transactions (
    id              BIGSERIAL PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    type            TEXT NOT NULL CHECK (type IN ('BET', 'WIN', 'REFUND', 'MISSION', 'LEADERBOARD', 'REFERRAL')),
    amount          BIGINT NOT NULL,
    -- One key per effect: 'bet:<bet_id>:<type>', 'mission:<user_id>:<mission_id>',
    -- 'leaderboard:<period_id>:<user_id>', 'referral:<user_id>'.
    effect_key      TEXT NOT NULL UNIQUE,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX transactions_user ON transactions (user_id);

CREATE TABLE missions (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT NOT NULL UNIQUE,
    target          BIGINT NOT NULL CHECK (target >= 1),
    reward          BIGINT NOT NULL CHECK (reward >= 0),
    active          BOOLEAN NOT NULL DEFAULT true
);

INSERT INTO missions (kind, target, reward) VALUES
    ('FIRST_BET', 1, 500), ('5_BETS', 5, 1000), ('10_BETS', 10, 2000),
    ('WIN_STREAK_3', 3, 1500), ('WIN_STREAK_5', 5, 3000),
    ('BET_CRYPTO', 1, 500), ('BET_SPORTS', 1, 500), ('BET_POLITICS', 1, 500),
    ('HIGH_ROLLER', 1, 1000), ('LUCKY_7', 7, 2500), ('DAILY_ACTIVE', 7, 1500), ('REFERRAL', 1, 2000),
    ('SILVER_RANK', 1, 1000), ('GOLD_RANK', 1, 2500), ('DIAMOND_RANK', 1, 5000), ('GRANDMASTER_RANK', 1, 10000),
    ('VOLUME_10K', 10000, 3000), ('VOLUME_50K', 50000, 10000), ('VOLUME_100K', 100000, 25000);

CREATE TABLE user_missions (
    user_id         BIGINT NOT NULL REFERENCES users (id),
    mission_id      BIGINT NOT NULL REFERENCES missions (id),
    progress        BIGINT NOT NULL DEFAULT 0,
    completed_at    TIMESTAMPTZ,
    PRIMARY KEY (user_id, mission_id)
);

-- Mission events already counted, so a replayed event changes nothing.
CREATE TABLE mission_events (
    event_id        TEXT PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    processed_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Distinct UTC days a user was active, for DAILY_ACTIVE.
CREATE TABLE user_active_days (
    user_id         BIGINT NOT NULL REFERENCES users (id),
    day             DATE NOT NULL,
    PRIMARY KEY (user_id, day)
);

CREATE TABLE leaderboard_periods (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('WEEK', 'MONTH')),
    starts_at       TIMESTAMPTZ NOT NULL,
    ends_at         TIMESTAMPTZ NOT NULL,
    closed_at       TIMESTAMPTZ,
    UNIQUE (kind, starts_at),
    CHECK (ends_at > starts_at)
);

CREATE TABLE leaderboard_reward_tiers (
    id              BIGSERIAL PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('WEEK', 'MONTH')),
    rank_from       INTEGER NOT NULL CHECK (rank_from >= 1),
    rank_to         INTEGER NOT NULL,
    amount          BIGINT NOT NULL CHECK (amount >= 0),
    CHECK (rank_to >= rank_from)
);

CREATE TABLE leaderboard_snapshots (
    period_id       BIGINT NOT NULL REFERENCES leaderboard_periods (id),
    rank            INTEGER NOT NULL,
    user_id         BIGINT NOT NULL REFERENCES users (id),
    profit          BIGINT NOT NULL,
    bets            INTEGER NOT NULL,
    PRIMARY KEY (period_id, rank),
    UNIQUE (period_id, user_id)
);

CREATE TABLE broadcasts (
    id               BIGSERIAL PRIMARY KEY,
    text             TEXT NOT NULL CHECK (length(text) BETWEEN 1 AND 4096),
    parse_mode       TEXT NOT NULL CHECK (parse_mode IN ('HTML', 'Markdown')),
    photo_url        TEXT,
    target           TEXT NOT NULL CHECK (target IN ('all', 'user')),
    telegram_id      BIGINT,
    paid             BOOLEAN NOT NULL DEFAULT false,
    scheduled_at     TIMESTAMPTZ,
    status           TEXT NOT NULL DEFAULT 'PENDING'
                     CHECK (status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'CANCELLED')),
    total_recipients INTEGER NOT NULL DEFAULT 0,
    sent_count       INTEGER NOT NULL DEFAULT 0,
    failed_count     INTEGER NOT NULL DEFAULT 0,
    -- Fan-out checkpoint: the last user id queued, so a resumed fan-out skips nobody and nobody twice.
    fanout_after_user_id BIGINT NOT NULL DEFAULT 0,
    job_id           TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at       TIMESTAMPTZ,
    completed_at     TIMESTAMPTZ,
    cancelled_at     TIMESTAMPTZ,
    CHECK (photo_url IS NULL OR length(text) <= 1024),
    CHECK (target = 'all' OR telegram_id IS NOT NULL)
);

CREATE TABLE telegram_deliveries (
    job_id          TEXT PRIMARY KEY,
    telegram_id     BIGINT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('LEADERBOARD_REWARD', 'MARKET_RESOLVED', 'BET_WON', 'BET_LOST',
                                                  'MISSION_COMPLETED', 'BROADCAST', 'SYSTEM')),
    broadcast_id    BIGINT REFERENCES broadcasts (id),
    status          TEXT NOT NULL CHECK (status IN ('SENT', 'FAILED', 'PERMANENT_FAILURE')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,
    sent_at         TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX telegram_deliveries_recipient ON telegram_deliveries (telegram_id, updated_at);
