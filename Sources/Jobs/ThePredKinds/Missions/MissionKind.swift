import Jobs

/// The 19 mission kinds of domain.md; `missions.kind` holds the raw value.
public enum MissionKind: String, Codable, Sendable, CaseIterable {
    case firstBet = "FIRST_BET", bets5 = "5_BETS", bets10 = "10_BETS"
    case winStreak3 = "WIN_STREAK_3", winStreak5 = "WIN_STREAK_5"
    case betCrypto = "BET_CRYPTO", betSports = "BET_SPORTS", betPolitics = "BET_POLITICS"
    case highRoller = "HIGH_ROLLER", lucky7 = "LUCKY_7", dailyActive = "DAILY_ACTIVE", referral = "REFERRAL"
    case silverRank = "SILVER_RANK", goldRank = "GOLD_RANK", diamondRank = "DIAMOND_RANK", grandmasterRank = "GRANDMASTER_RANK"
    case volume10K = "VOLUME_10K", volume50K = "VOLUME_50K", volume100K = "VOLUME_100K"
}
