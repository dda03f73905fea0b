import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import PNNStore

/// How `pnnlab serve` listens: address, access token and TLS files.
public struct RemoteServerConfiguration: Sendable {
    /// Where to listen (port 0: any free port, reported once bound).
    public var listen: HostPort
    /// Token every call must carry; required for any non-loopback address.
    public var token: String?
    /// PEM certificate chain and private key: TLS when both are given.
    public var certificate: String?
    public var privateKey: String?
    /// How often `WatchRun` looks for new steps.
    public var pollInterval: Duration
    /// Largest message accepted (a 1024 × 128 crossbar's θ is 2 MiB).
    public var maxMessageBytes: Int

    public init(
        listen: HostPort = HostPort(host: RemoteDefaults.host, port: RemoteDefaults.port), token: String? = nil,
        certificate: String? = nil, privateKey: String? = nil, pollInterval: Duration = .milliseconds(200),
        maxMessageBytes: Int = 256 << 20
    ) {
        self.listen = listen
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.certificate = certificate
        self.privateKey = privateKey
        self.pollInterval = pollInterval
        self.maxMessageBytes = maxMessageBytes
    }

    /// Refuses what must not start: a non-loopback address with no token, half a TLS pair,
    /// unreadable TLS files.
    public func validate() throws(RemoteError) {
        if !listen.isLoopback && token == nil { throw .tokenRequired(listen: listen.description) }
        switch (certificate, privateKey) {
        case (nil, nil): break
        case (let cert?, let key?):
            for (what, path) in [("certificate", cert), ("private key", key)]
            where !FileManager.default.isReadableFile(atPath: path) {
                throw .tls(why: "the \(what) file \(path) cannot be read")
            }
        default: throw .tls(why: "give both --cert and --key (PEM files), or neither")
        }
    }

    /// Whether calls are encrypted.
    public var usesTLS: Bool { certificate != nil }
}

/// `pnnlab serve`: the gRPC server exposing devices (and, given a store, its runs).
public final class RemoteServer: Sendable {
    public let configuration: RemoteServerConfiguration
    public let devices: [ServedDevice]
    let transport: HTTP2ServerTransport.Posix
    let server: GRPCServer<HTTP2ServerTransport.Posix>

    /// Builds the server after validating the configuration; nothing listens until `run`.
    /// With a `launcher`, clients may also start, pause and resume runs (trained here).
    public init(
        configuration: RemoteServerConfiguration, devices: [ServedDevice], store: RunStore?,
        launcher: (any RunLauncher)? = nil
    ) throws(RemoteError) {
        try configuration.validate()
        self.configuration = configuration
        self.devices = devices
        let host = configuration.listen.host == "localhost" ? "127.0.0.1" : configuration.listen.host
        let address: GRPCNIOTransportCore.SocketAddress =
            host.contains(":")
            ? .ipv6(host: host, port: configuration.listen.port) : .ipv4(host: host, port: configuration.listen.port)
        let security: HTTP2ServerTransport.Posix.TransportSecurity
        if let cert = configuration.certificate, let key = configuration.privateKey {
            security = .tls(certificateChain: [.file(path: cert, format: .pem)], privateKey: .file(path: key, format: .pem))
        } else {
            security = .plaintext
        }
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.rpc.maxRequestPayloadSize = configuration.maxMessageBytes
        config.http2.maxFrameSize = RemoteDefaults.maxFrameSize
        config.http2.targetWindowSize = RemoteDefaults.windowSize
        transport = HTTP2ServerTransport.Posix(address: address, transportSecurity: security, config: config)
        var services: [any RegistrableRPCService] = [DevicesService(devices: devices)]
        if let store {
            services.append(
                RunsService(store: store, pollInterval: configuration.pollInterval, devices: devices, launcher: launcher))
        }
        let interceptors: [any ServerInterceptor] = configuration.token.map { [TokenCheck(token: $0)] } ?? []
        server = GRPCServer(transport: transport, services: services, interceptors: interceptors)
    }

    /// Serves until `shutdown` (or the task is cancelled); `listening` is called once the
    /// address is bound, with the port actually used.
    public func run(listening: @escaping @Sendable (HostPort) async -> Void = { _ in }) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { try await self.server.serve() }
            let bound = try await transport.listeningAddress
            let port = bound.ipv4?.port ?? bound.ipv6?.port ?? configuration.listen.port
            await listening(HostPort(host: configuration.listen.host, port: port))
        }
    }

    /// Stops accepting calls; `run` returns once the calls in flight have finished.
    public func shutdown() { server.beginGracefulShutdown() }
}
