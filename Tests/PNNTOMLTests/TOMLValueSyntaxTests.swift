import PNNTOML
import Testing

/// Parses `key = <literal>` and returns the value.
private func value(_ literal: String) throws -> TOMLValue? {
    try TOML.parse("v = \(literal)\n")["v"]
}

@Suite("TOML values: strings, numbers, booleans, arrays")
struct TOMLValueSyntaxTests {
    @Test(arguments: [
        (#""plain""#, "plain"),
        (#""tab\there""#, "tab\there"),
        (#""line\nbreak""#, "line\nbreak"),
        (#""quote \" and backslash \\""#, "quote \" and backslash \\"),
        (#""\b\f\r\e""#, "\u{08}\u{0C}\r\u{1B}"),
        (#""\u00E9 \U0001F600""#, "é 😀"),
        (#""μ-unicode as is""#, "μ-unicode as is"),
        (#"'C:\path\no escapes'"#, #"C:\path\no escapes"#),
        (#"''"#, ""),
        (#""""#, ""),
    ])
    func singleLineStrings(literal: String, expected: String) throws {
        #expect(try value(literal) == .string(expected))
    }

    @Test func multiLineBasicStrings() throws {
        #expect(try value("\"\"\"\nfirst\nsecond\"\"\"") == .string("first\nsecond"))
        #expect(try value("\"\"\"\r\nwindows\r\nlines\"\"\"") == .string("windows\nlines"))
        // A line-ending backslash removes the newline and the indentation that follows.
        #expect(try value("\"\"\"\\\n    The quick \\\n\n    brown fox.\\\n  \"\"\"") == .string("The quick brown fox."))
        #expect(
            try value("\"\"\"one \"quoted\" word, two \"\"quotes\"\"\"\"\"") == .string("one \"quoted\" word, two \"\"quotes\"\"")
        )
        #expect(try value("\"\"\"escapes\\t\\u0041\"\"\"") == .string("escapes\tA"))
    }

    @Test func multiLineLiteralStrings() throws {
        #expect(try value("'''\nraw \\n text\n  kept'''") == .string("raw \\n text\n  kept"))
        #expect(try value("'''it's ''fine'''''") == .string("it's ''fine''"))
    }

    @Test(arguments: [
        ("0", Int64(0)), ("+99", 99), ("-17", -17), ("1_000_000", 1_000_000), ("-0", 0),
        ("0xDEAD_beef", 0xDEAD_BEEF), ("0o755", 0o755), ("0b1101_0110", 0b1101_0110),
        ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min),
    ])
    func integers(literal: String, expected: Int64) throws {
        #expect(try value(literal) == .integer(expected))
    }

    @Test(arguments: [
        ("0.5", 0.5), ("+1.0", 1.0), ("-3.1415", -3.1415), ("5e+22", 5e22), ("1e06", 1e6), ("-2E-2", -0.02),
        ("6.626e-34", 6.626e-34), ("224_617.445_991", 224_617.445_991), ("-0.0", -0.0),
    ])
    func floats(literal: String, expected: Double) throws {
        #expect(try value(literal) == .float(expected))
    }

    @Test func infinityAndNaN() throws {
        #expect(try value("inf") == .float(.infinity))
        #expect(try value("+inf") == .float(.infinity))
        #expect(try value("-inf") == .float(-.infinity))
        for literal in ["nan", "+nan", "-nan"] {
            let v = try value(literal)
            #expect(v?.doubleValue?.isNaN == true, "\(literal)")
        }
    }

    @Test func booleans() throws {
        #expect(try value("true") == .bool(true))
        #expect(try value("false") == .bool(false))
    }

    @Test(arguments: [
        "1979-05-27T07:32:00Z", "1979-05-27T00:32:00.999999-07:00", "1979-05-27 07:32:00+01:30",
        "1979-05-27T07:32:00", "1979-05-27", "07:32:00", "00:32:00.5", "2024-02-29",
    ])
    func dateTimesAreKeptAsWritten(literal: String) throws {
        #expect(try value(literal) == .string(literal))
    }

    @Test(arguments: ["1979-13-01", "2023-02-29", "25:00:00", "1979-05-27T07:32", "1979-05-27X07:32:00"])
    func invalidDateTimesAreRejected(literal: String) {
        #expect(throws: TOMLError.self) { try value(literal) }
    }

    @Test func arrays() throws {
        #expect(try value("[]") == .array([]))
        #expect(try value("[ 1, 2, 3, ]") == .array([.integer(1), .integer(2), .integer(3)]))
        #expect(
            try value("[[1, 2], ['a'], []]") == .array([.array([.integer(1), .integer(2)]), .array([.string("a")]), .array([])]))
        #expect(try value("[1, 'mixed', 2.5, true]") == .array([.integer(1), .string("mixed"), .float(2.5), .bool(true)]))
        let multiLine = """
            [
              1,   # first
              # a whole-line comment
              2,
            ]
            """
        #expect(try value(multiLine) == .array([.integer(1), .integer(2)]))
    }

    @Test func descriptionsUseTOMLSyntax() {
        let table: TOMLValue = .table(["b": .array([.integer(1), .float(2.5)]), "a": .string("x\"y"), "c d": .bool(true)])
        #expect(table.description == #"{ a = "x\"y", b = [1, 2.5], "c d" = true }"#)
        #expect(TOMLValue.float(-.infinity).description == "-inf")
        #expect(TOMLValue.integer(5).kindDescription == "an integer")
    }
}
