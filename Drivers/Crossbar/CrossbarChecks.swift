import PNNLink
import PNNWire

/// Crossbar-specific conformance checks (docs/protocol.md §13). None sends a value outside
/// the board's declared ranges; only the saturation check programs devices, temporarily,
/// through one `probe` (which restores them).
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

    static func configure(_ c: ConformanceContext, rows: [CrossbarLineMode], columns: [CrossbarLineMode]) async throws {
        _ = try await c.client.request(
            CrossbarCommand.configure, payload: (rows + columns).map(\.rawValue), retry: .idempotent)
    }

    /// §13.3 Saturation: only column 0 (output 0's G+) is sensed and only the first m rows
    /// are driven; a probe holds those m devices at gMax while a ramp of inputs 0 … vReadMax
    /// on every driven row is measured, so output 0 sweeps 0 … m·vReadMax·gMax µA. The reply
    /// must never exceed fullScale, must not decrease along the ramp, and must count as
    /// saturated exactly the readings that clip: every one predicted (from the ramp's own
    /// unclipped readings) more than 5 % above fullScale, none more than 5 % below it (no other
    /// column is sensed, so no other output can clip).
    static func saturation(_ c: ConformanceContext) async throws -> String {
        let g = try geometry(c)
        let vectors = min(g.maxBatch, 16)
        guard vectors >= 2 else { return "not checked: a slot holds \(g.maxBatch) vector (a ramp needs 2)" }
        let m = min(g.rows, g.maxTargets)
        var rows = [CrossbarLineMode](repeating: .float, count: g.rows)
        for r in 0..<m { rows[r] = .active }
        var columns = [CrossbarLineMode](repeating: .float, count: g.columns)
        columns[0] = .active
        try await configure(c, rows: rows, columns: columns)
        var ramp: [Double] = []
        for k in 0..<vectors {
            let v = g.vReadMax * Double(k) / Double(vectors - 1)
            ramp += (0..<g.rows).map { $0 < m ? v : 0 }
        }
        var load = PayloadWriter()
        load.u8(3)
        load.u16(UInt16(vectors))
        load.u16(0)
        load.u16(UInt16(vectors))
        load.f64s(ramp)
        let readings: CrossbarReadings
        do {
            _ = try await c.client.request(CrossbarCommand.loadInputs, payload: load.bytes, retry: .idempotent)
            var w = PayloadWriter()
            w.u8(3)
            w.u16(1)
            w.u16(UInt16(m))
            for r in 0..<m {
                w.u32(UInt32(r * g.columns))  // parameter of (row r, column 0)
                w.f64(g.gMax)
            }
            let p = try await c.client.request(CrossbarCommand.probe, payload: w.bytes, retry: .deduplicated, timeout: 5)
            guard p.count == CrossbarReadings.byteCount(vectors * g.outputs) else {
                throw ConformanceFailure("probe reply is \(p.count) bytes for \(vectors)×\(g.outputs) currents and the count")
            }
            var r = PayloadReader(p)
            readings = try CrossbarReadings.decode(&r, count: vectors * g.outputs)
        } catch {
            try? await configure(
                c, rows: .init(repeating: .active, count: g.rows), columns: .init(repeating: .active, count: g.columns))
            throw error
        }
        try await configure(
            c, rows: .init(repeating: .active, count: g.rows), columns: .init(repeating: .active, count: g.columns))
        let out = (0..<vectors).map { readings.currents[$0 * g.outputs] }
        let slack = max(g.adcStep, 1e-9 * g.fullScale)
        let noise = max(2 * g.adcStep, 0.01 * g.fullScale)
        for (k, i) in out.enumerated() where !(i <= g.fullScale + slack) {
            throw ConformanceFailure("ramp point \(k) read \(i) µA, beyond the full scale \(g.fullScale) µA (not clipped)")
        }
        for k in 1..<vectors where out[k] < out[k - 1] - noise {
            throw ConformanceFailure("the reading fell from \(out[k - 1]) to \(out[k]) µA as the input rose (not monotonic)")
        }
        // The array's actual slope (µA per ramp step) from the highest reading well below full
        // scale — device windows spread and drift, so gMax is only an upper bound — and from
        // it each point's predicted current; points within ±5 % of full scale may go either way.
        let fraction = { (k: Int) in Double(k) / Double(vectors - 1) }
        let linear = (1..<vectors).last { out[$0] < 0.9 * g.fullScale }
        let slope = linear.map { out[$0] / fraction($0) } ?? Double(m) * g.vReadMax * g.gMax
        func predicted(_ k: Int) -> Double { slope * fraction(k) }
        let surely = linear == nil ? 0 : (0..<vectors).count { predicted($0) > 1.05 * g.fullScale }
        let possibly = (0..<vectors).count { predicted($0) > 0.95 * g.fullScale }
        guard readings.saturated >= surely, readings.saturated <= max(possibly, linear == nil ? vectors - 1 : 0) else {
            throw ConformanceFailure(
                "\(readings.saturated) readings flagged saturated; \(surely)…\(possibly) of the ramp's \(vectors) clip "
                    + "(readings \(out.map { String(format: "%.3g", $0) }.joined(separator: ", ")) µA)")
        }
        for k in (vectors - readings.saturated)..<vectors where abs(out[k] - g.fullScale) > slack + noise {
            throw ConformanceFailure("flagged ramp point \(k) read \(out[k]) µA, not the full scale \(g.fullScale) µA")
        }
        if possibly == 0 {
            return "full scale \(g.fullScale) µA is beyond the largest current (\(predicted(vectors - 1)) µA): "
                + "nothing clipped or flagged, readings monotonic"
        }
        return "\(readings.saturated) of \(vectors) ramp readings flagged and clipped at \(g.fullScale) µA, monotonic"
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
            guard p.count == CrossbarReadings.byteCount(n * g.outputs) else {
                throw ConformanceFailure("\(p.count) bytes for \(n)×\(g.outputs) currents and the saturation count")
            }
            var r = PayloadReader(p)
            let readings = try CrossbarReadings.decode(&r, count: n * g.outputs)
            guard readings.saturated == 0 else {
                throw ConformanceFailure("zero inputs reported \(readings.saturated) saturated outputs")
            }
            return "\(n) vectors → \(n)×\(g.outputs) currents, none saturated"
        },
        ConformanceCheck(name: "probe without changes", requirement: "§13 0x48 probe") { c in
            let g = try geometry(c)
            try await loadZeros(c, g, slot: 1, vectors: 1)
            var w = PayloadWriter()
            w.u8(1)
            w.u16(1)
            w.u16(0)
            let p = try await c.client.request(CrossbarCommand.probe, payload: w.bytes, retry: .idempotent)
            guard p.count == CrossbarReadings.byteCount(g.outputs) else { throw ConformanceFailure("\(p.count) bytes") }
            return "1 vector → \(g.outputs) currents"
        },
        ConformanceCheck(
            name: "saturation is flagged and clipped monotonically",
            requirement: "§13.3 Saturation: clip at ±fullScale, monotonic, counted in the reply", run: saturation),
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
