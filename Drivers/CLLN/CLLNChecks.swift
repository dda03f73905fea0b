import Foundation
import PNNCore
import PNNLink
import PNNWire

/// CLLN-specific conformance checks (docs/protocol.md §14). None sends an unsafe value that
/// the check does not expect the board to refuse.
enum CLLNChecks {
    static func info(_ c: ConformanceContext) throws -> CLLNBoardInfo {
        do {
            return try CLLNBoardInfo.decode(c.hello.descriptor)
        } catch {
            throw ConformanceFailure("hello descriptor does not parse: \(error)")
        }
    }

    static func topology(_ c: ConformanceContext) async throws -> NetworkTopology {
        try CLLNCoding.decodeTopology(try await CLLNBoard.pages(CLLNCommand.topology, on: c.client))
    }

    static func status(_ c: ConformanceContext) async throws -> CLLNStatus {
        try CLLNStatus.decode(try await c.client.request(CLLNCommand.identify, retry: .idempotent))
    }

    static func values(_ v: [Double]) -> [UInt8] {
        var w = PayloadWriter()
        w.f64s(v)
        return w.bytes
    }

    static func gates(_ c: ConformanceContext, _ i: CLLNBoardInfo) async throws -> [Double] {
        var w = PayloadWriter()
        w.u16(0)
        w.u16(UInt16(min(i.trainable, CLLNCommand.maxValues)))
        return try ReplyPayload.doubles(
            try await c.client.request(CLLNCommand.readGates, payload: w.bytes, retry: .idempotent),
            count: min(i.trainable, CLLNCommand.maxValues), request: "readGates")
    }

    static func setMidSources(_ c: ConformanceContext) async throws -> [Double] {
        let v = CLLNFamily.midSources(try info(c), try await topology(c))
        _ = try await c.client.request(CLLNCommand.setSources, payload: values(v), retry: .deduplicated)
        return v
    }

    /// A dataset of `points` copies of the mid-rail point per task, labels at 0.
    static func dataset(_ c: ConformanceContext, tasks: Int, points: Int) async throws -> ContrastiveDataset {
        let i = try info(c)
        let v = CLLNFamily.midSources(i, try await topology(c))
        let point = ContrastivePoint(inputs: v, labels: Array(repeating: 0, count: i.outputs))
        return ContrastiveDataset(
            tasks: (0..<tasks).map {
                ContrastiveTask(name: "t\($0)", classification: false, points: Array(repeating: point, count: points))
            })
    }

    /// Sends the dataset bytes in chunks with `crc`; returns the replies (held, points).
    static func load(_ c: ConformanceContext, _ bytes: [UInt8], crc: UInt32) async throws -> [(Int, Int)] {
        var replies: [(Int, Int)] = []
        var offset = 0
        while offset < bytes.count {
            let n = min(CLLNCommand.pageBytes, bytes.count - offset)
            var w = PayloadWriter()
            w.u32(UInt32(bytes.count))
            w.u32(crc)
            w.u32(UInt32(offset))
            w.raw(Array(bytes[offset..<(offset + n)]))
            var r = PayloadReader(try await c.client.request(CLLNCommand.loadDataset, payload: w.bytes, retry: .deduplicated))
            replies.append((Int(try r.u32("held")), Int(try r.u32("points"))))
            offset += n
        }
        return replies
    }

    static let all: [ConformanceCheck] = [
        ConformanceCheck(name: "descriptor", requirement: "§14.1 CLLN descriptor") { c in
            let i = try info(c)
            return "\(i.nodes) nodes, \(i.edges) edges (\(i.trainable) trainable), \(i.inputs) sources, \(i.outputs) outputs, "
                + "G ≤ \(i.gateMax) V, V+ \(i.vPlus) V, V− \(i.vMinus) V"
        },
        ConformanceCheck(name: "topology", requirement: "§14 0x51 topology pages, CRC-32 as in the hello") { c in
            let i = try info(c)
            let bytes = try await CLLNBoard.pages(CLLNCommand.topology, on: c.client)
            guard bytes.count == i.topologyBytes, CRC32.checksum(bytes) == i.topologyCRC else {
                throw ConformanceFailure("topology is \(bytes.count) bytes with a CRC-32 other than the hello's")
            }
            let t = try CLLNCoding.decodeTopology(bytes)
            guard t.nodeCount == i.nodes, t.edges.count == i.edges, t.inputNodes.count == i.inputs,
                t.outputs.count == i.outputs, t.edges.allSatisfy({ $0.a != $0.b })
            else { throw ConformanceFailure("topology counts differ from the hello or an edge is a self loop") }
            return "\(bytes.count) bytes, CRC-32 matches, \(t.edges.count) edges without self loops"
        },
        ConformanceCheck(name: "identify", requirement: "§14 0x50") { c in
            let s = try await status(c)
            return "violations \(s.violations), learns \(s.learns), running \(s.running)"
        },
        ConformanceCheck(name: "unsafe source refused", requirement: "§14.3 outOfRange, not executed, counted") { c in
            let i = try info(c)
            let v = try await setMidSources(c)
            var w = PayloadWriter()
            w.u8(NetworkSide.free.rawValue)
            w.u16(0)
            w.u16(UInt16(i.nodes))
            let before = try await c.client.request(CLLNCommand.readNodes, payload: w.bytes, retry: .idempotent)
            let count = try await status(c).violations
            var bad = v
            bad[0] = i.inputHigh + 1
            _ = try await c.expectError(.outOfRange, type: CLLNCommand.setSources, payload: values(bad))
            let after = try await c.client.request(CLLNCommand.readNodes, payload: w.bytes, retry: .idempotent)
            let now = try await status(c).violations
            guard now == count &+ 1 else { throw ConformanceFailure("violations went \(count) → \(now), expected +1") }
            guard before == after else { throw ConformanceFailure("node voltages changed after a refused source") }
            return "source \(bad[0]) V refused, nodes unchanged, violations +1"
        },
        ConformanceCheck(name: "unsafe gate refused", requirement: "§14.3 writeGates outside [0, G_max]") { c in
            let i = try info(c)
            let before = try await gates(c, i)
            var w = PayloadWriter()
            w.u16(0)
            w.u16(1)
            w.f64(i.gateMax + 0.5)
            let detail = try await c.expectError(.outOfRange, type: CLLNCommand.writeGates, payload: w.bytes)
            guard try await gates(c, i) == before else { throw ConformanceFailure("gates changed after a refused write") }
            return detail
        },
        ConformanceCheck(name: "learn(0) changes nothing", requirement: "§14 0x57 learn") { c in
            let i = try info(c)
            _ = try await setMidSources(c)
            let before = try await gates(c, i)
            _ = try await c.client.request(CLLNCommand.learn, payload: values([0]), retry: .deduplicated)
            guard try await gates(c, i) == before else { throw ConformanceFailure("a zero-length learn moved the gates") }
            _ = try await c.expectError(.outOfRange, type: CLLNCommand.learn, payload: values([i.maxLearn * 2]))
            return "gates unchanged; learn of \(i.maxLearn * 2) s refused"
        },
        ConformanceCheck(name: "dataset chunks", requirement: "§14 0x5A reassembly, CRC-32, datasetCorrupt") { c in
            let i = try info(c)
            let per = 8 * (i.inputs + i.outputs)
            let d = try await dataset(c, tasks: 1, points: CLLNCommand.pageBytes / per + 8)
            let bytes = CLLNCoding.encode(d, inputs: i.inputs, outputs: i.outputs)
            do {
                _ = try await load(c, bytes, crc: CRC32.checksum(bytes) ^ 1)
                throw ConformanceFailure("a dataset with a wrong CRC-32 was accepted")
            } catch LinkError.device(_, let reply) where reply.code == .datasetCorrupt {}
            let replies = try await load(c, bytes, crc: CRC32.checksum(bytes))
            guard replies.count >= 2, replies.last! == (bytes.count, d.pointCount), replies.first!.1 == 0 else {
                throw ConformanceFailure("replies \(replies) for \(bytes.count) bytes, \(d.pointCount) points")
            }
            return "\(bytes.count) bytes in \(replies.count) chunks → \(d.pointCount) points; wrong CRC refused"
        },
        ConformanceCheck(name: "schedule stream", requirement: "§14 0x5B records on stream 2, then the end frame") { c in
            let i = try info(c)
            let d = try await dataset(c, tasks: 2, points: 2)
            let bytes = CLLNCoding.encode(d, inputs: i.inputs, outputs: i.outputs)
            _ = try await load(c, bytes, crc: CRC32.checksum(bytes))
            let bad = ContrastiveSchedule(method: .coupled, eta: 2, periodSeconds: 4e-4, periods: 2)
            _ = try await c.expectError(.outOfRange, type: CLLNCommand.runSchedule, payload: CLLNCoding.encode(bad))
            let s = ContrastiveSchedule(method: .coupled, eta: 0.5, stepSeconds: 1e-4, periodSeconds: 4e-4, periods: 2)
            let stream = await c.client.subscribe(stream: CLLNCommand.recordStream)
            _ = try await c.client.request(CLLNCommand.runSchedule, payload: CLLNCoding.encode(s), retry: .deduplicated)
            var records = 0
            var end: CLLNStreamFrame?
            for await data in stream {
                let frame = try CLLNStreamFrame.decode(data.data)
                if case .part(_, let part, let parts, _) = frame, part + 1 == parts { records += 1 }
                if case .end = frame {
                    end = frame
                    break
                }
            }
            await c.client.unsubscribe(stream: CLLNCommand.recordStream)
            guard case .end(let n, .done, _) = end, Int(n) == records, records == 5 else {
                throw ConformanceFailure("stream ended with \(String(describing: end)) after \(records) records (expected 5)")
            }
            return "5 records (start + 4 slot ends), then end frame 'done'"
        },
        ConformanceCheck(name: "debug state", requirement: "§14 0x5E emulator only") { c in
            let (_, emulator) = CLLNCapabilityBits.decode(c.hello.capabilities)
            var w = PayloadWriter()
            w.u32(0)
            guard emulator else { return try await c.expectError(.notSupported, type: CLLNCommand.debugState, payload: w.bytes) }
            let json = try await CLLNBoard.pages(CLLNCommand.debugState, on: c.client)
            guard (try? JSONSerialization.jsonObject(with: Data(json))) != nil else {
                throw ConformanceFailure("debugState is not JSON")
            }
            return "\(json.count) bytes of JSON state"
        },
        ConformanceCheck(name: "bad payload", requirement: "§10 badPayload, nothing applied") { c in
            try await c.expectError(.badPayload, type: CLLNCommand.identify, payload: [1, 2, 3])
        },
        ConformanceCheck(name: "error precedence", requirement: "§14.4 field checks precede range checks") { c in
            let i = try info(c)
            let before = try await status(c).violations
            var w = PayloadWriter()
            w.u8(3)
            w.f64(2)
            w.f64s(Array(repeating: i.outputHigh + 1, count: i.outputs))
            _ = try await c.expectError(.badPayload, type: CLLNCommand.setClamp, payload: w.bytes)
            guard try await status(c).violations == before else {
                throw ConformanceFailure("a clamp with mode 3 was counted as a violation")
            }
            return "clamp mode 3 with η = 2 → badPayload, no violation counted"
        },
        ConformanceCheck(name: "safe state preempts a schedule", requirement: "§6.1, §14 0x5D stops a schedule at once") { c in
            let i = try info(c)
            let d = try await dataset(c, tasks: 2, points: 2)
            let bytes = CLLNCoding.encode(d, inputs: i.inputs, outputs: i.outputs)
            _ = try await load(c, bytes, crc: CRC32.checksum(bytes))
            let s = ContrastiveSchedule(
                method: .coupled, eta: 0.5, stepSeconds: 1e-4, periodSeconds: 4e-4, periods: 10_000_000, recordEvery: 1)
            let stream = await c.client.subscribe(stream: CLLNCommand.recordStream)
            defer { Task { await c.client.unsubscribe(stream: CLLNCommand.recordStream) } }
            _ = try await c.client.request(CLLNCommand.runSchedule, payload: CLLNCoding.encode(s), retry: .deduplicated)
            var iterator = stream.makeAsyncIterator()
            guard await iterator.next() != nil else { throw ConformanceFailure("the schedule streamed nothing") }
            let clock = ContinuousClock()
            let asked = clock.now
            do {
                _ = try await c.client.request(CLLNCommand.safeState, retry: .never, timeout: 5)
            } catch {
                throw ConformanceFailure("safeState was not answered within 5 s during a schedule: \(error)")
            }
            let latency = clock.now - asked
            var end: CLLNStreamFrame?
            while let data = await iterator.next() {
                if case .end = try CLLNStreamFrame.decode(data.data) {
                    end = try CLLNStreamFrame.decode(data.data)
                    break
                }
            }
            guard case .end(_, .aborted, _) = end else {
                throw ConformanceFailure("the schedule ended with \(String(describing: end)), expected 'aborted'")
            }
            var st = try await status(c)
            for _ in 0..<200 where st.running {  // an aborted loop may take a moment to wind down
                try await Task.sleep(for: .milliseconds(50))
                st = try await status(c)
            }
            guard st.safe, !st.running, st.datasetPoints > 0 else {
                throw ConformanceFailure("after safeState: safe=\(st.safe), running=\(st.running), points=\(st.datasetPoints)")
            }
            return "answered after \(Int((latency.seconds * 1000).rounded())) ms; end frame 'aborted'; dataset kept"
        },
        ConformanceCheck(name: "safe flag", requirement: "§14.3 what sets and clears safe") { c in
            _ = try await c.client.request(CLLNCommand.safeState, retry: .deduplicated)
            _ = try await c.client.request(CLLNCommand.learn, payload: values([0]), retry: .deduplicated)
            guard try await status(c).safe else { throw ConformanceFailure("learn(0) cleared safe") }
            _ = try await setMidSources(c)
            guard try await !status(c).safe else { throw ConformanceFailure("setSources left safe = 1") }
            return "learn keeps safe = 1, setSources clears it"
        },
        ConformanceCheck(name: "safe state", requirement: "§14 0x5D") { c in
            _ = try await c.client.request(CLLNCommand.safeState, retry: .deduplicated)
            let s = try await status(c)
            guard s.safe, !s.running else { throw ConformanceFailure("identify reports safe=\(s.safe), running=\(s.running)") }
            return "board reports safe, no schedule running"
        },
    ]
}
