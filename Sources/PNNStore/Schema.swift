import GRDB

/// Versioned schema migrations of the store.
enum Schema {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE device (
                        name TEXT PRIMARY KEY NOT NULL,
                        family TEXT NOT NULL, model TEXT NOT NULL, serial TEXT NOT NULL, firmware TEXT NOT NULL,
                        port TEXT NOT NULL, descriptor TEXT NOT NULL, registered_at DOUBLE NOT NULL);
                    CREATE TABLE run (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        device_name TEXT NOT NULL,
                        family TEXT NOT NULL, model TEXT NOT NULL, serial TEXT NOT NULL, firmware TEXT NOT NULL,
                        task TEXT NOT NULL, method TEXT NOT NULL, seed TEXT NOT NULL, config TEXT NOT NULL,
                        status TEXT NOT NULL, created_at DOUBLE NOT NULL, updated_at DOUBLE NOT NULL, summary TEXT);
                    CREATE TABLE step (
                        run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        step INTEGER NOT NULL, epoch INTEGER NOT NULL, loss DOUBLE NOT NULL,
                        train_accuracy DOUBLE, test_accuracy DOUBLE,
                        measurements INTEGER NOT NULL, cumulative_measurements INTEGER NOT NULL,
                        wall_seconds DOUBLE NOT NULL, parameters BLOB NOT NULL, checkpoint TEXT NOT NULL,
                        PRIMARY KEY (run_id, step)) WITHOUT ROWID;
                    CREATE TABLE measurement (
                        run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        step INTEGER NOT NULL, kind TEXT NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL,
                        "values" BLOB NOT NULL);
                    CREATE INDEX measurement_by_run ON measurement(run_id, step);
                    CREATE INDEX run_by_created ON run(created_at);
                    """)
        }
        return m
    }
}
