import PNNCore
import Testing

@Suite("Checked Substrate entry points")
struct CheckedSubstrateTests {
    let device = RecordingSubstrate(descriptor: SafetyFixtures.descriptor(maxBatch: 4))

    @Test func unsafeParametersNeverReachTheDevice() async throws {
        for targets in [[0.5, 1, -1, 25], [0.5, .nan, -1, 15], [0.5, 1, -1]] {
            await #expect(throws: SafetyViolation.self) { try await device.setParameters(targets) }
        }
        await #expect(throws: SafetyViolation.self) { try await device.setParameters([0.5, .infinity, -1, 15], policy: .clamp) }
        #expect(await device.receivedNothing)
    }

    @Test func safeAndClampedParametersAreSent() async throws {
        #expect(try await device.setParameters(SafetyFixtures.safeParameters) == SafetyFixtures.safeParameters)
        let readBack = try await device.setParameters([2, -2, 0, 100], policy: .clamp)
        #expect(readBack == [1, 0, 0, 20])
        #expect(await device.programmed == [SafetyFixtures.safeParameters, [1, 0, 0, 20]])
        #expect(try await device.readParameters() == [1, 0, 0, 20])
    }

    @Test func unsafeInputsAreRefusedBeforeAnyChunkIsMeasured() async throws {
        var inputs = SafetyFixtures.inputs(rows: 10)
        inputs[9, 1] = 0.7  // in the last chunk
        await #expect(throws: SafetyViolation.inputOutOfRange(row: 9, channel: 1, value: 0.7, lower: -0.5, upper: 0.5, unit: "V"))
        {
            try await device.measure(inputs)
        }
        var wide = Matrix(rows: 2, cols: 4)
        wide[0, 0] = 0.1
        await #expect(throws: SafetyViolation.wrongInputWidth(expected: 3, got: 4)) { try await device.measure(wide) }
        #expect(await device.receivedNothing)
    }

    @Test func clampedInputsAreWhatTheDeviceReceives() async throws {
        let outputs = try await device.measure(Matrix([[0.9, -0.9, 0.1]]), policy: .clamp)
        #expect(await device.measured == [Matrix([[0.5, -0.5, 0.1]])])
        #expect(outputs == RecordingSubstrate.respond(to: Matrix([[0.5, -0.5, 0.1]])))
    }

    @Test(arguments: [0, 1, 3, 4, 5, 10, 17])
    func largeBatchesAreSplitAndReassembledInOrder(rows: Int) async throws {
        let inputs = SafetyFixtures.inputs(rows: rows)
        let outputs = try await device.measure(inputs)
        #expect(outputs == RecordingSubstrate.respond(to: inputs))
        let chunks = await device.measured
        #expect(chunks.allSatisfy { $0.rows <= 4 })
        #expect(chunks.map(\.rows) == expectedChunks(rows: rows, maxBatch: 4))
        #expect(Matrix.vstack(chunks) == inputs)
    }

    @Test func aMaxBatchOfZeroMeansOneVectorPerCall() async throws {
        let single = RecordingSubstrate(descriptor: SafetyFixtures.descriptor(maxBatch: 0))
        let inputs = SafetyFixtures.inputs(rows: 3)
        #expect(try await single.measure(inputs) == RecordingSubstrate.respond(to: inputs))
        #expect(await single.measured.map(\.rows) == [1, 1, 1])
    }

    @Test func oneUnsafeProbeStopsTheWholeStream() async throws {
        let probes = (0..<5).map {
            Probe(id: $0, changes: [ParameterChange(index: 0, value: 0.1 * Double($0))], inputs: SafetyFixtures.inputs(rows: 2))
        }
        var bad = probes
        bad[4].changes[0].value = 1.5
        #expect(throws: SafetyViolation.self) { _ = try device.stream(bad) }
        var badInput = probes
        badInput[2].inputs[1, 0] = -0.6
        #expect(throws: SafetyViolation.self) { _ = try device.stream(badInput) }
        #expect(device.streamed.isEmpty)
        #expect(await device.receivedNothing)
    }

    @Test func safeProbesStreamInOrder() async throws {
        let probes = (0..<5).map {
            Probe(
                id: 100 + $0, changes: [ParameterChange(index: 3, value: 10 + Double($0))],
                inputs: SafetyFixtures.inputs(rows: $0 + 1), repeats: 2)
        }
        var results: [ProbeResult] = []
        for try await result in try device.stream(probes) { results.append(result) }
        #expect(results.map(\.id) == [100, 101, 102, 103, 104])
        #expect(results.map(\.measurementCount) == [2, 4, 6, 8, 10])
        #expect(results.map(\.outputs) == probes.map { RecordingSubstrate.respond(to: $0.inputs) })
        #expect(device.streamed.count == 1)
    }

    @Test func clampedProbesAreWhatTheDeviceReceives() async throws {
        let probe = Probe(id: 7, changes: [ParameterChange(index: 2, value: -3)], inputs: Matrix([[0.2, 0.8, -0.1]]))
        for try await _ in try device.stream([probe], policy: .clamp) {}
        let sent = try #require(device.streamed.first?.first)
        #expect(sent.changes == [ParameterChange(index: 2, value: -1)])
        #expect(sent.inputs == Matrix([[0.2, 0.5, -0.1]]))
    }

    private func expectedChunks(rows: Int, maxBatch: Int) -> [Int] {
        if rows <= maxBatch { return [rows] }
        return Array(repeating: maxBatch, count: rows / maxBatch) + (rows % maxBatch == 0 ? [] : [rows % maxBatch])
    }
}
