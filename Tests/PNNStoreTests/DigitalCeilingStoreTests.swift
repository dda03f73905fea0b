import Foundation
import PNNCore
import Testing

@testable import PNNStore

@Suite("Run store: digital ceiling")
struct DigitalCeilingStoreTests {
    @Test func aRunKeepsItsCeilingAndAResumeCanFillOneIn() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let store = try RunStore(path: scratch.path())
        var record = newRun()
        record.digitalCeiling = 0.9466
        let withCeiling = try store.createRun(record)
        let without = try store.createRun(newRun())
        #expect(try store.run(id: withCeiling).digitalCeiling == 0.9466)
        #expect(try store.run(id: without).digitalCeiling == nil)
        #expect(try store.runs().first { $0.run.id == withCeiling }?.run.digitalCeiling == 0.9466)
        try store.setDigitalCeiling(runID: without, 0.5)
        #expect(try store.run(id: without).digitalCeiling == 0.5)
        try store.setDigitalCeiling(runID: without, .nan)
        #expect(try store.run(id: without).digitalCeiling == nil)
        #expect(throws: StoreError.runNotFound(id: 99, path: scratch.path())) { try store.setDigitalCeiling(runID: 99, 0.5) }
    }

    /// A store written before the ceiling existed (schema v2) opens, gains the column, and
    /// its runs read with no ceiling.
    @Test func aStoreFromBeforeTheCeilingIsMigrated() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        do {
            let store = try RunStore(path: path)
            // Turn the fresh store back into a v2 store holding one run.
            try store.execute("ALTER TABLE run DROP COLUMN digital_ceiling")
            try store.execute("DELETE FROM grdb_migrations WHERE identifier = 'v3-digital-ceiling'")
            try store.execute(
                """
                INSERT INTO run (device_name, family, model, serial, firmware, task, method, seed, config, status,
                                 created_at, updated_at, summary)
                VALUES ('sim:crossbar', 'crossbar', 'crossbar-twin', 'sim-1', 'pnnsim-0.1', 'iris', 'gradient', '1', '{}',
                        'completed', 0, 0, NULL)
                """)
        }
        let store = try RunStore(path: path)
        let run = try #require(try store.runs().first)
        #expect(run.run.task == "iris" && run.run.digitalCeiling == nil)
        try store.setDigitalCeiling(runID: try #require(run.run.id), 0.95)
        #expect(try store.run(id: try #require(run.run.id)).digitalCeiling == 0.95)
    }
}
