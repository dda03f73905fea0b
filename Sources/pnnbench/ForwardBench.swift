import CBLAS
import Foundation
import PNNCore
import PNNDevices
import PNNExperiments
import PNNRuns
import PNNSim
import PNNTraining

/// Crossbar twin batched forward against raw dgemm at the same shape.
func forwardBenchmarks(into report: inout BenchReport, quick: Bool) throws {
    let rows = 1024
    let outputs = 64
    let cols = 2 * outputs
    var config = CrossbarConfig()
    config.rows = rows
    config.outputs = outputs
    config.seed = 7
    var physics = try CrossbarPhysics(config: config)
    var rng = SeededRandom(seed: 3)
    for batch in quick ? [256] : [256, 1024] {
        let batches = (0..<4).map { _ in
            Matrix(rows: batch, cols: rows, storage: (0..<(batch * rows)).map { _ in 0.3 * (2 * rng.uniform() - 1) })
        }
        let weights = Matrix(rows: rows, cols: cols, storage: (0..<(rows * cols)).map { _ in rng.uniform() * 25 })
        var out = Matrix(rows: batch, cols: cols)
        let flops = 2.0 * Double(batch) * Double(rows) * Double(cols)
        let reps = 7
        var k = 0
        let raw = bestTime(repeats: reps) {
            Matrix.gemm(batches[k % 4], weights, into: &out)
            k += 1
        }
        _ = physics.forward(batches[0])
        let repeated = bestTime(repeats: reps) { _ = physics.forward(batches[0]) }
        let fresh = bestTime(repeats: reps) {
            _ = physics.forward(batches[k % 4])
            k += 1
        }
        report.add(
            "crossbar forward, batch \(batch), 1024×128 devices, same batch re-measured (probe repeats)", flops / repeated / 1e9,
            unit: "GFLOP/s", baseline: flops / raw / 1e9, baselineName: "raw cblas_dgemm", goal: "≥ 0.8 of raw")
        report.add(
            "crossbar forward, batch \(batch), 1024×128 devices, a new batch every call", flops / fresh / 1e9,
            unit: "GFLOP/s", baseline: flops / raw / 1e9, baselineName: "raw cblas_dgemm", goal: "≥ 0.8 of raw")
    }
}

/// Cost of a finite-difference Jacobian per parameter on task-sized twins.
func jacobianBenchmarks(into report: inout BenchReport) async throws {
    for (name, rows, outputs) in [("iris-sized 15×3", 15, 3), ("digits-sized 65×10", 65, 10)] {
        var config = CrossbarConfig()
        config.rows = rows
        config.outputs = outputs
        config.seed = 11
        let twin = CrossbarTwin(physics: try CrossbarPhysics(config: config))
        let space = twin.descriptor.parameters
        let theta = (0..<space.count).map { 0.5 * (space.lower[$0] + space.upper[$0]) }
        _ = try await twin.setParameters(theta)
        var rng = SeededRandom(seed: 5)
        let inputs = Matrix(rows: 32, cols: rows, storage: (0..<(32 * rows)).map { _ in 0.24 * (2 * rng.uniform() - 1) })
        let estimator = JacobianEstimator(scheme: .central)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let est = try await estimator.estimate(on: twin, theta: theta, inputs: inputs)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        report.add(
            "FD Jacobian per parameter, \(name) twin (P = \(space.count))", seconds / Double(space.count) * 1e6, unit: "µs")
        report.add(
            "FD Jacobian measurements per parameter, \(name)", Double(est.measurements) / Double(space.count), unit: "vectors")
    }
}
