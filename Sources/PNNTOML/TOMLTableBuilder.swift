/// A table while the document is being read: its entries and how it came to exist, which
/// decides whether it may still be opened by a header or extended by dotted keys.
final class TOMLTableBuilder {
    /// How a table was created.
    enum Origin {
        /// Created as the parent of a header (`[a]` by `[a.b]`); may still get its own header.
        case implicit
        /// Opened by a `[header]` or as an element of `[[header]]`.
        case header
        /// Created by a dotted key (`a.b = 1` creates `a`); only dotted keys may extend it.
        case dotted
    }

    /// One entry of a table under construction.
    enum Entry {
        /// A finished value (including inline tables and static arrays, which are frozen).
        case value(TOMLValue, line: Int)
        case table(TOMLTableBuilder)
        case tableArray([TOMLTableBuilder], line: Int)
    }

    var entries: [String: Entry] = [:]
    var origin: Origin
    /// Line where the table was created or given its header (for messages).
    var line: Int

    init(origin: Origin, line: Int) {
        self.origin = origin
        self.line = line
    }

    /// The finished table.
    var value: [String: TOMLValue] {
        entries.mapValues { entry in
            switch entry {
            case .value(let v, _): return v
            case .table(let t): return .table(t.value)
            case .tableArray(let list, _): return .array(list.map { .table($0.value) })
            }
        }
    }

    /// Store `value` at the dotted `key` below this table, creating intermediate tables.
    /// `base` is this table's own path (for messages).
    func insert(
        _ value: TOMLValue, at key: [TOMLKeyComponent], base: [String]
    ) throws(TOMLError) {
        var table = self
        var path = base
        for part in key.dropLast() {
            path.append(part.name)
            switch table.entries[part.name] {
            case nil:
                let child = TOMLTableBuilder(origin: .dotted, line: part.position.line)
                table.entries[part.name] = .table(child)
                table = child
            case .table(let child) where child.origin == .dotted:
                table = child
            case .table(let child):
                throw .redefined(
                    "cannot add to table [\(TOMLSyntax.path(path))] with a dotted key: it is defined by a header on line \(child.line)",
                    at: part.position)
            case .tableArray(_, let line):
                throw .redefined(
                    "cannot add to \(TOMLSyntax.path(path)) with a dotted key: it is an array of tables (line \(line))",
                    at: part.position)
            case .value(_, let line):
                throw .redefined(
                    "key \"\(TOMLSyntax.path(path))\" is already a value (line \(line)), it cannot also be a table",
                    at: part.position)
            }
        }
        guard let last = key.last else { return }
        path.append(last.name)
        if let existing = table.entries[last.name] {
            let line: Int
            switch existing {
            case .value(_, let l), .tableArray(_, let l): line = l
            case .table(let t): line = t.line
            }
            throw .redefined("duplicate key \"\(TOMLSyntax.path(path))\" (first defined on line \(line))", at: last.position)
        }
        table.entries[last.name] = .value(value, line: last.position.line)
    }
}

/// One component of a (possibly dotted) key, with where it was written.
struct TOMLKeyComponent {
    var name: String
    var position: TOMLPosition
}

extension TOMLError {
    static func redefined(_ message: String, at position: TOMLPosition) -> TOMLError {
        .redefinition(message, line: position.line, column: position.column)
    }
}
