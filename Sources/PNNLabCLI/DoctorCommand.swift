import ArgumentParser
import CBLAS
import CSerialPort
import Foundation
import PNNCore
import PNNStore
import PNNTransport

/// `pnnlab doctor` — what this machine has: libraries and their versions, the run store,
/// serial ports.
struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check libraries, versions, the run store and serial ports on this machine.")

    @OptionGroup var storeOptions: StoreOptions

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() async throws {
        let report = DoctorReport.collect(
            store: storeOptions.store, environment: ProcessInfo.processInfo.environment,
            system: SystemReport.collect(), openBLASConfig: LinearAlgebraBackend.description,
            openBLASThreads: LinearAlgebraBackend.threads, lapackVersion: Self.lapackVersion,
            serialPortPackageVersion: sp_get_package_version_string().map { String(cString: $0) })
        if json {
            print(try report.jsonText())
            return
        }
        print(report.text())
    }

    /// The LAPACK version behind LAPACKE (`LAPACKE_ilaver`), e.g. `3.11.0`.
    static var lapackVersion: String {
        var major: Int32 = 0
        var minor: Int32 = 0
        var patch: Int32 = 0
        LAPACKE_ilaver(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }
}

/// Everything `pnnlab doctor` reports; encoded as `doctor --json` (snake_case keys).
struct DoctorReport: Encodable {
    /// A linked native library, its version and what pnnlab uses it for.
    struct Library: Encodable {
        var name: String
        var version: String
        var note: String?

        enum CodingKeys: String, CodingKey { case name, version, note }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(name, forKey: .name)
            try c.encode(version, forKey: .version)
            try c.encode(note, forKey: .note)
        }
    }

    /// OpenBLAS as built, decoded from `openblas_get_config()`.
    struct OpenBLAS: Encodable {
        /// The string OpenBLAS reports, unchanged.
        var config: String
        var version: String?
        /// CPU kernels in use (picked at run time when built with DYNAMIC_ARCH).
        var core: String?
        var threads: Int
        var maxThreads: Int?
        /// Build options (e.g. NO_LAPACKE, DYNAMIC_ARCH), each with what it means here.
        var buildOptions: [BuildOption]

        enum CodingKeys: String, CodingKey { case config, version, core, threads, maxThreads, buildOptions }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(config, forKey: .config)
            try c.encode(version, forKey: .version)
            try c.encode(core, forKey: .core)
            try c.encode(threads, forKey: .threads)
            try c.encode(maxThreads, forKey: .maxThreads)
            try c.encode(buildOptions, forKey: .buildOptions)
        }
    }

    /// One OpenBLAS build option and its meaning for pnnlab; none of them is a fault.
    struct BuildOption: Encodable {
        var name: String
        var meaning: String
    }

    /// The run store `train`, `runs` and `show` would use.
    struct Store: Encodable {
        /// As it would be passed to SQLite.
        var path: String
        var absolutePath: String
        /// `--store`, `PNNLAB_STORE` or `default`.
        var source: String
        var exists: Bool
        /// Whether pnnlab can write there (for a new store: create the file and its folder).
        var writable: Bool
        /// Why not, when it cannot.
        var problem: String?

        enum CodingKeys: String, CodingKey { case path, absolutePath, source, exists, writable, problem }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(path, forKey: .path)
            try c.encode(absolutePath, forKey: .absolutePath)
            try c.encode(source, forKey: .source)
            try c.encode(exists, forKey: .exists)
            try c.encode(writable, forKey: .writable)
            try c.encode(problem, forKey: .problem)
        }
    }

    var libraries: [Library]
    var openblas: OpenBLAS
    var store: Store
    var serialPorts: [String]
    var serialError: String?

    static func collect(
        store flag: String?, environment: [String: String], system: SystemReport, openBLASConfig: String,
        openBLASThreads: Int, lapackVersion: String, serialPortPackageVersion: String?
    ) -> DoctorReport {
        let blas = parseOpenBLAS(openBLASConfig, threads: openBLASThreads)
        var libraries: [Library] = [
            Library(
                name: "OpenBLAS", version: blas.version ?? openBLASConfig,
                note: [blas.core.map { "\($0) kernels" }, "\(blas.threads) threads"].compactMap { $0 }.joined(separator: ", ")),
            Library(
                name: "LAPACKE", version: "LAPACK \(lapackVersion)",
                note: blas.buildOptions.contains { $0.name == "NO_LAPACKE" }
                    ? "system liblapacke (normal: this OpenBLAS is built without its own)" : nil),
        ]
        // SystemReport describes OpenBLAS in one raw line; the two rows above replace it.
        for lib in system.libraries where !lib.name.hasPrefix("OpenBLAS") {
            if lib.name == "libserialport", let package = serialPortPackageVersion {
                // libserialport reports its libtool interface number; the release is what people know.
                libraries.append(Library(name: lib.name, version: package, note: "library interface \(lib.version)"))
            } else {
                libraries.append(Library(name: lib.name, version: lib.version, note: nil))
            }
        }
        return DoctorReport(
            libraries: libraries, openblas: blas, store: inspectStore(flag: flag, environment: environment),
            serialPorts: system.serialPorts, serialError: system.serialError)
    }

    /// What each OpenBLAS build option means; options not listed are shown as they are.
    static let optionMeanings: [String: String] = [
        "NO_LAPACKE": "OpenBLAS was built without its own copy of LAPACKE; pnnlab links the system liblapacke instead",
        "NO_LAPACK": "OpenBLAS was built without LAPACK; LAPACK comes from the system library",
        "DYNAMIC_ARCH": "kernels are chosen for this CPU at run time",
        "NO_AFFINITY": "threads are not pinned to cores",
        "USE64BITINT": "64-bit integer interface",
        "USE_OPENMP": "threads come from OpenMP",
        "SMP": "multi-threaded build",
    ]

    /// Splits `OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64`.
    static func parseOpenBLAS(_ config: String, threads: Int) -> OpenBLAS {
        var words = config.split(separator: " ").map(String.init)
        if words.first == "OpenBLAS" { words.removeFirst() }
        var version: String?
        if let first = words.first, first.first?.isNumber == true {
            version = first
            words.removeFirst()
        }
        var core: String?
        var maxThreads: Int?
        var options: [BuildOption] = []
        for w in words {
            if w.hasPrefix("MAX_THREADS="), let n = Int(w.dropFirst("MAX_THREADS=".count)) {
                maxThreads = n
            } else if let meaning = optionMeanings[w] {
                options.append(BuildOption(name: w, meaning: meaning))
            } else if w == w.uppercased() {
                options.append(BuildOption(name: w, meaning: "OpenBLAS build option"))
            } else {
                core = w
            }
        }
        return OpenBLAS(
            config: config, version: version, core: core, threads: threads, maxThreads: maxThreads, buildOptions: options)
    }

    /// Resolves the store path as `StoreOptions` does and checks it without opening it
    /// (opening would create the file).
    static func inspectStore(flag: String?, environment: [String: String]) -> Store {
        let path = flag ?? RunStore.defaultPath(environment: environment)
        let source =
            flag != nil ? "--store" : (environment["PNNLAB_STORE"].map { !$0.isEmpty } == true ? "PNNLAB_STORE" : "default")
        let url = URL(fileURLWithPath: path)
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = fm.fileExists(atPath: path, isDirectory: &isDirectory)
        var problem: String?
        if exists && isDirectory.boolValue {
            problem = "it is a folder, not a file"
        } else if exists && !fm.isWritableFile(atPath: path) {
            problem = "the file is read-only for this user"
        } else {
            // SQLite writes -wal and -shm files next to the store, so its folder must be
            // writable too; for a new store, the nearest existing folder must be.
            var folder = url.deletingLastPathComponent()
            while !fm.fileExists(atPath: folder.path) && folder.path != "/" { folder = folder.deletingLastPathComponent() }
            if !fm.isWritableFile(atPath: folder.path) {
                problem = "cannot write in \(folder.path)"
            }
        }
        return Store(
            path: path, absolutePath: url.standardizedFileURL.path, source: source, exists: exists && !isDirectory.boolValue,
            writable: problem == nil, problem: problem)
    }

    func jsonText() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The human report: a library table, the store, the serial ports.
    func text() -> String {
        var lines = [
            Table.render(
                header: ["library", "version", "notes"], rows: libraries.map { [$0.name, $0.version, $0.note ?? ""] }),
            "",
        ]
        let state: String
        if let problem = store.problem {
            state = "NOT writable: \(problem)"
        } else {
            state = store.exists ? "exists, writable" : "not created yet; will be created on the first run"
        }
        let origin = store.source == "default" ? "default" : "from \(store.source)"
        lines.append("run store: \(store.path) (\(origin)) — \(state)")
        if store.absolutePath != store.path { lines.append("           \(store.absolutePath)") }
        if let err = serialError {
            lines.append("serial ports: \(err)")
        } else if serialPorts.isEmpty {
            lines.append("serial ports: none")
        } else {
            lines.append("serial ports: " + serialPorts.joined(separator: ", "))
        }
        return lines.joined(separator: "\n")
    }

    enum CodingKeys: String, CodingKey {
        case libraries, openblas, store, serialPorts, serialError
    }

    // The encoders spell out every key so that a missing value is written as null rather
    // than left out (the synthesized ones skip nil).
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(libraries, forKey: .libraries)
        try c.encode(openblas, forKey: .openblas)
        try c.encode(store, forKey: .store)
        try c.encode(serialPorts, forKey: .serialPorts)
        try c.encode(serialError, forKey: .serialError)
    }
}
