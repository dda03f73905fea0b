import PNNTOML
import Testing

@Suite("TOML documents: keys and tables")
struct TOMLDocumentTests {
    @Test func theExampleRunFileParses() throws {
        let doc = try TOML.parse(
            """
            # comment
            epochs = 30
            learning_rate = 0.5
            method = "gauss-newton"
            [twin]
            rows = 5
            read_noise = 0.02
            dead_columns = [1, 4]
            exact_read_noise = false
            [trainer.jacobian]
            scheme = "central"
            """)
        #expect(doc["epochs"] == .integer(30))
        #expect(doc["learning_rate"] == .float(0.5))
        #expect(doc["method"] == .string("gauss-newton"))
        #expect(
            doc["twin"]
                == .table([
                    "rows": .integer(5), "read_noise": .float(0.02), "dead_columns": .array([.integer(1), .integer(4)]),
                    "exact_read_noise": .bool(false),
                ]))
        #expect(doc["trainer"] == .table(["jacobian": .table(["scheme": .string("central")])]))
    }

    @Test func commentsAndBlankLinesAreIgnoredEverywhere() throws {
        let doc = try TOML.parse(
            "\n  # lead\n\na = 1 # trailing\n\t\n[t] # header comment\n  b = 2  \r\nc = \"# not a comment\"\n")
        #expect(doc == ["a": .integer(1), "t": .table(["b": .integer(2), "c": .string("# not a comment")])])
    }

    @Test func emptyDocumentIsAnEmptyTable() throws {
        #expect(try TOML.parse("").isEmpty)
        #expect(try TOML.parse("# only a comment").isEmpty)
        #expect(try TOML.parse("\u{FEFF}a = 1") == ["a": .integer(1)])
    }

    @Test func bareAndQuotedKeys() throws {
        let doc = try TOML.parse(
            """
            bare_key-1 = 1
            1234 = 2
            "quoted key" = 3
            'literal "key"' = 4
            "ünï" = 5
            "" = 6
            "a.b" = 7
            """)
        #expect(doc["bare_key-1"] == .integer(1))
        #expect(doc["1234"] == .integer(2))
        #expect(doc["quoted key"] == .integer(3))
        #expect(doc["literal \"key\""] == .integer(4))
        #expect(doc["ünï"] == .integer(5))
        #expect(doc[""] == .integer(6))
        #expect(doc["a.b"] == .integer(7))
        #expect(doc["a"] == nil)
    }

    @Test func dottedKeysCreateNestedTables() throws {
        let doc = try TOML.parse(
            """
            a.b = 1
            a . c = 2
            a."d.e".f = 3
            3.14 = "pi"
            [t]
            x.y = true
            """)
        #expect(
            doc["a"] == .table(["b": .integer(1), "c": .integer(2), "d.e": .table(["f": .integer(3)])]))
        #expect(doc["3"] == .table(["14": .string("pi")]))
        #expect(doc["t"] == .table(["x": .table(["y": .bool(true)])]))
    }

    @Test func tableHeadersNestAndMayComeInAnyOrder() throws {
        let doc = try TOML.parse(
            """
            [a.b.c]
            x = 1
            [a]
            y = 2
            [ a . "q r" ]
            z = 3
            [a.b]
            w = 4
            """)
        #expect(
            doc["a"]
                == .table([
                    "y": .integer(2), "q r": .table(["z": .integer(3)]),
                    "b": .table(["w": .integer(4), "c": .table(["x": .integer(1)])]),
                ]))
    }

    @Test func subTablesMayExtendTablesMadeByDottedKeys() throws {
        let doc = try TOML.parse("[fruit]\napple.color = \"red\"\n[fruit.apple.texture]\nsmooth = true\n")
        #expect(
            doc["fruit"]
                == .table(["apple": .table(["color": .string("red"), "texture": .table(["smooth": .bool(true)])])]))
    }

    @Test func arraysOfTables() throws {
        let doc = try TOML.parse(
            """
            [[layers]]
            width = 8
            [layers.init]
            scale = 0.5
            [[layers]]
            width = 3
            [[layers.taps]]
            k = 1
            [[layers.taps]]
            k = 2
            [[empty]]
            """)
        #expect(
            doc["layers"]
                == .array([
                    .table(["width": .integer(8), "init": .table(["scale": .float(0.5)])]),
                    .table([
                        "width": .integer(3),
                        "taps": .array([.table(["k": .integer(1)]), .table(["k": .integer(2)])]),
                    ]),
                ]))
        #expect(doc["empty"] == .array([.table([:])]))
    }

    @Test func inlineTables() throws {
        let doc = try TOML.parse(
            """
            point = { x = 1, y = "two", z.w = 3 }
            empty = {}
            nested = { a = { b = [1, 2] } }
            spread = {
                a = 1, # comment
                b = 2,
            }
            list = [{ k = 1 }, { k = 2 }]
            """)
        #expect(doc["point"] == .table(["x": .integer(1), "y": .string("two"), "z": .table(["w": .integer(3)])]))
        #expect(doc["empty"] == .table([:]))
        #expect(doc["nested"] == .table(["a": .table(["b": .array([.integer(1), .integer(2)])])]))
        #expect(doc["spread"] == .table(["a": .integer(1), "b": .integer(2)]))
        #expect(doc["list"] == .array([.table(["k": .integer(1)]), .table(["k": .integer(2)])]))
    }

    @Test func keyPathsListEveryLeafForUnknownKeyChecks() throws {
        let doc = try TOML.parse(
            """
            epochs = 3
            "odd key" = 1
            [twin]
            rows = 5
            dead_columns = [1, 4]
            [trainer.jacobian]
            scheme = "central"
            [[layers]]
            width = 8
            [[layers]]
            width = 3
            bias = true
            [empty]
            """)
        #expect(
            TOML.keyPaths(in: doc) == [
                "\"odd key\"", "epochs", "layers.bias", "layers.width", "trainer.jacobian.scheme", "twin.dead_columns",
                "twin.rows",
            ])
        let allowed: Set = ["epochs", "twin.rows", "twin.dead_columns", "trainer.jacobian.scheme", "layers.width"]
        #expect(TOML.unknownKeys(in: doc, allowed: allowed) == ["\"odd key\"", "layers.bias"])
    }
}
