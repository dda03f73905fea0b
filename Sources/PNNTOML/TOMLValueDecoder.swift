/// The `Decoder` for one `TOMLValue`, also its own single-value container.
struct TOMLValueDecoder: Decoder, SingleValueDecodingContainer {
    let value: TOMLValue
    let codingPath: [any CodingKey]
    let sendableUserInfo: [CodingUserInfoKey: any Sendable]

    init(value: TOMLValue, codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: any Sendable]) {
        self.value = value
        self.codingPath = codingPath
        self.sendableUserInfo = userInfo
    }

    var userInfo: [CodingUserInfoKey: Any] { sendableUserInfo }

    /// A decoder for a value one level down.
    func child(_ value: TOMLValue, key: any CodingKey) -> TOMLValueDecoder {
        TOMLValueDecoder(value: value, codingPath: codingPath + [key], userInfo: sendableUserInfo)
    }

    // MARK: Decoder

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .table(let table) = value else { throw mismatch([String: TOMLValue].self, expected: "a table") }
        return KeyedDecodingContainer(TOMLKeyedContainer<Key>(decoder: self, table: table))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([TOMLValue].self, expected: "an array") }
        return TOMLUnkeyedContainer(decoder: self, elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    // MARK: Errors

    /// `typeMismatch` whose description reads `twin.rows: expected an integer, found "five"`.
    func mismatch(_ type: Any.Type, expected: String) -> DecodingError {
        let found: String
        switch value {
        case .table, .array: found = value.kindDescription  // the whole value could be long
        default: found = value.description
        }
        return .typeMismatch(
            type,
            DecodingError.Context(
                codingPath: codingPath,
                debugDescription: "\(TOMLDecoder.describe(codingPath: codingPath)): expected \(expected), found \(found)"))
    }

    // MARK: Unboxing

    func decodeInteger<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .integer(let n) = value else { throw mismatch(type, expected: "an integer") }
        guard let result = I(exactly: n) else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "\(TOMLDecoder.describe(codingPath: codingPath)): \(n) is out of range "
                        + "(\(I.min)…\(I.max))"))
        }
        return result
    }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { false }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch(type, expected: "true or false") }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = value else { throw mismatch(type, expected: "a string") }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double {
        switch value {
        case .float(let x): return x
        case .integer(let n): return Double(n)
        default: throw mismatch(type, expected: "a number")
        }
    }

    func decode(_ type: Float.Type) throws -> Float {
        let x = try decode(Double.self)
        guard Float(x).isFinite || !x.isFinite else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "\(TOMLDecoder.describe(codingPath: codingPath)): \(x) does not fit in a Float"))
        }
        return Float(x)
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

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let v = value as? T { return v }  // T == TOMLValue: keep the value as it is
        return try T(from: self)
    }
}
