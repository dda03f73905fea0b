import Foundation
import PNNCore
import Testing

@testable import PNNStore

/// Every run records the calibration profile its device had when it was created: the newest
/// profile of the same family and serial, none when the device had none (issue 14).
@Suite("Run store: the profile a run ran with")
struct RunCalibrationStoreTests {
    func profile(serial: String, family: String, at date: Date) -> CalibrationRecord {
        CalibrationRecord(
            family: family, serial: serial, procedure: "p", version: 1, createdAt: date, profileJSON: "{}")
    }

    @Test func aRunRecordsItsDevicesNewestProfile() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let before = try store.createRun(newRun())
        #expect(try store.run(id: before).calibrationId == nil, "no profile yet")
        let now = Date()
        let old = try store.saveCalibration(
            profile(serial: identity.serial, family: identity.family, at: now.addingTimeInterval(-100)))
        let newest = try store.saveCalibration(profile(serial: identity.serial, family: identity.family, at: now))
        _ = try store.saveCalibration(profile(serial: "other", family: identity.family, at: now.addingTimeInterval(10)))
        _ = try store.saveCalibration(profile(serial: identity.serial, family: "other-family", at: now.addingTimeInterval(10)))
        let after = try store.createRun(newRun())
        #expect(try store.run(id: after).calibrationId == newest)
        #expect(newest != old)
        #expect(try store.runs().first { $0.run.id == after }?.run.calibrationId == newest)
        #expect(try store.run(id: before).calibrationId == nil, "a later profile does not rewrite history")
    }
}
