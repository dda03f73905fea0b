import Foundation
import PNNCore
import PNNLink
import PNNSim
import PNNWire

/// The device side of a phase SLM, backed by the optics twin's SLM physics (`PhaseSLM`:
/// LUT, fringing, liquid-crystal settling): executes the command set of docs/protocol.md
/// §15 as firmware would, with its own range checks. A refused value changes nothing and
/// is counted in `violations`. Time is simulated: `waitComplete` advances the SLM's clock
/// to the moment the shown pattern has settled (t0 + 4b after the change), or by the timeout.
public actor SLMEmulator: DeviceEndpoint {
    public nonisolated let hello: HelloReply
    public nonisolated let info: SLMInfo
    /// The optical table the SLM stands on: its liquid crystal and the simulated clock
    /// (shared with a camera in `pnnlab emulate optics`).
    public nonisolated let bench: OpticsBench
    /// The liquid crystal.
    public var slm: PhaseSLM { bench.slm }
    /// Simulated time, s.
    public var clock: Double { bench.now() }
    var slots: [[UInt8]?]
    var upload: (slot: Int, transfer: BulkReassembler)?
    var violations: UInt32 = 0
    var shownSlot: UInt8 = 0xFF
    var triggerIn = false
    var triggerOut = false
    /// Time from a change to "settled", s.
    var settleTime: Double { bench.settleTime }

    /// An SLM of `config`'s macro-pixel grid with its LUT, fringing and settling, on a bench of its own.
    public init(config: OpticsConfig, serial: String, slots: Int = 4, refreshHz: Double = 60) {
        self.init(
            bench: OpticsBench(config: config, sensorWidth: 0, sensorHeight: 0), serial: serial, slots: slots,
            refreshHz: refreshHz)
    }

    /// An SLM on `bench` (its grid, LUT, fringing and settling are the bench's).
    public init(bench: OpticsBench, serial: String, slots: Int = 4, refreshHz: Double = 60) {
        self.bench = bench
        self.slots = Array(repeating: nil, count: slots)
        let config = bench.config
        let info = SLMInfo(
            width: config.resolvedGridWidth, height: config.gridHeight, macroPixel: config.macroPixelSize, slots: slots,
            refreshHz: refreshHz, triggerIn: true, triggerOut: true)
        self.info = info
        hello = HelloReply(
            schemaHash: SLMCommand.schemaHash, family: SLMFamily.family, model: "pnnlab-emu-slm", serial: serial,
            firmware: "emu-1.0", capabilities: HelloCapabilityBits.encode([.triggered], emulator: true),
            descriptor: info.encode())
    }

    public func sessionReset() async { upload = nil }

    /// `safeState` preempts every other command (docs/protocol.md §6.1).
    public nonisolated var preemptingCommands: Set<FrameType> { [SLMCommand.safeState] }

    /// Refused values so far.
    public var violationCount: Int { Int(violations) }

    public func handle(_ type: FrameType, payload: [UInt8], push: StreamPusher) async throws(ErrorReply) -> [UInt8] {
        var r = PayloadReader(payload)
        do throws {
            let reply = try dispatch(type, &r)
            if type != .bulkChunk { try r.expectEnd() }
            return reply
        } catch let refusal as ErrorReply {
            throw refusal
        } catch {
            throw ErrorReply(code: .badPayload, message: "\(SLMCommand.name(of: type)): \(error)")
        }
    }

    private func refuse(_ message: String) -> ErrorReply {
        violations &+= 1
        return ErrorReply(code: .outOfRange, message: message)
    }

    private func dispatch(_ type: FrameType, _ r: inout PayloadReader) throws -> [UInt8] {
        switch type {
        case SLMCommand.info:
            return info.encode()
        case SLMCommand.loadLUT:
            let table = try r.f64s(256, field: "phase")
            if let i = table.firstIndex(where: { !($0.isFinite && $0 >= 0 && $0 <= 4 * .pi) }) {
                throw refuse("LUT[\(i)] = \(table[i]) rad is outside 0…4π")
            }
            bench.loadLUT(table)
            return []
        case SLMCommand.beginUpload:
            let slot = Int(try r.u8("slot"))
            let id = try r.u16("transferID")
            let total = Int(try r.u32("total"))
            guard slot < slots.count else { throw refuse("slot \(slot) does not exist (\(slots.count) slots)") }
            guard total == info.patternBytes else {
                throw refuse("a pattern is \(info.patternBytes) bytes (\(info.width)×\(info.height)), not \(total)")
            }
            upload = (slot, try BulkReassembler(transferID: id, total: total, maxTotal: info.patternBytes))
            slots[slot] = nil
            return []
        case .bulkChunk:
            let chunk = try BulkChunk.decode(r.rest())
            guard var current = upload else {
                throw ErrorReply(code: SLMCommand.noUpload, message: "bulkChunk without beginUpload")
            }
            do {
                try current.transfer.accept(chunk)
            } catch {
                throw ErrorReply(code: .badPayload, message: error.description)
            }
            if let data = current.transfer.data {
                slots[current.slot] = data
                upload = nil
            } else {
                upload = current
            }
            return BulkAck(
                transferID: chunk.transferID, received: UInt32(current.transfer.receivedBytes),
                complete: current.transfer.isComplete
            ).encode()
        case SLMCommand.showSlot:
            let slot = try r.u8("slot")
            guard Int(slot) < slots.count else { throw refuse("slot \(slot) does not exist (\(slots.count) slots)") }
            guard let pattern = slots[Int(slot)] else {
                throw ErrorReply(code: SLMCommand.slotEmpty, message: "slot \(slot) holds no complete pattern")
            }
            bench.show(pattern, triggerOut: triggerOut)
            shownSlot = slot
            return u32(UInt32(truncatingIfNeeded: bench.slm.patternsShown))
        case SLMCommand.setTriggers:
            let i = try r.u8("in")
            let o = try r.u8("out")
            guard i <= 1, o <= 1 else { throw refuse("trigger modes are 0 (off) or 1 (on), not \(i), \(o)") }
            triggerIn = i == 1
            triggerOut = o == 1
            return []
        case SLMCommand.waitComplete:
            let timeout = try r.f64("timeout")
            guard timeout.isFinite, timeout >= 0, timeout <= 60 else { throw refuse("timeout \(timeout) s is outside 0…60 s") }
            let remaining = bench.remainingSettle()
            let waited = min(remaining, timeout)
            bench.advance(to: bench.now() + waited)
            var w = PayloadWriter()
            w.u8(remaining <= timeout ? 1 : 0)
            w.f64(waited)
            return w.bytes
        case SLMCommand.safeState:
            upload = nil
            bench.show(Array(repeating: 0, count: info.patternBytes), triggerOut: false)
            shownSlot = 0xFF
            return []
        case SLMCommand.status:
            return status().encode()
        default:
            throw ErrorReply(code: .unknownCommand, message: "type \(type) is not an slm command")
        }
    }

    /// Counters and the shown pattern's CRC-32.
    public func status() -> SLMStatus {
        let slm = bench.slm
        return SLMStatus(
            violations: violations, patterns: UInt32(truncatingIfNeeded: slm.patternsShown), slot: shownSlot,
            crc: CRC32.checksum(slm.grey), triggerIn: triggerIn, triggerOut: triggerOut, blank: slm.grey.allSatisfy { $0 == 0 })
    }

    private func u32(_ v: UInt32) -> [UInt8] {
        var w = PayloadWriter()
        w.u32(v)
        return w.bytes
    }
}
