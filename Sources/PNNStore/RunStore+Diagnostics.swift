import GRDB

/// Checks for `pnnlab doctor` and tests.
extension RunStore {
    /// SQLite's consistency check of the whole file: `[]` when healthy, otherwise the
    /// problems it lists (one line each).
    public func integrityProblems() throws(StoreError) -> [String] {
        let lines = try read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
        return lines == ["ok"] ? [] : lines
    }

    /// The first column of the first row of `sql` as an integer, evaluated on the writer
    /// connection, whose pragmas are the ones that matter (tests, diagnostics).
    func integer(_ sql: String, _ arguments: StatementArguments = []) throws(StoreError) -> Int? {
        try write { db in try Int.fetchOne(db, sql: sql, arguments: arguments) }
    }

    /// Executes `sql` in a write transaction (tests that need to damage or age a store).
    func execute(_ sql: String) throws(StoreError) {
        try write { db in try db.execute(sql: sql) }
    }
}
