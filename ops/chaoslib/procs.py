"""Child processes the harness owns: started in process groups of their own, watched, stopped.

Every exit is recorded. An exit the harness did not cause (a crash, SIGILL, a worker that quits
by itself) is "unexpected" and fails the `processes` check; an exit it caused by SIGKILL is
expected; an exit after SIGTERM is expected only with status 0 within the allowed time.
"""
import os
import signal
import subprocess
import threading
import time


def now_ms():
    return int(time.time() * 1000)


class FaultLog:
    """Every fault, with its wall-clock time in ms, to a file and to stdout."""

    def __init__(self, path, quiet=False):
        self.path = path
        self.lock = threading.Lock()
        self.entries = []  # (ms, kind, detail)
        self.quiet = quiet
        self.file = open(path, "a", buffering=1)

    def add(self, kind, detail, at_ms=None):
        at = at_ms if at_ms is not None else now_ms()
        with self.lock:
            self.entries.append((at, kind, detail))
            self.file.write("%d %s %s\n" % (at, kind, detail))
        if not self.quiet:
            print("chaos: fault %d %s %s" % (at, kind, detail), flush=True)

    def counts(self):
        out = {}
        for _, kind, _ in self.entries:
            out[kind] = out.get(kind, 0) + 1
        return out


class Child:
    def __init__(self, name, argv, log_path, env, role):
        self.name, self.argv, self.log_path, self.env, self.role = name, argv, log_path, env, role
        self.proc = None
        self.started_ms = 0
        # Set by the harness before it signals the process: what exit it expects.
        self.expect = None  # None, "kill", ("term", deadline_monotonic)
        self.exit_code = None
        self.exit_ms = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Supervisor:
    def __init__(self, log_dir, fault_log):
        self.log_dir = log_dir
        self.faults = fault_log
        self.lock = threading.Lock()
        self.children = []  # every Child ever started, including exited ones
        self.unexpected = []  # (name, pid, status text, ms)
        self.term_exits = []  # (name, pid, code, seconds)
        self.kill_times = []  # (ms, pid, name) of every SIGKILL of a worker
        self.stopping = False
        self.last_start = 0.0  # monotonic time of the latest start
        self._watch = threading.Thread(target=self._watch_loop, daemon=True)
        self._watch.start()

    def start(self, name, argv, env=None, role="other", log_name=None):
        log_path = os.path.join(self.log_dir, (log_name or name) + ".log")
        log = open(log_path, "ab")
        log.write(("\n=== %d start %s\n" % (now_ms(), " ".join(argv))).encode())
        log.flush()
        child = Child(name, argv, log_path, env, role)
        # A session of its own: Ctrl-C at the terminal reaches the harness only, which then
        # stops the fleet in order; and a whole group can be signalled at cleanup.
        child.proc = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)
        log.close()
        child.started_ms = now_ms()
        self.last_start = time.monotonic()
        with self.lock:
            self.children.append(child)
        return child

    def restart(self, child):
        """A new process with the same name, flags and log; the old Child stays in the record."""
        return self.start(child.name, child.argv, child.env, child.role)

    def live(self, role=None):
        with self.lock:
            return [c for c in self.children if c.alive() and c.exit_code is None and (role is None or c.role == role)]

    def kill9(self, child, fault_kind):
        child.expect = "kill"
        at = now_ms()
        try:
            os.kill(child.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if child.role == "worker":
            with self.lock:
                self.kill_times.append((at, child.pid, child.name))
        self.faults.add(fault_kind, "SIGKILL %s pid %d" % (child.name, child.pid), at)
        child.proc.wait()

    def term(self, child, allowed_s, fault_kind=None):
        child.expect = ("term", time.monotonic() + allowed_s, time.monotonic())
        if fault_kind:
            self.faults.add(fault_kind, "SIGTERM %s pid %d (must exit 0 within %d s)" % (child.name, child.pid, allowed_s))
        try:
            os.kill(child.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def wait_exit(self, child, timeout_s):
        try:
            child.proc.wait(timeout=timeout_s)
            return True
        except subprocess.TimeoutExpired:
            return False

    def _status_text(self, code):
        if code < 0:
            try:
                return "killed by %s (exit %d)" % (signal.Signals(-code).name, 128 - code)
            except ValueError:
                return "killed by signal %d" % -code
        return "exit %d" % code

    def _record_exit(self, c, code):
        c.exit_code = code
        c.exit_ms = now_ms()
        if c.expect == "kill":
            return
        if isinstance(c.expect, tuple) and c.expect[0] == "term":
            took = time.monotonic() - c.expect[2]
            self.term_exits.append((c.name, c.pid, code, took))
            if code == 0 and time.monotonic() <= c.expect[1]:
                return
            why = "after SIGTERM: %s" % self._status_text(code)
            if code == 0:
                why += " but later than allowed"
        else:
            why = self._status_text(code)
        self.unexpected.append((c.name, c.pid, why, c.exit_ms))
        print("chaos: UNEXPECTED EXIT %s pid %d: %s (log %s)" % (c.name, c.pid, why, c.log_path), flush=True)

    def _watch_loop(self):
        while True:
            time.sleep(0.05)
            with self.lock:
                children = list(self.children)
            for c in children:
                if c.exit_code is None and c.proc is not None:
                    code = c.proc.poll()
                    if code is not None:
                        with self.lock:
                            if c.exit_code is None:
                                self._record_exit(c, code)

    def stop_all(self, grace_s=10.0):
        """SIGTERM every live child (workers drain), then SIGKILL whatever group is left."""
        self.stopping = True
        live = self.live()
        deadline = time.monotonic() + grace_s
        for c in live:
            c.expect = ("term", deadline + 3600, time.monotonic())  # an exit at cleanup is never a finding
            try:
                os.kill(c.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for c in live:
            try:
                c.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        with self.lock:
            children = list(self.children)
        for c in children:
            # Only groups whose leader is not reaped yet: a reaped pid may belong to someone else now.
            if c.proc is None or c.proc.poll() is not None:
                continue
            c.expect = "kill"
            try:
                os.killpg(c.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                c.proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                pass
