/// A simulated bet's status, as its row says.
enum SeedBetStatus { case pending, won, lost }
