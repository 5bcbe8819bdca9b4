import Jobs
import Producers
import ThePredKinds

/// Every periodic schedule of the platform. New schedules are added here.
public enum AppSchedules {
    public static func all() -> [PeriodicSchedule] {
        [
            // Monday 00:00 UTC closes the week that just ended; the 1st 00:00 UTC the month.
            // The payload names the period, so a tick that runs late still closes the right one.
            leaderboard("leaderboard-week", cron: "0 0 * * 1", kind: .week),
            leaderboard("leaderboard-month", cron: "0 0 1 * *", kind: .month),
            // Every minute: outbox rows whose job is gone are enqueued all the same.
            PeriodicSchedule(name: "outbox-sweep", cron: try! CronExpression("* * * * *"), kind: OutboxSweep.kind) { _ in OutboxSweep() },
            // Every minute: broadcasts and markets whose producer ended with work left get a new one.
            PeriodicSchedule(name: "backlogs-sweep", cron: try! CronExpression("* * * * *"), kind: BacklogsSweep.kind) { _ in
                BacklogsSweep()
            },
        ]
    }

    static func leaderboard(_ name: String, cron: String, kind: LeaderboardPeriod.Kind) -> PeriodicSchedule {
        PeriodicSchedule(name: name, cron: try! CronExpression(cron), kind: LeaderboardClose.kind) { tick in
            LeaderboardClose(period: kind, startsAtMillis: LeaderboardPeriod.lastEnded(before: tick, kind: kind).startsAt)
        }
    }
}
