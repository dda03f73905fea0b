/// Reads TOML (v1.0.0, plus two TOML 1.1 conveniences: inline tables may span lines and
/// end with a comma, and `\e` escapes ESC) into `TOMLValue` tables.
///
/// ```swift
/// let document = try TOML.parse(text)          // [String: TOMLValue]
/// let unknown = TOML.unknownKeys(in: document, allowed: ["epochs", "twin.rows"])
/// ```
///
/// Errors are `TOMLError`s with line and column; duplicate keys and tables defined twice
/// are errors, as the specification requires. Date-times are validated and kept as strings.
///
/// Nesting is limited (`maxNestingDepth`): the reader and everything that walks its result
/// recurse once per level, and a file nested thousands deep would otherwise overflow the stack.
public enum TOML {
    /// How deeply tables and arrays may nest, counted from the root table: each part of a
    /// dotted key or `[header]` is one level (`[a.b]` opens level 2; an array of tables counts
    /// once, like a table), and each array or inline table written as a value is one more
    /// (`x = [[1]]` opens levels 1 and 2). Deeper input is refused with `TOMLError.tooDeep`.
    public static let maxNestingDepth = 64

    /// Parse a whole document into its root table. Tables and arrays nested deeper than
    /// `maxDepth` levels (see `maxNestingDepth`) are an error.
    public static func parse(_ text: String, maxDepth: Int = maxNestingDepth) throws(TOMLError) -> [String: TOMLValue] {
        var parser = TOMLParser(text, maxDepth: maxDepth)
        return try parser.parseDocument()
    }

    /// The dotted path of every value in `document` that is not a table, sorted:
    /// `["epochs", "trainer.jacobian.scheme", "twin.dead_columns", "twin.rows"]`.
    ///
    /// Key components that are not bare keys are quoted as in TOML (`a."b.c"`). An array
    /// whose elements are all tables (an array of tables, `[[layers]]`, or an array of
    /// inline tables) contributes the paths inside its elements without an index
    /// (`layers.width`), once each; any other array is a single value.
    ///
    /// Compare the result against the keys a program knows to catch typos; see `unknownKeys`.
    public static func keyPaths(in document: [String: TOMLValue]) -> [String] {
        var paths = Set<String>()
        collectPaths(document, prefix: [], into: &paths)
        return paths.sorted()
    }

    /// The key paths of `document` (as listed by `keyPaths(in:)`) that are not in `allowed`,
    /// sorted. Empty when every key is known.
    public static func unknownKeys(in document: [String: TOMLValue], allowed: Set<String>) -> [String] {
        keyPaths(in: document).filter { !allowed.contains($0) }
    }

    private static func collectPaths(_ table: [String: TOMLValue], prefix: [String], into paths: inout Set<String>) {
        for (key, value) in table {
            let path = prefix + [key]
            switch value {
            case .table(let child):
                collectPaths(child, prefix: path, into: &paths)
            case .array(let elements) where !elements.isEmpty && elements.allSatisfy({ $0.tableValue != nil }):
                for element in elements { collectPaths(element.tableValue ?? [:], prefix: path, into: &paths) }
            default:
                paths.insert(TOMLSyntax.path(path))
            }
        }
    }
}
