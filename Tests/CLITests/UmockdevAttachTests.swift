import Foundation
import Testing

/// `pnnlab attach /dev/ttyUSB0` end to end through libserialport with no hardware: the
/// umockdev bed declares an FTDI-style adapter (0403:6001, serial PNN0001) whose pty is
/// served by `pnnlab emulate crossbar --fd 3`; pnnlab runs under umockdev's preload.
@Suite(
    "umockdev: attach and train on /dev/ttyUSB0", .serialized,
    .enabled(if: SerialBed.umockdevPresent, "umockdev-1.0 not found by pkg-config: run scripts/install-deps.sh --with-test-beds"))
struct UmockdevAttachTests {
    func underBed(_ args: [String], serial: String = "EMU-7") async throws -> SerialBed.Output {
        let bed = try SerialBed.binary.get()
        return try await SerialBed.run(
            bed,
            [
                "--tty", "ttyUSB0", "--vid", "0403", "--pid", "6001", "--serial", "PNN0001", "--product", "pnnlab crossbar",
                "--serve", "'\(CLI.binary.path)' emulate crossbar --fd 3 --serial \(serial)", "--",
            ] + [CLI.binary.path] + args, timeout: 240)
    }

    @Test("attach /dev/ttyUSB0 registers the board; train by its name over libserialport; devices shows it answering")
    func attachThenTrain() async throws {
        let store = CLI.tempStore()
        let attach = try await underBed(["attach", "/dev/ttyUSB0", "--json", "--store", store])
        #expect(attach.status == 0, "\(attach.stderr)")
        let a = try #require(CLI.json(attach.stdout))
        #expect(a["port"] as? String == "/dev/ttyUSB0")
        #expect(a["serial"] as? String == "EMU-7")
        #expect(a["name"] as? String == "crossbar-1")

        let train = try await underBed(["train", "crossbar-1", "--task", "iris", "--epochs", "2", "--json", "--store", store])
        #expect(train.status == 0, "\(train.stderr)")
        #expect(CLI.json(train.stdout)?["status"] as? String == "completed")

        let devices = try await underBed(["devices", "--json"])
        #expect(devices.status == 0, "\(devices.stderr)")
        let d = try #require(CLI.json(devices.stdout))
        let ports = try #require(d["serial_ports"] as? [[String: Any]])
        let usb0 = try #require(ports.first { $0["path"] as? String == "/dev/ttyUSB0" })
        #expect(usb0["vidpid"] as? String == "0403:6001")
        #expect(usb0["link"] as? String == "libserialport")
        #expect((usb0["board"] as? String)?.hasPrefix("crossbar EMU-7") == true, "\(usb0)")
    }

    @Test("a board with another serial on the registered port is refused, not trained")
    func differentBoardRefused() async throws {
        let store = CLI.tempStore()
        #expect(try await underBed(["attach", "/dev/ttyUSB0", "--store", store]).status == 0)
        let r = try await underBed(["train", "crossbar-1", "--task", "iris", "--epochs", "1", "--store", store], serial: "EMU-8")
        #expect(r.status != 0)
        #expect(r.stderr.contains("registered with serial EMU-7"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}
