import Foundation
import GRDB
import PNNCore

/// Devices registered under a name (`pnnlab attach`), usable as DEVICE arguments.
extension RunStore {
    /// Registers `device` under its name, replacing whatever was registered under it.
    public func registerDevice(_ device: DeviceRecord) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO device (name, family, model, serial, firmware, port, descriptor, registered_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET
                      family = excluded.family, model = excluded.model, serial = excluded.serial,
                      firmware = excluded.firmware, port = excluded.port, descriptor = excluded.descriptor,
                      registered_at = excluded.registered_at
                    """,
                arguments: [
                    device.name, device.identity.family, device.identity.model, device.identity.serial,
                    device.identity.firmware, device.port, device.descriptorJSON,
                    device.registeredAt.timeIntervalSince1970,
                ])
        }
    }

    /// The device registered under `name`, if any.
    public func device(named name: String) throws(StoreError) -> DeviceRecord? {
        let path = self.path
        return try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM device WHERE name = ?", arguments: [name]).map { row in
                try Self.deviceRecord(row, path: path)
            }
        }
    }

    /// Every registered device, sorted by name.
    public func devices() throws(StoreError) -> [DeviceRecord] {
        let path = self.path
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM device ORDER BY name").map { row in
                try Self.deviceRecord(row, path: path)
            }
        }
    }

    /// `<family>-<n>` with the smallest n ≥ 1 not yet registered (`crossbar-1`, `crossbar-2`...).
    public func nextDeviceName(family: String) throws(StoreError) -> String {
        let taken = try read { db in Set(try String.fetchAll(db, sql: "SELECT name FROM device")) }
        var n = 1
        while taken.contains("\(family)-\(n)") { n += 1 }
        return "\(family)-\(n)"
    }

    static func deviceRecord(_ row: Row, path: String) throws -> DeviceRecord {
        DeviceRecord(
            name: try row.decode(forColumn: "name"),
            identity: DeviceIdentity(
                family: try row.decode(forColumn: "family"), model: try row.decode(forColumn: "model"),
                serial: try row.decode(forColumn: "serial"), firmware: try row.decode(forColumn: "firmware")),
            port: try row.decode(forColumn: "port"), descriptorJSON: try row.decode(forColumn: "descriptor"),
            registeredAt: Date(timeIntervalSince1970: try row.decode(forColumn: "registered_at")))
    }
}
