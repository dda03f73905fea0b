import Foundation
import PNNCore
import Testing

@testable import PNNStore

@Suite("Registered devices")
struct DeviceTests {
    @Test func registerUpsertAndLookUp() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let first = DeviceRecord(
            name: "crossbar-1", identity: identity, port: "/dev/ttyUSB0", descriptorJSON: #"{"rows":64}"#,
            registeredAt: Date(timeIntervalSince1970: 5000))
        try store.registerDevice(first)
        #expect(try store.device(named: "crossbar-1") == first)
        var moved = first
        moved.port = "/dev/ttyUSB1"
        moved.identity.firmware = "2.0"
        try store.registerDevice(moved)
        #expect(try store.devices() == [moved], "same name: updated, not duplicated")
        #expect(try store.device(named: "nope") == nil)
    }

    @Test func nextDeviceNameIsTheFirstUnusedNumber() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        func register(_ name: String) throws {
            try store.registerDevice(DeviceRecord(name: name, identity: identity, port: "/dev/ttyACM0", descriptorJSON: "{}"))
        }
        #expect(try store.nextDeviceName(family: "crossbar") == "crossbar-1")
        try register("crossbar-1")
        #expect(try store.nextDeviceName(family: "crossbar") == "crossbar-2")
        try register("crossbar-3")
        try register("clln-1")
        #expect(try store.nextDeviceName(family: "crossbar") == "crossbar-2", "fills the gap")
        #expect(try store.nextDeviceName(family: "clln") == "clln-2")
        #expect(try store.nextDeviceName(family: "optics") == "optics-1")
        #expect(try store.devices().map(\.name) == ["clln-1", "crossbar-1", "crossbar-3"])
    }
}
