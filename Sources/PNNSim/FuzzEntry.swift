import Foundation
import PNNCore

/// Fuzzing entry point for the twin-state importers behind `--twin-state FILE`
/// (libFuzzer's `LLVMFuzzerTestOneInput` calls it from `Fuzz/PNNSimFuzz/main.swift`, built
/// by `make fuzz`; the unit tests call it on the seed corpus). Every input goes to both
/// importers, the crossbar's (`CrossbarPhysics(importing:)`) and the CLLN's
/// (`CLLNState.importJSON`). Traps (`precondition`) on any violated invariant:
///
/// 1. Any bytes are either a valid state or refused with the importer's typed error:
///    nothing else, never a trap, and no allocation beyond what the document's own arrays
///    imply (sizes are bounded before anything is allocated).
/// 2. An accepted state exports and imports back to the same export (crossbar) or the same
///    state (CLLN).
/// 3. An accepted state simulates: the crossbar measures one vector at half the read
///    voltage on every row, giving finite outputs within ±2·fullScale (every column clips
///    at ±fullScale); the CLLN network's free and clamped solves give finite node voltages
///    within the span of the voltages held on it (docs/protocol.md §14.2, no saturation).
public func pnnsimTwinStateFuzzOneInput(_ data: UnsafeRawBufferPointer) {
    let bytes = Data(data)
    TwinStateFuzzing.crossbar(bytes)
    TwinStateFuzzing.clln(bytes)
}

/// The two halves of ``pnnsimTwinStateFuzzOneInput(_:)``.
enum TwinStateFuzzing {
    static func crossbar(_ bytes: Data) {
        let physics: CrossbarPhysics
        do {
            physics = try CrossbarPhysics(importing: bytes)
        } catch {
            _ = error.description  // typed: CrossbarStateError, with a message
            return
        }
        let exported: Data
        do {
            exported = try physics.exportState()
        } catch {
            preconditionFailure("an imported crossbar state does not export: \(error)")
        }
        do {
            let again = try CrossbarPhysics(importing: exported).exportState()
            precondition(again == exported, "crossbar state export → import → export changed it")
        } catch {
            preconditionFailure("an exported crossbar state does not import: \(error)")
        }
        var twin = physics
        let c = twin.config
        let x = Matrix(rows: 1, cols: c.rows, storage: [Double](repeating: c.vReadMax / 2, count: c.rows))
        var flags: [Bool] = []
        let y = twin.forward(x, saturated: &flags)
        let bound = 2 * c.effectiveFullScale
        precondition(y.rows == 1 && y.cols == c.outputs && flags.count == c.outputs, "crossbar forward shape")
        for v in y.storage {
            precondition(v.isFinite && abs(v) <= bound * (1 + 1e-12), "crossbar output \(v) µA beyond ±2·fullScale \(bound)")
        }
    }

    static func clln(_ bytes: Data) {
        let state: CLLNState
        do {
            state = try CLLNState.importJSON(bytes)
        } catch {
            _ = error.description  // typed: CLLNError, with a message
            return
        }
        do {
            let again = try CLLNState.importJSON(state.exportJSON())
            precondition(again == state, "CLLN state export → import changed it")
        } catch {
            preconditionFailure("an exported CLLN state does not import: \(error)")
        }
        var network: CLLNNetwork
        do {
            network = try CLLNNetwork(state: state)
        } catch {
            preconditionFailure("a valid CLLN state does not build a network: \(error)")
        }
        let outputNodes = state.topology.outputs.flatMap { [$0.plus] + ($0.minus.map { [$0] } ?? []) }
        for (name, v) in [("free", network.solveFree()), ("clamped", network.solveClamped())] {
            precondition(v.count == state.topology.nodeCount, "\(name) solve shape")
            precondition(v.allSatisfy(\.isFinite), "\(name) solve gave a non-finite node voltage")
            // Held: the sources, and the outputs when the clamp holds them.
            let held = state.sources + outputNodes.map { v[$0] }
            let span = (held.min() ?? 0)...(held.max() ?? 0)
            for x in v { precondition(span.contains(x), "\(name) node voltage \(x) V outside the held span \(span)") }
        }
    }
}
