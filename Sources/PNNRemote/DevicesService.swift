import Foundation
import GRPCCore
import PNNCore

/// The `pnnlab.v1.Devices` service: served devices as remote Substrates.
struct DevicesService: Pnnlab_V1_Devices.SimpleServiceProtocol {
    let devices: [ServedDevice]

    func device(_ name: String) throws(RPCError) -> ServedDevice {
        guard let device = devices.first(where: { $0.name == name }) else {
            throw RemoteError.unknownDevice(name: name, served: devices.map(\.name)).rpc
        }
        return device
    }

    func summary(_ device: ServedDevice) async -> Pnnlab_V1_DeviceSummary {
        var s = Pnnlab_V1_DeviceSummary()
        s.name = device.name
        s.identity = .init(device.substrate.descriptor.identity)
        s.source = device.source
        s.leased = await device.currentLease != nil
        return s
    }

    func listDevices(request: Pnnlab_V1_ListDevicesRequest, context: ServerContext) async throws
        -> Pnnlab_V1_ListDevicesResponse
    {
        var response = Pnnlab_V1_ListDevicesResponse()
        for device in devices { response.devices.append(await summary(device)) }
        return response
    }

    func describe(request: Pnnlab_V1_DescribeRequest, context: ServerContext) async throws -> Pnnlab_V1_DescribeResponse {
        let device = try device(request.device)
        var response = Pnnlab_V1_DescribeResponse()
        response.summary = await summary(device)
        response.descriptor = .init(device.substrate.descriptor)
        let substrate = device.substrate
        if substrate.descriptor.capabilities.contains(.nodeReadout), let nodes = substrate as? any NodeReadout {
            response.topologyJson = try await served {
                String(decoding: try JSONEncoder().encode(nodes.topology), as: UTF8.self)
            }
        }
        if substrate.descriptor.capabilities.contains(.selfLearning), let learner = substrate as? any SelfLearning {
            response.maxLearnSeconds = learner.maxLearnSeconds
        }
        response.elementStrains = substrate is any ElementStrainReadout
        return response
    }

    func acquireLease(
        request: Pnnlab_V1_AcquireLeaseRequest, response: RPCWriter<Pnnlab_V1_LeaseGranted>, context: ServerContext
    ) async throws {
        let device = try device(request.device)
        let holder = request.holder.isEmpty ? context.remotePeer : "\(request.holder) (\(context.remotePeer))"
        let id = try await served { try await device.acquire(holder: holder) }
        // Held while this call is open: a client that cancels, disconnects or dies releases it
        // (gRPC reports that through the RPC's cancellation handle, not by cancelling this task).
        await withRPCCancellationHandler {
            await withTaskCancellationHandler {
                var granted = Pnnlab_V1_LeaseGranted()
                granted.device = device.name
                granted.leaseID = id
                do {
                    try await response.write(granted)
                    await device.waitUntilReleased(id)
                } catch {}
            } onCancel: {
                Task { await device.release(id) }
            }
        } onCancelRPC: {
            Task { await device.release(id) }
        }
        await device.release(id)
    }

    func releaseLease(request: Pnnlab_V1_ReleaseLeaseRequest, context: ServerContext) async throws
        -> Pnnlab_V1_ReleaseLeaseResponse
    {
        let device = try device(request.device)
        await device.release(request.leaseID)
        return .init()
    }

    func setParameters(request: Pnnlab_V1_SetParametersRequest, context: ServerContext) async throws
        -> Pnnlab_V1_ParameterValues
    {
        let device = try device(request.device)
        var response = Pnnlab_V1_ParameterValues()
        response.values = try await served {
            try await device.program(request.targets, policy: request.policy.policy, lease: request.leaseID)
        }
        return response
    }

    func readParameters(request: Pnnlab_V1_ReadParametersRequest, context: ServerContext) async throws
        -> Pnnlab_V1_ParameterValues
    {
        let device = try device(request.device)
        var response = Pnnlab_V1_ParameterValues()
        response.values = try await served { try await device.readParameters() }
        return response
    }

    func measure(request: Pnnlab_V1_MeasureRequest, context: ServerContext) async throws -> Pnnlab_V1_MeasureResponse {
        let device = try device(request.device)
        let inputs = try await served { try request.inputs.matrix("inputs") }
        let outputs = try await served { try await device.measure(inputs, policy: request.policy.policy) }
        var response = Pnnlab_V1_MeasureResponse()
        response.outputs = .init(outputs)
        return response
    }

    func streamProbes(
        request: Pnnlab_V1_StreamProbesRequest, response: RPCWriter<Pnnlab_V1_ProbeResults>, context: ServerContext
    ) async throws {
        let device = try device(request.device)
        let probes = try await served { try request.decodedProbes() }
        try await served {
            let cancellation = context.cancellation
            try await device.stream(probes, policy: request.policy.policy, lease: request.leaseID) { results in
                if cancellation.isCancelled { throw CancellationError() }  // the client went away
                try await response.write(.init(results))
            }
        }
    }

    func applyInputs(request: Pnnlab_V1_ApplyInputsRequest, context: ServerContext) async throws -> Pnnlab_V1_Done {
        let device = try device(request.device)
        try await served { try await device.applyInputs(request.inputs, lease: request.leaseID) }
        return .init()
    }

    func setClamp(request: Pnnlab_V1_SetClampRequest, context: ServerContext) async throws -> Pnnlab_V1_Done {
        let device = try device(request.device)
        try await served {
            let setting = ClampSetting(mode: try request.mode.mode(), targets: request.targets, eta: request.eta)
            try await device.setClamp(setting, lease: request.leaseID)
        }
        return .init()
    }

    func learn(request: Pnnlab_V1_LearnRequest, context: ServerContext) async throws -> Pnnlab_V1_Done {
        let device = try device(request.device)
        try await served { try await device.learn(seconds: request.seconds, lease: request.leaseID) }
        return .init()
    }

    func readNodes(request: Pnnlab_V1_ReadNodesRequest, context: ServerContext) async throws -> Pnnlab_V1_ParameterValues {
        let device = try device(request.device)
        var response = Pnnlab_V1_ParameterValues()
        response.values = try await served { try await device.readNodes(request.side.side) }
        return response
    }

    func elementStrains(request: Pnnlab_V1_ReadNodesRequest, context: ServerContext) async throws
        -> Pnnlab_V1_ParameterValues
    {
        let device = try device(request.device)
        var response = Pnnlab_V1_ParameterValues()
        response.values = try await served { try await device.elementStrains(request.side.side) }
        return response
    }

    func enterSafeState(request: Pnnlab_V1_SafeStateRequest, context: ServerContext) async throws
        -> Pnnlab_V1_SafeStateResponse
    {
        let device = try device(request.device)
        try await served { try await device.enterSafeState(lease: request.leaseID) }
        return .init()
    }
}

/// Runs `body`, turning pnnlab's errors into gRPC statuses whose message is the error's
/// one-line description.
func served<T>(_ body: () async throws -> T) async throws(RPCError) -> T {
    do {
        return try await body()
    } catch {
        throw rpcError(error)
    }
}

/// The gRPC status for an error raised while serving a call.
func rpcError(_ error: any Error) -> RPCError {
    switch error {
    case let error as RPCError: error
    case let error as RemoteError: error.rpc
    case let error as SafetyViolation: RPCError(code: .invalidArgument, message: "refused by the server: \(error)")
    case let error as ContrastiveRequestError: RPCError(code: .invalidArgument, message: "refused by the server: \(error)")
    case let error as SubstrateError:
        switch error {
        case .missingCapability, .missingCapabilityFor: RPCError(code: .unimplemented, message: "\(error)")
        default: RPCError(code: .aborted, message: "\(error)")
        }
    case is CancellationError: RPCError(code: .cancelled, message: "cancelled")
    default: RPCError(code: .aborted, message: "\(error)")
    }
}

extension RemoteError {
    var rpc: RPCError { RPCError(code: code, message: description) }
}
