/// Why a TOML document could not be decoded into a Swift type: one sentence naming the key
/// path and saying what was expected, in words for the person editing the file.
///
/// ```text
/// trainer.epochs must be a whole number, got 2.5
/// trainer.learning_rate must be a finite number, got nan
/// trainer.epochs = 9223372036854775807 is too large (at most 100000)
/// unknown key trainer.batch_sise (did you mean batch_size?)
/// ```
///
/// The decoder does not know the file name; `describe(file:)` adds it:
/// `run.toml: trainer.epochs must be a whole number, got 2.5`. Paths are dotted key paths with
/// array indices in brackets (`layers[1].width`); `path` is `""` for the document itself.
public enum TOMLDecodingError: Error, Equatable, CustomStringConvertible {
    /// The text is not valid TOML (only from `TOMLDecoder.decode(_:from:)` given text).
    case syntax(TOMLError)
    /// The value is of the wrong kind: `expected` is a phrase such as `a whole number`,
    /// `found` the value as written (`2.5`, `"five"`) or its kind (`a table`).
    case wrongType(path: String, expected: String, found: String)
    /// A float is `nan` or `±inf` where the field needs a finite number.
    case notFinite(path: String, found: String)
    /// A number is larger than the field allows (its type's range, or a limit its key declares).
    case tooLarge(path: String, value: String, maximum: String)
    /// A number is smaller than the field allows; a minimum of `0` reads "must not be negative".
    case tooSmall(path: String, value: String, minimum: String)
    /// The value is not one of the values the field accepts (the cases of an enum).
    case notOneOf(path: String, found: String, allowed: [String])
    /// A key the type requires is absent.
    case missingKey(path: String)
    /// An array has fewer elements than the type reads.
    case tooFewElements(path: String, count: Int)
    /// The type refused the value for its own reason (`reason`, from its `init(from:)`).
    case invalidValue(path: String, found: String?, reason: String?)
    /// The document has a key the type does not know; `suggestion` is a known key of the same
    /// table with a similar spelling, if there is one.
    case unknownKey(path: String, suggestion: String?)

    /// The key path the problem is at (`""` for the whole document or a syntax error).
    public var path: String {
        switch self {
        case .syntax: return ""
        case .wrongType(let path, _, _), .notFinite(let path, _), .tooLarge(let path, _, _),
            .tooSmall(let path, _, _), .notOneOf(let path, _, _), .missingKey(let path),
            .tooFewElements(let path, _), .invalidValue(let path, _, _), .unknownKey(let path, _):
            return path
        }
    }

    /// The explanation, one sentence without the file name.
    public var description: String {
        let subject = path.isEmpty ? "the document" : path
        switch self {
        case .syntax(let error):
            return error.description
        case .wrongType(_, let expected, let found):
            return "\(subject) must be \(expected), got \(found)"
        case .notFinite(_, let found):
            return "\(subject) must be a finite number, got \(found)"
        case .tooLarge(_, let value, let maximum):
            return "\(subject) = \(value) is too large (at most \(maximum))"
        case .tooSmall(_, let value, let minimum):
            if minimum == "0" { return "\(subject) must not be negative, got \(value)" }
            return "\(subject) = \(value) is too small (at least \(minimum))"
        case .notOneOf(_, let found, let allowed):
            let list: String
            switch allowed.count {
            case 0: list = "(no value is allowed)"
            case 1: list = allowed[0]
            default: list = allowed.dropLast().joined(separator: ", ") + " or " + allowed[allowed.count - 1]
            }
            return "\(subject) must be \(allowed.count > 1 ? "one of " : "")\(list), got \(found)"
        case .missingKey:
            return "missing key \(subject)"
        case .tooFewElements(_, let count):
            let elements = count == 1 ? "1 element" : "\(count) elements"
            return "\(subject) has only \(elements), more are needed"
        case .invalidValue(_, let found, let reason):
            let what = found.map { "\(subject) = \($0)" } ?? subject
            return reason.map { "\(what) is not valid: \($0)" } ?? "\(what) is not a valid value"
        case .unknownKey(_, let suggestion):
            return "unknown key \(subject)" + (suggestion.map { " (did you mean \($0)?)" } ?? "")
        }
    }

    /// `file: message`, or `file:line:column: message` for a syntax error.
    public func describe(file: String) -> String {
        if case .syntax(let error) = self { return error.describe(file: file) }
        return "\(file): \(description)"
    }
}
