import Jobs

/// A five-field cron expression (minute hour day-of-month month day-of-week), read in UTC.
///
/// Fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, and month and
/// weekday names (JAN, MON). Day of week 0 and 7 are Sunday. As in Vixie cron, when both day
/// fields are restricted a day matches if either does. `@hourly`, `@daily`, `@weekly`,
/// `@monthly` and `@yearly` are shorthands.
public struct CronExpression: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    public init(_ text: String) throws(JobsError) {
        source = text
        let shorthands = [
            "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
            "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
        ]
        let expanded = shorthands[text.lowercased()] ?? text
        let parts = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 5 else {
            throw JobsError(.invalidName, "cron '\(text)': want 5 fields (minute hour day month weekday), got \(parts.count)")
        }
        let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
        let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
        minutes = try Self.field(parts[0], 0...59, names: [], base: 0, label: "minute", in: text)
        hours = try Self.field(parts[1], 0...23, names: [], base: 0, label: "hour", in: text)
        days = try Self.field(parts[2], 1...31, names: [], base: 0, label: "day of month", in: text)
        months = try Self.field(parts[3], 1...12, names: monthNames, base: 1, label: "month", in: text)
        var weekdays = try Self.field(parts[4], 0...7, names: dayNames, base: 0, label: "day of week", in: text)
        if weekdays.remove(7) != nil { weekdays.insert(0) }
        self.weekdays = weekdays
        daysRestricted = !parts[2].hasPrefix("*")
        weekdaysRestricted = !parts[4].hasPrefix("*")
    }

    public var description: String { source }

    private static func field(
        _ text: String, _ range: ClosedRange<Int>, names: [String], base: Int, label: String, in source: String
    ) throws(JobsError) -> Set<Int> {
        func bad(_ why: String) -> JobsError { JobsError(.invalidName, "cron '\(source)': \(label) '\(text)': \(why)") }
        func value(_ s: Substring) throws(JobsError) -> Int {
            if let i = names.firstIndex(of: s.uppercased()) { return i + base }
            guard let n = Int(s) else { throw bad("'\(s)' is not a number") }
            guard range.contains(n) else { throw bad("\(n) is outside \(range.lowerBound)-\(range.upperBound)") }
            return n
        }
        var out = Set<Int>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !item.isEmpty else { throw bad("empty list item") }
            let stepParts = item.split(separator: "/", omittingEmptySubsequences: false)
            guard stepParts.count <= 2 else { throw bad("more than one '/'") }
            var step = 1
            if stepParts.count == 2 {
                guard let s = Int(stepParts[1]), s > 0 else { throw bad("step must be a positive number") }
                step = s
            }
            let spec = stepParts[0]
            var low: Int
            var high: Int
            if spec == "*" {
                low = range.lowerBound
                high = range.upperBound
            } else if let dash = spec.firstIndex(of: "-") {
                low = try value(spec[..<dash])
                high = try value(spec[spec.index(after: dash)...])
                guard low <= high else { throw bad("range runs backwards") }
            } else {
                low = try value(spec)
                high = stepParts.count == 2 ? range.upperBound : low
            }
            out.formUnion(stride(from: low, through: high, by: step))
        }
        return out
    }

    /// The first time matching the expression strictly after `millis` (ms since the epoch, UTC),
    /// on a whole minute.
    public func next(after millis: Int64) -> Int64? {
        var minute = millis / 60_000 + 1  // whole minutes since the epoch
        if millis < 0 && millis % 60_000 != 0 { minute -= 1 }
        // Eight years covers every Feb 29 and weekday combination.
        let limit = minute + 8 * 366 * 1440
        while minute < limit {
            let day = CivilDate.floorDiv(minute, 1440)
            let (year, month, dayOfMonth) = CivilDate.date(fromDays: day)
            if !months.contains(Int(month)) {
                minute = CivilDate.days(year: month == 12 ? year + 1 : year, month: month == 12 ? 1 : month + 1, day: 1) * 1440
                continue
            }
            if !dayMatches(day: Int(dayOfMonth), weekday: Int(CivilDate.weekday(fromDays: day))) {
                minute = (day + 1) * 1440
                continue
            }
            let minuteOfDay = Int(minute - day * 1440)
            let hour = minuteOfDay / 60
            if !hours.contains(hour) {
                minute = day * 1440 + Int64(hour + 1) * 60
                continue
            }
            if !minutes.contains(minuteOfDay % 60) {
                minute += 1
                continue
            }
            return minute * 60_000
        }
        return nil
    }

    private func dayMatches(day: Int, weekday: Int) -> Bool {
        let d = days.contains(day)
        let w = weekdays.contains(weekday)
        if daysRestricted && weekdaysRestricted { return d || w }
        if daysRestricted { return d }
        if weekdaysRestricted { return w }
        return true
    }
}
