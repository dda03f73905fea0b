/// Values on the right of `=`: strings, unquoted literals, arrays and inline tables.
extension TOMLParser {
    /// Read one value. `context` completes messages, e.g. `for key "twin.rows"`; `path` is
    /// the key the value belongs to, prefixed to the keys of inline tables in messages;
    /// `level` is the nesting level the value opens if it is an array or inline table.
    mutating func parseValue(context: String, path: [String], level: Int) throws(TOMLError) -> TOMLValue {
        switch scanner.current {
        case "\"", "'":
            return .string(try scanner.scanString())
        case "[":
            return try parseArray(context: context, path: path, level: level)
        case "{":
            return try parseInlineTable(context: context, path: path, level: level)
        case let c? where TOMLLiteral.isTokenScalar(c):
            return try parseLiteral(context: context)
        default:
            throw scanner.error("expected a value \(context), found \(scanner.describeCurrent)")
        }
    }

    /// An unquoted value: number, boolean or date-time.
    private mutating func parseLiteral(context: String) throws(TOMLError) -> TOMLValue {
        let start = scanner.position
        var token = String.UnicodeScalarView()
        collect(into: &token)
        // A date and a time may be separated by one space: `1979-05-27 07:32:00`.
        if token.count == 10, TOMLLiteral.isDateTime(Array(token)), scanner.current == " ",
            let d0 = scanner.peek(1), let d1 = scanner.peek(2), ("0"..."9").contains(d0),
            ("0"..."9").contains(d1), scanner.peek(3) == ":"
        {
            token.append(" ")
            scanner.advance()
            collect(into: &token)
        }
        let text = String(token)
        switch TOMLLiteral.value(of: text) {
        case .success(let value):
            return value
        case .failure(let problem):
            let hint = problem.hint.map { ": \($0)" } ?? ""
            throw scanner.error("\(problem.what) \(text) \(context)\(hint)", at: start)
        }
    }

    private mutating func collect(into token: inout String.UnicodeScalarView) {
        while let c = scanner.current, TOMLLiteral.isTokenScalar(c) {
            token.append(c)
            scanner.advance()
        }
    }

    /// `[ v, v, … ]`, over any number of lines, comments allowed, trailing comma allowed.
    private mutating func parseArray(context: String, path: [String], level: Int) throws(TOMLError) -> TOMLValue {
        let start = scanner.position
        if level > maxDepth { throw tooDeep(at: start) }
        scanner.advance()
        var elements: [TOMLValue] = []
        let inner = "in the array \(context)"
        while true {
            try scanner.skipTrivia()
            if scanner.current == "]" {
                scanner.advance()
                return .array(elements)
            }
            if scanner.isAtEnd {
                throw scanner.error("array \(context) is not closed: missing ']'", at: start)
            }
            elements.append(try parseValue(context: inner, path: path, level: level + 1))
            try scanner.skipTrivia()
            switch scanner.current {
            case ",":
                scanner.advance()
            case "]":
                continue
            case nil:
                throw scanner.error("array \(context) is not closed: missing ']'", at: start)
            default:
                throw scanner.error("expected ',' or ']' \(inner), found \(scanner.describeCurrent)")
            }
        }
    }

    /// `{ k = v, a.b = v }`. As in TOML 1.1, the table may span lines and end with a comma.
    private mutating func parseInlineTable(context: String, path: [String], level: Int) throws(TOMLError) -> TOMLValue {
        let start = scanner.position
        if level > maxDepth { throw tooDeep(at: start) }
        scanner.advance()
        let table = TOMLTableBuilder(origin: .header, line: start.line)
        while true {
            try scanner.skipTrivia()
            if scanner.current == "}" {
                scanner.advance()
                return .table(table.value)
            }
            if scanner.isAtEnd {
                throw scanner.error("inline table \(context) is not closed: missing '}'", at: start)
            }
            _ = try parseKeyValue(into: table, base: path, level: level)
            try scanner.skipTrivia()
            switch scanner.current {
            case ",":
                scanner.advance()
            case "}":
                continue
            case nil:
                throw scanner.error("inline table \(context) is not closed: missing '}'", at: start)
            default:
                throw scanner.error("expected ',' or '}' in the inline table \(context), found \(scanner.describeCurrent)")
            }
        }
    }
}
