"""A small HTTP CONNECT proxy in front of the fake Bot API, for one worker (`--telegram-proxy`).

The worker's libcurl opens a tunnel with CONNECT (CURLOPT_HTTPPROXYTUNNEL, even to the fake's
http:// base) and keeps it for many requests, so CONNECTs are rare and the proxy costs one thread
per tunnel. The `proxy_refuse` fault makes it refuse: every CONNECT is answered 403, and each
tunnel is closed once it is idle (no request in flight), so the worker's next send has to open a
new one and fails before any byte of its request left the worker. A tunnel with a request in
flight is never cut: that would make a send whose request may have arrived (AMBIGUOUS), which is
not what this fault is about.
"""
import select
import socket
import threading
import time

FORBIDDEN = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"
# A tunnel counts as idle once the answer to its last request has come back and nothing moved for
# this long: a Bot API answer is one small write, so no answer is split by such a pause.
QUIET_S = 0.2


class ConnectProxy:
    def __init__(self, port, target_port, host="127.0.0.1"):
        self.host, self.port, self.target = host, port, ("127.0.0.1", target_port)
        self.lock = threading.Lock()
        self.refusing = False
        # Counts over the whole run; the fault reads them before and after its window.
        self.connects = 0  # tunnels opened
        self.refused = 0  # CONNECTs answered 403
        self.cut_idle = 0  # idle tunnels closed while refusing
        self.requests = 0  # client writes forwarded (about one per request)
        self.last_request = 0.0  # monotonic time of the latest one
        self.errors = []
        self.stopped = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(128)
        threading.Thread(target=self._accept_loop, name="connect-proxy", daemon=True).start()

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    def snapshot(self):
        with self.lock:
            return {"connects": self.connects, "refused": self.refused, "cut_idle": self.cut_idle, "requests": self.requests}

    def stop(self):
        self.stopped.set()
        try:
            self.sock.close()
        except OSError:
            pass

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
            with self.lock:
                refuse = self.refusing
                if refuse:
                    self.refused += 1
            if refuse or wanted != "%s:%d" % self.target:
                if not refuse:
                    self.errors.append("CONNECT to %r refused: only %s:%d is served" % ((wanted,) + self.target))
                client.sendall(FORBIDDEN)
                return
            upstream = socket.create_connection(self.target, timeout=5)
            upstream.settimeout(None)
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            client.sendall(ESTABLISHED)
            with self.lock:
                self.connects += 1
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
                    with self.lock:
                        self.cut_idle += 1
                    return
                continue
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                if s is client:
                    upstream.sendall(data)
                    busy = True
                    with self.lock:
                        self.requests += 1
                        self.last_request = time.monotonic()
                else:
                    client.sendall(data)
                    busy = False
                last = time.monotonic()
