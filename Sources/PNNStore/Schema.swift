import GRDB

/// Versioned schema of the store (`DatabaseMigrator`, one migration per version: "v1", ...).
///
/// Never edit a registered migration once it has shipped; add "v2" instead.
///
/// Conventions a reader with the `sqlite3` shell or Python's `sqlite3` module can rely on:
/// times are Unix seconds (REAL, `datetime(created_at, 'unixepoch')`); `seed` is the
/// decimal text of a UInt64 (SQLite integers are signed 64-bit); `parameters` and
/// `"values"` are little-endian Float64 blobs (`np.frombuffer(blob, "<f8")`), measurement
/// values row-major `rows × cols`; `config`, `summary`, `checkpoint` and `descriptor` are
/// JSON text. SQLite cannot store a NaN REAL (it becomes NULL): a NULL `loss` is a NaN
/// loss (a diverged step); a NaN accuracy is stored, and read back, as "not evaluated".
enum Schema {
    /// `PRAGMA application_id` of a pnnlab store ("PNNL" in ASCII), so that a database
    /// belonging to another program is refused rather than written into.
    static let applicationID: Int32 = 0x504E_4E4C

    /// Page size of a new store. A measurement block is a large blob (10^5 values = 800 kB)
    /// stored as a chain of overflow pages; 16 KiB pages make that chain 4× shorter than
    /// SQLite's 4 KiB default. Measured with pnnbench on a shared 2-core VM (noisy):
    /// 10^5-value blocks record 1.2–2× faster than with 4 KiB pages and within ~20 % of
    /// 64 KiB pages, while a small step (a commit rewrites ~5 pages) still commits ~6500
    /// times a second, against ~12000 with 4 KiB and ~3500 with 64 KiB pages.
    static let pageSize = 16_384

    /// WAL size (in pages) that triggers a checkpoint: 16 MiB, i.e. two `fsync`s per 16 MiB
    /// recorded rather than per step.
    static var checkpointPages: Int { (16 << 20) / pageSize }

    /// Every table a pnnlab store may hold (GRDB's migration log included).
    static let tableNames: Set<String> = ["grdb_migrations", "device", "run", "step", "measurement", "calibration"]

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: "PRAGMA application_id = \(applicationID)")
            try db.execute(
                sql: """
                    CREATE TABLE device (
                        name TEXT PRIMARY KEY NOT NULL,
                        family TEXT NOT NULL, model TEXT NOT NULL, serial TEXT NOT NULL,
                        firmware TEXT NOT NULL, port TEXT NOT NULL, descriptor TEXT NOT NULL,
                        registered_at REAL NOT NULL);
                    CREATE TABLE run (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        device_name TEXT NOT NULL,
                        family TEXT NOT NULL, model TEXT NOT NULL, serial TEXT NOT NULL,
                        firmware TEXT NOT NULL,
                        task TEXT NOT NULL, method TEXT NOT NULL, seed TEXT NOT NULL,
                        config TEXT NOT NULL, status TEXT NOT NULL,
                        created_at REAL NOT NULL, updated_at REAL NOT NULL, summary TEXT);
                    CREATE INDEX run_by_created ON run(created_at, id);
                    CREATE INDEX run_by_device ON run(device_name);
                    CREATE TABLE step (
                        run_id INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                        step INTEGER NOT NULL, epoch INTEGER NOT NULL, loss REAL,
                        train_accuracy REAL, test_accuracy REAL,
                        measurements INTEGER NOT NULL, cumulative_measurements INTEGER NOT NULL,
                        wall_seconds REAL NOT NULL, parameters BLOB NOT NULL, checkpoint TEXT NOT NULL,
                        PRIMARY KEY (run_id, step));
                    CREATE TABLE measurement (
                        id INTEGER PRIMARY KEY,
                        run_id INTEGER NOT NULL, step INTEGER NOT NULL,
                        kind TEXT NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL,
                        "values" BLOB NOT NULL,
                        FOREIGN KEY (run_id, step) REFERENCES step(run_id, step) ON DELETE CASCADE);
                    CREATE INDEX measurement_by_step ON measurement(run_id, step);
                    """)
        }
        migrator.registerMigration("v2") { db in
            try db.execute(
                sql: """
                    CREATE TABLE calibration (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        family TEXT NOT NULL, serial TEXT NOT NULL,
                        procedure TEXT NOT NULL, version INTEGER NOT NULL,
                        created_at REAL NOT NULL, profile TEXT NOT NULL);
                    CREATE INDEX calibration_by_serial ON calibration(family, serial, created_at);
                    """)
        }
        // A run's digital ceiling (test accuracy of the same architecture trained digitally);
        // NULL for runs recorded before it existed and for runs that have none.
        migrator.registerMigration("v3-digital-ceiling") { db in
            try db.execute(sql: "ALTER TABLE run ADD COLUMN digital_ceiling REAL")
        }
        // The calibration profile a run ran with: the newest profile of its device (family and
        // serial) when the run was created; NULL when the device had none.
        migrator.registerMigration("v4-run-calibration") { db in
            try db.execute(sql: "ALTER TABLE run ADD COLUMN calibration_id INTEGER")
        }
        return migrator
    }
}
