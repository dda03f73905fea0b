import Foundation
import PNNCore

@testable import PNNStore

/// A private folder for one test's store files, removed by `remove()`.
struct Scratch {
    let dir: URL

    init() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnstore-test-\(UUID().uuidString)")
    }

    /// A path inside the folder (the folder itself is created by `RunStore` when needed).
    func path(_ name: String = "runs.sqlite") -> String { dir.appendingPathComponent(name).path }

    /// Creates the folder, for tests that place files before opening a store.
    func create() throws -> Scratch {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return self
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }
}

let identity = DeviceIdentity(family: "crossbar", model: "crossbar-twin", serial: "sim-1", firmware: "pnnsim-0.1")

func newRun(
    task: String = "iris", method: String = "spsa", seed: UInt64 = 1, config: String = "{}", createdAt: Date = Date()
) -> RunRecord {
    RunRecord(
        deviceName: "sim:crossbar", identity: identity, task: task, method: method, seed: seed, configJSON: config,
        createdAt: createdAt, updatedAt: createdAt)
}

/// Step `n` of run `run`: accuracies on even steps only, loss 1/n, 10 measurements per step.
func step(_ run: Int64, _ n: Int, parameters: [Double] = [1, 2, 3]) -> StepRecord {
    StepRecord(
        runID: run, step: n, epoch: n / 2, loss: 1 / Double(n), trainAccuracy: n % 2 == 0 ? 0.5 : nil,
        testAccuracy: n % 2 == 0 ? 0.4 : nil, measurements: 10, cumulativeMeasurements: 10 * n, wallSeconds: 0.01,
        parameters: parameters, checkpointJSON: #"{"n":\#(n)}"#)
}

/// Doubles that a lossy encoding would not preserve bit for bit.
let awkwardValues: [Double] = [
    .nan, Double(nan: 0x1234, signaling: false), .infinity, -.infinity, -0.0, 0.0,
    .leastNonzeroMagnitude, .greatestFiniteMagnitude, .pi, -1e-300,
]
