import Foundation
import GRDB
import PNNCore
import Synchronization

/// The SQLite file (through GRDB, WAL mode) holding registered devices, runs, every
/// committed step and the measured values of each step as blobs.
///
/// Durability: each `appendStep` is one write transaction, committed before it returns,
/// so a process killed with SIGKILL (or crashing, or losing its device) loses at most the
/// step it was computing. The store runs WAL with `synchronous = NORMAL`: a commit is in
/// the WAL file, hence in the operating system's hands, before `appendStep` returns, which
/// survives any death of the process; only a power cut or kernel crash can lose the last
/// few commits (never corrupting the file). `synchronous = FULL` would add an `fsync` per
/// step to protect against that too, at a large cost in recording speed.
///
/// Several `RunStore` instances (in one or several processes) may share a file: one
/// writes at a time (others wait up to 10 s), readers never block and see every
/// committed step.
///
/// Liveness: the instance that creates a run, or sets it `running` again to resume it, holds
/// the run's lease (a `flock` on `<store>-locks/run-N.lock`, see `RunLease`) until it sets
/// another status or is released. Readers report a `running` run whose lease nobody holds
/// as `interrupted`: its process died.
public final class RunStore: Sendable {
    /// Path of the store file, as given.
    public let path: String
    let pool: DatabasePool
    /// Leases on the runs this instance is recording.
    let leases = Mutex<[Int64: RunLease]>([:])

    /// `PNNLAB_STORE` if set and not empty, else `./pnnlab.sqlite` (the CLI's `--store`
    /// overrides both).
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let path = environment["PNNLAB_STORE"], !path.isEmpty { return path }
        return "./pnnlab.sqlite"
    }

    /// Whether the store was opened read-only (the file is not writable): listing and
    /// exporting work, recording throws.
    public let isReadOnly: Bool

    /// Opens the store at `path`, creating the file, its folder and the schema as needed,
    /// and migrating an older schema to the current one. A store file this user may read
    /// but not write is opened read-only (``isReadOnly``).
    public init(path: String) throws(StoreError) {
        self.path = path
        guard !path.isEmpty else { throw .emptyPath }
        isReadOnly = try Self.checkFile(at: path)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.readonly = isReadOnly
        config.prepareDatabase { db in
            // Takes effect only when the file is new (before WAL mode writes the header).
            try db.execute(sql: "PRAGMA page_size = \(Schema.pageSize)")
            try db.execute(sql: "PRAGMA cache_size = -16384")  // 16 MiB per connection
            try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Schema.checkpointPages)")
        }
        do {
            // A read-only store with no pending log is opened immutable (no companion files
            // needed); with a log (a writer is live or died), SQLite must read it normally.
            let pendingLog = ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int ?? 0) > 0
            let location = isReadOnly && !pendingLog ? Self.immutableURI(path) : path
            pool = try DatabasePool(path: location, configuration: config)
        } catch {
            throw Self.storeError(error, path: path)
        }
        try migrate()
        StoreLog.logger.debug("opened run store", metadata: ["path": "\(path)"])
    }

    /// Refuses another program's database and a schema newer than this build, then
    /// applies pending migrations.
    private func migrate() throws(StoreError) {
        let path = self.path
        let migrator = Schema.migrator
        let upToDate = try read { db in
            let appID = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            // A store another pnnlab process is creating right now (or whose creation was cut
            // short) holds only pnnlab's own tables and no application id yet: not foreign.
            let beingCreated = appID == 0 && tables.allSatisfy { Schema.tableNames.contains($0) }
            if appID != Schema.applicationID && !beingCreated { throw StoreError.notAStore(path: path) }
            if try migrator.hasBeenSuperseded(db) { throw StoreError.newerSchema(path: path) }
            return try migrator.hasCompletedMigrations(db)
        }
        // Opening an up-to-date store only reads, so `pnnlab show` never waits for a
        // training process that is appending steps.
        if upToDate { return }
        if isReadOnly {
            throw .cannotOpen(
                path: path, reason: "it is read-only and needs upgrading to this pnnlab's format (make it writable once)")
        }
        do {
            try migrator.migrate(pool)
        } catch {
            // Another pnnlab process may be creating the same new store at this moment (its
            // migration won the race): wait for it to finish rather than fail.
            for _ in 0..<100 {
                if (try? pool.read({ db in try migrator.hasCompletedMigrations(db) })) == true {
                    if (try? pool.read({ db in try Int32.fetchOne(db, sql: "PRAGMA application_id") })) == Schema.applicationID {
                        return
                    }
                }
                usleep(50_000)
            }
            throw Self.storeError(error, path: path)
        }
    }

    /// Checks an existing file before SQLite touches it (so a stranger's file never gets
    /// `-wal`/`-shm` companions), or creates the folder for a new one. Returns whether the
    /// existing file is read-only for this user.
    private static func checkFile(at path: String) throws(StoreError) -> Bool {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw .cannotOpen(path: path, reason: "it is a folder, not a file") }
            guard fm.isReadableFile(atPath: path), let handle = FileHandle(forReadingAtPath: path) else {
                throw .cannotOpen(path: path, reason: "permission denied")
            }
            let head = (try? handle.read(upToCount: 16)) ?? Data()
            try? handle.close()
            if !head.isEmpty && head != Data("SQLite format 3\0".utf8) { throw .notAStore(path: path) }
            return !fm.isWritableFile(atPath: path)
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path: path, reason: "cannot create folder \(folder.path)")
        }
        if !fm.isWritableFile(atPath: folder.path) {
            throw .cannotOpen(path: path, reason: "permission denied (folder \(folder.path) is not writable)")
        }
        return false
    }

    /// `file:` URI opening `path` immutable: SQLite then reads the file as it is and needs
    /// (and leaves) no -shm/-wal files beside a store this user may not write.
    static func immutableURI(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let escaped = absolute.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? absolute
        return "file:\(escaped)?immutable=1"
    }

    /// Runs `body` against a consistent snapshot of the committed data.
    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch { throw Self.storeError(error, path: path) }
    }

    /// Runs `body` in one write transaction, committed (or rolled back on error) on return.
    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(body) } catch { throw Self.storeError(error, path: path) }
    }

    /// The `StoreError` a physicist can act on for any error thrown inside GRDB.
    static func storeError(_ error: any Error, path: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? RowDecodingError { return .corrupt(path: path, detail: rowProblem(error)) }
        guard let error = error as? DatabaseError else { return .database(path: path, detail: "\(error)") }
        switch error.resultCode {
        case .SQLITE_NOTADB: return .notAStore(path: path)
        case .SQLITE_CORRUPT: return .corrupt(path: path, detail: "SQLite reports a malformed database file")
        case .SQLITE_CANTOPEN: return .cannotOpen(path: path, reason: error.message ?? "SQLite cannot open the file")
        case .SQLITE_PERM, .SQLITE_AUTH: return .cannotOpen(path: path, reason: "permission denied")
        case .SQLITE_READONLY: return .database(path: path, detail: "the file is read-only; recording needs write access")
        case .SQLITE_FULL: return .database(path: path, detail: "the disk is full")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return .database(path: path, detail: "locked by another process for more than 10 s")
        case .SQLITE_IOERR: return .database(path: path, detail: "input/output error (\(error.message ?? "disk"))")
        default: return .database(path: path, detail: error.message ?? "\(error.resultCode)")
        }
    }

    /// A row that does not decode, as one short phrase naming the column — never the row
    /// itself (GRDB's description dumps every value of it, kilobytes of settings JSON).
    static func rowProblem(_ error: RowDecodingError) -> String {
        let text = "\(error)"
        func capture(_ pattern: String) -> String? {
            guard let range = text.range(of: pattern, options: .regularExpression) else { return nil }
            return String(text[range])
        }
        let column =
            capture(#"column: "[^"]*""#).map { String($0.dropFirst(8)) }
            ?? capture(#"column not found: "[^"]*""#).map { String($0.dropFirst(18)) }
        if text.hasPrefix("column not found") {
            return "column \(column ?? "?") is missing (the store's tables were altered)"
        }
        if let match = capture(#"could not decode [A-Za-z0-9]+ from database value .*? - "#) {
            let words = match.dropFirst("could not decode ".count).split(separator: " ", maxSplits: 4)
            let wanted: String =
                switch words.first ?? "" {
                case "Double", "Float": "a number"
                case "Int", "Int64", "Int32": "an integer"
                case "String": "text"
                case "Data": "binary data"
                default: "a \(words.first ?? "value")"
                }
            var value = words.count > 4 ? String(words[4].dropLast(3)) : "?"
            if value.count > 40 { value = String(value.prefix(40)) + "…" }
            return "column \(column ?? "?") holds \(value), which is not \(wanted)"
        }
        return "a row cannot be read (\(text.prefix { $0 != "-" }.prefix(120)))"
    }

    /// SQLite's journal mode of the store, `wal` for a healthy store (diagnostics, tests).
    public func journalMode() throws(StoreError) -> String {
        try read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }
}
