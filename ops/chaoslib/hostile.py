"""Hostile stream entries, each with what a correct platform must make of it.

What is expected follows schemas/jobs/envelope.schema.json: an entry that does not match it is
`undecodable` (its raw fields kept); a payload that does not decode is `permanent`; a kind no
worker knows is `unknown_kind`. Values the schema allows (Int64.max in a `^[0-9]+$` field) must
not crash anything, and the job must end in some terminal state. Every entry carries a
`chaos_tag` field so the dead letter of an entry without an id can still be found (undecodable
entries keep their fields as raw.<name>).
"""
from .workload import INT64_MAX, INT64_MIN, Job

UNDECODABLE = ("undecodable",)
BAD_PAYLOAD = ("permanent", "undecodable")
ENVELOPE_NUMERIC = ("attempt", "enqueued_at", "not_before", "snoozes", "outages", "redrives")


def build(run_id, market_id):
    """Returns [(queue, fields, Job)]."""
    out = []

    def add(name, queue, kind, fields, expect, reasons=(), note="", with_id=True):
        tag = "%s-%s" % (run_id, name)
        jid = "chaos-h-%s-%s" % (name, run_id)
        f = []
        if with_id:
            f += ["id", jid]
        f += fields + ["chaos_tag", tag]
        job = Job(jid if with_id else None, queue, kind, "hostile XADD", expect=expect, reasons=reasons, tag=tag, note=note)
        out.append((queue, f, job))

    noop = ["kind", "system.noop", "payload", "{}"]
    add("no-id", "default", "system.noop", noop, "dead", UNDECODABLE, "missing field id", with_id=False)
    add("no-kind", "default", "(none)", ["payload", "{}"], "dead", UNDECODABLE, "missing field kind")
    add("no-payload", "default", "system.noop", ["kind", "system.noop"], "dead", UNDECODABLE, "missing field payload")
    add("empty", "bets", "(none)", [], "dead", UNDECODABLE, "no envelope field at all", with_id=False)
    add("not-json", "default", "system.noop", ["kind", "system.noop", "payload", "{not json"], "dead", BAD_PAYLOAD,
        "payload is not JSON")
    add("bet-not-json", "bets", "bets.place", ["kind", "bets.place", "payload", "\x00\xff garbage"], "dead", BAD_PAYLOAD,
        "bets.place payload is not JSON")
    add("unknown-kind", "default", "chaos.no-such-kind", ["kind", "chaos.no-such-kind", "payload", "{}"], "dead",
        ("unknown_kind",), "a kind no worker knows")
    for field in ENVELOPE_NUMERIC:
        add("min-" + field.replace("_", "-"), "default", "system.noop", noop + [field, str(INT64_MIN)], "dead", UNDECODABLE,
            "%s = Int64.min (the schema allows no sign)" % field)
        # The schema's pattern allows Int64.max; the job must run (or be refused as undecodable) without a trap.
        add("max-" + field.replace("_", "-"), "default", "system.noop", noop + [field, str(INT64_MAX)], "ok_or_dead",
            UNDECODABLE, "%s = Int64.max" % field)
    add("all-min", "telegram", "telegram.send",
        ["kind", "telegram.send", "payload", '{"telegram_id":1,"kind":"SYSTEM","text":"x","parse_mode":"HTML"}']
        + sum(([f, str(INT64_MIN)] for f in ENVELOPE_NUMERIC), []), "dead", UNDECODABLE, "every numeric field Int64.min")

    def payload(name, queue, kind, body, expect="dead_or_rejected", reasons=BAD_PAYLOAD, note=""):
        add(name, queue, kind, ["kind", kind, "payload", body], expect, reasons, note)

    m = market_id
    payload("bet-tg-max", "bets", "bets.place", '{"telegram_id":%d,"market_id":%d,"outcome":"YES","stake":1}' % (INT64_MAX, m),
            note="telegram_id Int64.max (schema max 2^53-1)")
    payload("bet-tg-min", "bets", "bets.place", '{"telegram_id":%d,"market_id":%d,"outcome":"YES","stake":1}' % (INT64_MIN, m),
            note="telegram_id Int64.min")
    payload("bet-stake-max", "bets", "bets.place", '{"telegram_id":4242,"market_id":%d,"outcome":"NO","stake":%d}' % (m, INT64_MAX),
            note="stake Int64.max")
    payload("bet-stake-min", "bets", "bets.place", '{"telegram_id":4243,"market_id":%d,"outcome":"NO","stake":%d}' % (m, INT64_MIN),
            note="stake Int64.min")
    payload("bet-market-min", "bets", "bets.place", '{"telegram_id":4244,"market_id":%d,"outcome":"NO","stake":1}' % INT64_MIN,
            note="market_id Int64.min")
    payload("bet-market-max", "bets", "bets.place", '{"telegram_id":4245,"market_id":%d,"outcome":"NO","stake":1}' % INT64_MAX,
            reasons=("permanent",), note="market_id Int64.max: no such market")
    payload("lb-start-min", "leaderboards", "leaderboard.close", '{"period":"WEEK","starts_at_ms":%d}' % INT64_MIN,
            note="starts_at_ms Int64.min")
    payload("lb-start-max", "leaderboards", "leaderboard.close", '{"period":"MONTH","starts_at_ms":%d}' % INT64_MAX,
            note="starts_at_ms Int64.max")
    payload("lb-top-max", "leaderboards", "leaderboard.close", '{"period":"WEEK","top":%d}' % INT64_MAX,
            note="top Int64.max (schema max 10000)")
    payload("market-ends-max", "markets", "markets.create",
            '{"title":"chaos hostile max","category":"Tech","ends_at_ms":%d}' % INT64_MAX, note="ends_at_ms Int64.max")
    payload("market-ends-min", "markets", "markets.create",
            '{"title":"chaos hostile min","category":"Tech","ends_at_ms":%d}' % INT64_MIN, note="ends_at_ms Int64.min")
    payload("fanout-max", "broadcasts", "broadcast.fanout", '{"broadcast_id":%d}' % INT64_MAX, reasons=("permanent",),
            note="broadcast_id Int64.max: no such broadcast")
    payload("mission-user-max", "missions", "missions.progress",
            '{"event_id":"chaos-h-%s","event":"bet_placed","user_id":%d}' % (run_id, INT64_MAX), expect="any",
            note="user_id Int64.max")
    payload("send-chat-min", "telegram", "telegram.send",
            '{"telegram_id":%d,"kind":"SYSTEM","text":"chaos hostile %s","parse_mode":"HTML"}' % (INT64_MIN, run_id),
            expect="any", note="telegram_id Int64.min")

    extra = sum((["x%04d" % i, "v"] for i in range(5000)), [])
    add("big-undecodable", "default", "(none)", ["payload", "{}"] + extra, "dead", UNDECODABLE,
        "5000 extra fields and no kind: its dead letter keeps its id")
    # The schema allows at most 256 fields (maxProperties), so these are undecodable whatever their kind;
    # their dead letters keep the envelope fields and the first others (raw_dropped counts the rest).
    add("big-unknown", "default", "chaos.big-unknown", ["kind", "chaos.big-unknown", "payload", "{}"] + extra, "dead",
        UNDECODABLE, "5000 extra fields, unknown kind")
    add("big-noop", "default", "system.noop", noop + extra, "dead", UNDECODABLE, "5000 extra fields, a no-op")
    add("kind-10k", "default", "k" * 10240, ["kind", "k" * 10240, "payload", "{}"], "dead", UNDECODABLE,
        "a 10 KB kind name (schema: ^[a-z0-9._-]{1,64}$)")
    return out
