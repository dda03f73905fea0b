import Foundation
import PNNCore
import PNNStore

/// Recording and loading measured values through the store, against same-run baselines.
func runStoreBenchmarks(into report: inout BenchReport) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-storebench-\(getpid())")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let steps = 100
    let perStep = 100_000
    let total = Double(steps * perStep)
    var rng = SeededRandom(seed: 1)
    let values = (0..<perStep).map { _ in rng.normal() }
    let identity = DeviceIdentity(family: "crossbar", model: "bench", serial: "0", firmware: "0")

    // Baseline: the same bytes appended to a plain file with FileHandle and fsync'd at the end.
    let plain = dir.appendingPathComponent("plain.bin")
    let baseline = try bestTime(repeats: 3) {
        _ = FileManager.default.createFile(atPath: plain.path, contents: nil)
        let h = try FileHandle(forWritingTo: plain)
        for _ in 0..<steps { h.write(values.withUnsafeBytes { Data($0) }) }
        try h.synchronize()
        try h.close()
    }

    var storePath = ""
    let record = try bestTime(repeats: 3) {
        storePath = dir.appendingPathComponent("bench-\(UUID().uuidString).sqlite").path
        let store = try RunStore(path: storePath)
        let run = try store.createRun(RunRecord(deviceName: "bench", identity: identity, task: "bench", method: "bench", seed: 1, configJSON: "{}"))
        for s in 1...steps {
            try store.appendStep(
                StepRecord(
                    runID: run, step: s, epoch: 0, loss: 0, trainAccuracy: nil, testAccuracy: nil, measurements: perStep,
                    cumulativeMeasurements: s * perStep, wallSeconds: 0, parameters: [], checkpointJSON: "{}"),
                measurements: [MeasurementBlock(kind: "outputs", rows: perStep / 10, cols: 10, values: values)])
        }
    }
    report.add(
        "store: record 10^7 values (100 steps × 10^5, one transaction per step)", total / record, unit: "values/s",
        baseline: total / baseline, baselineName: "plain file append", goal: "≥ 5e6 values/s")

    let store = try RunStore(path: storePath)
    var loaded = 0
    let load = try bestTime(repeats: 3) {
        loaded = try store.measurements(runID: 1).reduce(0) { $0 + $1.block.values.count }
    }
    precondition(loaded == steps * perStep, "loaded \(loaded) values")
    let readPlain = try bestTime(repeats: 3) { _ = try Data(contentsOf: plain) }
    report.add("store: load a 10^7-value run", load, unit: "s", baseline: readPlain, baselineName: "plain file read", goal: "< 1 s")

    // Naive baseline: one row per value, one transaction, on 10^5 values.
    let naiveCount = 100_000
    let naive = try bestTime(repeats: 1) {
        let path = dir.appendingPathComponent("naive-\(UUID().uuidString).sqlite").path
        let s = try RunStore(path: path)
        try s.benchmarkRowPerValue(values: Array(values.prefix(naiveCount)))
    }
    report.add(
        "store: row-per-value insert (naive layout, 10^5 values)", Double(naiveCount) / naive, unit: "values/s",
        baseline: total / record, baselineName: "blob per step", goal: "—")
}
