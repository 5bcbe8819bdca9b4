"""Checks of issue 26's Telegram faults: a send refused before it left the worker (proxy_refuse)."""

# What a send that failed at the proxy may say: curl's CONNECT failure, or the worker's wording
# for a request not written out whole.
PROXY_WORDS = ("CONNECT", "proxy", "before the request went out")
# AMBIGUOUS rows these faults do not explain away: w1's 2 s timeout meets the fake's 2.5 s answers.
TIMEOUT_WORDS = ("TIMEDOUT", "timed out", "timeout")
MARGIN_MS = 5000


def proxy_refusals(f, faults):
    """While w2's proxy refused CONNECTs, curl failed before any byte of a request reached the fake:
    each such send must be retried and delivered, none AMBIGUOUS, none a dead letter."""
    if not faults.refusals:
        return False, "proxy_refuse never ran"
    problems = []
    refused = sum(c["refused"] for _, _, c in faults.refusals)
    cut = sum(c["cut_idle"] for _, _, c in faults.refusals)
    if refused == 0:
        problems.append("no CONNECT was refused: the fault changed nothing")
    if f.stack.proxy is not None and f.stack.proxy.errors:
        problems.append("the proxy: %s" % "; ".join(f.stack.proxy.errors[:3]))
    rows = f.stack.psql("""SELECT job_id, (extract(epoch FROM updated_at) * 1000)::bigint, coalesce(last_error, '')
                           FROM telegram_deliveries WHERE status = 'AMBIGUOUS'""")
    in_windows, timeouts = 0, 0
    for job, at, error in rows:
        if not any(start <= int(at) <= end + MARGIN_MS for start, end, _ in faults.refusals):
            continue
        in_windows += 1
        if any(w in error for w in TIMEOUT_WORDS) and not any(w in error for w in PROXY_WORDS):
            timeouts += 1
        else:
            problems.append("AMBIGUOUS %s during the refusal: %s" % (job, error[:200]))
    dead = [d for d in f.dead if any(w in d[2].get("dead_message", "") for w in PROXY_WORDS)]
    for q, eid, fields in dead[:5]:
        problems.append("dead letter %s %s: %s" % (q, fields.get("id") or eid, fields.get("dead_message", "")[:200]))
    fig = "%d CONNECTs refused and %d idle tunnels closed in %s; %d AMBIGUOUS rows written meanwhile, %d of them " \
          "timeouts (w1's 2 s against the fake's slow answers), none from the proxy; no dead letter from it" % (
              refused, cut, ", ".join("%.1f s" % ((b - a) / 1000) for a, b, _ in faults.refusals), in_windows, timeouts)
    if problems:
        return False, "%d problems: %s; %s" % (len(problems), "; ".join(problems[:8]), fig)
    return True, fig
