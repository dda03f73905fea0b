import PNNLink
import PNNWire

/// The `slm` family's command set (frame types 0x70–0x77), shared by the host driver and
/// the emulator. docs/protocol.md §15 is the normative text; `schemaText` is its canonical
/// summary and its CRC-32 is the schema hash exchanged in the hello.
///
/// A pattern is one grey level (u8) per macro-pixel, row-major, width × height bytes. It is
/// uploaded into a slot with `beginUpload` followed by `bulkChunk` frames (flag bulk,
/// CRC-32, §11); the slot holds it once every byte has arrived. Phases are radians, f64 LE.
public enum SLMCommand {
    /// The hello descriptor again (size, bit depth, refresh, slots, triggers).
    public static let info = FrameType(rawValue: 0x70)
    /// Replace the grey → phase lookup table (256 phases, rad).
    public static let loadLUT = FrameType(rawValue: 0x71)
    /// Announce a pattern upload into a slot: slot, transfer id and size.
    public static let beginUpload = FrameType(rawValue: 0x72)
    /// Show a slot's pattern.
    public static let showSlot = FrameType(rawValue: 0x73)
    /// Trigger-in (show the next slot on a rising edge) and trigger-out (pulse on "pattern settled").
    public static let setTriggers = FrameType(rawValue: 0x74)
    /// Wait until the shown pattern has settled, with a timeout.
    public static let waitComplete = FrameType(rawValue: 0x75)
    /// Show a blank pattern (grey 0 everywhere), drop uploads in progress.
    public static let safeState = FrameType(rawValue: 0x76)
    /// Counters and the shown pattern's CRC-32.
    public static let status = FrameType(rawValue: 0x77)

    public static let all: [(FrameType, String)] = [
        (info, "info"), (loadLUT, "loadLUT"), (beginUpload, "beginUpload"), (showSlot, "showSlot"),
        (setTriggers, "setTriggers"), (waitComplete, "waitComplete"), (safeState, "safeState"), (status, "status"),
    ]

    /// The human name of an SLM command type.
    public static func name(of type: FrameType) -> String { all.first { $0.0 == type }?.1 ?? "\(type)" }

    /// Family error code: `showSlot` of a slot that holds no complete pattern.
    public static let slotEmpty = WireErrorCode(rawValue: 0x0200)
    /// Family error code: a `bulkChunk` with no `beginUpload` before it.
    public static let noUpload = WireErrorCode(rawValue: 0x0201)

    public static let schemaText = """
        pnnlab slm command set v1; f64 = binary64 LE; phases rad; times s
        descriptor: width u16, height u16, macroPixel u16, bits u8, slots u8, refreshHz f64, triggers u8 (bit0 in, bit1 out)
        0x70 info: - -> descriptor
        0x71 loadLUT: phase f64[256] -> -
        0x72 beginUpload: slot u8, transferID u16, total u32 -> -
        0x05 bulkChunk: offset u32, total u32, transferID u16, grey u8[] -> bulkAck
        0x73 showSlot: slot u8 -> patternID u32
        0x74 setTriggers: in u8, out u8 -> -
        0x75 waitComplete: timeout f64 -> settled u8, elapsed f64
        0x76 safeState: - -> -
        0x77 status: - -> violations u32, patterns u32, slot u8, crc u32, in u8, out u8, blank u8
        errors: 0x0200 slotEmpty, 0x0201 noUpload
        """

    /// CRC-32 of ``schemaText``.
    public static let schemaHash: UInt32 = CRC32.checksum(Array(schemaText.utf8))
}

/// What an SLM declares in its hello: size in macro-pixels, the macro-pixel size in SLM
/// pixels, bit depth, pattern slots, refresh rate and trigger lines.
public struct SLMInfo: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var macroPixel: Int
    public var bits: Int
    public var slots: Int
    public var refreshHz: Double
    public var triggerIn: Bool
    public var triggerOut: Bool

    public init(
        width: Int, height: Int, macroPixel: Int, bits: Int = 8, slots: Int = 4, refreshHz: Double, triggerIn: Bool,
        triggerOut: Bool
    ) {
        self.width = width
        self.height = height
        self.macroPixel = macroPixel
        self.bits = bits
        self.slots = slots
        self.refreshHz = refreshHz
        self.triggerIn = triggerIn
        self.triggerOut = triggerOut
    }

    /// Bytes in one pattern.
    public var patternBytes: Int { width * height }

    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u16(UInt16(width))
        w.u16(UInt16(height))
        w.u16(UInt16(macroPixel))
        w.u8(UInt8(bits))
        w.u8(UInt8(slots))
        w.f64(refreshHz)
        w.u8((triggerIn ? 1 : 0) | (triggerOut ? 2 : 0))
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> SLMInfo {
        var r = PayloadReader(bytes)
        let info = SLMInfo(
            width: Int(try r.u16("width")), height: Int(try r.u16("height")), macroPixel: Int(try r.u16("macroPixel")),
            bits: Int(try r.u8("bits")), slots: Int(try r.u8("slots")), refreshHz: try r.f64("refreshHz"),
            triggerIn: false, triggerOut: false)
        let t = try r.u8("triggers")
        try r.expectEnd()
        var out = info
        out.triggerIn = t & 1 != 0
        out.triggerOut = t & 2 != 0
        guard out.width >= 1, out.height >= 1, out.slots >= 1, out.refreshHz.isFinite, out.refreshHz > 0 else {
            throw .invalidValue(field: "descriptor", reason: "an SLM needs ≥ 1 macro-pixel, ≥ 1 slot and a positive refresh")
        }
        return out
    }
}

/// The SLM's counters and what it shows (reply to `status`).
public struct SLMStatus: Sendable, Equatable {
    public var violations: UInt32
    public var patterns: UInt32
    /// Slot shown (0xFF: the blank pattern).
    public var slot: UInt8
    /// CRC-32 of the pattern shown.
    public var crc: UInt32
    public var triggerIn: Bool
    public var triggerOut: Bool
    public var blank: Bool

    public init(
        violations: UInt32, patterns: UInt32, slot: UInt8, crc: UInt32, triggerIn: Bool, triggerOut: Bool, blank: Bool
    ) {
        self.violations = violations
        self.patterns = patterns
        self.slot = slot
        self.crc = crc
        self.triggerIn = triggerIn
        self.triggerOut = triggerOut
        self.blank = blank
    }

    public func encode() -> [UInt8] {
        var w = PayloadWriter()
        w.u32(violations)
        w.u32(patterns)
        w.u8(slot)
        w.u32(crc)
        w.u8(triggerIn ? 1 : 0)
        w.u8(triggerOut ? 1 : 0)
        w.u8(blank ? 1 : 0)
        return w.bytes
    }

    public static func decode(_ bytes: [UInt8]) throws(PayloadError) -> SLMStatus {
        var r = PayloadReader(bytes)
        let s = SLMStatus(
            violations: try r.u32("violations"), patterns: try r.u32("patterns"), slot: try r.u8("slot"),
            crc: try r.u32("crc"), triggerIn: try r.u8("in") != 0, triggerOut: try r.u8("out") != 0,
            blank: try r.u8("blank") != 0)
        try r.expectEnd()
        return s
    }
}
