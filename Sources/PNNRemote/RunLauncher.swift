import Foundation
import PNNCore

/// What `StartRun` asks: the options of `pnnlab train`, for a device the server serves.
public struct RunStartRequest: Sendable, Equatable {
    /// The served device's NAME.
    public var device: String
    public var task: String
    public var method: String?
    public var epochs: Int?
    public var seed: UInt64?
    /// A `--config` file's TOML text ([trainer], [twin]).
    public var configTOML: String?
    public var jacobianRefresh: Int?
    /// Who asked (recorded as the lease holder while the run trains).
    public var holder: String

    public init(
        device: String, task: String, method: String? = nil, epochs: Int? = nil, seed: UInt64? = nil,
        configTOML: String? = nil, jacobianRefresh: Int? = nil, holder: String = ""
    ) {
        self.device = device
        self.task = task
        self.method = method
        self.epochs = epochs
        self.seed = seed
        self.configTOML = configTOML
        self.jacobianRefresh = jacobianRefresh
        self.holder = holder
    }
}

/// Trains runs in the server process for `StartRun`, `PauseRun` and `ResumeRun`. PNNRemote
/// does not train; `pnnlab serve` supplies the launcher (the same code path as `pnnlab train`).
public protocol RunLauncher: Sendable {
    /// Records a new run on `device` and starts training it; returns its id once the run is
    /// recorded and its first parameters programmed.
    func start(_ request: RunStartRequest, on device: ServedDevice) async throws -> Int64
    /// Pauses run `run` at its next step boundary (device left safe, run checkpointed, status
    /// paused); returns once it has paused.
    func pause(run: Int64) async throws
    /// Continues run `run` from its last committed step on one of `devices`; returns once
    /// training has resumed.
    func resume(run: Int64, epochs: Int?, devices: [ServedDevice]) async throws
}

extension ServedDevice {
    /// This device as a substrate whose every operation goes through the device's actor (in
    /// turn with the clients' calls), for training inside the server. It takes no lease: the
    /// caller holds it.
    public nonisolated func serialised() -> any Substrate { SerialisedSubstrate(device: self) }
}

/// A served device seen through its actor (see `ServedDevice.serialised()`).
final class SerialisedSubstrate: Substrate, Sendable {
    let device: ServedDevice
    init(device: ServedDevice) { self.device = device }

    var descriptor: SubstrateDescriptor { device.substrate.descriptor }
    func uncheckedProgram(_ targets: [Double]) async throws -> [Double] {
        try await device.exclusive { try await $0.uncheckedProgram(targets) }
    }
    func readParameters() async throws -> [Double] { try await device.exclusive { try await $0.readParameters() } }
    func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix {
        try await device.exclusive { try await $0.uncheckedMeasure(inputs) }
    }
    func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        let (stream, sink) = AsyncThrowingStream<ProbeResult, any Error>.makeStream()
        let device = self.device
        let task = Task {
            do {
                try await device.exclusive { substrate in
                    for try await result in substrate.uncheckedStream(probes) { sink.yield(result) }
                }
                sink.finish()
            } catch {
                sink.finish(throwing: error)
            }
        }
        sink.onTermination = { _ in task.cancel() }
        return stream
    }
    func enterSafeState() async throws { try await device.exclusive { try await $0.enterSafeState() } }
}
