-- The winners outbox is written in the transaction that resolves the market, from that market's
-- bets, and emptied as the events are queued: its market always exists. The foreign key checked it
-- once per winner all the same, 370 ms of the 1.3 s that opening a million-bet market's backlog took.
ALTER TABLE settlement_winners DROP CONSTRAINT settlement_winners_market_id_fkey;
