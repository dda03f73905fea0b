import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The device side of a crossbar board, backed by the crossbar twin's physics: executes
/// the command set of docs/protocol.md §13 exactly as firmware would, including the
/// board's own range checks. Every out-of-range value that reaches it is refused and
/// counted in `violations` — the figure the safety tests require to stay 0.
public actor CrossbarEmulator: DeviceEndpoint {
    public nonisolated let hello: HelloReply
    /// Geometry and ranges declared in the hello.
    public nonisolated let geometry: CrossbarGeometry
    private var physics: CrossbarPhysics
    private var slots: [InputSlot?]
    private var queue: [Double?]
    private var rowActive: [Bool]
    private var colActive: [Bool]
    private var violations: UInt32 = 0
    private var safe = true
    /// ADC columns that break when the armed fault is injected (`injectArmedFault`).
    private var armedADCColumns: [Int]

    struct InputSlot {
        var inputs: Matrix
        var held: [Bool]
        var count: Int
        var complete: Bool { count == inputs.rows }
    }

    /// An emulated board around `physics`; `serial` and `model` go into the hello.
    /// `armedADCColumns` (physical columns, 0..<2·outputs) break when `injectArmedFault()` is
    /// called — `pnnlab emulate` calls it on SIGUSR1.
    public init(
        physics: CrossbarPhysics, serial: String, model: String = "pnnlab-emu-crossbar", armedADCColumns: [Int] = []
    ) {
        self.physics = physics
        self.armedADCColumns = armedADCColumns.filter { (0..<physics.config.physicalColumns).contains($0) }
        let geometry = CrossbarGeometry(config: physics.config)
        self.geometry = geometry
        self.hello = HelloReply(
            schemaHash: CrossbarCommand.schemaHash, family: "crossbar", model: model, serial: serial,
            firmware: "emu-1.0", capabilities: CrossbarCapabilityBits.encode([.resettable, .drifting], emulator: true),
            descriptor: geometry.encode())
        self.slots = Array(repeating: nil, count: CrossbarCommand.inputSlots)
        self.queue = Array(repeating: nil, count: geometry.devices)
        self.rowActive = Array(repeating: true, count: geometry.rows)
        self.colActive = Array(repeating: true, count: geometry.columns)
    }

    /// Out-of-range values received and refused so far.
    public var violationCount: Int { Int(violations) }

    /// The twin's counters (pulses, reads, vectors…), for tests and benchmarks.
    public var physicsStatistics: CrossbarStatistics { physics.statistics }

    /// Present conductances without read noise (simulation-only view).
    public func trueConductances() -> [Double] { physics.trueConductances() }

    /// The twin's full state as JSON (simulation-only view: the hidden truth a calibration
    /// over the link is compared with in tests).
    public func exportState() throws -> Data { try physics.exportState() }

    /// ADC columns that read 0 (broken at start, by an injected fault or drawn from the seed).
    public var deadADCColumns: [Int] { physics.deadColumns }

    public func sessionReset() async {
        slots = Array(repeating: nil, count: CrossbarCommand.inputSlots)
    }

    /// `safeState` preempts every other command (docs/protocol.md §6.1).
    public nonisolated var preemptingCommands: Set<FrameType> { [CrossbarCommand.safeState] }

    public func handle(_ type: FrameType, payload: [UInt8], push: StreamPusher) async throws(ErrorReply) -> [UInt8] {
        if let expected = expectedLength(type, payload), expected != payload.count {
            throw ErrorReply(
                code: .badPayload,
                message: "\(CrossbarCommand.name(of: type)) payload is \(payload.count) bytes, expected \(expected)")
        }
        var r = PayloadReader(payload)
        do throws {
            let reply = try await dispatch(type, &r, push: push)
            try r.expectEnd()
            return reply
        } catch let refusal as ErrorReply {
            throw refusal
        } catch {
            throw ErrorReply(code: .badPayload, message: "\(error)")
        }
    }

    private func dispatch(_ type: FrameType, _ r: inout PayloadReader, push: StreamPusher)
        async throws -> [UInt8]
    {
        switch type {
        case CrossbarCommand.identify:
            return status().encode()
        case CrossbarCommand.configure:
            let rows = try r.raw(geometry.rows, field: "rowModes")
            let cols = try r.raw(geometry.columns, field: "colModes")
            guard (rows + cols).allSatisfy({ CrossbarLineMode(rawValue: $0) != nil }) else {
                throw PayloadError.invalidValue(field: "modes", reason: "a mode is not 0 (float), 1 (active) or 2 (ground)")
            }
            rowActive = rows.map { $0 == CrossbarLineMode.active.rawValue }
            colActive = cols.map { $0 == CrossbarLineMode.active.rawValue }
            return []
        case CrossbarCommand.read:
            return try readRegion(&r)
        case CrossbarCommand.pulse, CrossbarCommand.pulseRead:
            return try pulse(&r, thenRead: type == CrossbarCommand.pulseRead)
        case CrossbarCommand.programVerify:
            return try programVerify(&r)
        case CrossbarCommand.loadInputs:
            return try loadInputs(&r)
        case CrossbarCommand.measure:
            let slot = try r.u8("slot")
            let repeats = Int(try r.u16("repeats"))
            try checkSlotAndRepeats(slot, repeats)
            return encodeReadings(try measure(slot: slot, repeats: repeats))
        case CrossbarCommand.probe:
            return try probe(&r)
        case CrossbarCommand.queueTargets:
            return try queueTargets(&r)
        case CrossbarCommand.execute:
            return try execute()
        case CrossbarCommand.streamMeasure:
            return try await streamMeasure(&r, push: push)
        case CrossbarCommand.safeState:
            // Streams were stopped by the server (preemption); slots and line modes are kept.
            queue = Array(repeating: nil, count: geometry.devices)
            safe = true
            return []
        default:
            throw Refusal(.unknownCommand, "type \(type) is not a crossbar command")
        }
    }

    /// The exact payload length of a request, from its count fields, so a malformed request
    /// is refused before anything is executed (nil: unknown type or too short to tell).
    private func expectedLength(_ type: FrameType, _ p: [UInt8]) -> Int? {
        func u16(at i: Int) -> Int? { p.count >= i + 2 ? Int(p[i]) | Int(p[i + 1]) << 8 : nil }
        switch type {
        case CrossbarCommand.identify, CrossbarCommand.execute, CrossbarCommand.safeState: return 0
        case CrossbarCommand.configure: return geometry.rows + geometry.columns
        case CrossbarCommand.read: return 16
        case CrossbarCommand.pulse: return 20
        case CrossbarCommand.pulseRead: return 28
        case CrossbarCommand.programVerify: return u16(at: 0).map { 2 + 12 * $0 }
        case CrossbarCommand.loadInputs: return u16(at: 5).map { 7 + 8 * $0 * geometry.rows }
        case CrossbarCommand.measure: return 3
        case CrossbarCommand.probe: return u16(at: 3).map { 5 + 12 * $0 }
        case CrossbarCommand.queueTargets: return u16(at: 4).map { 6 + 8 * $0 }
        case CrossbarCommand.streamMeasure: return 7
        default: return nil
        }
    }

    // MARK: Commands

    private func status() -> CrossbarStatus {
        let s = physics.statistics
        return CrossbarStatus(
            violations: violations, pulses: UInt32(truncatingIfNeeded: s.pulses),
            verifies: UInt32(truncatingIfNeeded: s.programAndVerifyCalls), vectors: UInt64(s.vectorsMeasured),
            queued: UInt32(queue.count { $0 != nil }), safe: safe)
    }

    private func readRegion(_ r: inout PayloadReader) throws -> [UInt8] {
        let row0 = Int(try r.u16("row0")), rows = Int(try r.u16("rows"))
        let col0 = Int(try r.u16("col0")), cols = Int(try r.u16("cols"))
        let vRead = try r.f64("vRead")
        guard row0 + rows <= geometry.rows, col0 + cols <= geometry.columns, rows > 0, cols > 0 else {
            throw PayloadError.invalidValue(field: "region", reason: "outside the \(geometry.rows)×\(geometry.columns) array")
        }
        try checkReadVoltage(vRead)
        guard rows * cols * 8 <= 4_089 else { throw Refusal(.tooLarge, "read at most 511 devices per request") }
        var w = PayloadWriter()
        for row in row0..<(row0 + rows) {
            for col in col0..<(col0 + cols) { w.f64(physics.read(device: row * geometry.columns + col)) }
        }
        return w.bytes
    }

    private func pulse(_ r: inout PayloadReader, thenRead: Bool) throws -> [UInt8] {
        let row = Int(try r.u16("row")), col = Int(try r.u16("col"))
        let amplitude = try r.f64("amplitude"), width = try r.f64("width")
        let vRead = thenRead ? try r.f64("vRead") : 0
        guard row < geometry.rows, col < geometry.columns else {
            throw PayloadError.invalidValue(field: "device", reason: "(\(row),\(col)) is outside the array")
        }
        guard amplitude.isFinite, amplitude != 0, abs(amplitude) <= geometry.vPulseMax else {
            throw refuse("pulse amplitude \(amplitude) V is outside ±\(geometry.vPulseMax) V (and must not be 0)")
        }
        guard width.isFinite, width >= geometry.widthMin, width <= geometry.widthMax else {
            throw refuse("pulse width \(width) ns is outside [\(geometry.widthMin), \(geometry.widthMax)] ns")
        }
        if thenRead { try checkReadVoltage(vRead) }
        let device = row * geometry.columns + col
        safe = false
        physics.pulse(device: device, set: amplitude > 0)
        guard thenRead else { return [] }
        var w = PayloadWriter()
        w.f64(physics.read(device: device))
        return w.bytes
    }

    private func readTargets(_ r: inout PayloadReader) throws -> [(Int, Double)] {
        let n = Int(try r.u16("n"))
        guard n <= geometry.maxTargets else { throw Refusal(.tooLarge, "at most \(geometry.maxTargets) targets per request") }
        var pairs: [(Int, Double)] = []
        pairs.reserveCapacity(n)
        for _ in 0..<n { pairs.append((Int(try r.u32("index")), try r.f64("target"))) }
        // Every payload check before any range check (§13.4 error precedence).
        for (index, _) in pairs where index >= geometry.devices {
            throw PayloadError.invalidValue(
                field: "index", reason: "device \(index) does not exist (\(geometry.devices) devices)")
        }
        for (_, target) in pairs { try checkTarget(target) }
        return pairs
    }

    private func programVerify(_ r: inout PayloadReader) throws -> [UInt8] {
        let pairs = try readTargets(&r)
        safe = false
        var w = PayloadWriter()
        for (index, target) in pairs {
            let outcome = physics.programAndVerifyDetailed(device: index, target: target)
            w.f64(outcome.readBack)
            w.u16(UInt16(min(outcome.pulses, Int(UInt16.max))))
            w.u8(outcome.converged ? 1 : 0)
        }
        return w.bytes
    }

    private func loadInputs(_ r: inout PayloadReader) throws -> [UInt8] {
        let slot = Int(try r.u8("slot"))
        let total = Int(try r.u16("total")), first = Int(try r.u16("first")), n = Int(try r.u16("n"))
        guard slot < slots.count else { throw PayloadError.invalidValue(field: "slot", reason: "slots are 0…\(slots.count - 1)") }
        guard total >= 1, total <= geometry.maxBatch, first + n <= total else {
            throw PayloadError.invalidValue(
                field: "total", reason: "batch of \(total) (max \(geometry.maxBatch)), vectors \(first)+\(n)")
        }
        let values = try r.f64s(n * geometry.rows, field: "v")
        for v in values { try checkInput(v) }
        if first == 0 || slots[slot]?.inputs.rows != total {
            slots[slot] = InputSlot(
                inputs: Matrix(rows: total, cols: geometry.rows), held: Array(repeating: false, count: total), count: 0)
        }
        for k in 0..<n {
            for c in 0..<geometry.rows { slots[slot]!.inputs[first + k, c] = values[k * geometry.rows + c] }
            if !slots[slot]!.held[first + k] {
                slots[slot]!.held[first + k] = true
                slots[slot]!.count += 1
            }
        }
        var w = PayloadWriter()
        w.u16(UInt16(slots[slot]!.count))
        return w.bytes
    }

    /// Field checks of measure, probe and streamMeasure (badPayload), which precede the
    /// range checks and, last, slotEmpty (§13.4 error precedence).
    private func checkSlotAndRepeats(_ slot: UInt8, _ repeats: Int) throws {
        guard Int(slot) < slots.count else {
            throw PayloadError.invalidValue(field: "slot", reason: "slots are 0…\(slots.count - 1)")
        }
        guard (1...10_000).contains(repeats) else { throw PayloadError.invalidValue(field: "repeats", reason: "must be 1…10000") }
    }

    /// slotEmpty unless `slot` holds a complete batch (checked after every field and range check).
    private func requireComplete(_ slot: UInt8) throws {
        guard slots[Int(slot)]?.complete == true else {
            throw Refusal(.slotEmpty, "input slot \(slot) holds no complete batch; send loadInputs first")
        }
    }

    /// The slot's outputs averaged over `repeats`, and how many are saturated (a column
    /// clipped at ±fullScale in any repeat; §13.3 Saturation).
    private func measure(slot: UInt8, repeats: Int) throws -> CrossbarReadings {
        try requireComplete(slot)
        let s = slots[Int(slot)]!
        var inputs = s.inputs
        for c in 0..<geometry.rows where !rowActive[c] { for b in 0..<inputs.rows { inputs[b, c] = 0 } }
        var saturated: [Bool] = []
        var sum = forward(inputs, saturated: &saturated)
        for _ in 1..<repeats {
            let next = forward(inputs, saturated: &saturated)
            for i in sum.storage.indices { sum.storage[i] += next.storage[i] }
        }
        if repeats > 1 { for i in sum.storage.indices { sum.storage[i] /= Double(repeats) } }
        return CrossbarReadings(currents: sum.storage, saturated: saturated.count { $0 })
    }

    /// One pass over `inputs`; outputs with a clipped active column are marked in `saturated`.
    private func forward(_ inputs: Matrix, saturated: inout [Bool]) -> Matrix {
        if colActive.allSatisfy({ $0 }) { return physics.forward(inputs, saturated: &saturated) }
        var clipped: [Bool] = []
        let physical = physics.forwardPhysicalColumns(inputs, clipped: &clipped)
        let columns = geometry.columns
        if saturated.count != inputs.rows * geometry.outputs {
            saturated = [Bool](repeating: false, count: inputs.rows * geometry.outputs)
        }
        var out = Matrix(rows: inputs.rows, cols: geometry.outputs)
        for b in 0..<inputs.rows {
            for j in 0..<geometry.outputs {
                let plus = colActive[2 * j] ? physical[b, 2 * j] : 0
                let minus = colActive[2 * j + 1] ? physical[b, 2 * j + 1] : 0
                out[b, j] = plus - minus
                if (colActive[2 * j] && clipped[b * columns + 2 * j])
                    || (colActive[2 * j + 1] && clipped[b * columns + 2 * j + 1])
                {
                    saturated[b * geometry.outputs + j] = true
                }
            }
        }
        return out
    }

    private func probe(_ r: inout PayloadReader) throws -> [UInt8] {
        let slot = try r.u8("slot")
        let repeats = Int(try r.u16("repeats"))
        try checkSlotAndRepeats(slot, repeats)
        let pairs = try readTargets(&r)
        try requireComplete(slot)
        safe = false
        var previous: [(Int, Double)] = []
        for (index, target) in pairs {
            previous.append((index, physics.targets[index]))
            physics.programAndVerify(device: index, target: target)
        }
        let readings = try measure(slot: slot, repeats: repeats)
        for (index, target) in previous.reversed() { physics.programAndVerify(device: index, target: target) }
        return encodeReadings(readings)
    }

    private func queueTargets(_ r: inout PayloadReader) throws -> [UInt8] {
        let first = Int(try r.u32("first")), n = Int(try r.u16("n"))
        guard n <= geometry.maxTargets, first + n <= geometry.devices else {
            throw PayloadError.invalidValue(
                field: "first", reason: "targets \(first)+\(n) do not fit \(geometry.devices) devices")
        }
        let values = try r.f64s(n, field: "target")
        for v in values { try checkTarget(v) }
        for k in 0..<n { queue[first + k] = values[k] }
        var w = PayloadWriter()
        w.u32(UInt32(queue.count { $0 != nil }))
        return w.bytes
    }

    private func execute() throws -> [UInt8] {
        let missing = queue.count { $0 == nil }
        guard missing == 0 else {
            throw Refusal(.queueIncomplete, "\(missing) of \(geometry.devices) targets not queued; nothing programmed")
        }
        safe = false
        var pulses = 0, unconverged = 0
        for d in 0..<geometry.devices {
            let outcome = physics.programAndVerifyDetailed(device: d, target: queue[d]!)
            pulses += outcome.pulses
            if !outcome.converged { unconverged += 1 }
        }
        queue = Array(repeating: nil, count: geometry.devices)
        var w = PayloadWriter()
        w.u32(UInt32(geometry.devices))
        w.u32(UInt32(truncatingIfNeeded: pulses))
        w.u32(UInt32(unconverged))
        return w.bytes
    }

    private func streamMeasure(_ r: inout PayloadReader, push: StreamPusher) async throws -> [UInt8] {
        let slot = try r.u8("slot")
        let repeats = Int(try r.u16("repeats"))
        let frames = try r.u32("frames")
        try checkSlotAndRepeats(slot, repeats)
        guard frames <= 10_000_000 else { throw PayloadError.invalidValue(field: "frames", reason: "at most 10^7 per request") }
        try requireComplete(slot)  // also for frames = 0, which then replies 0 at once
        for k in 0..<frames {
            // Stopped by a preempting safeState (§6.1): no further frame, reply `preempted`.
            if Task.isCancelled {
                throw Refusal(.preempted, "stream stopped by safeState after \(k) of \(frames) frames")
            }
            let readings = try measure(slot: slot, repeats: repeats)
            var w = PayloadWriter()
            w.u32(k)
            readings.encode(into: &w)
            await push.push(streamID: CrossbarCommand.measurementStream, data: w.bytes)
        }
        var w = PayloadWriter()
        w.u32(frames)
        return w.bytes
    }

    // MARK: Board-side range checks

    private func encodeReadings(_ readings: CrossbarReadings) -> [UInt8] {
        var w = PayloadWriter()
        readings.encode(into: &w)
        return w.bytes
    }

    private func checkReadVoltage(_ v: Double) throws {
        guard v.isFinite, v > 0, v <= geometry.vReadMax else {
            throw refuse("read voltage \(v) V is outside (0, \(geometry.vReadMax)] V")
        }
    }

    private func checkInput(_ v: Double) throws {
        guard v.isFinite, abs(v) <= geometry.vReadMax else {
            throw refuse("input \(v) V is outside ±\(geometry.vReadMax) V")
        }
    }

    private func checkTarget(_ g: Double) throws {
        guard g.isFinite, g >= geometry.gMin, g <= geometry.gMax else {
            throw refuse("target \(g) µS is outside [\(geometry.gMin), \(geometry.gMax)] µS")
        }
    }

    /// Refuses an out-of-range value and counts it as a violation.
    private func refuse(_ message: String) -> ErrorReply {
        violations &+= 1
        return ErrorReply(code: .outOfRange, message: message)
    }
}

/// An error reply with `code` and `message`.
func Refusal(_ code: WireErrorCode, _ message: String) -> ErrorReply {
    ErrorReply(code: code, message: message)
}

extension CrossbarEmulator: ArmedFault {
    /// Breaks the armed ADC columns (they read 0 from now on, also after a reset) and disarms.
    public func injectArmedFault() async -> String? {
        guard !armedADCColumns.isEmpty else { return nil }
        for c in armedADCColumns { physics.breakColumn(c) }
        defer { armedADCColumns = [] }
        return "broke ADC column\(armedADCColumns.count == 1 ? "" : "s") "
            + CrossbarFamily.columnList(armedADCColumns) + " of \(geometry.columns) (they read 0 from now on)"
    }
}
