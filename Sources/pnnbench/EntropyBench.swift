import Foundation
import PNNCore
import PNNRuns
import PNNTraining

/// Issue 13's entropy bench (`PNNBENCH_ONLY=entropy`): the matrix Rényi entropy and its
/// gradient (`MatrixRenyi.entropyAndGradient`, and the α = 2 closed form) at n = 256, 512,
/// 1024 against numpy (`scripts/numpy_renyi.py`) on the same trace-normalised Gram matrices,
/// written to a file both read, in the same run (numpy with one OpenBLAS thread, as pnnlab); then the PIB step time (one epoch of the
/// hidden unit of `--layers 32,10` on digits, batches of 128) at α = 2 and α = 1.01.
func entropyBenchmarks(into report: inout BenchReport, quick: Bool) async throws {
    let sizes = [256, 512, 1024]
    let alphas = [2.0, 1.01]
    let repeats = quick ? 2 : 5
    var matrices: [Matrix] = []
    for n in sizes {
        var rng = SeededRandom(seed: UInt64(n))
        let z = Matrix(rows: n, cols: 8, storage: (0..<(n * 8)).map { _ in rng.normal() })
        let k = MatrixRenyi.gram(z)
        matrices.append(Matrix(rows: n, cols: n, storage: k.storage.map { $0 / Double(n) }))
    }
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("pnnbench-renyi-\(getpid()).f64")
    var bytes = Data()
    for a in matrices { a.storage.withUnsafeBytes { bytes.append(contentsOf: $0) } }
    try bytes.write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    // numpy with one OpenBLAS thread, as pnnlab's thread policy runs LAPACK (`BLASThreads`).
    var environment = ProcessInfo.processInfo.environment
    for name in ["GOTO_NUM_THREADS", "OMP_NUM_THREADS"] { environment[name] = nil }
    environment["OPENBLAS_NUM_THREADS"] = "1"
    let json = try runPythonScript(
        "numpy_renyi.py",
        [file.path] + sizes.map(String.init) + [
            "--alphas", alphas.map { "\($0)" }.joined(separator: ","), "--repeats", "\(repeats)",
        ],
        environment: environment)
    guard let rows = json["results"] as? [[String: Any]] else {
        throw BenchFailure("scripts/numpy_renyi.py printed no results")
    }
    for (i, n) in sizes.enumerated() {
        let a = matrices[i]
        for alpha in alphas {
            guard
                let row = rows.first(where: { ($0["n"] as? Int) == n && ($0["alpha"] as? Double) == alpha }),
                let numpySeconds = row["seconds"] as? Double, let numpyEntropy = row["entropy"] as? Double
            else { throw BenchFailure("scripts/numpy_renyi.py gave no row for n = \(n), α = \(alpha)") }
            func once() throws -> Double {
                let r =
                    alpha == 2
                    ? MatrixRenyi.closedFormEntropyAndGradient(normalized: a)
                    : try MatrixRenyi.entropyAndGradient(normalized: a, alpha: alpha)
                return r.entropy + 0 * r.gradient.storage[0]
            }
            let entropy = try once()
            guard abs(entropy - numpyEntropy) < 1e-6 * max(1, abs(entropy)) else {
                throw BenchFailure("numpy's S_\(alpha) at n = \(n) is \(numpyEntropy), pnnlab's \(entropy): not the same problem")
            }
            var best = Double.infinity
            for _ in 0..<repeats {
                let t0 = DispatchTime.now().uptimeNanoseconds
                _ = try once()
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            let path = alpha == 2 ? "α = 2 closed form" : "α = \(alpha), dsyevd, \(BLASThreads.summary)"
            report.add(
                "matrix Rényi entropy + gradient, n = \(n), \(path) (best of \(repeats))", best * 1e3, unit: "ms",
                baseline: numpySeconds * 1e3,
                baselineName: alpha == 2 ? "numpy, same closed form" : "numpy.linalg.eigh, same matrix, 1 thread",
                goal: "reported (the issue sets none)")
        }
    }

    // PIB step time: one epoch of the hidden unit on the default (noisy) twins.
    for alpha in alphas {
        var config = TrainerConfig()
        config.renyiAlpha = alpha
        let plan = DeepPlan(device: "sim:crossbar", task: .digits, method: .pib, seed: 1, layers: [32, 10], trainer: config)
        let opened = try await plan.open()
        let trainer = try DeepTrainer(
            units: opened.units, models: opened.models, widths: plan.layers, method: .pib, config: config,
            task: opened.task, seed: 1)
        var state = try await trainer.initialState()
        let steps = quick ? 1 : 3
        var best = Double.infinity
        for _ in 0..<steps {
            let t0 = DispatchTime.now().uptimeNanoseconds
            _ = try await trainer.step(&state)
            best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
        }
        let batches = (opened.task.train.count + DeepTrainer.minimumPIBBatch - 1) / DeepTrainer.minimumPIBBatch
        report.add(
            "PIB step (one epoch of unit 1, digits 32,10: \(opened.task.train.count) samples, \(batches) batches of \(DeepTrainer.minimumPIBBatch)), α = \(alpha) (best of \(steps))",
            best * 1e3, unit: "ms")
    }
}
