import PNNTOML
import Testing

/// The error `text` raises, or nil if it parses.
private func failure(_ text: String) -> TOMLError? {
    do {
        _ = try TOML.parse(text)
        return nil
    } catch {
        return error
    }
}

@Suite("TOML errors: positions and messages")
struct TOMLErrorTests {
    @Test func missingEqualsNamesKeyLineAndColumn() throws {
        let text = "a = 1\nb = 2\n\n\n\n[t]\nrate       5\n"
        let error = try #require(failure(text))
        #expect(error.line == 7 && error.column == 12)
        #expect(error.describe(file: "run.toml") == "run.toml:7:12: expected '=' after key \"rate\", found '5'")
        #expect(error.description == "7:12: expected '=' after key \"rate\", found '5'")
    }

    @Test func doubledEqualsPointsAtTheSecondOne() throws {
        let error = try #require(failure("[trainer]\nbatch_size = 8\nlearning_rate = = 2\n"))
        #expect(error == .syntax("expected a value for key \"trainer.learning_rate\", found '='", line: 3, column: 17))
    }

    @Test func unquotedStringSuggestsQuotes() throws {
        let error = try #require(failure("[trainer]\nmethod = gauss-newton\n"))
        #expect(error.line == 2 && error.column == 10)
        #expect(error.message == #"invalid value gauss-newton for key "trainer.method": strings must be quoted: "gauss-newton""#)
    }

    // (text, line, column, fragment of the message)
    @Test(arguments: [
        ("a = \"open\nb = 1", 1, 5, "string is not closed"),
        ("a = '''never\nclosed", 1, 5, "multi-line string is not closed"),
        ("a = \"bad \\q escape\"", 1, 10, "invalid escape sequence '\\q'"),
        ("a = \"\\u12\"", 1, 6, "exactly 4 hexadecimal digits"),
        ("a = \"\\uD800\"", 1, 6, "not a Unicode scalar value"),
        ("a = 1 b = 2", 1, 7, "expected the end of the line after the value of key \"a\", found 'b'"),
        ("a = 1__000", 1, 5, "underscores must sit between digits"),
        ("a = 1_", 1, 5, "underscores must sit between digits"),
        ("a = 012", 1, 5, "leading zeros are not allowed"),
        ("a = 1.", 1, 5, "digits on both sides"),
        ("a = .5", 1, 5, "invalid value .5"),
        ("a = 1e", 1, 5, "an exponent needs digits"),
        ("a = 9223372036854775808", 1, 5, "out of the 64-bit range"),
        ("a = 0xG1", 1, 5, "invalid hexadecimal integer"),
        ("a = 1e400", 1, 5, "float out of the 64-bit range"),
        ("a = TRUE", 1, 5, "strings must be quoted"),
        ("a = [1, 2\nb = 3", 2, 1, "expected ',' or ']' in the array for key \"a\", found 'b'"),
        ("a = [1, 2", 1, 5, "array for key \"a\" is not closed"),
        ("a = { x = 1 y = 2 }", 1, 13, "expected ',' or '}' in the inline table"),
        ("a = { x = }", 1, 11, "expected a value for key \"a.x\""),
        ("a = ", 1, 5, "expected a value for key \"a\", found end of file"),
        ("= 1", 1, 1, "expected a key, found '='"),
        ("a. = 1", 1, 4, "expected a key after \"a.\""),
        ("[t\nx = 1", 1, 3, "expected ']' to close the header [t"),
        ("[[t]\n", 1, 4, "expected ']]' to close the header [[t, found ']'"),
        ("[t] x = 1", 1, 5, "after the table header [t]"),
        ("a = 1 # bell \u{07}", 1, 14, "control character U+0007"),
        ("\"\"\"key\"\"\" = 1", 1, 1, "keys cannot be multi-line"),
        ("a = 1\rb = 2", 1, 6, "found U+000D"),
    ])
    func syntaxErrors(text: String, line: Int, column: Int, fragment: String) throws {
        let error = try #require(failure(text), "accepted \(text)")
        guard case .syntax = error else {
            Issue.record("not a syntax error: \(error)")
            return
        }
        #expect(error.message.contains(fragment), "\(error)")
        #expect(error.line == line && error.column == column, "\(error)")
    }

    // (text, line, column, fragment of the message)
    @Test(arguments: [
        ("a = 1\na = 2", 2, 1, "duplicate key \"a\" (first defined on line 1)"),
        ("a = 1\n\"a\" = 2", 2, 1, "duplicate key \"a\""),
        ("[t]\nx = 1\nx = 2", 3, 1, "duplicate key \"t.x\""),
        ("a.b = 1\na.b = 2", 2, 3, "duplicate key \"a.b\""),
        ("a = 1\na.b = 2", 2, 1, "key \"a\" is already a value"),
        ("p = { x = 1, x = 2 }", 1, 14, "duplicate key \"p.x\""),
        ("[t]\n[t]", 2, 2, "table [t] is already defined by a header on line 1"),
        ("[a.b]\n[a]\n[a.b]", 3, 4, "table [a.b] is already defined"),
        ("a.b = 1\n[a]", 2, 2, "table [a] is already defined by dotted keys on line 1"),
        ("[fruit]\napple.color = 1\n[fruit.apple]", 3, 8, "already defined by dotted keys"),
        ("[a.b]\nx = 1\n[a]\nb.y = 2", 4, 1, "cannot add to table [a.b] with a dotted key"),
        ("a = 1\n[a]", 2, 2, "key \"a\" is already a value"),
        ("a = [1]\n[[a]]", 2, 3, "an array written with [ ] cannot be extended"),
        ("[a]\n[[a]]", 2, 3, "[a] is already a table"),
        ("[[a]]\n[a]", 2, 2, "is already an array of tables"),
        ("p = { x = 1 }\n[p.q]", 2, 2, "key \"p\" is already a value"),
        ("p = { x = 1 }\np.y = 2", 2, 1, "key \"p\" is already a value"),
        ("[t]\nsub = 1\n[t.sub]", 3, 4, "key \"t.sub\" is already a value"),
    ])
    func redefinitionsAreRejected(text: String, line: Int, column: Int, fragment: String) throws {
        let error = try #require(failure(text), "accepted \(text)")
        guard case .redefinition = error else {
            Issue.record("not a redefinition: \(error)")
            return
        }
        #expect(error.message.contains(fragment), "\(error)")
        #expect(error.line == line && error.column == column, "\(error)")
    }

    @Test func columnsCountCharactersNotBytes() throws {
        let error = try #require(failure("\"µ-ünï\" 1"))
        #expect(error.column == 9)
    }
}
