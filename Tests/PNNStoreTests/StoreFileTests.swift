import Foundation
import Testing

@testable import PNNStore

@Suite("Store file: creation, reopening, refusal")
struct StoreFileTests {
    @Test func createsFolderSchemaAndWALModeThenReopensWithData() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let path = scratch.path("nested/deeper/runs.sqlite")
        let store = try RunStore(path: path)
        #expect(try store.journalMode() == "wal")
        #expect(try store.integer("PRAGMA page_size") == Schema.pageSize)
        #expect(try store.integer("PRAGMA application_id") == Int(Schema.applicationID))
        #expect(try store.integer("PRAGMA foreign_keys") == 1)
        #expect(try store.integer("PRAGMA synchronous") == 1, "synchronous = NORMAL")
        let tables = try store.integer(
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('device', 'run', 'step', 'measurement')")
        #expect(tables == 4)
        let id = try store.createRun(newRun(seed: .max))
        try store.appendStep(step(id, 1), measurements: [MeasurementBlock(kind: "outputs", rows: 1, cols: 2, values: [3, 4])])

        let again = try RunStore(path: path)
        #expect(try again.run(id: id).seed == .max, "UInt64 seeds above Int64.max survive")
        #expect(try again.steps(runID: id) == [step(id, 1)])
        #expect(try again.measurements(runID: id).map(\.block.values) == [[3, 4]])
        #expect(try again.integrityProblems() == [])
    }

    @Test func anEmptyExistingFileBecomesAStore() throws {
        let scratch = try Scratch().create()
        defer { scratch.remove() }
        let path = scratch.path()
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        let store = try RunStore(path: path)
        #expect(try store.runs().isEmpty)
    }

    @Test func aFileThatIsNotSQLiteIsRefusedAndLeftAlone() throws {
        let scratch = try Scratch().create()
        defer { scratch.remove() }
        let path = scratch.path("notebook.sqlite")
        let text = "hello, this is a lab notebook, not a database"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: StoreError.notAStore(path: path)) { try RunStore(path: path) }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func anotherProgramsSQLiteDatabaseIsRefused() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        do {
            let store = try RunStore(path: path)
            try store.execute("PRAGMA application_id = 0; CREATE TABLE notes (text TEXT)")
        }
        #expect(throws: StoreError.notAStore(path: path)) { try RunStore(path: path) }
    }

    @Test func aStoreFromANewerPnnlabIsRefused() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let path = scratch.path()
        do {
            let store = try RunStore(path: path)
            try store.execute("INSERT INTO grdb_migrations (identifier) VALUES ('v99')")
        }
        #expect(throws: StoreError.newerSchema(path: path)) { try RunStore(path: path) }
    }

    @Test func aFolderAtThePathIsATypedError() throws {
        let scratch = try Scratch().create()
        defer { scratch.remove() }
        #expect(throws: StoreError.cannotOpen(path: scratch.dir.path, reason: "it is a folder, not a file")) {
            try RunStore(path: scratch.dir.path)
        }
    }

    @Test func defaultPathPrefersTheEnvironment() {
        #expect(RunStore.defaultPath(environment: [:]) == "./pnnlab.sqlite")
        #expect(RunStore.defaultPath(environment: ["PNNLAB_STORE": ""]) == "./pnnlab.sqlite")
        #expect(RunStore.defaultPath(environment: ["PNNLAB_STORE": "/data/lab.sqlite"]) == "/data/lab.sqlite")
    }

    @Test func errorMessagesAreOneLineAndNameTheFile() {
        let errors: [StoreError] = [
            .cannotOpen(path: "./pnnlab.sqlite", reason: "permission denied"), .notAStore(path: "./pnnlab.sqlite"),
            .newerSchema(path: "./pnnlab.sqlite"), .runNotFound(id: 7, path: "./pnnlab.sqlite"),
            .corrupt(path: "./pnnlab.sqlite", detail: "x"), .database(path: "./pnnlab.sqlite", detail: "the disk is full"),
        ]
        for error in errors {
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains("./pnnlab.sqlite"))
        }
        #expect(StoreError.runNotFound(id: 7, path: "./pnnlab.sqlite").description == "run 7 does not exist in ./pnnlab.sqlite")
    }
}

@Suite("Store file: hostile paths")
struct HostileStorePathTests {
    @Test func emptyPathIsNamed() {
        #expect(throws: StoreError.emptyPath) { try RunStore(path: "") }
        #expect(StoreError.emptyPath.description == "the store path is empty: give --store the name of a store file")
    }

    @Test func immutableURIEscapesThePath() {
        #expect(RunStore.immutableURI("/tmp/a b/runs?.sqlite") == "file:/tmp/a%20b/runs%3F.sqlite?immutable=1")
    }
}
