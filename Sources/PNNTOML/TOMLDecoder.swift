/// Decodes `Decodable` types directly from TOML (from text or an already parsed `TOMLValue`
/// tree), with errors in plain words that name the key path.
///
/// Tables become keyed containers (keys exactly as written in the file: pnnlab files use
/// snake_case, so types declare `CodingKeys`), arrays become unkeyed containers. Integers
/// decode as any fixed-width integer type that holds them and as `Double`/`Float`; floats
/// decode as `Double`/`Float` only (never silently truncated to an integer); date-times
/// decode as `String`. A key that is absent decodes as `nil` through `decodeIfPresent`, so
/// optional properties may be left out of the file. TOML has no null, so a key that is
/// present is never `nil`.
///
/// What is checked, each failure a `TOMLDecodingError` naming the key path:
/// - the kind of each value: `trainer.epochs must be a whole number, got 2.5`;
/// - finiteness: `nan` and `±inf` are refused
///   (`trainer.learning_rate must be a finite number, got nan`) unless the field's coding key
///   allows them (`TOMLCheckedKey`) or `allowsNonFiniteNumbers` is set;
/// - range: a number that does not fit its Swift type, or lies outside the range its coding
///   key states (`TOMLCheckedKey`): `trainer.epochs = 9223372036854775807 is too large (at most 100000)`;
/// - enums with raw values that list their cases:
///   `trainer.solver must be one of "damped" or "svd", got "magic"`;
/// - unknown keys (unless `rejectsUnknownKeys` is off): every key of a table that the
///   decoded type never asked for, `unknown key trainer.batch_sise (did you mean batch_size?)`.
///   A type "asks for" a key by decoding it, by `decodeIfPresent` even when absent, by
///   `contains`, or by listing `allKeys` (as dictionaries do); a `TOMLValue` field takes its
///   whole subtree as it is.
public struct TOMLDecoder: Sendable {
    /// Contextual information for `Decodable` implementations.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]
    /// Refuse keys the decoded type never asks for (the default), so a misspelt setting is an
    /// error instead of silently keeping its default.
    public var rejectsUnknownKeys = true
    /// Let `nan` and `±inf` decode into every floating-point field. Off by default: then only
    /// fields whose coding key allows them (`TOMLCheckedKey.allowsNonFinite`) take them.
    public var allowsNonFiniteNumbers = false

    public init() {}

    /// Parse `text` and decode `T` from its root table. Syntax errors come as `.syntax`.
    public func decode<T: Decodable>(_ type: T.Type, from text: String) throws(TOMLDecodingError) -> T {
        let document: [String: TOMLValue]
        do {
            document = try TOML.parse(text)
        } catch {
            throw .syntax(error)
        }
        return try decode(type, from: .table(document))
    }

    /// Decode `T` from an already parsed table. `codingPath` names where the table sits in
    /// its document (e.g. `["twin"]`), so messages read `twin.rows …`.
    public func decode<T: Decodable>(
        _ type: T.Type, from table: [String: TOMLValue], codingPath: [String] = []
    ) throws(TOMLDecodingError) -> T {
        try decode(type, from: .table(table), codingPath: codingPath)
    }

    /// Decode `T` from any value; `codingPath` as for a table.
    public func decode<T: Decodable>(
        _ type: T.Type, from value: TOMLValue, codingPath: [String] = []
    ) throws(TOMLDecodingError) -> T {
        let context = TOMLDecodingContext(
            userInfo: userInfo, allowsNonFinite: allowsNonFiniteNumbers, rejectsUnknownKeys: rejectsUnknownKeys)
        let root: [any CodingKey] = codingPath.map { TOMLCodingKey(stringValue: $0) }
        let decoder = TOMLValueDecoder(
            value: value, codingPath: root, context: context,
            rules: TOMLNumberRules(allowsNonFinite: allowsNonFiniteNumbers, range: nil))
        let result: T
        do {
            result = try decoder.decode(type)
        } catch {
            throw Self.plain(error, root: value, rootPath: root)
        }
        if let unknown = context.firstUnknownKey() { throw unknown }
        return result
    }

    /// A coding path as a key path: `twin.rows`, `layers[1].width`; `the document` when empty.
    public static func describe(codingPath: [any CodingKey]) -> String {
        let text = path(codingPath)
        return text.isEmpty ? "the document" : text
    }

    // MARK: Helpers shared by the containers

    /// A coding path as a key path, `""` when empty. Only the decoder's own array indices
    /// print as `[i]`; a type's integer coding keys print by name.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var out = ""
        for key in codingPath {
            if let index = (key as? TOMLCodingKey)?.intValue {
                out += "[\(index)]"
            } else {
                out += (out.isEmpty ? "" : ".") + TOMLSyntax.key(key.stringValue)
            }
        }
        return out
    }

    /// A value for messages: as written when short (`2.5`, `"five"`, `[1, 2]`), else its kind.
    static func shown(_ value: TOMLValue) -> String {
        switch value {
        case .table, .array:
            let text = value.description
            return text.count <= 40 ? text : value.kindDescription
        default:
            return value.description
        }
    }

    /// A bound for messages: `100000`, `0.5`, `3.4028234663852886e+38`.
    static func shown(_ x: Double) -> String {
        if x == x.rounded(.towardZero) && abs(x) < 1e15 { return String(Int64(x)) }
        return String(x)
    }

    /// Any error from decoding as a `TOMLDecodingError`: the decoder's own come back as they
    /// were made; a type's own `DecodingError`s are given the key path and the value found.
    static func plain(_ error: any Error, root: TOMLValue, rootPath: [any CodingKey]) -> TOMLDecodingError {
        if let plain = error as? TOMLDecodingError { return plain }
        guard let error = error as? DecodingError else {
            return .invalidValue(path: path(rootPath), found: nil, reason: "\(error)")
        }
        let context: DecodingError.Context
        switch error {
        case .keyNotFound(let key, let c):
            if let plain = c.underlyingError as? TOMLDecodingError { return plain }
            return .missingKey(path: path(c.codingPath + [key]))
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c):
            context = c
        @unknown default:
            return .invalidValue(path: path(rootPath), found: nil, reason: "\(error)")
        }
        if let plain = context.underlyingError as? TOMLDecodingError { return plain }
        let found = value(at: context.codingPath.dropFirst(rootPath.count), in: root).map(shown)
        // The standard library's enum message ("Cannot initialize Solver from invalid String
        // value magic") says nothing the value does not; a type's own message is kept.
        let reason = context.debugDescription.hasPrefix("Cannot initialize ") ? nil : context.debugDescription
        return .invalidValue(path: path(context.codingPath), found: found, reason: reason)
    }

    /// The value at `keys` below `root`, if there is one.
    private static func value(at keys: ArraySlice<any CodingKey>, in root: TOMLValue) -> TOMLValue? {
        var value = root
        for key in keys {
            if let index = (key as? TOMLCodingKey)?.intValue {
                guard case .array(let elements) = value, elements.indices.contains(index) else { return nil }
                value = elements[index]
            } else {
                guard case .table(let table) = value, let child = table[key.stringValue] else { return nil }
                value = child
            }
        }
        return value
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
