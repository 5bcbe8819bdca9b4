"""Every job any process enqueued, as Redis ran it: a MONITOR connection that reconnects after each
Redis restart. The enqueue, reschedule and promote scripts write a job's status record with
`HSET thepred:{Q}:job:<id> status queued|scheduled|retrying`, and MONITOR shows the commands a
script runs, so the journal sees the fleet's own follow-up jobs (outbox flushes, fan-out sends,
settlement chunks), not only the harness's. It sees a write before Redis persists it: a job Redis
acknowledged and then lost with its AOF tail is in the journal and has no status record after."""
import re
import socket
import threading
import time

STATUS = re.compile(rb'"HSET" "thepred:\{([^}"]*)\}:job:([0-9A-Za-z_.:-]+)" "status" "(?:queued|scheduled|retrying)"')


class EnqueueJournal:
    def __init__(self, port):
        self.port = port
        self.lock = threading.Lock()
        self.jobs = {}  # job id -> queue
        self.connects = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="enqueue-journal", daemon=True)
        self.thread.start()

    def seen(self):
        with self.lock:
            return dict(self.jobs)

    def stop(self):
        self.stopped.set()

    def _loop(self):
        while not self.stopped.is_set():
            try:
                self._follow()
            except (OSError, ConnectionError):
                pass
            time.sleep(0.02)

    def _follow(self):
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        try:
            sock.sendall(b"*1\r\n$7\r\nMONITOR\r\n")
            self.connects += 1
            buf = b""
            while not self.stopped.is_set():
                try:
                    chunk = sock.recv(1 << 20)
                except socket.timeout:
                    continue
                if not chunk:
                    raise ConnectionError("redis closed the MONITOR connection")
                buf += chunk
                end = buf.rfind(b"\r\n")
                if end < 0:
                    continue
                lines, buf = buf[:end], buf[end + 2:]
                found = STATUS.findall(lines)
                if found:
                    with self.lock:
                        for queue, job in found:
                            self.jobs[job.decode()] = queue.decode()
        finally:
            sock.close()
