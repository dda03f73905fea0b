import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import PNNCore
import Synchronization

/// A connection to one `pnnlab serve` process: the gRPC client and its connection task.
/// Closed when the last user lets go of it.
final class RemoteConnection: Sendable {
    typealias Transport = HTTP2ClientTransport.Posix
    let server: HostPort
    let client: GRPCClient<Transport>
    let devices: Pnnlab_V1_Devices.Client<Transport>
    let runs: Pnnlab_V1_Runs.Client<Transport>
    let options: CallOptions
    private let running: Task<Void, Never>

    /// Connects lazily (the first call dials); `token` is sent with every call, and TLS is
    /// used when `trustRoots` (a PEM file) is given.
    init(server: HostPort, token: String?, trustRoots: String?, maxMessageBytes: Int = 256 << 20) throws {
        self.server = server
        let target: any ResolvableTarget
        if server.host.contains(":") {
            target = ResolvableTargets.IPv6(addresses: [.init(host: server.host, port: server.port)])
        } else if server.host.allSatisfy({ $0.isNumber || $0 == "." }) {
            target = ResolvableTargets.IPv4(addresses: [.init(host: server.host, port: server.port)])
        } else {
            target = ResolvableTargets.DNS(host: server.host, port: server.port)
        }
        var security = Transport.TransportSecurity.plaintext
        if let trustRoots {
            security = .tls { $0.trustRoots = .certificates([.file(path: trustRoots, format: .pem)]) }
        }
        var config = Transport.Config.defaults
        // Large frames and an 8 MiB window: a probe stream's batches flow without a window
        // update per 64 KiB, and flow control still holds the server when the client stops reading.
        config.http2.maxFrameSize = RemoteDefaults.maxFrameSize
        config.http2.targetWindowSize = RemoteDefaults.windowSize
        let transport = try Transport(target: target, transportSecurity: security, config: config)
        let interceptors: [any ClientInterceptor] = token.map { [TokenSender(token: $0)] } ?? []
        let client = GRPCClient(transport: transport, interceptors: interceptors)
        self.client = client
        devices = Pnnlab_V1_Devices.Client(wrapping: client)
        runs = Pnnlab_V1_Runs.Client(wrapping: client)
        var options = CallOptions.defaults
        options.maxRequestMessageBytes = maxMessageBytes
        options.maxResponseMessageBytes = maxMessageBytes
        self.options = options
        running = Task { try? await client.runConnections() }
    }

    deinit {
        client.beginGracefulShutdown()
    }

    /// The client-side error for a failed call about `device`.
    func failure(_ error: any Error, device: String) -> any Error {
        guard let rpc = error as? RPCError else { return error }
        switch rpc.code {
        case .unavailable, .deadlineExceeded:
            return RemoteError.unreachable(server: server.description, why: rpc.message)
        case .unauthenticated:
            return RemoteError.unauthenticated
        default:
            return RemoteError.refused(device: device, message: rpc.message)
        }
    }
}

/// A device served by `pnnlab serve` on another machine or process: `remote://HOST:PORT/NAME`.
/// Every operation is a call to the server, which runs the device's own safety checks
/// again, so a remote caller can never send what a local one could not. Programming and
/// probing need the device's write lease, which `open` takes (a second writer is refused
/// with who holds it) and which ends when this object goes away or `close` is called.
public final class RemoteSubstrate: Substrate, Sendable {
    /// Where the device is.
    public let address: RemoteDeviceAddress
    /// The device's descriptor as the server reports it.
    public let descriptor: SubstrateDescriptor
    let connection: RemoteConnection
    private let lease = Mutex<(id: String, holding: Task<Void, Never>)?>(nil)

    /// What Describe reports beside the descriptor (for the optional capabilities).
    struct Extras: Sendable {
        var topologyJSON = ""
        var maxLearnSeconds = 0.0
        var elementStrains = false
    }
    let extras: Extras

    init(address: RemoteDeviceAddress, descriptor: SubstrateDescriptor, connection: RemoteConnection, extras: Extras = .init()) {
        self.address = address
        self.descriptor = descriptor
        self.connection = connection
        self.extras = extras
    }

    deinit {
        lease.withLock { $0?.holding.cancel() }
    }

    /// Connects, reads the descriptor and (with `lease`) takes the write lease. The token
    /// and TLS trust roots default to `$PNNLAB_TOKEN` and `$PNNLAB_TLS_CA`.
    public static func open(
        _ address: RemoteDeviceAddress, token: String? = nil, trustRoots: String? = nil, lease: Bool = true,
        holder: String = RemoteSubstrate.defaultHolder, environment: [String: String] = ProcessInfo.processInfo.environment
    ) async throws -> RemoteSubstrate {
        let connection = try RemoteConnection(
            server: address.server, token: token ?? environment[RemoteDefaults.tokenVariable].flatMap { $0.isEmpty ? nil : $0 },
            trustRoots: trustRoots ?? environment[RemoteDefaults.trustRootsVariable])
        var request = Pnnlab_V1_DescribeRequest()
        request.device = address.name
        let reply: Pnnlab_V1_DescribeResponse
        do {
            reply = try await connection.devices.describe(request, options: connection.options)
        } catch {
            throw connection.failure(error, device: address.description)
        }
        let substrate = RemoteSubstrate(
            address: address, descriptor: try reply.descriptor.descriptor(), connection: connection,
            extras: Extras(
                topologyJSON: reply.topologyJson, maxLearnSeconds: reply.maxLearnSeconds, elementStrains: reply.elementStrains))
        if lease { try await substrate.acquireLease(holder: holder) }
        return substrate
    }

    /// This device as a substrate that also forwards its optional capabilities (clampable,
    /// node readout, self-learning, element strains: what the contrastive methods and CLLN
    /// calibration need) when the server declares them; itself when it has none.
    public func withCapabilities() throws(RemoteError) -> any Substrate {
        guard descriptor.capabilities.contains(.clampable) || extras.elementStrains else { return self }
        var topology: NetworkTopology?
        if !extras.topologyJSON.isEmpty {
            do {
                topology = try JSONDecoder().decode(NetworkTopology.self, from: Data(extras.topologyJSON.utf8))
            } catch {
                throw .malformed("the device's wiring (topology JSON) does not decode: \(error)")
            }
        }
        if extras.elementStrains { return RemoteStrainSubstrate(self) }
        if descriptor.capabilities.contains(.selfLearning) {
            return RemoteSelfLearningSubstrate(self, topology: topology, maxLearnSeconds: extras.maxLearnSeconds)
        }
        return RemoteClampableSubstrate(self, topology: topology)
    }

    /// `user@host pid N`, shown to a second writer who is refused.
    public static var defaultHolder: String {
        let info = ProcessInfo.processInfo
        return "\(info.environment["USER"] ?? "someone")@\(info.hostName) pid \(info.processIdentifier)"
    }

    var device: String { address.description }

    /// Takes the write lease, held until `releaseLease`, `close` or deinit.
    public func acquireLease(holder: String = RemoteSubstrate.defaultHolder) async throws {
        if lease.withLock({ $0 != nil }) { return }
        var request = Pnnlab_V1_AcquireLeaseRequest()
        request.device = address.name
        request.holder = holder
        let (granted, report) = AsyncStream<Result<String, any Error>>.makeStream()
        let devices = connection.devices
        let options = connection.options
        let holding = Task {
            do {
                try await devices.acquireLease(request, options: options) { response in
                    for try await message in response.messages { report.yield(.success(message.leaseID)) }
                }
                report.yield(.failure(RemoteError.malformed("the server ended the lease call without granting it")))
            } catch {
                report.yield(.failure(error))
            }
            report.finish()
        }
        var first: Result<String, any Error> = .failure(CancellationError())
        for await result in granted {
            first = result
            break
        }
        switch first {
        case .success(let id): lease.withLock { $0 = (id, holding) }
        case .failure(let error):
            holding.cancel()
            throw connection.failure(error, device: device)
        }
    }

    /// Gives the write lease back (reading and measuring still work).
    public func releaseLease() async {
        guard
            let held = lease.withLock({ state in
                defer { state = nil }; return state
            })
        else { return }
        var request = Pnnlab_V1_ReleaseLeaseRequest()
        request.device = address.name
        request.leaseID = held.id
        _ = try? await connection.devices.releaseLease(request, options: connection.options)
        held.holding.cancel()
    }

    /// Releases the lease; the connection closes when nothing uses it any more.
    public func close() async { await releaseLease() }

    var leaseID: String { lease.withLock { $0?.id ?? "" } }

    func call<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw connection.failure(error, device: device)
        }
    }

    public func uncheckedProgram(_ targets: [Double]) async throws -> [Double] {
        var request = Pnnlab_V1_SetParametersRequest()
        request.device = address.name
        request.leaseID = leaseID
        request.targets = targets
        return try await call { try await connection.devices.setParameters(request, options: connection.options).values }
    }

    public func readParameters() async throws -> [Double] {
        var request = Pnnlab_V1_ReadParametersRequest()
        request.device = address.name
        return try await call { try await connection.devices.readParameters(request, options: connection.options).values }
    }

    public func uncheckedMeasure(_ inputs: Matrix) async throws -> Matrix {
        var request = Pnnlab_V1_MeasureRequest()
        request.device = address.name
        request.inputs = .init(inputs)
        let reply = try await call { try await connection.devices.measure(request, options: connection.options) }
        let outputs = try reply.outputs.matrix("outputs")
        guard outputs.rows == inputs.rows, outputs.cols == descriptor.outputs.count else {
            throw RemoteError.malformed(
                "\(inputs.rows) inputs gave \(outputs.rows) × \(outputs.cols) outputs, not \(inputs.rows) × \(descriptor.outputs.count)"
            )
        }
        return outputs
    }

    public func uncheckedStream(_ probes: [Probe]) -> AsyncThrowingStream<ProbeResult, any Error> {
        var request = Pnnlab_V1_StreamProbesRequest()
        request.device = address.name
        request.leaseID = leaseID
        request.setProbes(probes)
        let (stream, sink) = AsyncThrowingStream<ProbeResult, any Error>.makeStream()
        let connection = self.connection
        let device = self.device
        let task = Task {
            do {
                try await connection.devices.streamProbes(request, options: connection.options) { response in
                    for try await message in response.messages {
                        for result in try message.results() { sink.yield(result) }
                    }
                }
                sink.finish()
            } catch {
                sink.finish(throwing: connection.failure(error, device: device))
            }
        }
        sink.onTermination = { _ in task.cancel() }
        return stream
    }

    public func enterSafeState() async throws {
        var request = Pnnlab_V1_SafeStateRequest()
        request.device = address.name
        request.leaseID = leaseID
        _ = try await call { try await connection.devices.enterSafeState(request, options: connection.options) }
    }
}
