import Foundation
import GRDB
import PNNCore

/// Reading runs back. Each method reads one consistent snapshot of committed data, so a
/// reader never sees half of a step another process is appending.
extension RunStore {
    /// The run with identifier `id`; throws `.runNotFound` if there is none. A `running`
    /// run whose recording process has died reads as `interrupted`.
    public func run(id: Int64) throws(StoreError) -> RunRecord {
        let path = self.path
        var record = try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]) else {
                throw StoreError.runNotFound(id: id, path: path)
            }
            return try Self.runRecord(row, path: path)
        }
        if record.status == .running { record.status = try liveStatus(id: id) }
        return record
    }

    /// The status of a run stored as `running`: still `running` while a live process holds
    /// its lease, else `interrupted`. When the lease is free the status is read again, since
    /// a recorder writes its final status before it lets the lease go.
    func liveStatus(id: Int64) throws(StoreError) -> RunStatus {
        if isRecordedByLiveProcess(runID: id) { return .running }
        let path = self.path
        let text = try read { db in
            try String.fetchOne(db, sql: "SELECT status FROM run WHERE id = ?", arguments: [id])
        }
        guard let text else { throw StoreError.runNotFound(id: id, path: path) }
        guard let status = RunStatus(rawValue: text) else {
            throw StoreError.corrupt(path: path, detail: "run \(id) has unknown status \"\(text)\"")
        }
        return status == .running ? .interrupted : status
    }

    /// Every run, newest first, with its listing figures (a `running` run whose recording
    /// process has died reads as `interrupted`).
    public func runs() throws(StoreError) -> [RunSummary] {
        let path = self.path
        var summaries = try read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT run.*,
                      (SELECT COUNT(*) FROM step s WHERE s.run_id = run.id) AS step_count,
                      (SELECT loss FROM step s WHERE s.run_id = run.id ORDER BY step DESC LIMIT 1) AS last_loss,
                      (SELECT cumulative_measurements FROM step s WHERE s.run_id = run.id
                         ORDER BY step DESC LIMIT 1) AS total_measurements,
                      (SELECT train_accuracy FROM step s WHERE s.run_id = run.id AND train_accuracy IS NOT NULL
                         ORDER BY step DESC LIMIT 1) AS last_train,
                      (SELECT test_accuracy FROM step s WHERE s.run_id = run.id AND test_accuracy IS NOT NULL
                         ORDER BY step DESC LIMIT 1) AS last_test
                    FROM run ORDER BY created_at DESC, id DESC
                    """)
            return try rows.map { row in
                let stepCount: Int = try row.decode(forColumn: "step_count")
                return RunSummary(
                    run: try Self.runRecord(row, path: path), stepCount: stepCount,
                    lastLoss: stepCount == 0 ? nil : try row.decode(Double?.self, forColumn: "last_loss") ?? .nan,
                    lastTrainAccuracy: try row.decode(forColumn: "last_train"),
                    lastTestAccuracy: try row.decode(forColumn: "last_test"),
                    totalMeasurements: try row.decode(Int?.self, forColumn: "total_measurements") ?? 0)
            }
        }
        for i in summaries.indices where summaries[i].run.status == .running {
            summaries[i].run.status = try liveStatus(id: summaries[i].run.id ?? 0)
        }
        return summaries
    }

    /// Every committed step of a run, in step order.
    public func steps(runID: Int64) throws(StoreError) -> [StepRecord] {
        let path = self.path
        return try read { db in
            try Self.requireRun(runID, db, path: path)
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM step WHERE run_id = ? ORDER BY step", arguments: [runID])
            var steps: [StepRecord] = []
            while let row = try cursor.next() { steps.append(try Self.stepRecord(row, path: path)) }
            return steps
        }
    }

    /// The last committed step of a run (what `--resume` continues from); `nil` before
    /// the first step.
    public func lastStep(runID: Int64) throws(StoreError) -> StepRecord? {
        let path = self.path
        return try read { db in
            try Self.requireRun(runID, db, path: path)
            let cursor = try Row.fetchCursor(
                db, sql: "SELECT * FROM step WHERE run_id = ? ORDER BY step DESC LIMIT 1", arguments: [runID])
            return try cursor.next().map { row in try Self.stepRecord(row, path: path) }
        }
    }

    /// The measurement blocks of a run in step order (and append order within a step);
    /// only blocks whose kind is in `kinds` when it is given.
    public func measurements(runID: Int64, kinds: [String]? = nil) throws(StoreError) -> [StoredMeasurement] {
        let path = self.path
        return try read { db in
            try Self.requireRun(runID, db, path: path)
            var sql = #"SELECT step, kind, rows, cols, "values" FROM measurement WHERE run_id = ?"#
            var arguments: StatementArguments = [runID]
            if let kinds {
                sql += " AND kind IN (\(Array(repeating: "?", count: kinds.count).joined(separator: ", ")))"
                arguments += StatementArguments(kinds)
            }
            sql += " ORDER BY step, id"
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
            var blocks: [StoredMeasurement] = []
            while let row = try cursor.next() {
                let values = try Self.doubles(row, column: "values", path: path)
                let kind: String = try row.decode(atIndex: 1)
                let rows: Int = try row.decode(atIndex: 2)
                let cols: Int = try row.decode(atIndex: 3)
                guard rows >= 0, cols >= 0, values.count == rows * cols else {
                    throw StoreError.corrupt(
                        path: path, detail: "a \(kind) block holds \(values.count) values for \(rows)×\(cols)")
                }
                blocks.append(
                    StoredMeasurement(
                        step: try row.decode(atIndex: 0),
                        block: MeasurementBlock(kind: kind, rows: rows, cols: cols, values: values)))
            }
            return blocks
        }
    }

    static func requireRun(_ id: Int64, _ db: Database, path: String) throws {
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM run WHERE id = ?", arguments: [id]) == nil {
            throw StoreError.runNotFound(id: id, path: path)
        }
    }

    /// A Float64 blob column decoded straight from SQLite's buffer (one copy, no `Data`).
    static func doubles(_ row: Row, column: String, path: String) throws -> [Double] {
        try row.withUnsafeData(named: column) { data -> [Double] in
            guard let data else { return [] }  // SQLite reports an empty blob as NULL
            guard let values = BlobCoding.decode(data) else {
                throw StoreError.corrupt(path: path, detail: "a blob of \(data.count) bytes is not a list of Float64 values")
            }
            return values
        }
    }

    static func runRecord(_ row: Row, path: String) throws -> RunRecord {
        let id: Int64 = try row.decode(forColumn: "id")
        let seedText: String = try row.decode(forColumn: "seed")
        let statusText: String = try row.decode(forColumn: "status")
        guard let seed = UInt64(seedText) else {
            throw StoreError.corrupt(path: path, detail: "run \(id) has seed \"\(seedText)\"")
        }
        guard let status = RunStatus(rawValue: statusText) else {
            throw StoreError.corrupt(path: path, detail: "run \(id) has unknown status \"\(statusText)\"")
        }
        return RunRecord(
            id: id, deviceName: try row.decode(forColumn: "device_name"),
            identity: DeviceIdentity(
                family: try row.decode(forColumn: "family"), model: try row.decode(forColumn: "model"),
                serial: try row.decode(forColumn: "serial"), firmware: try row.decode(forColumn: "firmware")),
            task: try row.decode(forColumn: "task"), method: try row.decode(forColumn: "method"), seed: seed,
            configJSON: try row.decode(forColumn: "config"), status: status,
            createdAt: Date(timeIntervalSince1970: try row.decode(forColumn: "created_at")),
            updatedAt: Date(timeIntervalSince1970: try row.decode(forColumn: "updated_at")),
            summaryJSON: try row.decode(forColumn: "summary"),
            digitalCeiling: try row.decode(Double?.self, forColumn: "digital_ceiling"),
            calibrationId: try row.decode(Int64?.self, forColumn: "calibration_id"))
    }

    static func stepRecord(_ row: Row, path: String) throws -> StepRecord {
        StepRecord(
            runID: try row.decode(forColumn: "run_id"), step: try row.decode(forColumn: "step"),
            epoch: try row.decode(forColumn: "epoch"), loss: try row.decode(Double?.self, forColumn: "loss") ?? .nan,
            trainAccuracy: try row.decode(forColumn: "train_accuracy"), testAccuracy: try row.decode(forColumn: "test_accuracy"),
            measurements: try row.decode(forColumn: "measurements"),
            cumulativeMeasurements: try row.decode(forColumn: "cumulative_measurements"),
            wallSeconds: try row.decode(forColumn: "wall_seconds"),
            parameters: try doubles(row, column: "parameters", path: path),
            checkpointJSON: try row.decode(forColumn: "checkpoint"))
    }
}
