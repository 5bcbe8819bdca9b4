"""ops/chaos: runs the fleet under faults and hostile input, then checks nothing was lost or doubled."""
import argparse
import os
import random
import shutil
import signal
import sys
import time
import traceback

from . import checks, checks2, checks3, heartbeats
from .config import Config
from .faults import Faults
from .procs import FaultLog, Supervisor
from .scenario import Scenario
from .stack import Stack


def parse():
    p = argparse.ArgumentParser(prog="ops/chaos", description=__doc__)
    p.add_argument("--short", action="store_true", help="at most 90 s, a few thousand jobs (CI)")
    p.add_argument("--seed", type=int, default=None, help="seed of every random choice (default: from the clock)")
    p.add_argument("--report", metavar="FILE", help="also write the report as Markdown")
    p.add_argument("--bin", default=os.environ.get("CHAOS_BIN"), help="the thepred binary (ops/chaos passes it)")
    return p.parse_args()


def run_checks(sc, sup):
    facts = checks.Facts(sc.cfg, sc.stack, sc.ledger, sc.collector, sc.journal)
    plan = [
        ("queues-empty", lambda: checks.queues_empty(facts)),
        ("jobs-terminal", lambda: checks.jobs_terminal(facts)),
        ("all-jobs-terminal", lambda: checks.all_jobs_terminal(facts)),
        ("outcomes", lambda: checks.outcomes(facts)),
        ("dead-letters", lambda: checks.dlq_exact(facts)),
        ("bets-once", lambda: checks.bets_once(facts)),
        ("settlement", lambda: checks.settlement(facts)),
        ("audit", lambda: checks.audit(facts)),
        ("delivery-log", lambda: checks.delivery_log(facts)),
        ("front", lambda: checks.front_answers(facts)),
        ("broadcasts", lambda: checks2.broadcasts(facts)),
        ("leaderboard", lambda: checks2.leaderboard(facts)),
        ("telegram-once", lambda: checks2.telegram_once(facts, sup)),
        ("redis-memory", lambda: checks2.redis_memory(facts, sc.baseline)),
        ("proxy-refusals", lambda: checks3.proxy_refusals(facts, sc.faults)),
        ("heartbeats", lambda: heartbeats.check(sc.faults.heartbeats, sup)),
        ("processes", lambda: checks.processes(sup)),
        ("faults-injected", lambda: faults_injected(sc)),
    ]
    results = []
    for name, fn in plan:
        try:
            ok, figure = fn()
        except Exception as e:  # a check that cannot run is a failure, with the reason
            ok, figure = False, "check could not run: %s: %s" % (type(e).__name__, e)
            traceback.print_exc()
        results.append((name, bool(ok), figure))
        print("%s %s: %s" % ("PASS" if ok else "FAIL", name, figure), flush=True)
    sc.records = facts.records
    return results


def faults_injected(sc):
    """The harness's own check: every kind of fault was injected at least once."""
    counts = sc.log.counts()
    want = ["worker_sigkill", "worker_sigterm", "redis_kill9", "pg_restart", "pg_terminate_backends",
            "scheduler_leader_kill", "worker_visibility", "pg_stop_long", "pg_sigstop", "redis_sigstop",
            "fake_502_after_record", "proxy_refuse"]
    missing = [k for k in want if not counts.get(k)]
    fig = ", ".join("%s %d" % kv for kv in sorted(counts.items()))
    errors = list(sc.faults.errors)
    # A Telegram fault that met no send proved nothing: it must have marked a message.
    marked = sum(n for _, _, n in sc.faults.after_record)
    if counts.get("fake_502_after_record") and not marked:
        errors.append("fake_502_after_record marked no message")
    fig += "; %d messages recorded then answered 502" % marked
    return not missing and not errors, fig if not (missing or errors) else "missing %s; errors %s; injected %s" % (missing, errors, fig)


def report(sc, sup, results, seconds, args, path):
    L = sc.ledger
    lines = ["# ops/chaos report", "",
             "- command: `ops/chaos%s --seed %d`" % (" --short" if sc.cfg.short else "", sc.cfg.seed),
             "- machine: %s, %d cores" % (os.uname().machine + " " + os.uname().release, os.cpu_count() or 0),
             "- wall clock: %.0f s (fault window %.0f s)" % (seconds, sc.cfg.fault_window), "",
             "## Jobs accepted, by kind and source", "", "| kind via source | jobs |", "| --- | --- |"]
    by = L.count_by()
    lines += ["| %s | %d |" % kv for kv in sorted(by.items())]
    lines += ["| **total** | %d |" % sum(by.values()), "",
              "Plus %d XADD entries in all (%d delivered twice), and the jobs the platform made itself (missions, "
              "notifications, broadcast sends): see `thepred queues` figures below." % (L.xadd_entries, L.xadd_twice), ""]
    recs = getattr(sc, "records", {})
    lines += ["Jobs the fleet ran in all, by queue (status records left after the run): " +
              ", ".join("%s %d" % kv for kv in sorted(recs.items())) + "; **total %d**." % sum(recs.values()), ""]
    lines += ["## Faults injected", "", "| fault | count |", "| --- | --- |"]
    # The log also records each restart and how long it took; the table counts faults only.
    lines += ["| %s | %d |" % kv for kv in sorted(sc.log.counts().items())
              if kv[0] not in ("redis_restart", "pg_restarted", "worker_restart", "fake_502_after_record_off", "proxy_accept")]
    lines += ["", "Fault log: `var/chaos/log/faults.log` (wall-clock ms, kind, detail).", "", "## Checks", "", "| check | result | figure |",
              "| --- | --- | --- |"]
    lines += ["| %s | %s | %s |" % (n, "PASS" if ok else "**FAIL**", fig.replace("|", "\\|")) for n, ok, fig in results]
    lines += ["", "chaos: %d passed, %d failed" % (sum(ok for _, ok, _ in results), sum(not ok for _, ok, _ in results))]
    text = "\n".join(lines) + "\n"
    if not sc.cfg.short:
        print("\n" + text.rsplit("\nchaos:", 1)[0])  # the summary line comes last, once
    if path:
        with open(path, "w") as fh:
            fh.write(text)


def main():
    args = parse()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    seed = args.seed if args.seed is not None else int(time.time()) % 100000
    if not args.bin or not os.access(args.bin, os.X_OK):
        sys.exit("ops/chaos: no thepred binary (%s); run ops/chaos, or set CHAOS_BIN" % args.bin)
    cfg = Config(args.short, seed, root, os.path.abspath(args.bin))
    print("chaos: %s run, seed %d, binary %s" % ("short" if cfg.short else "long", seed, cfg.bin), flush=True)
    shutil.rmtree(cfg.var, ignore_errors=True)
    if cfg.redis_dir_owned:
        shutil.rmtree(cfg.redis_dir, ignore_errors=True)
    os.makedirs(cfg.log_dir)
    log = FaultLog(os.path.join(cfg.log_dir, "faults.log"))
    sup = Supervisor(cfg.log_dir, log)
    stack = Stack(cfg, sup)
    sc = Scenario(cfg, stack, sup, Faults, random.Random(seed), log)

    def interrupted(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)
    signal.signal(signal.SIGTERM, interrupted)
    t0 = time.monotonic()
    results, code = [], 1
    try:
        sc.provision()
        sc.start_fleet()
        sc.play()
        sc.drain()
        results = run_checks(sc, sup)
        seconds = time.monotonic() - t0
        report(sc, sup, results, seconds, args, args.report)
        failed = sum(not ok for _, ok, _ in results)
        print("chaos: %.0f s; logs under %s" % (seconds, cfg.log_dir))
        print("chaos: %d passed, %d failed" % (len(results) - failed, failed), flush=True)
        code = 1 if failed else 0
    except KeyboardInterrupt as e:
        print("chaos: interrupted (%s); stopping the fleet" % e, flush=True)
        code = 130
    except Exception as e:
        traceback.print_exc()
        print("chaos: the harness failed: %s: %s" % (type(e).__name__, e), flush=True)
        print("chaos: 0 passed, 1 failed", flush=True)
        code = 1
    finally:
        sc.stop.set()
        sc.faults.abort.set()
        sc.faults.stop.set()
        time.sleep(0.3)  # a paused PostgreSQL or Redis gets its SIGCONT before the fleet stops
        sup.stop_all(grace_s=4 if cfg.short else cfg.grace + 2)
        if stack.proxy is not None:
            stack.proxy.stop()
        stack.pg_stop()
        if cfg.redis_dir_owned:
            shutil.rmtree(cfg.redis_dir, ignore_errors=True)  # it lives in RAM
    return code


if __name__ == "__main__":
    sys.exit(main())
