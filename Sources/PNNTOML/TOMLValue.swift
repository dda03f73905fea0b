/// One value of a TOML document.
///
/// TOML's date-time types (offset date-time, local date-time, local date, local time) are
/// validated by the parser and kept as `.string` holding the text exactly as written
/// (e.g. `"1979-05-27T07:32:00Z"`); pnnlab's configuration has no dates, and a caller that
/// needs one can parse the string. Arrays of tables (`[[name]]`) become `.array` of `.table`.
public enum TOMLValue: Sendable, Equatable {
    /// A string of any of the four forms, or a date-time as written.
    case string(String)
    /// A 64-bit integer (decimal, `0x`, `0o` or `0b`).
    case integer(Int64)
    /// A float, including `inf` and `nan`.
    case float(Double)
    /// `true` or `false`.
    case bool(Bool)
    /// An array, of mixed types if written so.
    case array([TOMLValue])
    /// A table: the document root, a `[header]` table, a dotted-key table or an inline table.
    case table([String: TOMLValue])

    /// The string, if this is a string (or a date-time, which is kept as a string).
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The integer, if this is an integer.
    public var integerValue: Int64? {
        if case .integer(let n) = self { return n }
        return nil
    }

    /// The number as a `Double`, if this is a float or an integer.
    public var doubleValue: Double? {
        switch self {
        case .float(let x): return x
        case .integer(let n): return Double(n)
        default: return nil
        }
    }

    /// The boolean, if this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [TOMLValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The entries, if this is a table.
    public var tableValue: [String: TOMLValue]? {
        if case .table(let t) = self { return t }
        return nil
    }

    /// The value at `key` when this is a table; `nil` otherwise or when absent.
    public subscript(key: String) -> TOMLValue? { tableValue?[key] }

    /// What kind of value this is, with an article, for messages: `an integer`, `a table`.
    public var kindDescription: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a float"
        case .bool: return "a boolean"
        case .array: return "an array"
        case .table: return "a table"
        }
    }
}

extension TOMLValue: CustomStringConvertible {
    /// The value in TOML inline syntax, e.g. `"five"`, `3`, `[1, 4]`, `{ rows = 5 }`;
    /// used in error messages.
    public var description: String {
        switch self {
        case .string(let s): return TOMLSyntax.quoted(s)
        case .integer(let n): return String(n)
        case .float(let x):
            if x.isNaN { return "nan" }
            if x.isInfinite { return x < 0 ? "-inf" : "inf" }
            return String(x)
        case .bool(let b): return b ? "true" : "false"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .table(let t):
            if t.isEmpty { return "{}" }
            let entries = t.keys.sorted().map { "\(TOMLSyntax.key($0)) = \(t[$0]!.description)" }
            return "{ " + entries.joined(separator: ", ") + " }"
        }
    }
}

/// Small pieces of TOML syntax shared by the parser, messages and key paths.
enum TOMLSyntax {
    /// Whether `scalar` may appear in a bare key.
    static func isBareKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "-": return true
        default: return false
        }
    }

    /// `key` as written in a TOML file: bare when possible, quoted otherwise.
    static func key(_ key: String) -> String {
        if !key.isEmpty && key.unicodeScalars.allSatisfy(isBareKeyScalar) { return key }
        return quoted(key)
    }

    /// A dotted key path, each component bare or quoted: `twin.rows`, `a."b.c"`.
    static func path(_ components: [String]) -> String {
        components.map(key).joined(separator: ".")
    }

    /// `s` as a TOML basic string, with escapes.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
