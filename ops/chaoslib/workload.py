"""What the harness asks of the fleet, and the record of everything that was accepted.

Two producers: the HTTP front (signed Mini App init data, admin token) and raw XADDs, as a
producer in another language would write them. Every accepted job is recorded with its queue,
kind, source and what the checks should expect of it.
"""
import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from . import resp
from .stack import ADMIN_TOKEN, TOKEN

INT64_MIN = -9223372036854775808
INT64_MAX = 9223372036854775807


def sign_init_data(user_id, token=TOKEN, auth_date=None):
    """Init data as Telegram signs it (TelegramInitData.swift): the fields but hash, sorted, as
    key=value lines, HMAC-SHA256 under HMAC-SHA256(key "WebAppData", bot token)."""
    fields = {"auth_date": str(auth_date or int(time.time())), "user": json.dumps({"id": user_id}, separators=(",", ":"))}
    check = "\n".join("%s=%s" % (k, fields[k]) for k in sorted(fields))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return "&".join("%s=%s" % (k, urllib.parse.quote(v, safe="")) for k, v in fields.items())


def http(port, method, path, body=None, headers=None, timeout=10):
    """(status, headers dict, parsed JSON or text); never raises for an HTTP status."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, hdrs, raw = r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        status, hdrs, raw = e.code, dict(e.headers), e.read()
    try:
        return status, hdrs, json.loads(raw)
    except ValueError:
        return status, hdrs, raw.decode("utf-8", "replace")


class Job:
    """One accepted job. expect: "ok" (must succeed), "refused" (a business refusal: rejected once
    the defects are fixed), "dead" (must be a dead letter; reasons allowed), "any" (terminal)."""
    __slots__ = ("id", "queue", "kind", "source", "expect", "reasons", "tag", "note", "bet")

    def __init__(self, id, queue, kind, source, expect="ok", reasons=(), tag=None, note="", bet=None):
        self.id, self.queue, self.kind, self.source = id, queue, kind, source
        self.expect, self.reasons, self.tag, self.note, self.bet = expect, tuple(reasons), tag, note, bet


class Ledger:
    """Everything the workload did, for the checks and the report."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs = {}  # job id -> Job (front and XADD)
        self.hostile = []  # Job, including entries without an id (matched by tag)
        self.idem_pairs = []  # (key, first job id, second job id, replayed header)
        self.front_errors = []  # (what, status, body)
        self.front_503 = 0
        self.front_429 = 0
        self.xadd_entries = 0
        self.xadd_twice = 0
        self.broadcasts = {}  # name -> {"job": id, "text": text}
        self.markets = {}  # name -> {"job": id, "id": market id, "title": t}

    def add(self, job):
        with self.lock:
            self.jobs.setdefault(job.id, job)

    def count_by(self):
        out = {}
        with self.lock:
            for j in list(self.jobs.values()) + [h for h in self.hostile if h.id not in self.jobs]:
                key = "%s via %s" % (j.kind if len(j.kind) <= 40 else j.kind[:20] + "...(%d bytes)" % len(j.kind), j.source)
                out[key] = out.get(key, 0) + 1
        return out


class Front:
    def __init__(self, port, ledger, stop_event):
        self.port, self.ledger, self.stop = port, ledger, stop_event

    def post(self, path, body, headers, what, deadline_s=60):
        """POSTs, retrying 503 (Redis down) and connection errors until a deadline; every retried
        request carries an Idempotency-Key or a built-in key, so a retry cannot make a second job."""
        end = time.monotonic() + deadline_s
        while True:
            try:
                status, hdrs, data = http(self.port, "POST", path, body, headers)
            except OSError as e:
                status, hdrs, data = 0, {}, str(e)
            if status == 202:
                return data["job_id"], hdrs
            if status in (0, 503) and time.monotonic() < end:
                with self.ledger.lock:
                    self.ledger.front_503 += 1
                time.sleep(0.25)
                continue
            # Over a rate limit: wait as told, as a Mini App would, and send the same request again.
            if status == 429 and time.monotonic() < end:
                with self.ledger.lock:
                    self.ledger.front_429 += 1
                time.sleep(min(5.0, float((hdrs or {}).get("retry-after", hdrs.get("Retry-After", "1")) or 1)))
                continue
            with self.ledger.lock:
                self.ledger.front_errors.append((what, status, str(data)[:300]))
            return None, hdrs

    def admin(self, path, body, what, key=None):
        headers = {"Authorization": "Bearer " + ADMIN_TOKEN}
        if key:
            headers["Idempotency-Key"] = key
        return self.post(path, body, headers, what)[0]

    def bet(self, telegram_id, market_id, outcome, stake, key, twice=False, expect="ok", note=""):
        headers = {"Authorization": "tma " + sign_init_data(telegram_id), "Idempotency-Key": key}
        body = {"market_id": market_id, "outcome": outcome, "stake": stake}
        job_id, _ = self.post("/v1/bets", body, headers, "bet %s" % key)
        if job_id is None:
            return None
        self.ledger.add(Job(job_id, "bets", "bets.place", "front", expect=expect, note=note,
                            bet=(telegram_id, market_id, outcome, stake)))
        if twice:
            again, hdrs = self.post("/v1/bets", body, headers, "bet again %s" % key)
            replayed = {k.lower(): v for k, v in hdrs.items()}.get("idempotent-replayed")
            with self.ledger.lock:
                self.ledger.idem_pairs.append((key, job_id, again, replayed))
        return job_id

    def bets(self, specs, threads=6):
        """specs: (telegram_id, market_id, outcome, stake, key, twice, expect)."""
        def one(s):
            if not self.stop.is_set():
                self.bet(*s)
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, specs))


class Xadd:
    """A foreign producer: plain XADDs, pipelined. Batches never overlap a Redis kill (the
    harness holds `redis_lock` around both), so an entry is either acknowledged or never sent:
    the accounting stays exact without guessing what a cut connection delivered."""

    def __init__(self, port, ledger, redis_lock):
        self.r = resp.Redis(port=port, timeout=30)
        self.ledger, self.lock = ledger, redis_lock

    def entries(self, entries):
        """entries: list of (queue, [field, value, ...]). Returns the stream entry ids."""
        with self.lock:
            for _ in range(100):
                try:
                    replies = self.r.pipeline([["XADD", "thepred:{%s}:stream" % q, "*"] + f for q, f in entries])
                    break
                except (OSError, ConnectionError):
                    time.sleep(0.2)  # Redis is restarting; nothing of this batch was sent
            else:
                raise RuntimeError("XADD: redis unreachable")
        for rep in replies:
            if isinstance(rep, resp.RedisError):
                raise RuntimeError("XADD refused: %s" % rep)
        with self.ledger.lock:
            self.ledger.xadd_entries += len(entries)
        return replies

    def jobs(self, jobs_payloads, twice_ids=()):
        """jobs_payloads: list of (Job, payload dict). Jobs in twice_ids are XADDed twice."""
        batch = []
        for job, payload in jobs_payloads:
            fields = ["id", job.id, "kind", job.kind, "payload", json.dumps(payload, separators=(",", ":"))]
            batch.append((job.queue, fields))
            if job.id in twice_ids:
                batch.append((job.queue, fields))
            self.ledger.add(job)
        with self.ledger.lock:
            self.ledger.xadd_twice += len(twice_ids)
        for i in range(0, len(batch), 500):
            self.entries(batch[i:i + 500])


class MessageCollector:
    """Copies the fake Bot API's accepted messages as they come (GET /fake/messages?since_id=),
    so its record survives a crash of the fake itself: a restarted fake starts with none."""

    def __init__(self, port, stack):
        self.port, self.stack = port, stack
        self.lock = threading.Lock()
        self.by_key = {}  # (fake pid, message_id) -> message
        self.last = {}  # fake pid -> last message id seen
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def poll(self):
        fake = self.stack.fake
        if fake is None or not fake.alive():
            return
        pid = fake.pid
        try:
            status, _, msgs = http(self.port, "GET", "/fake/messages?since_id=%d" % self.last.get(pid, 0), timeout=60)
        except OSError:
            return
        if status != 200 or not isinstance(msgs, list):
            return
        with self.lock:
            for m in msgs:
                self.by_key[(pid, m["message_id"])] = m
                self.last[pid] = max(self.last.get(pid, 0), m["message_id"])

    def _loop(self):
        while not self.stopped.wait(1.0):
            self.poll()

    def messages(self):
        self.poll()
        with self.lock:
            return sorted(self.by_key.values(), key=lambda m: (m["at_ms"], m["message_id"]))
