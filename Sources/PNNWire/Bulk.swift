/// Why a bulk chunk was refused by the reassembler.
public enum BulkError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The chunk belongs to another transfer.
    case wrongTransfer(expected: UInt16, got: UInt16)
    /// The chunk announces a different total size than the transfer.
    case totalMismatch(expected: Int, got: Int)
    /// The chunk reaches past the end of the transfer.
    case outOfBounds(offset: Int, count: Int, total: Int)
    /// The transfer is larger than this receiver accepts.
    case tooLarge(total: Int, limit: Int)

    public var description: String {
        switch self {
        case .wrongTransfer(let e, let g): "bulk chunk for transfer \(g) arrived during transfer \(e)"
        case .totalMismatch(let e, let g): "bulk chunk announces \(g) bytes in total, the transfer has \(e)"
        case .outOfBounds(let o, let c, let t): "bulk chunk [\(o), \(o + c)) lies outside the \(t)-byte transfer"
        case .tooLarge(let t, let l): "bulk transfer of \(t) bytes exceeds the \(l)-byte limit"
        }
    }
}

/// One chunk of a bulk transfer. Payload of a `bulkChunk` frame (flag bulk, CRC-32):
/// `offset u32 | total u32 | transferID u16 | data`.
public struct BulkChunk: Hashable, Sendable {
    /// Bytes of chunk header in the payload.
    public static let headerSize = 10

    /// Which transfer the chunk belongs to.
    public var transferID: UInt16
    /// Where `data` starts in the transfer.
    public var offset: UInt32
    /// Size of the whole transfer.
    public var total: UInt32
    /// The chunk's bytes.
    public var data: [UInt8]

    public init(transferID: UInt16, offset: UInt32, total: UInt32, data: [UInt8]) {
        self.transferID = transferID
        self.offset = offset
        self.total = total
        self.data = data
    }

    /// The payload bytes.
    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u32(offset)
        w.u32(total)
        w.u16(transferID)
        w.raw(data)
        return w.bytes
    }

    /// Parses a chunk payload.
    public static func decode(_ payload: [UInt8]) throws(PayloadError) -> BulkChunk {
        var r = PayloadReader(payload)
        let offset = try r.u32("offset")
        let total = try r.u32("total")
        let id = try r.u16("transferID")
        return BulkChunk(transferID: id, offset: offset, total: total, data: r.rest())
    }

    /// The `bulkChunk` frame carrying this chunk.
    public func frame(seq: UInt16, flags: FrameFlags = []) -> Frame {
        Frame(type: .bulkChunk, seq: seq, flags: flags.union(.bulk), payload: encode())
    }

    /// Splits `data` into chunks of at most `maxChunk` data bytes (≥ 1). Empty data gives
    /// one empty chunk, so that every transfer has at least one frame.
    public static func split(_ data: [UInt8], transferID: UInt16, maxChunk: Int = 4096) -> [BulkChunk] {
        let step = max(maxChunk, 1)
        let total = UInt32(clamping: data.count)
        if data.isEmpty { return [BulkChunk(transferID: transferID, offset: 0, total: 0, data: [])] }
        return stride(from: 0, to: data.count, by: step).map { start in
            BulkChunk(
                transferID: transferID, offset: UInt32(start), total: total,
                data: Array(data[start..<min(start + step, data.count)]))
        }
    }
}

/// The receiver's acknowledgement (`bulkAck` reply to a `bulkChunk` request). Payload:
/// `transferID u16 | received u32 | complete u8 (0/1)`, where `received` counts distinct
/// bytes received so far.
public struct BulkAck: Hashable, Sendable {
    /// The transfer acknowledged.
    public var transferID: UInt16
    /// Distinct bytes the receiver holds.
    public var received: UInt32
    /// Whether the transfer is complete.
    public var complete: Bool

    public init(transferID: UInt16, received: UInt32, complete: Bool) {
        self.transferID = transferID
        self.received = received
        self.complete = complete
    }

    /// The payload bytes.
    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u16(transferID)
        w.u32(received)
        w.u8(complete ? 1 : 0)
        return w.bytes
    }

    /// Parses an acknowledgement payload.
    public static func decode(_ payload: [UInt8]) throws(PayloadError) -> BulkAck {
        var r = PayloadReader(payload)
        let ack = BulkAck(
            transferID: try r.u16("transferID"), received: try r.u32("received"), complete: try r.u8("complete") != 0)
        try r.expectEnd()
        return ack
    }
}

/// Reassembles one bulk transfer from chunks arriving in any order, any number of times.
public struct BulkReassembler: Sendable {
    /// The transfer being assembled.
    public let transferID: UInt16
    /// Size of the whole transfer.
    public let total: Int
    private var buffer: [UInt8]
    private var covered: [Range<Int>] = []  // sorted, disjoint, non-adjacent
    /// Chunks that brought no new bytes.
    public private(set) var duplicates = 0

    /// Starts a transfer; refuses totals above `maxTotal` bytes.
    public init(transferID: UInt16, total: Int, maxTotal: Int = 1 << 28) throws(BulkError) {
        guard total <= maxTotal else { throw .tooLarge(total: total, limit: maxTotal) }
        self.transferID = transferID
        self.total = total
        buffer = [UInt8](repeating: 0, count: total)
    }

    /// Distinct bytes received.
    public var receivedBytes: Int { covered.reduce(0) { $0 + $1.count } }
    /// Whether every byte has arrived.
    public var isComplete: Bool { receivedBytes == total }
    /// The assembled bytes, once complete.
    public var data: [UInt8]? { isComplete ? buffer : nil }
    /// Byte ranges still missing, ascending.
    public var missing: [Range<Int>] {
        var gaps: [Range<Int>] = []
        var pos = 0
        for r in covered {
            if r.lowerBound > pos { gaps.append(pos..<r.lowerBound) }
            pos = r.upperBound
        }
        if pos < total { gaps.append(pos..<total) }
        return gaps
    }

    /// Takes a chunk; returns whether the transfer is now complete.
    @discardableResult
    public mutating func accept(_ chunk: BulkChunk) throws(BulkError) -> Bool {
        guard chunk.transferID == transferID else { throw .wrongTransfer(expected: transferID, got: chunk.transferID) }
        guard Int(chunk.total) == total else { throw .totalMismatch(expected: total, got: Int(chunk.total)) }
        let start = Int(chunk.offset)
        let end = start + chunk.data.count
        guard end <= total else { throw .outOfBounds(offset: start, count: chunk.data.count, total: total) }
        if chunk.data.isEmpty { return isComplete }
        if covered.contains(where: { $0.lowerBound <= start && end <= $0.upperBound }) {
            duplicates += 1
            return isComplete
        }
        buffer.replaceSubrange(start..<end, with: chunk.data)
        var merged = start..<end
        var kept: [Range<Int>] = []
        for r in covered {
            if r.upperBound < merged.lowerBound || r.lowerBound > merged.upperBound {
                kept.append(r)
            } else {
                merged = min(r.lowerBound, merged.lowerBound)..<max(r.upperBound, merged.upperBound)
            }
        }
        kept.append(merged)
        kept.sort { $0.lowerBound < $1.lowerBound }
        covered = kept
        return isComplete
    }

    /// The acknowledgement to send for the current state.
    public var ack: BulkAck {
        BulkAck(transferID: transferID, received: UInt32(clamping: receivedBytes), complete: isComplete)
    }
}
