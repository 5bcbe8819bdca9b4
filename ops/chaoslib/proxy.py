"""A small HTTP CONNECT proxy in front of the fake Bot API, for one worker (`--telegram-proxy`).

The worker's libcurl opens a tunnel with CONNECT (CURLOPT_HTTPPROXYTUNNEL, even to the fake's
http:// base) and keeps it for many requests, so CONNECTs are rare and the proxy costs one thread
per tunnel. The `proxy_refuse` fault makes it refuse: every CONNECT is answered 403, and each
tunnel is closed once it is idle (no request in flight), so the worker's next send has to open a
new one and fails before any byte of its request left the worker. A tunnel with a request in
flight is never cut: that would make a send whose request may have arrived (AMBIGUOUS), which is
not what this fault is about.

It runs in a process of its own: in the harness's, every hop of every request would wait for the
interpreter lock, which the MONITOR journal holds much of the time (measured: 0.2 ms a request
alone, 20 ms more beside a busy thread). The two share its switch and counters in shared memory.
"""
import multiprocessing
import os
import select
import socket
import threading
import time

FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
# A tunnel counts as idle once the answer to its last request has come back and nothing moved for
# this long: a Bot API answer is one small write, so no answer is split by such a pause.
QUIET_S = 0.2


class _Relay:
    def __init__(self, port, target_port, host, shared):
        self.host, self.port, self.target = host, port, ("127.0.0.1", target_port)
        self.shared = shared
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(128)

    @property
    def refusing(self):
        return bool(self.shared["refusing"].value)

    def count(self, name, n=1):
        with self.lock:
            self.shared[name].value += n

    def serve_forever(self, parent):
        threading.Thread(target=self._accept_loop, name="connect-proxy", daemon=True).start()
        # Gone with the harness, however it ends.
        while os.getppid() == parent:
            time.sleep(0.5)

    def _accept_loop(self):
        while not self.stopped.is_set():
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _read_head(self, client):
        """The CONNECT request's head, or None if the client went away first."""
        data = b""
        client.settimeout(10)
        while b"\r\n\r\n" not in data:
            chunk = client.recv(4096)
            if not chunk or len(data) > 16384:
                return None
            data += chunk
        client.settimeout(None)
        head, rest = data.split(b"\r\n\r\n", 1)
        return head, rest

    def _serve(self, client):
        upstream = None
        try:
            got = self._read_head(client)
            if got is None:
                return
            head, early = got
            parts = head.split(b"\r\n", 1)[0].split()
            wanted = parts[1].decode("latin-1") if len(parts) >= 2 and parts[0] == b"CONNECT" else ""
            refuse = self.refusing
            if refuse:
                self.count("refused")
            elif wanted != "%s:%d" % self.target:
                self.count("errors")
            if refuse or wanted != "%s:%d" % self.target:
                client.sendall(FORBIDDEN)
                return
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.sendall(ESTABLISHED)
            self.count("connects")
            if early:
                upstream.sendall(early)
            self._relay(client, upstream)
        except OSError:
            pass  # a worker SIGKILLed, or the fake restarted: the tunnel ends, curl opens another
        finally:
            for s in (client, upstream):
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass

    def _relay(self, client, upstream):
        busy, last = False, time.monotonic()
        while not self.stopped.is_set():
            # Woken at least every half second to see whether a refusal began.
            readable, _, _ = select.select([client, upstream], [], [], 0.5 if not self.refusing else 0.05)
            if not readable:
                if self.refusing and not busy and time.monotonic() - last >= QUIET_S:
                    # Closed between requests: curl finds the connection dead before it writes the
                    # next one and opens another tunnel, which the proxy now refuses.
                    self.count("cut_idle")
                    return
                continue
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                if s is client:
                    upstream.sendall(data)
                    busy = True
                    self.count("requests")
                    self.shared["last_request"].value = time.monotonic()
                else:
                    client.sendall(data)
                    busy = False
                last = time.monotonic()


COUNTERS = ("connects", "refused", "cut_idle", "requests", "errors")


def _main(port, target_port, host, shared, ready, parent):
    relay = _Relay(port, target_port, host, shared)
    ready.set()
    relay.serve_forever(parent)


class ConnectProxy:
    """The proxy's process, seen from the harness: its switch, its counters, its URL."""

    def __init__(self, port, target_port, host="127.0.0.1"):
        self.host, self.port = host, port
        ctx = multiprocessing.get_context("spawn")  # no fork of a threaded harness
        self.shared = {name: ctx.Value("q", 0, lock=False) for name in COUNTERS}
        self.shared["refusing"] = ctx.Value("b", 0, lock=False)
        self.shared["last_request"] = ctx.Value("d", 0.0, lock=False)  # monotonic: one clock per host
        ready = ctx.Event()
        self.process = ctx.Process(target=_main, args=(port, target_port, host, self.shared, ready, os.getpid()),
                                   name="connect-proxy", daemon=True)
        self.process.start()
        if not ready.wait(15):
            self.stop()
            raise RuntimeError("the CONNECT proxy did not listen on %s:%d" % (host, port))

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def refusing(self):
        return bool(self.shared["refusing"].value)

    @refusing.setter
    def refusing(self, on):
        self.shared["refusing"].value = 1 if on else 0

    @property
    def last_request(self):
        return self.shared["last_request"].value

    @property
    def errors(self):
        n = self.shared["errors"].value
        return ["%d CONNECTs to another target than the fake refused" % n] if n else []

    def snapshot(self):
        return {name: self.shared[name].value for name in ("connects", "refused", "cut_idle", "requests")}

    def stop(self):
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)
