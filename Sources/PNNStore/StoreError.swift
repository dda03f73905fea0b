/// Failures of the run store, one line each, phrased for the person at the bench.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// The store path is the empty string.
    case emptyPath
    /// The store file (or its folder) cannot be opened or created.
    case cannotOpen(path: String, reason: String)
    /// The file exists but is not a pnnlab store (not SQLite, or another program's database).
    case notAStore(path: String)
    /// The store was written by a newer pnnlab whose schema this build does not know.
    case newerSchema(path: String)
    /// No run with this identifier.
    case runNotFound(id: Int64, path: String)
    /// A step with this number was already committed for the run.
    case duplicateStep(runID: Int64, step: Int)
    /// Another live process is recording this run (it holds the run's lease).
    case runBusy(id: Int64, pid: Int32?)
    /// A stored value cannot be decoded (damaged file or edited by hand).
    case corrupt(path: String, detail: String)
    /// An export file cannot be written.
    case cannotWrite(path: String, reason: String)
    /// Any other database failure (disk full, locked, I/O error), with SQLite's explanation.
    case database(path: String, detail: String)

    /// One line naming the file or run and what went wrong.
    public var description: String {
        switch self {
        case .emptyPath: return "the store path is empty: give --store the name of a store file"
        case .cannotOpen(let path, let reason): return "cannot open store \(path): \(reason)"
        case .notAStore(let path): return "store file \(path) is not a pnnlab store"
        case .newerSchema(let path):
            return "store \(path) was written by a newer pnnlab; upgrade pnnlab to read it"
        case .runNotFound(let id, let path): return "run \(id) does not exist in \(path)"
        case .duplicateStep(let runID, let step):
            return "run \(runID) already has a step \(step); refusing to overwrite it"
        case .runBusy(let id, let pid):
            return "run \(id) is being trained by another pnnlab process\(pid.map { " (pid \($0))" } ?? ""); "
                + "stop it first (Ctrl-C pauses it), then resume"
        case .corrupt(let path, let detail): return "store \(path) is damaged: \(detail)"
        case .cannotWrite(let path, let reason): return "cannot write \(path): \(reason)"
        case .database(let path, let detail): return "store \(path): \(detail)"
        }
    }
}
