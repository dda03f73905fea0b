import Foundation
import GRDB
import PNNCore

/// Recording runs: every method is one write transaction, committed before it returns.
extension RunStore {
    /// Records a new run (its `id` is ignored) and returns the identifier the store gave it.
    /// A `running` run is leased to this instance before it becomes visible to readers, so
    /// no reader ever sees it `interrupted` while this process lives.
    public func createRun(_ run: RunRecord) throws(StoreError) -> Int64 {
        let path = self.path
        var lease: RunLease?
        do throws(StoreError) {
            let id = try write { db in
                try db.execute(
                    sql: """
                        INSERT INTO run (device_name, family, model, serial, firmware, task, method, seed,
                                         config, status, created_at, updated_at, summary, digital_ceiling)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        run.deviceName, run.identity.family, run.identity.model, run.identity.serial,
                        run.identity.firmware, run.task, run.method, String(run.seed), run.configJSON,
                        run.status.rawValue, run.createdAt.timeIntervalSince1970,
                        run.updatedAt.timeIntervalSince1970, run.summaryJSON, run.digitalCeiling,
                    ])
                let id = db.lastInsertedRowID
                // Every run records the profile its device had (the newest of its family and serial).
                try db.execute(
                    sql: """
                        UPDATE run SET calibration_id = (
                            SELECT c.id FROM calibration c WHERE c.family = ? AND c.serial = ?
                            ORDER BY c.created_at DESC, c.id DESC LIMIT 1)
                        WHERE id = ?
                        """,
                    arguments: [run.identity.family, run.identity.serial, id])
                // Inside the transaction: the row is committed only once it is leased.
                if run.status == .running { lease = try RunLease.acquire(store: path, runID: id) }
                return id
            }
            if let lease { leases.withLock { $0[id] = lease } }
            return id
        } catch {
            lease?.release()
            throw error
        }
    }

    /// Takes the lease on run `id` for this instance (before a resume touches the device):
    /// throws `.runBusy` when another live process is recording it, `.runNotFound` when
    /// there is no such run. Idempotent for a run this instance already holds.
    public func claimRun(id: Int64) throws(StoreError) {
        let path = self.path
        try read { db in try Self.requireRun(id, db, path: path) }
        if leases.withLock({ $0[id] != nil }) { return }
        let lease = try RunLease.acquire(store: path, runID: id)
        leases.withLock { $0[id] = lease }
    }

    /// Gives up this instance's lease on run `id`, if it holds one. A run left `running`
    /// then reads as `interrupted`.
    public func releaseRun(id: Int64) {
        let lease = leases.withLock { $0.removeValue(forKey: id) }
        lease?.release()
    }

    /// Whether a live process (this one included) holds the lease on run `id`.
    public func isRecordedByLiveProcess(runID id: Int64) -> Bool {
        RunLease.isHeld(store: path, runID: id)
    }

    /// Commits one step with its measurement blocks in a single transaction and bumps the
    /// run's `updatedAt`. When this returns the step survives the process being killed;
    /// when it throws nothing of the step was stored.
    ///
    /// Throws `.runNotFound` for an unknown `step.runID` and `.duplicateStep` when the run
    /// already has a step with this number (earlier steps are left untouched).
    public func appendStep(_ step: StepRecord, measurements: [MeasurementBlock] = []) throws(StoreError) {
        try appendSteps([(step, measurements)])
    }

    /// Commits several steps (each with its blocks) in one transaction: all or none of them
    /// survive. Used where a unit of work spans steps (a contrastive period has two records).
    public func appendSteps(_ steps: [(StepRecord, [MeasurementBlock])]) throws(StoreError) {
        let path = self.path
        try write { db in
            for (step, measurements) in steps {
                let bump = try db.cachedStatement(sql: "UPDATE run SET updated_at = ? WHERE id = ?")
                try bump.execute(arguments: [Date().timeIntervalSince1970, step.runID])
                if db.changesCount == 0 { throw StoreError.runNotFound(id: step.runID, path: path) }
                let exists = try db.cachedStatement(sql: "SELECT 1 FROM step WHERE run_id = ? AND step = ?")
                if try Bool.fetchOne(exists, arguments: [step.runID, step.step]) != nil {
                    throw StoreError.duplicateStep(runID: step.runID, step: step.step)
                }
                // COALESCE: an empty array may reach SQLite as a null pointer, which binds NULL.
                let insertStep = try db.cachedStatement(
                    sql: """
                        INSERT INTO step (run_id, step, epoch, loss, train_accuracy, test_accuracy, measurements,
                                          cumulative_measurements, wall_seconds, parameters, checkpoint)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, COALESCE(?, x''), ?)
                        """)
                try insertStep.execute(arguments: [
                    step.runID, step.step, step.epoch, step.loss, step.trainAccuracy, step.testAccuracy,
                    step.measurements, step.cumulativeMeasurements, step.wallSeconds,
                    BlobCoding.encode(step.parameters), step.checkpointJSON,
                ])
                let insertBlock = try db.cachedStatement(
                    sql: """
                        INSERT INTO measurement (run_id, step, kind, rows, cols, "values")
                        VALUES (?, ?, ?, ?, ?, COALESCE(?, x''))
                        """)
                for block in measurements {
                    try insertBlock.execute(arguments: [
                        step.runID, step.step, block.kind, block.rows, block.cols, BlobCoding.encode(block.values),
                    ])
                }
            }
        }
    }

    /// Sets a run's status and `updatedAt`; a non-nil `summaryJSON` replaces the summary.
    /// Setting `running` first claims the run's lease (`.runBusy` if another live process
    /// records it); any other status is written before the lease is given up, so readers
    /// never see a finished run as `interrupted`.
    public func setStatus(runID: Int64, _ status: RunStatus, summaryJSON: String? = nil) throws(StoreError) {
        let path = self.path
        StoreLog.logger.debug("run \(runID) → \(status.rawValue)", metadata: ["store": "\(path)"])
        if status == .running { try claimRun(id: runID) }
        try write { db in
            try db.execute(
                sql: "UPDATE run SET status = ?, updated_at = ?, summary = COALESCE(?, summary) WHERE id = ?",
                arguments: [status.rawValue, Date().timeIntervalSince1970, summaryJSON, runID])
            if db.changesCount == 0 { throw StoreError.runNotFound(id: runID, path: path) }
        }
        if status != .running { releaseRun(id: runID) }
    }

    /// Records run `runID`'s digital ceiling (a run recorded before stores kept it gets one
    /// when it is resumed). A NaN is stored as NULL (no ceiling).
    public func setDigitalCeiling(runID: Int64, _ ceiling: Double?) throws(StoreError) {
        let path = self.path
        try write { db in
            try db.execute(
                sql: "UPDATE run SET digital_ceiling = ? WHERE id = ?",
                arguments: [ceiling.flatMap { $0.isFinite ? $0 : nil }, runID])
            if db.changesCount == 0 { throw StoreError.runNotFound(id: runID, path: path) }
        }
    }

    /// Removes a run with all its steps and measurement blocks. The file does not shrink;
    /// the freed pages are reused by later runs.
    public func deleteRun(id: Int64) throws(StoreError) {
        let path = self.path
        try write { db in
            try db.execute(sql: "DELETE FROM run WHERE id = ?", arguments: [id])
            if db.changesCount == 0 { throw StoreError.runNotFound(id: id, path: path) }
        }
        releaseRun(id: id)
    }
}
