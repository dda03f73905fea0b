import CrossbarDriver
import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Synchronization

/// Link benchmarks (the issue's acceptance figures for the wire layer): pty throughput,
/// pipelining of a finite-difference Jacobian, correctness over a faulty link, and the
/// host-side safety gate. Every figure is printed with PASS/FAIL against its target and
/// collected in ``LinkBenchNotes`` for docs/benchmarks.md.
func linkBenchmarks(into report: inout BenchReport, quick: Bool) async throws {
    var notes = LinkBenchNotes()
    // PNNBENCH_LINK=throughput,pipelining,faults,training,safety runs a subset (for profiling).
    let only = ProcessInfo.processInfo.environment["PNNBENCH_LINK"].map { Set($0.split(separator: ",").map(String.init)) }
    func wanted(_ name: String) -> Bool { only?.contains(name) ?? true }
    if wanted("throughput") { try await linkThroughputBenchmarks(into: &report, notes: &notes, quick: quick) }
    if wanted("pipelining") { try await linkPipeliningBenchmarks(into: &report, notes: &notes, quick: quick) }
    if wanted("faults") { try await linkFaultBenchmarks(into: &report, notes: &notes, quick: quick) }
    if wanted("training") { try await faultyTraining(into: &report, notes: &notes, quick: quick) }
    if wanted("safety") { try await linkSafetyBenchmarks(into: &report, notes: &notes, quick: quick) }
    LinkBenchNotes.current.withLock { $0 = notes }
}

/// Target verdicts and remarks of the link benches, rendered as their own section.
struct LinkBenchNotes: Sendable {
    struct Verdict: Sendable {
        var target: String
        var measured: String
        var met: Bool
    }
    var verdicts: [Verdict] = []
    var remarks: [String] = []

    static let current = Mutex(LinkBenchNotes())

    mutating func verdict(_ target: String, _ measured: String, _ met: Bool) {
        verdicts.append(Verdict(target: target, measured: measured, met: met))
        FileHandle.standardError.write(Data("[\(met ? "PASS" : "FAIL")] \(target): \(measured)\n".utf8))
    }

    mutating func remark(_ text: String) {
        remarks.append(text)
        FileHandle.standardError.write(Data("note: \(text)\n".utf8))
    }

    /// The Markdown section (empty when the link benches did not run).
    static var markdown: String {
        let n = current.withLock { $0 }
        if n.verdicts.isEmpty { return "" }
        var out = "## Link acceptance targets\n\n| target | measured | met |\n|---|---|---|\n"
        for v in n.verdicts { out += "| \(v.target) | \(v.measured) | \(v.met ? "PASS" : "**FAIL**") |\n" }
        if !n.remarks.isEmpty {
            out += "\n"
            for r in n.remarks { out += "- \(r)\n" }
        }
        return out + "\n"
    }
}

// MARK: Wiring

/// An emulated crossbar and a host `CrossbarBoard` attached to it over a link.
struct LinkBenchRig {
    let board: CrossbarBoard
    let emulator: CrossbarEmulator
    let stopDevice: @Sendable () async -> Void
    let serverExecuted: @Sendable () async -> Int

    /// Emulator served by `PtyEmulatorHost` on a fresh pty; the host opens the slave path
    /// with `SerialLink` (termios on a pty), exactly like a USB serial port.
    static func pty(
        config: CrossbarConfig, options: WireServer.Options = .init(), client: WireClient.Configuration = .init()
    ) async throws -> LinkBenchRig {
        let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: config), serial: "BENCH-PTY")
        let host = try PtyEmulatorHost(endpoint: emulator, options: options, baud: 115_200)
        let serving = Task { await host.run() }
        let path = host.path
        let connection = try await LinkConnection(
            port: path, family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash, grace: 1,
            configuration: client,
            opener: { () async throws(LinkError) -> any Transport in
                do throws(TransportError) { return try SerialLink.open(path: path, baud: 115_200) } catch {
                    throw .transport(error)
                }
            })
        let board = try CrossbarBoard(connection: connection)
        return LinkBenchRig(
            board: board, emulator: emulator,
            stopDevice: {
                serving.cancel()
                await host.stop()
            }, serverExecuted: { await host.statistics().executed })
    }

    /// Emulator served over an in-memory link with injected faults. Every (re)open makes a
    /// fresh link pair and a fresh server for the same emulator, so the driver's reconnect
    /// path works (a reconnect closes the old link).
    static func memory(
        config: CrossbarConfig, faults: FaultSpec = .none, seed: UInt64 = 1, options: WireServer.Options = .init(),
        client: WireClient.Configuration = .init()
    ) async throws -> LinkBenchRig {
        let emulator = CrossbarEmulator(physics: try CrossbarPhysics(config: config), serial: "BENCH-MEM")
        let servers = Mutex<[(WireServer, Task<Void, Never>)]>([])
        let opens = Mutex<UInt64>(0)
        let connection = try await LinkConnection(
            port: "memory", family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash, grace: 2,
            configuration: client,
            opener: { () async throws(LinkError) -> any Transport in
                let k = opens.withLock { n in
                    n += 1
                    return n
                }
                let (host, device) = MemoryLink.pair(faults: faults, seed: seed &+ k &* 7919)
                let server = WireServer(endpoint: emulator, transport: device, options: options)
                let task = Task { await server.run() }
                servers.withLock { $0.append((server, task)) }
                return host
            })
        let board = try CrossbarBoard(connection: connection)
        return LinkBenchRig(
            board: board, emulator: emulator,
            stopDevice: { for (_, t) in servers.withLock({ $0 }) { t.cancel() } },
            serverExecuted: {
                var total = 0
                for (s, _) in servers.withLock({ $0 }) { total += await s.statistics.executed }
                return total
            })
    }

    func stop() async {
        await board.close()
        await stopDevice()
    }
}

func linkNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Context switches of this process so far (voluntary + involuntary, all threads): each
/// voluntary one is a thread that went to sleep and had to be woken again.
func processContextSwitches() -> Int {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return u.ru_nvcsw + u.ru_nivcsw
}

/// User + system CPU time of this process so far, seconds (all threads).
func processCPUSeconds() -> Double {
    var u = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6
}

func pctString(_ x: Double) -> String { String(format: "%.1f %%", 100 * x) }

/// The middle value (the mean of the two middle ones for an even count).
func median(_ values: [Double]) -> Double {
    let v = values.sorted()
    if v.isEmpty { return .nan }
    return v.count % 2 == 1 ? v[v.count / 2] : 0.5 * (v[v.count / 2 - 1] + v[v.count / 2])
}

// MARK: 1. Throughput over a pty

func linkThroughputBenchmarks(into report: inout BenchReport, notes: inout LinkBenchNotes, quick: Bool) async throws {
    // Streamed measurement payload: 16-row × 16-output twin, a batch of maxBatch vectors,
    // so each stream frame carries maxBatch × 16 f64 outputs (~4 kB).
    var config = CrossbarConfig()
    config.rows = 16
    config.outputs = 16
    config.seed = 21
    let rig = try await LinkBenchRig.pty(config: config)
    let d = rig.board.descriptor
    let batch = rig.board.geometry.maxBatch
    var rng = SeededRandom(seed: 9)
    let x = Matrix(
        rows: batch, cols: d.inputs.count,
        storage: (0..<(batch * d.inputs.count)).map { _ in 0.8 * d.inputs.upper * (2 * rng.uniform() - 1) })
    _ = try await rig.board.streamMeasurements(of: x, frames: 50)  // warm-up

    // Baseline: raw bytes through the same kind of pty, master → slave (the direction a
    // board's measurements travel), read with the same SerialLink the driver uses. On a
    // machine shared with other work the load moves within seconds, so each stream run is
    // paired with a raw run just before it and the verdict reads the median pair ratio.
    let pairs = quick ? 2 : 4
    let rawBytes = quick ? 8 << 20 : 16 << 20
    let frames = quick ? 1_000 : 4_000
    var rawRates: [Double] = []
    var streams: [CrossbarBoard.StreamFigures] = []
    var ratios: [Double] = []
    var rawCPU = 0.0
    var streamCPU = 0.0
    var rawSwitches = 0
    var streamSwitches = 0
    for _ in 0..<pairs {
        var cpu0 = processCPUSeconds()
        var switches0 = processContextSwitches()
        let raw = try await rawPtyRate(bytes: rawBytes)
        rawCPU += processCPUSeconds() - cpu0
        rawSwitches += processContextSwitches() - switches0
        cpu0 = processCPUSeconds()
        switches0 = processContextSwitches()
        let f = try await rig.board.streamMeasurements(of: x, frames: frames)
        streamCPU += processCPUSeconds() - cpu0
        streamSwitches += processContextSwitches() - switches0
        rawRates.append(raw)
        streams.append(f)
        ratios.append(f.bytesPerSecond / raw)
    }
    let rawRate = median(rawRates)
    let streamRate = median(streams.map(\.bytesPerSecond))
    let ratio = median(ratios)
    let lost = streams.reduce(0) { $0 + $1.lost }
    let frameBytes = streams[0].payloadBytes / max(streams[0].frames, 1)
    let rawPerByte = Double(pairs * rawBytes)
    let streamFrames = Double(pairs * frames)

    // Diagnostic: the same pty fed in frame-sized writes (one write per ~4 kB frame).
    var rawFrameRate = 0.0
    do {
        let pty = try PtyPair.open()
        let slave = try SerialLink.open(path: pty.slavePath, baud: 115_200)
        let block = [UInt8](repeating: 0x5A, count: 3_990)
        let master = pty.master
        let count = rawBytes / block.count
        let t0 = linkNow()
        let writer = Task { () -> String? in
            for _ in 0..<count {
                do { try await master.write(block) } catch { return "\(error)" }
            }
            return nil
        }
        var got = 0
        while got < count * block.count { got += try await slave.read(maxCount: 1 << 16, timeout: .seconds(5)).count }
        if let failed = await writer.value { throw BenchFailure("raw pty write failed: \(failed)") }
        rawFrameRate = Double(got) / (linkNow() - t0)
        await slave.close()
        await pty.close()
    }
    report.add(
        "link: raw pty bytes in 3 990-byte writes (frame-sized)", rawFrameRate / 1e6, unit: "MB/s",
        baseline: rawRate / 1e6, baselineName: "raw pty, 64 KiB writes (median run)")

    // CPU time, unlike wall time, hardly depends on what else the machine runs.
    report.add(
        "link: CPU per stream frame (emulator + host, one process)", streamCPU / streamFrames * 1e6, unit: "µs",
        baseline: rawCPU / rawPerByte * Double(frameBytes) * 1e6, baselineName: "raw pty, same bytes in 64 KiB writes")
    report.add(
        "link: context switches per stream frame (emulator + host, one process)", Double(streamSwitches) / streamFrames,
        unit: "switches", baseline: Double(rawSwitches) / rawPerByte * Double(frameBytes),
        baselineName: "raw pty, same bytes in 64 KiB writes")
    report.add(
        "link: streamed measurement payload over a pty (\(batch)×16 f64 per frame, \(frameBytes) B; median of \(pairs) runs)",
        streamRate / 1e6, unit: "MB/s", baseline: rawRate / 1e6,
        baselineName: "raw pty master→slave bytes, median of the \(pairs) runs interleaved with them", goal: "≥ 0.8 of raw")
    report.add(
        "link: stream / raw pty rate, median of \(pairs) interleaved pairs (each pair: raw, then stream)", ratio,
        unit: "ratio", baseline: nil, baselineName: nil, goal: "≥ 0.8")
    report.add(
        "link: stream frames over a pty (\(frameBytes) B payload)", median(streams.map(\.framesPerSecond)),
        unit: "frames/s")
    notes.verdict(
        "streamed measurement payload ≥ 80 % of raw pty byte rate",
        String(
            format:
                "median of %d interleaved pairs %@ (pairs %@); stream %.1f MB/s vs raw %.1f MB/s (medians; %d frames, %d lost)",
            pairs, pctString(ratio), ratios.map { pctString($0) }.joined(separator: ", "), streamRate / 1e6,
            rawRate / 1e6, pairs * frames, lost),
        ratio >= 0.8 && lost == 0)

    // Where the time goes: the emulator's forward alone, and the frame encoding alone.
    var physics = try CrossbarPhysics(config: config)
    let fwd = bestTime(repeats: 3) { for _ in 0..<1_000 { _ = physics.forward(x) } } / 1_000
    let payload = [UInt8](repeating: 0x3C, count: frameBytes + 1)
    let enc =
        try bestTime(repeats: 3) {
            for k in 0..<1_000 {
                _ = try Frame(type: .streamData, seq: UInt16(k), flags: .stream, payload: payload).encoded()
            }
        } / 1_000
    let wire = try Frame(type: .streamData, seq: 1, flags: .stream, payload: payload).encoded()
    var decoder = FrameDecoder()
    var decodedFrames = 0
    let dec = bestTime(repeats: 3) { for _ in 0..<1_000 { decodedFrames += decoder.feed(wire).count } } / 1_000
    if decodedFrames != 3_000 { throw BenchFailure("frame decoder lost frames in the decode benchmark") }
    let perFrame = 1 / median(streams.map(\.framesPerSecond))
    let rawPerFrame = Double(frameBytes) / rawRate
    report.add("link: per stream frame, wall", perFrame * 1e6, unit: "µs")
    report.add("link: per stream frame, twin forward (\(batch)×16×32)", fwd * 1e6, unit: "µs")
    report.add("link: per stream frame, frame encode (header + CRC + COBS)", enc * 1e6, unit: "µs")
    report.add("link: per stream frame, frame decode (COBS + CRC, host)", dec * 1e6, unit: "µs")
    report.add("link: per stream frame, raw pty time for the same bytes", rawPerFrame * 1e6, unit: "µs")
    notes.remark(
        String(
            format:
                "Stream frame budget (profiled per stage): %.1f µs per frame end to end; the pty alone moves the same "
                + "bytes in %.1f µs (%.1f µs in frame-sized writes). Per frame the emulator spends %.1f µs in the twin's "
                + "forward and %.1f µs encoding (one buffer, slicing-by-8 CRC-16, COBS by memchr runs), and the host "
                + "%.1f µs decoding; encode + decode is %.1f µs of the frame, so what separates the stream from the raw "
                + "rate is the path around the codec: WireServer writing one frame per write, actor hops and "
                + "FileDescriptorLink's dispatch-queue reads (Drivers/Link), on the same 2 cores as the kernel's pty "
                + "copy. Pty + encode + decode sum to %.1f µs.",
            perFrame * 1e6, rawPerFrame * 1e6, Double(frameBytes) / rawFrameRate * 1e6, fwd * 1e6, enc * 1e6,
            dec * 1e6, (enc + dec) * 1e6, (rawPerFrame + enc + dec) * 1e6))

    // Round trip per request (stop-and-wait pings) and pipelined ping rate.
    let client = await rig.board.client()
    let pingPayload = [UInt8](repeating: 0xA5, count: 16)
    for _ in 0..<50 { _ = try await client.request(.ping, payload: pingPayload, retry: .idempotent) }
    let pings = quick ? 1_000 : 5_000
    var t0 = linkNow()
    for _ in 0..<pings { _ = try await client.request(.ping, payload: pingPayload, retry: .idempotent) }
    let rtt = (linkNow() - t0) / Double(pings)
    t0 = linkNow()
    var tickets: [WireClient.Ticket] = []
    var head = 0
    for _ in 0..<pings {
        tickets.append(try await client.submit(.ping, payload: pingPayload, retry: .idempotent))
        if tickets.count - head > 16 {
            _ = try await client.reply(to: tickets[head])
            head += 1
        }
    }
    while head < tickets.count {
        _ = try await client.reply(to: tickets[head])
        head += 1
    }
    let pipelined = Double(pings) / (linkNow() - t0)
    report.add(
        "link: ping round trip over a pty, stop-and-wait (16 B payload)", rtt * 1e6, unit: "µs")
    report.add(
        "link: pipelined pings over a pty (window 8)", pipelined, unit: "requests/s", baseline: 1 / rtt,
        baselineName: "stop-and-wait", goal: "—")
    notes.remark(
        String(
            format:
                "Ping over the pty: %.0f µs per stop-and-wait round trip; %.0f pipelined round trips/s (%.0f frames/s both ways).",
            rtt * 1e6, pipelined, 2 * pipelined))
    await rig.stop()
}

// MARK: 2. Pipelining: FD Jacobian, P = 256

func linkPipeliningBenchmarks(into report: inout BenchReport, notes: inout LinkBenchNotes, quick: Bool) async throws {
    var config = CrossbarConfig.ideal
    config.rows = 16
    config.outputs = 8  // 16 × 16 physical devices = 256 parameters
    config.seed = 5
    let service = 0.001

    func run(window: Int, latency: Duration) async throws -> (seconds: Double, p: Int) {
        let rig = try await LinkBenchRig.pty(
            config: config, options: WireServer.Options(serviceTime: .milliseconds(1), latency: latency),
            client: WireClient.Configuration(tracker: .init(window: window)))
        let d = rig.board.descriptor
        let p = d.parameters.count
        let theta = (0..<p).map { 0.5 * (d.parameters.lower[$0] + d.parameters.upper[$0]) }
        _ = try await rig.board.setParameters(theta)
        let x = Matrix(rows: 4, cols: d.inputs.count, storage: (0..<(4 * d.inputs.count)).map { 0.1 * sin(Double($0)) })
        _ = try await rig.board.measure(x)  // uploads the batch into a slot once
        let h = 8 * d.parameters.resolution[0]
        let probes = (0..<p).map { i in
            Probe(id: i, changes: [ParameterChange(index: i, value: theta[i] + h)], inputs: x)
        }
        let t0 = linkNow()
        let base = try await rig.board.measure(x)
        var jac = Matrix(rows: base.storage.count, cols: p)
        for try await r in try rig.board.stream(probes) {
            for k in 0..<base.storage.count { jac[k, r.id] = (r.outputs.storage[k] - base.storage[k]) / h }
        }
        let seconds = linkNow() - t0
        await rig.stop()
        return (seconds, p)
    }

    let target = 1.2 * 256 * service
    let piped = try await run(window: 8, latency: .zero)
    let stopWait = try await run(window: 1, latency: .zero)
    report.add(
        "link: FD Jacobian P = 256 over a pty, 1 ms service time, pipelined (window 8)", piped.seconds * 1e3, unit: "ms",
        baseline: stopWait.seconds * 1e3, baselineName: "stop-and-wait (window 1)", goal: "≤ 1.2 × P × 1 ms = 307 ms")
    notes.verdict(
        "FD Jacobian, P = 256, 1 ms/request, pipelined ≤ 1.2 × P × 1 ms (307 ms)",
        String(
            format: "%.0f ms pipelined (%.2f ms/parameter); stop-and-wait %.0f ms", piped.seconds * 1e3,
            piped.seconds * 1e3 / 256, stopWait.seconds * 1e3),
        piped.seconds <= target)
    let pipedL = try await run(window: 8, latency: .milliseconds(1))
    let stopWaitL = try await run(window: 1, latency: .milliseconds(1))
    report.add(
        "link: FD Jacobian P = 256 over a pty, 1 ms service + 1 ms latency, pipelined (window 8)", pipedL.seconds * 1e3,
        unit: "ms", baseline: stopWaitL.seconds * 1e3, baselineName: "stop-and-wait (window 1)",
        goal: "≤ 1.2 × P × 1 ms = 307 ms")
    notes.verdict(
        "same with 1 ms injected link latency: pipelined ≤ 307 ms",
        String(
            format: "%.0f ms pipelined; stop-and-wait %.0f ms (pipelining ×%.1f)", pipedL.seconds * 1e3,
            stopWaitL.seconds * 1e3, stopWaitL.seconds / pipedL.seconds),
        pipedL.seconds <= target)
}

/// Raw bytes master → slave through a pty, read with the `SerialLink` the drivers use.
func rawPtyRate(bytes: Int) async throws -> Double {
    let pty = try PtyPair.open()
    let slave = try SerialLink.open(path: pty.slavePath, baud: 115_200)
    let block = (0..<(1 << 16)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let master = pty.master
    let t0 = linkNow()
    let writer = Task { () -> String? in
        for _ in 0..<(bytes / block.count) {
            do { try await master.write(block) } catch { return "\(error)" }
        }
        return nil
    }
    var got = 0
    while got < bytes / block.count * block.count { got += try await slave.read(maxCount: 1 << 16, timeout: .seconds(5)).count }
    if let failed = await writer.value { throw BenchFailure("raw pty write failed: \(failed)") }
    let rate = Double(got) / (linkNow() - t0)
    await slave.close()
    await pty.close()
    return rate
}
