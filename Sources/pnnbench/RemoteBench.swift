import Foundation
import PNNCore
import PNNDevices
import PNNRemote

/// Issue 15's remote figures (`PNNBENCH_ONLY=remote`): a `RemoteServer` in this process on a
/// free loopback port serving ideal `sim:crossbar` twins, against the same twins driven in
/// process in the same run — the measure round trip, streamed probe outputs/s, and output
/// values/s landing in numpy through the Python client (`scripts/remote_numpy.py`, run with
/// `.venv/bin/python` when `make python` has built it).
func remoteBenchmarks(into report: inout BenchReport, quick: Bool) async throws {
    var notes = LinkBenchNotes.current.withLock { $0 }
    defer { LinkBenchNotes.current.withLock { [notes] in $0 = notes } }
    let small = try await DeviceCatalog.open("sim:crossbar", twin: .init(seed: 5, optionWords: ["--ideal"])).substrate
    let wide = try await DeviceCatalog.open(
        "sim:crossbar", twin: .init(seed: 5, optionWords: ["--ideal"], geometry: TwinGeometry(inputs: 4, outputs: 128))
    ).substrate
    let served = [
        ServedDevice(name: "xbar", source: "sim:crossbar", substrate: small, streamWindow: 256),
        ServedDevice(name: "wide", source: "sim:crossbar", substrate: wide, streamWindow: 256),
    ]
    let server = try RemoteServer(
        configuration: .init(listen: HostPort(host: "127.0.0.1", port: 0)), devices: served, store: nil)
    let (bound, report_) = AsyncStream<Int>.makeStream()
    let serving = Task { try await server.run { report_.yield($0.port) } }
    var port = 0
    for await p in bound {
        port = p
        break
    }
    defer {
        server.shutdown()
        serving.cancel()
    }
    let address = { (name: String) in RemoteDeviceAddress(server: HostPort(host: "127.0.0.1", port: port), name: name) }
    let local = try await DeviceCatalog.open("sim:crossbar", twin: .init(seed: 5, optionWords: ["--ideal"])).substrate
    let remote = try await RemoteSubstrate.open(address("xbar"), environment: [:])
    let d = local.descriptor

    // Measure round trip, one row.
    let one = remoteInputs(d, rows: 1, seed: 1)
    let trips = quick ? 300 : 2_000
    for _ in 0..<50 { _ = try await remote.measure(one) }
    let localTrip = try await medianSeconds(trips) { _ = try await local.measure(one) }
    let remoteTrip = try await medianSeconds(trips) { _ = try await remote.measure(one) }
    report.add(
        "remote: measure round trip, 1 row, `sim:crossbar --ideal` \(d.inputs.count) × \(d.outputs.count), Swift client over loopback (median)",
        remoteTrip * 1e6, unit: "µs", baseline: localTrip * 1e6, baselineName: "same twin in process",
        goal: "reported (the issue sets none)")

    // Streamed probe outputs/s.
    let batch = remoteInputs(d, rows: 64, seed: 2)
    // Long enough (≈ 0.2 s in process) that one scheduler hiccup does not decide the ratio.
    let probeCount = quick ? 2_000 : 20_000
    let probes = (0..<probeCount).map { i in
        Probe(id: i, changes: [ParameterChange(index: i % d.parameters.count, value: d.parameters.upper[0])], inputs: batch)
    }
    func streamed(_ s: any Substrate) async throws -> Double {
        let t0 = DispatchTime.now().uptimeNanoseconds
        var values = 0
        for try await r in try s.stream(probes) { values += r.outputs.storage.count }
        return Double(values) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    // Interleaved, best of each: on a shared machine the load moves between runs.
    _ = try await streamed(remote)
    var localRate = 0.0
    var remoteRate = 0.0
    for _ in 0..<(quick ? 3 : 7) {
        localRate = max(localRate, try await streamed(local))
        remoteRate = max(remoteRate, try await streamed(remote))
    }
    report.add(
        "remote: streamed probe outputs/s over gRPC (\(probeCount) probes × 64 rows × \(d.outputs.count) outputs, window 256, best of 7 interleaved)",
        remoteRate, unit: "values/s", baseline: localRate, baselineName: "same probes in process",
        goal: "≥ 0.5 × in process")
    notes.verdict(
        "streamed values/s over gRPC ≥ 50 % of in process (issue 15)",
        String(format: "%.3g vs %.3g values/s = %.0f %%", remoteRate, localRate, 100 * remoteRate / localRate),
        remoteRate >= 0.5 * localRate)
    await remote.close()

    // Values landing in numpy through the Python client, beside the Swift client and in process.
    let rows = 8_192
    let wideInputs = remoteInputs(wide.descriptor, rows: rows, seed: 3)
    let wideRemote = try await RemoteSubstrate.open(address("wide"), lease: false, environment: [:])
    func rate(_ s: any Substrate) async throws -> Double {
        _ = try await s.measure(wideInputs)
        let seconds = try await medianSeconds(quick ? 5 : 20) { _ = try await s.measure(wideInputs) }
        return Double(rows * wide.descriptor.outputs.count) / seconds
    }
    let inProcess = try await rate(wide)
    let swiftRemote = try await rate(wideRemote)
    await wideRemote.close()
    let python = try remotePythonFigures(port: port, rows: rows, seconds: quick ? 1 : 3)
    report.add(
        "remote: output values/s into numpy, Python client, `measure` of \(rows) rows × \(wide.descriptor.outputs.count) outputs (4 × 128 ideal twin: the bytes, not the twin, bound it)",
        python.valuesPerSecond, unit: "values/s", baseline: inProcess, baselineName: "same measure in process (Swift)",
        goal: "≥ 10⁷ values/s")
    report.add(
        "remote: the same measure, Swift client over loopback", swiftRemote, unit: "values/s", baseline: inProcess,
        baselineName: "same measure in process")
    report.add(
        "remote: measure round trip, 1 row, Python client (median)", python.roundTrip * 1e6, unit: "µs",
        baseline: localTrip * 1e6, baselineName: "same twin in process (Swift)", goal: "reported")
    notes.verdict(
        "values/s landing in numpy through the Python client ≥ 10⁷ (issue 15)",
        String(
            format: "%.3g values/s (%d rows × %d outputs per call)", python.valuesPerSecond, rows, wide.descriptor.outputs.count),
        python.valuesPerSecond >= 1e7)
}

/// Inputs inside the crossbar's safe read range.
private func remoteInputs(_ d: SubstrateDescriptor, rows: Int, seed: UInt64) -> Matrix {
    var random = SeededRandom(seed: seed)
    var m = Matrix(rows: rows, cols: d.inputs.count)
    for i in 0..<m.storage.count {
        m.storage[i] = d.inputs.lower + (d.inputs.upper - d.inputs.lower) * (0.1 + 0.8 * random.uniform())
    }
    return m
}

/// Median wall seconds of `body` over `n` calls.
private func medianSeconds(_ n: Int, _ body: () async throws -> Void) async throws -> Double {
    var times: [Double] = []
    times.reserveCapacity(n)
    for _ in 0..<n {
        let t0 = DispatchTime.now().uptimeNanoseconds
        try await body()
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
    }
    times.sort()
    return times[times.count / 2]
}

/// What `scripts/remote_numpy.py` measured.
private struct PythonRemoteFigures {
    var valuesPerSecond: Double
    var roundTrip: Double
}

/// Runs `scripts/remote_numpy.py` against the in-process server: `.venv/bin/python` (made by
/// `make python`, with grpcio) when present, else `$PYTHON` or python3, with python/src on the path.
private func remotePythonFigures(port: Int, rows: Int, seconds: Double) throws -> PythonRemoteFigures {
    let root = FileManager.default.currentDirectoryPath
    var environment = ProcessInfo.processInfo.environment
    let venv = root + "/.venv/bin/python"
    environment["PYTHONPATH"] = root + "/python/src" + (environment["PYTHONPATH"].map { ":" + $0 } ?? "")
    let hint = "it needs numpy and grpcio: make python builds .venv with them"
    let json = try runPythonScript(
        "remote_numpy.py",
        ["127.0.0.1:\(port)", "--device", "wide", "--rows", "\(rows)", "--seconds", "\(seconds)"],
        environment: environment, python: FileManager.default.isExecutableFile(atPath: venv) ? venv : nil, hint: hint)
    guard let rate = json["values_per_s"] as? Double, let trip = json["round_trip_s"] as? Double else {
        throw BenchFailure("scripts/remote_numpy.py printed no values_per_s / round_trip_s — \(hint)")
    }
    return PythonRemoteFigures(valuesPerSecond: rate, roundTrip: trip)
}
