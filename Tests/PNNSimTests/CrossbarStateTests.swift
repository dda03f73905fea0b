import Foundation
import PNNCore
import PNNSim
import Testing

/// The JSON state document: exact round trips and rejection of impossible states.
@Suite struct CrossbarStateTests {
    /// A default array after some programming, measuring and drift (so the forward cache exists).
    static func usedPhysics() throws -> CrossbarPhysics {
        var physics = try CrossbarPhysics(config: CrossbarConfig(rows: 6, outputs: 3, seed: 9))
        _ = physics.program((0..<physics.deviceCount).map { 2 + 0.5 * Double($0) })
        _ = physics.forward(TestSupport.inputs(batch: 16, rows: 6))
        physics.advanceTime(seconds: 45)
        _ = physics.forward(TestSupport.inputs(batch: 16, rows: 6, seed: 2))
        physics.programAndVerify(device: 4, target: 7)
        return physics
    }

    /// Decodes the export into a JSON object, lets `edit` corrupt it, and re-imports.
    static func reimport(_ physics: CrossbarPhysics, edit: (inout [String: Any]) -> Void) throws -> CrossbarPhysics {
        var object = try #require(try JSONSerialization.jsonObject(with: physics.exportState()) as? [String: Any])
        edit(&object)
        return try CrossbarPhysics(importing: JSONSerialization.data(withJSONObject: object))
    }

    @Test func roundTripReproducesTheSimulationExactly() throws {
        var original = try Self.usedPhysics()
        let data = try original.exportState()
        var copy = try CrossbarPhysics(importing: data)
        #expect(try copy.exportState() == data)
        let v = TestSupport.inputs(batch: 64, rows: 6, seed: 3)
        for _ in 0..<3 {
            #expect(original.forward(v) == copy.forward(v))
            original.advanceTime(seconds: 3)
            copy.advanceTime(seconds: 3)
        }
        #expect(original.readConductances() == copy.readConductances())
        #expect(original.programAndVerify(device: 2, target: 9) == copy.programAndVerify(device: 2, target: 9))
        #expect(original.statistics == copy.statistics)
        #expect(try original.exportState() == copy.exportState())
    }

    @Test func documentIsReadable() throws {
        let physics = try Self.usedPhysics()
        let object = try #require(try JSONSerialization.jsonObject(with: physics.exportState()) as? [String: Any])
        let programmed = try #require(object["programmed_uS"] as? [Double])
        // Foundation's JSONSerialization on Linux may misround the last bit; JSONDecoder is exact.
        #expect(zip(programmed, physics.programmed).allSatisfy { abs($0 - $1) <= 1e-14 * $1 })
        #expect(programmed.count == physics.deviceCount)
        #expect(object["format"] as? String == "pnnsim.crossbar-state")
        #expect((object["units"] as? [String: String])?["conductance"] == "µS")
        #expect((object["config"] as? [String: Any])?["g_max_uS"] as? Double == 25)
    }

    @Test func negativeConductanceIsRejected() throws {
        #expect(
            throws: CrossbarStateError.outOfRange(field: "programmed_uS", index: 0, value: -1, lower: 0, upper: 50, unit: "µS")
        ) {
            _ = try Self.reimport(try Self.usedPhysics()) {
                $0["programmed_uS"] = [-1.0] + (($0["programmed_uS"] as? [Double]) ?? []).dropFirst()
            }
        }
    }

    @Test func mismatchedArrayLengthIsRejected() throws {
        #expect(throws: CrossbarStateError.lengthMismatch(field: "alpha_set", expected: 36, got: 35)) {
            _ = try Self.reimport(try Self.usedPhysics()) {
                $0["alpha_set"] = Array((($0["alpha_set"] as? [Double]) ?? []).dropLast())
            }
        }
    }

    @Test func impossibleConfigurationAndGarbageAreRejected() throws {
        #expect(throws: CrossbarStateError.self) {
            _ = try Self.reimport(try Self.usedPhysics()) { object in
                var config = object["config"] as? [String: Any] ?? [:]
                config["g_min_uS"] = 30.0
                object["config"] = config
            }
        }
        #expect(throws: CrossbarStateError.unsupportedFormat(format: "something-else", version: 1)) {
            _ = try Self.reimport(try Self.usedPhysics()) { $0["format"] = "something-else" }
        }
        do {
            _ = try CrossbarPhysics(importing: Data("not json".utf8))
            Issue.record("garbage was accepted")
        } catch {
            guard case .unreadable = error else { Issue.record("unexpected \(error)"); return }
        }
    }

    @Test func configDecodesWithDefaultsAndKeepsIdealConverters() throws {
        let partial = try JSONDecoder().decode(CrossbarConfig.self, from: Data(#"{"rows": 4, "seed": 3}"#.utf8))
        var expected = CrossbarConfig(rows: 4, seed: 3)
        #expect(partial == expected)
        expected = CrossbarConfig.ideal
        let ideal = try JSONDecoder().decode(CrossbarConfig.self, from: JSONEncoder().encode(expected))
        #expect(ideal == expected)
        #expect(ideal.dacBits == nil && ideal.adcBits == nil)
    }

    @Test func invalidConfigurationsAreExplained() throws {
        var config = CrossbarConfig()
        config.deadColumns = [6]
        #expect(throws: CrossbarConfigError.self) { try config.validate() }
        #expect(throws: CrossbarConfigError.self) { _ = try CrossbarTwin(config: config) }
        #expect(throws: CrossbarConfigError.self) { _ = try CrossbarPhysics(config: config) }
        config = CrossbarConfig()
        config.alphaSet = 0
        do {
            try config.validate()
            Issue.record("αset = 0 accepted")
        } catch {
            #expect(error.description.contains("alphaSet"))
        }
    }
}
