import Foundation
import Testing

/// Builds Tests/TestBeds/serial-bed.c once per test run (into a temp dir) and runs programs
/// under it. Compilation failures fail the tests; only a machine without umockdev-1.0 at all
/// skips them (`make test` installs it through scripts/install-deps.sh --with-test-beds).
enum SerialBed {
    static let umockdevPresent: Bool = (try? sh("pkg-config --exists umockdev-1.0").status) == 0

    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../TestBeds/serial-bed.c").standardizedFileURL

    /// The compiled bed, or the compiler's complaint.
    static let binary: Result<String, BedError> = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-bed-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let out = dir.appendingPathComponent("serial-bed").path
        let cmd =
            "cc -O1 -o '\(out)' '\(source.path)' $(pkg-config --cflags --libs umockdev-1.0 libserialport libusb-1.0) -lpthread"
        guard let r = try? sh(cmd) else { return .failure(BedError(text: "could not run cc")) }
        return r.status == 0 ? .success(out) : .failure(BedError(text: "serial-bed did not compile:\n\(r.stderr)"))
    }()

    struct BedError: Error, CustomStringConvertible {
        var text: String
        var description: String { text }
    }

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Synchronous, for the one-time setup (compiling the bed); tests use ``run(_:_:timeout:)``.
    static func sh(_ command: String) throws -> Output {
        let p = try launch("/bin/sh", ["-c", command])
        p.process.waitUntilExit()
        return p.collect()
    }

    struct Launched {
        var process: Process
        var out: URL
        var err: URL

        func collect() -> Output {
            defer {
                try? FileManager.default.removeItem(at: out)
                try? FileManager.default.removeItem(at: err)
            }
            return Output(
                status: process.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
        }
    }

    static func launch(_ executable: String, _ args: [String]) throws -> Launched {
        let child = try CLI.launch(URL(fileURLWithPath: executable), args)
        return Launched(process: child.process, out: child.out, err: child.err)
    }

    /// Run `executable` to completion (killed after `timeout` seconds), output via temp files.
    static func run(_ executable: String, _ args: [String], timeout: Double = 120) async throws -> Output {
        let p = try launch(executable, args)
        try await waitForExit(p.process, timeout: timeout)
        return p.collect()
    }

    /// Run `pnnlab ARGS` under a bed declaring 0403:6001 PNN0001 as /dev/ttyUSB0 and USB 001/002.
    static func pnnlab(_ args: [String]) async throws -> Output {
        let bed = try binary.get()
        return try await run(
            bed,
            ["--tty", "ttyUSB0", "--vid", "0403", "--pid", "6001", "--serial", "PNN0001", "--product", "pnnlab crossbar", "--"]
                + [CLI.binary.path] + args)
    }
}

@Suite(
    "umockdev test bed (serial-bed)", .serialized,
    .enabled(if: SerialBed.umockdevPresent, "umockdev-1.0 not found by pkg-config: run scripts/install-deps.sh --with-test-beds"))
struct UmockdevTests {
    /// The compiled bed runs and parses its command line: with nothing to run it refuses
    /// with its usage error (exit 2), not a crash or a loader error.
    @Test func bedRunsAndRefusesAnEmptyCommandLine() async throws {
        let r = try await SerialBed.run(try SerialBed.binary.get(), [])
        #expect(r.status == 2, "stderr: \(r.stderr)")
        #expect(r.stderr == "serial-bed: nothing to run: give --self-test or -- PROGRAM ARGS\n")
    }

    /// sp_open on the mocked /dev/ttyUSB0 (modem ioctls answered by the bed), VID/PID/serial
    /// read back, 12 bytes echoed through libserialport, and libusb lists the USB device.
    @Test func selfTestOpensThePortWithLibserialportAndEchoes() async throws {
        let r = try await SerialBed.run(try SerialBed.binary.get(), ["--self-test"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("self-test ok: sp_open /dev/ttyUSB0"))
        #expect(r.stdout.contains("libusb lists the device"))
    }

    @Test func devicesJSONListsTheMockedAdapter() async throws {
        let r = try await SerialBed.pnnlab(["devices", "--json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let o = try #require(CLI.json(r.stdout), "stdout: \(r.stdout)")
        let ports = try #require(o["serial_ports"] as? [[String: Any]])
        let port = try #require(ports.first { $0["path"] as? String == "/dev/ttyUSB0" }, "ports: \(ports)")
        #expect(port["vid"] as? Int == 0x0403)
        #expect(port["pid"] as? Int == 0x6001)
        #expect(port["vidpid"] as? String == "0403:6001")
        #expect(port["serial"] as? String == "PNN0001")
        #expect(port["product"] as? String == "pnnlab crossbar")
        #expect(port["transport"] as? String == "usb")
        #expect(port["link"] as? String == "libserialport")
        #expect(port["board"] is NSNull)
        let usb = try #require(o["usb_devices"] as? [[String: Any]])
        let dev = try #require(usb.first { $0["vid"] as? Int == 0x0403 && $0["pid"] as? Int == 0x6001 }, "usb: \(usb)")
        #expect(dev["bus"] as? Int == 1)
        #expect(dev["address"] as? Int == 2)
        #expect(dev["serial"] as? String == "PNN0001")
        #expect(dev["bulk_in"] as? Int == 0x81)
        #expect(dev["bulk_out"] as? Int == 0x01)
    }

    @Test func devicesTableShowsTheMockedAdapter() async throws {
        let r = try await SerialBed.pnnlab(["devices"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let line = r.stdout.split(separator: "\n").first { $0.hasPrefix("/dev/ttyUSB0") }
        let row = try #require(line.map(String.init), "stdout: \(r.stdout)")
        #expect(row.contains("0403:6001") && row.contains("PNN0001") && row.contains("libserialport"))
        #expect(r.stdout.contains("001/002"))
    }

    @Test func bedRejectsAnEmptyCommandLine() async throws {
        let r = try await SerialBed.run(try SerialBed.binary.get(), [])
        #expect(r.status == 2)
        #expect(r.stderr.contains("nothing to run"))
    }
}
