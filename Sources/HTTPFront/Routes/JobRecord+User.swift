import Jobs

extension JobRecord {
    /// The start of the reason `PostgresDataErrorMiddleware` (Game) gives a permanent failure,
    /// before PostgreSQL's own message. The front links no Consumers target, so it knows the
    /// reason by its text; `MarketsCreateTests` pins the same words on the worker's side.
    static let postgresDataErrorPrefix = "a payload value PostgreSQL cannot take"

    /// What a user reads instead of that reason: PostgreSQL's message names columns, types and
    /// values of the schema, which are not the user's business.
    static let postgresDataErrorUserText = "a value in this request is out of range for the game; the request was not carried out"

    /// The record as its owner may see it: a permanent failure whose reason is PostgreSQL's text
    /// gets a text of the front's own. Admins read the record unchanged (GET /v1/admin/jobs/{id},
    /// the dead-letter queue), so the detail is kept for them.
    func forUser() -> JobRecord {
        guard status == .dead, deadReason == .permanent, let lastError, lastError.hasPrefix(Self.postgresDataErrorPrefix) else {
            return self
        }
        var shown = self
        shown.lastError = Self.postgresDataErrorUserText
        return shown
    }
}
