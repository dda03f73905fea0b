import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The device side of a CLLN board, backed by the CLLN twin's physics: executes the command
/// set of docs/protocol.md §14 exactly as firmware would, including the board's own range
/// checks. Every out-of-range value that reaches it is refused, changes nothing and is
/// counted in `violations` — the figure the safety tests require to stay 0. Schedules run
/// in the twin's firmware loop (`runScheduleSync`) and their records are pushed on stream 2.
public actor CLLNEmulator: DeviceEndpoint {
    public nonisolated let hello: HelloReply
    /// Sizes and ranges declared in the hello.
    public nonisolated let info: CLLNBoardInfo
    /// The simulated board.
    public nonisolated let twin: CLLNTwin
    let topologyBytes: [UInt8]
    var violations: UInt32 = 0
    var learns: UInt32 = 0
    var learnSeconds = 0.0
    var vectors: UInt32 = 0
    var sources: [Double]?
    var safe = true
    var snapshot: [UInt8] = []
    var dataset: ContrastiveDataset?
    var upload = DatasetUpload()
    var run: ScheduleRun?
    var recordsStreamed: UInt32 = 0
    var runCounter = 0
    /// Firmware loops still executing (an aborted one runs on until the twin returns).
    var busyLoops = 0
    var safeWhenIdle = false

    /// An emulated board around a twin built from `state`; `serial` and `model` go into the hello.
    public init(state: CLLNState, serial: String, model: String = "pnnlab-emu-clln") throws(CLLNError) {
        let twin = try CLLNTwin(state: state, serial: serial)
        self.twin = twin
        let d = twin.descriptor
        let topologyBytes = CLLNCoding.encode(state.topology)
        self.topologyBytes = topologyBytes
        let info = CLLNBoardInfo(
            nodes: state.topology.nodeCount, edges: state.topology.edges.count, trainable: d.parameters.count,
            inputs: d.inputs.count, outputs: d.outputs.count, vPlus: state.physics.vPlus, vMinus: state.physics.vMinus,
            gateMax: state.physics.gateMax, gateStep: d.parameters.resolution.first ?? 0, inputLow: d.inputs.lower,
            inputHigh: d.inputs.upper, outputLow: d.outputs.lower, outputHigh: d.outputs.upper,
            maxLearn: twin.maxLearnSeconds,
            maxBatch: max(1, min(d.maxBatch, CLLNCommand.maxValues / max(d.inputs.count, d.outputs.count))),
            maxDatasetBytes: 1 << 22, topologyBytes: topologyBytes.count,
            topologyCRC: CRC32.checksum(topologyBytes))
        self.info = info
        self.hello = HelloReply(
            schemaHash: CLLNCommand.schemaHash, family: CLLNFamily.family, model: model, serial: serial,
            firmware: "emu-1.0", capabilities: CLLNCapabilityBits.encode(d.capabilities, emulator: true),
            descriptor: info.encode())
    }

    /// Out-of-range values received and refused so far.
    public var violationCount: Int { Int(violations) }

    public func sessionReset() async {
        upload = DatasetUpload()
        if run != nil { stopSchedule(message: "new session") }
    }

    /// `safeState` preempts every other command (docs/protocol.md §6.1).
    public nonisolated var preemptingCommands: Set<FrameType> { [CLLNCommand.safeState] }

    public func handle(_ type: FrameType, payload: [UInt8], push: StreamPusher) async throws(ErrorReply) -> [UInt8] {
        if let expected = expectedLength(type, payload), expected != payload.count {
            throw ErrorReply(
                code: .badPayload,
                message: "\(CLLNCommand.name(of: type)) payload is \(payload.count) bytes, expected \(expected)")
        }
        let idle: Set<UInt8> = [0x50, 0x51, 0x5C, 0x5D]
        if run != nil || busyLoops > 0, !idle.contains(type.rawValue) {
            throw ErrorReply(
                code: .scheduleRunning, message: "a schedule is running; abort it before \(CLLNCommand.name(of: type))")
        }
        var r = PayloadReader(payload)
        do throws {
            let reply = try await dispatch(type, &r, push: push)
            try r.expectEnd()
            return reply
        } catch let refusal as ErrorReply {
            throw refusal
        } catch let error as CLLNError {
            throw ErrorReply(code: .solveFailed, message: error.description)
        } catch {
            throw ErrorReply(code: .badPayload, message: "\(error)")
        }
    }

    private func dispatch(_ type: FrameType, _ r: inout PayloadReader, push: StreamPusher) async throws -> [UInt8] {
        switch type {
        case CLLNCommand.identify:
            return status().encode()
        case CLLNCommand.topology:
            return try page(topologyBytes, offset: Int(try r.u32("offset")))
        case CLLNCommand.setSources:
            let v = try r.f64s(info.inputs, field: "v")
            try checkSources(v)
            try await twin.uncheckedApplyInputs(v)
            sources = v
            safe = false
            return []
        case CLLNCommand.setClamp:
            let code = try r.u8("mode")
            guard let mode = ClampMode(rawValue: code) else {
                throw PayloadError.invalidValue(field: "mode", reason: "\(code) is not 0 free, 1 clamped or 2 both")
            }
            let eta = try r.f64("eta")
            let setting = ClampSetting(mode: mode, targets: try r.f64s(info.outputs, field: "targets"), eta: eta)
            do {
                try ContrastiveValidation.check(setting, outputs: twin.descriptor.outputs)
            } catch {
                throw refuse(error.description)
            }
            try await twin.uncheckedSetClamp(setting)
            safe = false
            return []
        case CLLNCommand.readNodes:
            let code = try r.u8("side")
            guard let side = NetworkSide(rawValue: code) else {
                throw PayloadError.invalidValue(field: "side", reason: "\(code) is not 0 free or 1 clamped")
            }
            let range = try readRange(&r, count: info.nodes)
            return encode(Array(await twin.readNodes(side)[range]))
        case CLLNCommand.readGates:
            let range = try readRange(&r, count: info.trainable)
            return encode(Array(await twin.readParameters()[range]))
        case CLLNCommand.measure:
            return try await measure(&r)
        case CLLNCommand.learn:
            let seconds = try r.f64("seconds")
            guard seconds.isFinite, seconds >= 0, seconds <= info.maxLearn else {
                throw refuse("learning time \(seconds) s is outside [0, \(info.maxLearn)] s")
            }
            if seconds > 0 { try await twin.uncheckedLearn(seconds: seconds) }
            learns &+= 1
            learnSeconds += seconds
            return []
        case CLLNCommand.writeGates:
            let range = try readRange(&r, count: info.trainable)
            let g = try r.f64s(range.count, field: "g")
            try checkGates(g)
            var gates = try await exactGates()
            gates.replaceSubrange(range, with: g)
            _ = try await twin.uncheckedProgram(gates)
            return []
        case CLLNCommand.resetGates:
            let g = try r.f64("g")
            try checkGates([g])
            _ = try await twin.uncheckedProgram(Array(repeating: g, count: info.trainable))
            return []
        case CLLNCommand.loadDataset:
            return try loadDataset(&r)
        case CLLNCommand.runSchedule:
            return try startSchedule(&r, push: push)
        case CLLNCommand.abortSchedule:
            if run != nil { stopSchedule(message: "aborted by the host") }
            return encodeCount(recordsStreamed)
        case CLLNCommand.safeState:
            if run != nil { stopSchedule(message: "safe state") }
            sources = nil
            if busyLoops > 0 {
                safeWhenIdle = true
            } else {
                try await enterSafeState()
            }
            return []
        case CLLNCommand.debugState:
            let offset = Int(try r.u32("offset"))
            if offset == 0 || snapshot.isEmpty { snapshot = Array(await twin.exportState().exportJSON()) }
            return try page(snapshot, offset: offset)
        default:
            throw ErrorReply(code: .unknownCommand, message: "type \(type) is not a CLLN command")
        }
    }

    /// The exact payload length of a request from its count fields (nil: variable or unknown).
    private func expectedLength(_ type: FrameType, _ p: [UInt8]) -> Int? {
        func u16(at i: Int) -> Int? { p.count >= i + 2 ? Int(p[i]) | Int(p[i + 1]) << 8 : nil }
        switch type {
        case CLLNCommand.identify, CLLNCommand.abortSchedule, CLLNCommand.safeState: return 0
        case CLLNCommand.topology, CLLNCommand.debugState: return 4
        case CLLNCommand.setSources: return 8 * info.inputs
        case CLLNCommand.setClamp: return 9 + 8 * info.outputs
        case CLLNCommand.readNodes: return 5
        case CLLNCommand.readGates: return 4
        case CLLNCommand.measure: return u16(at: 0).map { 2 + 8 * $0 * info.inputs }
        case CLLNCommand.learn, CLLNCommand.resetGates: return 8
        case CLLNCommand.writeGates: return u16(at: 2).map { 4 + 8 * $0 }
        case CLLNCommand.runSchedule: return 62
        default: return nil
        }
    }

    private func status() -> CLLNStatus {
        CLLNStatus(
            violations: violations, learns: learns, learnSeconds: learnSeconds, vectors: vectors,
            datasetPoints: UInt32(dataset?.pointCount ?? 0), running: run != nil || busyLoops > 0,
            records: recordsStreamed, safe: safe)
    }

    private func measure(_ r: inout PayloadReader) async throws -> [UInt8] {
        let n = Int(try r.u16("n"))
        guard n >= 1, n <= info.maxBatch else {
            throw PayloadError.invalidValue(field: "n", reason: "batch of \(n) vectors, the board takes 1…\(info.maxBatch)")
        }
        let v = try r.f64s(n * info.inputs, field: "v")
        try checkSources(v)
        let out = try await twin.uncheckedMeasure(Matrix(rows: n, cols: info.inputs, storage: v))
        if let held = sources { try await twin.uncheckedApplyInputs(held) }
        vectors &+= UInt32(n)
        return encode(out.storage)
    }

    func enterSafeState() async throws {
        try await twin.uncheckedSetClamp(.free(outputs: info.outputs))
        try await twin.uncheckedApplyInputs(Array(repeating: max(0, info.inputLow), count: info.inputs))
        safe = true
    }

    /// Gate voltages of the trainable edges without read noise (the programmed state).
    private func exactGates() async throws -> [Double] {
        let state = await twin.exportState()
        return state.topology.trainableEdges.map { state.gates[$0] }
    }

    // MARK: Board-side checks and helpers

    private func readRange(_ r: inout PayloadReader, count: Int) throws -> Range<Int> {
        let first = Int(try r.u16("first")), n = Int(try r.u16("n"))
        guard n >= 1, n <= CLLNCommand.maxValues, first + n <= count else {
            throw PayloadError.invalidValue(
                field: "first", reason: "values \(first)+\(n) do not fit 1…\(count) (≤ 500 per request)")
        }
        return first..<(first + n)
    }

    private func checkSources(_ v: [Double]) throws {
        for x in v where !(x.isFinite && x >= info.inputLow && x <= info.inputHigh) {
            throw refuse("source voltage \(x) V is outside [\(info.inputLow), \(info.inputHigh)] V")
        }
    }

    private func checkGates(_ g: [Double]) throws {
        for x in g where !(x.isFinite && x >= 0 && x <= info.gateMax) {
            throw refuse("gate voltage \(x) V is outside [0, \(info.gateMax)] V")
        }
    }

    func page(_ bytes: [UInt8], offset: Int) throws -> [UInt8] {
        guard offset <= bytes.count else {
            throw PayloadError.invalidValue(field: "offset", reason: "\(offset) is past the end (\(bytes.count) bytes)")
        }
        var w = PayloadWriter()
        w.u32(UInt32(bytes.count))
        w.raw(Array(bytes[offset..<min(bytes.count, offset + CLLNCommand.pageBytes)]))
        return w.bytes
    }

    func encode(_ values: [Double]) -> [UInt8] {
        var w = PayloadWriter()
        w.f64s(values)
        return w.bytes
    }

    func encodeCount(_ n: UInt32) -> [UInt8] {
        var w = PayloadWriter()
        w.u32(n)
        return w.bytes
    }

    /// Refuses an out-of-range value and counts it as a violation.
    func refuse(_ message: String) -> ErrorReply {
        violations &+= 1
        return ErrorReply(code: .outOfRange, message: message)
    }
}
