import CBLAS
import Foundation
import PNNCore
import PNNSim

/// The CLLN 300-node / 1500-edge free + clamped solve against a numpy dense Newton of the
/// same graph (`scripts/numpy_newton.py`, issue 11), in the same run: the twin's graph, gates,
/// sources and clamp are written to a JSON file the script reads, and both sides time the
/// same sequence (a ±1 mV gate change, then the floating, free and clamped solves, each
/// warm-started). numpy runs with one OpenBLAS thread and with its default threads; the
/// faster is the baseline. The twin also runs once with OpenBLAS's default threading (what
/// pnnlab did before ``BLASThreads``) for comparison.
func cllnNumpyBenchmarks(into report: inout BenchReport, quick: Bool) throws {
    let topology = NetworkTopology.random(nodes: 300, edges: 1500, seed: 7)
    let repeats = quick ? 5 : 20
    var state = CLLNState(topology: topology, physics: CLLNPhysics(), seed: 3)
    state.sources = topology.sourceVoltages(for: [0.3, 0.1], vPlus: 0.435, vMinus: 0.018)
    var net = try CLLNNetwork(state: state)
    net.setClamp(ClampSetting(mode: .clamped, targets: [0.02], eta: 1))
    let twinOutput = net.freeOutputs()

    let p = state.physics
    let problem: [String: Any] = [
        "nodes": topology.nodeCount,
        "edges": topology.edges.map { [$0.a, $0.b, $0.trainable] as [Any] },
        "inputs": topology.inputNodes,
        "sources": state.sources,
        "gates": state.gates,
        "physics": [
            "s": p.s, "vt": p.thresholdVoltage, "width": p.turnOnWidth, "off": p.offConductance,
            "fixed": p.fixedConductance, "gmax": p.gateMax, "vPlus": p.vPlus, "vMinus": p.vMinus,
        ],
        "outputs": topology.outputs.map { [$0.plus, $0.minus.map { $0 as Any } ?? NSNull()] as [Any] },
        "clamp": ["eta": 1.0, "targets": [0.02]],
        "repeats": repeats,
    ]
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("pnnbench-clln-\(getpid()).json")
    try JSONSerialization.data(withJSONObject: problem).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }

    var env = ProcessInfo.processInfo.environment
    for name in ["OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"] { env[name] = nil }
    var oneThread = env
    oneThread["OPENBLAS_NUM_THREADS"] = "1"
    var numpy: [(label: String, seconds: Double, iterations: Double)] = []
    for (label, environment) in [("1 thread", oneThread), ("default threads", env)] {
        let json = try runPythonScript("numpy_newton.py", [file.path], environment: environment)
        guard let seconds = json["seconds_per_solve"] as? Double, let out = json["initial_output"] as? [Double],
            let iterations = json["mean_newton_iterations"] as? Double
        else { throw BenchFailure("scripts/numpy_newton.py printed no seconds_per_solve") }
        // The same physics: numpy's floating network must give the twin's output.
        guard out.count == twinOutput.count, zip(out, twinOutput).allSatisfy({ abs($0 - $1) < 1e-6 }) else {
            throw BenchFailure("numpy's network output \(out) differs from the twin's \(twinOutput): not the same problem")
        }
        numpy.append((label, seconds, iterations))
    }

    let twin = try timeTwin(state: state, repeats: repeats)
    // What the twin did before the thread policy: OpenBLAS's default thread count.
    let cores = Int32(ProcessInfo.processInfo.activeProcessorCount)
    let policyThreads = openblas_get_num_threads()
    openblas_set_num_threads(cores)
    let twinDefault = try timeTwin(state: state, repeats: repeats)
    openblas_set_num_threads(policyThreads)

    let best = numpy.min { $0.seconds < $1.seconds }!
    report.add(
        "CLLN free+clamped solve, 300 / 1500, twin (\(BLASThreads.summary))", twin.seconds * 1e6, unit: "µs",
        baseline: best.seconds * 1e6, baselineName: "numpy dense Newton, same graph, \(best.label)",
        goal: "≤ 1/3 of numpy")
    for n in numpy {
        report.add(
            "CLLN 300 / 1500: numpy dense Newton, \(n.label) (\(String(format: "%.2f", n.iterations)) Newton steps/solve)",
            n.seconds * 1e6, unit: "µs")
    }
    report.add(
        "CLLN 300 / 1500: twin with OpenBLAS default threads (\(cores))", twinDefault.seconds * 1e6, unit: "µs",
        baseline: twin.seconds * 1e6, baselineName: "twin, pnnlab's thread policy")
    var notes = LinkBenchNotes.current.withLock { $0 }
    notes.verdict(
        "CLLN 300 / 1500 free + clamped solve ≥ 3× faster than numpy dense Newton (same graph, same run)",
        String(
            format: "twin %.0f µs (%.2f Newton steps/solve) vs numpy %.0f µs (%@) = %.1f× faster", twin.seconds * 1e6,
            twin.iterations, best.seconds * 1e6, best.label, best.seconds / twin.seconds),
        best.seconds >= 3 * twin.seconds)
    LinkBenchNotes.current.withLock { [notes] in $0 = notes }
}

/// Mean seconds per (gate change, floating + free + clamped solve) of the twin, best of 3,
/// and the mean Newton steps per solve.
private func timeTwin(state: CLLNState, repeats: Int) throws -> (seconds: Double, iterations: Double) {
    var net = try CLLNNetwork(state: state)
    net.setClamp(ClampSetting(mode: .clamped, targets: [0.02], eta: 1))
    var sink = 0.0
    var steps = 0
    var solves = 0
    let seconds = bestTime(repeats: 3) {
        for k in 0..<repeats {
            var gates = net.trainableGates
            gates[k % gates.count] += k % 2 == 0 ? 1e-3 : -1e-3
            net.setGates(gates)
            steps += net.lastIterations
            sink += net.solveFree()[0]
            steps += net.lastIterations
            sink += net.solveClamped()[0]
            steps += net.lastIterations
            solves += 3
        }
    }
    precondition(sink.isFinite)
    return (seconds / Double(repeats), Double(steps) / Double(max(solves, 1)))
}
