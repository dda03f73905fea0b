import CLLNDriver
import Foundation
import PNNCore
import PNNDevices
import PNNExperiments
import PNNLink
import PNNRuns
import PNNSim
import PNNTraining
import PNNTransport

/// CLLN benchmarks (issue 4): free+clamped Kirchhoff solve time on the 32-edge lab lattice
/// and on a 300-node / 1500-edge network (baseline: the same graph with linear resistors,
/// one Newton step), and learning steps per second over an emulated link (baseline: the
/// twin in process).
func cllnBenchmarks(into report: inout BenchReport, quick: Bool) async throws {
    for (name, topology) in [
        ("lattice 16 nodes / 32 edges", NetworkTopology.periodicLattice()),
        ("random 300 nodes / 1500 edges", NetworkTopology.random(nodes: 300, edges: 1500, seed: 7)),
    ] {
        let repeats = topology.nodeCount > 100 ? (quick ? 5 : 20) : (quick ? 500 : 5000)
        let nonlinear = try solveSeconds(topology, linear: false, repeats: repeats)
        let linear = try solveSeconds(topology, linear: true, repeats: repeats)
        report.add(
            "CLLN free+clamped solve, \(name)", nonlinear * 1e6, unit: "µs", baseline: linear * 1e6,
            baselineName: "linear resistors, same graph")
    }
    try cllnNumpyBenchmarks(into: &report, quick: quick)
    let steps = quick ? 200 : 2000
    let inProcess = try await stepsPerSecond(steps: steps, link: false, onBoard: true)
    let onBoard = try await stepsPerSecond(steps: steps, link: true, onBoard: true)
    let hostSteps = try await stepsPerSecond(steps: quick ? 50 : 300, link: true, onBoard: false)
    report.add(
        "CLLN learning steps/s, schedule on the board over a pty", onBoard, unit: "steps/s", baseline: inProcess,
        baselineName: "twin in process")
    report.add(
        "CLLN learning steps/s, host-driven steps over a pty", hostSteps, unit: "steps/s", baseline: inProcess,
        baselineName: "twin in process")
}

/// Mean seconds of one free + one clamped solve after a gate change.
private func solveSeconds(_ topology: NetworkTopology, linear: Bool, repeats: Int) throws -> Double {
    var state = CLLNState(topology: topology, physics: CLLNPhysics(), seed: 3)
    if linear { state.conductances = topology.edges.map { _ in 1e-3 } }
    state.sources = topology.sourceVoltages(for: [0.3, 0.1], vPlus: 0.435, vMinus: 0.018)
    var net = try CLLNNetwork(state: state)
    net.setClamp(ClampSetting(mode: .clamped, targets: [0.02], eta: 1))
    var gates = net.trainableGates
    var sink = 0.0
    let seconds = bestTime(repeats: 3) {
        for k in 0..<repeats {
            gates[k % gates.count] += k % 2 == 0 ? 1e-3 : -1e-3
            if linear {
                net.setConductances(gates.map { _ in 1e-3 + Double(k % 7) * 1e-6 })
            } else {
                net.setGates(gates)
            }
            sink += net.solveFree()[0] + net.solveClamped()[0]
        }
    }
    precondition(sink.isFinite)
    return seconds / Double(repeats)
}

/// Learning steps per second of a two-task coupled schedule.
private func stepsPerSecond(steps: Int, link: Bool, onBoard: Bool) async throws -> Double {
    let state = CLLNState(topology: .periodicLattice(), physics: CLLNPhysics(), seed: 5)
    let dataset = try ContrastiveTasks.dataset(ContrastiveTaskSpec(name: .twoTask), topology: .periodicLattice())
    let schedule = ContrastiveSchedule(
        method: .coupled, eta: 1, stepSeconds: 100e-6, periodSeconds: 2e-3, periods: steps / 20, recordEvery: 1_000_000,
        recordTail: 1)
    let substrate: any Substrate
    var stop: (@Sendable () async -> Void)?
    if link {
        let emulator = try CLLNEmulator(state: state, serial: "BENCH-CLLN")
        let host = try PtyEmulatorHost(endpoint: emulator, options: .init(), baud: 115_200)
        let serving = Task { await host.run() }
        let path = host.path
        let connection = try await LinkConnection(
            port: path, family: CLLNFamily.family, schemaHash: CLLNFamily.schemaHash, grace: 1,
            opener: { () async throws(LinkError) -> any Transport in
                do throws(TransportError) { return try SerialLink.open(path: path, baud: 115_200) } catch {
                    throw .transport(error)
                }
            })
        substrate = try await CLLNBoard(connection: connection)
        stop = {
            await connection.close()
            serving.cancel()
            await host.stop()
        }
    } else {
        substrate = try CLLNTwin(state: state, serial: "BENCH")
    }
    let driver = try ContrastiveDriver(substrate: substrate, method: .coupled, preferHostSteps: !onBoard)
    let t0 = DispatchTime.now().uptimeNanoseconds
    _ = try await driver.run(schedule, dataset: dataset) { _ in true }
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    await stop?()
    return Double(schedule.periods * 20) / seconds
}
