import ThePredKinds

/// `GET /v1/admin/broadcasts`' body.
struct BroadcastList: Encodable { let broadcasts: [BroadcastStatus] }
