"""The checks after the drain. Each returns (passed, figure or details) and never hides a finding:
a check that cannot read what it needs fails, naming why."""
from . import resp

TERMINAL = {"succeeded", "dead", "rejected", "cancelled"}


def s(b):
    return b.decode("utf-8", "replace") if isinstance(b, bytes) else b


class Facts:
    """What the checks read from Redis, PostgreSQL and the fake, once."""

    def __init__(self, cfg, stack, ledger, collector, journal=None):
        self.cfg, self.stack, self.ledger, self.journal = cfg, stack, ledger, journal
        self.r = resp.Redis(port=cfg.redis_port, timeout=60)
        self.queues = sorted(s(q) for q in self.r.call_retry("SMEMBERS", "thepred:queues"))
        self.dead = []  # (queue, entry id, {field: str})
        for q in self.queues:
            for eid, flat in self.r.call_retry("XRANGE", "thepred:{%s}:dead" % q, "-", "+"):
                self.dead.append((q, s(eid), {k: s(v) for k, v in resp.pairs(flat)}))
        self.status = {}
        jobs = [j for j in ledger.jobs.values()] + [h for h in ledger.hostile if h.id and h.id not in ledger.jobs]
        for i in range(0, len(jobs), 1000):
            batch = jobs[i:i + 1000]
            replies = self.r.pipeline([["HGET", "thepred:{%s}:job:%s" % (j.queue, j.id), "status"] for j in batch])
            for j, rep in zip(batch, replies):
                self.status[j.id] = s(rep) if isinstance(rep, bytes) else None
        # Every job that went through Redis leaves a status record for the retention (24 h):
        # the count by queue is how many jobs the fleet ran in all, its own follow-ups included.
        self.records = {}
        for k in resp.scan_keys(self.r, "thepred:{*}:job:*"):
            q = s(k).split("{", 1)[1].split("}", 1)[0]
            self.records[q] = self.records.get(q, 0) + 1
        self.messages = collector.messages()
        # Sends that got no answer in time and may have arrived: final, never re-sent (README,
        # "Ambiguous sends"). Their jobs end rejected, and the fake may or may not have them.
        self.ambiguous = {r[0]: int(r[1]) for r in stack.psql(
            "SELECT job_id, telegram_id FROM telegram_deliveries WHERE status = 'AMBIGUOUS'")}
        # Dead letters by job id and by tag, for attribution.
        self.dead_by_id, self.dead_by_tag = {}, {}
        for d in self.dead:
            f = d[2]
            jid = f.get("id") or f.get("raw.id")
            if jid:
                self.dead_by_id.setdefault(jid, []).append(d)
            tag = f.get("raw.chaos_tag") or f.get("chaos_tag")
            if tag:
                self.dead_by_tag.setdefault(tag, []).append(d)

    def dead_of(self, job):
        found = list(self.dead_by_id.get(job.id, [])) if job.id else []
        for d in self.dead_by_tag.get(job.tag, []) if job.tag else []:
            if d not in found:
                found.append(d)
        return found


def queues_empty(f):
    bad, total = [], 0
    for q in f.queues:
        k = "thepred:{%s}:" % q
        xlen, zcard, hlen, pending = f.r.pipeline([["XLEN", k + "stream"], ["ZCARD", k + "delayed"], ["HLEN", k + "delayed:jobs"],
                                                  ["XPENDING", k + "stream", "workers"]])
        pend = pending[0] if isinstance(pending, list) else 0
        total += xlen + zcard + hlen + pend
        if xlen or zcard or hlen or pend:
            bad.append("%s: stream %d, delayed %d (+%d payloads), pending %d" % (q, xlen, zcard, hlen, pend))
    return (not bad, "%d queues, nothing in streams, delayed sets or pending lists" % len(f.queues) if not bad else "; ".join(bad))


def jobs_terminal(f):
    counts, bad = {}, []
    for j in f.ledger.jobs.values():
        st = f.status.get(j.id)
        counts[st] = counts.get(st, 0) + 1
        if st not in TERMINAL and not (j.expect in ("dead", "ok_or_dead", "dead_or_rejected", "any") and f.dead_of(j)):
            bad.append("%s %s (%s): %s" % (j.kind[:40], j.id, j.source, st or "no status record"))
    for h in f.ledger.hostile:
        if h.id is None and not f.dead_of(h):
            bad.append("hostile %s (no id): in no dead-letter stream" % h.tag)
    fig = ", ".join("%s %d" % (k or "none", v) for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
    return (not bad, "%d accepted jobs terminal (%s)" % (len(f.ledger.jobs), fig) if not bad else
            "%d of %d not terminal, e.g. %s" % (len(bad), len(f.ledger.jobs), "; ".join(bad[:8])))


def all_jobs_terminal(f):
    """Every job any process enqueued (the MONITOR journal), not only the harness's: each ends in a
    terminal status record. A job with no record at all is one Redis acknowledged and lost."""
    if f.journal is None:
        return False, "no enqueue journal"
    seen = f.journal.seen()
    if not seen:
        return False, "the journal saw no job (MONITOR connected %d times)" % f.journal.connects
    items = sorted(seen.items())
    counts, bad = {}, []
    for i in range(0, len(items), 1000):
        batch = items[i:i + 1000]
        replies = f.r.pipeline([["HGET", "thepred:{%s}:job:%s" % (q, j), "status"] for j, q in batch])
        for (j, q), rep in zip(batch, replies):
            st = s(rep) if isinstance(rep, bytes) else None
            counts[st] = counts.get(st, 0) + 1
            if st not in TERMINAL:
                bad.append("%s in %s: %s" % (j, q, st or "no status record"))
    fig = ", ".join("%s %d" % (k or "none", v) for k, v in sorted(counts.items(), key=lambda kv: str(kv[0])))
    return (not bad, "%d jobs enqueued by any process, all terminal (%s); journal reconnected %d times" % (
        len(items), fig, f.journal.connects) if not bad else "%d of %d not terminal, e.g. %s" % (
        len(bad), len(items), "; ".join(bad[:8])))


def outcomes(f):
    """Each job ended the way its kind of input must end (workload.Job.expect): valid work
    succeeded; business refusals are `rejected` (issue 12 §16), not dead letters; hostile entries
    are dead letters with the reason the envelope schema names."""
    bad, n = [], 0
    for j in list(f.ledger.jobs.values()) + [h for h in f.ledger.hostile if h.id is None]:
        n += 1
        st, dead = f.status.get(j.id) if j.id else None, f.dead_of(j)
        reasons = [d[2].get("dead_reason") for d in dead]
        ok_dead = len(dead) == 1 and reasons[0] in j.reasons
        e = j.expect
        ambiguous_send = j.kind == "telegram.send" and st == "rejected" and j.id in f.ambiguous
        good = {"ok": (st == "succeeded" or ambiguous_send) and not dead,
                "refused": st == "rejected" and not dead,
                "not_dead": st in ("rejected", "succeeded") and not dead,
                "dead": ok_dead,
                "dead_or_rejected": ok_dead or (st == "rejected" and not dead),
                "ok_or_dead": ok_dead or (st == "succeeded" and not dead),
                "placed_or_closed": st in ("succeeded", "rejected") and not dead,
                "any": st in TERMINAL and not any(r in ("poison", "exhausted") for r in reasons) and len(dead) <= 1}[e]
        if not good:
            bad.append("%s [%s%s] expected %s%s, got status %s, dead letters %s" % (
                j.tag or j.id, j.kind[:40], (" " + j.note) if j.note else "", e,
                " %s" % "/".join(j.reasons) if j.reasons else "", st, reasons or "none"))
    return (not bad, "%d jobs ended as their input requires" % n if not bad else "%d of %d wrong: %s" % (len(bad), n, summarize(bad)))


def summarize(bad, examples=3):
    """Groups findings by what went wrong (the text after 'expected'), with a few examples each;
    every hostile entry is listed, since each is its own case."""
    groups = {}
    for b in bad:
        key = b.split(" [", 1)[-1]  # "[kind note] expected ..., got ...": one group per kind and outcome
        groups.setdefault(key, []).append(b)
    out = []
    for key, items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        if len(items) == 1:
            out.append(items[0])
        else:
            out.append("%d x [%s, e.g. %s" % (len(items), key, ", ".join(i.split(" [", 1)[0] for i in items[:examples])))
    return "; ".join(out)


def dlq_exact(f):
    known = set()  # dead letters a job's expectation allows (a hostile entry's, say)
    for j in list(f.ledger.jobs.values()) + f.ledger.hostile:
        if j.expect not in ("dead", "dead_or_rejected", "ok_or_dead", "any"):
            continue
        for d in f.dead_of(j):
            known.add((d[0], d[1]))
    by_reason, bad, refusals, expected_fail = {}, [], [], 0
    for q, eid, fields in f.dead:
        reason = fields.get("dead_reason")
        by_reason[reason] = by_reason.get(reason, 0) + 1
        what = "%s %s %s id=%s: %s" % (q, eid, reason, fields.get("id") or fields.get("raw.id"), (fields.get("dead_message") or "")[:160])
        if not reason or not fields.get("dead_message"):
            bad.append("no reason/message: " + what)
        elif reason in ("poison", "exhausted"):
            bad.append(what)
        elif (q, eid) in known:
            continue
        elif "blocked" in fields.get("dead_message", "") or "insufficient" in fields.get("dead_message", "") \
                or "market" in fields.get("dead_message", "") and "closed" in fields.get("dead_message", ""):
            refusals.append(what)
        elif fields.get("kind") == "telegram.send" and reason == "permanent" and "gave up after" in fields.get("dead_message", "") \
                and not any(c in fields.get("dead_message", "") for c in ("400:", "403:")):
            expected_fail += 1  # five transient failures in a row: the fake's failure and slow rates can do that
        else:
            bad.append("unexplained: " + what)
    if refusals:
        bad.append("%d expected refusals are dead letters (issue 12 §16: they must be `rejected`), e.g. %s" % (
            len(refusals), " | ".join(refusals[:3])))
    fig = "%d dead letters (%s): %d hostile or expected, %d telegram sends failed 5 times" % (
        len(f.dead), ", ".join("%s %d" % kv for kv in sorted(by_reason.items(), key=str)), len(known), expected_fail)
    return (not bad, fig if not bad else fig + "; " + "; ".join(bad[:10]))


def bets_once(f):
    st = f.stack
    market_ids = [str(m["id"]) for m in f.ledger.markets.values() if m.get("id")]
    rows = st.psql("SELECT job_id, count(*) FROM bets WHERE market_id IN (%s) GROUP BY job_id" % ",".join(market_ids)) if market_ids else []
    placed = {r[0]: int(r[1]) for r in rows}
    want = {j.id for j in f.ledger.jobs.values() if j.kind == "bets.place" and j.expect == "ok"}
    either = {j.id for j in f.ledger.jobs.values() if j.kind == "bets.place" and j.expect == "placed_or_closed"}
    refused = {j.id for j in f.ledger.jobs.values() if j.kind == "bets.place" and j.expect not in ("ok", "placed_or_closed")}
    missing = sorted(want - set(placed))
    twice = sorted(k for k, v in placed.items() if v > 1)
    stray = sorted(set(placed) - want - refused - either)
    wrongly = sorted(set(placed) & refused)
    ok = not (missing or twice or stray or wrongly)
    fig = "%d bets placed once each by job id, %d raced the resolve (%d of them placed, once), %d refused ones placed none" % (
        len(want), len(either), len(either & set(placed)), len(refused))
    return ok, fig if ok else "missing %d %s; twice %s; placed by no accepted job %d %s; refused yet placed %s" % (
        len(missing), missing[:5], twice[:5], len(stray), stray[:5], wrongly[:5])


def settlement(f):
    st, m = f.stack, f.ledger.markets.get("resolved")
    if not m or not m.get("id"):
        return False, "the market to resolve was never created"
    mid = m["id"]
    status = st.psql("SELECT status, coalesce(result, '') FROM markets WHERE id = %d" % mid)[0]
    counts = dict((r[0], int(r[1])) for r in st.psql("SELECT status, count(*) FROM bets WHERE market_id = %d GROUP BY status" % mid))
    pay = st.psql("""SELECT count(*) FILTER (WHERE b.status = 'WON' AND w.n IS DISTINCT FROM 1),
                            count(*) FILTER (WHERE b.status = 'WON' AND w.amount IS DISTINCT FROM b.potential_win),
                            count(*) FILTER (WHERE b.status <> 'WON' AND w.n IS NOT NULL),
                            count(*) FILTER (WHERE d.n IS DISTINCT FROM 1)
                     FROM bets b
                     LEFT JOIN (SELECT effect_key, count(*) n, sum(amount) amount FROM transactions WHERE type = 'WIN'
                                GROUP BY effect_key) w ON w.effect_key = 'bet:' || b.id || ':WIN'
                     LEFT JOIN (SELECT effect_key, count(*) n FROM transactions WHERE type = 'BET' GROUP BY effect_key) d
                            ON d.effect_key = 'bet:' || b.id || ':BET'
                     WHERE b.market_id = %d""" % mid)[0]
    chats = {int(r[0]): r[1] == "t" for r in st.psql(
        "SELECT u.telegram_id, u.unreachable FROM bets b JOIN users u ON u.id = b.user_id WHERE b.market_id = %d" % mid)}
    # Distinct texts: a copy of the same text is a duplicate, which telegram-once proves lies in the
    # documented window. A bettor whose notification is AMBIGUOUS may have it or not.
    texts = {}
    for msg in f.messages:
        if m["title"] in (msg.get("text") or ""):
            texts.setdefault(msg["chat_id"], set()).add(msg.get("text"))
    got = {c: len(t) for c, t in texts.items()}
    blocked = set(f.cfg.blocked)
    unsure = {int(r[0]) for r in st.psql(
        "SELECT telegram_id FROM telegram_deliveries WHERE status = 'AMBIGUOUS' AND effect_key LIKE 'notify:bet:%'")}
    wrong = [(c, got.get(c, 0)) for c in chats
             if got.get(c, 0) not in ((0,) if c in blocked else (0, 1) if c in unsure else (1,))]
    stray = [c for c in got if c not in chats]
    problems = []
    if status[0] != "Resolved" or status[1] != "YES":
        problems.append("market %d is %s %s" % (mid, status[0], status[1]))
    if counts.get("PENDING"):
        problems.append("%d bets still PENDING" % counts["PENDING"])
    if any(int(x) for x in pay):
        problems.append("WON without exactly one WIN row %s, WIN amount != potential_win %s, WIN row on a bet not won %s, "
                        "bets without exactly one BET row %s" % tuple(pay))
    if wrong:
        problems.append("%d bettors notified other than once (blocked chats 0), e.g. %s" % (len(wrong), wrong[:6]))
    if stray:
        problems.append("messages about the market to chats without a bet in it: %s" % stray[:5])
    fig = "market %d Resolved YES: %d won, %d lost, each paid once; %d bettors notified once, %d blocked got none" % (
        mid, counts.get("WON", 0), counts.get("LOST", 0), len(chats) - len(blocked & set(chats)), len(blocked & set(chats)))
    return not problems, fig if not problems else "; ".join(problems)


def audit(f):
    p = f.stack.tp("audit", "--database-url", f.stack.db_url, check=False)
    out = (p.stdout.strip().splitlines() or [""])[-1]
    return p.returncode == 0, ("thepred audit exit 0: %s" % out) if p.returncode == 0 else \
        "thepred audit exit %d: %s %s" % (p.returncode, p.stdout.strip()[-1500:], p.stderr.strip()[-500:])


def delivery_log(f):
    st = f.stack
    open_rows = st.psql("SELECT status, count(*) FROM telegram_deliveries WHERE status IN ('SENDING', 'FAILED') GROUP BY status")
    outbox = st.scalar("SELECT count(*) FROM job_outbox")
    backlogs = st.scalar("SELECT count(*) FROM market_notifications WHERE produced_at IS NULL OR events_done_at IS NULL")
    winners = st.scalar("SELECT count(*) FROM settlement_winners")
    sent = st.scalar("SELECT count(*) FROM telegram_deliveries WHERE status = 'SENT'")
    ok = not open_rows and outbox == "0" and backlogs == "0" and winners == "0"
    fig = "%s SENT rows; no SENDING or FAILED row, outbox empty, every market's notifications and mission events produced" % sent
    return ok, fig if ok else "rows not final %s; job_outbox %s rows; markets still producing %s; winners' events not queued %s" % (
        open_rows, outbox, backlogs, winners)


def front_answers(f):
    L = f.ledger
    bad = ["%s: %s %s" % e for e in L.front_errors]
    diff = [p for p in L.idem_pairs if p[1] != p[2] or (p[3] or "").lower() != "true"]
    ok = not bad and not diff and L.idem_pairs
    fig = "%d repeats with one Idempotency-Key answered the first job id (Idempotent-Replayed: true); %d answers 503 " \
          "or unreachable and %d answers 429 were retried" % (len(L.idem_pairs), L.front_503, L.front_429)
    return ok, fig if ok else "refused valid requests: %s; repeats with another answer: %s" % (bad[:5], diff[:5])


def processes(sup):
    bad = ["%s pid %d %s" % (n, p, why) for n, p, why, _ in sup.unexpected]
    terms = ["%s exit %s in %.1f s" % (n, c, t) for n, p, c, t in sup.term_exits]
    kills = len([c for c in sup.children if c.expect == "kill"])
    fig = "%d processes started, %d killed by the harness, SIGTERM drains: %s" % (len(sup.children), kills, ", ".join(terms) or "none")
    return not bad, fig if not bad else "unexpected exits: " + "; ".join(bad)
