import Foundation
import Testing

@testable import PNNTOML

/// The fuzz target's invariants (parse or a TOMLError, deterministic, a written-back
/// document parses to itself) run in the test suite too, over the seed corpus and seeded
/// mutations of it; `make fuzz` explores further with libFuzzer and ASan.
@Suite struct TOMLFuzzEntryTests {
    static let corpus: [[UInt8]] = {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../Fuzz/corpus-toml")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.sorted().compactMap { try? [UInt8](Data(contentsOf: dir.appendingPathComponent($0))) }
    }()

    @Test func theSeedCorpusParsesAndRoundTrips() throws {
        #expect(Self.corpus.count >= 2)
        for seed in Self.corpus {
            #expect((try? TOML.parse(String(decoding: seed, as: UTF8.self))) != nil, "a seed must be valid TOML")
            seed.withUnsafeBytes { pnntomlFuzzOneInput($0) }
        }
    }

    @Test func mutationsKeepTheInvariants() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(max(n, 1)))
        }
        let alphabet = Array("=[]{}\"'.,#\n \\tfn0x_-+e:1".utf8)
        for round in 0..<4000 {
            var bytes = Self.corpus[round % Self.corpus.count]
            for _ in 0..<(1 + next(6)) where !bytes.isEmpty {
                let at = next(bytes.count)
                switch next(3) {
                case 0: bytes[at] = alphabet[next(alphabet.count)]
                case 1: bytes.insert(alphabet[next(alphabet.count)], at: at)
                default: bytes.remove(at: at)
                }
            }
            bytes.withUnsafeBytes { pnntomlFuzzOneInput($0) }
        }
    }

    @Test func theRoundTripEqualityTellsValuesApart() {
        #expect(TOMLFuzzing.same(.float(.nan), .float(.nan)))
        #expect(!TOMLFuzzing.same(.float(0), .float(-0.0)))
        #expect(!TOMLFuzzing.same(.table(["a": .integer(1)]), .table(["a": .integer(2)])))
        #expect(!TOMLFuzzing.same(.array([.string("x")]), .array([.string("x"), .string("x")])))
    }
}
