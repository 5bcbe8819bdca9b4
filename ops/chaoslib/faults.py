"""The fault schedule: one thread that injects every kind of fault at planned times.

Times are seconds from the start of the workload, drawn once from the seeded RNG, so a run can
be repeated with --seed. Every fault goes to the fault log with its wall-clock time in ms.
"""
import os
import signal
import subprocess
import threading
import time

from . import resp
from .heartbeats import HeartbeatWatch
from .procs import now_ms
from .workload import http


LONG = {"pg_stop_long", "pg_sigstop", "redis_sigstop"}


class Faults:
    def __init__(self, cfg, stack, sup, rng, redis_lock, log):
        self.cfg, self.stack, self.sup, self.rng = cfg, stack, sup, rng
        self.redis_lock = redis_lock
        self.log = log
        self.stop = threading.Event()
        # Set when the run ends or is interrupted: outages end at once (SIGCONT) and no late fault runs.
        self.abort = threading.Event()
        self.draining = set()  # worker slots being drained: not SIGKILLed meanwhile
        self.paid_broadcast_started = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.errors = []
        self.redis_downtime = []  # seconds each restart took to answer again
        self.heartbeats = HeartbeatWatch(cfg, stack, sup)
        # What the Telegram faults did: [(start ms, end ms, messages marked)], [(start ms, end ms, counts)].
        self.after_record = []
        self.refusals = []

    def plan(self):
        """[(t, name)], sorted. Short: each kind at least once (Redis twice when it fits)."""
        c, rng = self.cfg, self.rng
        w = c.fault_window
        events = []
        t = rng.uniform(2.0, 3.5)
        while t < w:
            events.append((t, "worker_kill"))
            t += rng.uniform(c.kill_every * 0.7, c.kill_every * 1.3)
        for i in range(c.redis_kills):
            events.append((w * (i + 1) / (c.redis_kills + 1) + rng.uniform(-1, 1), "redis_kill"))
        for i in range(c.pg_restarts):
            events.append((w * (2 * i + 1) / (2 * c.pg_restarts) + rng.uniform(0, 2), "pg_restart"))
        for i in range(c.worker_terms):
            events.append((w * (i + 0.6) / c.worker_terms, "worker_term"))
        for i in range(c.leader_kills):
            events.append((w * (i + 0.75) / c.leader_kills, "leader_kill"))
        # Long and silent outages (issue 26): PostgreSQL stopped, every PostgreSQL process paused,
        # Redis paused. Each in its own part of the window, so one does not hide another.
        events.append((w * 0.10 + rng.uniform(0, 1), "pg_stop_long"))
        events.append((w * 0.35 + rng.uniform(0, 1), "pg_sigstop"))
        events.append((w * 0.60 + rng.uniform(0, 1), "redis_sigstop"))
        return sorted(events)

    def start(self):
        self.t0 = time.monotonic()
        self.thread.start()
        # The paid broadcast's own faults wait for the broadcast, not for the clock: the Telegram
        # faults need sends going on to do anything.
        threading.Thread(target=self._pg_terminate_during_paid, daemon=True).start()
        threading.Thread(target=self._telegram_faults_during_paid, daemon=True).start()

    def _run(self):
        for t, name in self.plan():
            while not self.stop.is_set() and time.monotonic() - self.t0 < t:
                time.sleep(0.05)
            # A fault the outages made late still runs, up to 10 s after the window: each kind is
            # to be injected at least once (faults-injected).
            if self.abort.is_set() or (
                    self.stop.is_set() and (time.monotonic() - self.t0 < t or time.monotonic() - self.t0 > self.cfg.fault_window + 10)):
                return
            if name in LONG:
                # Seconds long: on a thread of its own, so the faults planned after it stay on time.
                threading.Thread(target=self._inject, args=(name,), daemon=True).start()
            else:
                self._inject(name)

    def _inject(self, name):
        try:
            getattr(self, name)()
        except Exception as e:  # a fault that could not be injected is reported, not fatal
            self.errors.append("%s: %s" % (name, e))
            print("chaos: fault %s failed: %s" % (name, e), flush=True)

    # Faults ---------------------------------------------------------------------------------

    def _live_worker_slots(self):
        return [s for s, c in sorted(self.stack.workers.items()) if c.alive() and s not in self.draining]

    def worker_kill(self):
        slots = self._live_worker_slots()
        if not slots:
            return
        slot = self.rng.choice(slots)
        child = self.stack.workers[slot]
        self.sup.kill9(child, "worker_sigkill")
        time.sleep(self.rng.uniform(0.3, 1.0))
        with self.redis_lock:
            self.stack.workers[slot] = self.sup.restart(child)

    def worker_term(self):
        slots = self._live_worker_slots()
        if not slots:
            return
        slot = self.rng.choice(slots)
        self.draining.add(slot)
        child = self.stack.workers[slot]

        def drain():
            allowed = self.cfg.grace + 5  # the grace, plus start-up of the shutdown and the final acks
            # Until its main() has run, no process owns its signals and SIGTERM ends it as the default
            # action does; from main() on, thepred exits 0 while it starts and drains once it runs.
            while now_ms() - child.started_ms < 300:
                time.sleep(0.05)
            self.sup.term(child, allowed, "worker_sigterm")
            if not self.sup.wait_exit(child, allowed + 5):
                self.sup.kill9(child, "worker_sigkill_after_term")
            self.log.add("worker_restart", "%s after drain (exit %s)" % (slot, child.proc.returncode))
            with self.redis_lock:
                self.stack.workers[slot] = self.sup.restart(child)
            self.draining.discard(slot)
        threading.Thread(target=drain, daemon=True).start()

    def redis_kill(self):
        with self.redis_lock:
            # thepred exits 1 when Redis is out of reach at start (README); a kill right after a
            # (re)start would test that, not recovery. Restarts take this lock, so none begins meanwhile.
            while time.monotonic() - self.sup.last_start < 2.5:
                time.sleep(0.1)
            self.sup.kill9(self.stack.redis_child, "redis_kill9")
            time.sleep(self.rng.uniform(0.2, 0.8))
            took = self.stack.start_redis()
            self.redis_downtime.append(took)
            self.log.add("redis_restart", "from AOF, answering after %.2f s" % took)

    def pg_restart(self):
        # As for Redis: a worker exits 1 when PostgreSQL is out of reach at start (README), so no
        # process starts while PostgreSQL restarts (restarts take this lock).
        with self.redis_lock:
            while time.monotonic() - self.sup.last_start < 2.5:
                time.sleep(0.1)
            t = time.monotonic()
            self.log.add("pg_restart", "pg_ctl restart -m fast")
            rc = self.stack.pg_ctl("restart", mode="fast")
        self.log.add("pg_restarted", "rc %d after %.2f s" % (rc, time.monotonic() - t))
        if rc != 0:
            raise RuntimeError("pg_ctl restart exited %d" % rc)

    def pg_stop_long(self):
        """PostgreSQL down for `pg_outage` s, as a managed failover is (20 to 60 s in production)."""
        with self.redis_lock:  # no process starts meanwhile: a worker exits 1 without PostgreSQL
            while time.monotonic() - self.sup.last_start < 2.5:
                time.sleep(0.1)
            watch = self.heartbeats.start("pg_stop_long")
            try:
                self.log.add("pg_stop_long", "pg_ctl stop -m fast, down %.0f s" % self.cfg.pg_outage)
                rc = self.stack.pg_ctl("stop", mode="fast")
                self.abort.wait(self.cfg.pg_outage)  # whole, even past the fault window's end
                rc2 = self.stack.pg_ctl("start")
            finally:
                watch.end()
        self.log.add("pg_started", "stop rc %d, start rc %d" % (rc, rc2))
        if rc or rc2:
            raise RuntimeError("pg_ctl stop/start exited %d/%d" % (rc, rc2))

    def _pg_pids(self):
        with open(os.path.join(self.stack.pg_dir, "postmaster.pid")) as fh:
            master = int(fh.readline().strip())
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True).stdout.split()
        return [master] + [int(p) for p in children]

    def pg_sigstop(self):
        """Every PostgreSQL process SIGSTOPped: sockets that accept and never answer, as a paused VM."""
        with self.redis_lock:
            while time.monotonic() - self.sup.last_start < 2.5:
                time.sleep(0.1)
            pids = self._pg_pids()
            watch = self.heartbeats.start("pg_sigstop")
            self.log.add("pg_sigstop", "%d processes stopped for %.0f s" % (len(pids), self.cfg.pg_pause))
            for p in pids:
                os.kill(p, signal.SIGSTOP)
            try:
                self.abort.wait(self.cfg.pg_pause)
            finally:
                for p in pids:
                    try:
                        os.kill(p, signal.SIGCONT)
                    except ProcessLookupError:
                        pass
                watch.end()
            self.log.add("pg_sigcont", "%d processes continued" % len(pids))

    def redis_sigstop(self):
        """Redis SIGSTOPped: every call hangs, none fails, until it continues."""
        with self.redis_lock:
            while time.monotonic() - self.sup.last_start < 2.5:
                time.sleep(0.1)
            pid = self.stack.redis_child.pid
            self.log.add("redis_sigstop", "stopped for %.0f s" % self.cfg.redis_pause)
            os.kill(pid, signal.SIGSTOP)
            try:
                self.abort.wait(self.cfg.redis_pause)
            finally:
                os.kill(pid, signal.SIGCONT)
            self.log.add("redis_sigcont", "continued")

    def leader_kill(self):
        r = resp.Redis(port=self.cfg.redis_port, timeout=5)
        # Right after a Redis restart or an outage the lock may be free for a few seconds.
        end = time.monotonic() + 15
        holder = r.call_retry("GET", "thepred:scheduler:leader")
        while holder is None and time.monotonic() < end:
            time.sleep(0.2)
            holder = r.call_retry("GET", "thepred:scheduler:leader")
        r.close()
        if holder is None:
            raise RuntimeError("no scheduler leader in thepred:scheduler:leader")
        # RedisSchedulerCoordinator stores the holder, "host:pid:random" (SchedulerService.holder).
        pid = int(holder.decode().split(":")[-2])
        for slot, child in self.stack.schedulers.items():
            if child.pid == pid and child.alive():
                self.sup.kill9(child, "scheduler_leader_kill")
                time.sleep(0.5)
                with self.redis_lock:
                    self.stack.schedulers[slot] = self.sup.restart(child)
                return
        raise RuntimeError("leader %s is none of our schedulers" % holder.decode())

    def _pg_terminate_during_paid(self):
        if not self.paid_broadcast_started.wait(timeout=3600):
            return
        for _ in range(self.cfg.pg_terminations):
            if self.stop.is_set():
                return
            time.sleep(self.rng.uniform(0.3, 0.9))
            try:
                rows = self.stack.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                       "WHERE datname = 'thepred' AND pid <> pg_backend_pid()")
                self.log.add("pg_terminate_backends", "%s backends terminated during the paid broadcast" % rows[0][0])
            except Exception as e:
                self.errors.append("pg_terminate_backends: %s" % e)

    # Telegram faults (issue 26) -----------------------------------------------------------------

    def _telegram_faults_during_paid(self):
        if not self.paid_broadcast_started.wait(timeout=3600) or self.abort.is_set():
            return
        time.sleep(0.5)
        threading.Thread(target=self._inject, args=("fake_502_after_record",), daemon=True).start()
        time.sleep(1.0)
        self._inject("proxy_refuse")

    def _fake(self, method, path, body=None):
        status, _, data = http(self.cfg.fake_port, method, path, body, timeout=10)
        if status != 200:
            raise RuntimeError("fake %s %s answered %s: %s" % (method, path, status, str(data)[:200]))
        return data

    def _marked(self):
        return int(self._fake("GET", "/fake/stats").get("gateway_after_record", 0))

    def fake_502_after_record(self):
        """For a while the fake records a share of the sends it accepts, then answers them 502: the
        worker retries (README, policy), and telegram-once must find each duplicate so explained.
        Kept on past its time, up to 10 s, until at least one message was marked."""
        rate, seconds = self.cfg.gateway_after_record_rate, self.cfg.gateway_502_s
        before = self._marked()
        start = now_ms()
        self._fake("POST", "/fake/config", {"gateway_after_record_rate": rate})
        self.log.add("fake_502_after_record", "%.0f%% of accepted sends answered 502 after recording, for %.0f s" % (
            rate * 100, seconds), start)
        try:
            self.abort.wait(seconds)
            end = time.monotonic() + 10
            while not self.abort.is_set() and time.monotonic() < end and self._marked() - before < 1:
                time.sleep(0.2)
        finally:
            self._fake("POST", "/fake/config", {"gateway_after_record_rate": 0})
        marked = max(0, self._marked() - before)
        self.after_record.append((start, now_ms(), marked))
        self.log.add("fake_502_after_record_off", "%d messages recorded, then answered 502" % marked)

    def proxy_refuse(self):
        """For a few seconds w2's CONNECT proxy answers 403 and closes its idle tunnels: curl fails
        before any byte of a request reached the fake, so each such send is retried (never
        AMBIGUOUS) and delivered. Kept on past its time, up to 10 s, until a CONNECT was refused."""
        proxy, seconds = self.stack.proxy, self.cfg.proxy_refuse_s
        # Only while w2 sends (its requests pass the proxy), or the fault would refuse nobody.
        end = time.monotonic() + 15
        while not self.abort.is_set() and time.monotonic() < end and time.monotonic() - proxy.last_request > 1.0:
            time.sleep(0.1)
        before = proxy.snapshot()
        start = now_ms()
        proxy.refusing = True
        self.log.add("proxy_refuse", "w2's CONNECT proxy answers 403 and closes idle tunnels for %.0f s" % seconds, start)
        try:
            self.abort.wait(seconds)
            end = time.monotonic() + 10
            while not self.abort.is_set() and time.monotonic() < end and proxy.snapshot()["refused"] == before["refused"]:
                time.sleep(0.1)
        finally:
            proxy.refusing = False
        after = proxy.snapshot()
        counts = {k: after[k] - before[k] for k in after}
        self.refusals.append((start, now_ms(), counts))
        self.log.add("proxy_accept", "%d CONNECTs refused, %d idle tunnels closed, %d requests passed meanwhile" % (
            counts["refused"], counts["cut_idle"], counts["requests"]))
