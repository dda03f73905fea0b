import Foundation

/// Fuzzing entry point for the TOML reader (libFuzzer's `LLVMFuzzerTestOneInput` calls it
/// from `Fuzz/PNNTOMLFuzz/main.swift`, built by `make fuzz`; the unit tests call it too).
/// Traps (`precondition`) on any violated invariant:
///
/// 1. Any bytes, decoded as UTF-8 (invalid sequences replaced), either parse or throw a
///    ``TOMLError``: nothing else, never a trap, at the default nesting limit.
/// 2. Parsing is deterministic: the same text gives the same document or the same error.
/// 3. A parsed document, written back as TOML (`key = inline value` per top-level key, the
///    inline syntax of ``TOMLValue/description``), parses to the same document (NaN equal
///    to NaN): strings, escapes, keys, numbers and nesting survive a round trip.
public func pnntomlFuzzOneInput(_ data: UnsafeRawBufferPointer) {
    let text = String(decoding: data, as: UTF8.self)
    let first: Result<[String: TOMLValue], TOMLError>
    do {
        first = .success(try TOML.parse(text))
    } catch {
        first = .failure(error)
    }
    let second: Result<[String: TOMLValue], TOMLError>
    do {
        second = .success(try TOML.parse(text))
    } catch {
        second = .failure(error)
    }
    switch (first, second) {
    case (.success(let a), .success(let b)):
        precondition(TOMLFuzzing.same(.table(a), .table(b)), "parsing is not deterministic")
        let written = a.keys.sorted().map { "\(TOMLSyntax.key($0)) = \(a[$0]!.description)" }.joined(separator: "\n")
        let again: [String: TOMLValue]
        do {
            again = try TOML.parse(written, maxDepth: 4 * TOML.maxNestingDepth)
        } catch {
            preconditionFailure("a parsed document written back does not parse: \(error)\n\(written)")
        }
        precondition(TOMLFuzzing.same(.table(a), .table(again)), "round trip changed the document:\n\(written)")
    case (.failure(let a), .failure(let b)):
        precondition(a.description == b.description, "parsing is not deterministic")
    default:
        preconditionFailure("parsing is not deterministic")
    }
}

/// Helpers of ``pnntomlFuzzOneInput(_:)``.
enum TOMLFuzzing {
    /// Structural equality with NaN equal to NaN and 0.0 distinct from -0.0 only by sign.
    static func same(_ a: TOMLValue, _ b: TOMLValue) -> Bool {
        switch (a, b) {
        case (.float(let x), .float(let y)): return (x.isNaN && y.isNaN) || x.bitPattern == y.bitPattern
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.table(let x), .table(let y)):
            return x.count == y.count && x.allSatisfy { k, v in y[k].map { same(v, $0) } ?? false }
        default: return a == b
        }
    }
}
