/// Reads the unquoted values of TOML: booleans, integers, floats and date-times.
/// Pure functions on the token text; the parser adds positions to the messages.
enum TOMLLiteral {
    /// Whether `scalar` can be part of an unquoted value (digits, letters, `_ + - . :`).
    static func isTokenScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "A"..."Z", "a"..."z", "0"..."9", "_", "+", "-", ".", ":": return true
        default: return false
        }
    }

    /// The value `token` denotes, or a message saying why it is not one (completed by the
    /// caller with the key, e.g. `… for key "epochs"`).
    static func value(of token: String) -> Result<TOMLValue, Problem> {
        switch token {
        case "true": return .success(.bool(true))
        case "false": return .success(.bool(false))
        case "inf", "+inf": return .success(.float(.infinity))
        case "-inf": return .success(.float(-.infinity))
        case "nan", "+nan", "-nan": return .success(.float(.nan))
        default: break
        }
        let t = Array(token.unicodeScalars)
        if isDateTime(t) { return .success(.string(token)) }
        if t.count > 2 && t[0] == "0", let radix = radix(t[1]) { return integer(t, radix: radix) }
        return decimal(t)
    }

    /// Why a token is not a value.
    struct Problem: Error, Equatable {
        /// `invalid number`, `invalid value`, …; the caller appends the token and the key.
        var what: String
        /// Optional explanation after the key, e.g. `underscores must sit between digits`.
        var hint: String?
    }

    private static func radix(_ s: Unicode.Scalar) -> Int? {
        switch s {
        case "x": return 16
        case "o": return 8
        case "b": return 2
        default: return nil
        }
    }

    private static func isDigit(_ s: Unicode.Scalar, radix: Int = 10) -> Bool {
        switch radix {
        case 16: return ("0"..."9").contains(s) || ("a"..."f").contains(s) || ("A"..."F").contains(s)
        case 8: return ("0"..."7").contains(s)
        case 2: return s == "0" || s == "1"
        default: return ("0"..."9").contains(s)
        }
    }

    /// Consume `digit (_? digit)*` from `i`; false if there is no digit or an underscore is
    /// not between two digits.
    private static func digitRun(_ t: [Unicode.Scalar], _ i: inout Int, radix: Int = 10) -> Bool {
        guard i < t.count, isDigit(t[i], radix: radix) else { return false }
        i += 1
        while i < t.count {
            if isDigit(t[i], radix: radix) {
                i += 1
            } else if t[i] == "_" {
                guard i + 1 < t.count, isDigit(t[i + 1], radix: radix) else { return false }
                i += 1
            } else {
                break
            }
        }
        return true
    }

    private static func clean(_ t: ArraySlice<Unicode.Scalar>) -> String {
        var s = String.UnicodeScalarView()
        for c in t where c != "_" { s.append(c) }
        return String(s)
    }

    private static let underscoreHint = "underscores must sit between digits"

    private static func integer(_ t: [Unicode.Scalar], radix: Int) -> Result<TOMLValue, Problem> {
        var i = 2
        guard digitRun(t, &i, radix: radix), i == t.count else {
            let name = radix == 16 ? "hexadecimal" : radix == 8 ? "octal" : "binary"
            return .failure(Problem(what: "invalid \(name) integer", hint: t.contains("_") ? underscoreHint : nil))
        }
        guard let n = Int64(clean(t[2...]), radix: radix) else {
            return .failure(Problem(what: "integer out of the 64-bit range", hint: nil))
        }
        return .success(.integer(n))
    }

    private static func decimal(_ t: [Unicode.Scalar]) -> Result<TOMLValue, Problem> {
        var i = 0
        if i < t.count && (t[i] == "+" || t[i] == "-") { i += 1 }
        let intStart = i
        guard digitRun(t, &i) else { return .failure(notANumber(t)) }
        if t[intStart] == "0" && i - intStart > 1 {
            return .failure(Problem(what: "invalid number", hint: "leading zeros are not allowed"))
        }
        var isFloat = false
        if i < t.count && t[i] == "." {
            i += 1
            isFloat = true
            guard digitRun(t, &i) else { return .failure(badNumber(t, "a decimal point needs digits on both sides")) }
        }
        if i < t.count && (t[i] == "e" || t[i] == "E") {
            i += 1
            isFloat = true
            if i < t.count && (t[i] == "+" || t[i] == "-") { i += 1 }
            guard digitRun(t, &i) else { return .failure(badNumber(t, "an exponent needs digits")) }
        }
        guard i == t.count else { return .failure(badNumber(t, nil)) }
        let text = clean(t[...])
        if isFloat {
            guard let x = Double(text), x.isFinite else {
                return .failure(Problem(what: "float out of the 64-bit range", hint: nil))
            }
            return .success(.float(x))
        }
        guard let n = Int64(text) else { return .failure(Problem(what: "integer out of the 64-bit range", hint: nil)) }
        return .success(.integer(n))
    }

    private static func badNumber(_ t: [Unicode.Scalar], _ hint: String?) -> Problem {
        if t.contains("_") && hint == nil { return Problem(what: "invalid number", hint: underscoreHint) }
        return Problem(what: "invalid number", hint: hint)
    }

    /// A token that does not start like a number: most likely an unquoted string.
    private static func notANumber(_ t: [Unicode.Scalar]) -> Problem {
        let start = t.first(where: { $0 != "+" && $0 != "-" })
        if let s = start, isDigit(s) { return badNumber(t, nil) }
        if t.count > 1 && t.allSatisfy(TOMLSyntax.isBareKeyScalar) && (t.first.map { !isDigit($0) } ?? false) {
            return Problem(
                what: "invalid value", hint: "strings must be quoted: \(TOMLSyntax.quoted(String(String.UnicodeScalarView(t))))")
        }
        return Problem(what: "invalid value", hint: nil)
    }

    // MARK: Date-times (validated, kept as text)

    /// Offset date-time, local date-time, local date or local time (RFC 3339 as TOML allows).
    static func isDateTime(_ t: [Unicode.Scalar]) -> Bool {
        var i = 0
        if time(t, &i) { return i == t.count }
        i = 0
        guard date(t, &i) else { return false }
        if i == t.count { return true }
        guard t[i] == "T" || t[i] == "t" || t[i] == " " else { return false }
        i += 1
        guard time(t, &i) else { return false }
        if i == t.count { return true }
        if t[i] == "Z" || t[i] == "z" { return i + 1 == t.count }
        guard t[i] == "+" || t[i] == "-" else { return false }
        i += 1
        guard let h = number(t, &i, digits: 2), h < 24, i < t.count, t[i] == ":" else { return false }
        i += 1
        guard let m = number(t, &i, digits: 2), m < 60 else { return false }
        return i == t.count
    }

    private static func number(_ t: [Unicode.Scalar], _ i: inout Int, digits: Int) -> Int? {
        guard i + digits <= t.count else { return nil }
        var n = 0
        for k in i..<(i + digits) {
            guard isDigit(t[k]) else { return nil }
            n = n * 10 + Int(t[k].value - 48)
        }
        i += digits
        return n
    }

    private static func date(_ t: [Unicode.Scalar], _ i: inout Int) -> Bool {
        guard let y = number(t, &i, digits: 4), i < t.count, t[i] == "-" else { return false }
        i += 1
        guard let m = number(t, &i, digits: 2), (1...12).contains(m), i < t.count, t[i] == "-" else { return false }
        i += 1
        guard let d = number(t, &i, digits: 2) else { return false }
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]
        return (1...days).contains(d)
    }

    private static func time(_ t: [Unicode.Scalar], _ i: inout Int) -> Bool {
        guard let h = number(t, &i, digits: 2), h < 24, i < t.count, t[i] == ":" else { return false }
        i += 1
        guard let m = number(t, &i, digits: 2), m < 60, i < t.count, t[i] == ":" else { return false }
        i += 1
        guard let s = number(t, &i, digits: 2), s <= 60 else { return false }
        if i < t.count && t[i] == "." {
            i += 1
            let start = i
            while i < t.count && isDigit(t[i]) { i += 1 }
            return i > start
        }
        return true
    }
}
