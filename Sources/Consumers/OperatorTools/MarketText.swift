import Jobs

/// Market titles and descriptions in the style of the game, with their dates and odds lean.
enum MarketText {
    static let categories = ["Crypto", "Sports", "Politics", "Tech"]
    static let coins: [(String, ClosedRange<Int>, Int)] = [
        ("BTC", 60...140, 1_000), ("ETH", 20...60, 100), ("SOL", 16...80, 5), ("TON", 2...12, 1), ("BNB", 40...90, 10),
    ]
    static let teams = [
        "Real Madrid", "Barcelona", "Arsenal", "Liverpool", "Bayern", "PSG", "Inter", "Juventus", "Zenit", "Galatasaray",
        "Lakers", "Celtics", "Warriors", "Knicks",
    ]
    static let countries = ["Germany", "France", "Brazil", "Japan", "Canada", "Italy", "Spain", "Poland", "India", "Mexico"]
    static let bills = ["AI safety", "crypto tax", "data privacy", "housing", "energy price cap", "digital ID"]
    static let companies = ["Apple", "Google", "OpenAI", "Telegram", "Tesla", "Nvidia", "Microsoft", "Samsung", "Meta"]
    static let launches = [
        "a foldable phone", "a new flagship AI model", "AR glasses", "a robotaxi service", "a 2nm chip",
        "a paid subscription tier", "its own blockchain wallet",
    ]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func draw(resolved: Bool, now: Int64, rng: inout SplitMix64) -> SeedWorld.Market {
        let day = SeedWorld.day
        let createdAt = now - 75 * day + Int64(rng.below(Int(14 * day)))
        // Whole hours, as an admin would set them. Resolved ones ended between 58 days and a day
        // ago, inside the betting window; active ones end within the next 90 days.
        let endDate =
            resolved
            ? (now - 58 * day + Int64(rng.below(Int(57 * day)))) / 3600 * 3600
            : (now + day + Int64(rng.below(Int(89 * day)))) / 3600 * 3600
        let resolvedAt = resolved ? endDate + 300 + Int64(rng.below(7200)) : nil
        let yesPerMille = rng.int(in: 150...850)
        let resultYes = rng.below(1000) < yesPerMille
        let heat = rng.chance(perMille: 100) ? 100 : rng.int(in: 5...40)
        let promoted = rng.chance(perMille: 50)
        let category = categories[rng.below(categories.count)]
        let date = format(date: endDate)
        let title: String, description: String
        switch category {
        case "Crypto":
            let (coin, range, step) = coins[rng.below(coins.count)]
            let price = grouped(rng.int(in: range) * step)
            if rng.chance(perMille: 600) {
                title = "Will \(coin) close above $\(price) by \(date)?"
                description = "Resolves YES if the \(coin)/USD daily close on Binance is above $\(price) on or before \(date) (UTC)."
            } else {
                title = "Will \(coin) trade below $\(price) on \(date)?"
                description = "Resolves YES if \(coin)/USD trades below $\(price) at any time on \(date) (UTC), per CoinGecko."
            }
        case "Sports":
            let home = teams[rng.below(teams.count)]
            var away = teams[rng.below(teams.count)]
            if away == home { away = teams[(teams.firstIndex(of: home)! + 1) % teams.count] }
            title = rng.chance(perMille: 700) ? "Will \(home) beat \(away) on \(date)?" : "Will \(home) and \(away) draw on \(date)?"
            description = "Regular time only. Resolves NO if the match is postponed past \(date)."
        case "Politics":
            let country = countries[rng.below(countries.count)]
            if rng.chance(perMille: 500) {
                title = "Will \(country) hold a snap election before \(date)?"
                description = "Resolves YES if a national election is officially called before \(date)."
            } else {
                let bill = bills[rng.below(bills.count)]
                title = "Will \(country) pass the \(bill) bill by \(date)?"
                description = "Resolves YES if the bill passes its final parliamentary vote by \(date)."
            }
        default:
            let company = companies[rng.below(companies.count)]
            let launch = launches[rng.below(launches.count)]
            title = "Will \(company) launch \(launch) by \(date)?"
            description = "Resolves YES on an official announcement with a release date before \(date)."
        }
        return SeedWorld.Market(
            category: category, title: title, description: description, createdAt: createdAt, endDate: endDate,
            resolvedAt: resolvedAt, resultYes: resultYes, yesPerMille: yesPerMille, heat: heat, promoted: promoted)
    }

    /// "Mar 14, 2025"
    static func format(date seconds: Int64) -> String {
        let (y, m, d) = CivilDate.date(fromDays: seconds / SeedWorld.day)
        return "\(months[Int(m) - 1]) \(d), \(y)"
    }

    static func grouped(_ n: Int) -> String { Seeder.grouped(n) }
}
