/// Failures of the run store, one line each, phrased for the person at the bench.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case notAStore(path: String)
    case runNotFound(id: Int64, path: String)
    case duplicateStep(runID: Int64, step: Int)
    case corrupt(String)
    case database(String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open store \(path): \(reason)"
        case .notAStore(let path): return "store file \(path) is not a pnnlab store (not an SQLite database)"
        case .runNotFound(let id, let path): return "run \(id) does not exist in \(path)"
        case .duplicateStep(let runID, let step): return "run \(runID) already has a step \(step); refusing to overwrite it"
        case .corrupt(let message): return "store is corrupt: \(message)"
        case .database(let message): return "store error: \(message)"
        }
    }
}
