/// The `Decoder` for one `TOMLValue`, also its own single-value container.
///
/// Errors are `DecodingError`s of the usual kinds (so `Decodable` types that catch them keep
/// working) whose context carries the plain-words `TOMLDecodingError` as `underlyingError`;
/// `TOMLDecoder` unwraps it.
struct TOMLValueDecoder: Decoder, SingleValueDecodingContainer {
    let value: TOMLValue
    let codingPath: [any CodingKey]
    let context: TOMLDecodingContext
    /// Which numbers this value may hold (from its key, or its array's key).
    let rules: TOMLNumberRules

    var userInfo: [CodingUserInfoKey: Any] { context.userInfo }

    /// The value's key path for messages: `twin.rows`, `layers[1].width`.
    var path: String { TOMLDecoder.path(codingPath) }

    /// The decoder for the value at `key` of this table; the key's rules apply to it.
    func child(_ value: TOMLValue, key: any CodingKey) -> TOMLValueDecoder {
        TOMLValueDecoder(
            value: value, codingPath: codingPath + [key], context: context,
            rules: .of(key, default: context.allowsNonFinite))
    }

    /// The decoder for element `index` of this array; the array's rules apply to it.
    func element(_ value: TOMLValue, index: Int) -> TOMLValueDecoder {
        TOMLValueDecoder(
            value: value, codingPath: codingPath + [TOMLCodingKey(intValue: index)], context: context, rules: rules)
    }

    // MARK: Decoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .table(let table) = value else { throw wrongType([String: TOMLValue].self, expected: "a table") }
        let path = self.path
        context.opened(table, at: path, codingPath: codingPath, keyedBy: type)
        return KeyedDecodingContainer(TOMLKeyedContainer<Key>(decoder: self, table: table, path: path))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw wrongType([TOMLValue].self, expected: "an array [ … ]") }
        return TOMLUnkeyedContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: Errors

    /// `problem` as the `DecodingError` of the matching kind, at this value.
    func failure(_ problem: TOMLDecodingError, type: Any.Type) -> DecodingError {
        let context = DecodingError.Context(
            codingPath: codingPath, debugDescription: problem.description, underlyingError: problem)
        switch problem {
        case .wrongType: return .typeMismatch(type, context)
        case .tooFewElements: return .valueNotFound(type, context)
        default: return .dataCorrupted(context)
        }
    }

    /// `twin.rows must be a whole number, got "five"`.
    func wrongType(_ type: Any.Type, expected: String) -> DecodingError {
        failure(.wrongType(path: path, expected: expected, found: TOMLDecoder.shown(value)), type: type)
    }

    // MARK: Numbers

    /// Refuse `x` (written `written`) if it lies outside the key's stated range.
    private func checkRange(_ x: Double, written: String, type: Any.Type) throws {
        guard let range = rules.range, !x.isNaN else { return }
        if x < range.lowerBound {
            throw failure(
                .tooSmall(path: path, value: written, minimum: TOMLDecoder.shown(range.lowerBound)), type: type)
        }
        if x > range.upperBound {
            throw failure(
                .tooLarge(path: path, value: written, maximum: TOMLDecoder.shown(range.upperBound)), type: type)
        }
    }

    func decodeInteger<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .integer(let n) = value else {
            if case .float(let x) = value, x.isFinite, x == x.rounded(.towardZero) {
                throw wrongType(type, expected: "a whole number written without a decimal point")
            }
            throw wrongType(type, expected: "a whole number")
        }
        try checkRange(Double(n), written: String(n), type: type)
        guard let result = I(exactly: n) else {
            let problem: TOMLDecodingError =
                n < 0
                ? .tooSmall(path: path, value: String(n), minimum: String(I.min))
                : .tooLarge(path: path, value: String(n), maximum: String(I.max))
            throw failure(problem, type: type)
        }
        return result
    }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { false }  // TOML has no null

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw wrongType(type, expected: "true or false") }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw wrongType(type, expected: "a string (in quotes)") }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .float(let x):
            if !x.isFinite && !rules.allowsNonFinite {
                throw failure(.notFinite(path: path, found: value.description), type: type)
            }
            try checkRange(x, written: value.description, type: type)
            return x
        case .integer(let n):
            try checkRange(Double(n), written: String(n), type: type)
            return Double(n)
        default:
            throw wrongType(type, expected: "a number")
        }
    }

    func decode(_ type: Float.Type) throws -> Float {
        let x = try decode(Double.self)
        let f = Float(x)
        if x.isFinite && !f.isFinite {
            let maximum = TOMLDecoder.shown(Double(Float.greatestFiniteMagnitude))
            let problem: TOMLDecodingError =
                x < 0
                ? .tooSmall(path: path, value: value.description, minimum: "-" + maximum)
                : .tooLarge(path: path, value: value.description, maximum: maximum)
            throw failure(problem, type: type)
        }
        return f
    }

    func decode(_ type: Int.Type) throws -> Int { try decodeInteger(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decodeInteger(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decodeInteger(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decodeInteger(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decodeInteger(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try decodeInteger(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decodeInteger(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decodeInteger(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decodeInteger(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decodeInteger(type) }

    /// Any other type decodes itself from this decoder, except `TOMLValue`, which is taken
    /// as it is. An enum with raw values that lists its cases (`CaseIterable`) is refused with
    /// the list: `trainer.solver must be one of "damped" or "svd", got "magic"`.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == TOMLValue.self, let v = value as? T { return v }
        do {
            return try T(from: self)
        } catch let error as DecodingError {
            guard let allowed = Self.caseValues(of: T.self), Self.codingPath(of: error).count == codingPath.count
            else { throw error }
            throw failure(.notOneOf(path: path, found: TOMLDecoder.shown(value), allowed: allowed), type: type)
        }
    }

    /// The raw values of `type`'s cases as written in TOML, if it is a `CaseIterable` enum
    /// with raw values.
    static func caseValues<T>(of type: T.Type) -> [String]? {
        guard let iterable = type as? any (CaseIterable & RawRepresentable).Type else { return nil }
        return rawValues(iterable)
    }

    private static func rawValues<C: CaseIterable & RawRepresentable>(_ type: C.Type) -> [String] {
        C.allCases.map { element in
            if let s = element.rawValue as? String { return TOMLSyntax.quoted(s) }
            return "\(element.rawValue)"
        }
    }

    static func codingPath(of error: DecodingError) -> [any CodingKey] {
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): return c.codingPath
        case .keyNotFound(let key, let c): return c.codingPath + [key]
        @unknown default: return []
        }
    }
}
