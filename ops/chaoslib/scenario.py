"""The run: provision, start the fleet, play the workload under the fault schedule, drain."""
import json
import os
import threading
import time

from . import hostile, resp
from .checks2 import key_sizes, used_memory
from .journal import EnqueueJournal
from .workload import Front, Job, Ledger, MessageCollector, Xadd

BETTOR_BASE = 5_000_000  # Telegram ids of the users the workload registers through their first bet


def rfc3339(ms):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + ".%03dZ" % (ms % 1000)


class Scenario:
    def __init__(self, cfg, stack, sup, faults_cls, rng, log):
        self.cfg, self.stack, self.sup, self.rng, self.log = cfg, stack, sup, rng, log
        self.ledger = Ledger()
        self.redis_lock = threading.RLock()
        self.stop = threading.Event()
        self.front = Front(cfg.front_port, self.ledger, self.stop)
        self.xadd = None
        self.faults = faults_cls(cfg, stack, sup, rng, self.redis_lock, log)
        self.run_id = "%x" % (int(time.time()) % 0xFFFFFF)
        self.baseline = None
        self.timeline = {}
        self.threads = []
        self.journal = None

    def mark(self, what):
        self.timeline[what] = time.monotonic()
        print("chaos: %6.1f s %s" % (time.monotonic() - self.timeline.get("start", time.monotonic()), what), flush=True)

    # Provisioning ---------------------------------------------------------------------------

    def provision(self):
        c, st = self.cfg, self.stack
        self.mark("start")
        st.start_redis()
        # Before any process runs: it must see every job the fleet enqueues.
        self.journal = EnqueueJournal(c.redis_port) if os.environ.get("CHAOS_JOURNAL") != "0" else None
        st.start_postgres()
        st.tp("migrate", "--database-url", st.db_url)
        st.tp("seed", "--users", str(c.seed_users), "--markets", str(c.seed_markets), "--bets", str(c.seed_bets),
              "--seed", str(c.seed), "--database-url", st.db_url)
        st.tp("tiers", "set", "--period", "WEEK", "--ranks", "1-%d" % c.tier_ranks, "--amount", str(c.tier_amount),
              "--database-url", st.db_url)
        seeded = [int(r[0]) for r in st.psql("SELECT telegram_id FROM users WHERE NOT banned ORDER BY id LIMIT 40")]
        # Blocked: three bettors of the market to be resolved (their settlement messages meet 403)
        # and two seeded users (broadcasts meet 403).
        c.blocked = [BETTOR_BASE + 7, BETTOR_BASE + 11, BETTOR_BASE + 13] + seeded[5:7]
        self.mark("redis and postgresql up, migrated, seeded")

    def start_fleet(self):
        c, st = self.cfg, self.stack
        st.start_fake(c.blocked)
        st.wait_http(c.fake_port, "/fake/stats")
        self.collector = MessageCollector(c.fake_port, st)
        proxy = st.start_proxy()
        st.start_worker("w1", c.visibility, 2)
        st.start_worker("w2", c.visibility, 5, proxy=proxy.url)
        st.start_worker("w3", c.short_visibility, 5)
        self.log.add("worker_visibility", "w3 runs with --visibility-timeout %d, w1 and w2 with %d; w1's --telegram-timeout 2 s "
                     "is shorter than the fake's %d ms slow answers; w2 sends through the CONNECT proxy on %d" % (
                         c.short_visibility, c.visibility, c.slow_delay_ms, c.proxy_port))
        st.start_scheduler("scheduler-1")
        st.start_scheduler("scheduler-2")
        st.start_front()
        st.wait_http(c.front_port, "/readyz")
        self.xadd = Xadd(c.redis_port, self.ledger, self.redis_lock)
        # Idle baseline: the fleet up, queues prepared, no work yet.
        r = resp.Redis(port=c.redis_port)
        for _ in range(100):
            if r.call_retry("SCARD", "thepred:queues") >= 7:
                break
            time.sleep(0.1)
        time.sleep(1.0)
        self.baseline = {"used": used_memory(r), "keys": key_sizes(r)}
        r.close()
        threading.Thread(target=self._respawn_loop, daemon=True).start()
        self.mark("fleet up: fake Bot API, CONNECT proxy, 3 workers, 2 schedulers, front")

    def _respawn_loop(self):
        """A process that died on its own is recorded as a finding, then replaced, so one crash
        does not stop the rest of the run from showing what else is wrong."""
        groups = [self.stack.workers, self.stack.schedulers]
        while not self.sup.stopping:
            time.sleep(0.3)
            for group in groups:
                for slot, child in list(group.items()):
                    if child.exit_code is not None and child.expect is None and not self.sup.stopping:
                        with self.redis_lock:
                            group[slot] = self.sup.restart(child)
            for attr in ("front", "fake"):
                child = getattr(self.stack, attr)
                if child and child.exit_code is not None and child.expect is None and not self.sup.stopping:
                    setattr(self.stack, attr, self.sup.restart(child))
            rc = self.stack.redis_child
            if rc and rc.exit_code is not None and rc.expect is None and not self.sup.stopping:
                with self.redis_lock:
                    self.stack.start_redis()

    # Workload -------------------------------------------------------------------------------

    def create_markets(self):
        ends = rfc3339(int(time.time() * 1000) + 86_400_000)
        names = ["resolved"] + ["other-%d" % i for i in range(self.cfg.other_markets)]
        for i, name in enumerate(names):
            title = "Chaos %s market %s" % (name, self.run_id)
            job = self.front.admin("/v1/admin/markets", {"title": title, "category": ["Crypto", "Sports", "Politics", "Tech"][i % 4],
                                                         "ends_at": ends}, "market " + name, key="market-%s-%s" % (name, self.run_id))
            self.ledger.markets[name] = {"job": job, "title": title, "id": None}
            if job:
                self.ledger.add(Job(job, "markets", "markets.create", "front"))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for m in self.ledger.markets.values():
                if m["job"] and not m["id"]:
                    v = self.stack.scalar("SELECT id FROM markets WHERE job_id = '%s'" % m["job"])
                    m["id"] = int(v) if v else None
            if all(m["id"] for m in self.ledger.markets.values()):
                break
            time.sleep(0.2)
        if not all(m["id"] for m in self.ledger.markets.values()):
            raise RuntimeError("markets were not created within 30 s: %s" % self.ledger.markets)

    def _bet_specs(self, market, n_front, n_xadd, twice_front, twice_xadd, refused):
        """One bet per (user, market), so every settlement message text is unique per chat."""
        users = self.rng.sample(range(1, self.cfg.bettors + 1), n_front + n_xadd)
        mid = self.ledger.markets[market]["id"]
        front, xadd = [], []
        for i, u in enumerate(users):
            tg, outcome, stake = BETTOR_BASE + u, self.rng.choice(["YES", "NO"]), self.rng.randint(1, 60)
            expect = "ok"
            if i % max(1, (n_front + n_xadd) // max(1, refused)) == 1 and refused > 0:
                stake, expect = 10 ** 12, "refused"  # insufficient balance: a business refusal
            if i < n_front:
                key = "bet-%s-%s-%d" % (self.run_id, market, i)
                front.append((tg, mid, outcome, stake, key, i % max(1, n_front // max(1, twice_front)) == 0, expect,
                              "stake %d" % stake if expect != "ok" else ""))
            else:
                job = Job("chaos-xb-%s-%s-%d" % (self.run_id, market, i), "bets", "bets.place", "XADD", expect=expect,
                          bet=(tg, mid, outcome, stake))
                xadd.append((job, {"telegram_id": tg, "market_id": mid, "outcome": outcome, "stake": stake}))
        twice = {j.id for j, _ in xadd[::max(1, len(xadd) // max(1, twice_xadd))]}
        return front, xadd, twice

    def _paced(self, name, fn, items, seconds, chunks=20):
        """Runs fn over items in chunks spread over `seconds`, in a thread of its own."""
        def go():
            size = max(1, -(-len(items) // chunks))
            t0 = time.monotonic()
            for k in range(0, len(items), size):
                if self.stop.is_set():
                    return
                fn(items[k:k + size])
                wait = t0 + seconds * (k + size) / max(1, len(items)) - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
        t = threading.Thread(target=go, name=name, daemon=True)
        t.start()
        self.threads.append(t)
        return t

    def _xadd_jobs(self, pairs, twice):
        self.xadd.jobs(pairs, twice)

    def play(self):
        c, w = self.cfg, self.cfg.fault_window
        self.create_markets()
        self.mark("markets created")
        self.faults.start()
        self.mark("faults on")
        # Hostile entries first, so anything they break shows while the faults run.
        entries = hostile.build(self.run_id, self.ledger.markets["other-0"]["id"])
        for q, fields, job in entries:
            self.ledger.hostile.append(job)
            if job.id:
                self.ledger.add(job)
        self.xadd.entries([(q, f) for q, f, _ in entries])
        self.mark("%d hostile entries XADDed" % len(entries))
        # The market to resolve: its bets first, all of them placed before the resolve.
        rf, rx, rtwice = self._bet_specs("resolved", c.resolved_front, c.resolved_xadd, c.twice_front // 2, c.twice_xadd // 2, c.refused)
        a = self._paced("resolved-front", self.front.bets, rf, w * 0.3)
        b = self._paced("resolved-xadd", lambda p: self._xadd_jobs(p, rtwice), rx, w * 0.3)
        # Other markets' bets, noops and direct sends run through the whole window.
        for i in range(c.other_markets):
            of, ox, otwice = self._bet_specs("other-%d" % i, c.other_front // c.other_markets, c.other_xadd // c.other_markets,
                                             c.twice_front // 2 // c.other_markets, c.twice_xadd // 2 // c.other_markets,
                                             c.refused // c.other_markets)
            self._paced("other-front-%d" % i, self.front.bets, of, w * 0.85)
            self._paced("other-xadd-%d" % i, lambda p, t=otwice: self._xadd_jobs(p, t), ox, w * 0.85)
        self._paced("noop", lambda p: self._xadd_jobs(p, ()), [
            (Job("chaos-xn-%s-%d" % (self.run_id, i), "default", "system.noop", "XADD"), {"tag": "chaos %d" % i})
            for i in range(c.noops)], w * 0.85)
        sends = []
        for i in range(c.sends):
            chat = c.blocked[i % len(c.blocked)] if i % 13 == 0 else BETTOR_BASE + 100_000 + i
            expect = "not_dead" if chat in c.blocked else "ok"
            sends.append((Job("chaos-xs-%s-%d" % (self.run_id, i), "telegram", "telegram.send", "XADD", expect=expect,
                              note="to blocked chat %d" % chat if expect != "ok" else ""),
                          {"telegram_id": chat, "kind": "SYSTEM", "text": "Chaos direct message %d of run %s" % (i, self.run_id),
                           "parse_mode": "HTML"}))
        send_twice = {j.id for j, _ in sends[1::8]}
        self._paced("sends", lambda p: self._xadd_jobs(p, send_twice), sends, w * 0.5)
        a.join()
        b.join()
        self.mark("bets on the market to resolve sent")
        self.resolve_when_placed()
        self.broadcasts_and_leaderboard()
        while time.monotonic() - self.faults.t0 < w and not self.stop.is_set():
            time.sleep(0.2)
        self.faults.stop.set()
        for t in self.threads:
            t.join(timeout=60)
        self.mark("faults off, workload sent")

    def resolve_when_placed(self):
        m = self.ledger.markets["resolved"]
        want = {j.id for j in self.ledger.jobs.values() if j.kind == "bets.place" and j.bet and j.bet[1] == m["id"] and j.expect == "ok"}
        deadline = self.faults.t0 + self.cfg.fault_window * 0.55
        n = 0
        while time.monotonic() < deadline:
            n = int(self.stack.scalar("SELECT count(*) FROM bets WHERE market_id = %d" % m["id"]))
            if n >= len(want):
                break
            time.sleep(0.3)
        self.mark("%d of %d bets placed on market %d; resolving it YES" % (n, len(want), m["id"]))
        if n < len(want):
            # A bet still queued when the resolve starts races it: placed before the market closes,
            # or rejected as closed. Either is right; placed twice, or lost, is not.
            placed = {r[0] for r in self.stack.psql("SELECT job_id FROM bets WHERE market_id = %d" % m["id"])}
            for j in self.ledger.jobs.values():
                if j.id in want and j.id not in placed:
                    j.expect = "placed_or_closed"
        job = self.front.admin("/v1/admin/markets/%d/resolve" % m["id"], {"result": "YES"}, "resolve")
        if job:
            self.ledger.add(Job(job, "markets", "markets.resolve", "front"))

    def broadcast(self, name, body):
        text = body["text"]
        job = self.front.admin("/v1/admin/broadcasts", body, "broadcast " + name, key="bc-%s-%s" % (name, self.run_id))
        self.ledger.broadcasts[name] = {"job": job, "text": text}
        if job:
            self.ledger.add(Job(job, "broadcasts", "broadcast.create", "front"))
        return job

    def broadcasts_and_leaderboard(self):
        self.broadcast("free", {"text": "Chaos <b>free</b> broadcast %s" % self.run_id, "parse_mode": "HTML"})
        job = self.broadcast("paid", {"text": "Chaos <i>paid</i> broadcast %s" % self.run_id, "parse_mode": "HTML", "paid": True})
        # The backends are terminated while the paid broadcast sends: wait for its fan-out to start.
        deadline = self.faults.t0 + self.cfg.fault_window * 0.8
        while job and time.monotonic() < deadline:
            if self.stack.scalar("SELECT count(*) FROM broadcasts WHERE request_id = '%s' AND status = 'PROCESSING'" % job) == "1":
                break
            time.sleep(0.1)
        self.faults.paid_broadcast_started.set()
        at = int(time.time() * 1000) + 5000
        self.broadcast("scheduled", {"text": "Chaos scheduled broadcast %s" % self.run_id, "parse_mode": "HTML",
                                     "scheduled_at": rfc3339(at)})
        job = self.front.admin("/v1/admin/leaderboards/week/close", {}, "leaderboard close", key="lb-%s" % self.run_id)
        if job:
            self.ledger.add(Job(job, "leaderboards", "leaderboard.close", "front"))
        self.mark("broadcasts (free, paid, scheduled +5 s) and the leaderboard close asked for")

    # Drain ----------------------------------------------------------------------------------

    def drain(self):
        """Waits, bounded, until no queue holds anything: streams, delayed sets, pending lists."""
        r = resp.Redis(port=self.cfg.redis_port, timeout=10)
        # Leave room for the checks and the cleanup within the budget.
        deadline = min(time.monotonic() + self.cfg.drain_timeout, self.timeline["start"] + self.cfg.budget - 12)
        left = None

        def waiting():
            """Entries in streams and delayed sets; retried while a late fault restarts Redis, until
            the deadline (then None)."""
            while time.monotonic() < deadline:
                try:
                    queues = [q.decode() for q in r.call_retry("SMEMBERS", "thepred:queues")]
                    cmds = []
                    for q in queues:
                        k = "thepred:{%s}:" % q
                        cmds += [["XLEN", k + "stream"], ["ZCARD", k + "delayed"]]
                    replies = r.pipeline(cmds)
                    if not any(isinstance(x, resp.RedisError) for x in replies):
                        return sum(x for x in replies if isinstance(x, int))
                except (OSError, ConnectionError):
                    r.close()
                time.sleep(0.2)
            return None
        while time.monotonic() < deadline:
            left = waiting()
            if left is None:
                break
            busy = self.stack.scalar("SELECT count(*) FROM broadcasts WHERE status IN ('PENDING', 'PROCESSING')")
            if left == 0 and busy == "0":
                break
            time.sleep(0.5)
        # The schedulers stop now (a drain of their own, exit 0): their every-minute outbox.sweep
        # must not land between the drain and the checks. Then whatever they queued last runs.
        for child in list(self.stack.schedulers.values()):
            if child.alive():
                self.sup.term(child, self.cfg.grace + 5)
        for child in list(self.stack.schedulers.values()):
            self.sup.wait_exit(child, self.cfg.grace + 5)
        deadline = time.monotonic() + 5
        while left == 0 and time.monotonic() < deadline and waiting() not in (0, None):
            time.sleep(0.2)
        r.close()
        if self.journal:
            self.journal.stop()
        # Entries may sit read but unacked a moment longer; the checks read XPENDING themselves.
        time.sleep(1.5)
        self.mark("drained" if left == 0 else "drain timed out with %s entries left" % left)
        return left == 0

    def summary(self):
        return json.dumps({"run": self.run_id, "faults": self.log.counts()})
