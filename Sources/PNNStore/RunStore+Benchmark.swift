import GRDB

extension RunStore {
    /// Benchmark baseline only (`make bench`), not part of the supported API: stores
    /// `values` one row each in a scratch table, in one transaction — the layout the store
    /// avoids by keeping each measurement block as one blob.
    @_spi(Benchmark)
    public func benchmarkRowPerValue(_ values: [Double]) throws(StoreError) {
        try write { db in
            try db.execute(sql: "CREATE TABLE IF NOT EXISTS bench_value (i INTEGER PRIMARY KEY, v REAL)")
            let insert = try db.cachedStatement(sql: "INSERT INTO bench_value (i, v) VALUES (?, ?)")
            for (i, v) in values.enumerated() { try insert.execute(arguments: [i, v]) }
        }
    }
}
