import PNNTOML
import Testing

/// The error `text` raises, or nil if it parses.
private func failure(_ text: String, maxDepth: Int = TOML.maxNestingDepth) -> TOMLError? {
    do {
        _ = try TOML.parse(text, maxDepth: maxDepth)
        return nil
    } catch {
        return error
    }
}

/// `open` repeated `n` times, then `middle`, then `close` repeated `n` times.
private func nest(_ n: Int, _ open: String, _ middle: String, _ close: String) -> String {
    String(repeating: open, count: n) + middle + String(repeating: close, count: n)
}

/// A dotted key of `n` parts: `a.a.a`.
private func dotted(_ n: Int) -> String {
    Array(repeating: "a", count: n).joined(separator: ".")
}

@Suite("TOML nesting limit")
struct TOMLDepthLimitTests {
    static let limit = TOML.maxNestingDepth

    @Test func theLimitIsStated() {
        #expect(TOML.maxNestingDepth == 64)
        let message = TOMLError.tooDeep(limit: 64, line: 3, column: 9).describe(file: "run.toml")
        #expect(message.hasPrefix("run.toml:3:9: nested too deeply: at most 64 levels"))
    }

    // 30 000 levels used to overflow the stack (a segfault with nothing on stderr). Each case
    // puts the nesting on line 3 and checks where reading stopped: at the first level too many.
    @Test func thirtyThousandNestedArraysAreRefusedWithALineNumber() throws {
        let error = try #require(failure("a = 1\nb = 2\nx = " + nest(30_000, "[", "1", "]") + "\n"))
        // `x = [` opens level 1 at column 5; level 65 is 64 brackets further on.
        #expect(error == .tooDeep(limit: 64, line: 3, column: 5 + 64))
    }

    @Test func thirtyThousandNestedInlineTablesAreRefused() throws {
        let error = try #require(failure("a = 1\n\nx = " + nest(30_000, "{ a = ", "1", " }") + "\n"))
        #expect(error == .tooDeep(limit: 64, line: 3, column: 5 + 64 * 6))
    }

    @Test func thirtyThousandPartHeadersAreRefused() throws {
        let error = try #require(failure("a = 1\n\n[" + dotted(30_000) + "]\nb = 2\n"))
        // Part 65 starts at column 2 + 64·2.
        #expect(error == .tooDeep(limit: 64, line: 3, column: 2 + 64 * 2))
        let arrayOfTables = try #require(failure("a = 1\n\n[[" + dotted(30_000) + "]]\n"))
        #expect(arrayOfTables == .tooDeep(limit: 64, line: 3, column: 3 + 64 * 2))
    }

    @Test func thirtyThousandPartDottedKeysAreRefused() throws {
        let error = try #require(failure("a = 1\n\nb." + dotted(30_000) + " = 1\n"))
        // `b` is level 1, the 64th `a` opens level 65; it starts at column 3 + 63·2.
        #expect(error == .tooDeep(limit: 64, line: 3, column: 3 + 63 * 2))
    }

    @Test func mixedNestingIsRefusedToo() throws {
        let deep = "[\(dotted(30_000))]\nx = " + nest(30_000, "[{ y = ", "1", " }]") + "\n"
        #expect(failure(deep)?.message.hasPrefix("nested too deeply") == true)
        let inlineInArray = "x = " + nest(30_000, "[{ y = ", "1", " }]") + "\n"
        #expect(failure(inlineInArray)?.message.hasPrefix("nested too deeply") == true)
    }

    /// Level 64 exactly is accepted in every form; one more is refused.
    @Test func exactlyTheLimitIsAccepted() throws {
        let n = Self.limit
        // Arrays: `x` is a key of the root, its arrays open levels 1…n.
        #expect(failure("x = " + nest(n, "[", "1", "]")) == nil)
        #expect(failure("x = " + nest(n + 1, "[", "1", "]")) != nil)
        // Inline tables.
        #expect(failure("x = " + nest(n, "{ a = ", "1", " }")) == nil)
        #expect(failure("x = " + nest(n + 1, "{ a = ", "1", " }")) != nil)
        // Headers: n parts open tables at levels 1…n.
        #expect(failure("[\(dotted(n))]\nv = 1\n") == nil)
        #expect(failure("[\(dotted(n + 1))]\nv = 1\n") != nil)
        #expect(failure("[[\(dotted(n))]]\nv = 1\n") == nil)
        #expect(failure("[[\(dotted(n + 1))]]\nv = 1\n") != nil)
        // Dotted keys: n + 1 parts open tables at levels 1…n and set a value in the last.
        #expect(failure("\(dotted(n + 1)) = 1\n") == nil)
        #expect(failure("\(dotted(n + 2)) = 1\n") != nil)
        // Levels add up across headers, dotted keys and values.
        #expect(failure("[\(dotted(n - 2))]\nb.c = 1\nx = [1]\n") == nil)
        #expect(failure("[\(dotted(n - 2))]\nb.c.d.e = 1\n") != nil)
        #expect(failure("[\(dotted(n - 1))]\nx = [1]\n") == nil)
        #expect(failure("[\(dotted(n - 1))]\nx = [[1]]\n") != nil)
        #expect(failure("[\(dotted(n))]\nx = 1\n") == nil)
        #expect(failure("[\(dotted(n))]\nx = { y = 1 }\n") != nil)
    }

    @Test func aSmallerLimitCanBeChosen() throws {
        #expect(failure("x = [[1]]", maxDepth: 2) == nil)
        #expect(failure("x = [[[1]]]", maxDepth: 2) == .tooDeep(limit: 2, line: 1, column: 7))
        #expect(failure("[a.b.c]", maxDepth: 2) == .tooDeep(limit: 2, line: 1, column: 6))
    }

    @Test func aDocumentAtTheLimitStillDecodesAndListsItsKeys() throws {
        let doc = try TOML.parse("[\(dotted(Self.limit - 1))]\nv = [1]\n")
        #expect(TOML.keyPaths(in: doc) == [dotted(Self.limit - 1) + ".v"])
    }
}
