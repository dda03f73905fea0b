import Foundation
import GRPCCore
import PNNCore

// The optional capabilities of a served device, forwarded over the wire. Swift decides
// conformance by type, and the contrastive code asks `substrate is any SelfLearning`, so
// each combination a family can have is its own type; `RemoteSubstrate.withCapabilities()`
// picks the one the server's descriptor declares. The server re-checks every value.

/// Calls shared by the capability forwarders: the plain remote substrate underneath.
protocol RemoteForwarding: Substrate {
    var base: RemoteSubstrate { get }
}

extension RemoteForwarding {
    public var descriptor: SubstrateDescriptor { base.descriptor }
    public func uncheckedProgram(_ targets: [Double]) async throws -> [Double] { try await base.uncheckedProgram(targets) }
    public func readParameters() async throws -> [Double] { try await base.readParameters() }
    public func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix { try await base.uncheckedMeasure(inputs) }
    public func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        base.uncheckedStream(probes)
    }
    public func enterSafeState() async throws { try await base.enterSafeState() }

    func forwardApplyInputs(_ inputs: [Double]) async throws {
        var request = Pnnlab_V1_ApplyInputsRequest()
        request.device = base.address.name
        request.leaseID = base.leaseID
        request.inputs = inputs
        let connection = base.connection
        _ = try await base.call { try await connection.devices.applyInputs(request, options: connection.options) }
    }

    func forwardSetClamp(_ setting: ClampSetting) async throws {
        var request = Pnnlab_V1_SetClampRequest()
        request.device = base.address.name
        request.leaseID = base.leaseID
        request.mode = .init(setting.mode)
        request.targets = setting.targets
        request.eta = setting.eta
        let connection = base.connection
        _ = try await base.call { try await connection.devices.setClamp(request, options: connection.options) }
    }

    func forwardReadNodes(_ side: NetworkSide, strains: Bool) async throws -> [Double] {
        var request = Pnnlab_V1_ReadNodesRequest()
        request.device = base.address.name
        request.side = .init(side)
        let connection = base.connection
        return try await base.call {
            strains
                ? try await connection.devices.elementStrains(request, options: connection.options).values
                : try await connection.devices.readNodes(request, options: connection.options).values
        }
    }

    func forwardLearn(seconds: Double) async throws {
        var request = Pnnlab_V1_LearnRequest()
        request.device = base.address.name
        request.leaseID = base.leaseID
        request.seconds = seconds
        let connection = base.connection
        _ = try await base.call { try await connection.devices.learn(request, options: connection.options) }
    }
}

/// A remote clampable device with node readout (a resistor network): host-computed coupled learning.
public final class RemoteClampableSubstrate: RemoteForwarding, Clampable, NodeReadout, Sendable {
    /// The plain remote device (address, lease, connection).
    public let base: RemoteSubstrate
    private let wiring: NetworkTopology?

    init(_ base: RemoteSubstrate, topology: NetworkTopology?) {
        self.base = base
        wiring = topology
    }

    public var topology: NetworkTopology { wiring ?? noWiring }
    public func uncheckedApplyInputs(_ inputs: [Double]) async throws { try await forwardApplyInputs(inputs) }
    public func uncheckedSetClamp(_ setting: ClampSetting) async throws { try await forwardSetClamp(setting) }
    public func readNodes(_ side: NetworkSide) async throws -> [Double] { try await forwardReadNodes(side, strains: false) }
}

/// A remote self-learning device (a CLLN board): clampable, node readout, its own learning
/// rule; the contrastive methods drive it step by step from the client (host steps).
public final class RemoteSelfLearningSubstrate: RemoteForwarding, Clampable, NodeReadout, SelfLearning, Sendable {
    /// The plain remote device (address, lease, connection).
    public let base: RemoteSubstrate
    private let wiring: NetworkTopology?
    public let maxLearnSeconds: Double

    init(_ base: RemoteSubstrate, topology: NetworkTopology?, maxLearnSeconds: Double) {
        self.base = base
        wiring = topology
        self.maxLearnSeconds = maxLearnSeconds
    }

    public var topology: NetworkTopology { wiring ?? noWiring }
    public func uncheckedApplyInputs(_ inputs: [Double]) async throws { try await forwardApplyInputs(inputs) }
    public func uncheckedSetClamp(_ setting: ClampSetting) async throws { try await forwardSetClamp(setting) }
    public func readNodes(_ side: NetworkSide) async throws -> [Double] { try await forwardReadNodes(side, strains: false) }
    public func uncheckedLearn(seconds: Double) async throws { try await forwardLearn(seconds: seconds) }
}

/// A remote clampable device reporting element strains (a spring network).
public final class RemoteStrainSubstrate: RemoteForwarding, ElementStrainReadout, Sendable {
    /// The plain remote device (address, lease, connection).
    public let base: RemoteSubstrate

    init(_ base: RemoteSubstrate) { self.base = base }

    public func uncheckedApplyInputs(_ inputs: [Double]) async throws { try await forwardApplyInputs(inputs) }
    public func uncheckedSetClamp(_ setting: ClampSetting) async throws { try await forwardSetClamp(setting) }
    public func elementStrains(_ side: NetworkSide) async throws -> [Double] {
        try await forwardReadNodes(side, strains: true)
    }
}

/// What a device without node readout reports as its wiring (nothing).
private let noWiring = NetworkTopology(nodeCount: 0, edges: [], inputNodes: [], inputRoles: [], outputs: [])
