import Foundation
import GRDB
import PNNCore

/// The SQLite file (WAL mode, through GRDB) holding registered devices, runs, every
/// committed step and the measured values of each step as blobs.
///
/// Each `appendStep` is one write transaction, committed before it returns: a process
/// killed with SIGKILL loses at most the step it was computing. `synchronous = NORMAL` in
/// WAL mode is durable against a process crash; a power cut may lose the last
/// transactions but never corrupts the file.
public final class RunStore: Sendable {
    /// Path of the store file.
    public let path: String
    let pool: DatabasePool

    /// `PNNLAB_STORE` if set, else `./pnnlab.sqlite` (the CLI's `--store` overrides both).
    public static func defaultPath(environment: [String: String]) -> String {
        if let p = environment["PNNLAB_STORE"], !p.isEmpty { return p }
        return "./pnnlab.sqlite"
    }

    /// Open (creating file, parent folder and schema as needed).
    public init(path: String) throws(StoreError) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let parent = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path: path, reason: "cannot create folder \(parent.path)")
        }
        if FileManager.default.fileExists(atPath: path) {
            if !FileManager.default.isReadableFile(atPath: path) { throw .cannotOpen(path: path, reason: "permission denied") }
            if let h = FileHandle(forReadingAtPath: path) {
                let head = h.readData(ofLength: 16)
                try? h.close()
                if !head.isEmpty && head != Data("SQLite format 3\0".utf8) { throw .notAStore(path: path) }
            }
        }
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        do {
            pool = try DatabasePool(path: path, configuration: config)
            try Schema.migrator.migrate(pool)
        } catch let error as DatabaseError where error.resultCode == .SQLITE_NOTADB {
            throw .notAStore(path: path)
        } catch let error as DatabaseError {
            throw .cannotOpen(path: path, reason: error.message ?? "\(error.resultCode)")
        } catch {
            throw .cannotOpen(path: path, reason: "\(error)")
        }
    }

    /// Run a read, mapping errors to `StoreError`.
    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch { throw Self.map(error) }
    }

    /// Run a write transaction, mapping errors to `StoreError`.
    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(body) } catch { throw Self.map(error) }
    }

    static func map(_ error: any Error) -> StoreError {
        if let e = error as? StoreError { return e }
        if let e = error as? DatabaseError { return .database(e.message ?? "\(e.resultCode)") }
        return .database("\(error)")
    }

    /// Whether the journal mode is WAL (for diagnostics and tests).
    public func journalMode() throws(StoreError) -> String {
        try read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }
}

extension RunStore {
    /// Benchmark baseline only: store values one row each (the layout pnnlab avoids).
    public func benchmarkRowPerValue(values: [Double]) throws(StoreError) {
        try write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS naive_value (i INTEGER PRIMARY KEY, v DOUBLE)")
            let s = try db.makeStatement(sql: "INSERT INTO naive_value (i, v) VALUES (?, ?)")
            for (i, v) in values.enumerated() { try s.execute(arguments: [i, v]) }
        }
    }
}
