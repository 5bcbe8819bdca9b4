import Jobs

/// Every periodic schedule of the platform. New schedules are added here.
public enum AppSchedules {
    public static func all() -> [PeriodicSchedule] {
        []
    }
}
