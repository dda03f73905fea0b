import Foundation
import GRDB
import PNNCore

/// A run with the figures a listing shows.
public struct RunSummary: Sendable, Equatable {
    public var run: RunRecord
    public var stepCount: Int
    public var lastLoss: Double?
    /// Latest evaluated accuracies.
    public var lastTrainAccuracy: Double?
    public var lastTestAccuracy: Double?
    /// Input vectors applied over the whole run.
    public var totalMeasurements: Int
}

/// One stored block of measured values with the step it belongs to.
public struct StoredMeasurement: Sendable, Equatable {
    public var step: Int
    public var block: MeasurementBlock
}

extension RunStore {
    /// Record a new run; returns its identifier.
    public func createRun(_ run: RunRecord) throws(StoreError) -> Int64 {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO run (device_name, family, model, serial, firmware, task, method, seed, config, status,
                                     created_at, updated_at, summary)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    run.deviceName, run.identity.family, run.identity.model, run.identity.serial, run.identity.firmware,
                    run.task, run.method, String(run.seed), run.configJSON, run.status.rawValue,
                    run.createdAt.timeIntervalSince1970, run.updatedAt.timeIntervalSince1970, run.summaryJSON,
                ])
            return db.lastInsertedRowID
        }
    }

    /// Commit one step and its measurement blocks in a single transaction.
    public func appendStep(_ step: StepRecord, measurements: [MeasurementBlock] = []) throws(StoreError) {
        try write { db in
            let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM step WHERE run_id = ? AND step = ?", arguments: [step.runID, step.step]) ?? false
            if exists { throw StoreError.duplicateStep(runID: step.runID, step: step.step) }
            let s = try db.cachedStatement(
                sql: """
                    INSERT INTO step (run_id, step, epoch, loss, train_accuracy, test_accuracy, measurements,
                                      cumulative_measurements, wall_seconds, parameters, checkpoint)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            try s.execute(arguments: [
                step.runID, step.step, step.epoch, step.loss, step.trainAccuracy, step.testAccuracy, step.measurements,
                step.cumulativeMeasurements, step.wallSeconds, BlobCoding.encode(step.parameters), step.checkpointJSON,
            ])
            let m = try db.cachedStatement(sql: #"INSERT INTO measurement (run_id, step, kind, rows, cols, "values") VALUES (?, ?, ?, ?, ?, ?)"#)
            for block in measurements {
                try m.execute(arguments: [step.runID, step.step, block.kind, block.rows, block.cols, BlobCoding.encode(block.values)])
            }
            try db.execute(sql: "UPDATE run SET updated_at = ? WHERE id = ?", arguments: [Date().timeIntervalSince1970, step.runID])
        }
    }

    /// Change a run's status (and summary when given).
    public func setStatus(runID: Int64, _ status: RunStatus, summaryJSON: String?) throws(StoreError) {
        let path = self.path
        try write { db in
            try db.execute(
                sql: "UPDATE run SET status = ?, updated_at = ?, summary = COALESCE(?, summary) WHERE id = ?",
                arguments: [status.rawValue, Date().timeIntervalSince1970, summaryJSON, runID])
            if db.changesCount == 0 { throw StoreError.runNotFound(id: runID, path: path) }
        }
    }

    /// One run.
    public func run(id: Int64) throws(StoreError) -> RunRecord {
        let path = self.path
        return try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM run WHERE id = ?", arguments: [id]) else {
                throw StoreError.runNotFound(id: id, path: path)
            }
            return try Self.runRecord(row)
        }
    }

    /// Every run, newest first, with listing figures.
    public func runs() throws(StoreError) -> [RunSummary] {
        try read { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT run.*,
                      (SELECT COUNT(*) FROM step WHERE step.run_id = run.id) AS step_count,
                      (SELECT MAX(cumulative_measurements) FROM step WHERE step.run_id = run.id) AS total_measurements,
                      (SELECT loss FROM step WHERE step.run_id = run.id ORDER BY step DESC LIMIT 1) AS last_loss,
                      (SELECT train_accuracy FROM step WHERE step.run_id = run.id AND test_accuracy IS NOT NULL
                         ORDER BY step DESC LIMIT 1) AS last_train,
                      (SELECT test_accuracy FROM step WHERE step.run_id = run.id AND test_accuracy IS NOT NULL
                         ORDER BY step DESC LIMIT 1) AS last_test
                    FROM run ORDER BY created_at DESC, id DESC
                    """)
            return try rows.map { row in
                RunSummary(
                    run: try Self.runRecord(row), stepCount: row["step_count"], lastLoss: row["last_loss"],
                    lastTrainAccuracy: row["last_train"], lastTestAccuracy: row["last_test"],
                    totalMeasurements: row["total_measurements"] ?? 0)
            }
        }
    }

    /// All steps of a run, in order.
    public func steps(runID: Int64) throws(StoreError) -> [StepRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM step WHERE run_id = ? ORDER BY step", arguments: [runID]).map(Self.stepRecord)
        }
    }

    /// The last committed step (what `--resume` continues from).
    public func lastStep(runID: Int64) throws(StoreError) -> StepRecord? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM step WHERE run_id = ? ORDER BY step DESC LIMIT 1", arguments: [runID]).map(Self.stepRecord)
        }
    }

    /// Measurement blocks of a run, in step order (optionally only some kinds).
    public func measurements(runID: Int64, kinds: [String]? = nil) throws(StoreError) -> [StoredMeasurement] {
        try read { db in
            var sql = #"SELECT step, kind, rows, cols, "values" FROM measurement WHERE run_id = ?"#
            var args: [any DatabaseValueConvertible] = [runID]
            if let kinds, !kinds.isEmpty {
                sql += " AND kind IN (\(Array(repeating: "?", count: kinds.count).joined(separator: ",")))"
                args += kinds.map { $0 as any DatabaseValueConvertible }
            }
            sql += " ORDER BY step, rowid"
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(args))
            var out: [StoredMeasurement] = []
            while let row = try cursor.next() {
                let values = try BlobCoding.decode(row["values"] ?? Data())
                let rows: Int = row["rows"]
                let cols: Int = row["cols"]
                guard values.count == rows * cols else { throw StoreError.corrupt("measurement block of \(values.count) values for \(rows)×\(cols)") }
                out.append(StoredMeasurement(step: row["step"], block: MeasurementBlock(kind: row["kind"], rows: rows, cols: cols, values: values)))
            }
            return out
        }
    }

    /// Remove a run with its steps and measurements.
    public func deleteRun(id: Int64) throws(StoreError) {
        let path = self.path
        try write { db in
            try db.execute(sql: "DELETE FROM run WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw StoreError.runNotFound(id: id, path: path) }
        }
    }

    static func runRecord(_ row: Row) throws -> RunRecord {
        let seedText: String = row["seed"]
        guard let seed = UInt64(seedText), let status = RunStatus(rawValue: row["status"]) else {
            throw StoreError.corrupt("run \(row["id"] as Int64? ?? -1) has an unreadable seed or status")
        }
        return RunRecord(
            id: row["id"], deviceName: row["device_name"],
            identity: DeviceIdentity(family: row["family"], model: row["model"], serial: row["serial"], firmware: row["firmware"]),
            task: row["task"], method: row["method"], seed: seed, configJSON: row["config"], status: status,
            createdAt: Date(timeIntervalSince1970: row["created_at"]), updatedAt: Date(timeIntervalSince1970: row["updated_at"]),
            summaryJSON: row["summary"])
    }

    static func stepRecord(_ row: Row) throws -> StepRecord {
        StepRecord(
            runID: row["run_id"], step: row["step"], epoch: row["epoch"], loss: row["loss"], trainAccuracy: row["train_accuracy"],
            testAccuracy: row["test_accuracy"], measurements: row["measurements"],
            cumulativeMeasurements: row["cumulative_measurements"], wallSeconds: row["wall_seconds"],
            parameters: try BlobCoding.decode(row["parameters"] ?? Data()), checkpointJSON: row["checkpoint"])
    }
}
