/// Reads a whole TOML document: statements (key/value pairs, `[table]` and
/// `[[array.of.tables]]` headers) and the rules about defining each table once.
struct TOMLParser {
    var scanner: TOMLScanner
    private let root = TOMLTableBuilder(origin: .header, line: 1)
    private var current: TOMLTableBuilder
    private var currentPath: [String] = []
    /// The deepest level a table or array may open at (see `TOML.maxNestingDepth`).
    let maxDepth: Int

    init(_ text: String, maxDepth: Int = TOML.maxNestingDepth) {
        scanner = TOMLScanner(text)
        current = root
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(TOMLError) -> [String: TOMLValue] {
        while true {
            try scanner.skipTrivia()
            if scanner.isAtEnd { break }
            if scanner.lookingAt("[[") {
                try parseArrayTableHeader()
            } else if scanner.current == "[" {
                try parseTableHeader()
            } else {
                let key = try parseKeyValue(into: current, base: currentPath, level: currentPath.count)
                try scanner.expectLineEnd(after: "the value of key \"\(TOMLSyntax.path(currentPath + key))\"")
            }
        }
        return root.value
    }

    // MARK: Keys

    /// A simple or dotted key: `rows`, `"quoted key"`, `trainer.jacobian.scheme`, written in
    /// a table at nesting `level`. Every part but the last names a table one level deeper;
    /// reading stops with `tooDeep` at the first part beyond `maxDepth`.
    mutating func parseKey(level: Int) throws(TOMLError) -> [TOMLKeyComponent] {
        var parts: [TOMLKeyComponent] = []
        while true {
            scanner.skipBlanks()
            let position = scanner.position
            parts.append(TOMLKeyComponent(name: try parseSimpleKey(after: parts), position: position))
            scanner.skipBlanks()
            guard scanner.current == "." else { return parts }
            if level + parts.count > maxDepth { throw tooDeep(at: position) }
            scanner.advance()
        }
    }

    /// The `tooDeep` error at `position`.
    func tooDeep(at position: TOMLPosition) -> TOMLError {
        .tooDeep(limit: maxDepth, line: position.line, column: position.column)
    }

    private mutating func parseSimpleKey(after parts: [TOMLKeyComponent]) throws(TOMLError) -> String {
        switch scanner.current {
        case "\"", "'":
            if scanner.lookingAt("\"\"\"") || scanner.lookingAt("'''") {
                throw scanner.error("keys cannot be multi-line strings")
            }
            return try scanner.scanString()
        case let c? where TOMLSyntax.isBareKeyScalar(c):
            var name = String.UnicodeScalarView()
            while let c = scanner.current, TOMLSyntax.isBareKeyScalar(c) {
                name.append(c)
                scanner.advance()
            }
            return String(name)
        default:
            let what = parts.isEmpty ? "a key" : "a key after \"\(TOMLSyntax.path(parts.map(\.name))).\""
            throw scanner.error(
                "expected \(what), found \(scanner.describeCurrent) (keys are letters, digits, '_' and '-', or quoted)")
        }
    }

    // MARK: Key/value pairs

    /// `key = value`, stored in `table` (whose path is `base` and whose keys sit at nesting
    /// `level`). Returns the key's names.
    mutating func parseKeyValue(into table: TOMLTableBuilder, base: [String], level: Int) throws(TOMLError) -> [String] {
        let key = try parseKey(level: level)
        let names = key.map(\.name)
        guard scanner.current == "=" else {
            throw scanner.error("expected '=' after key \"\(TOMLSyntax.path(names))\", found \(scanner.describeCurrent)")
        }
        scanner.advance()
        scanner.skipBlanks()
        let value = try parseValue(
            context: "for key \"\(TOMLSyntax.path(base + names))\"", path: base + names, level: level + names.count)
        try table.insert(value, at: key, base: base)
        return names
    }

    // MARK: Headers

    private mutating func parseHeaderKey(open: String, close: String) throws(TOMLError) -> [TOMLKeyComponent] {
        scanner.advance(by: open.unicodeScalars.count)
        let key = try parseKey(level: 0)
        if key.count > maxDepth { throw tooDeep(at: key[key.count - 1].position) }
        guard scanner.lookingAt(close) else {
            throw scanner.error(
                "expected '\(close)' to close the header \(open)\(TOMLSyntax.path(key.map(\.name))), found \(scanner.describeCurrent)"
            )
        }
        scanner.advance(by: close.unicodeScalars.count)
        return key
    }

    /// Walk from the root to the parent of the table named by `key`, creating implicit tables;
    /// an array of tables on the way means its last element.
    private func parent(of key: [TOMLKeyComponent], header: String) throws(TOMLError) -> TOMLTableBuilder {
        var table = root
        var path: [String] = []
        for part in key.dropLast() {
            path.append(part.name)
            switch table.entries[part.name] {
            case nil:
                let child = TOMLTableBuilder(origin: .implicit, line: part.position.line)
                table.entries[part.name] = .table(child)
                table = child
            case .table(let child):
                table = child
            case .tableArray(let list, _):
                table = list[list.count - 1]
            case .value(_, let line):
                throw .redefined(
                    "cannot open \(header): key \"\(TOMLSyntax.path(path))\" is already a value (line \(line))",
                    at: part.position)
            }
        }
        return table
    }

    /// `[a.b]`
    private mutating func parseTableHeader() throws(TOMLError) {
        let key = try parseHeaderKey(open: "[", close: "]")
        let names = key.map(\.name)
        let header = "[\(TOMLSyntax.path(names))]"
        let parent = try parent(of: key, header: header)
        let last = key[key.count - 1]
        let line = last.position.line
        switch parent.entries[last.name] {
        case nil:
            let table = TOMLTableBuilder(origin: .header, line: line)
            parent.entries[last.name] = .table(table)
            current = table
        case .table(let table) where table.origin == .implicit:
            table.origin = .header
            table.line = line
            current = table
        case .table(let table):
            let how = table.origin == .dotted ? "by dotted keys" : "by a header"
            throw .redefined("table \(header) is already defined \(how) on line \(table.line)", at: last.position)
        case .tableArray(_, let first):
            throw .redefined(
                "\(header) is already an array of tables (line \(first)); use [\(header)] to add an element",
                at: last.position)
        case .value(_, let first):
            throw .redefined(
                "cannot open \(header): key \"\(TOMLSyntax.path(names))\" is already a value (line \(first))",
                at: last.position)
        }
        currentPath = names
        try scanner.expectLineEnd(after: "the table header \(header)")
    }

    /// `[[a.b]]`
    private mutating func parseArrayTableHeader() throws(TOMLError) {
        let key = try parseHeaderKey(open: "[[", close: "]]")
        let names = key.map(\.name)
        let header = "[[\(TOMLSyntax.path(names))]]"
        let parent = try parent(of: key, header: header)
        let last = key[key.count - 1]
        let line = last.position.line
        let element = TOMLTableBuilder(origin: .header, line: line)
        switch parent.entries[last.name] {
        case nil:
            parent.entries[last.name] = .tableArray([element], line: line)
        case .tableArray(let list, let first):
            parent.entries[last.name] = .tableArray(list + [element], line: first)
        case .table(let table):
            throw .redefined(
                "cannot open \(header): [\(TOMLSyntax.path(names))] is already a table (line \(table.line))",
                at: last.position)
        case .value(_, let first):
            throw .redefined(
                "cannot open \(header): key \"\(TOMLSyntax.path(names))\" is already a value (line \(first)); "
                    + "an array written with [ ] cannot be extended",
                at: last.position)
        }
        current = element
        currentPath = names
        try scanner.expectLineEnd(after: "the header \(header)")
    }
}
