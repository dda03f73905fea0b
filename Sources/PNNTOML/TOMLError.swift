/// Why a TOML text could not be read, with the 1-based line and column where reading stopped
/// (columns count Unicode scalars, so a tab is one column).
///
/// The messages are written for the person editing the file, e.g.
/// `expected '=' after key "rate", found '5'`. The reader does not know the file name;
/// callers add it with `describe(file:)` to get `run.toml:7:12: expected '=' …`.
public enum TOMLError: Error, Equatable, CustomStringConvertible {
    /// The text is not valid TOML at this position.
    case syntax(String, line: Int, column: Int)
    /// A key, table or array of tables is defined a second time, or a key is reused as a
    /// different kind of thing (a value and a table).
    case redefinition(String, line: Int, column: Int)
    /// Tables, arrays and dotted keys nest deeper than `limit` levels here (see
    /// `TOML.maxNestingDepth`). Reading stops at the first level too many, so a hostile file
    /// nested thousands deep costs nothing.
    case tooDeep(limit: Int, line: Int, column: Int)

    /// The explanation, without position.
    public var message: String {
        switch self {
        case .syntax(let message, _, _), .redefinition(let message, _, _): return message
        case .tooDeep(let limit, _, _):
            return "nested too deeply: at most \(limit) levels of tables and arrays are allowed "
                + "(each part of a dotted key or [header] is one level, each array or inline table another)"
        }
    }

    /// 1-based line of the problem.
    public var line: Int {
        switch self {
        case .syntax(_, let line, _), .redefinition(_, let line, _), .tooDeep(_, let line, _): return line
        }
    }

    /// 1-based column of the problem.
    public var column: Int {
        switch self {
        case .syntax(_, _, let column), .redefinition(_, _, let column), .tooDeep(_, _, let column): return column
        }
    }

    /// `line:column: message`.
    public var description: String { "\(line):\(column): \(message)" }

    /// `file:line:column: message`, the form compilers use and editors can jump to.
    public func describe(file: String) -> String { "\(file):\(line):\(column): \(message)" }
}
