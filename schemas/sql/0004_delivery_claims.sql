-- The delivery log as an exclusive claim per message effect, and ambiguous outcomes.

-- AMBIGUOUS: the request may have reached Telegram but no answer came (a timeout after the body
-- was sent). Final: such a message is never sent again (README, "Telegram delivery").
ALTER TABLE telegram_deliveries DROP CONSTRAINT telegram_deliveries_status_check;
ALTER TABLE telegram_deliveries ADD CONSTRAINT telegram_deliveries_status_check
    CHECK (status IN ('SENDING', 'SENT', 'FAILED', 'PERMANENT_FAILURE', 'CANCELLED', 'AMBIGUOUS'));

-- What the message is for (the idempotency key it was queued under, such as notify:bet:42 or
-- broadcast:7:1001). A job made again later for the same effect, under a new job id, finds the
-- first one's row here instead of making its own.
ALTER TABLE telegram_deliveries ADD COLUMN effect_key TEXT;
CREATE UNIQUE INDEX telegram_deliveries_effect_key ON telegram_deliveries (effect_key) WHERE effect_key IS NOT NULL;

-- The run that may be sending the message now, until when. Another run that finds a live claim
-- does not send; one that finds it expired (its owner died) takes it over.
ALTER TABLE telegram_deliveries ADD COLUMN claim_owner TEXT;
ALTER TABLE telegram_deliveries ADD COLUMN claim_expires_at TIMESTAMPTZ;
