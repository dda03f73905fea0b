import CBLAS
import CameraDriver
import Foundation
import OpticsDriver
import PNNCore
import PNNDevices
import PNNLink
import PNNSim
import PNNTransport

/// The optics benchmarks: the twin's transmission product, rig synchronisation over two
/// ptys, camera frames and SLM patterns over their links (pty, and the camera over libusb
/// under the umockdev USB bed).
func opticsBenchmarks(into report: inout BenchReport, quick: Bool) async throws {
    if let child = ProcessInfo.processInfo.environment["PNNBENCH_USB_CHILD"] {
        // pnnbench started again by opticsUsbBenchmarks under Tests/TestBeds/usb-urb-bed.
        await UsbBedChild.run(child)
    }
    try opticsTwinBenchmarks(into: &report, quick: quick)
    try await opticsSyncBenchmarks(into: &report, quick: quick)
    try await opticsLinkBenchmarks(into: &report, quick: quick)
    try await opticsUsbBenchmarks(into: &report, quick: quick)
}

/// The optics twin's transmission product |E·T|² (and its whole forward pass: SLM,
/// product, camera) against a raw `cblas_zgemm` of the same shape, split over the same
/// cores in row blocks.
func opticsTwinBenchmarks(into report: inout BenchReport, quick: Bool) throws {
    let sources = 785 + 64
    let pixels = 2048
    let batch = quick ? 256 : 1024
    let medium = TransmissionMatrix(sources: sources, pixels: pixels, seed: 5)
    var rng = SeededRandom(seed: 9)
    let fields = (0..<(2 * batch * sources)).map { _ in rng.normal() }
    let flops = 8.0 * Double(batch) * Double(sources) * Double(pixels)
    let product = bestTime(repeats: 5) { _ = medium.intensities(fields, rows: batch) }
    let raw = bestTime(repeats: 5) { rawZgemm(fields, medium.entries, rows: batch, k: sources, n: pixels) }
    report.add(
        "optics twin transmission product |E·T|², batch \(batch), \(sources) macro-pixels × \(pixels) pixels",
        flops / product / 1e9, unit: "GFLOP/s", baseline: flops / raw / 1e9, baselineName: "raw cblas_zgemm",
        goal: "≥ 0.8 of raw")
    var config = OpticsConfig()
    config.inputs = 785
    var physics = try OpticsPhysics(config: config)
    let inputs = Matrix(rows: batch, cols: 785, storage: (0..<(batch * 785)).map { _ in 2 * rng.uniform() - 1 })
    let forward = bestTime(repeats: 3) { _ = physics.forward(inputs) }
    report.add(
        "optics twin forward (SLM, product, camera noise and ADC), batch \(batch), every effect on",
        flops / forward / 1e9, unit: "GFLOP/s", baseline: flops / raw / 1e9, baselineName: "raw cblas_zgemm")
}

/// C = A·B (complex, interleaved, row-major) in row blocks over the cores, OpenBLAS single-threaded per block.
private func rawZgemm(_ a: [Double], _ b: [Double], rows: Int, k: Int, n: Int) {
    BLASThreads.configure()
    var c = [Double](repeating: 0, count: 2 * rows * n)
    let parts = max(1, min(ProcessInfo.processInfo.activeProcessorCount, rows / 32))
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                let p = RawPointers(a: pa.baseAddress!, b: pb.baseAddress!, c: pc.baseAddress!)
                DispatchQueue.concurrentPerform(iterations: parts) { part in
                    let lo = rows * part / parts
                    let hi = rows * (part + 1) / parts
                    var alpha: (Double, Double) = (1, 0)
                    var beta: (Double, Double) = (0, 0)
                    withUnsafePointer(to: &alpha) { al in
                        withUnsafePointer(to: &beta) { be in
                            cblas_zgemm(
                                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(hi - lo), Int32(n), Int32(k), al,
                                p.a + 2 * lo * k, Int32(k), p.b, Int32(n), be, p.c + 2 * lo * n, Int32(n))
                        }
                    }
                }
            }
        }
    }
}

private struct RawPointers: @unchecked Sendable {
    let a: UnsafePointer<Double>
    let b: UnsafePointer<Double>
    let c: UnsafeMutablePointer<Double>
}

// MARK: Rig synchronisation

/// `pnnlab emulate optics` in-process (an SLM and a camera on one simulated bench, one pty
/// each), opened as a rig.
private struct EmulatedOptics {
    let bench: OpticsBench
    let hosts: [PtyEmulatorHost]
    let serving: [Task<Void, Never>]
    let boards: [ConnectedDevice]
    let slm: SLMDevice
    let camera: CameraDevice

    init(seed: UInt64, words: [String]) async throws {
        let options = try FamilyOptionValues(parsing: words, declared: OpticsFamily.emulatorOptions, context: "optics")
        let emulated = try OpticsFamily.emulators(EmulatorSettings(seed: seed, options: options))
        guard let bench = (emulated[0].endpoint as? SLMEmulator)?.bench else { throw BenchFailure("no optics bench") }
        self.bench = bench
        let hosts = try emulated.map { try PtyEmulatorHost(endpoint: $0.endpoint) }
        self.hosts = hosts
        serving = hosts.map { host in Task { await host.run() } }
        var boards: [ConnectedDevice] = []
        for h in hosts { boards.append(try await DeviceCatalog.connect(.serial(path: h.path, baud: 115_200))) }
        self.boards = boards
        guard let slm = boards[0].substrate as? SLMDevice, let camera = boards[1].substrate as? CameraDevice else {
            throw BenchFailure("the optics emulator did not give an SLM and a camera")
        }
        self.slm = slm
        self.camera = camera
    }

    func stop() async {
        for b in boards { await b.connection.close() }
        for s in serving { s.cancel() }
        for h in hosts { await h.stop() }
    }
}

/// 10⁴ pattern/frame pairs per synchronisation mode (2 000 with --quick) through an
/// `OpticsRig` over two ptys: frames that saw another pattern, or the right one before it
/// settled (settled fraction < 1 − e⁻⁴ at the exposure's start), are counted as wrong;
/// pairs/s of wall time and of the bench's simulated time, against the settle-time limit
/// 1/(t0 + 4b).
func opticsSyncBenchmarks(into report: inout BenchReport, quick: Bool) async throws {
    let target = quick ? 2_000 : 10_000
    for (mode, wired) in [(RigSync.hardware, true), (RigSync.software, false)] {
        var words = ["--width", "16", "--height", "16", "--camera-width", "32", "--camera-height", "16"]
        if !wired { words.append("--no-trigger-line") }
        let e = try await EmulatedOptics(seed: 11, words: words)
        let rig = try OpticsRig(slm: e.slm, camera: e.camera, inputs: 128, parameters: 64, binning: 2, sync: mode)
        _ = try await rig.setParameters((0..<64).map { Double(($0 * 37) % 256) })
        var rng = SeededRandom(seed: 5)
        let sim0 = e.bench.now()
        let t0 = linkNow()
        var measured = 0
        var wrong = 0
        var checked = 0
        while measured < target {
            let rows = min(100, target - measured)
            var x = Matrix(rows: rows, cols: 128)
            for r in 0..<rows { for c in 0..<128 { x[r, c] = 2 * rng.uniform() - 1 } }
            _ = try await rig.measure(x)
            measured += rows
        }
        let wall = linkNow() - t0
        let simulated = e.bench.now() - sim0
        let shown = await rig.shownCRCs
        let seen = e.bench.exposures
        let settled = 1 - exp(-4.0) - 1e-9
        for (s, x) in zip(shown, seen) {
            checked += 1
            if x.patternCRC != s || x.settledAtStart < settled { wrong += 1 }
        }
        wrong += abs(shown.count - seen.count)
        let limit = 1 / e.bench.settleTime
        try await rig.enterSafeState()
        await e.stop()
        report.add(
            "optics rig sync \(mode.rawValue): frames of the wrong or an unsettled pattern in \(checked) pattern/frame pairs",
            Double(wrong), unit: "frames", goal: "0")
        report.add(
            "optics rig sync \(mode.rawValue): pattern/frame pairs per second of simulated time (16×16 SLM, 32×16 camera)",
            Double(measured) / simulated, unit: "pairs/s", baseline: limit,
            baselineName: "settle limit 1/(t0 + 4b)")
        report.add(
            "optics rig sync \(mode.rawValue): pattern/frame pairs per second of wall time (two ptys, emulators in-process)",
            Double(measured) / wall, unit: "pairs/s")
    }
}

// MARK: Camera and SLM over their links

/// Grabs `count` software-triggered frames; returns (frames, pixel bytes, seconds).
func grabFrames(_ camera: CameraDevice, count: Int) async throws -> (frames: Int, bytes: Int, seconds: Double) {
    try await camera.stop()
    _ = try await camera.set(.triggerMode, 1)
    _ = try await camera.set(.triggerSource, 0)
    try await camera.start()
    _ = try await camera.triggerSoftware()
    _ = try await camera.grab(timeout: 5)  // warm-up
    var bytes = 0
    let t0 = linkNow()
    for _ in 0..<count {
        _ = try await camera.triggerSoftware()
        bytes += try await camera.grab(timeout: 5).info.total
    }
    let seconds = linkNow() - t0
    try await camera.stop()
    return (count, bytes, seconds)
}

/// Camera frames over a pty (`pnnlab emulate camera --width 256 --height 256`: a static
/// speckle, so the figure is the link's and not the scene's; 128 KiB of Mono12 a frame)
/// against the raw pty byte rate, and the SLM's pattern upload (CRC-32 bulk chunks) over a
/// pty.
func opticsLinkBenchmarks(into report: inout BenchReport, quick: Bool) async throws {
    let raw = try await rawPtyRate(bytes: quick ? 16 << 20 : 64 << 20)
    guard let driver = FamilyRegistry.standard.family(named: "camera") else { throw BenchFailure("no camera family") }
    let options = try FamilyOptionValues(
        parsing: ["--width", "256", "--height", "256"], declared: driver.emulatorOptions, context: "camera")
    let host = try PtyEmulatorHost(endpoint: try driver.emulator(EmulatorSettings(seed: 3, options: options)))
    let serving = Task { await host.run() }
    let board = try await DeviceCatalog.connect(.serial(path: host.path, baud: 115_200))
    guard let camera = board.substrate as? CameraDevice else { throw BenchFailure("the camera emulator is not a camera") }
    let g = try await grabFrames(camera, count: quick ? 20 : 100)
    await board.connection.close()
    serving.cancel()
    await host.stop()
    report.add(
        "camera over a pty: 256×256 Mono12 frames grabbed (TriggerSoftware → grab, CRC-32 chunks)",
        Double(g.frames) / g.seconds, unit: "frames/s")
    report.add(
        "camera over a pty: pixel bytes", Double(g.bytes) / g.seconds / 1e6, unit: "MB/s", baseline: raw / 1e6,
        baselineName: "raw pty master→slave bytes")

    let e = try await EmulatedOptics(
        seed: 3, words: ["--width", "32", "--height", "32", "--camera-width", "32", "--camera-height", "16"])
    let n = e.slm.info.patternBytes
    var rng = SeededRandom(seed: 4)
    let uploads = quick ? 50 : 200
    let t0 = linkNow()
    for k in 0..<uploads {
        let grey = (0..<n).map { _ in UInt8(truncatingIfNeeded: Int(rng.uniform() * 256)) }
        try await e.slm.upload(grey, slot: k % max(1, e.slm.info.slots))
    }
    let upload = (linkNow() - t0) / Double(uploads)
    report.add(
        "SLM over a pty: pattern upload (\(n) grey levels = 32×32 macro-pixels, CRC-32 bulk chunks)", upload * 1e3,
        unit: "ms", baseline: Double(n) / raw * 1e3, baselineName: "raw pty time for the same bytes")
    await e.stop()
}

// MARK: The camera over libusb under the umockdev USB bed

/// pnnbench's side under the bed: `raw:BYTES` writes BYTES through a `UsbBulkLink` to the
/// bed's loopback and reads them back; `camera:FRAMES` opens the camera at usb:0403:6001
/// and grabs FRAMES frames. Prints one JSON line and exits.
enum UsbBedChild {
    static func run(_ what: String) async -> Never {
        do {
            let parts = what.split(separator: ":")
            let n = parts.count == 2 ? Int(parts[1]) ?? 0 : 0
            if parts.first == "raw" {
                let link = try UsbBulkLink.open(try UsbSelector(parsing: "0403:6001"))
                let block = (0..<(1 << 16)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                let t0 = linkNow()
                let reader = Task { () throws -> Int in
                    var got = 0
                    while got < n { got += try await link.read(maxCount: 1 << 16, timeout: .seconds(10)).count }
                    return got
                }
                for _ in 0..<(n / block.count) { try await link.write(block) }
                let got = try await reader.value
                print("{\"bytes\": \(got), \"seconds\": \(linkNow() - t0)}")
                await link.close()
            } else {
                // The emulator behind the bed may still be starting: a few hello attempts.
                var connected: ConnectedDevice?
                for attempt in 1...10 {
                    do {
                        connected = try await DeviceCatalog.connect(.usb(try UsbSelector(parsing: "0403:6001")))
                        break
                    } catch  where attempt < 10 {}
                }
                guard let board = connected else { throw BenchFailure("usb:0403:6001 did not answer") }
                guard let camera = board.substrate as? CameraDevice else { throw BenchFailure("usb:0403:6001 is not a camera") }
                let g = try await grabFrames(camera, count: n)
                print("{\"frames\": \(g.frames), \"bytes\": \(g.bytes), \"seconds\": \(g.seconds)}")
                await board.connection.close()
            }
            exit(0)
        } catch {
            FileHandle.standardError.write(Data("pnnbench under the USB bed: \(error)\n".utf8))
            exit(1)
        }
    }
}

/// Runs pnnbench again under Tests/TestBeds/usb-urb-bed (compiled here with cc) as a
/// `UsbBedChild`; its JSON line.
private func underUsbBed(_ child: String, serve: String?) throws -> [String: Double]? {
    let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Tests/TestBeds/usb-urb-bed.c").standardizedFileURL.path
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnbench-usb-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let bed = dir.appendingPathComponent("usb-urb-bed").path
    if !FileManager.default.fileExists(atPath: bed) {
        let cc = shell(
            "cc -O2 -o '\(bed)' '\(source)' $(pkg-config --cflags --libs umockdev-1.0 libusb-1.0) -lpthread 2>&1")
        guard cc.status == 0 else { return nil }
    }
    let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
    let serveArgs = serve.map { "--serve '\($0)' " } ?? ""
    let r = shell("PNNBENCH_ONLY=optics PNNBENCH_USB_CHILD=\(child) '\(bed)' \(serveArgs)-- '\(me)' 2>&1")
    let line = r.output.split(separator: "\n").first { $0.hasPrefix("{") }
    guard r.status == 0, let line, let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double]
    else {
        throw BenchFailure("under the USB bed (\(child)): \(r.output)")
    }
    return object
}

private func shell(_ command: String) -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", command]
    let pipe = Pipe()
    p.standardOutput = pipe
    do { try p.run() } catch { return (-1, "\(error)") }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// The camera over libusb bulk transfers under the umockdev USB bed (`pnnlab emulate camera
/// --fd 3` behind the URB handler), against the bed's raw loopback rate through the same
/// `UsbBulkLink`. Skipped (one row saying so) without cc, umockdev or libusb headers.
func opticsUsbBenchmarks(into report: inout BenchReport, quick: Bool) async throws {
    let pnnlab = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        .appendingPathComponent("pnnlab").path
    guard shell("pkg-config --exists umockdev-1.0 libusb-1.0 && command -v cc").status == 0,
        FileManager.default.isExecutableFile(atPath: pnnlab)
    else {
        report.add(
            "camera over libusb under the umockdev bed: skipped (needs cc, umockdev-1.0, libusb-1.0 and pnnlab)", 0, unit: "—")
        return
    }
    guard let raw = try underUsbBed("raw:\(quick ? 4 << 20 : 16 << 20)", serve: nil), let rawBytes = raw["bytes"],
        let rawSeconds = raw["seconds"],
        let cam = try underUsbBed(
            "camera:\(quick ? 20 : 100)", serve: "\(pnnlab) emulate camera --fd 3 --width 256 --height 256"),
        let frames = cam["frames"], let bytes = cam["bytes"], let seconds = cam["seconds"]
    else {
        report.add("camera over libusb under the umockdev bed: skipped (the bed did not compile)", 0, unit: "—")
        return
    }
    report.add(
        "camera over libusb under the umockdev USB bed: 256×256 Mono12 frames grabbed", frames / seconds, unit: "frames/s")
    report.add(
        "camera over libusb under the umockdev USB bed: pixel bytes", bytes / seconds / 1e6, unit: "MB/s",
        baseline: rawBytes / rawSeconds / 1e6, baselineName: "raw bulk OUT→IN loopback through the same bed and UsbBulkLink")
}
