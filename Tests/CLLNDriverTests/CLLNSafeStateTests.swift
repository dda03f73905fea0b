import PNNCore
import PNNLink
import PNNSim
import PNNTransport
import PNNWire
import Testing

@testable import CLLNDriver

/// docs/protocol.md §6.1 for the CLLN family: `safeState` during a long schedule is
/// answered at once, the schedule ends `aborted`, queued requests are answered `preempted`.
@Suite struct CLLNSafeStateTests {
    @Test func safeStateDuringALongScheduleIsAnsweredAtOnce() async throws {
        let emulator = try CLLNEmulator(state: EmulatedCLLN.state(), serial: "SAFE-C")
        let (host, device) = MemoryLink.pair(seed: 4)
        let server = WireServer(endpoint: emulator, transport: device)
        let serving = Task { await server.run() }
        defer { serving.cancel() }
        let client = WireClient(transport: host)
        let hello = try await client.handshake(family: CLLNFamily.family, schemaHash: CLLNCommand.schemaHash)
        let info = try CLLNBoardInfo.decode(hello.descriptor)
        let topology = try CLLNCoding.decodeTopology(try await CLLNBoard.pages(CLLNCommand.topology, on: client))
        let v = CLLNFamily.midSources(info, topology)
        let point = ContrastivePoint(inputs: v, labels: Array(repeating: 0, count: info.outputs))
        let dataset = ContrastiveDataset(tasks: [ContrastiveTask(name: "t", classification: false, points: [point, point])])
        let bytes = CLLNCoding.encode(dataset, inputs: info.inputs, outputs: info.outputs)
        var w = PayloadWriter()
        w.u32(UInt32(bytes.count))
        w.u32(CRC32.checksum(bytes))
        w.u32(0)
        w.raw(bytes)
        _ = try await client.request(CLLNCommand.loadDataset, payload: w.bytes, retry: .deduplicated)

        let slack = try await SafeStateSlack.measure(client)
        // 10⁷ periods: hours of simulation if nothing stopped it.
        let schedule = ContrastiveSchedule(
            method: .coupled, eta: 0.5, stepSeconds: 1e-4, periodSeconds: 4e-4, periods: 10_000_000, recordEvery: 1)
        let records = await client.subscribe(stream: CLLNCommand.recordStream)
        _ = try await client.request(CLLNCommand.runSchedule, payload: CLLNCoding.encode(schedule), retry: .deduplicated)
        var iterator = records.makeAsyncIterator()
        for _ in 0..<20 { _ = await iterator.next() }
        let queued = try await client.submit(CLLNCommand.learn, payload: [0, 0, 0, 0, 0, 0, 0, 0], retry: .never, timeout: 5)

        let clock = ContinuousClock()
        let asked = clock.now
        _ = try await client.request(CLLNCommand.safeState, retry: .never, timeout: 5)
        let milliseconds: Double = (clock.now - asked).seconds * 1000
        print("CLLN safeState latency \(milliseconds) ms (slack \(slack) ms)")
        #expect(milliseconds < 50 + slack)

        // The learn was either refused as scheduleRunning (it arrived while the schedule
        // ran) or preempted; it never ran.
        var code: WireErrorCode?
        do {
            _ = try await client.reply(to: queued)
        } catch {
            if case .device(_, let reply) = error { code = reply.code }
        }
        let refused: Bool = code == .preempted || code == .scheduleRunning
        #expect(refused, "the queued learn got \(String(describing: code))")

        var end: CLLNStreamFrame?
        while let data = await iterator.next() {
            let frame = try CLLNStreamFrame.decode(data.data)
            if case .end = frame {
                end = frame
                break
            }
        }
        var aborted = false
        if case .end(_, .aborted, _) = end { aborted = true }
        #expect(aborted, "end frame \(String(describing: end))")
        var status = try CLLNStatus.decode(try await client.request(CLLNCommand.identify, retry: .idempotent))
        for _ in 0..<40 where status.running {
            try await Task.sleep(for: .milliseconds(25))
            status = try CLLNStatus.decode(try await client.request(CLLNCommand.identify, retry: .idempotent))
        }
        let safe: Bool = status.safe
        let running: Bool = status.running
        #expect(safe)
        #expect(!running)
        await client.close()
    }
}

/// How late this machine answers right now: 10 × the median of 7 ping round trips on the
/// idle link, in ms (a few ms idle; grows when the test process is starved).
enum SafeStateSlack {
    static func measure(_ client: WireClient) async throws -> Double {
        let clock = ContinuousClock()
        var times: [Double] = []
        for _ in 0..<7 {
            let t = clock.now
            _ = try await client.request(.ping, payload: [1], retry: .never, timeout: 30)
            times.append((clock.now - t).seconds * 1000)
        }
        return 10 * times.sorted()[3]
    }
}
