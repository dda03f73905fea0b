import CameraDriver
import Foundation
import PNNCore
import PNNDevices
import PNNLink
import Testing

/// Tests/TestBeds/usb-urb-bed.c, built once per test run: a umockdev bed whose USB device
/// 001/002 answers the usbfs URB ioctls (submit, reap, discard) from a device program on a
/// socketpair, so libusb's bulk path runs end to end with no hardware.
enum UsbBed {
    static let umockdevPresent: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "pkg-config --exists umockdev-1.0 libusb-1.0"]
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    static let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../TestBeds/usb-urb-bed.c").standardizedFileURL

    /// `pnnlab` next to the test bundle (or `PNNLAB_BIN`).
    static var pnnlab: String {
        if let override = ProcessInfo.processInfo.environment["PNNLAB_BIN"] { return override }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pnnlab").path
    }

    struct BedError: Error, CustomStringConvertible {
        var description: String
    }

    /// The compiled bed, or the compiler's complaint.
    static let binary: Result<String, BedError> = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-usb-bed-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let out = dir.appendingPathComponent("usb-urb-bed").path
        let r = run(
            "/bin/sh",
            ["-c", "cc -O1 -o '\(out)' '\(source.path)' $(pkg-config --cflags --libs umockdev-1.0 libusb-1.0) -lpthread"],
            timeout: 120)
        return r.status == 0 ? .success(out) : .failure(BedError(description: "usb-urb-bed did not compile:\n\(r.stderr)"))
    }()

    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs a program to completion (terminated after `timeout` seconds), output via temp files.
    static func run(_ executable: String, _ args: [String], timeout: Double = 120) -> Output {
        let dir = FileManager.default.temporaryDirectory
        let out = dir.appendingPathComponent("usb-bed-out-\(UUID().uuidString)")
        let err = dir.appendingPathComponent("usb-bed-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: out)
            try? FileManager.default.removeItem(at: err)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = args
        guard let o = try? FileHandle(forWritingTo: out), let e = try? FileHandle(forWritingTo: err) else {
            return Output(status: -1, stdout: "", stderr: "cannot create output files")
        }
        p.standardOutput = o
        p.standardError = e
        let done = DispatchSemaphore(value: 0)
        p.terminationHandler = { _ in done.signal() }
        do { try p.run() } catch { return Output(status: -1, stdout: "", stderr: "cannot run \(executable): \(error)") }
        if done.wait(timeout: .now() + timeout) == .timedOut {
            p.terminate()
            done.wait()
        }
        try? o.close()
        try? e.close()
        return Output(
            status: p.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Runs `pnnlab ARGS` under the bed, the device side served by `pnnlab SERVE --fd 3`.
    static func pnnlab(serve: [String], _ args: [String], timeout: Double = 180) throws -> Output {
        let bed = try binary.get()
        let serveLine = ([pnnlab] + serve + ["--fd", "3"]).map { "'\($0)'" }.joined(separator: " ")
        return run(bed, ["--serve", serveLine, "--", pnnlab] + args, timeout: timeout)
    }
}

@Suite(
    "umockdev USB bulk bed (usb-urb-bed)", .serialized,
    .enabled(
        if: UsbBed.umockdevPresent, "umockdev-1.0 or libusb-1.0 not found by pkg-config: scripts/install-deps.sh --with-test-beds"
    ))
struct UsbBedTests {
    /// libusb opens 0403:6001 by VID:PID, claims interface 0 and moves 40 000 bytes OUT and
    /// back IN (three URBs each way: 16 KiB URBs chained with BULK_CONTINUATION).
    @Test func selfTestLoopsBulkBytesThroughTheUrbHandler() throws {
        let r = UsbBed.run(try UsbBed.binary.get(), ["--self-test"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("self-test ok: libusb bulk OUT 40000 bytes, IN 40000 bytes, equal"), "stdout: \(r.stdout)")
        #expect(r.stderr.contains("bytes OUT 40000, IN 40000"), "stderr: \(r.stderr)")
    }

    @Test func bedRefusesAnEmptyCommandLine() throws {
        let r = UsbBed.run(try UsbBed.binary.get(), [])
        #expect(r.status == 2)
        #expect(r.stderr == "usb-urb-bed: nothing to run: give --self-test or -- PROGRAM ARGS\n")
    }

    /// The camera over libusb bulk transfers, with no hardware: `pnnlab conformance
    /// usb:0403:6001` opens the device by VID:PID, claims it and runs every check against
    /// `pnnlab emulate camera` behind the URB handler; the frame it grabs (pushed as CRC-32
    /// bulk chunks before the grab reply) is the one the same emulator gives over a pty.
    @Test func cameraConformanceRunsOverLibusbBulk() async throws {
        let r = try UsbBed.pnnlab(
            serve: ["emulate", "camera", "--seed", "7", "--width", "48", "--height", "24"],
            ["conformance", "usb:0403:6001", "--json"])
        #expect(r.status == 0, "stdout: \(r.stdout)\nstderr: \(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        let o = try #require(object, "stdout: \(r.stdout)")
        #expect(o["family"] as? String == "camera")
        #expect(o["port"] as? String == "usb:0403:6001")
        let checks = try #require(o["checks"] as? [[String: Any]])
        for c in checks where c["passed"] as? Bool != true { Issue.record("\(c["name"] ?? "?"): \(c["detail"] ?? "")") }
        #expect(o["passed"] as? Int == checks.count && checks.count >= 15)
        let usbGrab = try #require(checks.first { $0["name"] as? String == "camera grab" }?["detail"] as? String)
        #expect(usbGrab.contains("2304 bytes of Mono12"), "48×24 12-bit pixels, 2 bytes each: \(usbGrab)")
        // The bed saw the traffic as URBs: every submitted URB reaped, no stray ones.
        let stats = try #require(
            r.stderr.split(separator: "\n").last { $0.hasPrefix("usb-urb-bed: exit 0") }, "stderr: \(r.stderr)")
        #expect(stats.contains("URBs submitted"))

        // The same emulator, in-process behind a pty, runs the same checks: same frame bytes.
        let driver = try #require(FamilyRegistry.standard.family(named: "camera"))
        let options = try FamilyOptionValues(
            parsing: ["--width", "48", "--height", "24"], declared: driver.emulatorOptions, context: "camera")
        let endpoint = try driver.emulator(EmulatorSettings(seed: 7, options: options))
        let host = try PtyEmulatorHost(endpoint: endpoint)
        let serving = Task { await host.run() }
        let (_, results) = try await DeviceCatalog.conformance(.serial(path: host.path, baud: 115_200))
        serving.cancel()
        await host.stop()
        let ptyGrab = try #require(results.first { $0.name == "camera grab" }?.detail)
        let crc = { (s: String) in s.components(separatedBy: "CRC-32 ").last?.components(separatedBy: " ").first }
        #expect(crc(usbGrab) != nil && crc(usbGrab) == crc(ptyGrab), "over USB: \(usbGrab); over a pty: \(ptyGrab)")
    }
}
