import Foundation
import GRPCCore
import PNNCore
import PNNDevices
import Testing

@testable import PNNRemote

/// A `RemoteServer` on a free loopback port serving `sim:crossbar` (ideal, seed 5) as "xbar".
final class ServerFixture: Sendable {
    let server: RemoteServer
    let port: Int
    let serving: Task<Void, any Error>
    let device: ServedDevice

    init(token: String? = nil, streamWindow: Int = 4) async throws {
        let opened = try await DeviceCatalog.open("sim:crossbar", twin: .init(seed: 5, optionWords: ["--ideal"]))
        device = ServedDevice(name: "xbar", source: "sim:crossbar", substrate: opened.substrate, streamWindow: streamWindow)
        server = try RemoteServer(
            configuration: .init(listen: HostPort(host: "127.0.0.1", port: 0), token: token), devices: [device],
            store: nil)
        (serving, port) = await server.startOnFreePort()
    }

    func address(_ name: String = "xbar") -> RemoteDeviceAddress {
        RemoteDeviceAddress(server: HostPort(host: "127.0.0.1", port: port), name: name)
    }

    func stop() async {
        server.shutdown()
        _ = try? await serving.value
    }
}

extension RemoteServer {
    /// Starts serving in a task and returns it with the port bound (the configuration's port 0: any free one).
    func startOnFreePort() async -> (serving: Task<Void, any Error>, port: Int) {
        let (bound, report) = AsyncStream<Int>.makeStream()
        let serving = Task { try await self.run { report.yield($0.port) } }
        var port = 0
        for await p in bound {
            port = p
            break
        }
        return (serving, port)
    }
}

/// Inputs inside the crossbar's safe read range.
func sampleInputs(_ d: SubstrateDescriptor, rows: Int, seed: UInt64) -> Matrix {
    var random = SeededRandom(seed: seed)
    var m = Matrix(rows: rows, cols: d.inputs.count)
    for i in 0..<m.storage.count {
        m.storage[i] = d.inputs.lower + (d.inputs.upper - d.inputs.lower) * (0.1 + 0.8 * random.uniform())
    }
    return m
}

@Suite("Remote devices over gRPC (loopback)")
struct RemoteDeviceTests {
    @Test("remote measure equals the same ideal twin measured in process (1e-12), after programming both")
    func measureMatchesLocal() async throws {
        let fixture = try await ServerFixture()
        let local = try await DeviceCatalog.open("sim:crossbar", twin: .init(seed: 5, optionWords: ["--ideal"])).substrate
        let remote = try await RemoteSubstrate.open(fixture.address(), environment: [:])
        #expect(remote.descriptor == local.descriptor)
        let d = local.descriptor
        var theta = d.parameters.lower
        for i in theta.indices {
            let fraction = Double((i * 7) % 11) / 10
            theta[i] += (d.parameters.upper[i] - d.parameters.lower[i]) * fraction
        }
        let remoteReadBack = try await remote.setParameters(theta)
        let localReadBack = try await local.setParameters(theta)
        #expect(zip(remoteReadBack, localReadBack).allSatisfy { abs($0 - $1) <= 1e-12 })
        let x = sampleInputs(d, rows: 25, seed: 9)
        let yRemote = try await remote.measure(x)
        let yLocal = try await local.measure(x)
        #expect(yRemote.rows == 25 && yRemote.cols == d.outputs.count)
        let worst = zip(yRemote.storage, yLocal.storage).map { abs($0 - $1) }.max() ?? .infinity
        #expect(worst <= 1e-12)
        #expect(yLocal.norm > 0)
        await remote.close()
        await fixture.stop()
    }

    @Test("a second writer is refused with who holds the lease; reads still work; the lease passes on release")
    func secondWriterRefused() async throws {
        let fixture = try await ServerFixture()
        let first = try await RemoteSubstrate.open(fixture.address(), holder: "alice", environment: [:])
        await #expect {
            _ = try await RemoteSubstrate.open(fixture.address(), holder: "bob", environment: [:])
        } throws: { error in
            guard case .refused(_, let message) = error as? RemoteError else { return false }
            return message.contains("in use") && message.contains("alice")
        }
        let reader = try await RemoteSubstrate.open(fixture.address(), lease: false, environment: [:])
        let d = reader.descriptor
        _ = try await reader.measure(sampleInputs(d, rows: 2, seed: 1))
        await #expect {
            _ = try await reader.setParameters(d.parameters.lower)
        } throws: { error in
            guard case .refused(_, let message) = error as? RemoteError else { return false }
            return message.contains("write lease")
        }
        await first.close()
        try await reader.acquireLease(holder: "bob")
        _ = try await reader.setParameters(d.parameters.lower)
        await reader.close()
        await fixture.stop()
    }

    @Test("an unsafe value is refused by the server even when the client skips its own check")
    func serverSideSafety() async throws {
        let fixture = try await ServerFixture()
        let remote = try await RemoteSubstrate.open(fixture.address(), environment: [:])
        let d = remote.descriptor
        var theta = d.parameters.lower
        theta[3] = d.parameters.upper[3] * 10
        await #expect {
            _ = try await remote.uncheckedProgram(theta)  // bypasses the client-side guard
        } throws: { error in
            guard case .refused(_, let message) = error as? RemoteError else { return false }
            return message.contains("refused by the server")
        }
        var x = sampleInputs(d, rows: 1, seed: 2)
        x[0, 0] = d.inputs.upper * 3
        await #expect(throws: RemoteError.self) { _ = try await remote.uncheckedMeasure(x) }
        await remote.close()
        await fixture.stop()
    }

    @Test("a non-loopback address without a token does not start; with a token, calls without it are refused")
    func tokenRules() async throws {
        #expect(throws: RemoteError.tokenRequired(listen: "0.0.0.0:50515")) {
            try RemoteServerConfiguration(listen: HostPort(host: "0.0.0.0", port: 50515)).validate()
        }
        #expect(throws: RemoteError.tokenRequired(listen: "192.168.1.7:9")) {
            _ = try RemoteServer(
                configuration: .init(listen: try HostPort(parsing: "192.168.1.7:9", what: "--listen")), devices: [],
                store: nil)
        }
        try RemoteServerConfiguration(listen: HostPort(host: "0.0.0.0", port: 1), token: "s3cret").validate()
        let fixture = try await ServerFixture(token: "s3cret")
        await #expect(throws: RemoteError.unauthenticated) {
            _ = try await RemoteSubstrate.open(fixture.address(), environment: [:])
        }
        await #expect(throws: RemoteError.unauthenticated) {
            _ = try await RemoteSubstrate.open(fixture.address(), environment: ["PNNLAB_TOKEN": "wrong"])
        }
        let remote = try await RemoteSubstrate.open(fixture.address(), environment: ["PNNLAB_TOKEN": "s3cret"])
        _ = try await remote.readParameters()
        await remote.close()
        await fixture.stop()
    }

    @Test("a client gone mid-stream: the server finishes the window, restores θ, frees the lease; the next client works")
    func clientGoneMidStream() async throws {
        let fixture = try await ServerFixture(streamWindow: 4)
        var first: RemoteSubstrate? = try await RemoteSubstrate.open(fixture.address(), environment: [:])
        let d = first!.descriptor
        let theta = d.parameters.lower.indices.map { (d.parameters.lower[$0] + d.parameters.upper[$0]) / 2 }
        let programmed = try await first!.setParameters(theta)
        let x = sampleInputs(d, rows: 8, seed: 3)
        let probes = (0..<400).map { i in
            Probe(id: i, changes: [ParameterChange(index: i % d.parameters.count, value: d.parameters.upper[0])], inputs: x)
        }
        var received = 0
        for try await _ in try first!.stream(probes) {
            received += 1
            if received == 3 { break }  // the consumer stops reading: the call is cancelled
        }
        first = nil  // the client goes away: its lease call ends with it
        let next = try await Self.openWhenFree(fixture)
        let readBack = try await next.readParameters()
        #expect(zip(readBack, programmed).allSatisfy { abs($0 - $1) <= 1e-9 })
        _ = try await next.setParameters(theta)
        let y = try await next.measure(x)
        #expect(y.rows == 8)
        await next.close()
        await fixture.stop()
    }

    /// Takes the lease once the server has seen the previous holder go (bounded wait).
    static func openWhenFree(_ fixture: ServerFixture) async throws -> RemoteSubstrate {
        for _ in 0..<200 {
            if await fixture.device.currentLease == nil { break }
            await Task.yield()
            try await Task.sleep(for: .milliseconds(10))
        }
        return try await RemoteSubstrate.open(fixture.address(), environment: [:])
    }

    @Test("remote:// addresses parse, and bad ones say why")
    func addresses() throws {
        let a = try RemoteDeviceAddress(parsing: "remote://lab-pc:7000/sim:crossbar")
        #expect(a.server == HostPort(host: "lab-pc", port: 7000) && a.name == "sim:crossbar")
        #expect(try RemoteDeviceAddress(parsing: "remote://[::1]:9/x").server.isLoopback)
        #expect(try HostPort(parsing: "10.0.0.2", what: "--listen").port == RemoteDefaults.port)
        #expect(throws: RemoteError.self) { try RemoteDeviceAddress(parsing: "remote://host:1") }
        #expect(throws: RemoteError.self) { try HostPort(parsing: "host:99999", what: "--listen") }
    }
}

@Suite("Remote devices: round-trip figures (printed; no pass mark on a shared machine)")
struct RemoteFigures {
    @Test("measure round trip and streamed values/s, remote over loopback vs in process")
    func figures() async throws {
        let fixture = try await ServerFixture(streamWindow: 16)
        let local = try await DeviceCatalog.open("sim:crossbar", twin: .init(seed: 5, optionWords: ["--ideal"])).substrate
        let remote = try await RemoteSubstrate.open(fixture.address(), environment: [:])
        let d = local.descriptor
        let one = sampleInputs(d, rows: 1, seed: 1)
        func seconds(_ n: Int, _ body: () async throws -> Void) async throws -> Double {
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<n { try await body() }
            let elapsed = clock.now - start
            return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18) / Double(n)
        }
        _ = try await remote.measure(one)
        let localTrip = try await seconds(200) { _ = try await local.measure(one) }
        let remoteTrip = try await seconds(200) { _ = try await remote.measure(one) }
        let batch = sampleInputs(d, rows: 64, seed: 2)
        let probes = (0..<200).map { i in
            Probe(id: i, changes: [ParameterChange(index: i % d.parameters.count, value: d.parameters.upper[0])], inputs: batch)
        }
        func streamed(_ s: any Substrate) async throws -> Double {
            let clock = ContinuousClock()
            let start = clock.now
            var values = 0
            for try await r in try s.stream(probes) { values += r.outputs.storage.count }
            let elapsed = clock.now - start
            return Double(values) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        let localRate = try await streamed(local)
        let remoteRate = try await streamed(remote)
        print(
            "remote figures: measure round trip (1 row) local \(localTrip * 1e6) µs, remote \(remoteTrip * 1e6) µs; "
                + "streamed outputs/s local \(localRate), remote \(remoteRate) (\(100 * remoteRate / localRate) %)")
        #expect(remoteTrip > 0 && remoteRate > 0)
        await remote.close()
        await fixture.stop()
    }
}

@Suite("Remote devices over TLS")
struct RemoteTLSTests {
    /// A self-signed certificate for 127.0.0.1 made with openssl, or nil when openssl is missing.
    static func selfSigned() throws -> (cert: String, key: String)? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { return nil }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pnnlab-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-subj", "/CN=pnnlab-test", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir + "/key.pem",
            "-out", dir + "/cert.pem",
        ]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? (dir + "/cert.pem", dir + "/key.pem") : nil
    }

    @Test("with --cert/--key the server speaks TLS: a client trusting the certificate measures, a plaintext one cannot")
    func tls() async throws {
        guard let (cert, key) = try Self.selfSigned() else { return }
        let opened = try await DeviceCatalog.open("sim:crossbar", twin: .init(seed: 5, optionWords: ["--ideal"]))
        let device = ServedDevice(name: "xbar", source: "sim:crossbar", substrate: opened.substrate)
        let server = try RemoteServer(
            configuration: .init(listen: HostPort(host: "127.0.0.1", port: 0), certificate: cert, privateKey: key),
            devices: [device], store: nil)
        let (bound, report) = AsyncStream<Int>.makeStream()
        let serving = Task { try await server.run { report.yield($0.port) } }
        var port = 0
        for await p in bound {
            port = p
            break
        }
        let address = RemoteDeviceAddress(server: HostPort(host: "127.0.0.1", port: port), name: "xbar")
        let remote = try await RemoteSubstrate.open(address, environment: ["PNNLAB_TLS_CA": cert])
        let y = try await remote.measure(sampleInputs(remote.descriptor, rows: 3, seed: 1))
        #expect(y.rows == 3)
        await remote.close()
        await #expect(throws: (any Error).self) {
            _ = try await RemoteSubstrate.open(address, lease: false, environment: [:])
        }
        #expect(throws: RemoteError.self) {
            try RemoteServerConfiguration(certificate: cert).validate()
        }
        server.shutdown()
        _ = try? await serving.value
    }
}
