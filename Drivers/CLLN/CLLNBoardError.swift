/// Failures of the CLLN host driver that are not link or device errors, phrased for the
/// person at the bench.
public enum CLLNBoardError: Error, Equatable, CustomStringConvertible {
    /// The debug state exists only on an emulator; real hardware cannot reveal A0 and B.
    case notAnEmulator(serial: String)
    /// The topology read from the board disagrees with its hello (size or CRC-32).
    case topologyMismatch(String)
    /// The board did not accept the whole dataset.
    case datasetNotLoaded(String)
    /// The board ended a schedule with a failure.
    case scheduleFailed(String)
    /// The record stream stopped without its end frame (link lost mid-run).
    case scheduleStreamBroken(records: Int)
    /// A record arrived damaged or out of order.
    case badRecord(String)

    public var description: String {
        switch self {
        case .notAnEmulator(let serial):
            return "board \(serial) is real hardware: its hidden state (A0, B) cannot be read; only emulators answer debugState"
        case .topologyMismatch(let why): return "CLLN board topology is inconsistent with its hello: \(why)"
        case .datasetNotLoaded(let why): return "CLLN board did not accept the dataset: \(why)"
        case .scheduleFailed(let why): return "CLLN board stopped the training schedule: \(why)"
        case .scheduleStreamBroken(let n):
            return "record stream ended after \(n) records without an end frame (link lost during the schedule)"
        case .badRecord(let why): return "damaged schedule record from the CLLN board: \(why)"
        }
    }
}
