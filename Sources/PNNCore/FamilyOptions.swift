/// One option a device family declares for its emulator, its twins or its calibration
/// procedure (`--rows 16`, `--graph FILE`, `--no-bias`). Declared by the family, parsed by
/// generic code, so the CLI never names a family's settings.
public struct FamilyOption: Sendable, Equatable {
    /// What the option takes.
    public enum Kind: Sendable, Equatable {
        /// A switch (`--ideal`): present means "true".
        case flag
        /// A whole number within the range.
        case integer(ClosedRange<Int>)
        /// A finite number within the range.
        case number(ClosedRange<Double>)
        /// Free text (a path, a name); `valueName` says what.
        case text(valueName: String)
    }

    /// Name without dashes (`rows`).
    public var name: String
    public var kind: Kind
    /// One sentence for help listings.
    public var help: String

    public init(_ name: String, _ kind: Kind, help: String) {
        self.name = name
        self.kind = kind
        self.help = help
    }

    /// `--rows N (1…4096)` style usage.
    public var usage: String {
        switch kind {
        case .flag: "--\(name)"
        case .integer(let r): "--\(name) N (\(r.lowerBound)…\(r.upperBound))"
        case .number(let r): "--\(name) X (\(Self.format(r.lowerBound))…\(Self.format(r.upperBound)))"
        case .text(let v): "--\(name) \(v)"
        }
    }

    static func format(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
    }
}

/// Option values parsed from command-line words against a family's declared options.
/// Every value is validated where it is parsed: unknown names, missing values, non-numbers,
/// NaN, infinity and out-of-range values are one-line errors.
public struct FamilyOptionValues: Sendable, Equatable {
    /// Parsed values by option name; flags map to "true".
    public private(set) var values: [String: String] = [:]

    public init(_ values: [String: String] = [:]) { self.values = values }

    /// Parses `words` (`["--rows", "16", "--ideal"]`, or `--rows=16`) against `declared`.
    /// `context` names what the options are for in messages ("the crossbar emulator").
    public init(parsing words: [String], declared: [FamilyOption], context: String) throws(FamilyOptionError) {
        var i = 0
        while i < words.count {
            let word = words[i]
            guard word.hasPrefix("--"), word.count > 2 else {
                throw .unexpected(word: word, context: context)
            }
            var name = String(word.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let option = declared.first(where: { $0.name == name }) else {
                throw .unknown(
                    name: name, context: context, known: declared.map(\.usage))
            }
            if case .flag = option.kind {
                if inline != nil { throw .invalid(name: name, value: inline ?? "", why: "takes no value") }
                values[name] = "true"
                i += 1
                continue
            }
            let value: String
            if let inline {
                value = inline
                i += 1
            } else {
                guard i + 1 < words.count else { throw .missingValue(name: name) }
                value = words[i + 1]
                i += 2
            }
            try Self.check(option, value)
            values[name] = value
        }
    }

    static func check(_ option: FamilyOption, _ value: String) throws(FamilyOptionError) {
        switch option.kind {
        case .flag: break
        case .integer(let range):
            guard let n = Int(value) else {
                throw .invalid(name: option.name, value: value, why: "must be a whole number")
            }
            guard range.contains(n) else {
                throw .invalid(
                    name: option.name, value: value, why: "must be between \(range.lowerBound) and \(range.upperBound)")
            }
        case .number(let range):
            guard let x = Double(value), x.isFinite else {
                throw .invalid(name: option.name, value: value, why: "must be a finite number")
            }
            guard range.contains(x) else {
                throw .invalid(
                    name: option.name, value: value,
                    why: "must be between \(FamilyOption.format(range.lowerBound)) and \(FamilyOption.format(range.upperBound))")
            }
        case .text:
            guard !value.isEmpty else { throw .invalid(name: option.name, value: value, why: "must not be empty") }
        }
    }

    /// Whether nothing was given.
    public var isEmpty: Bool { values.isEmpty }
    /// A flag's state.
    public func flag(_ name: String) -> Bool { values[name] == "true" }
    /// An integer option (validated when parsed).
    public func integer(_ name: String) -> Int? { values[name].flatMap { Int($0) } }
    /// A number option (validated when parsed).
    public func number(_ name: String) -> Double? { values[name].flatMap { Double($0) } }
    /// A text option.
    public func text(_ name: String) -> String? { values[name] }
}

/// Why family options could not be parsed.
public enum FamilyOptionError: Error, Equatable, CustomStringConvertible {
    case unknown(name: String, context: String, known: [String])
    case missingValue(name: String)
    case invalid(name: String, value: String, why: String)
    case unexpected(word: String, context: String)

    public var description: String {
        switch self {
        case .unknown(let name, let context, let known):
            known.isEmpty
                ? "--\(name) does not apply to \(context), which takes no options of its own"
                : "--\(name) does not apply to \(context); its options are " + known.joined(separator: ", ")
        case .missingValue(let name): "--\(name) needs a value"
        case .invalid(let name, let value, let why): "--\(name) \(value): \(why)"
        case .unexpected(let word, let context): "unexpected argument '\(word)' for \(context)"
        }
    }
}
