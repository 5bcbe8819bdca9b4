"""A small RESP2 client over a socket: enough for XADD, XPENDING, SCAN, INFO and MEMORY USAGE.

Standard library only, so the harness runs on any machine with python3. Binary safe: arguments
may be str, bytes or int; replies come back as bytes (bulk strings), int, list, None, or a
RedisError instance for error replies (not raised, so a pipeline keeps its other replies).
"""
import socket
import time


class RedisError(Exception):
    """An error reply, e.g. LOADING or WRONGTYPE."""


class Redis:
    def __init__(self, host="127.0.0.1", port=6379, timeout=10.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = None
        self.buf = b""

    # Connection ---------------------------------------------------------------------------

    def connect(self):
        self.close()
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = b""

    # Encoding -----------------------------------------------------------------------------

    @staticmethod
    def _arg(a):
        if isinstance(a, bytes):
            return a
        if isinstance(a, int):
            return str(a).encode()
        return str(a).encode("utf-8")

    @classmethod
    def encode(cls, args):
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            b = cls._arg(a)
            parts.append(b"$%d\r\n" % len(b))
            parts.append(b)
            parts.append(b"\r\n")
        return b"".join(parts)

    # Decoding -----------------------------------------------------------------------------

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def _reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest
        if t == b"-":
            return RedisError(rest.decode("utf-8", "replace"))
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self._reply() for _ in range(n)]
        raise ConnectionError("bad RESP type byte %r" % t)

    # Commands -----------------------------------------------------------------------------

    def pipeline(self, commands):
        """Sends every command at once and reads all replies, in order."""
        if self.sock is None:
            self.connect()
        try:
            self.sock.sendall(b"".join(self.encode(c) for c in commands))
            return [self._reply() for _ in commands]
        except (OSError, ConnectionError):
            self.close()
            raise

    def call(self, *args):
        """One command; an error reply is raised."""
        reply = self.pipeline([args])[0]
        if isinstance(reply, RedisError):
            raise reply
        return reply

    def call_retry(self, *args, deadline_s=30.0):
        """One command, retried across connection errors and LOADING (a Redis restarted by the
        harness), up to a deadline. Used for the harness's own reads, never for the workload:
        a retried XADD could add an entry twice."""
        end = time.monotonic() + deadline_s
        while True:
            try:
                return self.call(*args)
            except (OSError, ConnectionError) as e:
                err = e
            except RedisError as e:
                if not str(e).startswith(("LOADING", "BUSY", "TRYAGAIN")):
                    raise
                err = e
            if time.monotonic() > end:
                raise ConnectionError("redis unreachable for %.0f s: %s" % (deadline_s, err))
            self.close()
            time.sleep(0.2)


def scan_keys(r, pattern, count=2000):
    """Every key matching pattern (SCAN, so Redis is never blocked)."""
    cursor = b"0"
    keys = []
    while True:
        cursor, batch = r.call_retry("SCAN", cursor, "MATCH", pattern, "COUNT", count)
        keys.extend(batch)
        if cursor == b"0":
            return keys


def pairs(flat):
    """[k1, v1, k2, v2] -> list of (str key, bytes value)."""
    return [(flat[i].decode("utf-8", "replace"), flat[i + 1]) for i in range(0, len(flat), 2)]
