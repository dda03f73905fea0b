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
    /// A decoder converting from snake_case (`CalibrationProfile.payload` does) presents
    /// `key` camel-cased (`dark_level_dn` as `darkLevelDn`), so that spelling is tried too.
    func value<T: Decodable>(_ type: T.Type, _ key: String, formerly former: String) throws -> T {
        let parts = key.split(separator: "_")
        let converted = (parts.first.map(String.init) ?? "") + parts.dropFirst().map { $0.capitalized }.joined()
        for name in [key, converted, former] {
            if let v = try decodeIfPresent(T.self, forKey: OpticsResultKey(name)) { return v }
        }
        throw DecodingError.keyNotFound(
            OpticsResultKey(key),
            DecodingError.Context(codingPath: codingPath, debugDescription: "neither \(key) nor \(former) is present"))
    }
}
