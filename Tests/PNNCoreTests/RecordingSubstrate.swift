import Foundation
import PNNCore

/// A test-only substrate that records every value it is sent and answers deterministically:
/// output row = [x₀ + 2x₁ + 3x₂, 10·x₀] for input row x, so order and content of the
/// reassembled outputs can be checked.
actor RecordingSubstrate: Substrate {
    nonisolated let descriptor: SubstrateDescriptor

    /// Every parameter vector received by `uncheckedProgram`.
    private(set) var programmed: [[Double]] = []
    /// Every input batch received by `uncheckedMeasure`, in call order.
    private(set) var measured: [Matrix] = []
    private(set) var safeStateEntries = 0
    private var parameters: [Double]
    private nonisolated let streamLog = StreamLog()

    init(descriptor: SubstrateDescriptor) {
        self.descriptor = descriptor
        self.parameters = Array(repeating: 0, count: descriptor.parameters.count)
    }

    /// Every probe list received by `uncheckedStream`, recorded synchronously on receipt.
    nonisolated var streamed: [[Probe]] { streamLog.all }

    /// Whether the device received anything at all.
    var receivedNothing: Bool { programmed.isEmpty && measured.isEmpty && streamed.isEmpty }

    static func respond(to inputs: Matrix) -> Matrix {
        Matrix(
            rows: inputs.rows, cols: 2,
            storage: (0..<inputs.rows).flatMap { r in
                [inputs[r, 0] + 2 * inputs[r, 1] + 3 * inputs[r, 2], 10 * inputs[r, 0]]
            })
    }

    func uncheckedProgram(_ targets: [Double]) async throws -> [Double] {
        programmed.append(targets)
        parameters = targets
        return targets
    }

    func readParameters() async throws -> [Double] { parameters }

    func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix {
        measured.append(inputs)
        return Self.respond(to: inputs)
    }

    nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        streamLog.append(probes)
        return AsyncThrowingStream { continuation in
            for probe in probes {
                continuation.yield(
                    ProbeResult(id: probe.id, outputs: Self.respond(to: probe.inputs), measurementCount: probe.measurementCount))
            }
            continuation.finish()
        }
    }

    func enterSafeState() async throws { safeStateEntries += 1 }
}

/// Lock-protected record of streamed probes (written from a nonisolated, synchronous call).
final class StreamLog: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [[Probe]] = []

    func append(_ probes: [Probe]) {
        lock.lock()
        defer { lock.unlock() }
        entries.append(probes)
    }

    var all: [[Probe]] {
        lock.lock()
        defer { lock.unlock() }
        return entries
    }
}
