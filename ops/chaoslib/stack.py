"""The fleet under test: Redis (AOF), PostgreSQL 15, the fake Bot API, schedulers, workers, front.

All on 127.0.0.1, all data and logs under var/chaos (PostgreSQL's under /var/tmp when its user
cannot reach var/, as ops/lib.sh does).
"""
import hashlib
import os
import shutil
import subprocess
import time

from . import resp
from .proxy import ConnectProxy

PG_BIN = "/usr/lib/postgresql/15/bin"
TOKEN = "chaos-bot-token-123"
ADMIN_TOKEN = "chaos-admin-token-0123456789"


def _as_pg(argv):
    """initdb and pg_ctl refuse root; run them as postgres when we are root."""
    if os.getuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + argv
    return argv


class Stack:
    def __init__(self, cfg, sup):
        self.cfg = cfg
        self.sup = sup
        self.redis_child = None
        self.workers = {}  # slot name -> current Child
        self.schedulers = {}
        self.front = None
        self.fake = None
        self.proxy = None
        self.pg_dir = None
        self.redis_url = "redis://127.0.0.1:%d/0" % cfg.redis_port
        self.db_url = "postgres://postgres@127.0.0.1:%d/thepred" % cfg.pg_port

    # Redis ----------------------------------------------------------------------------------

    def redis_argv(self):
        d = self.cfg.redis_dir
        os.makedirs(d, exist_ok=True)
        return ["redis-server", "--bind", "127.0.0.1", "--port", str(self.cfg.redis_port), "--dir", d,
                "--appendonly", "yes", "--appendfsync", self.cfg.appendfsync, "--save", "", "--daemonize", "no",
                "--protected-mode", "yes", "--maxmemory-policy", "noeviction", "--logfile", ""]

    def start_redis(self):
        if self.redis_child is None:
            self.redis_child = self.sup.start("redis", self.redis_argv(), role="redis")
        else:
            self.redis_child = self.sup.restart(self.redis_child)
        return self.wait_redis()

    def wait_redis(self, timeout_s=30):
        """Seconds until Redis answers PING (after loading its AOF)."""
        t0 = time.monotonic()
        r = resp.Redis(port=self.cfg.redis_port, timeout=2)
        while time.monotonic() - t0 < timeout_s:
            try:
                if r.call("PING") == b"PONG":
                    r.close()
                    return time.monotonic() - t0
            except (OSError, ConnectionError, resp.RedisError):
                pass
            time.sleep(0.05)
        raise RuntimeError("redis did not answer within %d s" % timeout_s)

    # PostgreSQL -----------------------------------------------------------------------------

    def _pg_dir(self):
        d = os.path.join(self.cfg.var, "pg")
        if os.getuid() == 0:
            ok = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", self.cfg.var]).returncode == 0
            if not ok:
                tag = hashlib.md5(self.cfg.root.encode()).hexdigest()[:8]
                base = "/var/tmp/thepred-%s" % tag
                os.makedirs(base, exist_ok=True)
                os.chmod(base, 0o755)
                d = os.path.join(base, "pg-chaos")
        return d

    def start_postgres(self):
        self.pg_dir = self._pg_dir()
        self.pg_stop()  # a previous run that died hard may have left one
        shutil.rmtree(self.pg_dir, ignore_errors=True)
        os.makedirs(self.pg_dir)
        if os.getuid() == 0:
            shutil.chown(self.pg_dir, "postgres", "postgres")
        os.chmod(self.pg_dir, 0o700)
        subprocess.run(_as_pg([PG_BIN + "/initdb", "-D", self.pg_dir, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                               "--locale=C.UTF-8"]), check=True, stdout=subprocess.DEVNULL, cwd="/")
        self.pg_ctl("start")
        self.psql("CREATE DATABASE thepred", db="postgres")

    def pg_ctl(self, action, mode="fast"):
        opts = "-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=200" % (self.cfg.pg_port, self.pg_dir)
        argv = [PG_BIN + "/pg_ctl", "-D", self.pg_dir, "-l", self.pg_dir + "/server.log", "-w", "-t", "30"]
        if action in ("stop", "restart"):
            argv += ["-m", mode]
        argv.append(action)
        if action in ("start", "restart"):
            argv += ["-o", opts]
        return subprocess.run(_as_pg(argv), stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, cwd="/").returncode

    def pg_stop(self):
        if self.pg_dir and os.path.exists(os.path.join(self.pg_dir, "postmaster.pid")):
            self.pg_ctl("stop", mode="fast")

    def psql(self, sql, db="thepred", retries=50):
        """Rows of a query as lists of strings; retried while PostgreSQL restarts."""
        argv = ["psql", "-h", "127.0.0.1", "-p", str(self.cfg.pg_port), "-U", "postgres", "-d", db, "-X", "-q",
                "-tA", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql]
        for i in range(retries):
            p = subprocess.run(argv, capture_output=True, text=True)
            if p.returncode == 0:
                return [line.split("\t") for line in p.stdout.splitlines() if line != ""]
            err = p.stderr.lower()
            # Only a PostgreSQL that is restarting (or had its backends terminated) is waited for.
            if not any(w in err for w in ("connection", "could not connect", "database system is", "terminating")):
                raise RuntimeError("psql failed: %s\n%s" % (sql[:200], p.stderr.strip()))
            time.sleep(0.2)
        raise RuntimeError("psql: PostgreSQL unreachable: %s" % p.stderr.strip())

    def scalar(self, sql):
        rows = self.psql(sql)
        return rows[0][0] if rows else None

    # thepred commands -----------------------------------------------------------------------

    def tp(self, *args, check=True, timeout=300):
        """Runs a one-shot thepred command against the stack; returns the CompletedProcess."""
        argv = [self.cfg.bin] + list(args)
        env = dict(os.environ, REDIS_URL=self.redis_url, DATABASE_URL=self.db_url, TELEGRAM_BOT_TOKEN=TOKEN,
                   LOG_LEVEL="warning")
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, cwd=self.cfg.root)
        if check and p.returncode != 0:
            raise RuntimeError("%s failed (%d): %s %s" % (" ".join(args[:3]), p.returncode, p.stdout[-500:], p.stderr[-1500:]))
        return p

    # The fleet ------------------------------------------------------------------------------

    def start_fake(self, blocked):
        c = self.cfg
        argv = [c.bin, "fake-telegram", "--host", "127.0.0.1", "--port", str(c.fake_port), "--token", TOKEN,
                "--global-rate", str(c.fake_global_rate), "--paid-rate", "1000",
                "--blocked", ",".join(str(b) for b in blocked),
                "--failure-rate", str(c.failure_rate), "--slow-rate", str(c.slow_rate),
                "--slow-delay-ms", str(c.slow_delay_ms)]
        self.fake = self.sup.start("fake-telegram", argv, role="fake")

    def start_front(self):
        c = self.cfg
        argv = [c.bin, "front", "--host", "127.0.0.1", "--port", str(c.front_port), "--redis-url", self.redis_url,
                "--telegram-bot-token", TOKEN, "--admin-token", ADMIN_TOKEN, "--metrics-port", str(c.front_port + 1000)]
        self.front = self.sup.start("front", argv, role="front")

    def scheduler_argv(self):
        return [self.cfg.bin, "scheduler", "--redis-url", self.redis_url, "--leader-ttl", str(self.cfg.leader_ttl)]

    def start_scheduler(self, slot):
        self.schedulers[slot] = self.sup.start(slot, self.scheduler_argv(), role="scheduler")

    def worker_argv(self, visibility_s, telegram_timeout_s, proxy=None):
        c = self.cfg
        argv = [c.bin, "worker", "--redis-url", self.redis_url, "--database-url", self.db_url,
                "--telegram-bot-token", TOKEN, "--telegram-api-base", "http://127.0.0.1:%d" % c.fake_port,
                "--telegram-rate", str(c.telegram_rate), "--telegram-paid-rate", "900",
                "--telegram-timeout", str(telegram_timeout_s), "--grace", str(c.grace),
                "--visibility-timeout", str(visibility_s), "--concurrency", str(c.concurrency)]
        return argv + ["--telegram-proxy", proxy] if proxy else argv

    def start_worker(self, slot, visibility_s, telegram_timeout_s, proxy=None):
        argv = self.worker_argv(visibility_s, telegram_timeout_s, proxy)
        self.workers[slot] = self.sup.start(slot, argv, role="worker")
        return self.workers[slot]

    def start_proxy(self):
        """The CONNECT proxy one worker sends through (proxy_refuse); it lives in the harness."""
        self.proxy = ConnectProxy(self.cfg.proxy_port, self.cfg.fake_port)
        return self.proxy

    def wait_http(self, port, path="/healthz", timeout_s=20):
        import urllib.request
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("nothing answers on 127.0.0.1:%d%s" % (port, path))
