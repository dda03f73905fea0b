import Logging

/// Diagnostics of links and drivers (`pnnlab --verbose`, or `PNNLAB_LOG=debug`): lost links,
/// reconnects, handshakes.
public enum LinkLog {
    /// The logger every link and driver uses.
    public static let logger = Logger(label: "pnnlab.link")
}
