import PNNLink
import PNNTransport
import PNNWire
import Testing

/// Replies can never be paired with the wrong request (issue 10, point 2): every byte of
/// every frame of a pipelined exchange is corrupted in turn, in both directions, and every
/// answer the host accepts is the answer to its own request.
@Suite("Reply pairing under single-byte corruption", .serialized)
struct ReplyPairingTests {
    /// Request `i`: echo and ping alternate (two types), payloads differ in content and length.
    static func request(_ i: Int) -> (FrameType, [UInt8]) {
        let payload = [UInt8(i), 0xA5, UInt8(truncatingIfNeeded: i * 37)] + [UInt8](repeating: UInt8(i), count: i % 5)
        return (i % 2 == 0 ? echo : .ping, payload)
    }

    @Test("corrupting any single byte never makes the host accept a reply to another request")
    func everyBytePosition() async throws {
        let board = TestBoard()
        let (host, device) = MemoryLink.pair(seed: 3)
        let faulty = FrameFaultTransport(host)
        let server = WireServer(endpoint: board, transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let client = WireClient(
            transport: faulty,
            configuration: .init(
                tracker: .init(window: 8, timeout: 0.1, maxAttempts: 3, backoff: 2, maxTimeout: 0.4), helloTimeout: 5))
        try await client.handshake()
        let count = 12
        func exchange() async -> (accepted: Int, wrong: Int, failed: Int) {
            var tickets: [(WireClient.Ticket, [UInt8])] = []
            var accepted = 0, wrong = 0, failed = 0
            for i in 0..<count {
                let (type, payload) = Self.request(i)
                do {
                    tickets.append((try await client.submit(type, payload: payload, retry: .deduplicated), payload))
                } catch {
                    failed += 1
                }
            }
            for (ticket, payload) in tickets {
                do {
                    let reply = try await client.reply(to: ticket)
                    if reply == payload { accepted += 1 } else { wrong += 1 }
                } catch {
                    failed += 1
                }
            }
            return (accepted, wrong, failed)
        }
        await faulty.arm([])
        let clean = await exchange()
        // The setup works (on a starved machine a clean retry may still run out of time).
        #expect(clean.wrong == 0 && clean.accepted + clean.failed == count && clean.accepted > 0)
        let sizes = await faulty.sizes
        #expect(sizes.outgoing.count >= count && sizes.incoming.count >= count)
        var runs = 0, totals = (accepted: 0, wrong: 0, failed: 0)
        for (direction, lengths) in [(FrameFault.Direction.outgoing, sizes.outgoing), (.incoming, sizes.incoming)] {
            for (frame, length) in lengths.enumerated() {
                for byte in 0..<length {
                    for mask: UInt8 in [1 << UInt8(byte % 8), 0xFF] {
                        await faulty.arm([FrameFault(direction, frame: frame, .corrupt(byte: byte, mask: mask))])
                        let r = await exchange()
                        runs += 1
                        totals.accepted += r.accepted
                        totals.wrong += r.wrong
                        totals.failed += r.failed
                        if r.wrong > 0 { Issue.record("a wrong reply was accepted: byte \(byte) of \(direction) frame \(frame)") }
                    }
                }
            }
        }
        #expect(runs > 500)
        #expect(totals.wrong == 0)
        // Every damaged frame is recovered by a retransmission, or (on a starved, loaded
        // machine, where a retry can run out of time) reported as an error — never lost silently.
        #expect(totals.accepted + totals.failed == runs * count)
        #expect(totals.failed * 20 <= runs * count, "\(totals.failed) of \(runs * count) requests failed")
        let stats = await client.statistics
        #expect(stats.decoder.crcErrors + stats.decoder.cobsErrors > 0 && stats.requests.retransmissions > 0)
        // Every (de-duplicated) echo request ran exactly once per exchange: re-sent copies
        // of executed requests were answered from the cache.
        let executions = await board.executions
        // (A request that failed may have run once or not at all, never twice.)
        for i in stride(from: 0, to: count, by: 2) {
            let n = executions[Self.request(i).1] ?? 0
            #expect(n <= runs + 1 && n >= runs + 1 - totals.failed)
        }
        await client.close()
    }
}
