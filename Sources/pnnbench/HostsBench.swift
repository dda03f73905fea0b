import CrossbarDriver
import Foundation
import PNNLink
import PNNTransport
import PNNWire

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 11's host comparison (`PNNBENCH_ONLY=hosts`): pnnlab's host (`WireClient` over
/// `SerialLink`) against a plain Python + pyserial host written from docs/protocol.md
/// (`scripts/pyhost.py`), both talking to the same `pnnlab emulate crossbar` process on a pty
/// in the same run; then the CPU an idle attached link costs pnnlab's host process.
func hostsBenchmarks(into report: inout BenchReport, quick: Bool) async throws {
    var notes = LinkBenchNotes.current.withLock { $0 }
    defer { LinkBenchNotes.current.withLock { [notes] in $0 = notes } }
    let emulator = try EmulatorProcess.start(["crossbar", "--seed", "1"])
    defer { emulator.stop() }
    let pings = quick ? 1_000 : 5_000

    var swiftBest: PingFigures?
    var pythonBest: PingFigures?
    for _ in 0..<(quick ? 1 : 2) {
        let py = try pythonPings(port: emulator.port, pings: pings)
        let sw = try await swiftPings(port: emulator.port, pings: pings)
        pythonBest = pythonBest.map { $0.best(py) } ?? py
        swiftBest = swiftBest.map { $0.best(sw) } ?? sw
    }
    let sw = swiftBest!
    let py = pythonBest!
    report.add(
        "hosts: ping median round trip, pnnlab host vs `pnnlab emulate crossbar` (16 B, stop-and-wait)",
        sw.medianRTT * 1e6, unit: "µs", baseline: py.medianRTT * 1e6,
        baselineName: "Python + pyserial host (scripts/pyhost.py)", goal: "≤ 0.5 × Python")
    report.add(
        "hosts: pipelined pings, window 8, pnnlab host", sw.pipelined, unit: "requests/s", baseline: py.pipelined,
        baselineName: "Python + pyserial host, window 8", goal: "≥ 2 × Python")
    notes.verdict(
        "pnnlab host median round trip ≤ 0.5 × the Python + pyserial host's (same emulator, same run)",
        String(
            format: "%.0f µs vs Python %.0f µs = %.2f×", sw.medianRTT * 1e6, py.medianRTT * 1e6,
            sw.medianRTT / py.medianRTT),
        sw.medianRTT <= 0.5 * py.medianRTT)
    notes.verdict(
        "pnnlab host pipelined requests/s (window 8) ≥ 2 × the Python host's",
        String(format: "%.0f vs Python %.0f requests/s = %.2f×", sw.pipelined, py.pipelined, sw.pipelined / py.pipelined),
        sw.pipelined >= 2 * py.pipelined)

    // An idle attached link: the board open, nothing asked, CPU of this process over a few seconds;
    // baseline: the same process for the same time with the link closed.
    let seconds = quick ? 2.0 : 5.0
    let connection = try await openCrossbar(port: emulator.port)
    try await Task.sleep(for: .milliseconds(200))
    let attached = try await cpuFraction(over: seconds)
    await connection.close()
    try await Task.sleep(for: .milliseconds(200))
    let detached = try await cpuFraction(over: seconds)
    report.add(
        "hosts: CPU of an idle attached link (getrusage over \(Int(seconds)) s)", 100 * attached, unit: "% of a core",
        baseline: 100 * detached, baselineName: "same process, link closed", goal: "< 1 % of a core")
    notes.verdict(
        "an idle attached link costs < 1 % of a core",
        String(format: "%.2f %% of a core attached, %.2f %% with the link closed", 100 * attached, 100 * detached),
        attached < 0.01)
}

/// Median stop-and-wait round trip and pipelined rate of one host.
struct PingFigures {
    var medianRTT: Double
    var pipelined: Double

    func best(_ other: PingFigures) -> PingFigures {
        PingFigures(medianRTT: min(medianRTT, other.medianRTT), pipelined: max(pipelined, other.pipelined))
    }
}

/// A `pnnlab emulate …` child process; its first stdout line is the pty path.
final class EmulatorProcess: Sendable {
    let process: Process
    let port: String

    private init(process: Process, port: String) {
        self.process = process
        self.port = port
    }

    static func start(_ arguments: [String]) throws -> EmulatorProcess {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "pnnlab")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw BenchFailure("\(binary.path) is missing: build it first (swift build -c release --product pnnlab)")
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = ["emulate"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line: [UInt8] = []
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            guard let b = byte.first else { throw BenchFailure("pnnlab emulate exited before printing its port") }
            if b == 0x0A { break }
            line.append(b)
        }
        return EmulatorProcess(process: process, port: String(decoding: line, as: UTF8.self))
    }

    func stop() {
        process.interrupt()
        process.waitUntilExit()
    }
}

/// Runs `python3 scripts/NAME args…` (or the given interpreter) and parses its one JSON line;
/// `hint` says what the script needs when it fails.
func runPythonScript(
    _ name: String, _ arguments: [String], environment: [String: String]? = nil, python interpreter: String? = nil,
    hint: String = "make bench installs numpy and pyserial with scripts/install-deps.sh --with-bench"
) throws -> [String: Any] {
    let candidates = [
        URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("scripts/\(name)"),
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("../../scripts/\(name)").standardized,
    ]
    guard let script = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
        throw BenchFailure("scripts/\(name) not found; run pnnbench from the repository root")
    }
    let python = interpreter ?? ProcessInfo.processInfo.environment["PYTHON"] ?? "python3"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [python, script.path] + arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0,
        let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else {
        throw BenchFailure(
            "\(python) scripts/\(name) failed (exit \(process.terminationStatus)): "
                + String(decoding: errors.suffix(600), as: UTF8.self)
                + " — " + hint)
    }
    return json
}

private func pythonPings(port: String, pings: Int) throws -> PingFigures {
    let json = try runPythonScript("pyhost.py", [port, "--pings", "\(pings)", "--window", "8"])
    guard let rtt = json["median_rtt_s"] as? Double, let rate = json["pipelined_rps"] as? Double else {
        throw BenchFailure("scripts/pyhost.py printed no median_rtt_s / pipelined_rps")
    }
    return PingFigures(medianRTT: rtt, pipelined: rate)
}

private func openCrossbar(port: String) async throws -> LinkConnection {
    try await LinkConnection(
        port: port, family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash, grace: 1,
        opener: { () async throws(LinkError) -> any Transport in
            do throws(TransportError) { return try SerialLink.open(path: port, baud: 115_200) } catch {
                throw .transport(error)
            }
        })
}

private func swiftPings(port: String, pings: Int) async throws -> PingFigures {
    let connection = try await openCrossbar(port: port)
    let client = await connection.client
    let payload = [UInt8](repeating: 0xA5, count: 16)
    for _ in 0..<50 { _ = try await client.request(.ping, payload: payload, retry: .idempotent) }
    var rtts: [Double] = []
    rtts.reserveCapacity(pings)
    for _ in 0..<pings {
        let t0 = linkNow()
        let reply = try await client.request(.ping, payload: payload, retry: .idempotent)
        rtts.append(linkNow() - t0)
        if reply != payload { throw BenchFailure("ping reply does not echo its payload") }
    }
    rtts.sort()
    let t0 = linkNow()
    var tickets: [WireClient.Ticket] = []
    var head = 0
    for _ in 0..<pings {
        if tickets.count - head == 8 {
            _ = try await client.reply(to: tickets[head])
            head += 1
        }
        tickets.append(try await client.submit(.ping, payload: payload, retry: .idempotent))
    }
    while head < tickets.count {
        _ = try await client.reply(to: tickets[head])
        head += 1
    }
    let pipelined = Double(pings) / (linkNow() - t0)
    await connection.close()
    return PingFigures(medianRTT: rtts[rtts.count / 2], pipelined: pipelined)
}

/// User + system CPU of this process over `seconds` of wall time, as a fraction of one core.
private func cpuFraction(over seconds: Double) async throws -> Double {
    func cpu() -> Double {
        var u = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
        return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
    }
    let c0 = cpu()
    let t0 = linkNow()
    try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
    return (cpu() - c0) / (linkNow() - t0)
}
