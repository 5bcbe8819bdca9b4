/// What `thepred --version` and `thepred_build_info` say.
enum BuildInfo {
    static let version = "0.16.0"
}
