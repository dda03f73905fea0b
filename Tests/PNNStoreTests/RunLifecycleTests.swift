import Foundation
import Testing

@testable import PNNStore

@Suite("Runs: recording, reading back, status, listing")
struct RunLifecycleTests {
    @Test func stepsAndMeasurementBlocksRoundTripBitwise() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let id = try store.createRun(newRun(method: "gauss-newton", seed: 3))
        #expect(try store.lastStep(runID: id) == nil)
        for n in 1...5 {
            try store.appendStep(
                step(id, n, parameters: awkwardValues + [Double(n)]),
                measurements: [
                    MeasurementBlock(kind: "outputs", rows: 2, cols: 5, values: awkwardValues),
                    MeasurementBlock(kind: "readback", rows: 1, cols: 2, values: [Double(n), -Double(n)]),
                ])
        }
        let steps = try store.steps(runID: id)
        #expect(steps.map(\.step) == [1, 2, 3, 4, 5])
        for (s, n) in zip(steps, 1...5) {
            #expect(s.parameters.map(\.bitPattern) == (awkwardValues + [Double(n)]).map(\.bitPattern))
            var expected = step(id, n)
            expected.parameters = s.parameters  // NaN != NaN: compared bitwise above
            #expect(s == expected)
        }
        let blocks = try store.measurements(runID: id)
        #expect(blocks.map(\.step) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])
        #expect(blocks.map(\.block.kind) == Array(repeating: ["outputs", "readback"], count: 5).flatMap { $0 })
        #expect(
            blocks.allSatisfy {
                $0.block.kind != "outputs" || $0.block.values.map(\.bitPattern) == awkwardValues.map(\.bitPattern)
            })
        #expect(blocks[0].block.rows == 2 && blocks[0].block.cols == 5)
        let readbacks = try store.measurements(runID: id, kinds: ["readback"])
        #expect(readbacks.map(\.step) == [1, 2, 3, 4, 5])
        #expect(readbacks.last?.block.values == [5, -5])
        #expect(try store.measurements(runID: id, kinds: []).isEmpty)
        #expect(try store.lastStep(runID: id)?.step == 5)
        #expect(try store.integer("SELECT COUNT(*) FROM measurement") == 10, "one row per block, not per value")
    }

    @Test func emptyParametersAndNaNLossAreStored() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let id = try store.createRun(newRun())
        var diverged = step(id, 1, parameters: [])
        diverged.loss = .nan
        try store.appendStep(diverged, measurements: [MeasurementBlock(kind: "none", rows: 0, cols: 3, values: [])])
        let back = try #require(try store.lastStep(runID: id))
        #expect(back.parameters.isEmpty)
        #expect(back.loss.isNaN)
        #expect(try store.measurements(runID: id).first?.block == MeasurementBlock(kind: "none", rows: 0, cols: 3, values: []))
        #expect(try store.runs().first?.lastLoss?.isNaN == true)
    }

    @Test func appendingBumpsUpdatedAtAndStatusTransitions() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let past = Date(timeIntervalSince1970: 1_000_000)
        let id = try store.createRun(newRun(createdAt: past))
        #expect(try store.run(id: id).status == .running)
        #expect(try store.run(id: id).updatedAt == past)
        try store.appendStep(step(id, 1))
        #expect(try store.run(id: id).updatedAt > past)
        #expect(try store.run(id: id).createdAt == past)

        try store.setStatus(runID: id, .paused)
        #expect(try store.run(id: id).status == .paused)
        try store.setStatus(runID: id, .running)
        try store.setStatus(runID: id, .completed, summaryJSON: #"{"test_accuracy":0.97}"#)
        try store.setStatus(runID: id, .completed)
        let done = try store.run(id: id)
        #expect(done.status == .completed)
        #expect(done.summaryJSON == #"{"test_accuracy":0.97}"#, "a nil summary keeps the previous one")
        #expect(throws: StoreError.runNotFound(id: 99, path: store.path)) { try store.setStatus(runID: 99, .failed) }
    }

    @Test func duplicateStepIsRefusedAndEarlierStepsAreIntact() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let id = try store.createRun(newRun())
        try store.appendStep(step(id, 1), measurements: [MeasurementBlock(kind: "o", rows: 1, cols: 1, values: [7])])
        let updated = try store.run(id: id).updatedAt
        #expect(throws: StoreError.duplicateStep(runID: id, step: 1)) {
            try store.appendStep(
                step(id, 1, parameters: [9]), measurements: [MeasurementBlock(kind: "o", rows: 1, cols: 1, values: [8])])
        }
        #expect(try store.steps(runID: id) == [step(id, 1)])
        #expect(try store.measurements(runID: id).map(\.block.values) == [[7]], "the refused step's blocks were rolled back")
        #expect(try store.run(id: id).updatedAt == updated, "the refused step's timestamp was rolled back")
        try store.appendStep(step(id, 2))
        #expect(try store.steps(runID: id).map(\.step) == [1, 2], "the store still accepts the next step")
    }

    @Test func unknownRunsAreTypedErrors() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let missing = StoreError.runNotFound(id: 42, path: store.path)
        #expect(throws: missing) { try store.run(id: 42) }
        #expect(throws: missing) { try store.steps(runID: 42) }
        #expect(throws: missing) { try store.lastStep(runID: 42) }
        #expect(throws: missing) { try store.measurements(runID: 42) }
        #expect(throws: missing) { try store.appendStep(step(42, 1)) }
        #expect(throws: missing) { try store.deleteRun(id: 42) }
        #expect(try store.integer("SELECT COUNT(*) FROM step") == 0)
    }

    @Test func listingIsNewestFirstWithSummaries() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let a = try store.createRun(newRun(seed: 1, createdAt: Date(timeIntervalSince1970: 1000)))
        let b = try store.createRun(newRun(task: "xor", seed: 2, createdAt: Date(timeIntervalSince1970: 3000)))
        let c = try store.createRun(newRun(task: "digits", seed: 3, createdAt: Date(timeIntervalSince1970: 2000)))
        for n in 1...5 { try store.appendStep(step(a, n)) }
        try store.setStatus(runID: a, .completed, summaryJSON: #"{"ok":true}"#)

        let list = try store.runs()
        #expect(list.map(\.run.id) == [b, c, a], "newest first")
        let sa = try #require(list.last)
        #expect(sa.run.status == .completed && sa.run.summaryJSON == #"{"ok":true}"#)
        #expect(sa.stepCount == 5 && sa.totalMeasurements == 50)
        #expect(sa.lastLoss == 0.2, "loss of step 5")
        #expect(sa.lastTrainAccuracy == 0.5 && sa.lastTestAccuracy == 0.4, "from step 4, the last evaluated one")
        let sb = list[0]
        #expect(sb.stepCount == 0 && sb.lastLoss == nil && sb.lastTestAccuracy == nil && sb.totalMeasurements == 0)
        #expect(sb.run.task == "xor" && sb.run.seed == 2 && sb.run.identity == identity)
    }

    @Test func deletingARunCascadesToItsStepsAndBlocks() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        let a = try store.createRun(newRun())
        let b = try store.createRun(newRun())
        for n in 1...3 {
            try store.appendStep(step(a, n), measurements: [MeasurementBlock(kind: "o", rows: 1, cols: 1, values: [1])])
            try store.appendStep(step(b, n), measurements: [MeasurementBlock(kind: "o", rows: 1, cols: 1, values: [2])])
        }
        try store.deleteRun(id: a)
        #expect(throws: StoreError.runNotFound(id: a, path: store.path)) { try store.steps(runID: a) }
        #expect(try store.integer("SELECT COUNT(*) FROM step WHERE run_id = ?", [a]) == 0)
        #expect(try store.integer("SELECT COUNT(*) FROM measurement WHERE run_id = ?", [a]) == 0)
        #expect(try store.steps(runID: b).count == 3, "the other run is untouched")
        #expect(try store.measurements(runID: b).count == 3)
    }
}
