import Foundation
import PNNCore
import Testing

@testable import PNNSim

/// The twin-state fuzz entry (`pnnsimTwinStateFuzzOneInput`, run by `make fuzz` as the
/// `twin-state` target) on its seed corpus, Fuzz/corpus-twin-state/, and on mutations of it.
@Suite struct TwinStateFuzzEntryTests {
    static let corpus: [(name: String, bytes: [UInt8])] = {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "../../Fuzz/corpus-twin-state")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.sorted().compactMap { name in
            (try? Data(contentsOf: dir.appendingPathComponent(name))).map { (name, [UInt8]($0)) }
        }
    }()

    @Test func everySeedIsAValidStateAndKeepsTheInvariants() throws {
        #expect(Self.corpus.count >= 6)
        for (name, seed) in Self.corpus {
            let data = Data(seed)
            if name.hasPrefix("crossbar") {
                #expect(throws: Never.self, "\(name)") { _ = try CrossbarPhysics(importing: data) }
            } else {
                #expect(throws: Never.self, "\(name)") { _ = try CLLNState.importJSON(data) }
            }
            seed.withUnsafeBytes { pnnsimTwinStateFuzzOneInput($0) }
        }
    }

    @Test func mutationsKeepTheInvariants() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(max(n, 1)))
        }
        let alphabet = Array("0123456789.-+eE[]{},:\"trufalsn ".utf8)
        for round in 0..<600 {
            var bytes = Self.corpus[round % Self.corpus.count].bytes
            for _ in 0..<(1 + next(4)) where !bytes.isEmpty {
                let at = next(bytes.count)
                switch next(3) {
                case 0: bytes[at] = alphabet[next(alphabet.count)]
                case 1: bytes.insert(alphabet[next(alphabet.count)], at: at)
                default: bytes.remove(at: at)
                }
            }
            bytes.withUnsafeBytes { pnnsimTwinStateFuzzOneInput($0) }
        }
        for empty in [[UInt8](), Array("{}".utf8), Array("null".utf8), [0xFF, 0xFE]] {
            empty.withUnsafeBytes { pnnsimTwinStateFuzzOneInput($0) }
        }
    }

    /// Numbers swapped for hostile magnitudes at every numeric position of each seed: each
    /// document is refused or accepted, never a trap (the sizes and magnitudes of issue 11).
    @Test func hostileNumbersAreRefusedOrSimulated() {
        let hostile = ["1e300", "-1e300", "4611686018427387904", "-1", "0", "1e-300", "1000001", "9007199254740993"]
        for (_, seed) in Self.corpus {
            let text = String(decoding: seed, as: UTF8.self)
            let numbers = text.ranges(of: /-?[0-9][0-9.eE+-]*/)
            for (k, range) in numbers.enumerated() where k % 7 == 0 {
                for value in hostile {
                    var edited = text
                    edited.replaceSubrange(range, with: value)
                    Array(edited.utf8).withUnsafeBytes { pnnsimTwinStateFuzzOneInput($0) }
                }
            }
        }
    }
}
