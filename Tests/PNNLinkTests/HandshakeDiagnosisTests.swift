import PNNLink
import PNNTransport
import PNNWire
import Testing

/// The handshake tells a noisy line from a baud-rate mismatch (issue 10, point 3).
@Suite("Handshake: line noise vs baud mismatch")
struct HandshakeDiagnosisTests {
    @Test("every hello reply damaged on the line: reported as a noisy line, not a baud mismatch")
    func noisyLine() async throws {
        let (host, device) = MemoryLink.pair(seed: 5)
        let faulty = FrameFaultTransport(host)
        // Flip a payload bit of every reply: CRC failures of this protocol. (Each damaged reply
        // re-sends the hello at once, §8, so the handshake sees many.)
        await faulty.arm((0..<5000).map { FrameFault(.incoming, frame: $0, .corrupt(byte: 12, mask: 0x04)) })
        let server = WireServer(endpoint: TestBoard(), transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let client = WireClient(
            transport: faulty, configuration: .init(tracker: .init(timeout: 0.02, maxTimeout: 0.05), helloTimeout: 0.02))
        let error = await linkError { try await client.handshake() }
        guard case .noisyLine(_, let damaged, _)? = error else {
            Issue.record("expected a noisy line, got \(String(describing: error))")
            return
        }
        #expect(damaged >= 2)  // the threshold the handshake decides on
        #expect(error?.description.contains("baud rate is right") == true)
        #expect(error?.isConnectionLoss == true)
        await client.close()
    }

    @Test("the first 20 hello replies damaged: each re-sends the hello at once and the handshake succeeds")
    func noisyLineRecovers() async throws {
        let (host, device) = MemoryLink.pair(seed: 5)
        let faulty = FrameFaultTransport(host)
        await faulty.arm((0..<20).map { FrameFault(.incoming, frame: $0, .corrupt(byte: 12, mask: 0x04)) })
        let server = WireServer(endpoint: TestBoard(), transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let client = WireClient(
            transport: faulty, configuration: .init(tracker: .init(timeout: 0.5, maxTimeout: 1), helloTimeout: 0.5))
        let reply = try await client.handshake()
        #expect(reply.family == "test")
        let stats = await client.statistics
        #expect(stats.requests.damageRetransmissions >= 20, "\(stats.requests)")
        #expect(stats.requests.timeouts == 0)
        await client.close()
    }

    @Test("a board at another baud rate (only line noise comes back): reported as garbage / baud mismatch")
    func baudMismatch() async throws {
        let (host, device) = MemoryLink.pair(seed: 6)
        var options = WireServer.Options()
        options.lineMatches = { false }
        let server = WireServer(endpoint: TestBoard(), transport: device, options: options)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let client = WireClient(transport: host, configuration: .init(tracker: .init(timeout: 0.02), helloTimeout: 0.02))
        let error = await linkError { try await client.handshake() }
        guard case .garbage? = error else {
            Issue.record("expected garbage, got \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("baud-rate mismatch") == true)
        await client.close()
    }
}
