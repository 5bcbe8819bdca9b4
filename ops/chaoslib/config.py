"""The two sizes of a run, and the ports and paths it uses (overridable by CHAOS_* variables)."""
import os


class Config:
    def __init__(self, short, seed, root, bin_path):
        env = os.environ.get
        self.short, self.seed, self.root, self.bin = short, seed, root, bin_path
        self.var = os.path.join(root, "var", "chaos")
        self.log_dir = os.path.join(self.var, "log")
        self.redis_port = int(env("CHAOS_REDIS_PORT", "6395"))
        self.pg_port = int(env("CHAOS_PG_PORT", "6437"))
        self.fake_port = int(env("CHAOS_TELEGRAM_PORT", "8095"))
        self.front_port = int(env("CHAOS_FRONT_PORT", "8096"))
        # The CONNECT proxy (in the harness) worker w2 sends to the fake through.
        self.proxy_port = int(env("CHAOS_PROXY_PORT", "8094"))
        # `always`: Redis answers a write only once it is on disk, the setting under which no
        # acknowledged job can be lost (README, "Durability"). With `everysec` a kill -9 during a
        # stalled fsync loses up to 2 s of acknowledged writes (issue 26). CHAOS_APPENDFSYNC=everysec
        # runs that setting; on tmpfs its fsyncs never stall, so give CHAOS_REDIS_DIR a disk
        # directory to see the loss, which the all-jobs-terminal check then names.
        self.appendfsync = env("CHAOS_APPENDFSYNC", "always")
        # The AOF on tmpfs: the run kills processes, not the host, so what it must prove is that
        # Redis wrote each write before it answered. On this VM's disk every fsync of `always`
        # took so long that the short run's Telegram backlog no longer drained in its budget.
        shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        self.redis_dir = env("CHAOS_REDIS_DIR") or (os.path.join(shm, "thepred-chaos-%d" % self.redis_port) if shm
                                                     else os.path.join(self.var, "redis"))
        # Only a directory the harness named itself is removed before and after a run.
        self.redis_dir_owned = not env("CHAOS_REDIS_DIR")
        # Telegram: the free lane far above Telegram's 30/s, so thousands of notifications drain
        # in seconds; the fake's per-chat 1/s still holds. Slow answers take longer than the 2 s
        # send timeout of worker w1 and less than the others'.
        self.fake_global_rate = 3000
        self.telegram_rate = 1000
        self.failure_rate = 0.04
        self.slow_rate = 0.02
        self.slow_delay_ms = 2500
        # fake_502_after_record: this share of accepted sends is recorded, then answered 502.
        self.gateway_after_record_rate = 0.05
        # Telegram sends hold their slot while they wait for a send slot (up to 3 s), and slots are
        # shared by all queues of a worker: 96 keeps bets and missions moving beside them.
        self.concurrency = 96
        self.tier_ranks, self.tier_amount = 10, 100
        self.pg_terminations = 2
        # Wall-clock budget of the whole run (the build aside): every wait is cut to fit it, so
        # a broken platform makes the checks fail on time instead of making the run late.
        self.budget = 150.0 if short else 760.0
        if short:
            self.fault_window = 30.0  # seconds of faults and workload
            self.kill_every = 6.0
            self.redis_kills, self.pg_restarts, self.worker_terms, self.leader_kills = 2, 1, 1, 1
            self.visibility, self.short_visibility = 12, 4
            self.grace, self.leader_ttl = 6, 4
            self.drain_timeout = 90.0
            self.pg_outage, self.pg_pause, self.redis_pause = 4.0, 4.0, 3.0
            self.gateway_502_s, self.proxy_refuse_s = 4.0, 3.0
            self.seed_users, self.seed_markets, self.seed_bets = 200, 3, 2000
            # Every user gets the three broadcasts, so users, not jobs, set how long Telegram takes
            # to drain at 1/s per chat; 600 users keep the whole run inside 90 s.
            self.bettors = 400
            self.resolved_front, self.resolved_xadd = 250, 150
            self.other_markets, self.other_front, self.other_xadd = 3, 200, 200
            self.noops, self.sends = 400, 40
            self.twice_front, self.twice_xadd = 50, 30
            self.refused = 5
        else:
            self.fault_window = 580.0  # with setup and drain, the run lasts about 10 minutes
            self.kill_every = 8.0
            self.redis_kills, self.pg_restarts, self.worker_terms, self.leader_kills = 2, 2, 3, 3
            self.visibility, self.short_visibility = 30, 5
            self.grace, self.leader_ttl = 10, 10
            self.drain_timeout = 140.0
            # Issue 26's outages: PostgreSQL stopped 45 s, paused 30 s; Redis paused 15 s.
            self.pg_outage, self.pg_pause, self.redis_pause = 45.0, 30.0, 15.0
            self.gateway_502_s, self.proxy_refuse_s = 30.0, 10.0
            # Users set how long Telegram drains (three broadcasts each, at 1/s per chat and about
            # 100 sends/s in all on two cores): 6,000 users drain inside the run.
            self.seed_users, self.seed_markets, self.seed_bets = 2000, 20, 50000
            self.bettors = 4000
            self.resolved_front, self.resolved_xadd = 2500, 1500
            self.other_markets, self.other_front, self.other_xadd = 12, 20000, 20000
            self.noops, self.sends = 20000, 2000
            self.twice_front, self.twice_xadd = 500, 500
            self.refused = 20
        self.blocked = []  # chat ids the fake answers 403; chosen once the users exist
