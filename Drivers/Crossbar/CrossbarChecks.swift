import PNNLink
import PNNWire

/// Crossbar-specific conformance checks (docs/protocol.md §13). None programs a device
/// or sends a value outside the board's declared ranges.
enum CrossbarChecks {
    static func geometry(_ c: ConformanceContext) throws -> CrossbarGeometry {
        do {
            return try CrossbarGeometry.decode(c.hello.descriptor)
        } catch {
            throw ConformanceFailure("hello descriptor does not parse: \(error)")
        }
    }

    static func readPayload(row: Int, rows: Int, col: Int, cols: Int, vRead: Double) -> [UInt8] {
        var w = PayloadWriter()
        w.u16(UInt16(row))
        w.u16(UInt16(rows))
        w.u16(UInt16(col))
        w.u16(UInt16(cols))
        w.f64(vRead)
        return w.bytes
    }

    static func loadZeros(_ c: ConformanceContext, _ g: CrossbarGeometry, slot: UInt8, vectors: Int) async throws {
        var w = PayloadWriter()
        w.u8(slot)
        w.u16(UInt16(vectors))
        w.u16(0)
        w.u16(UInt16(vectors))
        w.f64s([Double](repeating: 0, count: vectors * g.rows))
        _ = try await c.client.request(CrossbarCommand.loadInputs, payload: w.bytes, retry: .idempotent)
    }

    static func streamPayload(slot: UInt8, frames: UInt32) -> [UInt8] {
        var w = PayloadWriter()
        w.u8(slot)
        w.u16(1)
        w.u32(frames)
        return w.bytes
    }

    /// The first frame of `stream` within `seconds`, or nil.
    static func firstFrame(of stream: AsyncStream<StreamData>, within seconds: Double) async -> StreamData? {
        await withTaskGroup(of: StreamData?.self) { group in
            group.addTask {
                for await f in stream { return f }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    static let all: [ConformanceCheck] = [
        ConformanceCheck(name: "descriptor", requirement: "§13.1 crossbar descriptor") { c in
            let g = try geometry(c)
            return "\(g.rows)×\(g.columns) devices, G \(g.gMin)…\(g.gMax) µS, ±\(g.vReadMax) V, batch ≤ \(g.maxBatch)"
        },
        ConformanceCheck(name: "identify", requirement: "§13 0x40") { c in
            let s = try CrossbarStatus.decode(try await c.client.request(CrossbarCommand.identify, retry: .idempotent))
            return "violations \(s.violations), pulses \(s.pulses), vectors \(s.vectors)"
        },
        ConformanceCheck(name: "read all", requirement: "§13 0x42 read, one request per row") { c in
            let g = try geometry(c)
            for row in 0..<g.rows {
                let p = try await c.client.request(
                    CrossbarCommand.read, payload: readPayload(row: row, rows: 1, col: 0, cols: g.columns, vRead: g.vReadMax / 2),
                    retry: .idempotent)
                guard p.count == g.columns * 8 else { throw ConformanceFailure("row \(row): \(p.count) bytes") }
                var r = PayloadReader(p)
                let values = try r.f64s(g.columns, field: "g")
                guard values.allSatisfy({ $0.isFinite && $0 > -g.gMax && $0 < 3 * g.gMax }) else {
                    throw ConformanceFailure("row \(row): implausible conductances \(values)")
                }
            }
            return "\(g.devices) conductances, plausible"
        },
        ConformanceCheck(name: "measure shape", requirement: "§13 0x46 loadInputs, 0x47 measure") { c in
            let g = try geometry(c)
            let n = min(4, g.maxBatch)
            try await loadZeros(c, g, slot: 0, vectors: n)
            var w = PayloadWriter()
            w.u8(0)
            w.u16(2)
            let p = try await c.client.request(CrossbarCommand.measure, payload: w.bytes, retry: .idempotent)
            guard p.count == n * g.outputs * 8 else { throw ConformanceFailure("\(p.count) bytes for \(n)×\(g.outputs)") }
            return "\(n) vectors → \(n)×\(g.outputs) currents"
        },
        ConformanceCheck(name: "probe without changes", requirement: "§13 0x48 probe") { c in
            let g = try geometry(c)
            try await loadZeros(c, g, slot: 1, vectors: 1)
            var w = PayloadWriter()
            w.u8(1)
            w.u16(1)
            w.u16(0)
            let p = try await c.client.request(CrossbarCommand.probe, payload: w.bytes, retry: .idempotent)
            guard p.count == g.outputs * 8 else { throw ConformanceFailure("\(p.count) bytes") }
            return "1 vector → \(g.outputs) currents"
        },
        ConformanceCheck(name: "bad payload", requirement: "§10 badPayload, nothing applied") { c in
            try await c.expectError(.badPayload, type: CrossbarCommand.identify, payload: [1, 2, 3])
        },
        ConformanceCheck(name: "incomplete queue refused", requirement: "§13 0x4A execute → queueIncomplete") { c in
            _ = try await c.client.request(CrossbarCommand.safeState, retry: .deduplicated)
            return try await c.expectError(.queueIncomplete, type: CrossbarCommand.execute)
        },
        ConformanceCheck(name: "empty slot refused", requirement: "§13 slotEmpty after a new hello") { c in
            _ = try await c.client.handshake(family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash)
            var w = PayloadWriter()
            w.u8(3)
            w.u16(1)
            return try await c.expectError(.slotEmpty, type: CrossbarCommand.measure, payload: w.bytes)
        },
        ConformanceCheck(name: "retransmission from cache", requirement: "§8 device-side de-duplication") { c in
            let g = try geometry(c)
            let payload = readPayload(row: 0, rows: 1, col: 0, cols: 1, vRead: g.vReadMax / 2)
            let first = Frame(type: CrossbarCommand.read, seq: 0x7E00, payload: payload)
            await c.sendRaw(first)
            guard let a = await c.nextUnmatched(timeout: 1) else { throw ConformanceFailure("no reply to a read") }
            var again = first
            again.flags.insert(.retransmission)
            await c.sendRaw(again)
            guard let b = await c.nextUnmatched(timeout: 1) else { throw ConformanceFailure("no reply to a retransmission") }
            guard a.payload == b.payload, b.seq == 0x7E00 else {
                throw ConformanceFailure("retransmission was executed again (different reply)")
            }
            return "retransmitted read answered byte-identically from the cache"
        },
        ConformanceCheck(name: "measurement stream", requirement: "§9 streams, §13 0x4B") { c in
            let g = try geometry(c)
            try await loadZeros(c, g, slot: 2, vectors: 1)
            let stream = await c.client.subscribe(stream: CrossbarCommand.measurementStream)
            var w = PayloadWriter()
            w.u8(2)
            w.u16(1)
            w.u32(50)
            let ticket = try await c.client.submit(CrossbarCommand.streamMeasure, payload: w.bytes, retry: .never, timeout: 5)
            var indices: [UInt32] = []
            for await data in stream {
                var r = PayloadReader(data.data)
                indices.append(try r.u32("index"))
                if indices.count == 50 { break }
            }
            _ = try await c.client.reply(to: ticket)
            await c.client.unsubscribe(stream: CrossbarCommand.measurementStream)
            guard indices == Array(0..<50) else { throw ConformanceFailure("stream frames out of order or missing") }
            return "50 frames pushed in order, then the reply"
        },
        ConformanceCheck(
            name: "stream counters restart at hello", requirement: "§9 counters restart at 0 on every hello"
        ) { c in
            let g = try geometry(c)
            let id = CrossbarCommand.measurementStream
            func stream(_ frames: UInt32) async throws {
                try await loadZeros(c, g, slot: 2, vectors: 1)
                let data = await c.client.subscribe(stream: id)
                let ticket = try await c.client.submit(
                    CrossbarCommand.streamMeasure, payload: streamPayload(slot: 2, frames: frames), retry: .never, timeout: 5)
                var count = 0
                for await _ in data {
                    count += 1
                    if count == frames { break }
                }
                _ = try await c.client.reply(to: ticket)
                await c.client.unsubscribe(stream: id)
            }
            try await stream(20)
            let lostBefore = await c.client.streamTracker.streams[id]?.lost ?? 0
            _ = try await c.client.handshake(family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash)
            try await stream(5)
            let tracker = await c.client.streamTracker
            guard let first = tracker.firstSeq[id] else { throw ConformanceFailure("no stream frame after the hello") }
            guard first == 0 else {
                throw ConformanceFailure("the first stream frame after a hello carried counter \(first), not 0")
            }
            let lost = (tracker.streams[id]?.lost ?? 0) - lostBefore
            guard lost == 0 else { throw ConformanceFailure("the restart at hello was counted as \(lost) lost frames") }
            return "counter back at 0 after a hello; the host counted no loss"
        },
        ConformanceCheck(name: "streamMeasure frames = 0", requirement: "§13 0x4B frames = 0 replies 0, slot checked") { c in
            let g = try geometry(c)
            try await loadZeros(c, g, slot: 2, vectors: 1)
            let stream = await c.client.subscribe(stream: CrossbarCommand.measurementStream)
            defer { Task { await c.client.unsubscribe(stream: CrossbarCommand.measurementStream) } }
            let reply = try await c.client.request(
                CrossbarCommand.streamMeasure, payload: streamPayload(slot: 2, frames: 0), retry: .never, timeout: 2)
            guard reply == [0, 0, 0, 0] else { throw ConformanceFailure("frames = 0 answered \(reply)") }
            let pushed = await firstFrame(of: stream, within: 0.2)
            guard pushed == nil else { throw ConformanceFailure("frames = 0 pushed a stream frame") }
            return "reply 0, nothing pushed"
        },
        ConformanceCheck(name: "error precedence", requirement: "§13.4 field checks precede slotEmpty") { c in
            _ = try await c.client.handshake(family: CrossbarFamily.family, schemaHash: CrossbarCommand.schemaHash)
            var w = PayloadWriter()
            w.u8(7)
            w.u16(1)
            _ = try await c.expectError(.badPayload, type: CrossbarCommand.measure, payload: w.bytes)
            var z = PayloadWriter()
            z.u8(0)
            z.u16(0)
            _ = try await c.expectError(.badPayload, type: CrossbarCommand.measure, payload: z.bytes)
            _ = try await c.expectError(
                .badPayload, type: CrossbarCommand.streamMeasure, payload: streamPayload(slot: 9, frames: 0))
            return "slot 7, repeats 0 and stream slot 9 on empty slots → badPayload, not slotEmpty"
        },
        ConformanceCheck(name: "safe state preempts a stream", requirement: "§6.1 safeState stops streams at once") { c in
            let g = try geometry(c)
            try await loadZeros(c, g, slot: 0, vectors: 1)
            let stream = await c.client.subscribe(stream: CrossbarCommand.measurementStream)
            defer { Task { await c.client.unsubscribe(stream: CrossbarCommand.measurementStream) } }
            let total: UInt32 = 1_000_000
            let ticket = try await c.client.submit(
                CrossbarCommand.streamMeasure, payload: streamPayload(slot: 0, frames: total), retry: .never, timeout: 3600)
            guard await firstFrame(of: stream, within: 10) != nil else { throw ConformanceFailure("the stream never started") }
            let queued = try await c.client.submit(CrossbarCommand.identify, retry: .never, timeout: 5)
            let clock = ContinuousClock()
            let asked = clock.now
            do {
                _ = try await c.client.request(CrossbarCommand.safeState, retry: .never, timeout: 5)
            } catch {
                throw ConformanceFailure("safeState was not answered within 5 s during a \(total)-frame stream: \(error)")
            }
            let latency = clock.now - asked
            for (t, what) in [(ticket, "the stream"), (queued, "an identify queued behind it")] {
                do {
                    _ = try await c.client.reply(to: t)
                    throw ConformanceFailure("\(what) was answered normally, not preempted")
                } catch LinkError.device(_, let reply) where reply.code == .preempted {}
            }
            // Keep the slot: safeState must not empty it.
            var w = PayloadWriter()
            w.u8(0)
            w.u16(1)
            _ = try await c.client.request(CrossbarCommand.measure, payload: w.bytes, retry: .idempotent)
            return "answered after \(Int((latency.seconds * 1000).rounded())) ms; stream and queued request preempted; slot kept"
        },
        ConformanceCheck(name: "safe state", requirement: "§13 0x4C") { c in
            _ = try await c.client.request(CrossbarCommand.safeState, retry: .deduplicated)
            let s = try CrossbarStatus.decode(try await c.client.request(CrossbarCommand.identify, retry: .idempotent))
            guard s.safe, s.queued == 0 else { throw ConformanceFailure("identify reports safe=\(s.safe), queued=\(s.queued)") }
            return "board reports safe, queue empty"
        },
    ]
}
