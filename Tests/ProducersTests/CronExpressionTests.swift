import Jobs
import Producers
import Testing

/// Milliseconds of a UTC wall time, via the same civil arithmetic as ISO 8601 tools.
func utc(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0) -> Int64 {
    var days = 0
    for year in 1970..<y { days += (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 366 : 365 }
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
    let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    days += lengths[0..<(mo - 1)].reduce(0, +) + d - 1
    return (Int64(days) * 1440 + Int64(h * 60 + mi)) * 60_000
}

@Suite("Cron expressions")
struct CronExpressionTests {
    @Test func everyMinute() throws {
        let c = try CronExpression("* * * * *")
        #expect(c.next(after: utc(2026, 1, 1, 0, 0)) == utc(2026, 1, 1, 0, 1))
        #expect(c.next(after: utc(2026, 1, 1, 0, 0) + 59_999) == utc(2026, 1, 1, 0, 1))
    }

    @Test func weeklyMondayMidnight() throws {
        // Leaderboard weeks close at Monday 00:00 UTC. 2026-11-25 is a Wednesday.
        let c = try CronExpression("0 0 * * MON")
        #expect(c.next(after: utc(2026, 11, 25, 13, 5)) == utc(2026, 11, 30))
        #expect(c.next(after: utc(2026, 11, 30)) == utc(2026, 12, 7))
    }

    @Test func monthlyAcrossYearEnd() throws {
        let c = try CronExpression("@monthly")
        #expect(c.next(after: utc(2026, 12, 15)) == utc(2027, 1, 1))
        #expect(c.next(after: utc(2028, 1, 31, 23, 59)) == utc(2028, 2, 1))
    }

    @Test func leapDay() throws {
        #expect(try CronExpression("30 12 29 2 *").next(after: utc(2026, 3, 1)) == utc(2028, 2, 29, 12, 30))
    }

    @Test func stepsRangesAndLists() throws {
        let c = try CronExpression("*/15 9-17/4 * * 1-5")
        #expect(c.next(after: utc(2026, 11, 28, 0, 0)) == utc(2026, 11, 30, 9, 0))  // Saturday -> Monday 09:00
        #expect(c.next(after: utc(2026, 11, 30, 9, 50)) == utc(2026, 11, 30, 13, 0))
        #expect(try CronExpression("5,10 0 * * *").next(after: utc(2026, 1, 1, 0, 5)) == utc(2026, 1, 1, 0, 10))
    }

    @Test func dayOfMonthOrWeekday() throws {
        // Both restricted: either matches (Vixie cron). 2026-12-01 is a Tuesday; the 13th a Sunday.
        let c = try CronExpression("0 0 13 * 2")
        #expect(c.next(after: utc(2026, 11, 30)) == utc(2026, 12, 1))
        #expect(c.next(after: utc(2026, 12, 8)) == utc(2026, 12, 13))
        #expect(try CronExpression("0 0 * * 7").next(after: utc(2026, 11, 25)) == utc(2026, 11, 29))
    }

    @Test func rejectsNonsense() {
        for bad in [
            "", "* * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "*/0 * * * *", "5-1 * * * *", "x * * * *", "1,,2 * * * *",
        ] {
            #expect(throws: JobsError.self, "\(bad)") { try CronExpression(bad) }
        }
    }
}
