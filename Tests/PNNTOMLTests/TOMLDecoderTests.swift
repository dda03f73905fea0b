import PNNTOML
import Testing

/// A run file shaped like pnnlab's: snake_case keys mapped by CodingKeys, optionals,
/// arrays, a nested table and an array of tables.
private struct RunFile: Decodable, Equatable {
    struct Twin: Decodable, Equatable {
        var rows: Int
        var readNoise: Double
        var deadColumns: [Int]
        var exactReadNoise: Bool?
        var gain: Float?

        enum CodingKeys: String, CodingKey {
            case rows, gain
            case readNoise = "read_noise"
            case deadColumns = "dead_columns"
            case exactReadNoise = "exact_read_noise"
        }
    }

    struct Layer: Decodable, Equatable {
        var width: UInt8
        var tags: [String]?
    }

    enum Method: String, Decodable { case gaussNewton = "gauss-newton", spsa }

    var epochs: Int64
    var learningRate: Double
    var method: Method
    var seed: UInt64?
    var twin: Twin
    var layers: [Layer]
    var note: String?

    enum CodingKeys: String, CodingKey {
        case epochs, method, seed, twin, layers, note
        case learningRate = "learning_rate"
    }
}

/// The message of a decoding error.
private func message(_ error: TOMLDecodingError) -> String { error.description }

@Suite("TOML decoder")
struct TOMLDecoderTests {
    @Test func decodesANestedStructWithOptionalsAndArrays() throws {
        let run = try TOMLDecoder().decode(
            RunFile.self,
            from: """
                epochs = 30
                learning_rate = 1   # an integer is a fine Double
                method = "gauss-newton"
                [twin]
                rows = 5
                read_noise = 0.02
                dead_columns = [1, 4]
                gain = 2.5
                [[layers]]
                width = 8
                tags = ["in"]
                [[layers]]
                width = 3
                """)
        let expected = RunFile(
            epochs: 30, learningRate: 1, method: .gaussNewton, seed: nil,
            twin: .init(rows: 5, readNoise: 0.02, deadColumns: [1, 4], exactReadNoise: nil, gain: 2.5),
            layers: [.init(width: 8, tags: ["in"]), .init(width: 3, tags: nil)], note: nil)
        #expect(run == expected)
    }

    @Test func wrongTypeNamesTheKeyPath() throws {
        let text =
            "epochs = 1\nlearning_rate = 0.1\nmethod = \"spsa\"\nlayers = []\n[twin]\nrows = \"five\"\nread_noise = 0\ndead_columns = []\n"
        let error = try #require(throws: TOMLDecodingError.self) { try TOMLDecoder().decode(RunFile.self, from: text) }
        #expect(message(error) == #"twin.rows must be a whole number, got "five""#)
        #expect(error == .wrongType(path: "twin.rows", expected: "a whole number", found: #""five""#))
        #expect("\(error)".contains("twin.rows"))
    }

    @Test func errorsInsideArraysNameTheIndex() throws {
        let text =
            "epochs = 1\nlearning_rate = 0.1\nmethod = \"spsa\"\n[twin]\nrows = 1\nread_noise = 0\ndead_columns = [1, 2.5]\n"
        let error = try #require(throws: TOMLDecodingError.self) { try TOMLDecoder().decode(RunFile.self, from: text) }
        #expect(message(error) == "twin.dead_columns[1] must be a whole number, got 2.5")
    }

    @Test func outOfRangeIntegersAreReported() throws {
        let text =
            "epochs = 1\nlearning_rate = 0.1\nmethod = \"spsa\"\n[[layers]]\nwidth = 300\n[twin]\nrows = 1\nread_noise = 0\ndead_columns = []\n"
        let error = try #require(throws: TOMLDecodingError.self) { try TOMLDecoder().decode(RunFile.self, from: text) }
        #expect(message(error) == "layers[0].width = 300 is too large (at most 255)")
    }

    @Test func missingRequiredKeyIsNamed() throws {
        let text = "epochs = 1\nlearning_rate = 0.1\nmethod = \"spsa\"\nlayers = []\n[twin]\nread_noise = 0\ndead_columns = []\n"
        let error = try #require(throws: TOMLDecodingError.self) { try TOMLDecoder().decode(RunFile.self, from: text) }
        #expect(message(error) == "missing key twin.rows")
    }

    @Test func tableWhereAValueBelongsIsNamed() throws {
        let text = "epochs = 1\nlearning_rate = 0.1\nmethod = \"spsa\"\nlayers = []\ntwin = 3\n"
        let error = try #require(throws: TOMLDecodingError.self) { try TOMLDecoder().decode(RunFile.self, from: text) }
        #expect(message(error) == "twin must be a table, got 3")
    }

    @Test func numericConversions() throws {
        let d = TOMLDecoder()
        #expect(try d.decode(Int.self, from: .integer(-4)) == -4)
        #expect(try d.decode(UInt64.self, from: .integer(Int64.max)) == UInt64(Int64.max))
        #expect(try d.decode(Double.self, from: .integer(3)) == 3)
        #expect(try d.decode(Float.self, from: .float(0.25)) == 0.25)
        #expect(throws: TOMLDecodingError.self) { try d.decode(Int.self, from: .float(2.0)) }
        #expect(throws: TOMLDecodingError.self) { try d.decode(UInt.self, from: .integer(-1)) }
        #expect(throws: TOMLDecodingError.self) { try d.decode(Double.self, from: .string("1.0")) }
        #expect(throws: TOMLDecodingError.self) { try d.decode(Bool.self, from: .integer(1)) }
        #expect(throws: TOMLDecodingError.self) { try d.decode(Float.self, from: .float(1e300)) }
        #expect(throws: TOMLDecodingError.self) { try d.decode(Float.self, from: .float(.infinity)) }
        var lenient = TOMLDecoder()
        lenient.allowsNonFiniteNumbers = true
        #expect(try lenient.decode(Float.self, from: .float(.infinity)) == .infinity)
    }

    @Test func subTablesDecodeWithTheirPathInMessages() throws {
        let doc = try TOML.parse("[twin]\nrows = true\nread_noise = 0\ndead_columns = []\n")
        let twin = try #require(doc["twin"]?.tableValue)
        let error = try #require(throws: TOMLDecodingError.self) {
            try TOMLDecoder().decode(RunFile.Twin.self, from: twin, codingPath: ["twin"])
        }
        #expect(message(error) == "twin.rows must be a whole number, got true")
    }

    @Test func dictionariesAndFreeFormValues() throws {
        let doc = "[gains]\na = 1.5\nb = 2\n[extra]\nanything = [1, \"x\"]\n"
        struct Free: Decodable {
            var gains: [String: Double]
            var extra: [String: TOMLValue]
        }
        let free = try TOMLDecoder().decode(Free.self, from: doc)
        #expect(free.gains == ["a": 1.5, "b": 2])
        #expect(free.extra == ["anything": .array([.integer(1), .string("x")])])
    }

    @Test func syntaxErrorsPassThroughAsTOMLErrors() throws {
        let error = try #require(throws: TOMLDecodingError.self) {
            try TOMLDecoder().decode([String: Int].self, from: "a = = 1")
        }
        guard case .syntax(let syntax) = error else {
            Issue.record("not a syntax error: \(error)")
            return
        }
        #expect(syntax.line == 1 && syntax.column == 5)
        #expect(error.describe(file: "run.toml") == "run.toml:1:5: expected a value for key \"a\", found '='")
    }
}
