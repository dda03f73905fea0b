import Foundation
import PNNCore
import PNNTOML
import PNNTraining

/// A run configuration file (TOML): optional top-level `task`, `method`, `seed`, a
/// `[trainer]` table (`TrainerConfig`), a `[twin]` table (the twin family's own settings,
/// checked by that family when the twin is built) and, for deep runs, a `[tiling]` table
/// (`max_outputs`, `max_rows`: the most outputs and input lines one array carries). Command-line
/// flags override it. Unknown keys are errors, so a typo never trains with a default.
public struct ConfigFile: Sendable, Equatable {
    public var task: String?
    public var method: String?
    public var seed: UInt64?
    public var trainer = TrainerConfig()
    public var twin: JSONValue?
    /// `[tiling]`: how deep units too large for one array are split (`--tile-outputs`, `--tile-rows`).
    public var tiling: Tiling?

    public init() {}

    /// Read and parse `path`; a file over `TOML.maxFileBytes` (1 MiB) is refused unread.
    public static func load(path: String) throws(ConfigError) -> ConfigFile {
        let text: String
        do {
            text = try TOML.readFile(atPath: path)
        } catch {
            throw .unreadable(path: path, reason: error.reason)
        }
        return try parse(text, file: (path as NSString).lastPathComponent)
    }

    /// Parse configuration text; `file` names it in error messages.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigFile {
        let document: [String: TOMLValue]
        do {
            document = try TOML.parse(text)
        } catch {
            throw .syntax(error.describe(file: file))
        }
        var out = ConfigFile()
        for (key, value) in document {
            switch (key, value) {
            case ("task", .string(let s)): out.task = s
            case ("method", .string(let s)): out.method = s
            case ("seed", .integer(let n)) where n >= 0: out.seed = UInt64(n)
            case ("trainer", .table(let t)):
                out.trainer = try decode(TrainerConfig.self, from: t, table: "trainer", file: file)
            case ("twin", .table(let t)):
                out.twin = try json(.table(t), path: "twin", file: file)
            case ("tiling", .table(let t)):
                out.tiling = try decode(Tiling.self, from: t, table: "tiling", file: file)
            case ("task", _), ("method", _):
                throw .invalid("\(file): \(key) must be a string")
            case ("seed", _):
                throw .invalid("\(file): seed must be a non-negative integer")
            default:
                throw .invalid("\(file): unknown key \(key) (expected task, method, seed, [trainer], [twin], [tiling])")
            }
        }
        return out
    }

    /// Decode the table `[name]` directly from the TOML tree. The decoder refuses keys the
    /// type does not ask for (`run.toml: unknown key trainer.batch_sise`), non-finite numbers
    /// and values of the wrong kind, naming the key path.
    static func decode<T: Decodable>(_ type: T.Type, from table: [String: TOMLValue], table name: String, file: String)
        throws(ConfigError) -> T
    {
        do {
            return try TOMLDecoder().decode(T.self, from: table, codingPath: [name])
        } catch {
            throw .invalid(error.describe(file: file))
        }
    }

    /// A TOML value as a JSON tree; non-finite numbers are refused (settings are physical quantities).
    static func json(_ value: TOMLValue, path: String, file: String) throws(ConfigError) -> JSONValue {
        switch value {
        case .string(let s): return .string(s)
        case .integer(let n): return .number(Double(n))
        case .float(let x):
            guard x.isFinite else { throw .invalid("\(file): \(path) must be a finite number, got \(x)") }
            return .number(x)
        case .bool(let b): return .bool(b)
        case .array(let a):
            var out: [JSONValue] = []
            for (i, v) in a.enumerated() { out.append(try json(v, path: "\(path)[\(i)]", file: file)) }
            return .array(out)
        case .table(let t):
            var out: [String: JSONValue] = [:]
            for (k, v) in t { out[k] = try json(v, path: "\(path).\(k)", file: file) }
            return .object(out)
        }
    }
}

/// Problems with a configuration file, one line each, naming the file (and line).
public enum ConfigError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case syntax(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): return "cannot read config \(path): \(reason)"
        case .syntax(let message): return message
        case .invalid(let message): return message
        }
    }
}
