import Foundation
import GRDB
import PNNCore

extension RunStore {
    /// Register (or update) a device under its name.
    public func registerDevice(_ d: DeviceRecord) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: """
                    INSERT INTO device (name, family, model, serial, firmware, port, descriptor, registered_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT(name) DO UPDATE SET family = excluded.family, model = excluded.model, serial = excluded.serial,
                      firmware = excluded.firmware, port = excluded.port, descriptor = excluded.descriptor,
                      registered_at = excluded.registered_at
                    """,
                arguments: [
                    d.name, d.identity.family, d.identity.model, d.identity.serial, d.identity.firmware, d.port,
                    d.descriptorJSON, d.registeredAt.timeIntervalSince1970,
                ])
        }
    }

    /// The device registered under `name`, if any.
    public func device(named name: String) throws(StoreError) -> DeviceRecord? {
        try read { db in try Row.fetchOne(db, sql: "SELECT * FROM device WHERE name = ?", arguments: [name]).map(Self.deviceRecord) }
    }

    /// Every registered device, by name.
    public func devices() throws(StoreError) -> [DeviceRecord] {
        try read { db in try Row.fetchAll(db, sql: "SELECT * FROM device ORDER BY name").map(Self.deviceRecord) }
    }

    /// `<family>-<n>` with the smallest unused n ≥ 1.
    public func nextDeviceName(family: String) throws(StoreError) -> String {
        let taken = Set(try devices().map(\.name))
        var n = 1
        while taken.contains("\(family)-\(n)") { n += 1 }
        return "\(family)-\(n)"
    }

    static func deviceRecord(_ row: Row) -> DeviceRecord {
        DeviceRecord(
            name: row["name"],
            identity: DeviceIdentity(family: row["family"], model: row["model"], serial: row["serial"], firmware: row["firmware"]),
            port: row["port"], descriptorJSON: row["descriptor"], registeredAt: Date(timeIntervalSince1970: row["registered_at"]))
    }
}
