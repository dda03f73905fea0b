/// Decodes `Decodable` types from TOML.
///
/// Tables become keyed containers (keys exactly as written in the file: pnnlab files use
/// snake_case, so types declare `CodingKeys`), arrays become unkeyed containers. Integers
/// decode as any fixed-width integer type that holds them and as `Double`/`Float`; floats
/// decode as `Double`/`Float` only (never silently truncated to an integer); date-times
/// decode as `String`. A key that is absent decodes as `nil` through `decodeIfPresent`, so
/// optional properties may be left out of the file. TOML has no null, so a key that is
/// present is never `nil`.
///
/// Errors are `TOMLError` for syntax and `DecodingError` for shape, whose debug description
/// names the key path and what was found: `twin.rows: expected an integer, found "five"`.
///
/// Unknown keys are not an error here (Swift's `Decodable` ignores them); find them with
/// `TOML.unknownKeys(in:allowed:)` before or after decoding.
public struct TOMLDecoder: Sendable {
    /// Contextual information for `Decodable` implementations.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    public init() {}

    /// Parse `text` and decode `T` from its root table.
    public func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try decode(type, from: try TOML.parse(text))
    }

    /// Decode `T` from an already parsed table. `codingPath` names where the table sits in
    /// its document (e.g. `["twin"]`), so messages read `twin.rows: …`.
    public func decode<T: Decodable>(
        _ type: T.Type, from table: [String: TOMLValue], codingPath: [String] = []
    ) throws -> T {
        try decode(type, from: .table(table), codingPath: codingPath)
    }

    /// Decode `T` from any value.
    public func decode<T: Decodable>(_ type: T.Type, from value: TOMLValue, codingPath: [String] = []) throws -> T {
        let decoder = TOMLValueDecoder(
            value: value, codingPath: codingPath.map { TOMLCodingKey(stringValue: $0) }, userInfo: userInfo)
        return try T(from: decoder)
    }

    /// A coding path as a key path: `twin.rows`, `layers[1].width`; `top level` when empty.
    public static func describe(codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += (out.isEmpty ? "" : ".") + TOMLSyntax.key(key.stringValue)
            }
        }
        return out.isEmpty ? "top level" : out
    }
}

/// The coding keys the TOML decoder makes: table keys and array indices.
struct TOMLCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }

    /// The key `super`, for `superDecoder()`.
    static let superKey = TOMLCodingKey(stringValue: "super")
}
