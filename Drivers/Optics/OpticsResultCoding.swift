import Foundation

// The calibration payloads are stored in profiles and printed by `--json`: snake_case keys
// with units in the names (the project's standard). Profiles stored before this encoding
// used the Swift property names (camelCase); decoding accepts both, the new key first.

/// A coding key built from any string: lets a decoder look a value up under its current and
/// its former name.
struct OpticsResultKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension KeyedDecodingContainer where Key == OpticsResultKey {
    /// The value under `key`, or, in a profile stored before snake_case, under `former`.
    func value<T: Decodable>(_ type: T.Type, _ key: String, formerly former: String) throws -> T {
        if let v = try decodeIfPresent(T.self, forKey: OpticsResultKey(key)) { return v }
        if let v = try decodeIfPresent(T.self, forKey: OpticsResultKey(former)) { return v }
        throw DecodingError.keyNotFound(
            OpticsResultKey(key),
            DecodingError.Context(codingPath: codingPath, debugDescription: "neither \(key) nor \(former) is present"))
    }
}
