"""Workers' heartbeats while PostgreSQL is out of reach (the `heartbeats` check).

A worker whose heartbeat stops for longer than its lease has its jobs taken over by another
(they run twice) although it is alive. PostgreSQL being paused or stopped must not do that: the
heartbeat goes to Redis only. During each PostgreSQL outage the harness reads, every 0.5 s, the
sorted set `thepred:{queue}:consumers` (consumer name -> last heartbeat, ms on Redis's clock),
each consumer's pid from `consumers:info` and its lease from `consumers:lease`, and keeps the age
of every live worker's heartbeat. Workers the harness killed, stopped or restarted around that
time are left out.
"""
import json
import re
import threading
import time

from . import resp

EVERY_S = 0.5


class HeartbeatWatch:
    def __init__(self, cfg, stack, sup):
        self.cfg, self.stack, self.sup = cfg, stack, sup
        self.samples = []  # (redis ms, outage kind, slot, pid, queue, age ms, lease ms)
        self.windows = []  # (kind, start ms, end ms)
        self.errors = []

    def start(self, kind):
        """Samples from now until a second after the returned Window's end() (the first heartbeats
        after the outage too). end() returns at once: the outage's thread holds the run's lock."""
        return Window(self, kind)

    def _loop(self, kind, stop):
        r = resp.Redis(port=self.cfg.redis_port, timeout=2)
        while not stop.is_set():
            t = time.monotonic()
            try:
                self._sample(r, kind)
            except (OSError, ConnectionError, ValueError) as e:
                r.close()
                if len(self.errors) < 20:
                    self.errors.append("%s: %s" % (type(e).__name__, e))
            stop.wait(max(0.0, EVERY_S - (time.monotonic() - t)))
        r.close()

    def _live_workers(self):
        """pid -> slot of the workers up and left alone: not signalled, not draining."""
        return {c.pid: c.name for c in self.sup.live("worker") if c.expect is None}

    def _sample(self, r, kind):
        if r.sock is None:
            r.connect()
        queues = sorted(q.decode() for q in r.call("SMEMBERS", "thepred:queues"))
        cmds = [["TIME"]]
        for q in queues:
            k = "thepred:{%s}:consumers" % q
            cmds += [["ZRANGE", k, 0, -1, "WITHSCORES"], ["HGETALL", k + ":info"], ["HGETALL", k + ":lease"]]
        replies = r.pipeline(cmds)
        if any(isinstance(x, resp.RedisError) for x in replies):
            return
        now = int(replies[0][0]) * 1000 + int(replies[0][1]) // 1000
        live = self._live_workers()
        for i, q in enumerate(queues):
            beats, infos, leases = replies[1 + 3 * i: 4 + 3 * i]
            info = dict(resp.pairs(infos))
            lease = dict(resp.pairs(leases))
            for name, score in resp.pairs(beats):
                try:
                    pid = int(json.loads(info.get(name, b"{}")).get("pid", 0))
                except ValueError:
                    continue
                if pid not in live:
                    continue  # an old consumer of a killed worker, or one the harness is stopping
                lease_ms = int(lease.get(name, b"0") or 0) or self.cfg.visibility * 1000
                self.samples.append((now, kind, live[pid], pid, q, now - int(float(score)), lease_ms))


class Window:
    def __init__(self, watch, kind):
        self.watch, self.kind = watch, kind
        self.start_ms = int(time.time() * 1000)
        self.stop = threading.Event()
        threading.Thread(target=watch._loop, args=(kind, self.stop), name="heartbeats-" + kind, daemon=True).start()

    def end(self):
        self.watch.windows.append((self.kind, self.start_ms, int(time.time() * 1000)))
        t = threading.Timer(1.0, self.stop.set)
        t.daemon = True
        t.start()


def signals(sup):
    """pid -> [ms] of every SIGKILL and SIGTERM the harness sent a worker (its fault log)."""
    out = {}
    for at, kind, detail in list(sup.faults.entries):
        m = re.search(r"(SIGKILL|SIGTERM) (w\d+) pid (\d+)", detail)
        if m:
            out.setdefault(int(m.group(3)), []).append(at)
    return out


def disturbed(signalled, pid, at_ms, drain_ms):
    """Whether the harness signalled this worker up to a drain's length before at_ms, or within
    a second after (a worker killed as a sample is read)."""
    return any(at_ms - drain_ms <= k <= at_ms + 1000 for k in signalled.get(pid, ()))


def check(watch, sup):
    """No live worker's heartbeat older than its lease while PostgreSQL was out of reach."""
    if not watch.windows:
        return False, "no PostgreSQL outage was watched"
    kept, old, workers = [], [], set()
    signalled = signals(sup)
    drain_ms = (watch.cfg.grace + 10) * 1000
    for at, kind, slot, pid, q, age, lease in watch.samples:
        if disturbed(signalled, pid, at, drain_ms):
            continue
        kept.append((age, lease, kind, slot, pid, q))
        workers.add(pid)
        if age > lease:
            old.append("%s pid %d on %s during %s: heartbeat %d ms old, lease %d ms" % (slot, pid, q, kind, age, lease))
    if not kept:
        return False, "no heartbeat sampled during %s (errors: %s)" % (
            ", ".join(k for k, _, _ in watch.windows), watch.errors[:3])
    worst = max(kept, key=lambda x: x[0] / max(1, x[1]))
    fig = "%d samples of %d live workers during %s: oldest heartbeat %d ms against a lease of %d ms (%s on %s, %s)" % (
        len(kept), len(workers), ", ".join("%s %.0f s" % (k, (b - a) / 1000) for k, a, b in watch.windows),
        worst[0], worst[1], worst[3], worst[5], worst[2])
    if old:
        return False, "%d samples older than the lease, e.g. %s; %s" % (len(old), "; ".join(old[:6]), fig)
    return True, fig
