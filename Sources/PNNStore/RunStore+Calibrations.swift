import Foundation
import GRDB

/// A stored calibration profile: which device, which procedure, when, and the profile
/// document itself (JSON, see `Calibration/`).
public struct CalibrationRecord: Sendable, Codable, Equatable {
    public var id: Int64?
    public var family: String
    public var serial: String
    public var procedure: String
    public var version: Int
    public var createdAt: Date
    /// The versioned profile document, JSON.
    public var profileJSON: String

    public init(
        id: Int64? = nil, family: String, serial: String, procedure: String, version: Int, createdAt: Date = Date(),
        profileJSON: String
    ) {
        self.id = id
        self.family = family
        self.serial = serial
        self.procedure = procedure
        self.version = version
        self.createdAt = createdAt
        self.profileJSON = profileJSON
    }
}

extension RunStore {
    /// Stores a calibration profile; returns its id.
    @discardableResult
    public func saveCalibration(_ c: CalibrationRecord) throws(StoreError) -> Int64 {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO calibration (family, serial, procedure, version, created_at, profile)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [c.family, c.serial, c.procedure, c.version, c.createdAt.timeIntervalSince1970, c.profileJSON])
            return db.lastInsertedRowID
        }
    }

    /// Every calibration of the device with this serial (all of them when nil), newest first.
    public func calibrations(serial: String? = nil) throws(StoreError) -> [CalibrationRecord] {
        try read { db in
            var sql = "SELECT id, family, serial, procedure, version, created_at, profile FROM calibration"
            var arguments: StatementArguments = []
            if let serial {
                sql += " WHERE serial = ?"
                arguments = [serial]
            }
            sql += " ORDER BY created_at DESC, id DESC"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                CalibrationRecord(
                    id: row[0], family: row[1], serial: row[2], procedure: row[3], version: row[4],
                    createdAt: Date(timeIntervalSince1970: row[5]), profileJSON: row[6])
            }
        }
    }

    /// The newest calibration of a device, if any.
    public func latestCalibration(serial: String, family: String) throws(StoreError) -> CalibrationRecord? {
        try calibrations(serial: serial).first { $0.family == family }
    }
}
