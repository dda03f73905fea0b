import PNNTOML
import Testing

/// A `[trainer]` table like pnnlab's: snake_case keys, optionals, an enum that lists its cases.
private struct Trainer: Decodable, Equatable {
    enum Solver: String, Decodable, CaseIterable { case damped, svd }

    var epochs: Int?
    var batchSize: Int = 32
    var learningRate: Double?
    var solver: Solver = .damped
    var gains: [Double] = []

    enum CodingKeys: String, CodingKey {
        case epochs, solver, gains
        case batchSize = "batch_size"
        case learningRate = "learning_rate"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        epochs = try c.decodeIfPresent(Int.self, forKey: .epochs)
        learningRate = try c.decodeIfPresent(Double.self, forKey: .learningRate)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? batchSize
        solver = try c.decodeIfPresent(Solver.self, forKey: .solver) ?? solver
        gains = try c.decodeIfPresent([Double].self, forKey: .gains) ?? gains
    }
}

/// Decode `T` from `text` as the table `[trainer]` of run.toml; the error message as the CLI prints it.
private func failure<T: Decodable>(_ type: T.Type, _ text: String, decoder: TOMLDecoder = TOMLDecoder()) -> String? {
    do {
        let table = try TOML.parse(text)
        _ = try decoder.decode(type, from: table, codingPath: ["trainer"])
        return nil
    } catch let error as TOMLDecodingError {
        return error.describe(file: "run.toml")
    } catch {
        return "unexpected \(error)"
    }
}

private func decoded<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try TOMLDecoder().decode(type, from: try TOML.parse(text), codingPath: ["trainer"])
}

@Suite("TOML decoder: plain-words checks")
struct TOMLDecoderChecksTests {
    // MARK: Kinds

    @Test(arguments: [
        ("epochs = 2.5", "run.toml: trainer.epochs must be a whole number, got 2.5"),
        ("epochs = 2.0", "run.toml: trainer.epochs must be a whole number written without a decimal point, got 2.0"),
        ("epochs = \"ten\"", #"run.toml: trainer.epochs must be a whole number, got "ten""#),
        ("learning_rate = \"fast\"", #"run.toml: trainer.learning_rate must be a number, got "fast""#),
        ("gains = 3", "run.toml: trainer.gains must be an array [ … ], got 3"),
        ("gains = [1, true]", "run.toml: trainer.gains[1] must be a number, got true"),
        ("epochs = [1, 2]", "run.toml: trainer.epochs must be a whole number, got [1, 2]"),
        ("epochs = { n = 1 }", "run.toml: trainer.epochs must be a whole number, got { n = 1 }"),
    ])
    func wrongKindsAreNamedInPlainWords(text: String, expected: String) {
        #expect(failure(Trainer.self, text) == expected)
    }

    @Test func aLongValueIsShownByItsKind() {
        let long = "epochs = [" + Array(repeating: "1000", count: 20).joined(separator: ", ") + "]"
        #expect(failure(Trainer.self, long) == "run.toml: trainer.epochs must be a whole number, got an array")
    }

    @Test func anEnumThatListsItsCasesSaysWhichAreAllowed() {
        #expect(
            failure(Trainer.self, "solver = \"magic\"")
                == #"run.toml: trainer.solver must be one of "damped" or "svd", got "magic""#)
        #expect(
            failure(Trainer.self, "solver = 5") == #"run.toml: trainer.solver must be one of "damped" or "svd", got 5"#)
    }

    @Test func anEnumThatDoesNotListItsCasesIsStillNamed() {
        enum Mode: String, Decodable { case fast, slow }
        struct Run: Decodable { var mode: Mode }
        #expect(failure(Run.self, "mode = \"medium\"") == #"run.toml: trainer.mode = "medium" is not a valid value"#)
    }

    // MARK: Non-finite numbers

    @Test(arguments: [
        ("learning_rate = nan", "run.toml: trainer.learning_rate must be a finite number, got nan"),
        ("learning_rate = inf", "run.toml: trainer.learning_rate must be a finite number, got inf"),
        ("learning_rate = -inf", "run.toml: trainer.learning_rate must be a finite number, got -inf"),
        ("gains = [1.0, +inf]", "run.toml: trainer.gains[1] must be a finite number, got inf"),
    ])
    func nonFiniteNumbersAreRefusedByDefault(text: String, expected: String) {
        #expect(failure(Trainer.self, text) == expected)
    }

    @Test func aFloatFieldRefusesNonFiniteToo() {
        struct Run: Decodable { var gain: Float }
        #expect(failure(Run.self, "gain = nan") == "run.toml: trainer.gain must be a finite number, got nan")
        #expect(
            failure(Run.self, "gain = 1e300") == "run.toml: trainer.gain = 1e+300 is too large (at most 3.4028234663852886e+38)")
    }

    /// A type whose `timeout_s` may be `inf` ("never"), with a list of limits that may be too.
    private struct Watchdog: Decodable {
        struct Inner: Decodable { var x: Double }
        var timeout: Double
        var limits: [Double]?
        var inner: Inner?
        var rate: Double?

        enum CodingKeys: String, CodingKey, TOMLCheckedKey {
            case limits, inner, rate
            case timeout = "timeout_s"
            var allowsNonFinite: Bool { self == .timeout || self == .limits || self == .inner }
        }
    }

    @Test func aKeyMayAllowNonFiniteNumbers() throws {
        let w = try decoded(Watchdog.self, "timeout_s = inf\nlimits = [1.0, -inf, nan]\n")
        #expect(w.timeout == .infinity)
        let limits = try #require(w.limits)
        #expect(limits.count == 3 && limits[1] == -.infinity && limits[2].isNaN)
        // Only the keys that say so: not a sibling, and not the fields of a table under the key.
        #expect(failure(Watchdog.self, "timeout_s = 1\nrate = nan") == "run.toml: trainer.rate must be a finite number, got nan")
        #expect(
            failure(Watchdog.self, "timeout_s = 1\ninner = { x = inf }")
                == "run.toml: trainer.inner.x must be a finite number, got inf")
    }

    @Test func theDecoderMayAllowNonFiniteNumbersEverywhere() throws {
        var decoder = TOMLDecoder()
        decoder.allowsNonFiniteNumbers = true
        let t = try decoder.decode(Trainer.self, from: try TOML.parse("learning_rate = nan\ngains = [inf]\n"))
        #expect(t.learningRate?.isNaN == true && t.gains == [.infinity])
    }

    // MARK: Ranges

    @Test(arguments: [
        ("a = 9223372036854775807", "run.toml: trainer.a = 9223372036854775807 is too large (at most 2147483647)"),
        ("a = -2147483649", "run.toml: trainer.a = -2147483649 is too small (at least -2147483648)"),
        ("b = -1", "run.toml: trainer.b must not be negative, got -1"),
        ("c = 300", "run.toml: trainer.c = 300 is too large (at most 255)"),
        ("c = -200", "run.toml: trainer.c must not be negative, got -200"),
        ("d = -129", "run.toml: trainer.d = -129 is too small (at least -128)"),
    ])
    func integersThatDoNotFitTheirTypeAreNamed(text: String, expected: String) {
        struct Sizes: Decodable {
            var a: Int32?
            var b: UInt?
            var c: UInt8?
            var d: Int8?
        }
        #expect(failure(Sizes.self, text) == expected)
    }

    /// Keys that state their ranges, as a config type can for physical limits.
    private struct Bounded: Decodable {
        var epochs: Int?
        var fraction: Double?
        var offsets: [Int]?

        enum CodingKeys: String, CodingKey, TOMLCheckedKey {
            case epochs, fraction, offsets
            var numberRange: ClosedRange<Double>? {
                switch self {
                case .epochs: return 1...100_000
                case .fraction: return 0...0.5
                case .offsets: return -10...10
                }
            }
        }
    }

    @Test(arguments: [
        ("epochs = 9223372036854775807", "run.toml: trainer.epochs = 9223372036854775807 is too large (at most 100000)"),
        ("epochs = 0", "run.toml: trainer.epochs = 0 is too small (at least 1)"),
        ("epochs = -5", "run.toml: trainer.epochs = -5 is too small (at least 1)"),
        ("fraction = 0.75", "run.toml: trainer.fraction = 0.75 is too large (at most 0.5)"),
        ("fraction = -1e-9", "run.toml: trainer.fraction must not be negative, got -1e-09"),
        ("offsets = [0, 11]", "run.toml: trainer.offsets[1] = 11 is too large (at most 10)"),
    ])
    func keysMayStateTheirRange(text: String, expected: String) {
        #expect(failure(Bounded.self, text) == expected)
    }

    @Test func valuesInsideTheStatedRangePass() throws {
        let b = try decoded(Bounded.self, "epochs = 100000\nfraction = 0.5\noffsets = [-10, 10]\n")
        #expect(b.epochs == 100_000 && b.fraction == 0.5 && b.offsets == [-10, 10])
    }

    // MARK: Unknown keys

    @Test func unknownKeysAreRefusedWithASuggestion() {
        #expect(
            failure(Trainer.self, "batch_sise = 8")
                == "run.toml: unknown key trainer.batch_sise (did you mean batch_size?)")
        #expect(failure(Trainer.self, "colour = 1") == "run.toml: unknown key trainer.colour")
        // A swap of two letters is one edit.
        #expect(failure(Trainer.self, "sovler = \"svd\"") == "run.toml: unknown key trainer.sovler (did you mean solver?)")
        // Sub-tables count: their keys are unknown too.
        #expect(failure(Trainer.self, "[jacobian]\nscheme = 1") == "run.toml: unknown key trainer.jacobian")
    }

    @Test func keysAskedForButAbsentAreKnownForSuggestions() {
        // `epochs` is absent from the file but the type asked for it.
        #expect(failure(Trainer.self, "epoch = 3") == "run.toml: unknown key trainer.epoch (did you mean epochs?)")
    }

    @Test func aKeyAlreadyPresentIsNotSuggested() {
        #expect(failure(Trainer.self, "batch_size = 8\nbatch_sise = 8") == "run.toml: unknown key trainer.batch_sise")
    }

    @Test func caseIterableCodingKeysAreSuggestedEvenIfNotAskedFor() {
        struct Lazy: Decodable {
            enum CodingKeys: String, CodingKey, CaseIterable { case rows, outputs }
            var rows: Int
            init(from decoder: any Decoder) throws {
                let c = try decoder.container(keyedBy: CodingKeys.self)
                rows = try c.decode(Int.self, forKey: .rows)
            }
        }
        #expect(failure(Lazy.self, "rows = 1\noutptus = 2") == "run.toml: unknown key trainer.outptus (did you mean outputs?)")
    }

    @Test func unknownKeysInArraysOfTablesNameTheElement() {
        struct Model: Decodable {
            struct Layer: Decodable { var width: Int }
            var layers: [Layer]
        }
        let text = "[[layers]]\nwidth = 3\n[[layers]]\nwidht = 4\nwidth = 2\n"
        #expect(failure(Model.self, text) == "run.toml: unknown key trainer.layers[1].widht")
        #expect(
            failure(Model.self, "[[layers]]\nwidth = 3\n[[layers]]\nwidht = 4\n")
                == "run.toml: missing key trainer.layers[1].width")
    }

    @Test func unknownKeysMayBeIgnored() throws {
        var decoder = TOMLDecoder()
        decoder.rejectsUnknownKeys = false
        #expect(failure(Trainer.self, "batch_sise = 8\nepochs = 3", decoder: decoder) == nil)
    }

    @Test func dictionariesAndFreeFormValuesTakeAllTheirKeys() throws {
        struct Free: Decodable {
            var gains: [String: Double]
            var extra: TOMLValue
        }
        let text = "[gains]\nanything = 1\n[extra]\nwhatever = { deep = [1, 2] }\n"
        let free = try TOMLDecoder().decode(Free.self, from: text)
        #expect(free.gains == ["anything": 1])
        #expect(free.extra["whatever"]?["deep"] == .array([.integer(1), .integer(2)]))
    }

    @Test func typeErrorsComeBeforeUnknownKeysOfLaterTables() {
        // Decoding stops at the first wrong value; unknown keys are checked once decoding is done.
        #expect(
            failure(Trainer.self, "batch_sise = 8\nepochs = 2.5") == "run.toml: trainer.epochs must be a whole number, got 2.5")
    }

    // MARK: Other shapes

    @Test func tooFewArrayElementsAreNamed() {
        struct Point: Decodable {
            var x, y, z: Double
            init(from decoder: any Decoder) throws {
                var c = try decoder.unkeyedContainer()
                x = try c.decode(Double.self)
                y = try c.decode(Double.self)
                z = try c.decode(Double.self)
            }
        }
        struct Shape: Decodable { var corner: Point }
        #expect(failure(Shape.self, "corner = [1, 2]") == "run.toml: trainer.corner has only 2 elements, more are needed")
    }

    @Test func aDocumentThatIsNotATableIsNamed() {
        struct One: Decodable { var a: Int }
        #expect(throws: TOMLDecodingError.wrongType(path: "", expected: "a table", found: "3")) {
            try TOMLDecoder().decode(One.self, from: .integer(3))
        }
        #expect(
            TOMLDecodingError.wrongType(path: "", expected: "a table", found: "3").description
                == "the document must be a table, got 3")
    }

    @Test func aTypesOwnMessageIsKeptWithThePathAndValue() {
        struct Span: Decodable {
            var low, high: Double
            init(from decoder: any Decoder) throws {
                var c = try decoder.unkeyedContainer()
                low = try c.decode(Double.self)
                high = try c.decode(Double.self)
                guard low <= high else {
                    throw DecodingError.dataCorrupted(
                        .init(codingPath: decoder.codingPath, debugDescription: "the low end is above the high end"))
                }
            }
        }
        struct Window: Decodable { var span: Span }
        #expect(
            failure(Window.self, "span = [5, 1]")
                == "run.toml: trainer.span = [5, 1] is not valid: the low end is above the high end")
    }

    @Test func aTypeThatCatchesDecodingErrorsStillWorks() throws {
        /// A count written as a number or as a numeric string.
        struct Count: Decodable {
            var n: Int
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                do {
                    n = try c.decode(Int.self)
                } catch DecodingError.typeMismatch {
                    n = Int(try c.decode(String.self)) ?? -1
                }
            }
        }
        struct Run: Decodable { var count: Count }
        #expect(try decoded(Run.self, "count = \"12\"").count.n == 12)
        #expect(try decoded(Run.self, "count = 12").count.n == 12)
    }

    @Test func errorsThatAreNotDecodingErrorsAreKept() {
        struct Refusal: Error, CustomStringConvertible { var description: String { "rows must be odd" } }
        struct Odd: Decodable {
            init(from decoder: any Decoder) throws { throw Refusal() }
        }
        #expect(failure(Odd.self, "x = 1") == "run.toml: trainer is not valid: rows must be odd")
    }
}
