/// A coding key that states which numbers its field accepts; `TOMLDecoder` checks them while
/// decoding and names the key in its message.
///
/// By default a field refuses `nan` and `±inf` (configuration values are physical
/// quantities, and a non-finite one is almost always a mistake) and accepts any number its
/// Swift type can hold. A type widens or narrows that per key through its `CodingKeys`:
///
/// ```swift
/// enum CodingKeys: String, CodingKey, TOMLCheckedKey {
///     case epochs, timeout = "timeout_s"
///     var numberRange: ClosedRange<Double>? { self == .epochs ? 1...100_000 : nil }
///     var allowsNonFinite: Bool { self == .timeout }   // `timeout_s = inf` means "never"
/// }
/// ```
///
/// `epochs = 9223372036854775807` then fails with
/// `epochs = 9223372036854775807 is too large (at most 100000)`. The rules also apply to the
/// elements of an array under the key (`gains = [1.0, nan]`), not to the fields of a table
/// under it, which follow their own keys.
public protocol TOMLCheckedKey: CodingKey {
    /// Whether `nan` and `±inf` may decode into this field. Default: `false`.
    var allowsNonFinite: Bool { get }
    /// The smallest and largest number this field accepts, integer or float; `nil` (the
    /// default) for the range of the field's type.
    var numberRange: ClosedRange<Double>? { get }
}

extension TOMLCheckedKey {
    public var allowsNonFinite: Bool { false }
    public var numberRange: ClosedRange<Double>? { nil }
}

/// The number rules in force for one value while decoding.
struct TOMLNumberRules {
    var allowsNonFinite: Bool
    var range: ClosedRange<Double>?

    /// The rules a key states, or the decoder's defaults for a key that states none.
    static func of(_ key: any CodingKey, default allowsNonFinite: Bool) -> TOMLNumberRules {
        guard let checked = key as? any TOMLCheckedKey else {
            return TOMLNumberRules(allowsNonFinite: allowsNonFinite, range: nil)
        }
        return TOMLNumberRules(
            allowsNonFinite: allowsNonFinite || checked.allowsNonFinite, range: checked.numberRange)
    }
}
