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
public enum TOML {
    /// Parse a whole document into its root table.
    public static func parse(_ text: String) throws(TOMLError) -> [String: TOMLValue] {
        var parser = TOMLParser(text)
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
