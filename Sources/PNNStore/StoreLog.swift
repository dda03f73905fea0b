import Logging

/// Diagnostics of the run store (`pnnlab --verbose`, or `PNNLAB_LOG=debug`): which file was
/// opened, migrations, run status changes.
enum StoreLog {
    static let logger = Logger(label: "pnnlab.store")
}
