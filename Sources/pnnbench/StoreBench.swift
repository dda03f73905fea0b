import Foundation
import PNNCore
@_spi(Benchmark) import PNNStore

/// Recording and loading measured values through the run store, against same-run
/// baselines: (1) 10^7 values recorded as 100 steps × 10^5 values, one transaction per
/// step, against appending the same bytes to a plain file; (2) loading every block of
/// that run back, against reading the plain file into `[Double]`; (3) the naive
/// row-per-value layout on 10^5 values, against (1).
func runStoreBenchmarks(into report: inout BenchReport) throws {
    let fm = FileManager.default
    let dir = fm.temporaryDirectory.appendingPathComponent("pnnlab-storebench-\(getpid())")
    try fm.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? fm.removeItem(at: dir) }

    let steps = 100
    let perStep = 100_000
    let total = Double(steps * perStep)
    var rng = SeededRandom(seed: 1)
    let values = (0..<perStep).map { _ in rng.normal() }
    let parameters = (0..<1_000).map { _ in rng.uniform() }
    let identity = DeviceIdentity(family: "crossbar", model: "bench", serial: "0", firmware: "0")

    // Baseline for (1): the same bytes appended to a plain file, one write per step, fsync'd at the end.
    let plain = dir.appendingPathComponent("plain.bin")
    let plainWrite = try bestTime(repeats: 3) {
        _ = fm.createFile(atPath: plain.path, contents: nil)
        let handle = try FileHandle(forWritingTo: plain)
        for _ in 0..<steps { try handle.write(contentsOf: values.withUnsafeBytes { Data($0) }) }
        try handle.synchronize()
        try handle.close()
    }

    // (1) One RunStore transaction per step, each carrying one 10^4 × 10 block.
    let storePath = dir.appendingPathComponent("bench.sqlite").path
    var runID: Int64 = 0
    let record = try bestTime(repeats: 3) {
        for suffix in ["", "-wal", "-shm"] { try? fm.removeItem(atPath: storePath + suffix) }
        let store = try RunStore(path: storePath)
        runID = try store.createRun(
            RunRecord(deviceName: "bench", identity: identity, task: "bench", method: "bench", seed: 1, configJSON: "{}"))
        for s in 1...steps {
            try store.appendStep(
                StepRecord(
                    runID: runID, step: s, epoch: 0, loss: 1 / Double(s), trainAccuracy: nil, testAccuracy: nil,
                    measurements: perStep, cumulativeMeasurements: s * perStep, wallSeconds: 0, parameters: parameters,
                    checkpointJSON: "{}"),
                measurements: [MeasurementBlock(kind: "outputs", rows: perStep / 10, cols: 10, values: values)])
        }
    }
    report.add(
        "store: record 10^7 values (100 steps × 10^5, one transaction per step)", total / record, unit: "values/s",
        baseline: total / plainWrite, baselineName: "plain file append + fsync", goal: "≥ 5e6 values/s")

    // (2) Load every measurement block of that run through a fresh RunStore.
    let reader = try RunStore(path: storePath)
    var loaded = 0
    let load = try bestTime(repeats: 3) {
        loaded = try reader.measurements(runID: runID).reduce(0) { $0 + $1.block.values.count }
    }
    guard loaded == steps * perStep else {
        throw BenchFailure("store load returned \(loaded) values, expected \(steps * perStep)")
    }
    let plainRead = try bestTime(repeats: 3) {
        let data = try Data(contentsOf: plain)
        loaded = data.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }.count
    }
    report.add(
        "store: load a 10^7-value run (all measurement blocks)", load, unit: "s", baseline: plainRead,
        baselineName: "plain file read into [Double]", goal: "< 1 s")

    // (3) The naive layout, one row per value in one transaction, on 10^5 values.
    let naiveCount = 100_000
    let naive = try bestTime(repeats: 3) {
        let path = dir.appendingPathComponent("naive-\(UUID().uuidString).sqlite").path
        try RunStore(path: path).benchmarkRowPerValue(Array(values.prefix(naiveCount)))
    }
    report.add(
        "store: row-per-value insert (naive layout, 10^5 values, one transaction)", Double(naiveCount) / naive,
        unit: "values/s", baseline: total / record, baselineName: "blob per step", goal: "—")
}

/// A benchmark whose result is wrong, not merely slow.
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
