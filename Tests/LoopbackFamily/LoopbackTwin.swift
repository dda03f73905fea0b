import Foundation
import PNNCore

/// `sim:loopback`: the loopback physics in process, a `Substrate` without a link.
public actor LoopbackTwin: Substrate {
    public nonisolated let descriptor: SubstrateDescriptor
    private var physics: LoopbackPhysics

    public init(physics: LoopbackPhysics, seed: UInt64) {
        self.physics = physics
        descriptor = physics.geometry.substrateDescriptor(
            identity: DeviceIdentity(
                family: LoopbackFamily.family, model: "loopback-twin", serial: "sim-\(seed)", firmware: "twin-1"))
    }

    /// The hidden truth: the board's gain error and its lines, as JSON.
    public func exportState() throws -> Data {
        try JSONEncoder().encode(LoopbackTruth(gain: physics.gain, lines: physics.geometry.lines))
    }

    public func uncheckedProgram(_ targets: [Double]) async throws -> [Double] {
        physics.theta = targets[0]
        return [physics.theta]
    }

    public func readParameters() async throws -> [Double] { [physics.theta] }

    public func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix {
        physics.forward(inputs, theta: physics.theta, repeats: 1)
    }

    public nonisolated func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        let (stream, continuation) = AsyncThrowingStream<ProbeResult, any Error>.makeStream()
        let task = Task {
            for probe in probes {
                let outputs = await self.probe(probe)
                continuation.yield(ProbeResult(id: probe.id, outputs: outputs, measurementCount: probe.measurementCount))
            }
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    private func probe(_ p: Probe) -> Matrix {
        let theta = p.changes.last(where: { $0.index == 0 })?.value ?? physics.theta
        return physics.forward(p.inputs, theta: theta, repeats: p.repeats)
    }

    public func enterSafeState() async throws { physics.theta = physics.geometry.thetaMin }
}

/// The hidden truth of a loopback board (twin or emulator), as the calibration compares with.
public struct LoopbackTruth: Sendable, Codable, Equatable {
    /// The gain error g in y = g·θ·x.
    public var gain: Double
    public var lines: Int
}
