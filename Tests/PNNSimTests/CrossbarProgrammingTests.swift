import Foundation
import PNNCore
import PNNSim
import Testing

/// Pulses, program-and-verify, stuck devices and drift.
@Suite struct CrossbarProgrammingTests {
    @Test func setStepsShrinkInProportionToTheDistanceFromGmax() throws {
        var config = CrossbarConfig(rows: 2, outputs: 1)
        config.writeNoise = 0
        config.stuckFraction = 0
        config.initialConductance = 0.25
        var physics = try CrossbarPhysics(config: config)
        let d = 1
        let gMax = physics.deviceGMax[d]
        var g = physics.trueConductances()[d]
        var steps: [Double] = []
        for _ in 0..<40 {
            physics.pulse(device: d, set: true)
            let next = physics.trueConductances()[d]
            #expect(abs((next - g) / (gMax - g) - physics.alphaSet[d]) < 1e-9, "step ∝ (Gmax − G)")
            steps.append(next - g)
            g = next
        }
        #expect(steps.allSatisfy { $0 > 0 })
        #expect(zip(steps, steps.dropFirst()).allSatisfy { $1 < $0 }, "SET steps shrink towards Gmax")
        #expect(g < gMax)
    }

    @Test func resetStepsShrinkInProportionToTheDistanceFromGmin() throws {
        var config = CrossbarConfig(rows: 2, outputs: 1)
        config.writeNoise = 0
        config.stuckFraction = 0
        config.initialConductance = 25
        var physics = try CrossbarPhysics(config: config)
        let d = 2
        let gMin = physics.deviceGMin[d]
        var g = physics.trueConductances()[d]
        var steps: [Double] = []
        for _ in 0..<40 {
            physics.pulse(device: d, set: false)
            let next = physics.trueConductances()[d]
            #expect(abs((g - next) / (g - gMin) - physics.alphaReset[d]) < 1e-9, "step ∝ (G − Gmin)")
            steps.append(g - next)
            g = next
        }
        #expect(steps.allSatisfy { $0 > 0 })
        #expect(zip(steps, steps.dropFirst()).allSatisfy { $1 < $0 }, "RESET steps shrink towards Gmin")
        #expect(physics.alphaReset[d] != physics.alphaSet[d], "device-to-device spread and asymmetry")
    }

    @Test func driftFollowsThePowerLaw() throws {
        var config = CrossbarConfig.ideal
        config.driftNuMean = 0.07
        config.driftNuSpread = 0.01
        var physics = try CrossbarPhysics(config: config)
        let d = 3
        physics.pulse(device: d, set: true)
        let tp = physics.programmedAt[d]
        let gp = physics.programmed[d]
        let nu = physics.driftExponent[d]
        #expect(nu > 0)
        physics.advanceTime(seconds: tp + 10 - physics.clock)
        #expect(physics.trueConductances()[d] == gp, "no drift before t0")
        var points: [(logTime: Double, logG: Double)] = []
        for age in [40.0, 400, 4000] {
            physics.advanceTime(seconds: tp + age - physics.clock)
            let g = physics.trueConductances()[d]
            points.append((log((physics.clock - tp) / config.driftT0), log(g)))
        }
        for (a, b) in zip(points, points.dropFirst()) {
            let slope = (b.logG - a.logG) / (b.logTime - a.logTime)
            #expect(abs(slope + nu) < 1e-6, "log-log slope \(slope), ν = \(nu)")
        }
    }

    @Test func stuckDevicesNeverMove() throws {
        var config = CrossbarConfig(rows: 16, outputs: 8, seed: 5)
        config.stuckFraction = 0.1
        var physics = try CrossbarPhysics(config: config)
        let stuck = physics.stuck.indices.filter { physics.stuck[$0] }
        #expect(stuck.count > 5)
        for d in stuck {
            let before = physics.trueConductances()[d]
            #expect(before == physics.deviceGMin[d] || before == physics.deviceGMax[d])
            for _ in 0..<100 { physics.pulse(device: d, set: true) }
            for _ in 0..<100 { physics.pulse(device: d, set: false) }
            let outcome = physics.programAndVerifyDetailed(device: d, target: 12)
            #expect(physics.trueConductances()[d] == before)
            #expect(!outcome.converged)
        }
        #expect(physics.statistics.pulses == stuck.count * (200 + config.maxPulses))
    }

    /// From 12 µS every target in 6…18 µS is reachable in 40 soft-bounds pulses even for a
    /// device whose step is 2σ below the mean (far-away targets need more: see the report).
    @Test func programAndVerifyReachesToleranceWithDefaultNoise() throws {
        var config = CrossbarConfig(rows: 8, outputs: 4, seed: 11)
        config.initialConductance = 12
        var physics = try CrossbarPhysics(config: config)
        let devices = Array(TestSupport.healthyDevices(physics).prefix(24))
        var pulses = 0
        for (k, d) in devices.enumerated() {
            let target = [6.0, 9, 15, 18][k % 4]
            let outcome = physics.programAndVerifyDetailed(device: d, target: target)
            pulses += outcome.pulses
            let truth = physics.trueConductances()[d]
            #expect(outcome.converged, "device \(d) → \(target) µS")
            #expect(abs(outcome.readBack - target) <= config.tolerance)
            #expect(abs(truth - target) <= config.tolerance + 4 * config.readNoise * target, "true G \(truth) µS")
            #expect(physics.targets[d] == target)
        }
        #expect(pulses > devices.count, "the devices started far from their targets")
        #expect(physics.statistics.pulses == pulses)
        #expect(physics.statistics.programAndVerifyCalls == devices.count)
        #expect(physics.statistics.unconvergedVerifies == 0)
    }

    @Test func clockCountsPulsesReadsAndVectors() throws {
        var config = CrossbarConfig(rows: 3, outputs: 1)
        config.stuckFraction = 0
        var physics = try CrossbarPhysics(config: config)
        physics.pulse(device: 0, set: true)
        _ = physics.read(device: 0)
        _ = physics.forward(Matrix(rows: 10, cols: 3))
        physics.advanceTime(seconds: 2)
        #expect(abs(physics.clock - (1e-6 + 1e-5 + 10 * 1e-4 + 2)) < 1e-12)
        let stats = physics.statistics
        #expect(stats.pulses == 1 && stats.reads == 1 && stats.vectorsMeasured == 10)
        #expect(stats.simulatedSeconds == physics.clock)
    }

    @Test func resetRestoresFabricatedConductances() throws {
        var physics = try CrossbarPhysics(config: CrossbarConfig(rows: 3, outputs: 2))
        let initial = physics.trueConductances()
        _ = physics.program([Double](repeating: 10, count: physics.deviceCount))
        #expect(physics.trueConductances() != initial)
        physics.resetToInitialState()
        #expect(physics.trueConductances() == initial)
    }
}
