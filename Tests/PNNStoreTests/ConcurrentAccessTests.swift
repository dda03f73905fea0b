import Foundation
import Testing

@testable import PNNStore

/// Two `RunStore` instances on one file stand in for two processes (e.g. `pnnlab train`
/// writing while `pnnlab show` reads). Surviving `kill -9` is tested against the real
/// `pnnlab` binary in the CLI tests.
@Suite("Two stores on one file")
struct ConcurrentAccessTests {
    @Test func aSecondStoreSeesEachCommittedStepImmediately() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let writer = try RunStore(path: scratch.path())
        let reader = try RunStore(path: scratch.path())
        let id = try writer.createRun(newRun())
        for n in 1...3 {
            try writer.appendStep(step(id, n), measurements: [MeasurementBlock(kind: "o", rows: 1, cols: 1, values: [Double(n)])])
            #expect(try reader.steps(runID: id).count == n)
            #expect(try reader.lastStep(runID: id) == step(id, n))
            #expect(try reader.measurements(runID: id).last?.block.values == [Double(n)])
        }
    }

    @Test func openingAndReadingDoNotWaitForAWriter() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        let writer = try RunStore(path: path)
        let id = try writer.createRun(newRun())
        try writer.appendStep(step(id, 1))
        // Inside `write` the writer holds SQLite's write lock, as during a long step commit.
        let seen = try writer.write { _ in
            let start = Date()
            let count = try RunStore(path: path).steps(runID: id).count
            return (count, Date().timeIntervalSince(start))
        }
        #expect(seen.0 == 1)
        #expect(seen.1 < 5, "opening did not wait for the write lock (busy timeout is 10 s)")
    }

    @Test func aReaderNeverSeesHalfAStep() async throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        let writer = try RunStore(path: path)
        let reader = try RunStore(path: path)
        let id = try writer.createRun(newRun())
        let total = 60
        let appending = Task.detached {
            for n in 1...total {
                try writer.appendStep(
                    step(id, n, parameters: Array(repeating: Double(n), count: 1000)),
                    measurements: [
                        MeasurementBlock(kind: "a", rows: 100, cols: 10, values: Array(repeating: Double(n), count: 1000)),
                        MeasurementBlock(kind: "b", rows: 1, cols: 1, values: [Double(n)]),
                    ])
            }
        }
        var seen = 0
        var consistent = true
        while seen < total {
            // Each read is one snapshot: a step is visible with all its blocks or not at all.
            let blocks = try reader.measurements(runID: id)
            let steps = Set(blocks.map(\.step))
            consistent =
                consistent && blocks.count == 2 * steps.count && steps == Set(steps.isEmpty ? [] : Array(1...steps.count))
            consistent = consistent && blocks.allSatisfy { m in m.block.values.allSatisfy { $0 == Double(m.step) } }
            #expect(steps.count >= seen, "committed steps never disappear")
            seen = steps.count
            await Task.yield()
        }
        try await appending.value
        #expect(consistent)
        #expect(try reader.steps(runID: id).count == total)
    }
}
