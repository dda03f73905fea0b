import Foundation
import Testing

@testable import PNNTransport

/// SerialLink path choice and enumeration on this machine (no umockdev here; the umockdev
/// libserialport path is covered by Tests/CLITests/UmockdevTests.swift and serial-bed --self-test).
@Suite(.serialized) struct SerialLinkTests {
    @Test func ptyGoesThroughTermiosFallbackAndEchoesBothWays() async throws {
        let pty = try PtyPair.open()
        #expect(SerialPorts.info(path: pty.slavePath) == nil, "libserialport should refuse a pty")
        #expect(SerialLink.preferredKind(path: pty.slavePath) == .termios)
        let link = try SerialLink.open(path: pty.slavePath, baud: 115_200)
        #expect(link.description == "serial \(pty.slavePath) @ 115200 (termios)")
        try await link.write(Array("hello board".utf8))
        var got: [UInt8] = []
        while got.count < 11 { got += try await pty.master.read(maxCount: 64, timeout: .seconds(2)) }
        #expect(got == Array("hello board".utf8))
        try await pty.master.write([0, 1, 2, 0xFF])
        var back: [UInt8] = []
        while back.count < 4 { back += try await link.read(maxCount: 64, timeout: .seconds(2)) }
        #expect(back == [0, 1, 2, 0xFF])
        await link.close()
        await pty.close()
    }

    @Test func secondOpenOfTheSamePtyIsBusy() async throws {
        let pty = try PtyPair.open()
        let first = try SerialLink.open(path: pty.slavePath)
        #expect(throws: TransportError.busy(path: pty.slavePath)) { _ = try SerialLink.open(path: pty.slavePath) }
        await first.close()
        let again = try SerialLink.open(path: pty.slavePath)
        await again.close()
        await pty.close()
    }

    @Test func missingPortIsNotFound() {
        #expect(throws: TransportError.notFound(path: "/dev/ttyNOPE99")) {
            _ = try SerialLink.open(path: "/dev/ttyNOPE99")
        }
    }

    @Test func timeoutAndUnplugThroughSerialLink() async throws {
        let pty = try PtyPair.open()
        let link = try SerialLink.open(path: pty.slavePath)
        await #expect(throws: TransportError.timeout(.milliseconds(60))) {
            _ = try await link.read(maxCount: 8, timeout: .milliseconds(60))
        }
        await pty.close()
        await #expect(throws: TransportError.closed("device unplugged")) {
            _ = try await link.read(maxCount: 8, timeout: .seconds(2))
        }
        await link.close()
    }

    @Test func listingWorksAndEncodesJSON() throws {
        let ports = try SerialPorts.list()
        let data = try JSONEncoder().encode(ports)
        let back = try JSONDecoder().decode([SerialPortInfo].self, from: data)
        #expect(back == ports)
        let usb = SerialPortInfo(path: "/dev/ttyUSB0", transport: .usb, vendorID: 0x0403, productID: 0x6001)
        #expect(usb.vidpid == "0403:6001")
        let text = String(decoding: try JSONEncoder().encode(usb), as: UTF8.self)
        #expect(text.contains("\"vidpid\":\"0403:6001\""))
    }

    @Test func usbSelectorParsing() throws {
        let s = try UsbSelector(parsing: "1209:0001:PNN0001")
        #expect(s == UsbSelector(vendorID: 0x1209, productID: 0x0001, serialNumber: "PNN0001"))
        #expect(s.description == "1209:0001:PNN0001")
        #expect(try UsbSelector(parsing: "0403:6001").serialNumber == nil)
        for bad in ["", "1209", "12g9:0001", "12345:0001", "1209:0001:", ":0001"] {
            #expect(throws: TransportError.invalidUsbSelector(bad)) { _ = try UsbSelector(parsing: bad) }
        }
        #expect(TransportError.invalidUsbSelector("x").description.contains("VID:PID[:SERIAL]"))
    }

    /// Whatever USB devices this machine has (none in a container): the listing is sorted by
    /// bus and address, stable between two calls, round-trips through JSON, and every bulk
    /// interface it reports has an IN endpoint (bit 7 set) and an OUT endpoint (bit 7 clear).
    @Test func usbListingIsConsistent() throws {
        let devices = try UsbDevices.list()
        #expect(devices == (try UsbDevices.list()))
        #expect(zip(devices, devices.dropFirst()).allSatisfy { ($0.bus, $0.address) < ($1.bus, $1.address) })
        #expect(try JSONDecoder().decode([UsbDeviceInfo].self, from: try JSONEncoder().encode(devices)) == devices)
        for d in devices {
            #expect((1...127).contains(d.address), "\(d.vidpid) address \(d.address)")
            #expect((d.bulkInterface != nil) == (d.bulkIn != nil) && (d.bulkIn != nil) == (d.bulkOut != nil))
            if let i = d.bulkIn, let o = d.bulkOut {
                #expect(
                    i & 0x80 != 0 && o & 0x80 == 0, "\(d.vidpid) endpoints 0x\(String(i, radix: 16)) 0x\(String(o, radix: 16))")
            }
        }
        // The JSON keys `pnnlab devices --json` prints.
        var probe = UsbDeviceInfo(vendorID: 0x1209, productID: 0x0001, bus: 1, address: 2)
        probe.bulkIn = 0x81
        let text = String(decoding: try JSONEncoder().encode(probe), as: UTF8.self)
        #expect(text.contains("\"vid\":4617") && text.contains("\"bulk_in\":129"))
    }
}
