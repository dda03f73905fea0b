import Foundation
import PNNCore
import PNNRuns
import PNNTraining

/// Issue 13's peak memory against depth (`PNNBENCH_ONLY=memory`): a deep cascade on
/// MNIST-1D with `depth − 1` hidden units of `width` outputs and a 10-output unit, every
/// unit its own default crossbar twin, one epoch per unit, trained in a child process
/// (`pnnbench --peak-memory-child METHOD DEPTH WIDTH BATCH`) so that each figure is its own
/// process's high-water mark (`getrusage` `ru_maxrss`). The child reports the mark after
/// building the units, the task and the trainer and measuring one largest batch on every
/// unit (the twins' own scratch buffers), before training, and after training; the
/// difference is what training added. Layer-local PIB (in cascade) holds one unit's inputs
/// on the training split and one batch's Gram matrices, whatever the depth; PAT
/// (backpropagation through the twins' models) keeps every unit's inputs, outputs and
/// activations of the batch for the backward pass, so its addition grows with depth.
func memoryBenchmarks(into report: inout BenchReport, quick: Bool) async throws {
    let depths = quick ? [1, 2, 3] : [1, 2, 3, 4]
    let width = 128
    // PIB at its default batch (hidden units: at least 128 per batch); PAT full batch, so
    // the activations it stores are large enough to see against the process's footprint.
    let settings: [(method: String, batch: Int, label: String)] = [
        ("pib", 32, "pib (cascade; hidden batches of 128)"),
        ("pat", 4000, "pat (full batch of 4000)"),
    ]
    for s in settings {
        // The same-run baseline: depth 2, the first cascade with a hidden unit.
        var two: Double?
        for depth in depths {
            let r = try runPeakMemoryChild(method: s.method, depth: depth, width: width, batch: s.batch)
            let added = (r.peakKiB - r.beforeKiB) / 1024
            if depth == 2 { two = added }
            let baseline = depth > 2 ? two : nil
            let units = "\(depth - 1) × \(width) hidden + 10"
            let before = String(format: "%.1f", r.beforeKiB / 1024)
            report.add(
                "peak RSS added by training, MNIST-1D, depth \(depth) (\(units)), \(s.label); before training \(before) MiB, \(String(format: "%.1f", r.seconds)) s",
                added, unit: "MiB", baseline: baseline, baselineName: baseline == nil ? nil : "depth 2",
                goal: s.method == "pib" ? "flat in depth (nothing kept across units)" : "reported")
        }
    }
}

/// One child's figures.
struct PeakMemoryFigures {
    var beforeKiB: Double
    var peakKiB: Double
    var seconds: Double
}

/// Runs this executable as `--peak-memory-child` and reads its one JSON line.
func runPeakMemoryChild(method: String, depth: Int, width: Int, batch: Int) throws -> PeakMemoryFigures {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = ["--peak-memory-child", method, "\(depth)", "\(width)", "\(batch)"]
    // A fixed mmap threshold: glibc otherwise raises it after the first large free, and
    // later arrays come from the heap, whose holes the high-water mark then counts.
    var environment = ProcessInfo.processInfo.environment
    environment["MALLOC_MMAP_THRESHOLD_"] = "131072"
    p.environment = environment
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0,
        let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
        let before = json["before_kib"] as? Double, let peak = json["peak_kib"] as? Double,
        let seconds = json["seconds"] as? Double
    else {
        throw BenchFailure(
            "the peak-memory child (\(method), depth \(depth)) exited \(p.terminationStatus): \(String(decoding: data, as: UTF8.self))"
        )
    }
    return PeakMemoryFigures(beforeKiB: before, peakKiB: peak, seconds: seconds)
}

/// The child: build, note the high-water mark, train one epoch per unit, note it again.
enum PeakMemoryChild {
    static func run(_ words: [String]) async throws {
        guard words.count == 4, let method = DeepMethod(rawValue: words[0]), let depth = Int(words[1]), depth >= 1,
            let width = Int(words[2]), let batch = Int(words[3])
        else { throw BenchFailure("--peak-memory-child METHOD DEPTH WIDTH BATCH") }
        var config = TrainerConfig()
        config.epochs = 1
        config.batchSize = batch
        let layers = [Int](repeating: width, count: depth - 1) + [10]
        let plan = DeepPlan(device: "sim:crossbar", task: .mnist1D, method: method, seed: 1, layers: layers, trainer: config)
        let opened = try await plan.open()
        let trainer = try DeepTrainer(
            units: opened.units, models: opened.models, widths: plan.layers, method: method, config: config,
            task: opened.task, seed: 1)
        var state = try await trainer.initialState()
        // Warm the devices: each twin keeps scratch buffers as large as the largest batch it
        // measured (DAC memo, noise draws, clip flags: ≈ 17 MB for a 4096 × 129 batch into
        // 256 columns). Those are the device's, whatever trains it, so they go in `before`.
        for unit in trainer.units {
            let d = unit.descriptor
            let rows = min(d.maxBatch, opened.task.train.count + opened.task.test.count)
            let mid = 0.5 * (d.inputs.lower + d.inputs.upper)
            _ = try await unit.measure(Matrix(rows: rows, cols: d.inputs.count, repeating: mid))
        }
        let before = maxResidentKiB()
        let t0 = DispatchTime.now().uptimeNanoseconds
        while !trainer.isFinished(state) { _ = try await trainer.step(&state) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
        print("{\"before_kib\": \(before), \"peak_kib\": \(maxResidentKiB()), \"seconds\": \(seconds)}")
    }

    /// `ru_maxrss` of this process, KiB (Linux).
    static func maxResidentKiB() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss)
    }
}
