/// A position in the source text: 1-based line and column (in Unicode scalars).
struct TOMLPosition: Equatable {
    var line: Int
    var column: Int
}

/// Walks the Unicode scalars of a TOML text, tracking line and column, and skips the
/// trivia between tokens (whitespace, comments, newlines).
struct TOMLScanner {
    private let scalars: [Unicode.Scalar]
    private(set) var index = 0
    private(set) var line = 1
    private var lineStart = 0

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" {  // byte-order mark
            index = 1
            lineStart = 1
        }
    }

    var position: TOMLPosition { TOMLPosition(line: line, column: index - lineStart + 1) }
    var isAtEnd: Bool { index >= scalars.count }
    var current: Unicode.Scalar? { peek(0) }

    func peek(_ offset: Int) -> Unicode.Scalar? {
        let i = index + offset
        return i < scalars.count ? scalars[i] : nil
    }

    /// Whether the text at the current position starts with `prefix`.
    func lookingAt(_ prefix: String) -> Bool {
        var i = index
        for scalar in prefix.unicodeScalars {
            guard i < scalars.count, scalars[i] == scalar else { return false }
            i += 1
        }
        return true
    }

    /// Step over one scalar.
    mutating func advance() {
        guard index < scalars.count else { return }
        if scalars[index] == "\n" {
            line += 1
            lineStart = index + 1
        }
        index += 1
    }

    mutating func advance(by count: Int) {
        for _ in 0..<count { advance() }
    }

    /// Whether a newline (`\n` or `\r\n`) starts here.
    var atNewline: Bool { current == "\n" || (current == "\r" && peek(1) == "\n") }

    /// Consume one newline if there is one.
    mutating func consumeNewline() -> Bool {
        if current == "\n" {
            advance()
            return true
        }
        if current == "\r" && peek(1) == "\n" {
            advance(by: 2)
            return true
        }
        return false
    }

    /// Skip spaces and tabs.
    mutating func skipBlanks() {
        while current == " " || current == "\t" { advance() }
    }

    /// Skip a comment (up to, not including, the newline) if one starts here.
    mutating func skipComment() throws(TOMLError) {
        guard current == "#" else { return }
        while let c = current, !atNewline {
            if TOMLScanner.isForbiddenControl(c) {
                throw error("comments may not contain the control character \(TOMLScanner.describe(c))")
            }
            advance()
        }
    }

    /// Skip blanks, comments and newlines (between statements, and inside arrays).
    mutating func skipTrivia() throws(TOMLError) {
        while true {
            skipBlanks()
            try skipComment()
            if !consumeNewline() { return }
        }
    }

    /// After a statement: optional blanks and comment, then a newline or the end of the text.
    mutating func expectLineEnd(after what: String) throws(TOMLError) {
        skipBlanks()
        try skipComment()
        if isAtEnd || consumeNewline() { return }
        throw error("expected the end of the line after \(what), found \(describeCurrent)")
    }

    /// A syntax error at the current position (or `position`).
    func error(_ message: String, at position: TOMLPosition? = nil) -> TOMLError {
        let p = position ?? self.position
        return .syntax(message, line: p.line, column: p.column)
    }

    /// The current scalar for messages: `'='`, `end of line`, `end of file`.
    var describeCurrent: String {
        guard let c = current else { return "end of file" }
        return atNewline ? "end of line" : TOMLScanner.describe(c)
    }

    /// A scalar for messages: `'='`, `tab`, `U+0007`.
    static func describe(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\t": return "tab"
        case "\n": return "end of line"
        case "'": return "\"'\""
        case _ where scalar.value < 0x20 || scalar.value == 0x7F:
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: 4 - hex.count) + hex
        default: return "'\(scalar)'"
        }
    }

    /// Control characters TOML forbids in comments and strings (tab is allowed).
    static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\t") || scalar.value == 0x7F
    }
}
