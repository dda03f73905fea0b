/// Keyed container over a TOML table. Every key the type asks about is noted, so that the
/// keys it never asks about can be refused as unknown once decoding is done.
struct TOMLKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: TOMLValueDecoder
    let table: [String: TOMLValue]
    /// The table's key path, as the context knows it.
    let path: String

    var codingPath: [any CodingKey] { decoder.codingPath }

    /// Every key of the table that `Key` can represent. A type that lists the keys takes
    /// them all (a dictionary does), so none of them is unknown.
    var allKeys: [Key] {
        decoder.context.askedAll(at: path)
        return table.keys.sorted().compactMap { Key(stringValue: $0) }
    }

    func contains(_ key: Key) -> Bool {
        decoder.context.asked(key.stringValue, at: path)
        return table[key.stringValue] != nil
    }

    /// The decoder for `key`, or `keyNotFound` naming the full path.
    private func child(_ key: Key) throws -> TOMLValueDecoder {
        decoder.context.asked(key.stringValue, at: path)
        guard let value = table[key.stringValue] else {
            let problem = TOMLDecodingError.missingKey(path: TOMLDecoder.path(codingPath + [key]))
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: codingPath, debugDescription: problem.description, underlyingError: problem))
        }
        return decoder.child(value, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        _ = try child(key)
        return false  // TOML has no null: a key that is present has a value
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try child(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try child(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try child(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try child(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try child(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try child(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try child(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try child(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try child(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try child(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try child(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try child(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try child(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try child(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try child(key).decode(type) }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        decoder.context.asked(TOMLCodingKey.superKey.stringValue, at: path)
        return decoder.child(table[TOMLCodingKey.superKey.stringValue] ?? .table([:]), key: TOMLCodingKey.superKey)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder.context.asked(key.stringValue, at: path)
        return decoder.child(table[key.stringValue] ?? .table([:]), key: key)
    }
}

/// Unkeyed container over a TOML array.
struct TOMLUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: TOMLValueDecoder
    let elements: [TOMLValue]
    private(set) var currentIndex = 0

    init(decoder: TOMLValueDecoder, elements: [TOMLValue]) {
        self.decoder = decoder
        self.elements = elements
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    /// The decoder for the next element (advancing), or `valueNotFound` at the end.
    private mutating func next(_ type: Any.Type) throws -> TOMLValueDecoder {
        guard !isAtEnd else {
            throw decoder.failure(.tooFewElements(path: decoder.path, count: elements.count), type: type)
        }
        defer { currentIndex += 1 }
        return decoder.element(elements[currentIndex], index: currentIndex)
    }

    mutating func decodeNil() throws -> Bool {
        // TOML has no null: an element is never nil (and is not consumed here).
        if isAtEnd { _ = try next(Never.self) }
        return false
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type).decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type).decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type).decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type).decode(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type).decode(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type).decode(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type).decode(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type).decode(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type).decode(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type).decode(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type).decode(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type).decode(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type).decode(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type).decode(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type).decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try next([String: TOMLValue].self).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next([TOMLValue].self).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder { try next(TOMLValue.self) }
}
