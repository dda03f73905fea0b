/// The four TOML string forms: basic `"…"`, literal `'…'`, and their multi-line forms.
extension TOMLScanner {
    /// Read a string starting at the current quote.
    mutating func scanString() throws(TOMLError) -> String {
        if lookingAt("\"\"\"") { return try scanMultiLine(quote: "\"", escapes: true) }
        if lookingAt("'''") { return try scanMultiLine(quote: "'", escapes: false) }
        return try scanSingleLine(quote: current == "'" ? "'" : "\"", escapes: current != "'")
    }

    private mutating func scanSingleLine(quote: Unicode.Scalar, escapes: Bool) throws(TOMLError) -> String {
        let start = position
        advance()
        var out = String.UnicodeScalarView()
        while true {
            guard let c = current, !atNewline else {
                throw error("string is not closed: missing \(TOMLScanner.describe(quote)) before the end of the line", at: start)
            }
            if c == quote {
                advance()
                return String(out)
            }
            if escapes && c == "\\" {
                out.append(try scanEscape())
                continue
            }
            if TOMLScanner.isForbiddenControl(c) {
                throw error("strings may not contain the control character \(TOMLScanner.describe(c)); write it as an escape")
            }
            out.append(c)
            advance()
        }
    }

    private mutating func scanMultiLine(quote: Unicode.Scalar, escapes: Bool) throws(TOMLError) -> String {
        let start = position
        advance(by: 3)
        _ = consumeNewline()  // a newline right after the opening quotes is not part of the string
        var out = String.UnicodeScalarView()
        while true {
            guard let c = current else {
                let q = String(repeating: String(quote), count: 3)
                throw error("multi-line string is not closed: missing \(q) before the end of the file", at: start)
            }
            if c == quote {
                var run = 0
                while peek(run) == quote { run += 1 }
                if run >= 3 {
                    // Up to two quotes may sit right before the closing three.
                    if run > 5 { throw error("too many quotes at the end of a multi-line string") }
                    for _ in 0..<(run - 3) { out.append(quote) }
                    advance(by: run)
                    return String(out)
                }
                for _ in 0..<run { out.append(quote) }
                advance(by: run)
                continue
            }
            if consumeNewline() {
                out.append("\n")
                continue
            }
            if escapes && c == "\\" {
                if try skipLineEndingBackslash() { continue }
                out.append(try scanEscape())
                continue
            }
            if TOMLScanner.isForbiddenControl(c) {
                throw error("strings may not contain the control character \(TOMLScanner.describe(c)); write it as an escape")
            }
            out.append(c)
            advance()
        }
    }

    /// In a multi-line basic string, `\` followed by blanks and a newline removes itself and
    /// all whitespace up to the next non-blank. Returns false if this backslash is an escape.
    private mutating func skipLineEndingBackslash() throws(TOMLError) -> Bool {
        var k = 1
        while peek(k) == " " || peek(k) == "\t" { k += 1 }
        guard peek(k) == "\n" || (peek(k) == "\r" && peek(k + 1) == "\n") else { return false }
        advance(by: k)
        while current == " " || current == "\t" || atNewline { advance() }
        return true
    }

    /// Read one escape sequence starting at the backslash.
    private mutating func scanEscape() throws(TOMLError) -> Unicode.Scalar {
        let start = position
        advance()
        guard let c = current, !atNewline else { throw error("unfinished escape sequence", at: start) }
        advance()
        switch c {
        case "b": return "\u{08}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{0C}"
        case "r": return "\r"
        case "e": return "\u{1B}"
        case "\"": return "\""
        case "\\": return "\\"
        case "u": return try scanUnicodeEscape(digits: 4, start: start)
        case "U": return try scanUnicodeEscape(digits: 8, start: start)
        default:
            throw error(
                "invalid escape sequence '\\\(c)' (use \\\\ for a backslash, or a literal string '…')", at: start)
        }
    }

    private mutating func scanUnicodeEscape(digits: Int, start: TOMLPosition) throws(TOMLError) -> Unicode.Scalar {
        var value: UInt32 = 0
        for _ in 0..<digits {
            guard let c = current, let digit = hexDigit(c) else {
                throw error("escape \\\(digits == 4 ? "u" : "U") needs exactly \(digits) hexadecimal digits", at: start)
            }
            value = value * 16 + digit
            advance()
        }
        guard let scalar = Unicode.Scalar(value) else {
            let hex = String(value, radix: 16, uppercase: true)
            throw error("escape \\\(digits == 4 ? "u" : "U")\(hex) is not a Unicode scalar value", at: start)
        }
        return scalar
    }

    private func hexDigit(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": return c.value - 48
        case "a"..."f": return c.value - 87
        case "A"..."F": return c.value - 55
        default: return nil
        }
    }
}
