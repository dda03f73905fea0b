import Foundation
import PNNCore
import PNNSim
import Testing

/// The `Substrate` face of the twin: descriptor, device-side defence, host-side safety, streaming.
@Suite struct CrossbarTwinTests {
    @Test func descriptorDescribesTheArray() throws {
        let twin = try CrossbarTwin(config: CrossbarConfig(rows: 5, outputs: 3, seed: 17))
        let d = twin.descriptor
        #expect(
            d.identity == DeviceIdentity(family: "crossbar", model: "crossbar-twin", serial: "sim-17", firmware: "pnnsim-0.1"))
        #expect(d.parameters.count == 30)
        #expect(d.parameters.lower.allSatisfy { $0 == 0.25 } && d.parameters.upper.allSatisfy { $0 == 25 })
        #expect(d.parameters.resolution.allSatisfy { $0 == 0.25 })
        #expect(d.parameters.name(of: 7) == "G−[1,0]")
        #expect(d.inputs.count == 5 && d.inputs.lower == -0.3 && d.inputs.upper == 0.3 && d.inputs.unit == .volt)
        #expect(abs(d.inputs.resolution - 0.3 / 127) < 1e-15)
        #expect(d.outputs.count == 3 && d.outputs.upper == 0.3 * 25 * 5 / 2 && d.outputs.unit == .microampere)
        #expect(d.capabilities == [.resettable, .drifting])
        #expect(d.maxBatch == 4096)
    }

    @Test func deviceRefusesUnsafeValuesAndCountsThem() async throws {
        let twin = try CrossbarTwin()
        var targets = [Double](repeating: 5, count: twin.descriptor.parameters.count)
        targets[2] = 30
        await #expect(throws: CrossbarTwinError.self) { try await twin.uncheckedProgram(targets) }
        var stats = await twin.statistics()
        #expect(stats.violations == 1)
        #expect(stats.pulses == 0 && stats.reads == 0, "nothing was programmed")
        targets[2] = .nan
        await #expect(throws: CrossbarTwinError.self) { try await twin.uncheckedProgram(targets) }
        var inputs = Matrix(rows: 2, cols: 5)
        inputs[1, 3] = 0.5
        await #expect(throws: CrossbarTwinError.inputRefused(vector: 1, channel: 3, value: 0.5, lower: -0.3, upper: 0.3)) {
            try await twin.uncheckedMeasure(inputs)
        }
        stats = await twin.statistics()
        #expect(stats.violations == 3)
        #expect(stats.vectorsMeasured == 0)
    }

    @Test func checkedCallsStopUnsafeValuesOnTheHost() async throws {
        let twin = try CrossbarTwin()
        var targets = [Double](repeating: 5, count: twin.descriptor.parameters.count)
        targets[2] = 30
        await #expect(throws: SafetyViolation.self) { try await twin.setParameters(targets) }
        var inputs = Matrix(rows: 2, cols: 5)
        inputs[0, 0] = -0.31
        await #expect(throws: SafetyViolation.self) { try await twin.measure(inputs) }
        let probe = Probe(id: 0, changes: [ParameterChange(index: 0, value: 0.1)], inputs: Matrix(rows: 1, cols: 5))
        #expect(throws: SafetyViolation.self) { _ = try twin.stream([probe]) }
        let stats = await twin.statistics()
        #expect(stats.violations == 0 && stats.pulses == 0 && stats.reads == 0 && stats.vectorsMeasured == 0)

        targets[2] = 5
        let readBack = try await twin.setParameters(targets)
        #expect(readBack.count == targets.count)
        #expect(await twin.statistics().violations == 0)
    }

    @Test func measureSplitsLargeBatchesAndRefusesOversizedOnes() async throws {
        let twin = try CrossbarTwin()
        let y = try await twin.measure(Matrix(rows: 5000, cols: 5))
        #expect(y.rows == 5000 && y.cols == 3)
        #expect(await twin.statistics().vectorsMeasured == 5000)
        await #expect(throws: CrossbarTwinError.batchTooLarge(got: 5000, max: 4096)) {
            try await twin.uncheckedMeasure(Matrix(rows: 5000, cols: 5))
        }
        #expect(await twin.statistics().violations == 0, "an oversized batch is not a safety violation")
    }

    @Test func streamYieldsResultsInOrderAndRestoresDevices() async throws {
        var config = CrossbarConfig(rows: 4, outputs: 2, seed: 23)
        config.initialConductance = 8
        config.stuckFraction = 0
        config.adcFailureRate = 0
        let twin = try CrossbarTwin(config: config)
        var rowZero = Matrix(rows: 1, cols: 4)
        rowZero[0, 0] = 0.3
        let probes = (0..<50).map { k in
            Probe(
                id: 100 + k, changes: [ParameterChange(index: k < 2 ? 0 : k % 16, value: k % 2 == 0 ? 12 : 4)],
                inputs: k < 2 ? rowZero : TestSupport.inputs(batch: 3, rows: 4, seed: UInt64(k)), repeats: 2)
        }
        var results: [ProbeResult] = []
        for try await result in try twin.stream(probes) { results.append(result) }
        #expect(results.map(\.id) == probes.map(\.id))
        #expect(zip(results, probes).allSatisfy { $0.outputs.rows == $1.inputs.rows && $0.outputs.cols == 2 })
        #expect(zip(results, probes).allSatisfy { $0.measurementCount == $1.measurementCount })
        // Probes 0 and 1 hold G+[0,0] at 12 and 4 µS with only row 0 driven at 0.3 V.
        let difference = results[0].outputs[0, 0] - results[1].outputs[0, 0]
        #expect(abs(difference - 0.3 * 8) < 0.5, "ΔI = \(difference) µA")

        let physics = await twin.snapshot()
        #expect(physics.targets.allSatisfy { $0 == 8 })
        let truth = physics.trueConductances()
        for d in 0..<16 {
            #expect(abs(truth[d] - 8) <= config.tolerance + 4 * config.readNoise * 8, "device \(d) restored to \(truth[d]) µS")
        }
        #expect(physics.statistics.vectorsMeasured == probes.reduce(0) { $0 + $1.measurementCount })
    }

    @Test func deviceSideCheckRejectsAWholeUnsafeStream() async throws {
        let twin = try CrossbarTwin()
        let ok = Probe(id: 0, changes: [ParameterChange(index: 0, value: 5)], inputs: Matrix(rows: 1, cols: 5))
        let bad = Probe(id: 1, changes: [ParameterChange(index: 1, value: 99)], inputs: Matrix(rows: 1, cols: 5))
        await #expect(throws: CrossbarTwinError.self) {
            for try await _ in twin.uncheckedStream([ok, bad]) {}
        }
        let stats = await twin.statistics()
        #expect(stats.violations == 1 && stats.pulses == 0 && stats.vectorsMeasured == 0)
    }

    @Test func cancellingTheConsumerStopsTheWork() async throws {
        var config = CrossbarConfig(rows: 64, outputs: 16)
        config.stuckFraction = 0
        let twin = try CrossbarTwin(config: config)
        let inputs = TestSupport.inputs(batch: 64, rows: 64)
        let probes = (0..<2000).map {
            Probe(id: $0, changes: [ParameterChange(index: $0 % 2048, value: 10)], inputs: inputs, repeats: 4)
        }
        var seen = 0
        for try await _ in try twin.stream(probes) {
            seen += 1
            if seen == 2 { break }
        }
        try await Task.sleep(for: .milliseconds(200))
        let measured = await twin.statistics().vectorsMeasured
        try await Task.sleep(for: .milliseconds(100))
        #expect(await twin.statistics().vectorsMeasured == measured, "work stopped")
        #expect(measured < 2000 * 64 * 4)
    }

    @Test func stateExportImportAndSafeState() async throws {
        let twin = try CrossbarTwin(config: CrossbarConfig(seed: 4))
        await twin.enterSafeState()
        try await twin.advanceTime(seconds: 100)
        await #expect(throws: CrossbarTwinError.invalidDuration(-1)) { try await twin.advanceTime(seconds: -1) }
        let restored = try CrossbarTwin(importing: await twin.exportState())
        #expect(restored.descriptor == twin.descriptor)
        let stats = await restored.statistics()
        #expect(stats.safeStateEntries == 1 && stats.simulatedSeconds == 100)
        let v = TestSupport.inputs(batch: 8, rows: 5)
        #expect(try await restored.measure(v) == twin.measure(v))
    }
}
