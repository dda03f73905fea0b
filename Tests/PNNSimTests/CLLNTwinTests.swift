import Foundation
import PNNCore
import Testing

@testable import PNNSim

/// Physics of the CLLN twin checked against independent calculations.
@Suite struct CLLNTwinTests {
    static func lattice(bias: Double = 2) throws -> CLLNNetwork {
        var physics = CLLNPhysics()
        physics.biasScale = bias
        var state = CLLNState(topology: .periodicLattice(), physics: physics, seed: 4)
        state.sources = NetworkTopology.periodicLattice().sourceVoltages(for: [0.3, 0.12], vPlus: 0.435, vMinus: 0.018)
        var rng = SeededRandom(seed: 9)
        for e in state.gates.indices { state.gates[e] = 1.5 + 3 * rng.uniform() }
        return try CLLNNetwork(state: state)
    }

    /// Net current into every free node, from the edge law written out again here.
    static func residual(_ net: CLLNNetwork, _ v: [Double], held: Set<Int>) -> Double {
        let s = net.state
        var current = Array(repeating: 0.0, count: s.topology.nodeCount)
        for (e, edge) in s.topology.edges.enumerated() {
            let vbar = (v[edge.a] + v[edge.b]) / 2
            let k = max(s.physics.s * (s.gates[e] - s.physics.thresholdVoltage - vbar), 0)
            let i = k * (v[edge.a] - v[edge.b])
            current[edge.a] -= i
            current[edge.b] += i
        }
        return current.indices.filter { !held.contains($0) }.map { abs(current[$0]) }.max() ?? 0
    }

    @Test func kirchhoffHoldsAtTheSolution() throws {
        var net = try Self.lattice()
        let v = net.solvePredicted()
        let held = Set(net.state.topology.inputNodes)
        #expect(Self.residual(net, v, held: held) < 1e-9)
        for (i, n) in net.state.topology.inputNodes.enumerated() { #expect(v[n] == net.state.sources[i]) }
        #expect(net.lastIterations < 15)
    }

    @Test func linearDividerMatchesTheAnalyticValue() throws {
        var state = CLLNState(topology: .twoPlusOne, physics: .ideal, seed: 1)
        state.conductances = [2e-3, 1e-3, 1e-3]
        state.sources = [0.4, 0.3, 0.0]
        var net = try CLLNNetwork(state: state)
        let expected = (2e-3 * 0.4 + 1e-3 * 0.3 + 1e-3 * 0.0) / 4e-3
        #expect(abs(net.freeOutputs()[0] - expected) < 1e-12)
    }

    @Test func clampHoldsTheNudgedOutputSplitAcrossTheDifferentialPair() throws {
        var net = try Self.lattice()
        let free = net.solvePredicted()
        let out = net.state.topology.outputs[0]
        let of = free[out.plus] - free[out.minus!]
        net.setClamp(ClampSetting(mode: .both, targets: [of + 0.04], eta: 0.5))
        let c = net.solveClamped()
        let f = net.solveFree()
        #expect(abs((c[out.plus] - c[out.minus!]) - (of + 0.02)) < 1e-12)
        #expect(abs(c[out.plus] - free[out.plus] - 0.01) < 1e-12)
        #expect(abs((f[out.plus] - f[out.minus!]) - (of - 0.02)) < 1e-12)
    }

    @Test func withoutANudgeTheGatesMoveByTheBiasAlone() throws {
        var net = try Self.lattice()
        net.setClamp(.free(outputs: 1))  // both networks free: identical drops, no signal
        let before = net.state.gates
        net.learn(seconds: 0.01)
        for e in before.indices {
            #expect(abs(net.state.gates[e] - before[e] - 0.01 * net.state.biases[e]) < 1e-9)
        }
    }

    @Test func learningIsIntegratedAccurately() throws {
        var one = try Self.lattice()
        one.setClamp(ClampSetting(mode: .clamped, targets: [0.05], eta: 1))
        var split = one
        var euler = one
        one.learn(seconds: 0.02)
        for _ in 0..<100 { split.learn(seconds: 0.0002) }
        // A fine explicit Euler reference with the same held voltages.
        for _ in 0..<20000 {
            let r = euler.gateRates()
            var g = euler.trainableGates
            for (i, e) in euler.state.topology.trainableEdges.enumerated() { g[i] += 1e-6 * r[e] }
            euler.setGatesRaw(g)
        }
        let a = one.trainableGates
        #expect(zip(a, split.trainableGates).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(zip(a, euler.trainableGates).allSatisfy { abs($0 - $1) < 2e-5 })
        #expect(zip(a, CLLNTwinTests.start.trainableGates).contains { abs($0 - $1) > 1e-3 }, "the gates must move")
    }

    static let start: CLLNNetwork = try! lattice()

    @Test func gatesStayWithinTheirWindow() throws {
        var net = try Self.lattice(bias: 40)
        // Every gate 10 mV from a bound, pushed by biases of tens of V/s for 10 ms.
        net.setGates(net.trainableGates.indices.map { $0 % 2 == 0 ? 0.01 : 4.99 })
        net.learn(seconds: 0.01)
        #expect(net.trainableGates.allSatisfy { $0 >= 0 && $0 <= net.state.physics.gateMax })
        #expect(net.trainableGates.contains(0) && net.trainableGates.contains(5))
    }

    @Test func stateRoundTripsAndImportRefusesBadValues() throws {
        let state = try Self.lattice().state
        let back = try CLLNState.importJSON(state.exportJSON())
        #expect(back == state)
        var bad = state
        bad.gates[3] = 5.5
        #expect(throws: CLLNError.gateOutOfRange(edge: 3, value: 5.5, max: 5)) { try CLLNState.importJSON(bad.exportJSON()) }
        bad = state
        bad.biases.removeLast()
        #expect(throws: CLLNError.wrongCount(what: "biases", expected: 32, got: 31)) { try bad.validated() }
    }

    @Test func topologyValidationNamesTheProblem() {
        let lattice = NetworkTopology.periodicLattice()
        #expect(lattice.nodeCount == 16 && lattice.edges.count == 32)
        var floating = NetworkTopology.twoPlusOne
        floating.nodeCount = 5
        #expect(throws: CLLNError.floatingNode(4)) { try floating.validated() }
        var cut = NetworkTopology.twoPlusOne
        cut.nodeCount = 6
        cut.edges.append(.init(a: 4, b: 5))
        cut.outputs = [.init(plus: 5)]
        #expect(throws: CLLNError.noPathToOutputs(output: 5)) { try cut.validated() }
    }

    @Test func twinRefusesOutOfRangeValuesAndCountsThem() async throws {
        let twin = try CLLNTwin(seed: 3)
        await #expect(throws: CLLNError.self) { try await twin.uncheckedApplyInputs([0, 0, 0, 0, 0, 1.5]) }
        await #expect(throws: CLLNError.self) { _ = try await twin.uncheckedProgram(Array(repeating: 6, count: 32)) }
        #expect(await twin.violations == 2)
        #expect(await twin.readParameters().allSatisfy { $0 == CLLNPhysics().initialGate })
        do {
            try await twin.applyInputs([0, 0, 0, 0, 0, 1.5])
            Issue.record("the checked entry point must refuse")
        } catch is SafetyViolation {}
        #expect(await twin.violations == 2, "the host-side check stops it before the device")
    }
}
