import Foundation
import PNNCore
import Testing

@testable import PNNSim

/// Imported twin states are bounded in size and magnitude before anything is allocated
/// (issue 11): hostile files are one clear error, never a trap, a segfault or an hour-long solve.
@Suite struct HostileStateTests {
    static func state() -> CLLNState { CLLNState(topology: .periodicLattice(), physics: CLLNPhysics(), seed: 3) }

    static func importing(_ edit: (inout [String: Any]) -> Void) throws(CLLNError) -> CLLNState {
        var object = (try? JSONSerialization.jsonObject(with: state().exportJSON())) as? [String: Any] ?? [:]
        edit(&object)
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return try CLLNState.importJSON(data)
    }

    @Test func learningRatesAndBiasesAreBounded() throws {
        var s = Self.state()
        s.learningRates[2] = 1e300
        #expect(throws: CLLNError.self) { try s.validated() }
        s = Self.state()
        s.learningRates[2] = CLLNState.maximumLearningRate
        s.biases[5] = -CLLNState.maximumBias
        _ = try s.validated()
        s.biases[5] = -1e300
        do {
            _ = try s.validated()
            Issue.record("a bias of -1e300 V/s was accepted")
        } catch {
            #expect(error.description.contains("edge 5") && error.description.contains("|B| ≤ 1000.0"), "\(error)")
        }
    }

    @Test func physicsMagnitudesAreBounded() {
        for (key, value) in [("s", 1e300), ("fixedConductance", 1e300), ("thresholdVoltage", 1e300), ("learningRate", 1e300)] {
            #expect(throws: CLLNError.self, "\(key)") {
                try Self.importing { object in
                    var physics = object["physics"] as! [String: Any]
                    physics[key] = value
                    object["physics"] = physics
                }
            }
        }
    }

    /// 2^62 nodes segfaulted allocating the degree table; 10^6 nodes asked for 8 TB.
    @Test func sizesAreRefusedBeforeAllocation() {
        for nodes in [1 << 62, 1_000_000, NetworkTopology.maximumNodes + 1] {
            #expect(throws: CLLNError.tooLarge(what: "nodes", count: nodes, limit: NetworkTopology.maximumNodes)) {
                try Self.importing { object in
                    var topology = object["topology"] as! [String: Any]
                    topology["nodeCount"] = nodes
                    object["topology"] = topology
                }
            }
        }
        var many = NetworkTopology.periodicLattice()
        many.edges = Array(repeating: many.edges[0], count: NetworkTopology.maximumEdges + 1)
        #expect(throws: CLLNError.tooLarge(what: "edges", count: NetworkTopology.maximumEdges + 1, limit: 10_000)) {
            try many.validated()
        }
        #expect(
            CLLNError.tooLarge(what: "nodes", count: 10_000, limit: 1000).description
                == "graph: 10000 nodes is more than the simulator handles (at most 1000)")
    }

    @Test func decodingErrorsNameTheField() {
        do {
            _ = try Self.importing { $0["gates"] = "many" }
            Issue.record("accepted")
        } catch {
            #expect(error.description.contains("gates"), "\(error)")
            #expect(!error.description.contains("codingPath") && !error.description.contains("debugDescription"), "\(error)")
        }
        #expect(throws: CLLNError.invalidState("not a CLLN state document (not valid JSON)")) {
            try CLLNState.importJSON(Data("{".utf8))
        }
    }

    /// An aborted run stops integrating at the next substep instead of finishing the period.
    @Test func learningStopsWhenTheTaskIsCancelled() async throws {
        var physics = CLLNPhysics()
        physics.learningRate = CLLNState.maximumLearningRate / 2
        physics.learningRateSpread = 0
        let state = CLLNState(topology: .periodicLattice(), physics: physics, seed: 5)
        let task = Task { () -> (Duration, [Double]) in
            var net = try CLLNNetwork(state: state)
            net.setClamp(ClampSetting(mode: .clamped, targets: [0.1], eta: 1))
            withUnsafeCurrentTask { $0?.cancel() }
            let before = net.state.gates
            // Timed inside the task: on a loaded machine the task itself may wait to be scheduled.
            let clock = ContinuousClock()
            let start = clock.now
            net.learn(seconds: 10)  // at full speed this is 100 000 RK4 substeps
            return (clock.now - start, zip(before, net.state.gates).map { abs($0 - $1) })
        }
        // One RK4 substep at this A0 moves gates by millivolts; none ran.
        let (spent, moved) = try await task.value
        #expect(spent < .seconds(5))
        #expect(moved.allSatisfy { $0 == 0 })
    }

    @Test func hostileCrossbarConfigurationsAreRefused() throws {
        let physics = try CrossbarPhysics(config: CrossbarConfig(rows: 4, outputs: 2, seed: 1))
        let cases: [(String, Any, String)] = [
            ("rows", 1 << 62, "at most 4096 rows"), ("outputs", 1 << 40, "at most 2048 outputs"),
            ("g_max_uS", 1e300, "10000 µS"), ("max_pulses", 1 << 62, "at most 100000"), ("pulse_time_s", 1e300, "1.0 s"),
        ]
        for (key, value, phrase) in cases {
            var object = try #require(try JSONSerialization.jsonObject(with: physics.exportState()) as? [String: Any])
            var config = object["config"] as! [String: Any]
            config[key] = value
            object["config"] = config
            do {
                _ = try CrossbarPhysics(importing: JSONSerialization.data(withJSONObject: object))
                Issue.record("\(key) = \(value) accepted")
            } catch {
                #expect("\(error)".contains(phrase), "\(error)")
            }
        }
        // A clock of −1e300 s used to make an inverted range and trap.
        var object = try #require(try JSONSerialization.jsonObject(with: physics.exportState()) as? [String: Any])
        object["clock_s"] = -1e300
        #expect(throws: CrossbarStateError.self) {
            _ = try CrossbarPhysics(importing: JSONSerialization.data(withJSONObject: object))
        }
    }
}
